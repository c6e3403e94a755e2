//! `verify`: reads both sides completely and reports every difference — missing and extra
//! entries, field values per stage and locale, relation targets, publication — without writing.
//!
//! Entries are matched by identity key (a unique field), or through the store's destination ids
//! for models matched by `id` (and for an entry whose key the source renamed since it was
//! written, when no other source entry holds that key). Relations are compared in order on the
//! side that writes them, and as sets on the other side (read for verify alone, so a relation
//! written wrong shows from either side). Fields the sync does not write (read-only in either
//! schema) are read in that same extra read and compared too, named with the reason stagesync
//! leaves them alone (see [`unwritten`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;

use super::canonical::{Entry, Version};
use super::read::Unread;
use super::{endpoint_client, Prepared, SyncError};
use crate::config::Config;
use crate::hygraph::Client;
use crate::model::rich_text::map_ast_references;
use crate::store::{Hash, Store};

#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    pub model: String,
    /// The source id (or the destination id for extra entries).
    pub id: String,
    pub stage: String,
    pub what: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub models: Vec<(String, usize, usize)>,
    pub differences: Vec<Difference>,
    /// Fields neither side's comparison reads (see [`not_compared`]), each as
    /// `Model.field: why`: listed so that "match" never claims more than was compared.
    pub not_compared: Vec<String>,
}

impl VerifyReport {
    pub fn matches(&self) -> bool {
        self.differences.is_empty()
    }
}

pub async fn verify(config: &Config, store: Option<&Store>) -> Result<VerifyReport, SyncError> {
    let source = endpoint_client(&config.source)?;
    let dest = endpoint_client(&config.destination)?;
    let schemas = super::prepare(config, &source, &dest).await?;
    let prepared = Prepared::new(config, None, &schemas)?;
    Ok(compare_sides(&prepared, &source, &dest, store)
        .await?
        .report)
}

/// How one source entry compares with the destination: what `sync --repair` rewrites the
/// store's acknowledgements from.
#[derive(Debug, Clone)]
pub(crate) struct Matched {
    pub source: Entry,
    /// The destination entry it matches (by identity key, or the store for `id`-matched
    /// models and assets); `None`: missing there.
    pub dest_id: Option<String>,
    /// The content / edges hash of the source version (the draft's, else a stage's) that the
    /// destination's draft holds; `None`: none of them (an interrupted round leaves a
    /// published version in the draft).
    pub draft_content: Option<Hash>,
    pub draft_edges: Option<Hash>,
    /// Locales the destination's draft holds.
    pub dest_locales: Vec<String>,
    /// Non-draft stages the destination holds the entry in, each with whether the version
    /// there equals the source's version in that stage.
    pub dest_stages: Vec<(String, bool)>,
}

/// The result of reading both sides completely: the differences, and per model (in the order
/// of `prepared.shapes`) every source entry with what the destination holds of it.
pub(crate) struct Comparison {
    pub report: VerifyReport,
    pub entries: Vec<Vec<Matched>>,
}

/// Which part of a version a difference is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Content,
    Edges,
}

