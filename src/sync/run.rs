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
use crate::store::{
    Checkpoint, EndpointCounts, ModelCounts, RunMode, RunRecord, RunStatus, Store, StoreError,
};

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
    let schemas = prepare(config, &source, &dest).await?;
    let prepared = Prepared::new(config, Some(store), &schemas)?;
    let opts = resume_as_repair(store, opts)?;
    let mut record = run_started(store, &prepared, opts.mode)?;
    let run_id = record.id;
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
    run_finished(store, &prepared, [&source, &dest], &mut record, &result)?;
    result.map(|plan| RunReport { record, plan })
}

/// A run that did not finish (killed, stopped, failed) may have left the destination in
/// states no acknowledgement describes (a round's version in a draft, targets taken from
/// their owners): the next incremental run compares the destination first.
fn resume_as_repair(store: &Store, mut opts: RunOptions) -> Result<RunOptions, SyncError> {
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
    Ok(opts)
}

/// The run's record, stored before anything is read, and its first log line.
fn run_started(
    store: &Store,
    prepared: &Prepared<'_>,
    mode: RunMode,
) -> Result<RunRecord, SyncError> {
    let record = RunRecord {
        id: store.next_run_id()?,
        started_at: now_ms(),
        finished_at: None,
        mode,
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
    record_run(store, &record)?;
    info!(
        run = record.id,
        mode = mode.as_str(),
        models = prepared.shapes.len(),
        "run started"
    );
    Ok(record)
}

/// The run's end, whatever it was: its status and request counts in the record, the checkpoint
/// cleared and the schema fingerprints saved when it got to its end (failed entries or not),
/// and its last log line.
fn run_finished(
    store: &Store,
    prepared: &Prepared<'_>,
    [source, dest]: [&Client; 2],
    record: &mut RunRecord,
    result: &Result<Option<Plan>, SyncError>,
) -> Result<(), SyncError> {
    record.finished_at = Some(now_ms());
    let mutations = record.destination.mutations;
    record.source = counts(source);
    record.destination = counts(dest);
    record.destination.mutations = mutations;
    record.status = match result {
        Ok(_) if record.failures.is_empty() => RunStatus::Succeeded,
        Ok(_) => RunStatus::CompletedWithFailures(record.failures.len() as u64),
        // Stopped on request: unfinished, not failed (shown as interrupted; the next run resumes).
        Err(SyncError::Cancelled) => RunStatus::Running,
        Err(e) => RunStatus::Failed(e.to_string()),
    };
    record_run(store, record)?;
    if result.is_ok() {
        store.clear_checkpoint()?;
        // With failed entries too: they are unacknowledged, so the next run retries them and
        // only them (not the whole model again, as a changed fingerprint would).
        if record.mode != RunMode::DryRun {
            for (model, fingerprint) in &prepared.fingerprints {
                store.set_model_fingerprint(model, *fingerprint)?;
            }
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
        run = record.id,
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
    Ok(())
}

/// Writes a run's record (the one place that does, for the engine and the daemon's tests
/// alike) and, for a run that [`succeeded`], `last_success`: its end.
pub fn record_run(store: &Store, record: &RunRecord) -> Result<(), StoreError> {
    store.put_run(record)?;
    if succeeded(record) {
        store.set_last_success(record.finished_at.unwrap_or(record.started_at))?;
    }
    Ok(())
}

/// The one rule for `last_success`: a run that wrote (not a dry run) and got to its end with
/// no failed entry.
pub fn succeeded(record: &RunRecord) -> bool {
    record.status == RunStatus::Succeeded
        && record.mode != RunMode::DryRun
        && record.finished_at.is_some()
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
        // A repair first makes the acknowledgements say what the destination holds; the run
        // then writes what differs, like any incremental run.
        if self.opts.mode == RunMode::Repair {
            let found =
                super::repair::reconcile(self.prepared, self.store, self.source, self.dest).await?;
            info!(
                run = self.record.id,
                differences = found,
                "repair: destination compared"
            );
        }
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
