//! `stagesync daemon`: runs syncs on the configured schedule until SIGTERM (the systemd service).

use crate::cli::DaemonArgs;
use crate::config::Config;
use crate::daemon::{self, DaemonError};

use super::{Exit, UsageError};

pub fn run(args: DaemonArgs) -> anyhow::Result<Exit> {
    let config = Config::load(&args.config.config, args.config.state_dir.as_deref())?;
    let runtime = super::runtime()?;
    match runtime.block_on(daemon::run(config, &args.config.config)) {
        Ok(()) => Ok(Exit::Ok),
        // Exit 2: systemd's RestartPreventExitStatus=2 keeps these from restarting forever.
        Err(e @ (DaemonError::NoSchedule { .. } | DaemonError::Endpoint(_))) => {
            Err(UsageError(e.to_string()).into())
        }
        Err(e) => Err(e.into()),
    }
}
