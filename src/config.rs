//! The TOML config file and the environment, parsed once into typed settings: endpoints, tokens
//! (from an environment variable, a file, or a systemd credential — never inline), what to
//! sync, deletion policy, batch limits, schedule and state directory.
//!
//! Every problem found is reported, one line each, in a single [`ConfigError`] (exit code 2).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// A config problem; exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}; pass --config FILE (see systemd/stagesync.example.toml)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {} problem(s):\n  - {}", problems.len(), problems.join("\n  - "))]
    Invalid {
        path: PathBuf,
        problems: Vec<String>,
    },
}

/// The file as written. `deny_unknown_fields` everywhere: a typo is an error naming the key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
struct RawConfig {
    source: RawEndpoint,
    destination: RawEndpoint,
    state_dir: Option<PathBuf>,
    schedule: Option<String>,
    models: Option<Vec<String>>,
    #[serde(default)]
    skip_models: Vec<String>,
    stages: Option<Vec<String>>,
    locales: Option<Vec<String>>,
    #[serde(default)]
    identity: BTreeMap<String, String>,
    #[serde(default)]
    deletions: RawDeletions,
    #[serde(default)]
    batch: RawBatch,
    #[serde(default)]
    retry: RawRetry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    url: String,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    token_credential: Option<String>,
    requests_per_second: Option<u32>,
    burst: Option<u32>,
    max_in_flight: Option<usize>,
    connect_timeout_secs: Option<f64>,
    read_timeout_secs: Option<f64>,
    request_timeout_secs: Option<f64>,
    give_up_secs: Option<f64>,
    max_retries: Option<u32>,
    backoff_initial_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeletions {
    policy: Option<String>,
    max: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch {
    max_bytes: Option<usize>,
    max_mutations: Option<usize>,
    concurrency: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    initial_secs: Option<f64>,
    max_secs: Option<f64>,
}

/// One endpoint, resolved.
#[derive(Clone)]
pub struct Endpoint {
    /// `source` or `destination`: how messages name it.
    pub name: &'static str,
    pub url: url::Url,
    pub token: Option<SecretString>,
    pub requests_per_second: u32,
    pub burst: u32,
    pub max_in_flight: usize,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub request_timeout: Duration,
    /// One request's time over all its attempts; also how long the endpoint may stay silent.
    pub give_up_after: Duration,
    pub max_retries: u32,
    /// Exponential backoff between retries (with jitter), from `backoff_initial` up to
    /// `backoff_max`; a 429's `Retry-After` wins.
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("url", &self.url.as_str())
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
            .field("requests_per_second", &self.requests_per_second)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxDeletions {
    Count(u64),
    /// A share of the model's tracked entries, 0–100.
    Percent(f64),
}

impl MaxDeletions {
    pub fn allows(&self, deletions: u64, tracked: u64) -> bool {
        match *self {
            MaxDeletions::Count(n) => deletions <= n,
            MaxDeletions::Percent(p) => (deletions as f64) <= (tracked as f64) * p / 100.0,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            MaxDeletions::Count(n) => format!("{n} entries"),
            MaxDeletions::Percent(p) => format!("{p}% of the model's entries"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletionPolicy {
    /// Delete in the destination what was deleted in the source.
    Mirror,
    /// Never delete in the destination.
    Keep,
}

#[derive(Debug, Clone)]
pub struct BatchLimits {
    /// Request body bytes per write request.
    pub max_bytes: usize,
    pub max_mutations: usize,
    /// Write requests in flight at once.
    pub concurrency: usize,
}

/// The whole configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub source: Endpoint,
    pub destination: Endpoint,
    pub state_dir: PathBuf,
    pub schedule: Option<String>,
    /// `None` = every model.
    pub models: Option<Vec<String>>,
    pub skip_models: Vec<String>,
    pub stages: Vec<String>,
    /// `None` = every locale.
    pub locales: Option<Vec<String>>,
    /// Model → identity field (`id` or a unique field).
    pub identity: BTreeMap<String, String>,
    pub deletion_policy: DeletionPolicy,
    pub max_deletions: MaxDeletions,
    pub batch: BatchLimits,
    /// Daemon retry backoff after a failed run.
    pub retry_initial: Duration,
    pub retry_max: Duration,
}

/// Hygraph's smallest plan allows 30 KB per mutation request; stay clearly under it.
pub const DEFAULT_BATCH_BYTES: usize = 24 * 1024;

impl Config {
    /// Reads and validates the config file; `state_dir` overrides the file and the
    /// environment (`$STATE_DIRECTORY` under systemd).
    pub fn load(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, path, state_dir)
    }

    pub fn parse(text: &str, path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        let mut problems = Vec::new();
        let source = resolve_endpoint("source", raw.source, &mut problems);
        let destination = resolve_endpoint("destination", raw.destination, &mut problems);

        let state_dir = state_dir
            .map(Path::to_path_buf)
            .or(raw.state_dir)
            .or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("state"));

        if let Some(schedule) = &raw.schedule {
            if let Err(message) = validate_cron(schedule) {
                problems.push(format!("schedule: {message}"));
            }
        }

        let stages = raw
            .stages
            .unwrap_or_else(|| vec!["DRAFT".into(), "PUBLISHED".into()]);
        if stages.is_empty() {
            problems
                .push("stages: must name at least one stage (default: DRAFT, PUBLISHED)".into());
        }
        if !stages.iter().any(|s| s == "DRAFT") {
            problems.push(
                "stages: must include DRAFT (every write lands in DRAFT; PUBLISHED and custom stages are published from it)"
                    .into(),
            );
        }

        let deletion_policy = match raw.deletions.policy.as_deref() {
            None | Some("mirror") => DeletionPolicy::Mirror,
            Some("keep") => DeletionPolicy::Keep,
            Some(other) => {
                problems.push(format!(
                    "deletions.policy: `{other}` is not a policy; use \"mirror\" or \"keep\""
                ));
                DeletionPolicy::Mirror
            }
        };
        let max_deletions = match raw.deletions.max {
            None => MaxDeletions::Percent(50.0),
            Some(toml::Value::Integer(n)) if n >= 0 => MaxDeletions::Count(n as u64),
            Some(toml::Value::String(s)) => match s.trim().strip_suffix('%').map(str::trim) {
                Some(p) => match p.parse::<f64>() {
                    Ok(p) if (0.0..=100.0).contains(&p) => MaxDeletions::Percent(p),
                    _ => {
                        problems.push(format!(
                            "deletions.max: `{s}` is not a share between 0% and 100%"
                        ));
                        MaxDeletions::Percent(50.0)
                    }
                },
                None => {
                    problems.push(format!(
                        "deletions.max: `{s}` must be a count (e.g. 100) or a share (e.g. \"10%\")"
                    ));
                    MaxDeletions::Percent(50.0)
                }
            },
            Some(other) => {
                problems.push(format!(
                    "deletions.max: `{other}` must be a count (e.g. 100) or a share (e.g. \"10%\")"
                ));
                MaxDeletions::Percent(50.0)
            }
        };

        let batch = BatchLimits {
            max_bytes: raw.batch.max_bytes.unwrap_or(DEFAULT_BATCH_BYTES),
            max_mutations: raw.batch.max_mutations.unwrap_or(200),
            concurrency: raw.batch.concurrency.unwrap_or(4),
        };
        if batch.max_bytes < 1024 {
            problems.push("batch.max_bytes: must be at least 1024".into());
        }
        if batch.max_mutations == 0 {
            problems.push("batch.max_mutations: must be at least 1".into());
        }
        if batch.concurrency == 0 {
            problems.push("batch.concurrency: must be at least 1".into());
        }
        let retry_initial = secs(
            "retry.initial_secs",
            raw.retry.initial_secs,
            5.0,
            &mut problems,
        );
        let retry_max = secs("retry.max_secs", raw.retry.max_secs, 600.0, &mut problems);

        match (source, destination) {
            (Some(source), Some(destination)) if problems.is_empty() => Ok(Config {
                source,
                destination,
                state_dir,
                schedule: raw.schedule,
                models: raw.models,
                skip_models: raw.skip_models,
                stages,
                locales: raw.locales,
                identity: raw.identity,
                deletion_policy,
                max_deletions,
                batch,
                retry_initial,
                retry_max,
            }),
            _ => Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            }),
        }
    }

    /// Names the pair the store is bound to (URLs only; never tokens).
    pub fn pair(&self) -> String {
        format!("{} -> {}", self.source.url, self.destination.url)
    }
}

fn secs(key: &str, value: Option<f64>, default: f64, problems: &mut Vec<String>) -> Duration {
    let value = value.unwrap_or(default);
    if !(value.is_finite() && value > 0.0 && value < 86_400.0 * 365.0) {
        problems.push(format!(
            "{key}: `{value}` must be a positive number of seconds"
        ));
        return Duration::from_secs_f64(default);
    }
    Duration::from_secs_f64(value)
}

fn resolve_endpoint(
    name: &'static str,
    raw: RawEndpoint,
    problems: &mut Vec<String>,
) -> Option<Endpoint> {
    let before = problems.len();
    let url = match url::Url::parse(&raw.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(_) => {
            problems.push(format!(
                "{name}.url: `{}` must be an http(s) URL of a Content API endpoint",
                raw.url
            ));
            None
        }
        Err(e) => {
            problems.push(format!("{name}.url: `{}` is not a URL ({e})", raw.url));
            None
        }
    };
    let sources = [
        raw.token_env.is_some(),
        raw.token_file.is_some(),
        raw.token_credential.is_some(),
    ];
    let token = if sources.iter().filter(|s| **s).count() > 1 {
        problems.push(format!(
            "{name}: set only one of token_env, token_file, token_credential"
        ));
        None
    } else if let Some(var) = &raw.token_env {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_owned())),
            _ => {
                problems.push(format!(
                    "{name}.token_env: environment variable {var} is not set (or empty); export it with the {name}'s Permanent Auth Token"
                ));
                None
            }
        }
    } else if let Some(file) = &raw.token_file {
        read_token(&format!("{name}.token_file"), file, problems)
    } else if let Some(cred) = &raw.token_credential {
        match std::env::var_os("CREDENTIALS_DIRECTORY") {
            Some(dir) => read_token(
                &format!("{name}.token_credential"),
                &Path::new(&dir).join(cred),
                problems,
            ),
            None => {
                problems.push(format!(
                    "{name}.token_credential: $CREDENTIALS_DIRECTORY is not set; systemd sets it with LoadCredential={cred}:/path/to/token (or use token_env / token_file outside systemd)"
                ));
                None
            }
        }
    } else {
        None
    };
    let positive = |key: &str, v: Option<f64>, default: f64, problems: &mut Vec<String>| {
        secs(&format!("{name}.{key}"), v, default, problems)
    };
    let connect_timeout = positive(
        "connect_timeout_secs",
        raw.connect_timeout_secs,
        10.0,
        problems,
    );
    let read_timeout = positive("read_timeout_secs", raw.read_timeout_secs, 60.0, problems);
    let request_timeout = positive(
        "request_timeout_secs",
        raw.request_timeout_secs,
        120.0,
        problems,
    );
    let give_up_after = positive(
        "give_up_secs",
        raw.give_up_secs,
        crate::hygraph::GIVE_UP_SECS as f64,
        problems,
    );
    let requests_per_second = raw.requests_per_second.unwrap_or(5);
    if requests_per_second == 0 {
        problems.push(format!("{name}.requests_per_second: must be at least 1"));
    }
    let burst = raw.burst.unwrap_or(requests_per_second.clamp(1, 10));
    if burst == 0 {
        problems.push(format!("{name}.burst: must be at least 1"));
    }
    let max_in_flight = raw.max_in_flight.unwrap_or(4);
    if max_in_flight == 0 {
        problems.push(format!("{name}.max_in_flight: must be at least 1"));
    }
    if problems.len() > before {
        return None;
    }
    Some(Endpoint {
        name,
        url: url?,
        token,
        requests_per_second,
        burst,
        max_in_flight,
        connect_timeout,
        read_timeout,
        request_timeout,
        give_up_after,
        max_retries: raw.max_retries.unwrap_or(12),
        backoff_initial: Duration::from_millis(raw.backoff_initial_ms.unwrap_or(250)),
        backoff_max: Duration::from_millis(raw.backoff_max_ms.unwrap_or(30_000)),
    })
}

