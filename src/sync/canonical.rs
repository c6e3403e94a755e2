//! Canonical form and hashes of an entry as read from the Content API.
//!
//! An [`Entry`] holds the draft version and the version in each other stage. A [`Version`] holds
//! plain fields, localized fields per locale, and relation targets split out (as
//! `Type:sourceId`). System fields are dropped; values are kept as read but hashed key-sorted,
//! so neither a Json field's key order nor the API's field order can create a false change.
//!
//! Hashes are blake3 in derive-key mode with a context that carries the scheme version: one
//! content hash, one edges hash (owned relation fields, ordered), one publication hash (which
//! stages hold which version).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::shape::{synced_in_component, Shape};
use crate::model::{ContentModel, FieldKind, Scalar};
use crate::store::{Hash, Hashes};

const CONTENT_CONTEXT: &str = "stagesync 2026-11 entry content v1";
const EDGES_CONTEXT: &str = "stagesync 2026-11 entry edges v1";
const PUBLICATION_CONTEXT: &str = "stagesync 2026-11 entry publication v1";
const PUBLICATION_CONTENT_CONTEXT: &str = "stagesync 2026-11 entry publication content v1";

/// One version (stage) of an entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Version {
    pub fields: BTreeMap<String, Value>,
    /// locale → localized field → value.
    pub locales: BTreeMap<String, BTreeMap<String, Value>>,
    /// Owned relation field → ordered targets `Type:id`.
    pub edges: BTreeMap<String, Vec<String>>,
    /// Non-localized fields whose rich text embeds or links entries or assets (`nodeId` +
    /// `nodeType`): rich-text fields, and component fields holding such rich text or a relation
    /// target anywhere (written whole). Source ids; written with the edges, once their targets exist.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub embeds: BTreeMap<String, Value>,
    /// The same for localized rich text: locale → field → AST. The locale stays in `locales`
    /// (with the field left out there).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub localized_embeds: BTreeMap<String, BTreeMap<String, Value>>,
    /// What the source's `references` of rich text with embeds returned, wherever it is
    /// (top level, localized, inside components): `Type:id`, sorted, each once. Every one must
    /// exist in the destination before the rich text is written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Asset file identity (the source's handle or url), for assets only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// An entry in every synced stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub draft: Version,
    /// Non-draft stage → version (absent = not in that stage).
    pub stages: BTreeMap<String, Version>,
}

#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("{model} entry without an id in the answer")]
    MissingId { model: String },
    #[error("{model} {id}: field `{field}`: {problem}")]
    Field {
        model: String,
        id: String,
        field: String,
        problem: String,
    },
}

/// Sorts object keys recursively.
pub fn canonical_value(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(k, v)| (k, canonical_value(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical_value).collect()),
        other => other.clone(),
    }
}

fn hash_json<T: Serialize>(context: &str, value: &T) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    {
        // serde_json writes in many small pieces; blake3 is much faster fed whole chunks.
        let mut out = std::io::BufWriter::with_capacity(8 * 1024, &mut hasher);
        // Serializing BTreeMaps and canonical values is deterministic and cannot fail.
        serde_json::to_writer(&mut out, value).expect("hashing serializable value");
        std::io::Write::flush(&mut out).expect("hashing into memory");
    }
    *hasher.finalize().as_bytes()
}

/// Serializes a JSON value as [`canonical_value`] of it would serialize — object keys sorted,
/// recursively — without building the sorted copy (hashing every entry of every page is the
/// no-op rerun's main cost).
struct Sorted<'a>(&'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(map) => {
                let mut keys: Vec<(&String, &Value)> = map.iter().collect();
                keys.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = serializer.serialize_map(Some(keys.len()))?;
                for (k, v) in keys {
                    out.serialize_entry(k, &Sorted(v))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for v in items {
                    out.serialize_element(&Sorted(v))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// A field map serialized with [`Sorted`] values (the map itself is already key-ordered).
struct SortedFields<'a>(&'a BTreeMap<String, Value>);

impl Serialize for SortedFields<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, Sorted(v))))
    }
}

