//! A realistic, reproducible project for any content model: entries of every model with values
//! of every field kind, relations both ways (unions, one-way, asset links), two locales, assets
//! with real bytes, and a mix of draft-only, published, and published-with-a-newer-draft
//! entries. Written through the Content API like an editor would, so it works against any
//! endpoint. Used by the demo, the benchmark and the tests.
//!
//! Required relations are connected in the create: models are created in dependency order of
//! their required relations (a cycle is an error naming its fields), and every entry of a
//! required relation's target model is published, so a published entry never points at an
//! unpublished required target. Relations inside components (at any depth) are connected in
//! the create of the entry holding the component, to assets and to entries of the models created
//! before it (the creation order puts assets first); the targets of required relations inside
//! components are all published too.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::hygraph::{Client, Idempotency};
use crate::model::{ContentModel, Field, FieldKind, Scalar};
use crate::sync::shape::Shape;

/// What to generate.
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    /// Entries across all non-asset models.
    pub entries: usize,
    /// Assets (uploaded from `file_base`); 0 for none.
    pub assets: usize,
    /// Base URL of a server holding `/<n>.bin` files (see `FileServer`).
    pub file_base: Option<String>,
    pub seed: u64,
    /// Share of entries published (0–100).
    pub published_percent: u64,
    /// Share of published entries edited after publishing (0–100).
    pub newer_draft_percent: u64,
}

impl ProjectSpec {
    pub fn new(entries: usize) -> ProjectSpec {
        ProjectSpec {
            entries,
            assets: 0,
            file_base: None,
            seed: 7,
            published_percent: 60,
            newer_draft_percent: 25,
        }
    }
}

