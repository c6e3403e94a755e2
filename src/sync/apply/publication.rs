//! Publication phase: publish and unpublish per stage, the later rounds (other stages'
//! versions), the stages holding the newer draft's version, and the check of published
//! relations that publishing related entries changed as a side effect.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{listed, WORK_CHUNK};
use crate::hygraph::Idempotency;
use crate::store::NodeRecord;
use crate::sync::acks::{held, key, refresh_publication, set_stage};
use crate::sync::canonical::Version;
use crate::sync::engine::Engine;
use crate::sync::plan::{plan_publication, Work};
use crate::sync::write::{Op, OpKind, Outcome};
use crate::sync::SyncError;

impl Engine<'_> {
    async fn apply_publication(&mut self, work: &[Work]) -> Result<(), SyncError> {
        for chunk in work.chunks(WORK_CHUNK) {
            self.apply_publication_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn apply_publication_chunk(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let mut ops = Vec::new();
        // One op per entry per request set (each op's ack is read from and written to the
        // store): an entry that publishes and unpublishes unpublishes afterwards.
        let mut then = Vec::new();
        for w in work
            .iter()
            .filter(|w| !w.publish.is_empty() || !w.unpublish.is_empty())
        {
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let Some(dest_id) = record.dest_id.clone() else {
                continue;
            };
            let op = |kind| Op {
                model: shape.model.name.clone(),
                source_id: w.id.clone(),
                kind,
            };
            let unpublish = (!w.unpublish.is_empty()).then(|| {
                (
                    w.model,
                    op(OpKind::Unpublish {
                        dest_id: dest_id.clone(),
                        from: w.unpublish.clone(),
                    }),
                )
            });
            // Every stage of `publish` holds the same version.
            let Some(version) = w.publish.first().and_then(|s| entry.stages.get(s)) else {
                ops.extend(unpublish);
                continue;
            };
            // Publish only what this run wrote and the destination acknowledged.
            if record.acked.content != Some(version.content_hash())
                || record.acked.edges != Some(version.edges_hash())
            {
                self.fail(
                    w.model,
                    &w.id,
                    "publication",
                    format!(
                        "not published to {}: its content or relations were not written",
                        w.publish.join(", ")
                    ),
                );
                continue;
            }
            let locales = shape
                .model
                .has_localized_fields()
                .then(|| version.locales.keys().cloned().collect::<Vec<_>>())
                .filter(|l| !l.is_empty());
            ops.push((
                w.model,
                op(OpKind::Publish {
                    dest_id,
                    to: w.publish.clone(),
                    locales,
                }),
            ));
            then.extend(unpublish);
        }
        self.run_ops("publication", ops, Self::ack_publication)
            .await?;
        self.run_ops("publication", then, Self::ack_publication)
            .await
    }

    /// Acknowledges a publish or unpublish, stage by stage.
    fn ack_publication(
        &mut self,
        m: usize,
        op: &Op,
        outcome: &Outcome,
    ) -> Result<Option<NodeRecord>, SyncError> {
        let Outcome::Done(_) = outcome else {
            return Ok(None);
        };
        let (mut record, entry) = self.load(m, &op.source_id)?;
        let configured = &self.prepared.stages;
        match &op.kind {
            OpKind::Publish { to, .. } => {
                self.record.models[m].published += 1;
                self.touched.push((m, op.source_id.clone()));
                for stage in to {
                    if let Some(v) = entry.stages.get(stage) {
                        set_stage(&mut record.acked, configured, stage, Some(key(v)));
                    }
                }
            }
            OpKind::Unpublish { from, .. } => {
                self.record.models[m].unpublished += 1;
                self.touched.push((m, op.source_id.clone()));
                for stage in from {
                    set_stage(&mut record.acked, configured, stage, None);
                }
            }
            _ => return Ok(None),
        }
        refresh_publication(&mut record.acked, configured);
        record.acked_run = self.checkpoint.run;
        Ok(Some(record))
    }

    /// Round 1 of every entry (content, edges, publication), then round 2 of every entry, ...
    pub(in crate::sync) async fn apply_rounds(&mut self, work: &[Work]) -> Result<(), SyncError> {
        self.apply_content(work).await?;
        self.apply_edges(work, false).await?;
        self.apply_publication(work).await?;
        for i in 0.. {
            let round: Vec<Work> = work
                .iter()
                .filter_map(|w| {
                    let r = w.rounds.get(i)?;
                    // A failed entry stops here: its later rounds would only fail again.
                    if self.has_failed(w.model, &w.id) {
                        return None;
                    }
                    let mut next = Work::new(w.model, w.id.clone(), Vec::new());
                    next.content = r.content.then(|| r.sel.clone());
                    next.edges = r.edges.then(|| r.sel.clone());
                    next.publish = r.to.clone();
                    Some(next)
                })
                .collect();
            if round.is_empty() {
                break;
            }
            self.apply_content(&round).await?;
            self.apply_edges(&round, false).await?;
            self.apply_publication(&round).await?;
        }
        Ok(())
    }

    /// Publishes the stages holding the draft's version, once the draft is written after the
    /// rounds of the other versions.
    pub(in crate::sync) async fn apply_draft_publication(
        &mut self,
        work: &[Work],
    ) -> Result<(), SyncError> {
        let mut pending = Vec::new();
        for w in work
            .iter()
            .filter(|w| w.drafts && !w.publish_drafts.is_empty())
        {
            let (record, entry) = self.load(w.model, &w.id)?;
            if record.acked.content != Some(entry.draft.content_hash())
                || record.acked.edges != Some(entry.draft.edges_hash())
            {
                continue; // the draft was not written: reported where it failed, or left for the next run
            }
            let mut next = Work::new(w.model, w.id.clone(), Vec::new());
            next.publish = w.publish_drafts.clone();
            pending.push(next);
        }
        self.apply_publication(&pending).await
    }

    /// Reads the destination's stage versions of the entries marked `check` and compares their
    /// relation targets with the source's, stage by stage; acknowledges the stages that match
    /// and returns the entries with others as republish work. A stage version holding values
    /// written with the edges (rich text with references, components holding relations) that
    /// changed since acknowledged is republished without comparing: those values are not read.
    pub(in crate::sync) async fn check_published(
        &mut self,
        work: &[Work],
    ) -> Result<Vec<Work>, SyncError> {
        let mut republish = Vec::new();
        let configured = self.prepared.stages.clone();
        if configured.is_empty() {
            return Ok(republish);
        }
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let checks: Vec<&Work> = work.iter().filter(|w| w.check && w.model == m).collect();
            if checks.is_empty() {
                continue;
            }
            self.set_phase("check", &shape.model.name)?;
            let locales = self.prepared.locales_for(shape);
            // Only relation targets are compared: only they are read (within the query limit).
            let selection = crate::sync::read::edges_selection(shape, self.prepared.content);
            for chunk in checks.chunks(crate::sync::read::PAGE_SIZE) {
                let mut by_dest = BTreeMap::new();
                for w in chunk {
                    if let Some(dest) = self.dest_id(m, &w.id) {
                        by_dest.insert(dest, *w);
                    }
                }
                let ids: Vec<&String> = by_dest.keys().collect();
                let query = format!(
                    "query StagesyncCheck($ids: [ID!], $locales: [Locale!]!) {{ list: {}(where: {{ id_in: $ids }}, stage: DRAFT, first: {}, locales: $locales) {{ id documentInStages(stages: [{}], includeCurrent: false) {{ stage {selection} }} }} }}",
                    shape.model.plural,
                    crate::sync::read::PAGE_SIZE,
                    configured.join(", "),
                );
                let response = self
                    .dest
                    .graphql(
                        &query,
                        json!({ "ids": ids, "locales": locales }),
                        Idempotency::Safe,
                    )
                    .await
                    .map_err(|source| SyncError::client(self.dest.name().to_owned(), source))?;
                // (destination id, stage) → version there.
                let mut dest_versions = BTreeMap::new();
                for node in listed(&response.data) {
                    let Some(id) = node.get("id").and_then(Value::as_str) else {
                        continue;
                    };
                    for doc in node
                        .get("documentInStages")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(stage) = doc.get("stage").and_then(Value::as_str) else {
                            continue;
                        };
                        let v = Version::from_node(
                            shape,
                            doc,
                            &self.prepared.default_locale,
                            &locales,
                        )?;
                        dest_versions.insert((id.to_owned(), stage.to_owned()), v);
                    }
                }
                for (dest_id, w) in by_dest {
                    let (mut record, entry) = self.load(m, &w.id)?;
                    let before = held(&record.acked, &configured);
                    let mut mismatched = Vec::new();
                    for (stage, version) in &entry.stages {
                        let mut expected = BTreeMap::new();
                        for (field, targets) in &version.edges {
                            let mut mapped = Vec::new();
                            for t in targets {
                                let (ty, id) = t.split_once(':').unwrap_or(("", t));
                                let dest = self.store.node(ty, id)?.and_then(|r| r.dest_id);
                                mapped.push(format!("{ty}:{}", dest.unwrap_or_default()));
                            }
                            expected.insert(field.clone(), mapped);
                        }
                        let found = dest_versions
                            .get(&(dest_id.clone(), stage.clone()))
                            .map(|v| &v.edges);
                        // Values written with the edges (rich text with references, components
                        // holding relations) are not read here: one that changed (a target
                        // inside a component published since) is rewritten.
                        let embedded_changed = !version.written_with_edges().is_empty()
                            && before.get(stage) != Some(&Some(key(version)));
                        if found == Some(&expected) && !embedded_changed {
                            set_stage(&mut record.acked, &configured, stage, Some(key(version)));
                        } else {
                            mismatched.push(stage.clone());
                        }
                    }
                    // Held there in a version that is not the source's.
                    record
                        .acked
                        .published
                        .retain(|a| !mismatched.contains(&a.stage));
                    refresh_publication(&mut record.acked, &configured);
                    self.store
                        .commit_acks(&[(&shape.model.name, &w.id, &record)])?;
                    if !mismatched.is_empty() {
                        let mut again = Work::new(m, w.id.clone(), w.explain.clone());
                        // The relations are rewritten whatever the store says the draft holds.
                        let draft = (record.acked.content, None);
                        plan_publication(
                            &mut again,
                            &entry,
                            draft,
                            &held(&record.acked, &configured),
                        );
                        republish.push(again);
                    }
                }
            }
        }
        Ok(republish)
    }

    /// Publishing an entry publishes its relations from both sides: the entries linking to it
    /// in the destination's draft (a speaker's `talks`, an event's `talks`) then show it in
    /// their published versions too, whether the source's do or not. After the publications,
    /// the owners of links to every entry published or unpublished are compared with the
    /// destination (stage by stage, relations only) and republished where they differ; the
    /// republished ones are checked in turn, a few times at most.
    pub(in crate::sync) async fn check_side_effects(&mut self) -> Result<(), SyncError> {
        for _ in 0..4 {
            let touched = std::mem::take(&mut self.touched);
            if touched.is_empty() || self.prepared.stages.is_empty() {
                break;
            }
            let mut checks = Vec::new();
            for ((m, id), linked) in self.owners_of(&touched).await? {
                if self.dest_id(m, &id).is_none()
                    || !self
                        .store
                        .has_snapshot(&self.prepared.shapes[m].model.name, &id)?
                {
                    continue;
                }
                // Publishing a linked entry to a stage shows the owner's draft link in that stage:
                // only an owner whose draft links it and whose version in a stage the entry is
                // in does not (or the reverse) can differ.
                let (_, entry) = self.load(m, &id)?;
                let holds = |v: &Version, t: &String| v.edges.values().any(|l| l.contains(t));
                let mut affected = false;
                for t in &linked {
                    let (ty, tid) = t.split_once(':').unwrap_or(("", t));
                    let Some(tm) = self.model_index(ty) else {
                        continue;
                    };
                    let Ok((_, target)) = self.load(tm, tid) else {
                        continue;
                    };
                    affected |= entry.stages.iter().any(|(stage, v)| {
                        target.stages.contains_key(stage) && holds(v, t) != holds(&entry.draft, t)
                    });
                }
                if affected {
                    let mut w = Work::new(m, id, Vec::new());
                    w.check = true;
                    checks.push(w);
                }
            }
            let republish = self.check_published(&checks).await?;
            if republish.is_empty() {
                break;
            }
            self.apply_rounds(&republish).await?;
            self.apply_edges(&republish, true).await?;
            self.restore_taken(&republish).await?;
            self.apply_draft_publication(&republish).await?;
        }
        self.touched.clear();
        Ok(())
    }
}