impl Version {
    /// Hash of the canonical form: values are kept as read (a Json field is written back with
    /// the source's key order) but hashed key-sorted, so key order never reads as a change.
    pub fn content_hash(&self) -> Hash {
        let locales: BTreeMap<&String, SortedFields<'_>> = self
            .locales
            .iter()
            .map(|(l, m)| (l, SortedFields(m)))
            .collect();
        hash_json(
            CONTENT_CONTEXT,
            &(&SortedFields(&self.fields), &locales, &self.file),
        )
    }

    /// Fields written with the edges rather than with the content (rich text with references,
    /// and component fields holding it): `field` at the top level, `locale/field` localized.
    pub fn written_with_edges(&self) -> Vec<String> {
        let mut out: Vec<String> = self.embeds.keys().cloned().collect();
        for (locale, fields) in &self.localized_embeds {
            out.extend(fields.keys().map(|f| format!("{locale}/{f}")));
        }
        out
    }

    /// Whether `skip` (see [`Version::written_with_edges`]) names `field` of `locale` (`None`:
    /// the top level).
    fn skips(skip: &[String], locale: Option<&str>, field: &str) -> bool {
        skip.iter().any(|s| match (locale, s.split_once('/')) {
            (None, None) => s == field,
            (Some(l), Some((sl, sf))) => sl == l && sf == field,
            _ => false,
        })
    }

