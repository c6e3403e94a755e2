//! `stagesync reset [--model M] [--yes]`: forgets stored state. Refused while a daemon (or any
//! other process) holds the store; asks for confirmation unless `--yes`. Forgetting everything
//! removes the store's files without opening them ([`store::remove`]), so it works on a store too
//! damaged to open; forgetting one model opens the store.

use std::io::{BufRead, IsTerminal, Write};

use crate::cli::ResetArgs;
use crate::daemon::control::{Client, Request};
use crate::daemon::location::{LocationError, Reach};
use crate::store::{self, StoreError};

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
    let Some(model) = &args.model else {
        return match store::remove(&location.state_dir) {
            Ok(None) => {
                println!(
                    "nothing to forget: no store at {}",
                    location.state_dir.display()
                );
                Ok(Exit::Ok)
            }
            Ok(Some(files)) => {
                println!(
                    "forgot {what}: removed the store at {} ({files} files); the next sync \
                     adopts the destination's existing entries by identity key",
                    location.state_dir.join("store").display()
                );
                Ok(Exit::Ok)
            }
            Err(StoreError::Locked { path }) => Err(LocationError::HeldWithoutDaemon {
                store: path,
                socket: location.socket.clone(),
            }
            .into()),
            Err(e) => Err(e.into()),
        };
    };
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
            let forgotten = store.nodes_of(model).count();
            store.reset(Some(model))?;
            println!("forgot {what}: {forgotten} entries");
            Ok(Exit::Ok)
        }
    }
}
