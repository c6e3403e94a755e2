//! The control socket: how the CLI reaches a daemon that holds the store (sled allows one
//! process per store). A Unix socket, mode 0600, one newline-delimited JSON request and one
//! response per connection:
//!
//! ```text
//! → {"request":"status"}
//! → {"request":"trigger","full":true}
//! → {"request":"checkpoints","view":{"view":"show","run":3}}
//! → {"request":"reset"}                      (always refused: stop the daemon first)
//! ← {"ok":<the view as JSON>}  |  {"error":"<message>"}
//! ```
//!
//! The server never holds a lock across a store read, and reads run on blocking threads, so a
//! slow client cannot stall the run loop; the client has timeouts, so a stuck daemon cannot
//! hang the CLI.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

use super::inspect::{self, View};
use super::status::{self, DaemonState};
use crate::store::{RunMode, Store};

/// The socket's file name, in `$RUNTIME_DIRECTORY` or the state directory.
pub const SOCKET_NAME: &str = "stagesync.sock";

/// A request is one line; nothing legitimate comes close to this.
const MAX_REQUEST_BYTES: usize = 64 * 1024;
const SERVER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Status,
    Trigger { full: bool },
    Checkpoints { view: View },
    Reset,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    Ok(serde_json::Value),
    Error(String),
}

/// The answer to a trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerAnswer {
    pub mode: String,
    /// `started`, or `queued` behind the run in progress.
    pub outcome: String,
    pub message: String,
}

/// A trigger handed from the socket to the run loop.
#[derive(Debug)]
pub struct TriggerCommand {
    pub mode: RunMode,
    pub reply: oneshot::Sender<TriggerAnswer>,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("cannot create the control socket {path}: {source}; check that the directory exists and is writable by the daemon's user")]
    Bind {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("talking to the daemon on {path} failed: {source}; is it stuck? `systemctl status stagesync` / the journal tell")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the daemon on {path} answered something unreadable ({detail}); the daemon and this CLI may be different stagesync versions")]
    Protocol { path: PathBuf, detail: String },
    #[error("{0}")]
    Daemon(String),
}

/// The socket path for a state directory: `$RUNTIME_DIRECTORY` wins (systemd's
/// `RuntimeDirectory=`), else the state directory.
pub fn socket_path(state_dir: &Path) -> PathBuf {
    match std::env::var_os("RUNTIME_DIRECTORY") {
        // systemd may pass several, separated by ':'; the first is ours.
        Some(dirs) if !dirs.is_empty() => {
            let first = dirs
                .to_string_lossy()
                .split(':')
                .next()
                .unwrap_or_default()
                .to_owned();
            PathBuf::from(first).join(SOCKET_NAME)
        }
        _ => state_dir.join(SOCKET_NAME),
    }
}

/// The daemon's side: what a request needs.
#[derive(Clone)]
pub struct ControlServer {
    pub state: Arc<Mutex<DaemonState>>,
    pub store: Store,
    pub triggers: mpsc::Sender<TriggerCommand>,
}

/// A bound socket; removes its file when dropped.
pub struct BoundSocket {
    pub listener: UnixListener,
    pub path: PathBuf,
}

