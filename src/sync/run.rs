//! One run, phase by phase: prepare → read (+ plan per entry) → guard → apply (assets and
//! content, edges, publication, further stage rounds, drafts, deletions) → finish.
//! Acknowledged state is committed after every acknowledged batch, never before.
//!
//! Stages: Hygraph publishes an entry's draft to a stage, so each distinct version the source's
//! non-draft stages hold is a round — write that version (content, then edges), publish it to
//! exactly the stages holding it — and the draft is written last. Stages holding the draft's
//! version are published with it. An entry whose stages all hold one version (the common case)
//! takes one round, as cheap as before custom stages. Each stage's version is acknowledged on
//! its own, so an interrupted run resumes with the stages it had not published yet.

use std::collections::{BTreeMap, HashSet};

use futures::StreamExt;
use serde_json::{json, Value};
use tracing::{info, warn};

use super::acks::{held, key, refresh_publication, set_stage, VersionKey};
use super::canonical::{changed_fields, Entry, Version};
use super::progress::Progress;
use super::write::{
    batches, content_data, edges_data, execute, merge_data, AnswerHash, AnswerState, Op, OpKind,
    Outcome, UpsertCheck, UpsertHooks,
};
use super::{
    assets, endpoint_client, journal, prepare, Prepared, RunOptions, RunReport, SyncError,
};
use crate::config::{Config, DeletionPolicy};
use crate::hygraph::{Client, Idempotency};
use crate::store::{
    Acked, Checkpoint, EndpointCounts, EntryFailure, Hash, ModelCounts, NodeRecord, RunMode,
    RunRecord, RunStatus, Store,
};

/// Tracked entries of one model (by index) that the source no longer has: source id and
/// destination id.
type Deletions = (usize, Vec<(String, Option<String>)>);

/// Work items whose writes are built and sent together (bounds memory on large projects).
const WORK_CHUNK: usize = 2_000;

/// Which version a write takes its values from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sel {
    Draft,
    /// The version the source holds in this non-draft stage.
    Stage(String),
}

/// A later round of one entry: write a version, then publish it to the stages holding it.
#[derive(Debug, Clone)]
struct Round {
    sel: Sel,
    content: bool,
    edges: bool,
    to: Vec<String>,
}

/// What one entry needs this run.
#[derive(Debug, Clone)]
struct Work {
    model: usize,
    id: String,
    content: Option<Sel>,
    edges: Option<Sel>,
    /// Stages to publish the version written in this round to (all hold that version).
    publish: Vec<String>,
    unpublish: Vec<String>,
    /// Further rounds, one per other version the stages hold; round i of every entry runs
    /// after round i-1 of every entry.
    rounds: Vec<Round>,
    /// Write the draft after the rounds (content and edges in one update).
    drafts: bool,
    /// Stages holding the draft's version, published once `drafts` is written.
    publish_drafts: Vec<String>,
    /// Only the relations of a published version changed, as publishing a related entry does:
    /// compare with the destination after the publication phase before writing anything.
    check: bool,
    explain: Vec<String>,
}

impl Work {
    fn new(model: usize, id: String, explain: Vec<String>) -> Work {
        Work {
            model,
            id,
            content: None,
            edges: None,
            publish: Vec::new(),
            unpublish: Vec::new(),
            rounds: Vec::new(),
            drafts: false,
            publish_drafts: Vec::new(),
            check: false,
            explain,
        }
    }

    fn publication(&self) -> bool {
        !self.publish.is_empty()
            || !self.unpublish.is_empty()
            || !self.rounds.is_empty()
            || !self.publish_drafts.is_empty()
    }
}

