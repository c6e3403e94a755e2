//! The sync engine: one run makes the destination hold what the source holds, writing only what
//! changed since the last acknowledged write.
//!
//! read → canonicalize + hash → snapshot → plan → apply (assets, content, edges, publication,
//! drafts, deletions) → commit. See `shared/DESIGN.md`, "The sync, one run".

use std::sync::Arc;

use crate::config::Config;
use crate::store::{Checkpoint, RunMode, RunRecord, Store, StoreError};

/// What a caller asks of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub mode: RunMode,
    /// With `DryRun`: list changed fields per entry.
    pub explain: bool,
    /// Let deletions beyond `deletions.max` through for this run.
    pub allow_mass_delete: bool,
    /// Progress bars on an interactive terminal (else log lines).
    pub progress_bars: bool,
    /// Set to `true` to stop the run at the next safe point (between batches).
    pub cancel: tokio::sync::watch::Receiver<bool>,
    /// Live progress, for `status` while a daemon runs.
    pub live: Option<Arc<std::sync::Mutex<Option<Checkpoint>>>>,
}

impl RunOptions {
    pub fn new(mode: RunMode) -> RunOptions {
        let (_tx, cancel) = tokio::sync::watch::channel(false);
        RunOptions {
            mode,
            explain: false,
            allow_mass_delete: false,
            progress_bars: false,
            cancel,
            live: None,
        }
    }
}

/// The outcome of a run that got to its end (possibly with failed entries).
#[derive(Debug, Clone)]
pub struct RunReport {
    /// The record also stored in the `runs` tree.
    pub record: RunRecord,
    /// The plan, for dry runs: human-readable lines per model.
    pub plan_text: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sync is not implemented yet")]
    NotImplemented,
    #[error(
        "the run was stopped before it finished; the next run resumes from the acknowledged state"
    )]
    Cancelled,
}

/// Runs one sync.
pub async fn run(
    _config: &Config,
    _store: &Store,
    _opts: RunOptions,
) -> Result<RunReport, SyncError> {
    Err(SyncError::NotImplemented)
}
