//! The daemon (`stagesync daemon`, the systemd service): syncs on a cron schedule, never two runs
//! at once, catches up a missed run at start, retries failures with backoff, answers the CLI on
//! a control socket while it holds the store, and speaks systemd's notify protocol.
//!
//! It does not sync anything itself: each run is `sync::run` behind the [`runner::Runner`] trait.
//!
//! Start-up: what waiting cannot fix (a bad schedule, an HTTP client that cannot be built, e.g.
//! without CA certificates) ends the process at once with exit code 2, which the units keep
//! from restarting; endpoints that do not answer yet are waited for with backoff.
//!
//! Signals: SIGTERM and SIGINT stop it (the current run is cancelled at its next safe point,
//! abandoned after [`STOP_TIMEOUT`], the store flushed, exit 0). SIGHUP is restart-only: the
//! config is read once at start, so SIGHUP is logged and ignored; use `systemctl restart`.

pub mod control;
pub mod inspect;
pub mod location;
pub mod notify;
pub mod runner;
pub mod schedule;
pub mod service;
pub mod status;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use tokio::sync::watch;

use crate::config::{Config, Endpoint};
use crate::hygraph::ClientError;
use crate::store::{Store, StoreError};

/// How long a stop waits for the current run to reach a safe point; under systemd's default
/// `TimeoutStopSec=90s` with room to flush.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long start-up waits for a store held by a short-lived CLI command (`checkpoints`,
/// `status` open it directly when no daemon runs).
const STORE_LOCK_WAIT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{path}: the daemon needs a `schedule` (6 fields with seconds, UTC), e.g. schedule = \"0 */15 * * * *\"")]
    NoSchedule { path: PathBuf },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error("the {endpoint} endpoint {url} refused the token (HTTP {status}); check the {endpoint} token and its permissions")]
    Unauthorized {
        endpoint: String,
        url: String,
        status: u16,
    },
    /// A problem waiting cannot fix (no CA certificates for TLS, settings the client refuses):
    /// the start fails at once with it instead of probing until systemd's start timeout.
    #[error("{0}")]
    Endpoint(Box<ClientError>),
    #[error("the scheduler failed: {0}")]
    Scheduler(String),
    #[error("cannot install the signal handlers: {0}")]
    Signals(std::io::Error),
}

/// The binary's entry: open the store, wait for both endpoints, serve until SIGTERM/SIGINT.
pub async fn run(config: Config, config_path: &Path) -> Result<(), DaemonError> {
    let schedule = config
        .schedule
        .clone()
        .ok_or_else(|| DaemonError::NoSchedule {
            path: config_path.to_owned(),
        })?;

    let (stop_tx, stop) = watch::channel(false);
    spawn_signal_handlers(stop_tx)?;

    // The clients a run builds, built now: what they refuse stops the start with its cause.
    let mut probes = Vec::new();
    for endpoint in [&config.source, &config.destination] {
        match crate::sync::endpoint_client(endpoint) {
            Err(crate::sync::SyncError::Client { source, .. }) => {
                return Err(DaemonError::Endpoint(source))
            }
            Err(other) => {
                return Err(DaemonError::Endpoint(Box::new(
                    ClientError::InvalidConfig {
                        endpoint: endpoint.name.to_owned(),
                        detail: other.to_string(),
                    },
                )))
            }
            Ok(_) => probes.push((endpoint, probe_client(endpoint)?)),
        }
    }

    let store = open_store(&config.state_dir).await?;
    store.bind_pair(&config.pair())?;
    store.check_records()?;

    let mut probe_backoff =
        crate::hygraph::retry::Backoff::new(config.retry_initial, config.retry_max);
    for (endpoint, client) in &probes {
        loop {
            if *stop.borrow() {
                store.flush()?;
                return Ok(());
            }
            match probe(client, endpoint).await {
                Ok(()) => break,
                Err(ProbeError::Unauthorized(status)) => {
                    return Err(DaemonError::Unauthorized {
                        endpoint: endpoint.name.clone(),
                        url: endpoint.url.to_string(),
                        status,
                    })
                }
                Err(ProbeError::Unreachable(why)) => {
                    let delay = probe_backoff.next_delay();
                    let message = format!(
                        "waiting for the {} endpoint {}: {why}; next attempt in {}s",
                        endpoint.name,
                        endpoint.url,
                        delay.as_secs()
                    );
                    tracing::warn!("{message}");
                    notify::status(&message);
                    let mut stop = stop.clone();
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = stop.changed() => {}
                    }
                }
            }
        }
    }

    let runner = Arc::new(runner::SyncRunner {
        config: Arc::new(config.clone()),
        store: store.clone(),
    });
    let opts = service::ServiceOptions {
        schedule,
        repair_schedule: config.repair_schedule.clone(),
        retry: crate::hygraph::retry::Backoff::new(config.retry_initial, config.retry_max),
        socket: control::socket_path(&config.state_dir),
        stop_timeout: STOP_TIMEOUT,
        watchdog: notify::watchdog_interval(),
    };
    service::serve(store, runner, opts, stop).await
}

