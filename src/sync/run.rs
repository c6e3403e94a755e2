//! One run, phase by phase: prepare → read (+ plan per entry) → guard → apply (assets and
//! content, edges, publication, further stage rounds, drafts, deletions) → finish.
//! Acknowledged state is committed after every acknowledged batch, never before. This file
//! holds the order of the phases and the run's bookkeeping; the phases are in `scan`, `plan`
//! and `apply/*`.

use tracing::info;

use super::engine::Engine;
use super::plan::{Deletions, ModelPlan, Plan, SkippedField, Work};
use super::{endpoint_client, prepare, Prepared, RunOptions, RunReport, SyncError};
use crate::config::{Config, DeletionPolicy};
use crate::hygraph::Client;
use crate::store::{Checkpoint, EndpointCounts, ModelCounts, RunMode, RunRecord, RunStatus, Store};

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
    let plan = match &result {
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
    result.map(|_| RunReport { record, plan })
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

impl Engine<'_> {
    /// Returns the plan for dry runs.
    async fn run_phases(&mut self) -> Result<Option<Plan>, SyncError> {
        let mut work: Vec<Work> = Vec::new();
        let mut deletions: Vec<Deletions> = Vec::new();
        for m in 0..self.prepared.shapes.len() {
            let (w, seen) = self.read_model(m).await?;
            work.extend(w);
            deletions.push((m, self.deletion_candidates(m, &seen)?));
        }
        self.guard_deletions(&deletions)?;
        if self.opts.mode == RunMode::DryRun {
            return Ok(Some(self.plan(&work, &deletions)));
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

    /// The dry run's report: the work per model, as data.
    fn plan(&self, work: &[Work], deletions: &[Deletions]) -> Plan {
        let mirror = self.config.deletion_policy == DeletionPolicy::Mirror;
        let models = self
            .prepared
            .shapes
            .iter()
            .enumerate()
            .map(|(m, shape)| {
                let mine: Vec<&Work> = work.iter().filter(|w| w.model == m).collect();
                let gone: Vec<String> = deletions[m].1.iter().map(|(id, _)| id.clone()).collect();
                let mut plan = ModelPlan::new(
                    shape.model.name.clone(),
                    &mine,
                    &gone,
                    self.record.models[m].unchanged,
                    mirror,
                    self.opts.explain,
                );
                plan.skipped = shape
                    .skipped
                    .iter()
                    .map(|(field, reason)| SkippedField {
                        field: field.name.clone(),
                        reason: reason.clone(),
                    })
                    .collect();
                plan
            })
            .collect();
        Plan { models }
    }
}
