//! Content phase: assets (their files by upload, adopted by their bytes after a lost answer),
//! then each entry's fields without relations — an update where the destination id is known,
//! an upsert by identity key, or (matched by `id`) an adoption or a create. A create also
//! connects the entry's required relations, whose targets were written first (see `order`).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde_json::{json, Value};

use super::WORK_CHUNK;
use crate::hygraph::Idempotency;
use crate::store::NodeRecord;
use crate::sync::acks::refresh_publication;
use crate::sync::assets;
use crate::sync::canonical::Version;
use crate::sync::engine::Engine;
use crate::sync::journal;
use crate::sync::plan::{select, Sel, Work};
use crate::sync::write::{
    content_data, required_connects, Op, OpKind, Outcome, Unconnected, UpsertCheck,
};
use crate::sync::SyncError;

impl Engine<'_> {
    /// Writes are built from the store chunk by chunk, so memory holds a few thousand
    /// mutations at most, whatever the size of the project.
    ///
    /// Level by level (see `order`): assets, then each model after the targets of its
    /// required relations, so that a create can connect them by their destination ids.
    pub(super) async fn apply_content(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let levels = &self.prepared.levels;
        let mut order: Vec<usize> = work
            .iter()
            .filter(|w| w.content.is_some())
            .map(|w| levels[w.model])
            .collect();
        order.sort_unstable();
        order.dedup();
        for level in order {
            let at: Vec<&Work> = work
                .iter()
                .filter(|w| w.content.is_some() && levels[w.model] == level)
                .collect();
            for chunk in at.chunks(WORK_CHUNK) {
                self.apply_content_chunk(chunk).await?;
            }
        }
        Ok(())
    }

    /// One chunk: each entry's write (an asset's file first, by upload), then the writes of
    /// entries matched by `id`; sent in batches, each acknowledged write committed.
    async fn apply_content_chunk(&mut self, work: &[&Work]) -> Result<(), SyncError> {
        // Creates an earlier run sent without committing their answers: adopted, not repeated.
        journal::resolve(self.dest, self.prepared, self.store).await?;
        let selects = self.answer_selects();
        let mut ops = Vec::new();
        let mut by_id: Vec<(usize, String)> = Vec::new();
        let mut orphans: Option<assets::Orphans> = None;
        for w in work.iter().copied().filter(|w| w.content.is_some()) {
            let (record, entry) = self.load(w.model, &w.id)?;
            let version = select(&entry, w.content.as_ref().unwrap_or(&Sel::Draft));
            if self.prepared.shapes[w.model].is_asset() {
                ops.extend(self.asset_write(w, record, version, &mut orphans).await?);
                continue;
            }
            match self.entry_write(w, &record, version, &selects) {
                Ok(Some(kind)) => ops.push((w.model, self.op(w.model, &w.id, kind))),
                Ok(None) => by_id.push((w.model, w.id.clone())),
                Err(message) => self.fail(w.model, &w.id, "content", message),
            }
        }
        let (id_ops, creates) = self.id_writes(work, by_id).await?;
        ops.extend(id_ops);
        let sels: BTreeMap<(usize, String), Sel> = work
            .iter()
            .filter_map(|w| w.content.clone().map(|s| ((w.model, w.id.clone()), s)))
            .collect();
        // Writes that create entries are journaled before they are sent (see `journal`).
        let journaled = journal::of_ops(ops.iter().map(|(_, op)| op), creates);
        journal::record(self.store, &journaled)?;
        self.run_ops("content", ops, move |engine, m, op, outcome| {
            engine.ack_content(m, op, outcome, &sels)
        })
        .await?;
        // Every write of the chunk has its outcome: acknowledged, or failed for sure (a write
        // whose fate is unknown fails the run before this). Nothing of it is pending any more.
        journal::forget(self.store, &journaled)
    }

    fn op(&self, m: usize, id: &str, kind: OpKind) -> Op {
        Op {
            model: self.prepared.shapes[m].model.name.clone(),
            source_id: id.to_owned(),
            kind,
        }
    }

    /// What a checked upsert reads back, per model: one string shared by its ops (a fragment
    /// of each batch). A model too wide for its answer to fit in half the destination's query
    /// size limit reads back no content: its upserts cannot tell a fresh create from an entry
    /// the destination held, so each is followed by an update of the whole entry (one more
    /// mutation per entry, never a wrong acknowledgement).
    fn answer_selects(&self) -> Vec<(Arc<str>, bool)> {
        let budget = self.config.destination.max_query_bytes / 2;
        self.prepared
            .shapes
            .iter()
            .map(|shape| {
                let mut select = crate::sync::read::version_selection(shape, shape.content);
                let reads_content = select.len() <= budget;
                if !reads_content {
                    tracing::info!(
                        model = %shape.model.name,
                        bytes = select.len(),
                        "the model is too wide to read back an upsert's answer within the \
                         query size limit: its upserts are followed by an update"
                    );
                    select.clear();
                }
                if !self.prepared.stages.is_empty() {
                    select.push_str(&format!(
                        " documentInStages(stages: [{}]) {{ stage }}",
                        self.prepared.stages.join(", ")
                    ));
                }
                (select.into(), reads_content)
            })
            .collect()
    }

    /// An asset's file goes by upload (one request each), adopting an orphan holding the same
    /// bytes where the store has no destination id; the acknowledged upload is committed at
    /// once, and its other fields are then an update like any entry's. `None`: failed, reported.
    async fn asset_write(
        &mut self,
        w: &Work,
        mut record: NodeRecord,
        version: &Version,
        orphans: &mut Option<assets::Orphans>,
    ) -> Result<Option<(usize, Op)>, SyncError> {
        let prepared = self.prepared;
        let shape = &prepared.shapes[w.model];
        let system = shape
            .model
            .asset
            .unwrap_or(crate::model::AssetSystem::Legacy);
        if record.dest_id.is_none() {
            if orphans.is_none() {
                *orphans = Some(assets::Orphans::find(self.dest, shape.model, self.store).await?);
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
        let mut tries = 0;
        let synced = loop {
            let result = assets::sync_file(
                self.dest,
                self.store,
                system,
                &shape.model.name,
                &w.id,
                &record,
                version,
            )
            .await;
            match result {
                Err(e) if e.answer_lost() && tries < self.dest.max_retries() => {
                    // An upload whose answer was lost may have landed: the journal's lookup (by
                    // the file's bytes, among the assets created since it was recorded) adopts
                    // it, or finishes a carrier's swap; what did not land is uploaded again.
                    tries += 1;
                    tracing::info!(model = %shape.model.name, source_id = %w.id, error = %e,
                        "an asset upload's answer was lost: looking it up before sending it again");
                    journal::resolve(self.dest, prepared, self.store).await?;
                    if let Some(now) = self.store.node(&shape.model.name, &w.id)? {
                        if let (None, Some(adopted)) = (&record.dest_id, &now.dest_id) {
                            self.record.models[w.model].created += 1;
                            if system == crate::model::AssetSystem::UploadUrl {
                                // Its answer was lost before the wait for its file: wait now.
                                assets::wait_complete(self.dest, &shape.model.name, adopted, &w.id)
                                    .await?;
                            }
                        }
                        record = now;
                    }
                }
                other => break other?,
            }
        };
        let dest_id = match synced {
            Ok(dest_id) => {
                super::crash_point("upload");
                dest_id
            }
            Err(message) => {
                self.fail(w.model, &w.id, "assets", message);
                return Ok(None);
            }
        };
        if record.dest_id.as_deref() != Some(dest_id.as_str()) || record.acked.file != version.file
        {
            // The upload is acknowledged: remember it before anything else.
            if record.dest_id.is_none() {
                record.acked.stages = Some(Vec::new());
                record.acked.published.clear();
                refresh_publication(&mut record.acked, &prepared.stages);
                record.acked.edges = None;
                self.record.models[w.model].created += 1;
            }
            record.dest_id = Some(dest_id.clone());
            record.acked.file = version.file.clone();
            self.store
                .commit_acks(&[(&shape.model.name, &w.id, &record)])?;
        }
        let data = content_data(shape, version, &prepared.default_locale, false, &[]);
        let op = self.op(w.model, &w.id, OpKind::Update { dest_id, data });
        Ok(Some((w.model, op)))
    }

    /// The write of an entry that is not an asset: an update where its destination id is
    /// known, else an upsert by its identity key. `None`: matched by `id` (or its key is
    /// null), see [`Self::id_writes`]. `Err`: it cannot be created (see [`Self::create_data`]).
    fn entry_write(
        &self,
        w: &Work,
        record: &NodeRecord,
        version: &Version,
        selects: &[(Arc<str>, bool)],
    ) -> Result<Option<OpKind>, String> {
        let shape = &self.prepared.shapes[w.model];
        let locale = &self.prepared.default_locale;
        if let Some(dest_id) = &record.dest_id {
            return Ok(Some(OpKind::Update {
                dest_id: dest_id.clone(),
                data: content_data(shape, version, locale, false, &record.acked.locales),
            }));
        }
        let key = &self.prepared.identity[w.model];
        if key == "id" {
            return Ok(None);
        }
        let Some(value) = version
            .fields
            .get(key)
            .or_else(|| version.locales.get(locale).and_then(|l| l.get(key)))
            .filter(|v| !v.is_null())
            .cloned()
        else {
            return Ok(None);
        };
        let skip = version.written_with_edges();
        let (create, connected) = self.create_data(w.model, version)?;
        Ok(Some(OpKind::Upsert {
            key: key.clone(),
            value,
            create,
            // Built only if a follow-up needs it (see `UpsertHooks::update`).
            update: Value::Null,
            check: Some(Box::new(UpsertCheck {
                select: selects[w.model].0.clone(),
                reads_content: selects[w.model].1,
                locales: self.prepared.locales_for(shape),
                content: version.content_hash_without(&skip),
                skip,
                connected,
                existing: false,
                stages: None,
            })),
        }))
    }

    /// A create's data: the version's content, and each required relation connected to its
    /// targets' destination ids (Hygraph refuses a create without them; the edges phase then
    /// writes the relation as usual). Also returns the connected targets as the answer shows
    /// them (`Type:destinationId` per field). `Err`: a target without a destination id, named.
    fn create_data(
        &self,
        m: usize,
        version: &Version,
    ) -> Result<(Value, BTreeMap<String, Vec<String>>), String> {
        let shape = &self.prepared.shapes[m];
        let mut data = content_data(shape, version, &self.prepared.default_locale, true, &[]);
        let connects = required_connects(&self.prepared.required[m], version, |ty, id| {
            self.required_target(ty, id)
        });
        let (inputs, connected) = match connects {
            Ok(c) => c,
            Err(Unconnected::NoTarget { field }) => {
                return Err(format!(
                    "{}.{field} is a required relation, and the source's version of this entry \
                     has no target for it: the destination refuses to create it without one",
                    shape.model.name
                ))
            }
            Err(Unconnected::Missing { field, ty, id }) => {
                return Err(format!(
                    "{}.{field} is a required relation, and its target {ty} {id} is not in the \
                     destination ({}): the entry cannot be created before it; the next run \
                     retries",
                    shape.model.name,
                    self.why_missing(&ty, &id)
                ))
            }
        };
        if let Value::Object(d) = &mut data {
            d.extend(inputs);
        }
        Ok((data, connected))
    }

    /// The destination id of a required relation's target, from the store.
    fn required_target(&self, ty: &str, id: &str) -> Option<String> {
        let m = self.model_index(ty)?;
        self.dest_id(m, id)
    }

    /// Why a required relation's target has no destination id: for the entry's failure.
    fn why_missing(&self, ty: &str, id: &str) -> String {
        match self.model_index(ty) {
            None => {
                format!("{ty} is not synced: add it to `models` (or take it out of `skip_models`)")
            }
            Some(m) if self.has_failed(m, id) => {
                "it failed in this run, see its own failure".to_owned()
            }
            Some(_) => "the source's synced content does not hold it".to_owned(),
        }
    }

    /// Entries matched by `id`: adopt those the destination already holds (a cloned
    /// environment), create the rest.
    async fn id_writes(
        &mut self,
        work: &[&Work],
        by_id: Vec<(usize, String)>,
    ) -> Result<(Vec<(usize, Op)>, Vec<journal::Pending>), SyncError> {
        let adopted = self.adopt_by_id(&by_id).await?;
        let prepared = self.prepared;
        let locale = &prepared.default_locale;
        let mut ops = Vec::new();
        let mut creates = Vec::new();
        for (m, id) in by_id {
            let shape = &prepared.shapes[m];
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
                    data: content_data(shape, version, locale, false, &[]),
                }
            } else {
                match self.create_data(m, version) {
                    Ok((data, _)) => {
                        creates.push(journal::create(&shape.model.name, &id, version));
                        OpKind::Create { data }
                    }
                    Err(message) => {
                        self.fail(m, &id, "content", message);
                        continue;
                    }
                }
            };
            ops.push((m, self.op(m, &id, kind)));
        }
        Ok((ops, creates))
    }

    /// Acknowledges one content write: the destination id it answered with (or was sent to),
    /// the content and locales now held; a new entry holds no relations and no other stage.
    fn ack_content(
        &mut self,
        m: usize,
        op: &Op,
        outcome: &Outcome,
        sels: &BTreeMap<(usize, String), Sel>,
    ) -> Result<Option<NodeRecord>, SyncError> {
        let Outcome::Done(returned) = outcome else {
            return Ok(None);
        };
        let (mut record, entry) = self.load(m, &op.source_id)?;
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
            record.acked.stages = if self.prepared.stages.is_empty() {
                Some(Vec::new())
            } else {
                check.stages.clone()
            };
            record.acked.published.clear();
            refresh_publication(&mut record.acked, &self.prepared.stages);
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
            refresh_publication(&mut record.acked, &self.prepared.stages);
        }
        record.acked.content = Some(version.content_hash());
        record.acked.locales = version.locales.keys().cloned().collect();
        record.acked_run = self.checkpoint.run;
        if created {
            self.record.models[m].created += 1;
        } else {
            self.record.models[m].updated += 1;
        }
        Ok(Some(record))
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
