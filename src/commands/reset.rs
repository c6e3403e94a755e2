//! `stagesync reset [--model M] [--yes]`: forgets stored state. Refused while a daemon holds the
//! store; asks for confirmation unless `--yes`.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::ResetArgs;
use crate::daemon::control::{Client, Request};
use crate::daemon::location::Reach;

use super::{Exit, UsageError};

pub fn run(args: ResetArgs) -> anyhow::Result<Exit> {
    let location = super::locate(&args.config)?;
    // A daemon refuses with the reason; asking it first spares a pointless confirmation.
    if let Some(client) = Client::connect(&location.socket)? {
        client.request::<serde_json::Value>(&Request::Reset)?;
    }
    let what = match &args.model {
        Some(model) => format!("every tracked entry of {model}"),
        None => "all stored state (entries, snapshots, runs, checkpoints)".to_owned(),
    };
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(UsageError(format!(
                "reset would forget {what} in {}; pass --yes to confirm without a terminal",
                location.state_dir.display()
            ))
            .into());
        }
        eprint!(
            "Forget {what} in {}? The next sync re-reads everything and adopts matching destination entries. [y/N] ",
            location.state_dir.display()
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            eprintln!("nothing forgotten");
            return Ok(Exit::Failure);
        }
    }
    match location.reach(false)? {
        Reach::Daemon(client) => {
            client.request::<serde_json::Value>(&Request::Reset)?;
            Ok(Exit::Failure)
        }
        Reach::Store(None) => {
            println!(
                "nothing to forget: no store at {}",
                location.state_dir.display()
            );
            Ok(Exit::Ok)
        }
        Reach::Store(Some(store)) => {
            let forgotten = match &args.model {
                Some(model) => store.nodes_of(model).count(),
                None => {
                    let mut n = 0;
                    for model in store.tracked_models()? {
                        n += store.nodes_of(&model).count();
                    }
                    n
                }
            };
            store.reset(args.model.as_deref())?;
            println!("forgot {what}: {forgotten} entries");
            Ok(Exit::Ok)
        }
    }
}
