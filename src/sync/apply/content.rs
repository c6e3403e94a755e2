//! Content phase: assets (their files by upload, adopted by their bytes after a lost answer),
//! then each entry's fields without relations — an update where the destination id is known,
//! an upsert by identity key, or (matched by `id`) an adoption or a create.

use std::collections::{BTreeMap, HashSet};

use serde_json::{json, Value};

use super::WORK_CHUNK;
use crate::hygraph::Idempotency;
use crate::sync::acks::refresh_publication;
use crate::sync::assets;
use crate::sync::engine::Engine;
use crate::sync::plan::{select, Sel, Work};
use crate::sync::write::{content_data, Op, OpKind, Outcome, UpsertCheck};
use crate::sync::SyncError;

impl Engine<'_> {
    /// Writes are built from the store chunk by chunk, so memory holds a few thousand
    /// mutations at most, whatever the size of the project.
    pub(super) async fn apply_content(&mut self, work: &[Work]) -> Result<(), SyncError> {
        for chunk in work.chunks(WORK_CHUNK) {
            self.apply_content_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn apply_content_chunk(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let default_locale = self.prepared.default_locale.clone();
        // Assets first: their files go by upload, one request each.
        let mut ops = Vec::new();
        let mut id_creates: Vec<(usize, String)> = Vec::new();
        let mut orphans: Option<assets::Orphans> = None;
        // What a checked upsert reads back, per model: one string shared by its ops.
        let answer_selects: Vec<std::sync::Arc<str>> = self
            .prepared
            .shapes
            .iter()
            .map(|shape| {
                let mut select = crate::sync::read::version_selection(shape, shape.content);
                if !self.prepared.stages.is_empty() {
                    select.push_str(&format!(
                        " documentInStages(stages: [{}]) {{ stage }}",
                        self.prepared.stages.join(", ")
                    ));
                }
                select.into()
            })
            .collect();
        for w in work.iter().filter(|w| w.content.is_some()) {
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let version = select(&entry, w.content.as_ref().unwrap_or(&Sel::Draft));
            if shape.is_asset() {
                let system = shape
                    .model
                    .asset
                    .unwrap_or(crate::model::AssetSystem::Legacy);
                let mut record = record;
                if record.dest_id.is_none() {
                    if orphans.is_none() {
                        orphans =
                            Some(assets::Orphans::find(self.dest, shape.model, self.store).await?);
                    }
                    if let (Some(o), Some(url)) = (orphans.as_mut(), version.file.as_deref()) {
                        if let Some(adopted) = o.adopt(self.dest, url).await {
                            record.dest_id = Some(adopted);
                            record.acked.file = version.file.clone();
                            record.acked.stages = None;
                            self.store
                                .commit_acks(&[(&shape.model.name, &w.id, &record)])?;
                            self.record.models[w.model].created += 1;
                        }
                    }
                }
                match assets::sync_file(
                    self.dest,
                    system,
                    &shape.model.name,
                    &w.id,
                    &record,
                    version,
                )
                .await?
                {
                    Ok(dest_id) => {
                        if record.dest_id.as_deref() != Some(dest_id.as_str())
                            || record.acked.file != version.file
                        {
                            // The upload is acknowledged: remember it before anything else.
                            let mut rec = record.clone();
                            if rec.dest_id.is_none() {
                                rec.acked.stages = Some(Vec::new());
                                rec.acked.published.clear();
                                refresh_publication(&mut rec.acked, &self.prepared.stages);
                                rec.acked.edges = None;
                                self.record.models[w.model].created += 1;
                            }
                            rec.dest_id = Some(dest_id.clone());
                            rec.acked.file = version.file.clone();
                            self.store
                                .commit_acks(&[(&shape.model.name, &w.id, &rec)])?;
                        }
                        let data = content_data(shape, version, &default_locale, false, &[]);
                        ops.push((
                            w.model,
                            Op {
                                model: shape.model.name.clone(),
                                source_id: w.id.clone(),
                                kind: OpKind::Update { dest_id, data },
                            },
                        ));
                    }
                    Err(message) => self.fail(w.model, &w.id, "assets", message),
                }
                continue;
            }
            let kind = match &record.dest_id {
                Some(dest_id) => OpKind::Update {
                    dest_id: dest_id.clone(),
                    data: content_data(
                        shape,
                        version,
                        &default_locale,
                        false,
                        &record.acked.locales,
                    ),
                },
                None => {
                    let key = &self.prepared.identity[w.model];
                    let key_value = if key == "id" {
                        None
                    } else {
                        version
                            .fields
                            .get(key)
                            .or_else(|| {
                                version
                                    .locales
                                    .get(&default_locale)
                                    .and_then(|l| l.get(key))
                            })
                            .filter(|v| !v.is_null())
                            .cloned()
                    };
                    match key_value {
                        Some(value) => OpKind::Upsert {
                            key: key.clone(),
                            value,
                            create: content_data(shape, version, &default_locale, true, &[]),
                            // Built only if a follow-up needs it (see `UpsertHooks::update`).
                            update: if shape.is_asset() {
                                content_data(shape, version, &default_locale, false, &[])
                            } else {
                                Value::Null
                            },
                            check: (!shape.is_asset()).then(|| {
                                let skip = version.written_with_edges();
                                Box::new(UpsertCheck {
                                    select: answer_selects[w.model].clone(),
                                    locales: self.prepared.locales_for(shape),
                                    content: version.content_hash_without(&skip),
                                    skip,
                                    existing: false,
                                    stages: None,
                                })
                            }),
                        },
                        None => {
                            id_creates.push((w.model, w.id.clone()));
                            continue;
                        }
                    }
                }
            };
            ops.push((
                w.model,
                Op {
                    model: shape.model.name.clone(),
                    source_id: w.id.clone(),
                    kind,
                },
            ));
        }
        // Entries matched by `id`: adopt those the destination already holds (a cloned
        // environment), create the rest.
        let adopted = self.adopt_by_id(&id_creates).await?;
        for (m, id) in id_creates {
            let shape = &self.prepared.shapes[m];
            let (_, entry) = self.load(m, &id)?;
            let sel = work
                .iter()
                .find(|w| w.model == m && w.id == id)
                .and_then(|w| w.content.clone())
                .unwrap_or(Sel::Draft);
            let version = select(&entry, &sel);
            let kind = if adopted.contains(&(m, id.clone())) {
                OpKind::Update {
                    dest_id: id.clone(),
                    data: content_data(shape, version, &default_locale, false, &[]),
                }
            } else {
                OpKind::Create {
                    data: content_data(shape, version, &default_locale, true, &[]),
                }
            };
            ops.push((
                m,
                Op {
                    model: shape.model.name.clone(),
                    source_id: id,
                    kind,
                },
            ));
        }
        let sels: BTreeMap<(usize, String), Sel> = work
            .iter()
            .filter_map(|w| w.content.clone().map(|s| ((w.model, w.id.clone()), s)))
            .collect();
        let run = self.checkpoint.run;
        self.run_ops("content", ops, move |engine, m, op, outcome| {
            let Outcome::Done(returned) = outcome else {
                return Ok(None);
            };
            let (mut record, entry) = engine.load(m, &op.source_id)?;
            let sel = sels
                .get(&(m, op.source_id.clone()))
                .cloned()
                .unwrap_or(Sel::Draft);
            let version = select(&entry, &sel);
            // An upsert whose answer showed an entry the destination already held (after a lost
            // store) is adopted: what it holds beyond its content is not known to be empty.
            let adopted = match &op.kind {
                OpKind::Upsert { check: Some(c), .. } if c.existing => Some(c),
                _ => None,
            };
            let created = record.dest_id.is_none() && adopted.is_none();
            if let (Some(check), None) = (adopted, &record.dest_id) {
                // Publication as the answer showed it; the versions there are unknown.
                record.acked.stages = if engine.prepared.stages.is_empty() {
                    Some(Vec::new())
                } else {
                    check.stages.clone()
                };
                record.acked.published.clear();
                refresh_publication(&mut record.acked, &engine.prepared.stages);
            }
            match (&op.kind, returned) {
                (OpKind::Update { dest_id, .. }, _) => record.dest_id = Some(dest_id.clone()),
                (_, Some(id)) => record.dest_id = Some(id.clone()),
                (_, None) => return Ok(None),
            }
            if created {
                // A new entry holds no relations and is in no other stage. (An upsert that met
                // an existing entry holding exactly the source's content and nothing else is
                // indistinguishable from a new one, and needs nothing else either.)
                record.acked.stages = Some(Vec::new());
                record.acked.published.clear();
                refresh_publication(&mut record.acked, &engine.prepared.stages);
            }
            record.acked.content = Some(version.content_hash());
            record.acked.locales = version.locales.keys().cloned().collect();
            record.acked_run = run;
            if created {
                engine.record.models[m].created += 1;
            } else {
                engine.record.models[m].updated += 1;
            }
            Ok(Some(record))
        })
        .await
    }

    async fn adopt_by_id(
        &mut self,
        creates: &[(usize, String)],
    ) -> Result<HashSet<(usize, String)>, SyncError> {
        let mut adopted = HashSet::new();
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let ids: Vec<&String> = creates
                .iter()
                .filter(|(mm, _)| *mm == m)
                .map(|(_, id)| id)
                .collect();
            for chunk in ids.chunks(100) {
                let query = format!(
                    "query StagesyncAdopt($ids: [ID!]) {{ found: {}(where: {{ id_in: $ids }}, stage: DRAFT, first: 100) {{ id }} }}",
                    shape.model.plural
                );
                let response = self
                    .dest
                    .graphql(&query, json!({ "ids": chunk }), Idempotency::Safe)
                    .await
                    .map_err(|source| SyncError::client(self.dest.name().to_owned(), source))?;
                if let Some(list) = response
                    .data
                    .as_ref()
                    .and_then(|d| d.get("found"))
                    .and_then(Value::as_array)
                {
                    for item in list {
                        if let Some(id) = item.get("id").and_then(Value::as_str) {
                            adopted.insert((m, id.to_owned()));
                        }
                    }
                }
            }
        }
        Ok(adopted)
    }
}
