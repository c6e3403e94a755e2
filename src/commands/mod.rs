//! One file per subcommand. Each turns typed CLI arguments into calls on the library and prints
//! the result; none holds sync logic of its own.

mod checkpoints;
mod daemon;
#[cfg(feature = "emulator")]
mod demo;
#[cfg(feature = "emulator")]
mod emulator;
mod report;
mod reset;
mod schema;
mod status;
mod sync;
mod trigger;
mod verify;

use crate::cli::{Command, ConfigArgs, GlobalArgs};
use crate::daemon::location::{Location, LocationError};

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

/// The exit code of an error: 2 for anything the user must fix in the command line or the
/// config (in every command alike), else 1.
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
        if let Some(LocationError::Config(_)) = cause.downcast_ref::<LocationError>() {
            return Exit::Usage;
        }
    }
    Exit::Failure
}

/// An error as one line per distinct cause: a cause whose text its parent already shows (a
/// `{source}` written into the message) is not repeated.
pub fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let line = cause.to_string();
        if text.contains(&line) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&line);
    }
    text
}

/// What every command needs from the global flags.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Draw progress bars on stderr.
    pub progress: bool,
}

impl Output {
    pub fn from_args(args: &GlobalArgs) -> Output {
        Output {
            progress: args.progress.bars(),
        }
    }
}

pub fn run(command: Command, output: Output) -> anyhow::Result<Exit> {
    match command {
        #[cfg(feature = "emulator")]
        Command::Demo(args) => demo::run(args, output),
        Command::Sync(args) => sync::run(args, output),
        Command::Plan(args) => sync::plan(args, output),
        Command::Verify(args) => verify::run(args),
        Command::Daemon(args) => daemon::run(args),
        Command::Status(args) => status::run(args),
        Command::Trigger(args) => trigger::run(args),
        Command::Checkpoints(args) => checkpoints::run(args),
        Command::Reset(args) => reset::run(args),
        Command::Schema(args) => schema::run(args),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator::run(args),
    }
}

/// The store's location from `--config`/`--state-dir`, for the commands that inspect it.
pub(crate) fn locate(args: &ConfigArgs) -> Result<Location, LocationError> {
    Location::find(&args.config, args.state_dir.as_deref())
}

/// JSON on stdout: the versioned object every `--json` prints (`{"version": 1, ...}`).
pub(crate) fn print_json(value: impl serde::Serialize) -> anyhow::Result<()> {
    let mut value = serde_json::to_value(value)?;
    let body = match value.as_object_mut() {
        Some(map) => std::mem::take(map),
        None => {
            let mut map = serde_json::Map::new();
            map.insert("data".into(), value);
            map
        }
    };
    let mut out = serde_json::Map::new();
    out.insert("version".into(), JSON_VERSION.into());
    out.extend(body);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// The version of every `--json` object; a change that removes or renames a field raises it.
pub const JSON_VERSION: u32 = 1;

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
