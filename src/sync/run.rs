//! One run, phase by phase: prepare → read (+ plan per entry) → guard → apply (assets and
//! content, edges, publication, drafts, deletions) → finish. Acknowledged state is committed
//! after every acknowledged batch, never before.

use std::collections::{BTreeMap, HashSet};

use futures::StreamExt;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::canonical::{changed_fields, Entry, Version};
use super::progress::Progress;
use super::write::{batches, content_data, edges_data, execute, merge_data, Op, OpKind, Outcome};
use super::{assets, endpoint_client, prepare, Prepared, RunOptions, RunReport, SyncError};
use crate::config::{Config, DeletionPolicy};
use crate::hygraph::{Client, Idempotency};
use crate::store::{
    Checkpoint, EndpointCounts, EntryFailure, ModelCounts, NodeRecord, RunMode, RunRecord,
    RunStatus, Store,
};

/// Tracked entries of one model (by index) that the source no longer has: source id and
/// destination id.
type Deletions = (usize, Vec<(String, Option<String>)>);

/// Work items whose writes are built and sent together (bounds memory on large projects).
const WORK_CHUNK: usize = 2_000;

/// Which version a write takes its values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sel {
    Draft,
    Published,
}

/// What one entry needs this run.
#[derive(Debug, Clone)]
struct Work {
    model: usize,
    id: String,
    content: Option<Sel>,
    edges: Option<Sel>,
    publish: bool,
    unpublish: Vec<String>,
    drafts: bool,
    /// Only the relations of a published version changed, as publishing a related entry does:
    /// compare with the destination after the publication phase before writing anything.
    check: bool,
    explain: Vec<String>,
}