/// The ids of what was created, per model, in creation order.
#[derive(Debug, Clone, Default)]
pub struct Project {
    pub ids: BTreeMap<String, Vec<String>>,
    pub requests: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the required relations {0} form a cycle: no entry of these models can be created before the others; make one of them optional in the schema")]
    RequiredCycle(String),
    #[error("seeding {model}: {message}")]
    Write { model: String, message: String },
    #[error(transparent)]
    Client(#[from] crate::hygraph::ClientError),
}

/// splitmix64: tiny, seedable, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
    pub fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// A value for a field of entry `i` (version `v` distinguishes edits).
pub fn value_for(
    content: &ContentModel,
    model: &str,
    field: &Field,
    i: usize,
    v: usize,
    locale: &str,
) -> Value {
    if let FieldKind::Component { .. } = &field.kind {
        return component_input(content, field, i, v, 0, None);
    }
    let one = |k: usize| -> Value {
        match &field.kind {
            FieldKind::Scalar { scalar } => match scalar {
                Scalar::String | Scalar::Id => {
                    if field.unique {
                        json!(format!("{}-{i}", model.to_lowercase()))
                    } else if v == 0 {
                        json!(format!("{model} {i} {} {locale}{}", field.name, suffix(k)))
                    } else {
                        json!(format!(
                            "{model} {i} {} {locale} v{v}{}",
                            field.name,
                            suffix(k)
                        ))
                    }
                }
                Scalar::Int => json!(((i * 7 + v + k) % 1000) as i64),
                Scalar::Float => json!((i as f64) * 1.5 + (v as f64) + 0.25),
                Scalar::Boolean => json!((i + v + k).is_multiple_of(2)),
                Scalar::Long => json!(9_000_000_000_i64 + (i * 1000 + v) as i64),
                Scalar::Date => json!(format!(
                    "2026-{:02}-{:02}",
                    1 + (i % 12),
                    1 + ((i + v) % 28)
                )),
                Scalar::DateTime => json!(format!(
                    "2026-{:02}-{:02}T{:02}:{:02}:00.000Z",
                    1 + (i % 12),
                    1 + (i % 28),
                    (i + v) % 24,
                    (i * 7) % 60
                )),
                Scalar::Json => {
                    json!({ "n": i, "version": v, "tags": ["alpha", "beta"], "nested": { "z": 1, "a": [1.5, 2] } })
                }
                Scalar::RichText => {
                    json!({ "children": [ { "type": "paragraph", "children": [ { "text": format!("{model} {i} {} {locale} v{v}", field.name) } ] } ] })
                }
                Scalar::Color => {
                    json!({ "hex": format!("#{:02x}{:02x}{:02x}", (i * 40) % 256, (v * 90) % 256, (k * 17) % 256) })
                }
                Scalar::Location => {
                    json!({ "latitude": 48.0 + (i % 100) as f64 / 100.0, "longitude": 11.5 + v as f64 / 10.0 })
                }
                Scalar::Hex => json!(format!("#{:06x}", (i * 2654435761 + v) % 0xFFFFFF)),
                Scalar::Rgba => json!({ "r": i % 256, "g": v % 256, "b": k % 256, "a": 1 }),
            },
            FieldKind::Enumeration { name } => {
                let values = content
                    .enumeration(name)
                    .map(|e| e.values.clone())
                    .unwrap_or_default();
                match values.len() {
                    0 => Value::Null,
                    n => json!(values[(i + v + k) % n]),
                }
            }
            _ => Value::Null,
        }
    };
    if field.list {
        Value::Array((0..2).map(one).collect())
    } else {
        one(0)
    }
}

/// Rich text that references other entries and assets, as editors write it: an embedded entry,
/// a link to the same entry, an embedded asset — in every rich-text field with embeds (the
/// default locale of localized ones), picking targets among the models the field may embed.
fn embed_references(
    content: &ContentModel,
    shape: &Shape<'_>,
    project: &Project,
    i: usize,
    data: &mut Map<String, Value>,
) {
    let model = &shape.model.name;
    let pick = |name: &str, k: usize| {
        project
            .ids
            .get(name)
            .filter(|ids| !ids.is_empty())
            .map(|ids| ids[(i + k) % ids.len()].clone())
    };
    for f in shape
        .plain
        .iter()
        .chain(&shape.localized)
        .filter(|f| !f.list && f.is_rich_text() && !f.embeds.is_empty())
    {
        let entry = f
            .embeds
            .iter()
            .filter(|t| content.model(t).is_some_and(|m| m.asset.is_none()))
            .find_map(|t| {
                pick(t, 0)
                    .filter(|id| t != model || project.ids[model].get(i) != Some(id))
                    .map(|id| (t.clone(), id))
            });
        let asset = content
            .asset_model()
            .filter(|a| f.embeds.contains(&a.name))
            .and_then(|a| pick(&a.name, 1).map(|id| (a.name.clone(), id)));
        if entry.is_none() && asset.is_none() {
            continue;
        }
        let mut children = vec![
            json!({ "type": "paragraph", "children": [{ "text": format!("{model} {i} {} with references", f.name) }] }),
        ];
        if let Some((target, id)) = &entry {
            children.push(json!({ "type": "embed", "nodeId": id, "nodeType": target, "children": [{ "text": "" }] }));
            children.push(json!({ "type": "paragraph", "children": [
                { "text": "More in " },
                { "type": "link", "href": format!("/{}", target.to_lowercase()), "nodeId": id, "nodeType": target, "children": [{ "text": "this entry" }] },
            ] }));
        }
        if let Some((asset_model, id)) = &asset {
            children.push(json!({ "type": "embed", "nodeId": id, "nodeType": asset_model, "children": [{ "text": "" }] }));
        }
        data.insert(f.name.clone(), json!({ "children": children }));
    }
}

/// The create input of component field `field` for entry `i`, version `v`: a list holds two to
/// four components cycling through the member types; nested components go two levels deep.
fn component_input(
    content: &ContentModel,
    field: &Field,
    i: usize,
    v: usize,
    depth: usize,
    project: Option<&Project>,
) -> Value {
    let FieldKind::Component { targets, union } = &field.kind else {
        return Value::Null;
    };
    if targets.is_empty() {
        return Value::Null;
    }
    let item = |k: usize| -> Value {
        let name = &targets[(i + k) % targets.len()];
        let data = component_data(content, name, i * 10 + k, v, depth, project);
        if union.is_some() {
            json!({ name.as_str(): data })
        } else {
            data
        }
    };
    if field.list {
        json!({ "create": (0..2 + i % 3).map(item).collect::<Vec<_>>() })
    } else {
        json!({ "create": item(0) })
    }
}

/// `project`: the entries created so far, which relations inside the component connect (`None`:
/// relations left empty).
fn component_data(
    content: &ContentModel,
    name: &str,
    i: usize,
    v: usize,
    depth: usize,
    project: Option<&Project>,
) -> Value {
    let mut data = Map::new();
    let Some(component) = content.component(name) else {
        return Value::Object(data);
    };
    let mut others: BTreeMap<&String, Map<String, Value>> = BTreeMap::new();
    for f in component.fields.iter().filter(|f| f.is_writable()) {
        match &f.kind {
            FieldKind::Relation(_) => {
                let connect = project.and_then(|p| {
                    let targets: Vec<Value> = (0..if f.list { 2 } else { 1 })
                        .filter_map(|k| target_for(f, p, i + k * 3, None))
                        .fold(Vec::new(), |mut acc, t| {
                            if !acc.contains(&t) {
                                acc.push(t);
                            }
                            acc
                        });
                    match (f.list, targets.is_empty()) {
                        (_, true) => None,
                        (true, false) => Some(json!({ "connect": targets })),
                        (false, false) => Some(json!({ "connect": targets[0] })),
                    }
                });
                if let Some(c) = connect {
                    data.insert(f.name.clone(), c);
                }
                continue;
            }
            FieldKind::Component { .. } if depth >= 2 && !f.required => continue,
            FieldKind::Component { .. } => {
                data.insert(
                    f.name.clone(),
                    component_input(content, f, i, v, depth + 1, project),
                );
                continue;
            }
            _ => {}
        }
        data.insert(
            f.name.clone(),
            value_for(content, name, f, i, v, &content.default_locale),
        );
        if f.localized {
            for l in content
                .locales
                .iter()
                .filter(|l| **l != content.default_locale)
            {
                others
                    .entry(l)
                    .or_default()
                    .insert(f.name.clone(), value_for(content, name, f, i, v, l));
            }
        }
    }
    if !others.is_empty() {
        let list: Vec<Value> = others
            .into_iter()
            .map(|(l, d)| json!({ "locale": l, "data": d }))
            .collect();
        data.insert("localizations".into(), json!({ "create": list }));
    }
    Value::Object(data)
}

fn suffix(k: usize) -> String {
    if k == 0 {
        String::new()
    } else {
        format!(" #{k}")
    }
}

/// The create or update data of entry `i`, version `v`, without relations.
pub fn entry_data(
    content: &ContentModel,
    shape: &Shape<'_>,
    i: usize,
    v: usize,
    create: bool,
) -> Value {
    let model = &shape.model.name;
    let mut data = Map::new();
    for f in &shape.plain {
        // Component update inputs address components by id: edits leave them as created.
        if !create && matches!(f.kind, FieldKind::Component { .. }) {
            continue;
        }
        data.insert(
            f.name.clone(),
            value_for(content, model, f, i, v, &content.default_locale),
        );
    }
    for f in &shape.localized {
        data.insert(
            f.name.clone(),
            value_for(content, model, f, i, v, &content.default_locale),
        );
    }
    let others: Vec<&String> = content
        .locales
        .iter()
        .filter(|l| **l != content.default_locale)
        .collect();
    if !shape.localized.is_empty() && !others.is_empty() && !shape.is_asset() {
        let list: Vec<Value> = others
            .iter()
            .map(|l| {
                let d: Map<String, Value> = shape
                    .localized
                    .iter()
                    .map(|f| (f.name.clone(), value_for(content, model, f, i, v, l)))
                    .collect();
                if create {
                    json!({ "locale": l, "data": d })
                } else {
                    json!({ "locale": l, "create": d.clone(), "update": d })
                }
            })
            .collect();
        data.insert(
            "localizations".into(),
            if create {
                json!({ "create": list })
            } else {
                json!({ "upsert": list })
            },
        );
    }
    Value::Object(data)
}

async fn send_batch(
    client: &Client,
    model: &str,
    fields: &[(String, String, Value)],
) -> Result<Vec<Option<String>>, SeedError> {
    // fields: (mutation field with `$vN` placeholders, variable type, variable value)
    let decls: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(n, (_, ty, _))| format!("$v{n}: {ty}"))
        .collect();
    let body: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(n, (f, _, _))| format!("m{n}: {}", f.replace("$V", &format!("$v{n}"))))
        .collect();
    let query = format!(
        "mutation Seed({}) {{ {} }}",
        decls.join(", "),
        body.join(" ")
    );
    let vars: Map<String, Value> = fields
        .iter()
        .enumerate()
        .map(|(n, (_, _, v))| (format!("v{n}"), v.clone()))
        .collect();
    let response = client
        .graphql(&query, Value::Object(vars), Idempotency::Unsafe)
        .await?;
    if let Some(err) = response.errors.first() {
        return Err(SeedError::Write {
            model: model.to_owned(),
            message: err.message.clone(),
        });
    }
    Ok((0..fields.len())
        .map(|n| {
            response
                .data
                .as_ref()
                .and_then(|d| d.get(format!("m{n}")))
                .and_then(|m| m.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect())
}

const BATCH: usize = 20;

/// The writable relation fields a create of `model` must connect.
pub fn required_relations(model: &crate::model::Model) -> impl Iterator<Item = &Field> {
    model
        .fields
        .iter()
        .filter(|f| f.required && f.is_writable() && f.relation().is_some())
}

/// A target for relation `f` of entry `i` among the created entries (never `own`), in the
/// form of its `connect` input.
fn target_for(f: &Field, project: &Project, i: usize, own: Option<&str>) -> Option<Value> {
    let rel = f.relation()?;
    (0..rel.targets.len()).find_map(|k| {
        let target = &rel.targets[(i + k) % rel.targets.len()];
        let pool = project.ids.get(target).filter(|p| !p.is_empty())?;
        let tid = &pool[i % pool.len()];
        if Some(tid.as_str()) == own {
            return None;
        }
        Some(if rel.union.is_some() {
            json!({ target.as_str(): { "id": tid } })
        } else {
            json!({ "id": tid })
        })
    })
}

/// The models in an order that creates every required relation's targets first (otherwise the
/// schema's order); `ready`: models created already (the asset model).
fn creation_order<'s, 'm>(
    mut pending: Vec<&'s Shape<'m>>,
    mut ready: std::collections::BTreeSet<String>,
) -> Result<Vec<&'s Shape<'m>>, SeedError> {
    let mut order = Vec::new();
    while !pending.is_empty() {
        let next = pending.iter().position(|s| {
            required_relations(s.model).all(|f| {
                f.relation()
                    .is_some_and(|r| r.targets.iter().any(|t| ready.contains(t)))
            })
        });
        let Some(next) = next else {
            let cycle: Vec<String> = pending
                .iter()
                .flat_map(|s| {
                    required_relations(s.model).map(|f| format!("{}.{}", s.model.name, f.name))
                })
                .collect();
            return Err(SeedError::RequiredCycle(cycle.join(", ")));
        };
        let shape = pending.remove(next);
        ready.insert(shape.model.name.clone());
        order.push(shape);
    }
    Ok(order)
}

/// Creates the project in the endpoint behind `client`.
pub async fn seed(
    client: &Client,
    content: &ContentModel,
    spec: &ProjectSpec,
) -> Result<Project, SeedError> {
    let mut rng = Rng::new(spec.seed);
    let mut project = Project::default();
    let shapes: Vec<Shape<'_>> = content
        .models
        .iter()
        .map(|m| Shape::new(content, m))
        .collect();
    // Assets first: entries link to them.
    if let (Some(asset), Some(base)) = (content.asset_model(), &spec.file_base) {
        let mut ids = Vec::new();
        for n in 0..spec.assets {
            let url = format!("{base}/{n}.bin");
            let id = match asset.asset {
                Some(crate::model::AssetSystem::Legacy) => client
                    .post_form("upload", &[("url", &url)])
                    .await?
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => send_batch(
                    client,
                    &asset.name,
                    &[(
                        format!("create{}(data: $V) {{ id }}", asset.name),
                        format!("{}CreateInput!", asset.name),
                        json!({ "uploadUrl": url }),
                    )],
                )
                .await?
                .pop()
                .flatten(),
            };
            if let Some(id) = id {
                ids.push(id);
            }
        }
        project.requests += spec.assets as u64;
        project.ids.insert(asset.name.clone(), ids);
    }
    let entry_shapes = creation_order(
        shapes.iter().filter(|s| !s.is_asset()).collect(),
        project.ids.keys().cloned().collect(),
    )?;
    let per_model = (spec.entries / entry_shapes.len().max(1)).max(1);
    for shape in &entry_shapes {
        let name = &shape.model.name;
        let mut ids = Vec::new();
        let items: Vec<usize> = (0..per_model).collect();
        for chunk in items.chunks(BATCH) {
            let fields: Vec<(String, String, Value)> = chunk
                .iter()
                .map(|i| {
                    let mut data = entry_data(content, shape, *i, 0, true);
                    // Components with relations connect the entries created so far.
                    for f in shape
                        .plain
                        .iter()
                        .filter(|f| matches!(f.kind, FieldKind::Component { .. }))
                    {
                        let input = component_input(content, f, *i, 0, 0, Some(&project));
                        if !input.is_null() {
                            data[f.name.as_str()] = input;
                        }
                    }
                    // Required relations are connected in the create: their targets exist.
                    for f in required_relations(shape.model) {
                        if let Some(t) = target_for(f, &project, *i, None) {
                            let t = if f.list { json!([t]) } else { t };
                            data[f.name.as_str()] = json!({ "connect": t });
                        }
                    }
                    (
                        format!("create{name}(data: $V) {{ id }}"),
                        format!("{name}CreateInput!"),
                        data,
                    )
                })
                .collect();
            ids.extend(
                send_batch(client, name, &fields)
                    .await?
                    .into_iter()
                    .flatten(),
            );
            project.requests += 1;
        }
        project.ids.insert(name.clone(), ids);
    }
    // Relations, from the side that owns them.
    for shape in &entry_shapes {
        let name = &shape.model.name;
        let ids = project.ids[name].clone();
        let mut fields = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let mut data = Map::new();
            for f in &shape.owned {
                let FieldKind::Relation(rel) = &f.kind else {
                    continue;
                };
                if f.required {
                    continue; // connected in the create
                }
                let pick = |rng: &mut Rng| -> Option<Value> {
                    let target = &rel.targets[rng.below(rel.targets.len() as u64) as usize];
                    let pool = project.ids.get(target)?;
                    if pool.is_empty() {
                        return None;
                    }
                    let tid = &pool[rng.below(pool.len() as u64) as usize];
                    if tid == id {
                        return None;
                    }
                    Some(if rel.union.is_some() {
                        json!({ target.as_str(): { "id": tid } })
                    } else {
                        json!({ "id": tid })
                    })
                };
                if f.list {
                    let mut list: Vec<Value> = Vec::new();
                    for _ in 0..(1 + rng.below(3)) {
                        if let Some(t) = pick(&mut rng) {
                            if !list.contains(&t) {
                                list.push(t);
                            }
                        }
                    }
                    data.insert(f.name.clone(), json!({ "set": list }));
                } else if i % 7 != 3 {
                    if let Some(t) = pick(&mut rng) {
                        data.insert(f.name.clone(), json!({ "connect": t }));
                    }
                }
            }
            if i % 2 == 0 {
                embed_references(content, shape, &project, i, &mut data);
            }
            if !data.is_empty() {
                fields.push((
                    format!("update{name}(where: {{ id: \"{id}\" }}, data: $V) {{ id }}"),
                    format!("{name}UpdateInput!"),
                    Value::Object(data),
                ));
            }
            if fields.len() == BATCH {
                send_batch(client, name, &std::mem::take(&mut fields)).await?;
                project.requests += 1;
            }
        }
        if !fields.is_empty() {
            send_batch(client, name, &fields).await?;
            project.requests += 1;
        }
    }
    // Publication: assets all published; entries by share; some get a newer draft. Targets of
    // required relations are all published, so that every published entry's targets are.
    let locales = content.locales.join(", ");
    let required_targets: std::collections::BTreeSet<&str> = content
        .models
        .iter()
        .flat_map(required_relations)
        .chain(
            content
                .components
                .iter()
                .flat_map(|c| &c.fields)
                .filter(|f| f.required && f.relation().is_some()),
        )
        .filter_map(Field::relation)
        .flat_map(|r| r.targets.iter().map(String::as_str))
        .collect();
    for shape in &shapes {
        let name = &shape.model.name;
        let Some(ids) = project.ids.get(name) else {
            continue;
        };
        let mut publish = Vec::new();
        let mut edit = Vec::new();
        let always = shape.is_asset() || required_targets.contains(name.as_str());
        for (i, id) in ids.iter().enumerate() {
            if always || rng.percent(spec.published_percent) {
                publish.push(id.clone());
                if !shape.is_asset() && rng.percent(spec.newer_draft_percent) {
                    edit.push((i, id.clone()));
                }
            }
        }
        let loc = if shape.model.has_localized_fields() {
            format!(", locales: [{locales}]")
        } else {
            String::new()
        };
        for chunk in publish.chunks(BATCH) {
            let body: Vec<String> = chunk
                .iter()
                .enumerate()
                .map(|(n, id)| format!("p{n}: publish{name}(where: {{ id: \"{id}\" }}, to: [PUBLISHED]{loc}) {{ id }}"))
                .collect();
            let response = client
                .graphql(
                    &format!("mutation Publish {{ {} }}", body.join(" ")),
                    json!({}),
                    Idempotency::Safe,
                )
                .await?;
            if let Some(err) = response.errors.first() {
                return Err(SeedError::Write {
                    model: name.clone(),
                    message: err.message.clone(),
                });
            }
            project.requests += 1;
        }
        for chunk in edit.chunks(BATCH) {
            let fields: Vec<(String, String, Value)> = chunk
                .iter()
                .map(|(i, id)| {
                    (
                        format!("update{name}(where: {{ id: \"{id}\" }}, data: $V) {{ id }}"),
                        format!("{name}UpdateInput!"),
                        entry_data(content, shape, *i, 1, false),
                    )
                })
                .collect();
            send_batch(client, name, &fields).await?;
            project.requests += 1;
        }
    }
    Ok(project)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> ContentModel {
        let text = format!("locales = [\"en\"]\n{text}");
        crate::model::from_model_file(&text, "test.toml").expect("model")
    }

    fn order(content: &ContentModel) -> Result<Vec<String>, SeedError> {
        let shapes: Vec<Shape<'_>> = content
            .models
            .iter()
            .map(|m| Shape::new(content, m))
            .collect();
        creation_order(shapes.iter().collect(), Default::default())
            .map(|o| o.iter().map(|s| s.model.name.clone()).collect())
    }

    #[test]
    fn targets_of_required_relations_are_created_first() {
        let content = model(
            r#"
[[models]]
name = "Post"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "author", type = "Author", required = true, reverse = "posts" },
]

[[models]]
name = "Author"
fields = [
  { name = "name", type = "String", unique = true },
  { name = "posts", type = "Post", list = true, reverse = "author" },
]
"#,
        );
        assert_eq!(order(&content).unwrap(), ["Author", "Post"]);
    }

    #[test]
    fn a_cycle_of_required_relations_is_an_error_naming_its_fields() {
        let content = model(
            r#"
[[models]]
name = "Egg"
fields = [{ name = "hen", type = "Hen", required = true }]

[[models]]
name = "Hen"
fields = [{ name = "egg", type = "Egg", required = true }]
"#,
        );
        let err = order(&content).unwrap_err().to_string();
        assert!(err.contains("Egg.hen") && err.contains("Hen.egg"), "{err}");
    }
}
