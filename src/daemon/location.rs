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
use crate::cli::ConfigArgs;
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
    #[error("cannot read the config file {path}: {source}; pass --config FILE, or --state-dir DIR to inspect a store without a config")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
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
    /// From `--config`/`--state-dir`. With `--state-dir`, a missing config file is fine.
    pub fn from_args(args: &ConfigArgs) -> Result<Location, LocationError> {
        let text = match std::fs::read_to_string(&args.config) {
            Ok(text) => Some(text),
            Err(_) if args.state_dir.is_some() => None,
            Err(source) => {
                return Err(LocationError::Read {
                    path: args.config.clone(),
                    source,
                })
            }
        };
        let table =
            match &text {
                Some(text) => Some(toml::from_str::<toml::Table>(text).map_err(|e| {
                    LocationError::Syntax {
                        path: args.config.clone(),
                        message: e.to_string().trim_end().to_owned(),
                    }
                })?),
                None => None,
            };
        let from_file = |key: &str| {
            table
                .as_ref()
                .and_then(|t| t.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        // Same precedence as `Config::load`: flag, file, $STATE_DIRECTORY, `state`.
        let state_dir = args
            .state_dir
            .clone()
            .or_else(|| from_file("state_dir").map(PathBuf::from))
            .or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("state"));
        let schedule = from_file("schedule").and_then(|s| Schedule::parse(&s).ok());
        Ok(Location::at(&state_dir, schedule))
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