/// The one comparison behind `verify` and `sync --repair`: reads every synced model of both
/// sides (pages of 100, every synced stage and locale) and compares them entry by entry.
pub(crate) async fn compare_sides(
    prepared: &Prepared<'_>,
    source: &Client,
    dest: &Client,
    store: Option<&Store>,
) -> Result<Comparison, SyncError> {
    let mut src_entries = Vec::new();
    let mut dst_entries = Vec::new();
    // Entries a side cannot answer for: differences, and left alone by a repair.
    let mut src_unread = Vec::new();
    let mut dst_unread = Vec::new();
    // Relations seen from the side that does not write them: a relation written wrong shows
    // from either side.
    let mut src_reverse = Vec::new();
    let mut dst_reverse = Vec::new();
    for (m, shape) in prepared.shapes.iter().enumerate() {
        let locales = prepared.locales_for(shape);
        let read = |client| {
            read_all(
                client,
                &prepared.queries[m],
                shape,
                &locales,
                &prepared.default_locale,
            )
        };
        let (entries, unread) = read(source).await?;
        src_entries.push(entries);
        src_unread.push(unread);
        let (entries, unread) = read(dest).await?;
        dst_entries.push(entries);
        dst_unread.push(unread);
        src_reverse.push(read_reverse(source, prepared, shape).await?);
        dst_reverse.push(read_reverse(dest, prepared, shape).await?);
    }
    // Match destination entries to source entries, per model.
    let mut dest_to_source: HashMap<(String, String), String> = HashMap::new();
    let mut pairs: Vec<Vec<(String, Option<String>)>> = Vec::new();
    for (m, shape) in prepared.shapes.iter().enumerate() {
        let name = &shape.model.name;
        let key = &prepared.identity[m];
        let key_of = |e: &Entry| -> Option<String> {
            if key == "id" {
                return Some(e.id.clone());
            }
            e.draft
                .fields
                .get(key)
                .or_else(|| {
                    e.draft
                        .locales
                        .get(&prepared.default_locale)
                        .and_then(|l| l.get(key))
                })
                // A null optional unique field identifies nothing (many entries hold it).
                .filter(|v| !v.is_null())
                .map(|v| v.to_string())
        };
        let mut by_key: HashMap<String, String> = HashMap::new();
        for e in dst_entries[m].values() {
            if let Some(k) = key_of(e) {
                by_key.insert(k, e.id.clone());
            }
        }
        let stored = |e: &Entry| {
            store
                .and_then(|s| s.node(name, &e.id).ok().flatten())
                .and_then(|r| r.dest_id)
                .filter(|d| dst_entries[m].contains_key(d) || dst_unread[m].contains_key(d))
        };
        let mut list = Vec::new();
        for e in src_entries[m].values() {
            let key_value = (key != "id" && !shape.is_asset())
                .then(|| key_of(e))
                .flatten();
            let mapped = if let Some(k) = key_value {
                by_key.get(&k).cloned()
            } else {
                // `id`-matched models, assets, and entries whose identity key is null: the
                // destination id the store recorded, else the same id.
                stored(e).or_else(|| dst_entries[m].contains_key(&e.id).then(|| e.id.clone()))
            };
            list.push((e.id.clone(), mapped));
        }
        // An entry whose key the source renamed since it was written (or since a lost upsert
        // answer, see `journal`) is the one the store maps it to, unless another source entry
        // holds that key now: matching by key alone would upsert a second entry.
        if key != "id" && !shape.is_asset() {
            let claimed: HashSet<String> = list.iter().filter_map(|(_, d)| d.clone()).collect();
            for (id, mapped) in list.iter_mut().filter(|(_, d)| d.is_none()) {
                *mapped = stored(&src_entries[m][id.as_str()]).filter(|d| !claimed.contains(d));
            }
        }
        for (id, mapped) in &list {
            if let Some(d) = mapped {
                dest_to_source.insert((name.clone(), d.clone()), id.clone());
            }
        }
        pairs.push(list);
    }
    // A rich-text reference to an entry deleted since (on both sides, by the same deletion)
    // names no entry on either side: both read as `<missing>`.
    let model_of = |ty: &str| prepared.shapes.iter().position(|s| s.model.name == ty);
    let map_target = |t: &str| -> String {
        let (ty, id) = t.split_once(':').unwrap_or(("", t));
        match dest_to_source.get(&(ty.to_owned(), id.to_owned())) {
            Some(s) => format!("{ty}:{s}"),
            None if model_of(ty).is_some_and(|m| !dst_entries[m].contains_key(id)) => {
                format!("{ty}:<missing>")
            }
            None => format!("{ty}:<destination-only {id}>"),
        }
    };
    let map_source = |t: &str| -> String {
        let (ty, id) = t.split_once(':').unwrap_or(("", t));
        match model_of(ty) {
            Some(m) if !src_entries[m].contains_key(id) => format!("{ty}:<missing>"),
            _ => t.to_owned(),
        }
    };
    let mut differences = Vec::new();
    let mut models = Vec::new();
    let mut entries = Vec::new();
    for (m, shape) in prepared.shapes.iter().enumerate() {
        let name = &shape.model.name;
        models.push((name.clone(), src_entries[m].len(), dst_entries[m].len()));
        let mut matched = BTreeSet::new();
        let mut list = Vec::new();
        let unwritten_fields: BTreeMap<String, String> = unwritten(prepared, shape)
            .into_iter()
            .map(|(f, why)| (f.name.clone(), why))
            .collect();
        for u in src_unread[m].values() {
            differences.push(Difference {
                model: name.clone(),
                id: u.id.clone(),
                stage: "DRAFT".into(),
                what: format!("the source {}", u.reason()),
            });
        }
        for (sid, did) in &pairs[m] {
            let diff = |stage: &str, what: String| Difference {
                model: name.clone(),
                id: sid.clone(),
                stage: stage.to_owned(),
                what,
            };
            let s = &src_entries[m][sid];
            let mut state = Matched {
                source: s.clone(),
                dest_id: did.clone(),
                draft_content: None,
                draft_edges: None,
                dest_locales: Vec::new(),
                dest_stages: Vec::new(),
            };
            let Some(did) = did else {
                differences.push(diff("DRAFT", "missing in the destination".into()));
                list.push(state);
                continue;
            };
            matched.insert(did.clone());
            let Some(d) = dst_entries[m].get(did) else {
                // Unreadable there: reported, and its acknowledgements left as they are.
                let reason = dst_unread[m]
                    .get(did)
                    .map(Unread::reason)
                    .unwrap_or_default();
                differences.push(diff("DRAFT", format!("the destination {reason}")));
                continue;
            };
            compare_reverse(
                src_reverse[m].get(sid.as_str()),
                dst_reverse[m].get(did.as_str()),
                &unwritten_fields,
                &map_target,
                &map_source,
                &mut |stage, what| differences.push(diff(stage, what)),
            );
            let (mut content, mut edges) = (true, true);
            compare(
                &s.draft,
                &d.draft,
                &map_target,
                &map_source,
                &mut |part, w| {
                    match part {
                        Part::Content => content = false,
                        Part::Edges => edges = false,
                    }
                    differences.push(diff("DRAFT", w))
                },
            );
            state.draft_content = content.then(|| s.draft.content_hash());
            state.draft_edges = edges.then(|| s.draft.edges_hash());
            for v in s.stages.values() {
                let (mut content, mut edges) = (true, true);
                compare(
                    v,
                    &d.draft,
                    &map_target,
                    &map_source,
                    &mut |part, _| match part {
                        Part::Content => content = false,
                        Part::Edges => edges = false,
                    },
                );
                if content && state.draft_content.is_none() {
                    state.draft_content = Some(v.content_hash());
                }
                if edges && state.draft_edges.is_none() {
                    state.draft_edges = Some(v.edges_hash());
                }
            }
            state.dest_locales = d.draft.locales.keys().cloned().collect();
            let stages: BTreeSet<&String> = s.stages.keys().chain(d.stages.keys()).collect();
            for stage in stages {
                match (s.stages.get(stage), d.stages.get(stage)) {
                    (Some(a), Some(b)) => {
                        let mut same = true;
                        compare(a, b, &map_target, &map_source, &mut |_, w| {
                            same = false;
                            differences.push(diff(stage, w))
                        });
                        state.dest_stages.push((stage.clone(), same));
                    }
                    (Some(_), None) => {
                        differences.push(diff(stage, "not in this stage in the destination".into()))
                    }
                    (None, Some(_)) => {
                        differences
                            .push(diff(stage, "in this stage only in the destination".into()));
                        state.dest_stages.push((stage.clone(), false));
                    }
                    (None, None) => {}
                }
            }
            list.push(state);
        }
        for did in dst_entries[m].keys() {
            if !matched.contains(did) {
                differences.push(Difference {
                    model: name.clone(),
                    id: did.clone(),
                    stage: "DRAFT".into(),
                    what: "extra in the destination (no source entry matches it)".into(),
                });
            }
        }
        for u in dst_unread[m].values() {
            if !matched.contains(&u.id) {
                differences.push(Difference {
                    model: name.clone(),
                    id: u.id.clone(),
                    stage: "DRAFT".into(),
                    what: format!("destination entry: it {}", u.reason()),
                });
            }
        }
        entries.push(list);
    }
    Ok(Comparison {
        report: VerifyReport {
            models,
            differences,
            not_compared: not_compared(prepared),
        },
        entries,
    })
}