    /// [`Version::content_hash`] without the fields `skip` (see
    /// [`Version::written_with_edges`]): what a content write leaves to the edges phase cannot
    /// be compared after it.
    pub fn content_hash_without(&self, skip: &[String]) -> Hash {
        if skip.is_empty() {
            return self.content_hash();
        }
        let keep = |locale: Option<&str>, m: &BTreeMap<String, Value>| -> BTreeMap<String, Value> {
            m.iter()
                .filter(|(k, _)| !Self::skips(skip, locale, k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        Version {
            fields: keep(None, &self.fields),
            locales: self
                .locales
                .iter()
                .map(|(l, m)| (l.clone(), keep(Some(l), m)))
                .collect(),
            file: self.file.clone(),
            ..Default::default()
        }
        .content_hash()
    }

    /// Whether this version holds nothing the content write of a new entry leaves out: no
    /// relation targets but those `connected` by the create (see `order`), no rich text with
    /// references, and no value in the fields `skip`.
    pub fn holds_only_content(
        &self,
        skip: &[String],
        connected: &BTreeMap<String, Vec<String>>,
    ) -> bool {
        let empty = |v: &Value| match v {
            Value::Null => true,
            Value::Array(items) => items.is_empty(),
            _ => false,
        };
        self.edges
            .iter()
            .all(|(field, targets)| targets.is_empty() || connected.get(field) == Some(targets))
            && self.embeds.is_empty()
            && self.localized_embeds.is_empty()
            && self
                .fields
                .iter()
                .all(|(k, v)| !Self::skips(skip, None, k) || empty(v))
            && self.locales.iter().all(|(l, m)| {
                m.iter()
                    .all(|(k, v)| !Self::skips(skip, Some(l), k) || empty(v))
            })
    }

    /// Hash of what the edges phase writes: relation targets and rich text with references.
    /// Without rich-text references it is the hash of the edges alone, as before they existed.
    pub fn edges_hash(&self) -> Hash {
        if self.embeds.is_empty() && self.localized_embeds.is_empty() && self.references.is_empty()
        {
            hash_json(EDGES_CONTEXT, &self.edges)
        } else {
            let localized: BTreeMap<&String, SortedFields<'_>> = self
                .localized_embeds
                .iter()
                .map(|(l, m)| (l, SortedFields(m)))
                .collect();
            hash_json(
                EDGES_CONTEXT,
                &(
                    &self.edges,
                    SortedFields(&self.embeds),
                    localized,
                    &self.references,
                ),
            )
        }
    }

    /// Every value written with the edges, by where it is: `field`, or `field[locale]` for
    /// localized rich text.
    pub fn embedded(&self) -> BTreeMap<String, &Value> {
        let mut out: BTreeMap<String, &Value> =
            self.embeds.iter().map(|(k, v)| (k.clone(), v)).collect();
        for (locale, values) in &self.localized_embeds {
            for (k, v) in values {
                out.insert(format!("{k}[{locale}]"), v);
            }
        }
        out
    }

    /// Reads one version from a node of the answer. `default_locale` is the locale the top-level
    /// localized values are in; `locales` the synced locales.
    pub fn from_node(
        shape: &Shape<'_>,
        node: &Value,
        default_locale: &str,
        locales: &[String],
    ) -> Result<Version, CanonicalError> {
        let model = &shape.model.name;
        let id = node.get("id").and_then(Value::as_str).unwrap_or_default();
        let field_err = |field: &str, problem: &str| CanonicalError::Field {
            model: model.clone(),
            id: id.to_owned(),
            field: field.to_owned(),
            problem: problem.to_owned(),
        };
        let mut version = Version::default();
        let mut references = BTreeSet::new();
        let content = shape.content;
        for field in &shape.plain {
            let value = node.get(&field.name).unwrap_or(&Value::Null);
            let value = read_value(content, locales, field, value, &mut references);
            if content.has_rich_text_references(field, &value) {
                version.embeds.insert(field.name.clone(), value);
            } else {
                version.fields.insert(field.name.clone(), value);
            }
        }
        // Localized values: rich text with references goes to `localized_embeds`.
        let mut localized_values = |source: &Value, locale: &str, version: &mut Version| {
            let mut values = BTreeMap::new();
            for f in &shape.localized {
                let v = source.get(&f.name).unwrap_or(&Value::Null);
                let v = read_value(content, locales, f, v, &mut references);
                if content.has_rich_text_references(f, &v) {
                    version
                        .localized_embeds
                        .entry(locale.to_owned())
                        .or_default()
                        .insert(f.name.clone(), v);
                } else {
                    values.insert(f.name.clone(), v);
                }
            }
            version.locales.insert(locale.to_owned(), values);
        };
        if !shape.localized.is_empty() {
            let localizations = node
                .get("localizations")
                .and_then(Value::as_array)
                .ok_or_else(|| field_err("localizations", "missing from the answer"))?;
            for loc in localizations {
                let locale = loc
                    .get("locale")
                    .and_then(Value::as_str)
                    .ok_or_else(|| field_err("localizations", "a localization without locale"))?;
                if !locales.iter().any(|l| l == locale) {
                    continue;
                }
                localized_values(loc, locale, &mut version);
            }
            // An entry always has its default locale; the top level holds it when the API
            // does not list it among the localizations.
            if !version.locales.contains_key(default_locale)
                && locales.iter().any(|l| l == default_locale)
            {
                localized_values(node, default_locale, &mut version);
            }
        }
        version.references = references.into_iter().collect();
        for field in &shape.owned {
            let value = node.get(&field.name).unwrap_or(&Value::Null);
            let targets = read_targets(value).map_err(|p| field_err(&field.name, &p))?;
            if field.list && targets.len() >= 100 {
                return Err(field_err(
                    &field.name,
                    "holds 100 or more targets; stagesync reads at most 100 targets per relation field",
                ));
            }
            version.edges.insert(field.name.clone(), targets);
        }
        if shape.is_asset() {
            // The file's URL changes whenever the file does (a new handle), on both systems.
            version.file = node.get("url").and_then(Value::as_str).map(str::to_owned);
        }
        Ok(version)
    }
}

fn read_targets(value: &Value) -> Result<Vec<String>, String> {
    let one = |v: &Value| -> Result<String, String> {
        let ty = v
            .get("__typename")
            .and_then(Value::as_str)
            .ok_or("a target without __typename")?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or("a target without id")?;
        Ok(format!("{ty}:{id}"))
    };
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.iter().map(one).collect(),
        Value::Object(_) => Ok(vec![one(value)?]),
        _ => Err("not a relation target".into()),
    }
}

/// The value as it will be written: rich text as its AST, colours as rgba, components without
/// their ids (they have no identity across projects) with their localized fields per synced
/// locale, relations inside components as `{nodeId, nodeType}` references, everything else as
/// read (hashes sort keys, see [`Version::content_hash`]).
fn read_value(
    content: &ContentModel,
    locales: &[String],
    field: &crate::model::Field,
    value: &Value,
    references: &mut BTreeSet<String>,
) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let mut convert = |v: &Value| match &field.kind {
        FieldKind::Scalar {
            scalar: Scalar::RichText,
        } => {
            for target in v
                .get("references")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(ty), Some(id)) = (
                    target.get("__typename").and_then(Value::as_str),
                    target.get("id").and_then(Value::as_str),
                ) {
                    references.insert(format!("{ty}:{id}"));
                }
            }
            canonical_value(v.get("raw").unwrap_or(&Value::Null))
        }
        FieldKind::Scalar {
            scalar: Scalar::Color,
        } => match v.get("rgba") {
            Some(rgba) if !rgba.is_null() => {
                serde_json::json!({ "rgba": canonical_value(rgba) })
            }
            _ => serde_json::json!({ "hex": v.get("hex").cloned().unwrap_or(Value::Null) }),
        },
        FieldKind::Component { .. } => read_component(content, locales, v, references),
        // Only inside components (top-level relations are edges): a reference with the
        // source's id, rewritten when written (see `model::rich_text`).
        FieldKind::Relation(_) => match (
            v.get("__typename").and_then(Value::as_str),
            v.get("id").and_then(Value::as_str),
        ) {
            (Some(ty), Some(id)) => serde_json::json!({ "nodeId": id, "nodeType": ty }),
            _ => Value::Null,
        },
        // Kept as read: a Json object is written back in the source's key order.
        _ => v.clone(),
    };
    match (field.list, value) {
        (true, Value::Array(items)) => Value::Array(items.iter().map(convert).collect()),
        _ => convert(value),
    }
}

