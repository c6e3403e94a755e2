//! The read phase: pages through the source model by model, stores each entry's snapshot and
//! hashes with a checkpoint per page, and plans each entry (see `plan`). An entry whose bytes
//! are those already read and acknowledged is not even parsed.

use std::collections::HashSet;

use tracing::info;

use super::canonical::{changed_fields, Entry};
use super::engine::Engine;
use super::plan::{plan_entry, rewrite_rounds_holding_moved_targets, Work};
use super::progress::Progress;
use super::SyncError;
use crate::store::RunMode;

impl Engine<'_> {
    pub(super) async fn read_model(
        &mut self,
        m: usize,
    ) -> Result<(Vec<Work>, HashSet<String>), SyncError> {
        let shape = &self.prepared.shapes[m];
        let name = shape.model.name.clone();
        // Relations whose targets have one owner (see `rewrite_rounds_holding_moved_targets`).
        let single_owner: Vec<&str> = shape.single_owner().map(|f| f.name.as_str()).collect();
        // A repair's acknowledgements come from the destination itself: nothing to redo blindly.
        let full = self.opts.full
            || (self.prepared.full_models.contains(&name) && self.opts.mode != RunMode::Repair);
        let query = &self.prepared.queries[m];
        let locales = self.prepared.locales_for(shape);
        self.set_phase("read", &name)?;
        let fingerprint = self
            .prepared
            .fingerprints
            .iter()
            .find(|(model, _)| *model == name)
            .map(|(_, f)| f);
        let digest_key =
            super::read::digest_key(query, &locales, &self.prepared.default_locale, fingerprint);
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        let mut work = Vec::new();
        let progress = Progress::new(self.opts.progress_bars, None, &format!("read {name}"));
        loop {
            let page = super::read::read_raw_page(
                self.source,
                query,
                shape,
                &locales,
                &self.prepared.default_locale,
                cursor.as_deref(),
            )
            .await?;
            let mut writes = Vec::new();
            for node in &page.nodes {
                let digest = node.digest(&digest_key);
                let existing = self.store.node(&name, &node.id)?;
                // The same bytes as last read, and the destination acknowledged all of it: the
                // plan would be empty (a stored publication hash implies every stage's version
                // is acknowledged, see `refresh_publication`), so skip the canonical form.
                if let Some(record) = &existing {
                    if !full
                        && record.seen_raw == Some(digest)
                        && record.seen.is_some()
                        && !record.is_pending()
                        && self.store.has_snapshot(&name, &node.id)?
                    {
                        seen.insert(node.id.clone());
                        let counts = &mut self.record.models[m];
                        counts.read += 1;
                        counts.unchanged += 1;
                        counts.skipped_unparsed += 1;
                        continue;
                    }
                }
                let entry =
                    &node.entry(self.source, shape, &locales, &self.prepared.default_locale)?;
                let hashes = entry.hashes();
                let mut record = existing.unwrap_or_default();
                let mut explain = Vec::new();
                let changed = record.seen != Some(hashes);
                let snapshot_missing = changed || !self.store.has_snapshot(&name, &entry.id)?;
                if self.opts.explain && changed {
                    explain = match self
                        .store
                        .snapshot(&name, &entry.id)?
                        .and_then(|b| Entry::from_bytes(&b))
                    {
                        Some(old) => {
                            let mut f = changed_fields(&old.draft, &entry.draft);
                            let stages: std::collections::BTreeSet<&String> =
                                old.stages.keys().chain(entry.stages.keys()).collect();
                            for stage in stages {
                                if old.stages.get(stage) != entry.stages.get(stage) {
                                    f.push(format!("stage {stage}"));
                                }
                            }
                            f
                        }
                        None => vec!["new".into()],
                    };
                }
                if changed {
                    record.seen = Some(hashes);
                    record.changed_run = self.checkpoint.run;
                }
                let raw_changed = record.seen_raw != Some(digest);
                record.seen_raw = Some(digest);
                seen.insert(entry.id.clone());
                self.record.models[m].read += 1;
                if let Some(mut w) = plan_entry(
                    m,
                    entry,
                    &hashes,
                    &record,
                    full,
                    explain,
                    &self.prepared.stages,
                ) {
                    rewrite_rounds_holding_moved_targets(&mut w, entry, &single_owner);
                    work.push(w);
                } else {
                    self.record.models[m].unchanged += 1;
                }
                if changed || snapshot_missing || raw_changed {
                    writes.push((
                        name.clone(),
                        entry.id.clone(),
                        record,
                        snapshot_missing.then(|| entry.to_bytes()),
                    ));
                }
            }
            // Entries the source cannot answer for are failures of this run, and still there:
            // never deleted on the strength of a read that could not see them.
            for unread in &page.unread {
                seen.insert(unread.id.clone());
                self.fail(m, &unread.id, "read", unread.reason());
            }
            self.checkpoint.pages_read += 1;
            self.checkpoint.entries_read += page.nodes.len() as u64;
            progress.inc(page.nodes.len() as u64);
            self.store.commit_page(&writes, &self.checkpoint)?;
            if self.cancelled() {
                return Err(SyncError::Cancelled);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        progress.finish();
        info!(model = %name, read = seen.len(), to_write = work.len(), "model read");
        Ok((work, seen))
    }
}