/// The fields of the synced models that the comparison does not read: skipped by the sync and
/// not among [`unwritten`] (remote fields, unions mixing models and components, components'
/// unwritable fields, ...), as `Model.field: why` (a component's as the skip names it).
fn not_compared(prepared: &Prepared<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for shape in &prepared.shapes {
        let compared: Vec<&str> = unwritten(prepared, shape)
            .into_iter()
            .map(|(f, _)| f.name.as_str())
            .collect();
        for (field, why) in &shape.skipped {
            let own = shape.model.fields.iter().any(|f| std::ptr::eq(f, *field));
            if own && compared.contains(&field.name.as_str()) {
                continue;
            }
            // Asset file fields: the file's bytes are compared instead.
            if own
                && shape.is_asset()
                && super::shape::ASSET_FILE_FIELDS.contains(&field.name.as_str())
            {
                continue;
            }
            out.push(if own {
                format!("{}.{}: {why}", shape.model.name, field.name)
            } else {
                format!("{} (in a component): {why}", shape.model.name)
            });
        }
    }
    out
}

/// Per entry id: per `(stage, field)`, the targets (`Type:id`) of its reverse relation fields.
type Reverse = HashMap<String, BTreeMap<(String, String), BTreeSet<String>>>;

/// Reverse fields hold at most this many targets per read; a fuller one is not compared.
const REVERSE_PAGE: usize = 100;

