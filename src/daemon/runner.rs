//! What the daemon calls to perform one run. A trait so the schedule, overlap guard, backoff and
//! control socket can be tested with a fake; the binary uses [`SyncRunner`] (`sync::run`).

use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::watch;

use crate::config::Config;
use crate::store::{Checkpoint, RunMode, RunRecord, Store};
use crate::sync::{self, RunOptions, SyncError};

/// One run asked of a [`Runner`].
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub mode: RunMode,
    /// Becomes `true` when the daemon stops: finish or abandon the current batch safely.
    pub cancel: watch::Receiver<bool>,
    /// Where the runner publishes its progress for `status`.
    pub live: Arc<Mutex<Option<Checkpoint>>>,
}

/// A run that did not get to its end.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RunFailure {
    pub message: String,
    /// Stopped on request, not failed: no retry.
    pub cancelled: bool,
    /// Worth retrying on its own: not a config error or the deletion guard, which need a
    /// person (a fixed config or schema, `--allow-mass-delete`) and fail the same way until then.
    pub retry: bool,
}

impl RunFailure {
    pub fn of(err: &SyncError) -> RunFailure {
        RunFailure {
            cancelled: matches!(err, SyncError::Cancelled),
            retry: !(err.is_config() || matches!(err, SyncError::DeletionGuard { .. })),
            message: format!("{err:#}"),
        }
    }
}

pub trait Runner: Send + Sync + 'static {
    fn run(&self, request: RunRequest) -> BoxFuture<'static, Result<RunRecord, RunFailure>>;
}

/// The real thing: `sync::run` on the daemon's config and store.
pub struct SyncRunner {
    pub config: Arc<Config>,
    pub store: Store,
}

impl Runner for SyncRunner {
    fn run(&self, request: RunRequest) -> BoxFuture<'static, Result<RunRecord, RunFailure>> {
        let config = self.config.clone();
        let store = self.store.clone();
        Box::pin(async move {
            let mut opts = RunOptions::new(request.mode);
            opts.cancel = request.cancel;
            opts.live = Some(request.live);
            match sync::run(&config, &store, opts).await {
                Ok(report) => Ok(report.record),
                Err(err) => Err(RunFailure::of(&err)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_and_the_deletion_guard_are_not_retried() {
        let guard = SyncError::DeletionGuard {
            model: "Talk".into(),
            count: 90,
            tracked: 100,
            limit: "10%".into(),
        };
        assert!(!RunFailure::of(&guard).retry);
        assert!(!RunFailure::of(&SyncError::UnknownModels(vec!["Tlak".into()])).retry);
        assert!(!RunFailure::of(&SyncError::ReadOnlyDestination).retry);
        let read = SyncError::Read {
            endpoint: "source".into(),
            model: "Talk".into(),
            message: "HTTP 503".into(),
        };
        assert!(RunFailure::of(&read).retry);
        let stopped = RunFailure::of(&SyncError::Cancelled);
        assert!(stopped.cancelled);
    }
}