/// Fault injection for the crash tests: `STAGESYNC_CRASH_AT=<phase>:<n>` aborts the process
/// when the n-th batch of that phase was acknowledged by the destination but not yet committed
/// to the store — the hardest moment to die at. Phase `upload`: the n-th asset file written.
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
    let schemas = prepare(&source, &dest).await?;
    let prepared = Prepared::new(config, Some(store), &schemas)?;
    let mut opts = opts;
    // A run that did not finish (killed, stopped, failed) may have left the destination in
    // states no acknowledgement describes (a round's version in a draft, targets taken from
    // their owners): the next incremental run compares the destination first.
    if opts.mode == RunMode::Incremental {
        if let Some(previous) = store.checkpoint()? {
            info!(
                previous = previous.run,
                phase = %previous.phase,
                "the previous run did not finish: this run repairs"
            );
            opts.mode = RunMode::Repair;
        }
    }
    let run_id = store.next_run_id()?;
    // A repair first makes the acknowledgements say what the destination holds; the run then
    // writes what differs, like any incremental run.
    if opts.mode == RunMode::Repair {
        let found = super::repair::reconcile(&prepared, store, &source, &dest).await?;
        info!(
            run = run_id,
            differences = found,
            "repair: destination compared"
        );
    }
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
        phase_writes: Vec::new(),
        touched: Vec::new(),
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
        // Stopped on request: unfinished, not failed (shown as interrupted; the next run resumes).
        Err(SyncError::Cancelled) => RunStatus::Running,
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
    /// Writes per phase, in the order phases ran: logged once per phase at the end.
    phase_writes: Vec<(String, usize)>,
    /// Entries published or unpublished in the destination since the last side-effect check.
    touched: Vec<(usize, String)>,
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
        self.apply_rounds(&work).await?;
        // Published relations that changed only because related entries were published:
        // the destination may already show the same; republish only those that differ.
        let republish = self.check_published(&work).await?;
        if !republish.is_empty() {
            self.apply_rounds(&republish).await?;
        }
        work.extend(republish);
        self.apply_edges(&work, true).await?;
        self.restore_taken(&work).await?;
        self.apply_draft_publication(&work).await?;
        self.check_side_effects().await?;
        self.apply_deletions(&deletions).await?;
        for (phase, writes) in &self.phase_writes {
            info!(phase = %phase, writes, "phase done");
        }
        Ok(None)
    }

    /// Publishing an entry publishes its relations from both sides: the entries linking to it
    /// in the destination's draft (a speaker's `talks`, an event's `talks`) then show it in
    /// their published versions too, whether the source's do or not. After the publications,
    /// the owners of links to every entry published or unpublished are compared with the
    /// destination (stage by stage, relations only) and republished where they differ; the
    /// republished ones are checked in turn, a few times at most.
    async fn check_side_effects(&mut self) -> Result<(), SyncError> {
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

    /// A round writes a non-draft version into the destination's draft. Where that version
    /// holds targets of a relation whose targets have one owner (an event's `talks`, a
    /// conference's `events`), writing it took them from their draft owners, and writing the
    /// draft afterwards does not give them back. Once the drafts are written, the draft
    /// relations of those targets' owners in the source are written again.
    async fn restore_taken(&mut self, work: &[Work]) -> Result<(), SyncError> {
        let mut taken = std::collections::BTreeSet::new();
        for w in work.iter().filter(|w| w.drafts) {
            let shape = &self.prepared.shapes[w.model];
            let (_, entry) = self.load(w.model, &w.id)?;
            for f in &shape.owned {
                let single_owner = f.relation().is_some_and(|r| {
                    matches!(
                        r.cardinality,
                        crate::model::Cardinality::OneToMany | crate::model::Cardinality::OneToOne
                    )
                });
                if !single_owner {
                    continue;
                }
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

    /// The synced entries (model, source id) whose own relations link to one of `entries` in
    /// the source, in any synced stage: read from the source through the reverse fields.
    async fn owners_of(
        &self,
        entries: &[(usize, String)],
    ) -> Result<BTreeMap<(usize, String), std::collections::BTreeSet<String>>, SyncError> {
        let mut owners: BTreeMap<(usize, String), std::collections::BTreeSet<String>> =
            BTreeMap::new();
        let stages: Vec<String> = std::iter::once("DRAFT".to_string())
            .chain(self.prepared.stages.iter().cloned())
            .collect();
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let fields: Vec<&crate::model::Field> = shape
                .reverse
                .iter()
                .copied()
                .filter(|f| {
                    f.relation()
                        .is_some_and(|r| r.targets.iter().any(|t| self.model_index(t).is_some()))
                })
                .collect();
            if fields.is_empty() {
                continue;
            }
            let mut ids: Vec<&String> = entries
                .iter()
                .filter(|(mm, _)| *mm == m)
                .map(|(_, id)| id)
                .collect();
            ids.sort();
            ids.dedup();
            let selection: Vec<String> = fields
                .iter()
                .map(|f| super::shape::selection(f, self.prepared.content))
                .collect();
            for chunk in ids.chunks(super::read::PAGE_SIZE) {
                for stage in &stages {
                    let query = format!(
                        "query StagesyncOwners($ids: [ID!]) {{ list: {}(where: {{ id_in: $ids }}, stage: {stage}, first: {}) {{ id {} }} }}",
                        shape.model.plural,
                        super::read::PAGE_SIZE,
                        selection.join(" "),
                    );
                    let response = self
                        .source
                        .graphql(&query, json!({ "ids": chunk }), Idempotency::Safe)
                        .await
                        .map_err(|source| {
                            SyncError::client(self.source.name().to_owned(), source)
                        })?;
                    for node in response
                        .data
                        .as_ref()
                        .and_then(|d| d.get("list"))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        for f in &fields {
                            let targets = match node.get(&f.name) {
                                Some(Value::Array(list)) => list.clone(),
                                Some(Value::Null) | None => Vec::new(),
                                Some(one) => vec![one.clone()],
                            };
                            for t in targets {
                                let (Some(ty), Some(id)) = (
                                    t.get("__typename").and_then(Value::as_str),
                                    t.get("id").and_then(Value::as_str),
                                ) else {
                                    continue;
                                };
                                if let (Some(owner), Some(linked)) =
                                    (self.model_index(ty), node.get("id").and_then(Value::as_str))
                                {
                                    owners
                                        .entry((owner, id.to_owned()))
                                        .or_default()
                                        .insert(format!("{}:{linked}", shape.model.name));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(owners)
    }

    fn model_index(&self, name: &str) -> Option<usize> {
        self.prepared
            .shapes
            .iter()
            .position(|s| s.model.name == name)
    }

    async fn read_model(&mut self, m: usize) -> Result<(Vec<Work>, HashSet<String>), SyncError> {
        let shape = &self.prepared.shapes[m];
        let name = shape.model.name.clone();
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
                if let Some(w) = plan_entry(
                    m,
                    entry,
                    &hashes,
                    &record,
                    full,
                    explain,
                    &self.prepared.stages,
                ) {
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
        let mut rows = Vec::new();
        let mut notes = String::new();
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
            let publication = mine.iter().filter(|w| w.publication()).count();
            let delete = if self.config.deletion_policy == DeletionPolicy::Mirror {
                deletions[m].1.len()
            } else {
                0
            };
            rows.push(vec![
                shape.model.name.clone(),
                create.to_string(),
                update.to_string(),
                self.record.models[m].unchanged.to_string(),
                delete.to_string(),
                edges.to_string(),
                publication.to_string(),
            ]);
            let out = &mut notes;
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
        let headers: Vec<&str> = std::iter::once("model")
            .chain(crate::render::COUNT_COLUMNS)
            .collect();
        crate::render::table(&headers, &rows) + &notes
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
        let prepared = self.prepared;
        let hash_answer = move |model: &str, node: &Value, skip: &[String]| {
            let shape = prepared.shapes.iter().find(|s| s.model.name == model)?;
            let locales = prepared.locales_for(shape);
            let v = Version::from_node(shape, node, &prepared.default_locale, &locales).ok()?;
            Some(AnswerState {
                content: v.content_hash_without(skip),
                bare: v.holds_only_content(skip),
            })
        };
        let store = self.store;
        let rebuild = move |op: &Op| -> Option<Value> {
            let OpKind::Upsert { check: Some(c), .. } = &op.kind else {
                return None;
            };
            let shape = prepared.shapes.iter().find(|s| s.model.name == op.model)?;
            let bytes = store.snapshot(&op.model, &op.source_id).ok()??;
            let entry = Entry::from_bytes(&bytes)?;
            // The version the upsert wrote: the one whose content it was checked against.
            let version = std::iter::once(&entry.draft)
                .chain(entry.stages.values())
                .find(|v| v.content_hash_without(&c.skip) == c.content)?;
            Some(content_data(
                shape,
                version,
                &prepared.default_locale,
                false,
                &[],
            ))
        };
        let hooks = UpsertHooks {
            read: &hash_answer,
            update: &rebuild,
        };
        let answer_hash: AnswerHash<'_> = &hooks;
        let mut stream = futures::stream::iter(groups)
            .take_while(move |_| futures::future::ready(!*cancel.borrow()))
            .map(|batch| execute(dest, batch, answer_hash))
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
        tracing::debug!(phase, writes = total, "batches done");
        match self.phase_writes.iter_mut().find(|(p, _)| p == phase) {
            Some((_, writes)) => *writes += total,
            None => self.phase_writes.push((phase.to_owned(), total)),
        }
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
        // Creates an earlier run sent without committing their answers: adopted, not repeated.
        journal::resolve(self.dest, self.prepared, self.store).await?;
        let mut journaled = Vec::new();
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
                let mut select = super::read::version_selection(shape, shape.content);
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
                    self.store,
                    system,
                    &shape.model.name,
                    &w.id,
                    &record,
                    version,
                )
                .await?
                {
                    Ok(dest_id) => {
                        crash_point("upload");
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
                journaled.push(journal::create(&shape.model.name, &id, version));
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
        // Writes that create entries are journaled before they are sent (see `journal`).
        let journaled = journal::of_ops(ops.iter().map(|(_, op)| op), journaled);
        journal::record(self.store, &journaled)?;
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
        .await?;
        journal::settle(self.store)
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
                match &w.edges {
                    Some(sel) => sel.clone(),
                    None => continue,
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
    async fn apply_rounds(&mut self, work: &[Work]) -> Result<(), SyncError> {
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
    async fn apply_draft_publication(&mut self, work: &[Work]) -> Result<(), SyncError> {
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

    fn has_failed(&self, m: usize, id: &str) -> bool {
        let name = &self.prepared.shapes[m].model.name;
        self.record
            .failures
            .iter()
            .any(|f| f.source_id == id && &f.model == name)
    }

    /// Reads the destination's stage versions of the entries marked `check` and compares their
    /// relation targets with the source's, stage by stage; acknowledges the stages that match
    /// and returns the entries with others as republish work.
    async fn check_published(&mut self, work: &[Work]) -> Result<Vec<Work>, SyncError> {
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
                    "query StagesyncCheck($ids: [ID!], $locales: [Locale!]!) {{ list: {}(where: {{ id_in: $ids }}, stage: DRAFT, first: {}, locales: $locales) {{ id documentInStages(stages: [{}], includeCurrent: false) {{ stage {selection} }} }} }}",
                    shape.model.plural,
                    super::read::PAGE_SIZE,
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
                for node in response
                    .data
                    .as_ref()
                    .and_then(|d| d.get("list"))
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
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
                        if found == Some(&expected) {
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

fn select<'e>(entry: &'e Entry, sel: &Sel) -> &'e Version {
    match sel {
        Sel::Draft => &entry.draft,
        Sel::Stage(stage) => entry.stages.get(stage).unwrap_or(&entry.draft),
    }
}

/// Whether every stage the draft's write waits for holds the source's version in the
/// destination (all but `w.publish_drafts`, published after it), and none the source left.
fn rounds_done(entry: &Entry, acked: &Acked, configured: &[String], w: &Work) -> bool {
    let held = held(acked, configured);
    held.keys().all(|s| entry.stages.contains_key(s))
        && entry
            .stages
            .iter()
            .all(|(s, v)| w.publish_drafts.contains(s) || held.get(s) == Some(&Some(key(v))))
}

/// Decides what one entry needs, from its fresh read and what the destination acknowledged.
/// `configured`: the synced non-draft stages.
fn plan_entry(
    m: usize,
    entry: &Entry,
    seen: &crate::store::Hashes,
    record: &NodeRecord,
    full: bool,
    explain: Vec<String>,
    configured: &[String],
) -> Option<Work> {
    // A full pass forgets what was acknowledged, but not what the destination is known to hold
    // (its id, its stages), so it rewrites everything without duplicating or over-unpublishing.
    let acked = if full {
        Acked {
            stages: record.acked.stages.clone(),
            locales: record.acked.locales.clone(),
            file: record.acked.file.clone(),
            ..Default::default()
        }
    } else {
        record.acked.clone()
    };
    let new = record.dest_id.is_none();
    let mut w = Work::new(m, entry.id.clone(), explain);
    let publication_changed = acked.publication != Some(seen.publication);
    let side_effect_only = publication_changed
        && !full
        && !new
        && acked.publication_content == Some(seen.publication_content)
        && acked.stages.as_ref() == Some(&entry.stages.keys().cloned().collect::<Vec<_>>());
    if side_effect_only {
        w.check = true;
        if acked.content != Some(seen.content) {
            w.content = Some(Sel::Draft);
        }
        if acked.edges != Some(seen.edges) {
            w.edges = Some(Sel::Draft);
        }
    } else {
        let (draft, held) = if new {
            ((None, None), BTreeMap::new())
        } else {
            ((acked.content, acked.edges), held(&acked, configured))
        };
        plan_publication(&mut w, entry, draft, &held);
    }
    if w.content.is_none() && w.edges.is_none() && !w.publication() && !w.check {
        return None;
    }
    Some(w)
}

/// Plans the rounds of one entry: each distinct version that stages needing it hold (PUBLISHED's
/// first) is written and published to them; the draft comes last, with the stages holding its
/// version. `draft`: the content and edges hashes the destination's draft holds (`None`:
/// unknown, written); `held`: see [`held`].
fn plan_publication(
    w: &mut Work,
    entry: &Entry,
    draft: (Option<Hash>, Option<Hash>),
    held: &BTreeMap<String, Option<VersionKey>>,
) {
    let mut order: Vec<&String> = entry.stages.keys().collect();
    order.sort_by_key(|s| s.as_str() != "PUBLISHED");
    let mut groups: Vec<(VersionKey, Vec<String>)> = Vec::new();
    for stage in order {
        let k = key(&entry.stages[stage]);
        if held.get(stage) == Some(&Some(k)) {
            continue;
        }
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, stages)) => stages.push(stage.clone()),
            None => groups.push((k, vec![stage.clone()])),
        }
    }
    w.unpublish = held
        .keys()
        .filter(|s| !entry.stages.contains_key(*s))
        .cloned()
        .collect();
    let draft_key = key(&entry.draft);
    let with_draft = match groups.iter().position(|(k, _)| *k == draft_key) {
        Some(i) => groups.remove(i).1,
        None => Vec::new(),
    };
    let mut current = draft;
    let mut rounds: Vec<Round> = groups
        .into_iter()
        .map(|(k, to)| {
            let round = Round {
                sel: Sel::Stage(to[0].clone()),
                content: current.0 != Some(k.0),
                edges: current.1 != Some(k.1),
                to,
            };
            current = (Some(k.0), Some(k.1));
            round
        })
        .collect();
    if rounds.is_empty() {
        w.content = (current.0 != Some(draft_key.0)).then_some(Sel::Draft);
        w.edges = (current.1 != Some(draft_key.1)).then_some(Sel::Draft);
        w.publish = with_draft;
    } else {
        let first = rounds.remove(0);
        w.content = first.content.then(|| first.sel.clone());
        w.edges = first.edges.then(|| first.sel.clone());
        w.publish = first.to;
        w.rounds = rounds;
        // The last round's version is not the draft's: the draft is written after it.
        w.drafts = true;
        w.publish_drafts = with_draft;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn version(body: &str) -> Version {
        let mut v = Version::default();
        v.fields.insert("body".into(), json!(body));
        v
    }

    fn entry(draft: &str, stages: &[(&str, &str)]) -> Entry {
        Entry {
            id: "e1".into(),
            draft: version(draft),
            stages: stages
                .iter()
                .map(|(s, b)| (s.to_string(), version(b)))
                .collect(),
        }
    }

    fn configured() -> Vec<String> {
        vec!["PUBLISHED".into(), "QA".into()]
    }

    /// The record after a sync of `e` acknowledged everything.
    fn synced(e: &Entry) -> NodeRecord {
        let mut acked = Acked {
            content: Some(e.draft.content_hash()),
            edges: Some(e.draft.edges_hash()),
            stages: Some(Vec::new()),
            ..Default::default()
        };
        for (s, v) in &e.stages {
            set_stage(&mut acked, &configured(), s, Some(key(v)));
        }
        refresh_publication(&mut acked, &configured());
        NodeRecord {
            seen: Some(e.hashes()),
            acked,
            dest_id: Some("d1".into()),
            ..Default::default()
        }
    }

    fn plan(e: &Entry, record: &NodeRecord) -> Option<Work> {
        plan_entry(0, e, &e.hashes(), record, false, Vec::new(), &configured())
    }

    #[test]
    fn one_version_in_every_stage_is_one_round() {
        let e = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.content, Some(Sel::Draft));
        assert_eq!(w.edges, Some(Sel::Draft));
        assert_eq!(w.publish, ["PUBLISHED", "QA"]);
        assert!(w.rounds.is_empty() && !w.drafts && w.publish_drafts.is_empty());
        assert!(plan(&e, &synced(&e)).is_none(), "synced: nothing to do");
    }

    #[test]
    fn three_versions_are_two_rounds_then_the_draft() {
        let e = entry("draft", &[("PUBLISHED", "p"), ("QA", "q")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("PUBLISHED".into())));
        assert_eq!(w.publish, ["PUBLISHED"]);
        assert_eq!(w.rounds.len(), 1);
        assert_eq!(w.rounds[0].sel, Sel::Stage("QA".into()));
        assert_eq!(w.rounds[0].to, ["QA"]);
        assert!(
            w.rounds[0].content && !w.rounds[0].edges,
            "same (empty) edges"
        );
        assert!(w.drafts && w.publish_drafts.is_empty());
    }

    #[test]
    fn a_stage_holding_the_draft_is_published_after_it() {
        let e = entry("v2", &[("PUBLISHED", "v1"), ("QA", "v2")]);
        let w = plan(&e, &NodeRecord::default()).unwrap();
        assert_eq!(w.publish, ["PUBLISHED"]);
        assert!(w.rounds.is_empty());
        assert!(w.drafts);
        assert_eq!(w.publish_drafts, ["QA"]);
    }

    #[test]
    fn only_the_changed_stage_is_republished() {
        let before = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let record = synced(&before);
        let after = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v2")]);
        let w = plan(&after, &record).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("QA".into())));
        assert_eq!(w.edges, None);
        assert_eq!(w.publish, ["QA"]);
        assert!(w.drafts && w.unpublish.is_empty());
    }

    #[test]
    fn leaving_one_stage_unpublishes_from_that_stage_only() {
        let before = entry("v1", &[("PUBLISHED", "v1"), ("QA", "v1")]);
        let record = synced(&before);
        let after = entry("v1", &[("PUBLISHED", "v1")]);
        let w = plan(&after, &record).unwrap();
        assert_eq!(w.unpublish, ["QA"]);
        assert!(w.content.is_none() && w.edges.is_none() && w.publish.is_empty());
    }

    #[test]
    fn a_half_done_entry_resumes_with_the_missing_stage() {
        let e = entry("draft", &[("PUBLISHED", "p"), ("QA", "q")]);
        // Killed after PUBLISHED's round: the destination's draft holds PUBLISHED's version.
        let mut acked = Acked {
            content: Some(e.stages["PUBLISHED"].content_hash()),
            edges: Some(e.stages["PUBLISHED"].edges_hash()),
            stages: Some(Vec::new()),
            ..Default::default()
        };
        set_stage(
            &mut acked,
            &configured(),
            "PUBLISHED",
            Some(key(&e.stages["PUBLISHED"])),
        );
        refresh_publication(&mut acked, &configured());
        assert_ne!(acked.publication, Some(e.publication_hash()));
        let record = NodeRecord {
            acked,
            dest_id: Some("d1".into()),
            ..Default::default()
        };
        let w = plan(&e, &record).unwrap();
        assert_eq!(w.content, Some(Sel::Stage("QA".into())));
        assert_eq!(w.publish, ["QA"]);
        assert!(w.rounds.is_empty() && w.drafts);
    }
}