impl Drop for BoundSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the socket, replacing a stale file (the caller holds the store, so no other daemon of
/// this store can be listening there).
pub fn bind(path: &Path) -> Result<BoundSocket, ControlError> {
    let err = |source| ControlError::Bind {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => tracing::info!(socket = %path.display(), "removed a stale control socket"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    Ok(BoundSocket {
        listener,
        path: path.to_owned(),
    })
}

impl ControlServer {
    /// Accepts connections until the task is dropped.
    pub async fn serve(self, socket: &BoundSocket) {
        loop {
            match socket.listener.accept().await {
                Ok((stream, _)) => {
                    let server = self.clone();
                    tokio::spawn(async move { server.connection(stream).await });
                }
                Err(e) => {
                    tracing::warn!("control socket accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    async fn connection(self, stream: tokio::net::UnixStream) {
        let (read, mut write) = stream.into_split();
        let mut reader = tokio::io::BufReader::new(read).take(MAX_REQUEST_BYTES as u64);
        let mut line = String::new();
        let response =
            match tokio::time::timeout(SERVER_READ_TIMEOUT, reader.read_line(&mut line)).await {
                Err(_) => return,
                Ok(Err(e)) => Response::Error(format!("unreadable request: {e}")),
                Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim()) {
                    Ok(request) => self.answer(request).await,
                    Err(e) => Response::Error(format!("unknown request: {e}")),
                },
            };
        let mut out = serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec());
        out.push(b'\n');
        let _ = write.write_all(&out).await;
        let _ = write.shutdown().await;
    }

    async fn answer(&self, request: Request) -> Response {
        match request {
            Request::Status => {
                let state = self.state.lock().ok().map(|s| s.clone());
                let Some(state) = state else {
                    return Response::Error("the daemon's state is unavailable".into());
                };
                let store = self.store.clone();
                blocking(move || status::live_view(&state, &store).map_err(|e| e.to_string())).await
            }
            Request::Checkpoints { view } => {
                let active = self.state.lock().ok().and_then(|s| s.active_run());
                let store = self.store.clone();
                blocking(move || {
                    inspect::view(Some(&store), &view, active).map_err(|e| e.to_string())
                })
                .await
            }
            Request::Trigger { full } => {
                let mode = if full {
                    RunMode::Full
                } else {
                    RunMode::Incremental
                };
                let (reply, answer) = oneshot::channel();
                if self
                    .triggers
                    .send(TriggerCommand { mode, reply })
                    .await
                    .is_err()
                {
                    return Response::Error("the daemon is stopping; trigger not accepted".into());
                }
                match answer.await {
                    Ok(answer) => to_ok(&answer),
                    Err(_) => {
                        Response::Error("the daemon is stopping; trigger not accepted".into())
                    }
                }
            }
            Request::Reset => Response::Error(
                "the daemon is running and holds the store; stop it first (`systemctl stop \
                 stagesync`, or SIGTERM), then run `stagesync reset` again"
                    .into(),
            ),
        }
    }
}

async fn blocking<T, F>(f: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce() -> Result<T, String> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(value)) => to_ok(&value),
        Ok(Err(message)) => Response::Error(message),
        Err(e) => Response::Error(format!("internal error: {e}")),
    }
}

fn to_ok<T: Serialize>(value: &T) -> Response {
    match serde_json::to_value(value) {
        Ok(v) => Response::Ok(v),
        Err(e) => Response::Error(format!("internal error: {e}")),
    }
}

/// The CLI's side: one request, one answer.
pub struct Client {
    path: PathBuf,
    stream: StdUnixStream,
}

impl Client {
    /// `None` when nothing listens on `path` (no file, or a stale one).
    pub fn connect(path: &Path) -> Result<Option<Client>, ControlError> {
        match StdUnixStream::connect(path) {
            Ok(stream) => Ok(Some(Client {
                path: path.to_owned(),
                stream,
            })),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                Ok(None)
            }
            Err(source) => Err(ControlError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends a request; the daemon's `ok` payload, or its error as [`ControlError::Daemon`].
    pub fn request<T: serde::de::DeserializeOwned>(
        self,
        request: &Request,
    ) -> Result<T, ControlError> {
        let io = |source| ControlError::Io {
            path: self.path.clone(),
            source,
        };
        self.stream
            .set_read_timeout(Some(CLIENT_TIMEOUT))
            .map_err(io)?;
        self.stream
            .set_write_timeout(Some(CLIENT_TIMEOUT))
            .map_err(io)?;
        let mut line = serde_json::to_vec(request).map_err(|e| ControlError::Protocol {
            path: self.path.clone(),
            detail: e.to_string(),
        })?;
        line.push(b'\n');
        (&self.stream).write_all(&line).map_err(io)?;
        let mut answer = String::new();
        BufReader::new(&self.stream)
            .read_line(&mut answer)
            .map_err(io)?;
        let protocol = |detail: String| ControlError::Protocol {
            path: self.path.clone(),
            detail,
        };
        match serde_json::from_str::<Response>(answer.trim()) {
            Ok(Response::Ok(value)) => {
                serde_json::from_value(value).map_err(|e| protocol(e.to_string()))
            }
            Ok(Response::Error(message)) => Err(ControlError::Daemon(message)),
            Err(e) if answer.is_empty() => Err(protocol(format!("no answer ({e})"))),
            Err(e) => Err(protocol(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_a_stable_wire_form() {
        let cases = [
            (Request::Status, r#"{"request":"status"}"#),
            (
                Request::Trigger { full: true },
                r#"{"request":"trigger","full":true}"#,
            ),
            (
                Request::Checkpoints {
                    view: View::Show { run: 3 },
                },
                r#"{"request":"checkpoints","view":{"view":"show","run":3}}"#,
            ),
            (Request::Reset, r#"{"request":"reset"}"#),
        ];
        for (request, wire) in cases {
            assert_eq!(serde_json::to_string(&request).unwrap(), wire);
            assert_eq!(serde_json::from_str::<Request>(wire).unwrap(), request);
        }
    }

    #[test]
    fn nothing_listening_is_none_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET_NAME);
        assert!(Client::connect(&path).unwrap().is_none());
        // A stale file left by a killed daemon: refused, still "nothing listens".
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        assert!(Client::connect(&path).unwrap().is_none());
    }
}