/// Key of a component's localized values in its canonical form: `{ locale: { field: value } }`.
pub const COMPONENT_LOCALIZATIONS: &str = "localizations";

fn read_component(
    content: &ContentModel,
    locales: &[String],
    value: &Value,
    references: &mut BTreeSet<String>,
) -> Value {
    let Some(typename) = value.get("__typename").and_then(Value::as_str) else {
        return canonical_value(value);
    };
    let Some(component) = content.component(typename) else {
        return canonical_value(value);
    };
    let mut out = BTreeMap::new();
    out.insert("__typename".to_owned(), Value::String(typename.to_owned()));
    let mut localized: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for f in component.fields.iter().filter(|f| synced_in_component(f)) {
        if f.localized {
            for loc in value
                .get(COMPONENT_LOCALIZATIONS)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(locale) = loc.get("locale").and_then(Value::as_str) else {
                    continue;
                };
                if !locales.iter().any(|l| l == locale) {
                    continue;
                }
                let v = loc.get(&f.name).unwrap_or(&Value::Null);
                localized.entry(locale.to_owned()).or_default().insert(
                    f.name.clone(),
                    read_value(content, locales, f, v, references),
                );
            }
        } else if let Some(v) = value.get(&f.name) {
            out.insert(
                f.name.clone(),
                read_value(content, locales, f, v, references),
            );
        }
    }
    if !localized.is_empty() {
        let locs: Map<String, Value> = localized
            .into_iter()
            .map(|(l, m)| (l, Value::Object(m)))
            .collect();
        out.insert(COMPONENT_LOCALIZATIONS.to_owned(), Value::Object(locs));
    }
    Value::Object(out.into_iter().collect())
}

impl Entry {
    /// All four hashes; each version's content and edges hashes are computed once.
    pub fn hashes(&self) -> Hashes {
        let (publication, publication_content) = publication_hashes(&self.stage_keys());
        Hashes {
            content: self.draft.content_hash(),
            edges: self.draft.edges_hash(),
            publication,
            publication_content,
        }
    }

    pub fn publication_content_hash(&self) -> Hash {
        publication_hashes(&self.stage_keys()).1
    }

