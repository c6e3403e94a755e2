//! `stagesync trigger [--full]`: asks the running daemon for a run now (queued behind a run in
//! progress). With no daemon running, performs the run here, in the foreground.

use std::sync::{Arc, Mutex};

use crate::cli::TriggerArgs;
use crate::config::Config;
use crate::daemon::control::{Request, TriggerAnswer};
use crate::daemon::inspect;
use crate::daemon::location::Reach;
use crate::daemon::runner::{RunRequest, Runner, SyncRunner};
use crate::store::{RunMode, RunStatus};

use super::Exit;

pub fn run(args: TriggerArgs) -> anyhow::Result<Exit> {
    let location = super::locate(&args.config)?;
    let mode = if args.full {
        RunMode::Full
    } else {
        RunMode::Incremental
    };
    let store = match location.reach(true)? {
        Reach::Daemon(client) => {
            let answer: TriggerAnswer = client.request(&Request::Trigger { full: args.full })?;
            println!("{}", answer.message);
            return Ok(Exit::Ok);
        }
        Reach::Store(store) => store,
    };
    let Some(store) = store else {
        anyhow::bail!("no store at {}", location.state_dir.display());
    };
    tracing::info!(
        socket = %location.socket.display(),
        "no daemon answers; running the sync here"
    );
    let config = Config::load(&args.config.config, args.config.state_dir.as_deref())?;
    let runner = SyncRunner {
        config: Arc::new(config),
        store: store.clone(),
    };
    let (_cancel_tx, cancel) = tokio::sync::watch::channel(false);
    let outcome = super::runtime()?.block_on(runner.run(RunRequest {
        mode,
        cancel,
        live: Arc::new(Mutex::new(None)),
    }));
    store.flush()?;
    let record = outcome?;
    let summary = inspect::summary(&record, None);
    print!("{}", super::checkpoints::runs_table(&[summary]));
    Ok(match record.status {
        // `sync::run` recorded the run and its success.
        RunStatus::Succeeded => Exit::Ok,
        RunStatus::CompletedWithFailures(_) => Exit::PartialFailure,
        _ => Exit::Failure,
    })
}
