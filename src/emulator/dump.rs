//! The stable JSON form of the emulator's whole content (`GET /__emulator/dump`), also the form
//! of seed files: every entry of every model in every stage and locale, relations as ids.
//!
//! ```json
//! {"models": {"Talk": [{"id": "...", "createdAt": "...",
//!    "stages": {"DRAFT": {"updatedAt": "...", "publishedAt": null,
//!                         "fields": {...}, "localizations": {"en": {...}},
//!                         "relations": {"speakers": [{"__typename": "Speaker", "id": "..."}]}}}}]},
//!  "assets_files": {"<handle>": {"mimeType": "...", "base64": "..."}}}
//! ```
//! Models, entries (by id) and object keys are sorted; every relation field of a model (both
//! sides of two-way relations) is listed, in the order the API returns it, holding only targets
//! that exist in that stage. Relations inside components are `{nodeType, nodeId}` references in
//! the component values (see `components`), likewise only those whose target exists in the stage
//! (a relation with none is left out, as one never set).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::model::{ContentModel, FieldKind, Model};

use super::store::{AssetFile, Entry, Fields, Ref, Store, Version};

pub(crate) fn dump(cm: &ContentModel, store: &Store) -> Value {
    let mut models = BTreeMap::new();
    for model in &cm.models {
        let relation_fields: Vec<&str> = model
            .fields
            .iter()
            .filter(|f| f.relation().is_some())
            .map(|f| f.name.as_str())
            .collect();
        let mut entries = Vec::new();
        for entry in store
            .model_entries(&model.name)
            .into_iter()
            .flat_map(|m| m.values())
        {
            let mut stages = Map::new();
            for (stage, version) in &entry.stages {
                let mut relations = Map::new();
                for field in &relation_fields {
                    let targets: Vec<Value> = store
                        .list(stage, &model.name, field, &entry.id)
                        .iter()
                        .filter(|t| store.exists(stage, t))
                        .map(|t| json!({"__typename": t.typename, "id": t.id}))
                        .collect();
                    relations.insert(field.to_string(), Value::Array(targets));
                }
                let localizations: Map<String, Value> = version
                    .localizations
                    .iter()
                    .map(|(l, f)| {
                        (
                            l.clone(),
                            Value::Object(visible(cm, store, stage, model, f)),
                        )
                    })
                    .collect();
                stages.insert(
                    stage.clone(),
                    json!({
                        "updatedAt": version.updated_at,
                        "publishedAt": version.published_at,
                        "fields": Value::Object(visible(cm, store, stage, model, &version.fields)),
                        "localizations": localizations,
                        "relations": relations,
                    }),
                );
            }
            entries.push(json!({"id": entry.id, "createdAt": entry.created_at, "stages": stages}));
        }
        models.insert(model.name.clone(), Value::Array(entries));
    }
    let files: Map<String, Value> = store
        .files
        .iter()
        .map(|(handle, f)| {
            (
                handle.clone(),
                json!({"mimeType": f.mime_type, "base64": base64_encode(&f.bytes)}),
            )
        })
        .collect();
    let models: Map<String, Value> = models.into_iter().collect();
    json!({"models": models, "assets_files": files})
}

/// `fields` sorted, with each relation inside a component holding only the targets that exist
/// in `stage` (what a read of that stage shows).
fn visible(
    cm: &ContentModel,
    store: &Store,
    stage: &str,
    model: &Model,
    fields: &Fields,
) -> Fields {
    let mut out = sorted(fields);
    for field in &model.fields {
        if let (FieldKind::Component { .. }, Some(v)) = (&field.kind, out.get_mut(&field.name)) {
            drop_missing(cm, store, stage, v, 0);
        }
    }
    out
}

/// Removes references to targets missing in `stage` from the relations inside the component
/// value `value` (a component or a list of them).
fn drop_missing(cm: &ContentModel, store: &Store, stage: &str, value: &mut Value, depth: usize) {
    if depth > 16 {
        return;
    }
    if let Value::Array(items) = value {
        for item in items {
            drop_missing(cm, store, stage, item, depth + 1);
        }
        return;
    }
    let Some(component) = value
        .get("__typename")
        .and_then(Value::as_str)
        .and_then(|t| cm.component(t))
    else {
        return;
    };
    let exists = |r: &Value| match (
        r.get("nodeType").and_then(Value::as_str),
        r.get("nodeId").and_then(Value::as_str),
    ) {
        (Some(ty), Some(id)) => store.exists(
            stage,
            &Ref {
                typename: ty.to_owned(),
                id: id.to_owned(),
            },
        ),
        _ => false,
    };
    for field in &component.fields {
        let Some(v) = value.get_mut(&field.name) else {
            continue;
        };
        match &field.kind {
            FieldKind::Relation(_) => {
                let none = match v {
                    Value::Array(refs) => {
                        refs.retain(exists);
                        refs.is_empty()
                    }
                    one => !exists(one),
                };
                // No target reads the same whether never set, set empty or all missing.
                if none {
                    if let Some(map) = value.as_object_mut() {
                        map.remove(&field.name);
                    }
                }
            }
            FieldKind::Component { .. } => drop_missing(cm, store, stage, v, depth + 1),
            _ => {}
        }
    }
}