    pub fn publication_hash(&self) -> Hash {
        publication_hashes(&self.stage_keys()).0
    }

    /// Content and edges hashes of each non-draft stage's version.
    pub fn stage_keys(&self) -> BTreeMap<String, (Hash, Hash)> {
        self.stages
            .iter()
            .map(|(s, v)| (s.clone(), (v.content_hash(), v.edges_hash())))
            .collect()
    }

    /// The version other stages are published from (PUBLISHED first, else the first stage).
    pub fn published_version(&self) -> Option<&Version> {
        self.stages
            .get("PUBLISHED")
            .or_else(|| self.stages.values().next())
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("entry serializes")
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<Entry> {
        serde_json::from_slice(bytes).ok()
    }
}

/// The publication and publication-content hashes of a stage state (stage → content and edges
/// hashes), equal to [`Entry::publication_hash`] and [`Entry::publication_content_hash`] of an
/// entry holding those versions: so the store can describe what the destination holds.
pub fn publication_hashes(stages: &BTreeMap<String, (Hash, Hash)>) -> (Hash, Hash) {
    let content: BTreeMap<&String, Hash> = stages.iter().map(|(s, (c, _))| (s, *c)).collect();
    (
        hash_json(PUBLICATION_CONTEXT, stages),
        hash_json(PUBLICATION_CONTENT_CONTEXT, &content),
    )
}

/// Field names that differ between two versions (for `plan --explain`).
pub fn changed_fields(old: &Version, new: &Version) -> Vec<String> {
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> =
        old.fields.keys().chain(new.fields.keys()).collect();
    for k in keys {
        if old.fields.get(k) != new.fields.get(k) {
            out.push(k.clone());
        }
    }
    let locales: std::collections::BTreeSet<&String> =
        old.locales.keys().chain(new.locales.keys()).collect();
    for l in locales {
        match (old.locales.get(l), new.locales.get(l)) {
            (Some(a), Some(b)) => {
                for (k, v) in b {
                    if a.get(k) != Some(v) {
                        out.push(format!("{k}[{l}]"));
                    }
                }
            }
            _ => out.push(format!("localization {l}")),
        }
    }
    let edges: std::collections::BTreeSet<&String> =
        old.edges.keys().chain(new.edges.keys()).collect();
    for k in edges {
        if old.edges.get(k) != new.edges.get(k) {
            out.push(format!("{k} (relation)"));
        }
    }
    let embeds: std::collections::BTreeSet<&String> =
        old.embeds.keys().chain(new.embeds.keys()).collect();
    for k in embeds {
        if old.embeds.get(k) != new.embeds.get(k) {
            out.push(format!("{k} (rich text with references)"));
        }
    }
    let locales: std::collections::BTreeSet<&String> = old
        .localized_embeds
        .keys()
        .chain(new.localized_embeds.keys())
        .collect();
    for l in locales {
        let (a, b) = (old.localized_embeds.get(l), new.localized_embeds.get(l));
        let keys: std::collections::BTreeSet<&String> = a
            .into_iter()
            .flat_map(|m| m.keys())
            .chain(b.into_iter().flat_map(|m| m.keys()))
            .collect();
        for k in keys {
            if a.and_then(|m| m.get(k)) != b.and_then(|m| m.get(k)) {
                out.push(format!("{k}[{l}] (rich text with references)"));
            }
        }
    }
    if old.references != new.references {
        out.push("rich-text references".into());
    }
    if old.file != new.file {
        out.push("file".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = canonical_value(&json!({"b": 1, "a": {"y": 2.0, "x": [1, {"k": 1, "j": 2}]}}));
        let b = canonical_value(&json!({"a": {"x": [1, {"j": 2, "k": 1}], "y": 2.0}, "b": 1}));
        let mut va = Version::default();
        va.fields.insert("meta".into(), a);
        let mut vb = Version::default();
        vb.fields.insert("meta".into(), b);
        assert_eq!(va.content_hash(), vb.content_hash());
        // A float stays a float: 2.0 and 2 are different values.
        let mut vc = Version::default();
        vc.fields.insert(
            "meta".into(),
            canonical_value(&json!({"a": {"x": [1, {"j": 2, "k": 1}], "y": 2}, "b": 1})),
        );
        assert_ne!(va.content_hash(), vc.content_hash());
    }

    #[test]
    fn sorted_hashing_matches_hashing_the_canonical_copy() {
        // Stored hashes must not change with the allocation-free serializer.
        let mut v = Version::default();
        v.fields.insert(
            "meta".into(),
            json!({ "z": [{ "b": 1, "a": 2.5 }], "a": { "y": null, "x": "s" } }),
        );
        v.fields.insert("title".into(), json!("t"));
        v.locales
            .entry("de".into())
            .or_default()
            .insert("body".into(), json!({ "k2": true, "k1": [3, 2] }));
        let canonical = |m: &BTreeMap<String, Value>| -> BTreeMap<String, Value> {
            m.iter()
                .map(|(k, v)| (k.clone(), canonical_value(v)))
                .collect()
        };
        let locales: BTreeMap<&String, BTreeMap<String, Value>> =
            v.locales.iter().map(|(l, m)| (l, canonical(m))).collect();
        let expected = hash_json(CONTENT_CONTEXT, &(&canonical(&v.fields), &locales, &v.file));
        assert_eq!(v.content_hash(), expected);

        let mut e = Entry {
            draft: v.clone(),
            ..Default::default()
        };
        v.fields.insert("title".into(), json!("published"));
        e.stages.insert("PUBLISHED".into(), v);
        let h = e.hashes();
        assert_eq!(h.publication, e.publication_hash());
        assert_eq!(h.publication_content, e.publication_content_hash());
        assert_eq!(h.content, e.draft.content_hash());
    }

    #[test]
    fn hashes_separate_content_edges_and_publication() {
        let mut e = Entry::default();
        e.draft.fields.insert("title".into(), json!("a"));
        let h1 = e.hashes();
        e.draft
            .edges
            .insert("speakers".into(), vec!["Speaker:1".into()]);
        let h2 = e.hashes();
        assert_eq!(h1.content, h2.content);
        assert_ne!(h1.edges, h2.edges);
        e.stages.insert("PUBLISHED".into(), e.draft.clone());
        let h3 = e.hashes();
        assert_eq!(h2.content, h3.content);
        assert_ne!(h2.publication, h3.publication);
        // Edge order matters.
        e.draft.edges.insert(
            "speakers".into(),
            vec!["Speaker:2".into(), "Speaker:1".into()],
        );
        let h4 = e.hashes();
        e.draft.edges.insert(
            "speakers".into(),
            vec!["Speaker:1".into(), "Speaker:2".into()],
        );
        assert_ne!(h4.edges, e.hashes().edges);
    }

    #[test]
    fn publication_hashes_of_a_stage_state_match_the_entry() {
        let mut e = Entry::default();
        assert_eq!(
            publication_hashes(&e.stage_keys()),
            (e.publication_hash(), e.publication_content_hash())
        );
        e.draft.fields.insert("title".into(), json!("a"));
        e.stages.insert("PUBLISHED".into(), e.draft.clone());
        e.draft.fields.insert("title".into(), json!("b"));
        e.stages.insert("QA".into(), e.draft.clone());
        assert_eq!(
            publication_hashes(&e.stage_keys()),
            (e.publication_hash(), e.publication_content_hash())
        );
    }

    #[test]
    fn explain_names_changed_fields() {
        let mut a = Version::default();
        a.fields.insert("slug".into(), json!("x"));
        a.locales
            .insert("de".into(), [("title".to_string(), json!("Hallo"))].into());
        let mut b = a.clone();
        b.locales
            .insert("de".into(), [("title".to_string(), json!("Servus"))].into());
        b.edges.insert("speakers".into(), vec!["Speaker:1".into()]);
        assert_eq!(
            changed_fields(&a, &b),
            vec!["title[de]".to_string(), "speakers (relation)".to_string()]
        );
    }
}