/// A value of a field stagesync does not write, as [`Reverse`] holds it: `=` and its JSON
/// (never taken for a `Type:id` target).
const VALUE_PREFIX: &str = "=";

/// Fields of the model itself that the sync does not write (see `Shape::skipped`) and verify
/// compares anyway, so the report shows where the two sides differ in them: scalars and
/// enumerations (in the default locale) and relations whose targets are all synced. Remote
/// fields are left out: their values come from an external API when they are read, the same
/// API for both sides, and say nothing about the two environments.
fn unwritten<'m>(
    prepared: &Prepared<'_>,
    shape: &super::shape::Shape<'m>,
) -> Vec<(&'m crate::model::Field, String)> {
    let synced = |t: &String| prepared.shapes.iter().any(|s| &s.model.name == t);
    let in_dest = |f: &crate::model::Field| {
        prepared
            .dest
            .model(&shape.model.name)
            .and_then(|m| m.field(&f.name))
            .is_some_and(|d| d.kind == f.kind && d.list == f.list)
    };
    shape
        .skipped
        .iter()
        .filter(|(f, _)| shape.model.fields.iter().any(|own| std::ptr::eq(own, *f)))
        .filter(|(f, reason)| {
            let readable = match &f.kind {
                // Rich text with references holds ids the two sides do not share.
                crate::model::FieldKind::Scalar { .. } => f.embeds.is_empty(),
                crate::model::FieldKind::Enumeration { .. } => true,
                crate::model::FieldKind::Relation(r) => r.targets.iter().all(synced),
                crate::model::FieldKind::Component { .. } => false,
            };
            // An asset's file fields, and a read-only `fileName` (the upload-url system: the
            // destination names the file after the URL it fetched), are set by the upload;
            // the file's bytes are compared instead.
            let from_upload = shape.is_asset()
                && (super::shape::ASSET_FILE_FIELDS.contains(&f.name.as_str())
                    || f.name == "fileName");
            readable && !from_upload && in_dest(f) && !reason.starts_with("remote field")
        })
        .map(|(f, reason)| (*f, reason.clone()))
        .collect()
}