fn sorted(fields: &Fields) -> Fields {
    let mut keys: Vec<&String> = fields.keys().collect();
    keys.sort();
    keys.into_iter()
        .map(|k| (k.clone(), fields[k].clone()))
        .collect()
}

/// Replaces the store's content with `dump`.
pub(crate) fn load(cm: &ContentModel, store: &mut Store, dump: &Value) -> Result<(), String> {
    let root = dump.as_object().ok_or("the top level must be an object")?;
    let mut entries: Vec<(String, Entry)> = Vec::new();
    let mut lists: Vec<(String, String, String, String, Vec<Ref>)> = Vec::new();
    let mut times = Vec::new();
    if let Some(models) = root.get("models") {
        let models = models.as_object().ok_or("`models` must be an object")?;
        for (name, list) in models {
            let model = cm
                .model(name)
                .ok_or_else(|| format!("model `{name}` is not in the content model"))?;
            for item in list
                .as_array()
                .ok_or_else(|| format!("`models.{name}` must be a list"))?
            {
                let id = item
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("an entry of {name} has no `id`"))?;
                let created_at = item
                    .get("createdAt")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                times.push(created_at.to_string());
                let mut entry = Entry {
                    id: id.to_string(),
                    created_at: created_at.to_string(),
                    stages: BTreeMap::new(),
                };
                let stages = item
                    .get("stages")
                    .and_then(Value::as_object)
                    .ok_or_else(|| format!("{name} {id} has no `stages` object"))?;
                for (stage, v) in stages {
                    if !cm.stages.contains(stage) {
                        return Err(format!("{name} {id}: unknown stage `{stage}`"));
                    }
                    let text = |k: &str| v.get(k).and_then(Value::as_str).map(String::from);
                    let version = Version {
                        updated_at: text("updatedAt").unwrap_or_else(|| created_at.to_string()),
                        published_at: text("publishedAt"),
                        fields: v
                            .get("fields")
                            .and_then(Value::as_object)
                            .cloned()
                            .unwrap_or_default(),
                        localizations: v
                            .get("localizations")
                            .and_then(Value::as_object)
                            .map(|m| {
                                m.iter()
                                    .map(|(l, f)| {
                                        (l.clone(), f.as_object().cloned().unwrap_or_default())
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    };
                    times.push(version.updated_at.clone());
                    for (field, targets) in v
                        .get("relations")
                        .and_then(Value::as_object)
                        .into_iter()
                        .flatten()
                    {
                        if model.field(field).and_then(|f| f.relation()).is_none() {
                            return Err(format!("{name}.{field} is not a relation field"));
                        }
                        let refs = targets
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|t| {
                                Some(Ref {
                                    typename: t.get("__typename")?.as_str()?.to_string(),
                                    id: t.get("id")?.as_str()?.to_string(),
                                })
                            })
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| {
                                format!("{name} {id} {field}: targets need `__typename` and `id`")
                            })?;
                        lists.push((
                            stage.clone(),
                            name.clone(),
                            field.clone(),
                            id.to_string(),
                            refs,
                        ));
                    }
                    entry.stages.insert(stage.clone(), version);
                }
                entries.push((name.clone(), entry));
            }
        }
    }
    let mut files = BTreeMap::new();
    for (handle, f) in root
        .get("assets_files")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let bytes = base64_decode(f.get("base64").and_then(Value::as_str).unwrap_or_default())
            .ok_or_else(|| format!("assets_files.{handle}: invalid base64"))?;
        let mime_type = f
            .get("mimeType")
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream")
            .to_string();
        files.insert(handle.clone(), AssetFile { mime_type, bytes });
    }
    store.clear();
    store.begin();
    for (model, entry) in entries {
        let id = entry.id.clone();
        store.put_entry(&model, &id, Some(entry));
    }
    for (stage, model, field, id, refs) in lists {
        store.put_list(&stage, &model, &field, &id, refs);
    }
    store.commit();
    for t in &times {
        store.observe_time(t);
    }
    store.files = files;
    Ok(())
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "a", "ab", "abc", "abcd", "hello world!"] {
            let enc = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&enc).unwrap(), s.as_bytes(), "{enc}");
        }
        assert_eq!(base64_encode(b"abcd"), "YWJjZA==");
    }
}
