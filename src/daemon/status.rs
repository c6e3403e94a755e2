//! What `stagesync status` shows: the daemon's own state (kept in memory by the run loop) plus
//! the last runs from the store. Built the same way from a directly opened store when no daemon
//! runs, with the daemon part saying so.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inspect::{self, RunSummary};
use super::schedule::Schedule;
use crate::store::{Checkpoint, RunMode, Store, StoreError};

/// How many runs `status` lists.
pub const LAST_RUNS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    NotRunning,
    Starting,
    Idle,
    Running,
    /// Waiting for the retry after a failed run.
    Retrying,
    Stopping,
}

impl Phase {
    pub fn as_str(&self) -> &'static str {
        match self {
            Phase::NotRunning => "not running",
            Phase::Starting => "starting",
            Phase::Idle => "idle",
            Phase::Running => "running",
            Phase::Retrying => "retrying after a failure",
            Phase::Stopping => "stopping",
        }
    }
}

/// The run in progress, as the run loop knows it.
#[derive(Debug, Clone)]
pub struct CurrentRun {
    pub mode: RunMode,
    pub started_at: DateTime<Utc>,
    /// Why it started: `schedule`, `catch-up`, `retry`, `trigger`.
    pub reason: &'static str,
    pub live: Arc<Mutex<Option<Checkpoint>>>,
}

/// The daemon's state, written by the run loop, read by the control socket.
#[derive(Debug, Clone)]
pub struct DaemonState {
    pub phase: Phase,
    pub since: DateTime<Utc>,
    pub schedule: String,
    pub next_scheduled: Option<DateTime<Utc>>,
    pub current: Option<CurrentRun>,
    /// A trigger that arrived during a run, to start when it ends.
    pub queued: Option<RunMode>,
    pub last_result: Option<String>,
    pub consecutive_failures: u32,
    pub next_retry: Option<DateTime<Utc>>,
    pub skipped_ticks: u64,
}

impl DaemonState {
    pub fn new(schedule: &Schedule) -> DaemonState {
        let now = Utc::now();
        DaemonState {
            phase: Phase::Starting,
            since: now,
            schedule: schedule.expr().to_owned(),
            next_scheduled: schedule.next_after(now),
            current: None,
            queued: None,
            last_result: None,
            consecutive_failures: 0,
            next_retry: None,
            skipped_ticks: 0,
        }
    }

    /// The run id of the run in progress, once the runner published one.
    pub fn active_run(&self) -> Option<u64> {
        let current = self.current.as_ref()?;
        let live = current.live.lock().ok()?;
        live.as_ref().map(|cp| cp.run)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentRunView {
    pub run: Option<u64>,
    pub mode: String,
    pub reason: String,
    pub started_at: String,
    pub phase: Option<String>,
    pub model: Option<String>,
    pub pages_read: u64,
    pub entries_read: u64,
    pub batches_acked: u64,
    pub writes_pending: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    /// `not-running`, `starting`, `idle`, `running`, `retrying`, `stopping`.
    pub daemon: Phase,
    pub pid: Option<u32>,
    pub since: Option<String>,
    pub schedule: Option<String>,
    pub next_scheduled: Option<String>,
    pub current_run: Option<CurrentRunView>,
    pub queued: Option<String>,
    pub last_result: Option<String>,
    pub consecutive_failures: u32,
    pub next_retry: Option<String>,
    pub skipped_ticks: u64,
    pub last_success: Option<String>,
    pub last_runs: Vec<RunSummary>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The status of a live daemon.
pub fn live_view(state: &DaemonState, store: &Store) -> Result<StatusView, StoreError> {
    let active = state.active_run();
    let current_run = state.current.as_ref().map(|c| {
        let live = c.live.lock().map(|l| l.clone()).unwrap_or(None);
        CurrentRunView {
            run: live.as_ref().map(|cp| cp.run),
            mode: c.mode.as_str().to_owned(),
            reason: c.reason.to_owned(),
            started_at: time(c.started_at),
            phase: live.as_ref().map(|cp| cp.phase.clone()),
            model: live.as_ref().map(|cp| cp.model.clone()),
            pages_read: live.as_ref().map_or(0, |cp| cp.pages_read),
            entries_read: live.as_ref().map_or(0, |cp| cp.entries_read),
            batches_acked: live.as_ref().map_or(0, |cp| cp.batches_acked),
            writes_pending: live.as_ref().map_or(0, |cp| cp.writes_pending),
        }
    });
    Ok(StatusView {
        daemon: state.phase,
        pid: Some(std::process::id()),
        since: Some(time(state.since)),
        schedule: Some(state.schedule.clone()),
        next_scheduled: state.next_scheduled.map(time),
        current_run,
        queued: state.queued.map(|m| m.as_str().to_owned()),
        last_result: state.last_result.clone(),
        consecutive_failures: state.consecutive_failures,
        next_retry: state.next_retry.map(time),
        skipped_ticks: state.skipped_ticks,
        last_success: store.last_success()?.map(crate::render::rfc3339),
        last_runs: inspect::runs(store, LAST_RUNS, active)?,
    })
}

/// The status when no daemon runs: from the store (if there is one) and the configured schedule.
pub fn offline_view(
    store: Option<&Store>,
    schedule: Option<&Schedule>,
) -> Result<StatusView, StoreError> {
    Ok(StatusView {
        daemon: Phase::NotRunning,
        pid: None,
        since: None,
        schedule: schedule.map(|s| s.expr().to_owned()),
        next_scheduled: schedule.and_then(|s| s.next_after(Utc::now())).map(time),
        current_run: None,
        queued: None,
        last_result: None,
        consecutive_failures: 0,
        next_retry: None,
        skipped_ticks: 0,
        last_success: match store {
            Some(store) => store.last_success()?.map(crate::render::rfc3339),
            None => None,
        },
        last_runs: match store {
            Some(store) => inspect::runs(store, LAST_RUNS, None)?,
            None => Vec::new(),
        },
    })
}