/// Reads the relation fields of `shape` that the other side writes (those whose targets are
/// all synced), and the fields the sync does not write (see [`unwritten`]), in the draft and
/// every other synced stage.
async fn read_reverse(
    client: &Client,
    prepared: &Prepared<'_>,
    shape: &super::shape::Shape<'_>,
) -> Result<Reverse, SyncError> {
    let synced = |t: &String| prepared.shapes.iter().any(|s| &s.model.name == t);
    let fields: Vec<&crate::model::Field> = shape
        .reverse
        .iter()
        .copied()
        .filter(|f| f.relation().is_some_and(|r| r.targets.iter().all(synced)))
        .chain(unwritten(prepared, shape).into_iter().map(|(f, _)| f))
        .collect();
    let mut out = Reverse::new();
    if fields.is_empty() {
        return Ok(out);
    }
    let sels: Vec<String> = fields
        .iter()
        .map(|f| super::shape::selection(f, prepared.content))
        .collect();
    let sels = sels.join(" ");
    let nested = if prepared.stages.is_empty() {
        String::new()
    } else {
        format!(
            " documentInStages(stages: [{}], includeCurrent: false) {{ stage {sels} }}",
            prepared.stages.join(", ")
        )
    };
    let query = format!(
        "query StagesyncReverse($after: String) {{ page: {}(first: {}, after: $after, stage: DRAFT) {{ edges {{ node {{ id {sels}{nested} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        shape.model.connection(),
        super::read::PAGE_SIZE,
    );
    let read_error = |message: String| SyncError::Read {
        endpoint: client.name().to_owned(),
        model: shape.model.name.clone(),
        message,
    };
    let mut after: Option<String> = None;
    loop {
        let response = client
            .graphql(
                &query,
                serde_json::json!({ "after": after }),
                crate::hygraph::Idempotency::Safe,
            )
            .await
            .map_err(|source| SyncError::client(client.name().to_owned(), source))?;
        if let Some(e) = response.errors.first() {
            return Err(read_error(format!("reverse relations: {}", e.message)));
        }
        let page = response
            .data
            .as_ref()
            .and_then(|d| d.get("page"))
            .ok_or_else(|| read_error("reverse relations: no page in the answer".into()))?;
        for node in page
            .pointer("/edges")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("node"))
        {
            let Some(id) = node.get("id").and_then(serde_json::Value::as_str) else {
                continue;
            };
            let held = out.entry(id.to_owned()).or_default();
            let mut versions = vec![("DRAFT".to_owned(), node)];
            for doc in node
                .get("documentInStages")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(stage) = doc.get("stage").and_then(serde_json::Value::as_str) {
                    versions.push((stage.to_owned(), doc));
                }
            }
            for (stage, version) in versions {
                for f in &fields {
                    if f.relation().is_none() {
                        let value = version.get(&f.name).unwrap_or(&serde_json::Value::Null);
                        let value =
                            format!("{VALUE_PREFIX}{}", super::canonical::canonical_value(value));
                        held.insert((stage.clone(), f.name.clone()), BTreeSet::from([value]));
                        continue;
                    }
                    let targets = match version.get(&f.name) {
                        Some(serde_json::Value::Array(items)) => items.iter().collect(),
                        Some(v) if !v.is_null() => vec![v],
                        _ => Vec::new(),
                    };
                    let set: BTreeSet<String> = targets
                        .iter()
                        .filter_map(|t| {
                            let ty = t.get("__typename")?.as_str()?;
                            let id = t.get("id")?.as_str()?;
                            Some(format!("{ty}:{id}"))
                        })
                        .collect();
                    held.insert((stage.clone(), f.name.clone()), set);
                }
            }
        }
        after = super::read::next_cursor(Some(page));
        if after.is_none() {
            break;
        }
    }
    Ok(out)
}

