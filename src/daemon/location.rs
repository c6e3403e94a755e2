//! Where a daemon's store and control socket are, found from the config file without resolving
//! its tokens: inspecting state (`status`, `checkpoints`) must work from an admin shell that has
//! no `$CREDENTIALS_DIRECTORY` and no token variables.
//!
//! [`Location::reach`] implements "socket first, store second": a listening daemon answers;
//! otherwise the store is opened directly (and a stale socket file removed).

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::control::{self, Client, ControlError};
use super::schedule::Schedule;
use crate::config::{ConfigError, Placement};
use crate::store::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct Location {
    pub state_dir: PathBuf,
    pub socket: PathBuf,
    /// The configured schedule, if the config file could be read and has a valid one.
    pub schedule: Option<Schedule>,
}

/// A daemon, or the store itself.
pub enum Reach {
    Daemon(Client),
    /// `None`: no store exists at the state directory yet.
    Store(Option<Store>),
}

#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "the store at {store} is held by another process, but no daemon answers on {socket}: \
         a one-shot `stagesync sync` may be running; wait for it to end and try again"
    )]
    HeldWithoutDaemon { store: PathBuf, socket: PathBuf },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// How long `reach` keeps asking the socket while the store is locked: covers a daemon that
/// has opened the store but not yet bound its socket.
const LOCKED_RETRY: Duration = Duration::from_secs(3);

impl Location {
    /// From the config file and the `--state-dir` flag (see [`Placement::load`]): with a state
    /// directory given, a missing config file is fine.
    pub fn find(config: &Path, state_dir: Option<&Path>) -> Result<Location, LocationError> {
        let placement = Placement::load(config, state_dir)?;
        Ok(Location::at(&placement.state_dir, placement.schedule))
    }

    pub fn at(state_dir: &Path, schedule: Option<Schedule>) -> Location {
        Location {
            socket: control::socket_path(state_dir),
            state_dir: state_dir.to_owned(),
            schedule,
        }
    }

    /// The running daemon if one answers, else the store opened directly (`None` if it does
    /// not exist and `create` is false).
    pub fn reach(&self, create: bool) -> Result<Reach, LocationError> {
        let deadline = std::time::Instant::now() + LOCKED_RETRY;
        loop {
            if let Some(client) = Client::connect(&self.socket)? {
                return Ok(Reach::Daemon(client));
            }
            if !create && !self.state_dir.join("store").exists() {
                return Ok(Reach::Store(None));
            }
            match Store::open(&self.state_dir) {
                Ok(store) => {
                    // We hold the store, so no daemon of it listens: the file is stale.
                    if self.socket.exists() {
                        let _ = std::fs::remove_file(&self.socket);
                    }
                    return Ok(Reach::Store(Some(store)));
                }
                Err(StoreError::Locked { path }) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(LocationError::HeldWithoutDaemon {
                            store: path,
                            socket: self.socket.clone(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}