async fn open_store(dir: &Path) -> Result<Store, DaemonError> {
    let deadline = tokio::time::Instant::now() + STORE_LOCK_WAIT;
    loop {
        match Store::open(dir) {
            Err(StoreError::Locked { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => return Ok(other?),
        }
    }
}

fn spawn_signal_handlers(stop: watch::Sender<bool>) -> Result<(), DaemonError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = term.recv() => {
                    tracing::info!("SIGTERM received");
                    let _ = stop.send(true);
                }
                _ = int.recv() => {
                    tracing::info!("SIGINT received");
                    let _ = stop.send(true);
                }
                _ = hup.recv() => {
                    tracing::warn!("SIGHUP ignored: the config is read at start only; use `systemctl restart` to apply a changed config");
                }
            }
        }
    });
    Ok(())
}

enum ProbeError {
    Unauthorized(u16),
    Unreachable(String),
}

/// The start-up probe's client: no retries of its own, the probe loop waits between attempts.
fn probe_client(endpoint: &Endpoint) -> Result<reqwest::Client, DaemonError> {
    reqwest::Client::builder()
        .connect_timeout(endpoint.connect_timeout)
        .timeout(endpoint.request_timeout)
        .build()
        .map_err(|e| {
            let mut detail = format!("cannot build the HTTP client: {e}");
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                detail = format!("{detail}: {c}");
                cause = c.source();
            }
            DaemonError::Endpoint(Box::new(ClientError::InvalidConfig {
                endpoint: endpoint.name.to_owned(),
                detail,
            }))
        })
}

/// One cheap GraphQL query: the endpoint answers and accepts the token.
async fn probe(client: &reqwest::Client, endpoint: &Endpoint) -> Result<(), ProbeError> {
    let mut request = client
        .post(endpoint.url.clone())
        .json(&serde_json::json!({ "query": "{ __typename }" }));
    if let Some(token) = &endpoint.token {
        request = request.bearer_auth(token.expose_secret());
    }
    // The error text from reqwest holds the URL, never headers, so no token can leak here.
    let response = request
        .send()
        .await
        .map_err(|e| ProbeError::Unreachable(e.without_url().to_string()))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(ProbeError::Unauthorized(status.as_u16()));
    }
    if !status.is_success() {
        return Err(ProbeError::Unreachable(format!("HTTP {status}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_config_is_valid() {
        // Tokens come from systemd credentials there; everything else must parse as shipped.
        let text = include_str!("../../systemd/stagesync.example.toml")
            .replace("token_credential = ", "# token_credential = ");
        let config =
            crate::config::Config::parse(&text, std::path::Path::new("example.toml"), None)
                .unwrap();
        assert_eq!(
            config.schedule.as_ref().map(|s| s.expr()),
            Some("0 */15 * * * *")
        );
    }
}