/// Compares one entry's reverse relation fields on both sides, as sets (the order of a list
/// the other side writes follows the order of writes), destination targets mapped to source
/// ids. A field holding a full page of targets on either side is not compared. Fields the
/// sync does not write (`unwritten`: field → why) are compared the same way, and reported
/// with the reason stagesync leaves them alone.
fn compare_reverse(
    source: Option<&BTreeMap<(String, String), BTreeSet<String>>>,
    dest: Option<&BTreeMap<(String, String), BTreeSet<String>>>,
    unwritten: &BTreeMap<String, String>,
    map_target: &dyn Fn(&str) -> String,
    map_source: &dyn Fn(&str) -> String,
    report: &mut dyn FnMut(&str, String),
) {
    // Values are compared as they are; only targets are mapped.
    let mapped = |t: &str, map: &dyn Fn(&str) -> String| match t.starts_with(VALUE_PREFIX) {
        true => t.to_owned(),
        false => map(t),
    };
    let empty = BTreeMap::new();
    let (source, dest) = (source.unwrap_or(&empty), dest.unwrap_or(&empty));
    let keys: BTreeSet<&(String, String)> = source.keys().chain(dest.keys()).collect();
    let none = BTreeSet::new();
    for key in keys {
        let (stage, field) = key;
        let s = source.get(key).unwrap_or(&none);
        let d = dest.get(key).unwrap_or(&none);
        if s.len() >= REVERSE_PAGE || d.len() >= REVERSE_PAGE {
            continue;
        }
        let s: BTreeSet<String> = s.iter().map(|t| mapped(t, map_source)).collect();
        let d: BTreeSet<String> = d.iter().map(|t| mapped(t, map_target)).collect();
        if s == d {
            continue;
        }
        match unwritten.get(field) {
            Some(why) => {
                let shown = |set: &BTreeSet<String>| {
                    set.iter()
                        .map(|v| v.strip_prefix(VALUE_PREFIX).unwrap_or(v).to_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                report(
                    stage,
                    format!(
                        "field {field} (stagesync does not write it: {why}): source {} destination {}",
                        shown(&s),
                        shown(&d)
                    ),
                )
            }
            None => report(
                stage,
                format!("relation {field} (seen from this side): source {s:?} destination {d:?}"),
            ),
        }
    }
}

fn compare(
    a: &Version,
    b: &Version,
    map_target: &dyn Fn(&str) -> String,
    map_source: &dyn Fn(&str) -> String,
    report: &mut dyn FnMut(Part, String),
) {
    for (k, v) in &a.fields {
        if b.fields.get(k) != Some(v) {
            report(
                Part::Content,
                format!(
                    "field {k}: source {} destination {}",
                    short(v),
                    b.fields.get(k).map_or("(absent)".into(), short)
                ),
            );
        }
    }
    let locales: BTreeSet<&String> = a.locales.keys().chain(b.locales.keys()).collect();
    for l in locales {
        match (a.locales.get(l), b.locales.get(l)) {
            (Some(x), Some(y)) => {
                for (k, v) in x {
                    if y.get(k) != Some(v) {
                        report(
                            Part::Content,
                            format!(
                                "field {k}[{l}]: source {} destination {}",
                                short(v),
                                y.get(k).map_or("(absent)".into(), short)
                            ),
                        );
                    }
                }
            }
            (Some(_), None) => report(
                Part::Content,
                format!("localization {l} missing in the destination"),
            ),
            (None, Some(_)) => report(
                Part::Content,
                format!("localization {l} only in the destination"),
            ),
            (None, None) => {}
        }
    }
    let b_embedded = b.embedded();
    for (k, ast) in a.embedded() {
        let mut to_source = |ty: &str, id: &str| id_only(map_target(&format!("{ty}:{id}")));
        let mut in_source = |ty: &str, id: &str| id_only(map_source(&format!("{ty}:{id}")));
        let Ok(ast) = map_ast_references(ast, &mut in_source) else {
            continue;
        };
        let ast = &ast;
        let mapped = b_embedded
            .get(&k)
            .and_then(|d| map_ast_references(d, &mut to_source).ok());
        if mapped.as_ref() != Some(ast) {
            report(
                Part::Edges,
                format!(
                    "{k} (rich text or relations inside components): source {} destination {}",
                    short(ast),
                    mapped
                        .as_ref()
                        .or_else(|| b.fields.get(&k))
                        .map_or("(absent)".into(), short)
                ),
            );
        }
    }
    for (k, targets) in &a.edges {
        let mapped: Vec<String> = b
            .edges
            .get(k)
            .map(|t| t.iter().map(|x| map_target(x)).collect())
            .unwrap_or_default();
        if &mapped != targets {
            report(
                Part::Edges,
                format!("relation {k}: source {targets:?} destination {mapped:?}"),
            );
        }
    }
    // Asset files live at different URLs on each side (`file` is not compared); their
    // metadata fields are.
}

/// `Type:id` → `id`.
fn id_only(mapped: String) -> Result<String, ()> {
    Ok(mapped
        .split_once(':')
        .map_or(mapped.clone(), |(_, s)| s.to_owned()))
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(80).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Every entry of a model on one side, and those the side cannot answer for (by id).
pub(super) async fn read_all(
    client: &Client,
    query: &super::read::PageQuery,
    shape: &super::shape::Shape<'_>,
    locales: &[String],
    default_locale: &str,
) -> Result<(BTreeMap<String, Entry>, BTreeMap<String, Unread>), SyncError> {
    let mut out = BTreeMap::new();
    let mut unread = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = super::read::read_page(
            client,
            query,
            shape,
            locales,
            default_locale,
            cursor.as_deref(),
        )
        .await?;
        for e in page.entries {
            out.insert(e.id.clone(), e);
        }
        for u in page.unread {
            unread.insert(u.id.clone(), u);
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    Ok((out, unread))
}