fn read_token(key: &str, path: &Path, problems: &mut Vec<String>) -> Option<SecretString> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Some(SecretString::from(text.trim().to_owned())),
        Ok(_) => {
            problems.push(format!("{key}: {} is empty", path.display()));
            None
        }
        Err(e) => {
            problems.push(format!(
                "{key}: cannot read {} ({e}); check the path and its permissions",
                path.display()
            ));
            None
        }
    }
}

/// A 6-field cron expression (seconds first), UTC, as tokio-cron-scheduler reads it.
pub fn validate_cron(expr: &str) -> Result<(), String> {
    let fields = expr.split_whitespace().count();
    if fields != 6 {
        return Err(format!(
            "`{expr}` has {fields} fields; stagesync uses 6 (sec min hour day month weekday, UTC), e.g. \"0 */15 * * * *\""
        ));
    }
    tokio_cron_scheduler::Job::new_async(expr, |_, _| Box::pin(async {}))
        .map(drop)
        .map_err(|e| format!("`{expr}` is not a valid cron expression ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"), None)
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = parse(
            "[source]\nurl = \"http://127.0.0.1:1/\"\n[destination]\nurl = \"http://127.0.0.1:2/\"\n",
        )
        .unwrap();
        assert_eq!(c.stages, ["DRAFT", "PUBLISHED"]);
        assert_eq!(c.max_deletions, MaxDeletions::Percent(50.0));
        assert_eq!(c.deletion_policy, DeletionPolicy::Mirror);
        assert_eq!(c.batch.max_bytes, DEFAULT_BATCH_BYTES);
    }

    #[test]
    fn every_problem_is_reported_once() {
        let err = parse(
            "schedule = \"* * *\"\n[source]\nurl = \"ftp://x\"\ntoken_env = \"STAGESYNC_TEST_SURELY_UNSET\"\n[destination]\nurl = \"nope\"\n[deletions]\nmax = \"150%\"\n",
        )
        .unwrap_err()
        .to_string();
        for needle in [
            "schedule:",
            "source.url",
            "STAGESYNC_TEST_SURELY_UNSET",
            "destination.url",
            "deletions.max",
        ] {
            assert!(err.contains(needle), "{needle} missing in {err}");
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let err = parse(
            "[source]\nurl = \"http://127.0.0.1:1/\"\ntokn_env = \"X\"\n[destination]\nurl = \"http://127.0.0.1:2/\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tokn_env"), "{err}");
    }

    #[test]
    fn token_file_is_read_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("t");
        std::fs::write(&token, "sekrit-token\n").unwrap();
        let c = parse(&format!(
            "[source]\nurl = \"http://127.0.0.1:1/\"\ntoken_file = \"{}\"\n[destination]\nurl = \"http://127.0.0.1:2/\"\n",
            token.display()
        ))
        .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            c.source.token.as_ref().unwrap().expose_secret(),
            "sekrit-token"
        );
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn deletion_limits() {
        assert!(MaxDeletions::Percent(50.0).allows(5, 10));
        assert!(!MaxDeletions::Percent(50.0).allows(6, 10));
        assert!(MaxDeletions::Count(3).allows(3, 1000));
        assert!(!MaxDeletions::Count(3).allows(4, 1000));
    }
}
