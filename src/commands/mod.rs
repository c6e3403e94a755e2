//! One file per subcommand. Each turns typed CLI arguments into calls on the library and prints
//! the result; none holds sync logic of its own.

#[cfg(feature = "emulator")]
mod emulator;
mod schema;

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
    }
    Exit::Failure
}

pub fn run(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Schema(args) => schema::run(args),
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => emulator::run(args),
        #[allow(unreachable_patterns)]
        _ => Err(UsageError("this command is not available yet in this build".into()).into()),
    }
}

/// A multi-threaded runtime for commands that talk to the network.
#[allow(dead_code)] // used by the network commands as they land
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
