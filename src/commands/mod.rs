//! One file per subcommand. Each turns typed CLI arguments into calls on the library and prints
//! the result; none holds sync logic of its own.

mod checkpoints;
mod daemon;
#[cfg(feature = "emulator")]
mod demo;
#[cfg(feature = "emulator")]
mod emulator;
pub mod report;
mod reset;
mod schema;
mod status;
mod sync;
mod trigger;
mod verify;

use crate::cli::Command;

/// Documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success; for `verify`, both sides match.
    Ok = 0,
    /// A failure: network, server, store, deletion guard. Nothing unacknowledged was recorded.
    Failure = 1,
    /// Bad usage or configuration: nothing was read or written.
    Usage = 2,
    /// The run completed, but some entries failed and were not acknowledged (see the report).
    PartialFailure = 3,
    /// `verify` found differences.
    Differences = 4,
}

/// Marks an error as a usage or configuration problem (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

pub fn exit_code_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<crate::config::ConfigError>() {
            return Exit::Usage;
        }
        if let Some(e) = cause.downcast_ref::<crate::sync::SyncError>() {
            if e.is_config() {
                return Exit::Usage;
            }
        }
    }
    Exit::Failure
}

pub fn run(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Schema(args) => schema::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Status(args) => status::run(args),
        Command::Trigger(args) => trigger::run(args),
        Command::Checkpoints(args) => checkpoints::run(args),
        Command::Reset(args) => reset::run(args),
        Command::Sync(args) => sync::run(args),
        Command::Plan(args) => sync::plan(args),
        Command::Verify(args) => verify::run(args),
        #[cfg(feature = "emulator")]
        Command::Demo(args) => demo::run(args),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator::run(args),
    }
}

/// A multi-threaded runtime for commands that talk to the network.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Resolves on SIGTERM or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Unix milliseconds as RFC 3339 UTC.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
