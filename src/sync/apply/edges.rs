//! Edges phase: each changed relation field's ordered target list, written once every target
//! has a destination id; the newer-draft pass (content and edges of the draft after the rounds
//! of the published versions); and the restore of targets a round took from their owners.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::WORK_CHUNK;
use crate::sync::engine::Engine;
use crate::sync::plan::{rounds_done, select, Sel, Work};
use crate::sync::write::{content_data, edges_data, merge_data, Op, OpKind, Outcome};
use crate::sync::SyncError;

impl Engine<'_> {
    pub(in crate::sync) async fn apply_edges(
        &mut self,
        work: &[Work],
        drafts: bool,
    ) -> Result<(), SyncError> {
        // Draft versions first, then the versions the first rounds publish. Both can hold a
        // target of a relation whose targets have one owner (an event moved to another
        // conference in the draft, still in its old one's published version): whichever is
        // written last holds it. The round's version must, until it is published; the draft
        // owner gets it back afterwards (`restore_taken`). Batches run concurrently, so the
        // two are separate passes.
        let passes: &[bool] = if drafts { &[false] } else { &[false, true] };
        for &rounds in passes {
            for chunk in work.chunks(WORK_CHUNK) {
                self.apply_edges_chunk(chunk, drafts, rounds).await?;
            }
        }
        Ok(())
    }

    /// Relation edges of each entry that needs them (`drafts`: the newer-draft pass after
    /// publication, content and edges together; else `rounds`: the entries whose edges come
    /// from a non-draft stage's version, or those whose edges come from the draft).
    async fn apply_edges_chunk(
        &mut self,
        work: &[Work],
        drafts: bool,
        rounds: bool,
    ) -> Result<(), SyncError> {
        let default_locale = self.prepared.default_locale.clone();
        let mut ops = Vec::new();
        for w in work {
            let sel = if drafts {
                if !w.drafts {
                    continue;
                }
                Sel::Draft
            } else {
                match &w.edges {
                    Some(sel) if matches!(sel, Sel::Stage(_)) == rounds => sel.clone(),
                    _ => continue,
                }
            };
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let Some(dest_id) = record.dest_id.clone() else {
                continue; // its content write failed; reported there
            };
            if drafts && !rounds_done(&entry, &record.acked, &self.prepared.stages, w) {
                continue; // not published this run; the next run redoes the missing rounds
            }
            let version = select(&entry, &sel);
            let fresh = record.acked.edges.is_none() && record.acked.stages.as_deref() == Some(&[]);
            let store = self.store;
            let edges = edges_data(shape, version, fresh, |ty, id| {
                Ok(store.node(ty, id)?.and_then(|r| r.dest_id))
            })?;
            let mut data = match edges {
                Ok(Value::Object(d)) => d,
                Ok(_) => unreachable!("edges_data returns an object"),
                Err(message) => {
                    self.fail(
                        w.model,
                        &w.id,
                        if drafts { "drafts" } else { "edges" },
                        message,
                    );
                    continue;
                }
            };
            // The newer draft's content, unless the destination's draft already holds it (only
            // its relations are newer): a component field in it would cost a read first.
            if drafts && record.acked.content != Some(version.content_hash()) {
                if let Value::Object(content) = content_data(
                    shape,
                    version,
                    &default_locale,
                    false,
                    &record.acked.locales,
                ) {
                    merge_data(&mut data, content);
                }
            }
            if data.is_empty() {
                // Nothing to write (a new entry without relations): acknowledge directly.
                let mut record = record;
                record.acked.edges = Some(version.edges_hash());
                self.store
                    .commit_acks(&[(&shape.model.name, &w.id, &record)])?;
                continue;
            }
            ops.push((
                w.model,
                Op {
                    model: shape.model.name.clone(),
                    source_id: w.id.clone(),
                    kind: OpKind::Update {
                        dest_id,
                        data: Value::Object(data),
                    },
                },
            ));
        }
        let sels: BTreeMap<(usize, String), Sel> = work
            .iter()
            .filter_map(|w| {
                let sel = if drafts {
                    w.drafts.then_some(Sel::Draft)
                } else {
                    w.edges.clone()
                };
                sel.map(|s| ((w.model, w.id.clone()), s))
            })
            .collect();
        let run = self.checkpoint.run;
        self.run_ops(
            if drafts { "drafts" } else { "edges" },
            ops,
            move |engine, m, op, outcome| {
                let Outcome::Done(_) = outcome else {
                    return Ok(None);
                };
                let (mut record, entry) = engine.load(m, &op.source_id)?;
                let version = select(&entry, &sels[&(m, op.source_id.clone())]);
                record.acked.edges = Some(version.edges_hash());
                if drafts {
                    record.acked.content = Some(version.content_hash());
                    record.acked.locales = version.locales.keys().cloned().collect();
                } else {
                    engine.record.models[m].edges += 1;
                }
                record.acked_run = run;
                Ok(Some(record))
            },
        )
        .await
    }

    /// A round writes a non-draft version into the destination's draft. Where that version
    /// holds targets of a relation whose targets have one owner (an event's `talks`, a
    /// conference's `events`), writing it took them from their draft owners, and writing the
    /// draft afterwards does not give them back. Once the drafts are written, the draft
    /// relations of those targets' owners in the source are written again.
    pub(in crate::sync) async fn restore_taken(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let mut taken = BTreeSet::new();
        for w in work.iter().filter(|w| w.drafts) {
            let shape = &self.prepared.shapes[w.model];
            let (_, entry) = self.load(w.model, &w.id)?;
            for f in shape.single_owner() {
                let draft = entry.draft.edges.get(&f.name);
                for t in entry
                    .stages
                    .values()
                    .filter_map(|v| v.edges.get(&f.name))
                    .flatten()
                {
                    if draft.is_some_and(|d| d.contains(t)) {
                        continue;
                    }
                    if let Some((ty, id)) = t.split_once(':') {
                        if let Some(m) = self.model_index(ty) {
                            taken.insert((m, id.to_owned()));
                        }
                    }
                }
            }
        }
        if taken.is_empty() {
            return Ok(());
        }
        let taken: Vec<(usize, String)> = taken.into_iter().collect();
        let mut restore = Vec::new();
        for (m, id) in self.owners_of(&taken).await?.into_keys() {
            if self.dest_id(m, &id).is_some()
                && self
                    .store
                    .has_snapshot(&self.prepared.shapes[m].model.name, &id)?
            {
                let mut w = Work::new(m, id, Vec::new());
                w.edges = Some(Sel::Draft);
                restore.push(w);
            }
        }
        self.apply_edges(&restore, false).await
    }
}