/// Fault injection for the crash tests: `STAGESYNC_CRASH_AT=<phase>:<n>` aborts the process
/// when the n-th batch of that phase was acknowledged by the destination but not yet committed
/// to the store — the hardest moment to die at.
fn crash_point(phase: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Ok(spec) = std::env::var("STAGESYNC_CRASH_AT") else {
        return;
    };
    let Some((at_phase, n)) = spec.split_once(':') else {
        return;
    };
    if at_phase == phase {
        let hit = HITS.fetch_add(1, Ordering::SeqCst) + 1;
        if n.parse::<u64>().ok() == Some(hit) {
            eprintln!("STAGESYNC_CRASH_AT={spec}: aborting before the commit");
            std::process::abort();
        }
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

pub(super) async fn run(
    config: &Config,
    store: &Store,
    opts: RunOptions,
) -> Result<RunReport, SyncError> {
    let source = endpoint_client(&config.source)?;
    let dest = endpoint_client(&config.destination)?;
    let schemas = prepare(config, store, &source, &dest).await?;
    let prepared = Prepared::new(config, Some(store), &schemas)?;
    let run_id = store.next_run_id()?;
    let mut record = RunRecord {
        id: run_id,
        started_at: now_ms(),
        finished_at: None,
        mode: opts.mode,
        status: RunStatus::Running,
        models: prepared
            .shapes
            .iter()
            .map(|s| ModelCounts {
                model: s.model.name.clone(),
                ..Default::default()
            })
            .collect(),
        failures: Vec::new(),
        source: EndpointCounts::default(),
        destination: EndpointCounts::default(),
    };
    store.put_run(&record)?;
    info!(
        run = run_id,
        mode = opts.mode.as_str(),
        models = prepared.shapes.len(),
        "run started"
    );

    let mut engine = Engine {
        config,
        store,
        prepared: &prepared,
        source: &source,
        dest: &dest,
        opts: &opts,
        record: &mut record,
        checkpoint: Checkpoint {
            run: run_id,
            ..Default::default()
        },
    };
    let result = engine.run_phases().await;
    let plan_text = match &result {
        Ok(plan) => plan.clone(),
        Err(_) => None,
    };
    record.finished_at = Some(now_ms());
    let mutations = record.destination.mutations;
    record.source = counts(&source);
    record.destination = counts(&dest);
    record.destination.mutations = mutations;
    record.status = match &result {
        Ok(_) if record.failures.is_empty() => RunStatus::Succeeded,
        Ok(_) => RunStatus::CompletedWithFailures(record.failures.len() as u64),
        Err(e) => RunStatus::Failed(e.to_string()),
    };
    store.put_run(&record)?;
    if result.is_ok() {
        store.clear_checkpoint()?;
        if record.failures.is_empty() && opts.mode != RunMode::DryRun {
            for (model, fingerprint) in &prepared.fingerprints {
                store.set_model_fingerprint(model, *fingerprint)?;
            }
            store.set_last_success(record.finished_at.unwrap_or_default())?;
        }
    }
    store.flush()?;
    let totals = record
        .models
        .iter()
        .fold(ModelCounts::default(), |mut t, m| {
            t.created += m.created;
            t.updated += m.updated;
            t.deleted += m.deleted;
            t.edges += m.edges;
            t.published += m.published + m.unpublished;
            t.failed += m.failed;
            t
        });
    info!(
        run = run_id,
        status = %record.status.describe(),
        created = totals.created,
        updated = totals.updated,
        deleted = totals.deleted,
        edges = totals.edges,
        publication = totals.published,
        failed = totals.failed,
        source_requests = record.source.requests,
        destination_requests = record.destination.requests,
        "run finished"
    );
    result.map(|_| RunReport { record, plan_text })
}

fn counts(client: &Client) -> EndpointCounts {
    let s = client.stats();
    EndpointCounts {
        requests: s.requests,
        mutations: 0,
        bytes_sent: s.bytes_sent,
        bytes_received: s.bytes_received,
        retries: s.retries,
        rate_limited: s.rate_limited,
    }
}

struct Engine<'a> {
    config: &'a Config,
    store: &'a Store,
    prepared: &'a Prepared<'a>,
    source: &'a Client,
    dest: &'a Client,
    opts: &'a RunOptions,
    record: &'a mut RunRecord,
    checkpoint: Checkpoint,
}

impl Engine<'_> {
    fn cancelled(&self) -> bool {
        *self.opts.cancel.borrow()
    }

    fn set_phase(&mut self, phase: &str, model: &str) -> Result<(), SyncError> {
        self.checkpoint.phase = phase.to_owned();
        self.checkpoint.model = model.to_owned();
        self.save_checkpoint()
    }

    fn save_checkpoint(&self) -> Result<(), SyncError> {
        if let Some(live) = &self.opts.live {
            if let Ok(mut guard) = live.lock() {
                *guard = Some(self.checkpoint.clone());
            }
        }
        self.store.put_checkpoint(&self.checkpoint)?;
        Ok(())
    }

    fn fail(&mut self, model: usize, id: &str, phase: &str, message: String) {
        warn!(model = %self.prepared.shapes[model].model.name, id, phase, %message, "entry failed");
        self.record.models[model].failed += 1;
        self.record.failures.push(EntryFailure {
            model: self.prepared.shapes[model].model.name.clone(),
            source_id: id.to_owned(),
            phase: phase.to_owned(),
            message,
        });
    }

    /// Returns the plan text for dry runs.
    async fn run_phases(&mut self) -> Result<Option<String>, SyncError> {
        let mut work: Vec<Work> = Vec::new();
        let mut deletions: Vec<Deletions> = Vec::new();
        for m in 0..self.prepared.shapes.len() {
            let (w, seen) = self.read_model(m).await?;
            work.extend(w);
            deletions.push((m, self.deletion_candidates(m, &seen)?));
        }
        self.guard_deletions(&deletions)?;
        if self.opts.mode == RunMode::DryRun {
            return Ok(Some(self.plan_text(&work, &deletions)));
        }
        self.apply_content(&work).await?;
        self.apply_edges(&work, false).await?;
        self.apply_publication(&work).await?;
        // Published relations that changed only because related entries were published:
        // the destination may already show the same; republish only those that differ.
        let republish = self.check_published(&work).await?;
        if !republish.is_empty() {
            self.apply_content(&republish).await?;
            self.apply_edges(&republish, false).await?;
            self.apply_publication(&republish).await?;
        }
        work.extend(republish);
        self.apply_edges(&work, true).await?;
        self.apply_deletions(&deletions).await?;
        Ok(None)
    }

    async fn read_model(&mut self, m: usize) -> Result<(Vec<Work>, HashSet<String>), SyncError> {
        let shape = &self.prepared.shapes[m];
        let name = shape.model.name.clone();
        let full = self.opts.mode == RunMode::Full || self.prepared.full_models.contains(&name);
        let query = &self.prepared.queries[m];
        let locales = self.prepared.locales_for(shape);
        self.set_phase("read", &name)?;
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        let mut work = Vec::new();
        let progress = Progress::new(self.opts.progress_bars, None, &format!("read {name}"));
        loop {
            let page = super::read::read_page(
                self.source,
                query,
                shape,
                &locales,
                &self.prepared.default_locale,
                cursor.as_deref(),
            )
            .await?;
            let mut writes = Vec::new();
            for entry in &page.entries {
                let hashes = entry.hashes();
                let existing = self.store.node(&name, &entry.id)?;
                let mut record = existing.clone().unwrap_or_default();
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
                            if old.stages.keys().ne(entry.stages.keys()) {
                                f.push("publication".into());
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
                seen.insert(entry.id.clone());
                self.record.models[m].read += 1;
                if let Some(w) = plan_entry(m, entry, &record, full, explain) {
                    work.push(w);
                } else {
                    self.record.models[m].unchanged += 1;
                }
                if changed || snapshot_missing {
                    writes.push((
                        name.clone(),
                        entry.id.clone(),
                        record,
                        snapshot_missing.then(|| entry.to_bytes()),
                    ));
                }
            }
            self.checkpoint.pages_read += 1;
            self.checkpoint.entries_read += page.entries.len() as u64;
            progress.inc(page.entries.len() as u64);
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

    fn deletion_candidates(
        &self,
        m: usize,
        seen: &HashSet<String>,
    ) -> Result<Vec<(String, Option<String>)>, SyncError> {
        let name = &self.prepared.shapes[m].model.name;
        let mut out = Vec::new();
        for item in self.store.nodes_of(name) {
            let (id, record) = item?;
            if !seen.contains(&id) {
                out.push((id, record.dest_id));
            }
        }
        Ok(out)
    }

    fn guard_deletions(&self, deletions: &[Deletions]) -> Result<(), SyncError> {
        if self.config.deletion_policy == DeletionPolicy::Keep || self.opts.allow_mass_delete {
            return Ok(());
        }
        for (m, list) in deletions {
            if list.is_empty() {
                continue;
            }
            let name = &self.prepared.shapes[*m].model.name;
            let tracked = self.store.nodes_of(name).count() as u64;
            let count = list.len() as u64;
            if !self.config.max_deletions.allows(count, tracked) {
                return Err(SyncError::DeletionGuard {
                    model: name.clone(),
                    count,
                    tracked,
                    limit: self.config.max_deletions.describe(),
                });
            }
        }
        Ok(())
    }

    fn plan_text(&self, work: &[Work], deletions: &[Deletions]) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<24} {:>8} {:>8} {:>10} {:>8} {:>8} {:>12}\n",
            "model", "create", "update", "unchanged", "delete", "edges", "publication"
        ));
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let mine: Vec<&Work> = work.iter().filter(|w| w.model == m).collect();
            let create = mine
                .iter()
                .filter(|w| self.dest_id(m, &w.id).is_none())
                .count();
            let update = mine
                .iter()
                .filter(|w| w.content.is_some())
                .count()
                .saturating_sub(create);
            let edges = mine.iter().filter(|w| w.edges.is_some()).count();
            let publication = mine
                .iter()
                .filter(|w| w.publish || !w.unpublish.is_empty())
                .count();
            let delete = if self.config.deletion_policy == DeletionPolicy::Mirror {
                deletions[m].1.len()
            } else {
                0
            };
            out.push_str(&format!(
                "{:<24} {:>8} {:>8} {:>10} {:>8} {:>8} {:>12}\n",
                shape.model.name,
                create,
                update,
                self.record.models[m].unchanged,
                delete,
                edges,
                publication
            ));
            if self.opts.explain {
                for w in &mine {
                    let mut why = w.explain.clone();
                    if w.check {
                        why.push(
                            "published relations changed by related entries (checked in the destination)"
                                .into(),
                        );
                    }
                    if why.is_empty() {
                        why.push("not yet acknowledged by the destination".into());
                    }
                    out.push_str(&format!(
                        "  {} {}: {}\n",
                        shape.model.name,
                        w.id,
                        why.join(", ")
                    ));
                }
                for (id, _) in &deletions[m].1 {
                    out.push_str(&format!(
                        "  {} {id}: deleted in the source\n",
                        shape.model.name
                    ));
                }
            }
            for (field, reason) in &shape.skipped {
                out.push_str(&format!(
                    "  skipped {}.{}: {reason}\n",
                    shape.model.name, field.name
                ));
            }
        }
        out
    }

    fn dest_id(&self, m: usize, id: &str) -> Option<String> {
        self.store
            .node(&self.prepared.shapes[m].model.name, id)
            .ok()
            .flatten()
            .and_then(|r| r.dest_id)
    }

    fn load(&self, m: usize, id: &str) -> Result<(NodeRecord, Entry), SyncError> {
        let name = &self.prepared.shapes[m].model.name;
        let record = self.store.node(name, id)?.unwrap_or_default();
        let entry = self
            .store
            .snapshot(name, id)?
            .and_then(|b| Entry::from_bytes(&b))
            .ok_or_else(|| SyncError::MissingSnapshot {
                model: name.clone(),
                id: id.to_owned(),
            })?;
        Ok((record, entry))
    }

    /// Runs ops in batches with bounded concurrency; `on_done` sees each op's outcome and
    /// returns the record to commit for it. Commits once per acknowledged batch.
    async fn run_ops(
        &mut self,
        phase: &str,
        ops: Vec<(usize, Op)>,
        mut on_done: impl FnMut(
            &mut Self,
            usize,
            &Op,
            &Outcome,
        ) -> Result<Option<NodeRecord>, SyncError>,
    ) -> Result<(), SyncError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.set_phase(phase, "")?;
        let model_of: BTreeMap<(String, String), usize> = ops
            .iter()
            .map(|(m, op)| ((op.model.clone(), op.source_id.clone()), *m))
            .collect();
        let ops: Vec<Op> = ops.into_iter().map(|(_, op)| op).collect();
        let total = ops.len();
        let progress = Progress::new(self.opts.progress_bars, Some(total as u64), phase);
        let groups = batches(
            ops,
            self.config.batch.max_bytes,
            self.config.batch.max_mutations,
        );
        self.checkpoint.writes_pending = groups.iter().map(|g| g.len() as u64).sum();
        let dest = self.dest;
        let cancel = self.opts.cancel.clone();
        let mut stream = futures::stream::iter(groups)
            .take_while(move |_| futures::future::ready(!*cancel.borrow()))
            .map(|batch| execute(dest, batch))
            .buffer_unordered(self.config.batch.concurrency);
        let mut first_error = None;
        while let Some(result) = stream.next().await {
            let outcomes = match result {
                Ok(o) => o,
                Err(e) => {
                    // Let the batches in flight finish and commit before failing.
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            crash_point(phase);
            let mut commits = Vec::new();
            for (op, outcome) in &outcomes {
                let m = model_of[&(op.model.clone(), op.source_id.clone())];
                if let Outcome::Failed(message) = outcome {
                    self.fail(m, &op.source_id, phase, message.clone());
                }
                if let Some(record) = on_done(self, m, op, outcome)? {
                    commits.push((op.model.clone(), op.source_id.clone(), record));
                }
            }
            let refs: Vec<(&str, &str, &NodeRecord)> = commits
                .iter()
                .map(|(m, id, r)| (m.as_str(), id.as_str(), r))
                .collect();
            self.store.commit_acks(&refs)?;
            self.record.destination.mutations += outcomes.len() as u64;
            self.checkpoint.batches_acked += 1;
            self.checkpoint.writes_pending = self
                .checkpoint
                .writes_pending
                .saturating_sub(outcomes.len() as u64);
            self.save_checkpoint()?;
            progress.inc(outcomes.len() as u64);
        }
        progress.finish();
        info!(phase, writes = total, "phase done");
        if let Some(e) = first_error {
            return Err(e);
        }
        if self.cancelled() {
            return Err(SyncError::Cancelled);
        }
        Ok(())
    }

    /// Writes are built from the store chunk by chunk, so memory holds a few thousand
    /// mutations at most, whatever the size of the project.
    async fn apply_content(&mut self, work: &[Work]) -> Result<(), SyncError> {
        for chunk in work.chunks(WORK_CHUNK) {
            self.apply_content_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn apply_edges(&mut self, work: &[Work], drafts: bool) -> Result<(), SyncError> {
        for chunk in work.chunks(WORK_CHUNK) {
            self.apply_edges_chunk(chunk, drafts).await?;
        }
        Ok(())
    }

    async fn apply_publication(&mut self, work: &[Work]) -> Result<(), SyncError> {
        for chunk in work.chunks(WORK_CHUNK) {
            self.apply_publication_chunk(chunk).await?;
        }
        Ok(())
    }

    async fn apply_content_chunk(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let default_locale = self.prepared.default_locale.clone();
        // Assets first: their files go by upload, one request each.
        let mut ops = Vec::new();
        let mut id_creates: Vec<(usize, String)> = Vec::new();
        let mut orphans: Option<assets::Orphans> = None;
        for w in work.iter().filter(|w| w.content.is_some()) {
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let version = select(&entry, w.content.unwrap_or(Sel::Draft));
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
                                if entry.stages.is_empty() {
                                    rec.acked.publication = Some(entry.publication_hash());
                                    rec.acked.publication_content =
                                        Some(entry.publication_content_hash());
                                }
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
                            update: content_data(shape, version, &default_locale, false, &[]),
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
                .and_then(|w| w.content)
                .unwrap_or(Sel::Draft);
            let version = select(&entry, sel);
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
            .filter_map(|w| w.content.map(|s| ((w.model, w.id.clone()), s)))
            .collect();
        let run = self.checkpoint.run;
        self.run_ops("content", ops, move |engine, m, op, outcome| {
            let Outcome::Done(returned) = outcome else {
                return Ok(None);
            };
            let (mut record, entry) = engine.load(m, &op.source_id)?;
            let sel = sels
                .get(&(m, op.source_id.clone()))
                .copied()
                .unwrap_or(Sel::Draft);
            let version = select(&entry, sel);
            let created = record.dest_id.is_none();
            match (&op.kind, returned) {
                (OpKind::Update { dest_id, .. }, _) => record.dest_id = Some(dest_id.clone()),
                (_, Some(id)) => record.dest_id = Some(id.clone()),
                (_, None) => return Ok(None),
            }
            if created {
                // A new entry holds no relations and is in no other stage. (An upsert that
                // adopted an existing destination entry after a lost store is the exception:
                // its empty relations are not cleared; `verify` reports any difference.)
                record.acked.stages = Some(Vec::new());
                if entry.stages.is_empty() {
                    record.acked.publication = Some(entry.publication_hash());
                    record.acked.publication_content = Some(entry.publication_content_hash());
                }
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

    /// Relation edges of each entry that needs them (`drafts`: the newer-draft pass after
    /// publication, content and edges together).
    async fn apply_edges_chunk(&mut self, work: &[Work], drafts: bool) -> Result<(), SyncError> {
        let default_locale = self.prepared.default_locale.clone();
        let mut ops = Vec::new();
        for w in work {
            let sel = if drafts {
                if !w.drafts {
                    continue;
                }
                Sel::Draft
            } else {
                match w.edges {
                    Some(sel) => sel,
                    None => continue,
                }
            };
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let Some(dest_id) = record.dest_id.clone() else {
                continue; // its content write failed; reported there
            };
            if drafts && record.acked.publication != record.seen.map(|s| s.publication) {
                continue; // not published this run; the next run redoes the whole flow
            }
            let version = select(&entry, sel);
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
            if drafts {
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
                    w.edges
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
                let version = select(&entry, sels[&(m, op.source_id.clone())]);
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

    async fn apply_publication_chunk(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let mut ops = Vec::new();
        for w in work.iter().filter(|w| w.publish || !w.unpublish.is_empty()) {
            let shape = &self.prepared.shapes[w.model];
            let (record, entry) = self.load(w.model, &w.id)?;
            let Some(dest_id) = record.dest_id.clone() else {
                continue;
            };
            let kind = if w.publish {
                let Some(published) = entry.published_version() else {
                    continue;
                };
                // Publish only what this run wrote and the destination acknowledged.
                if record.acked.content != Some(published.content_hash())
                    || record.acked.edges != Some(published.edges_hash())
                {
                    self.fail(
                        w.model,
                        &w.id,
                        "publication",
                        "not published: its content or relations were not written".into(),
                    );
                    continue;
                }
                let locales = shape
                    .model
                    .has_localized_fields()
                    .then(|| published.locales.keys().cloned().collect::<Vec<_>>())
                    .filter(|l| !l.is_empty());
                OpKind::Publish {
                    dest_id,
                    to: entry.stages.keys().cloned().collect(),
                    locales,
                }
            } else {
                OpKind::Unpublish {
                    dest_id,
                    from: w.unpublish.clone(),
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
        let run = self.checkpoint.run;
        self.run_ops("publication", ops, move |engine, m, op, outcome| {
            let Outcome::Done(_) = outcome else {
                return Ok(None);
            };
            let (mut record, entry) = engine.load(m, &op.source_id)?;
            match &op.kind {
                OpKind::Publish { .. } => engine.record.models[m].published += 1,
                _ => engine.record.models[m].unpublished += 1,
            }
            record.acked.publication = Some(entry.publication_hash());
            record.acked.publication_content = Some(entry.publication_content_hash());
            record.acked.stages = Some(entry.stages.keys().cloned().collect());
            record.acked_run = run;
            Ok(Some(record))
        })
        .await
    }

    /// Reads the destination's published versions of the entries marked `check` and compares
    /// their relation targets with the source's; acknowledges those that match and returns the
    /// others as republish work.
    async fn check_published(&mut self, work: &[Work]) -> Result<Vec<Work>, SyncError> {
        let mut republish = Vec::new();
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let checks: Vec<&Work> = work.iter().filter(|w| w.check && w.model == m).collect();
            if checks.is_empty() {
                continue;
            }
            self.set_phase("check", &shape.model.name)?;
            let locales = self.prepared.locales_for(shape);
            let selection = super::read::version_selection(shape, self.prepared.content);
            for chunk in checks.chunks(super::read::PAGE_SIZE) {
                let mut by_dest = BTreeMap::new();
                for w in chunk {
                    if let Some(dest) = self.dest_id(m, &w.id) {
                        by_dest.insert(dest, *w);
                    }
                }
                let ids: Vec<&String> = by_dest.keys().collect();
                let query = format!(
                    "query StagesyncCheck($ids: [ID!], $locales: [Locale!]!) {{ list: {}(where: {{ id_in: $ids }}, stage: PUBLISHED, first: {}, locales: $locales) {{ {selection} }} }}",
                    shape.model.plural,
                    super::read::PAGE_SIZE
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
                let mut dest_versions = BTreeMap::new();
                for node in response
                    .data
                    .as_ref()
                    .and_then(|d| d.get("list"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let v =
                        Version::from_node(shape, node, &self.prepared.default_locale, &locales)?;
                    if let Some(id) = node.get("id").and_then(Value::as_str) {
                        dest_versions.insert(id.to_owned(), v);
                    }
                }
                for (dest_id, w) in by_dest {
                    let (mut record, entry) = self.load(m, &w.id)?;
                    let Some(published) = entry.published_version() else {
                        continue;
                    };
                    let mut expected = BTreeMap::new();
                    for (field, targets) in &published.edges {
                        let mut mapped = Vec::new();
                        for t in targets {
                            let (ty, id) = t.split_once(':').unwrap_or(("", t));
                            let dest = self.store.node(ty, id)?.and_then(|r| r.dest_id);
                            mapped.push(format!("{ty}:{}", dest.unwrap_or_default()));
                        }
                        expected.insert(field.clone(), mapped);
                    }
                    if dest_versions.get(&dest_id).map(|v| &v.edges) == Some(&expected) {
                        record.acked.publication = Some(entry.publication_hash());
                        record.acked.publication_content = Some(entry.publication_content_hash());
                        self.store
                            .commit_acks(&[(&shape.model.name, &w.id, &record)])?;
                    } else {
                        let mut again = (*w).clone();
                        again.check = false;
                        again.publish = true;
                        again.content = (record.acked.content != Some(published.content_hash()))
                            .then_some(Sel::Published);
                        again.edges = Some(Sel::Published);
                        let seen = entry.hashes();
                        again.drafts = published.content_hash() != seen.content
                            || published.edges_hash() != seen.edges;
                        republish.push(again);
                    }
                }
            }
        }
        Ok(republish)
    }

    async fn apply_deletions(&mut self, deletions: &[Deletions]) -> Result<(), SyncError> {
        let mut ops = Vec::new();
        for (m, list) in deletions {
            let name = self.prepared.shapes[*m].model.name.clone();
            let mut forget = Vec::new();
            for (id, dest) in list {
                match (self.config.deletion_policy, dest) {
                    (DeletionPolicy::Mirror, Some(dest_id)) => ops.push((
                        *m,
                        Op {
                            model: name.clone(),
                            source_id: id.clone(),
                            kind: OpKind::Delete {
                                dest_id: dest_id.clone(),
                            },
                        },
                    )),
                    _ => forget.push(id.clone()),
                }
            }
            self.store.forget(&name, &forget)?;
        }
        let mut forgotten: Vec<(String, String)> = Vec::new();
        self.run_ops("deletions", ops, |engine, m, op, outcome| {
            if let Outcome::Done(_) = outcome {
                engine.record.models[m].deleted += 1;
                forgotten.push((op.model.clone(), op.source_id.clone()));
            }
            Ok(None)
        })
        .await?;
        for (model, id) in forgotten {
            self.store.forget(&model, &[id])?;
        }
        Ok(())
    }
}

fn select(entry: &Entry, sel: Sel) -> &Version {
    match sel {
        Sel::Draft => &entry.draft,
        Sel::Published => entry.published_version().unwrap_or(&entry.draft),
    }
}

/// Decides what one entry needs, from its fresh read and what the destination acknowledged.
fn plan_entry(
    m: usize,
    entry: &Entry,
    record: &NodeRecord,
    full: bool,
    explain: Vec<String>,
) -> Option<Work> {
    let seen = entry.hashes();
    // A full pass forgets what was acknowledged, but not what the destination is known to hold
    // (its id, its stages), so it rewrites everything without duplicating or over-unpublishing.
    let acked = if full {
        crate::store::Acked {
            stages: record.acked.stages.clone(),
            locales: record.acked.locales.clone(),
            file: record.acked.file.clone(),
            ..Default::default()
        }
    } else {
        record.acked.clone()
    };
    let new = record.dest_id.is_none();
    let mut w = Work {
        model: m,
        id: entry.id.clone(),
        content: None,
        edges: None,
        publish: false,
        unpublish: Vec::new(),
        drafts: false,
        check: false,
        explain,
    };
    let publication_changed = acked.publication != Some(seen.publication);
    let side_effect_only = publication_changed
        && !full
        && !new
        && acked.publication_content == Some(seen.publication_content)
        && acked.stages.as_ref() == Some(&entry.stages.keys().cloned().collect::<Vec<_>>());
    if side_effect_only {
        w.check = true;
    }
    match entry.published_version() {
        Some(_) if side_effect_only => {
            if acked.content != Some(seen.content) {
                w.content = Some(Sel::Draft);
            }
            if acked.edges != Some(seen.edges) {
                w.edges = Some(Sel::Draft);
            }
        }
        Some(published) if publication_changed || new => {
            // Make the draft hold the published version (unless it already does), publish it,
            // then write the newer draft if there is one.
            if new || acked.content != Some(published.content_hash()) {
                w.content = Some(Sel::Published);
            }
            if new || acked.edges != Some(published.edges_hash()) {
                w.edges = Some(Sel::Published);
            }
            w.publish = true;
            w.drafts =
                published.content_hash() != seen.content || published.edges_hash() != seen.edges;
        }
        _ => {
            if new || acked.content != Some(seen.content) {
                w.content = Some(Sel::Draft);
            }
            if new || acked.edges != Some(seen.edges) {
                w.edges = Some(Sel::Draft);
            }
            if publication_changed && !new && entry.stages.is_empty() {
                match &acked.stages {
                    Some(stages) if stages.is_empty() => {}
                    Some(stages) => w.unpublish = stages.clone(),
                    None => w.unpublish = vec!["PUBLISHED".into()],
                }
            }
        }
    }
    if w.content.is_none() && w.edges.is_none() && !w.publish && w.unpublish.is_empty() && !w.check
    {
        return None;
    }
    Some(w)
}
