//! The TOML config file and the environment, parsed once into typed settings: endpoints, tokens
//! (from an environment variable, a file, or a systemd credential — never inline), what to
//! sync, deletion policy, batch limits, schedule and state directory.
//!
//! Every problem found is reported, one line each, in a single [`ConfigError`] (exit code 2).
//! No message prints a token: a value is shown only when it has the shape of what belongs in
//! its key (a variable name, a path, a credential name, a URL without a password), and a TOML
//! syntax error is reported by line and column, never by quoting the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

pub use crate::daemon::schedule::Schedule;
pub use crate::hygraph::EndpointConfig as Endpoint;
pub use crate::model::pairing::{FieldRef, RelationRule};

/// A config problem; exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {reason}; pass --config FILE (see systemd/stagesync.example.toml), or --state-dir DIR to inspect a store without a config")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
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
    repair_schedule: Option<String>,
    models: Option<Vec<String>>,
    #[serde(default)]
    skip_models: Vec<String>,
    stages: Option<Vec<String>>,
    locales: Option<Vec<String>>,
    #[serde(default)]
    identity: BTreeMap<String, String>,
    #[serde(default)]
    relations: BTreeMap<String, toml::Value>,
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
    /// Never accepted: read only to refuse it by name (and never to print it).
    token: Option<toml::Value>,
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
    max_query_bytes: Option<usize>,
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
    /// The daemon's cron schedule, parsed.
    pub schedule: Option<Schedule>,
    /// When the daemon runs a repair (`sync --repair`) on its own: [`DEFAULT_REPAIR_SCHEDULE`]
    /// unless set; `repair_schedule = "off"` turns it off.
    pub repair_schedule: Option<Schedule>,
    /// `None` = every model.
    pub models: Option<Vec<String>>,
    pub skip_models: Vec<String>,
    pub stages: Vec<String>,
    /// `None` = every locale.
    pub locales: Option<Vec<String>>,
    /// Model → identity field (`id` or a unique field).
    pub identity: BTreeMap<String, String>,
    /// `[relations]`: pairings of relation fields stated by the user, applied to both schemas
    /// before anything else uses them (names are checked against the schemas then).
    pub relations: Vec<RelationRule>,
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
    /// Reads and validates the config file; `state_dir` (the `--state-dir` flag) overrides the
    /// file and the environment (see [`state_dir`]).
    pub fn load(path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
        Config::parse(&read(path)?, path, state_dir)
    }

    pub fn parse(text: &str, path: &Path, state_dir: Option<&Path>) -> Result<Config, ConfigError> {
        let raw: RawConfig = syntax(text, path)?;
        let mut problems = Vec::new();
        let source = resolve_endpoint("source", raw.source, &mut problems);
        let destination = resolve_endpoint("destination", raw.destination, &mut problems);
        if let (Some(s), Some(d)) = (&source, &destination) {
            if same_endpoint(&s.url, &d.url) {
                problems.push(format!(
                    "source.url and destination.url are the same endpoint ({}): stagesync would write into its own source; point destination.url at the environment to overwrite",
                    shown_url(&d.url)
                ));
            }
        }

        let state_dir = self::state_dir(state_dir, raw.state_dir.as_deref());
        let schedule = schedule(raw.schedule.as_deref(), &mut problems);
        let repair_schedule = match raw.repair_schedule.as_deref() {
            Some("off") => None,
            Some(expr) => Schedule::parse(expr)
                .map_err(|e| problems.push(format!("repair_schedule: {e} (or \"off\")")))
                .ok(),
            None => Some(Schedule::parse(DEFAULT_REPAIR_SCHEDULE).expect("a valid default")),
        };

        if raw.models.as_ref().is_some_and(Vec::is_empty) {
            problems.push(
                "models: an empty list would sync nothing; name the models to sync, or leave `models` out to sync every model"
                    .into(),
            );
        }
        if raw.locales.as_ref().is_some_and(Vec::is_empty) {
            problems.push(
                "locales: an empty list would sync nothing; name the locales, or leave `locales` out to sync every locale"
                    .into(),
            );
        }
        for (model, field) in &raw.identity {
            if field.trim().is_empty() {
                problems.push(format!(
                    "identity.{model}: name a unique field of {model}, or \"id\""
                ));
            }
        }

        let relations = relation_rules(&raw.relations, &mut problems);

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
            Some(_) => {
                problems.push("deletions.policy: not a policy; use \"mirror\" or \"keep\"".into());
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
                    problems.push(
                        "deletions.max: must be a count (e.g. 100) or a share (e.g. \"10%\")"
                            .into(),
                    );
                    MaxDeletions::Percent(50.0)
                }
            },
            Some(_) => {
                problems.push(
                    "deletions.max: must be a count (e.g. 100) or a share (e.g. \"10%\")".into(),
                );
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
                schedule,
                repair_schedule,
                models: raw.models,
                skip_models: raw.skip_models,
                stages,
                locales: raw.locales,
                identity: raw.identity,
                relations,
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

/// The `[relations]` table of a config file, without resolving anything else (its tokens
/// included): what `stagesync schema --config FILE` applies.
pub fn load_relations(path: &Path) -> Result<Vec<RelationRule>, ConfigError> {
    let text = read(path)?;
    let table: RelationsOnly = toml::from_str(&text).map_err(|_| {
        // The whole file's syntax errors are reported (by line, never quoting it) by `syntax`.
        match syntax(&text, path) {
            Err(e) => e,
            Ok(_) => ConfigError::Syntax {
                path: path.to_owned(),
                message: "the [relations] table is not a table".into(),
            },
        }
    })?;
    let mut problems = Vec::new();
    let rules = relation_rules(&table.relations, &mut problems);
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(ConfigError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }
}

#[derive(Deserialize)]
struct RelationsOnly {
    #[serde(default)]
    relations: BTreeMap<String, toml::Value>,
}

/// `"Model.field" = "Other.field"` (a pair), `= ["A.f", "B.g"]` (a union's pairs, one per
/// member) or `= "one-way"`.
fn relation_rules(
    table: &BTreeMap<String, toml::Value>,
    problems: &mut Vec<String>,
) -> Vec<RelationRule> {
    const FIX: &str = "write \"Model.field\" = \"Target.reverseField\" (a list of them for a union's members), or \"Model.field\" = \"one-way\"";
    let mut rules = Vec::new();
    for (key, value) in table {
        let Some(end) = FieldRef::parse(key) else {
            let shown = if key.len() <= 64 && !looks_like_jwt(key) {
                format!("`{key}`")
            } else {
                "(not shown)".into()
            };
            problems.push(format!(
                "relations: the key {shown} is not `Model.field`; {FIX}"
            ));
            continue;
        };
        if value.as_str().map(str::trim) == Some("one-way") {
            rules.push(RelationRule::OneWay(end));
            continue;
        }
        let values: Vec<&toml::Value> = match value {
            toml::Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        if values.is_empty() {
            problems.push(format!("relations.\"{end}\": an empty list; {FIX}"));
        }
        for value in values {
            match value.as_str().and_then(FieldRef::parse) {
                Some(other) => rules.push(RelationRule::Pair(end.clone(), other)),
                // The value is not shown: it is not what belongs here, and could be anything.
                None => problems.push(format!(
                    "relations.\"{end}\": the value is not `Model.field` or \"one-way\"; {FIX}"
                )),
            }
        }
    }
    rules
}

/// Where a store is, from the config file without resolving its tokens: what `status`,
/// `checkpoints`, `trigger` and `reset` need, from a shell that has no token variables.
#[derive(Debug, Clone)]
pub struct Placement {
    pub state_dir: PathBuf,
    pub schedule: Option<Schedule>,
}

impl Placement {
    /// The config file's `state_dir` and `schedule`. With `--state-dir`, a missing config file
    /// is fine (and a bad schedule in it is left out); without it, the file must be readable
    /// and well-formed.
    pub fn load(path: &Path, state_dir: Option<&Path>) -> Result<Placement, ConfigError> {
        let text = match read(path) {
            Ok(text) => text,
            Err(_) if state_dir.is_some() => {
                return Ok(Placement {
                    state_dir: self::state_dir(state_dir, None),
                    schedule: None,
                })
            }
            Err(e) => return Err(e),
        };
        let raw: RawConfig = syntax(&text, path)?;
        let mut problems = Vec::new();
        let schedule = schedule(raw.schedule.as_deref(), &mut problems);
        if !problems.is_empty() && state_dir.is_none() {
            return Err(ConfigError::Invalid {
                path: path.to_owned(),
                problems,
            });
        }
        Ok(Placement {
            state_dir: self::state_dir(state_dir, raw.state_dir.as_deref()),
            schedule,
        })
    }
}

/// The state directory, by one rule: the `--state-dir` flag, the config's `state_dir`,
/// `$STATE_DIRECTORY` (systemd's `StateDirectory=`), else `state/`.
pub fn state_dir(flag: Option<&Path>, file: Option<&Path>) -> PathBuf {
    flag.or(file)
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("STATE_DIRECTORY").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("state"))
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
        path: path.to_owned(),
        reason,
    })
}

/// Parses the TOML into the raw form. The error names the line and column and what is wrong,
/// and never quotes the line or a value (the line may hold a token).
fn syntax(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|e| {
        let at = e.span().map(|span| {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            match key_at(text, line) {
                Some(key) => format!("line {line}, column {column} ({key}): "),
                None => format!("line {line}, column {column}: "),
            }
        });
        ConfigError::Syntax {
            path: path.to_owned(),
            message: format!("{}{}", at.unwrap_or_default(), unquoted(e.message())),
        }
    })
}

/// The key a line sets (`source.url` for `url = ...` under `[source]`), read from the text
/// itself: the name only, never the value.
fn key_at(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let this = lines.get(line.checked_sub(1)?)?;
    let (name, _) = this.split_once('=')?;
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return None;
    }
    let table = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim());
    Some(match table {
        Some(table) => format!("{table}.{name}"),
        None => name.to_owned(),
    })
}

/// A parser message without the values it quotes (`invalid type: string "…"`).
fn unquoted(message: &str) -> String {
    let mut out = String::new();
    let mut parts = message.trim_end().split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        if i % 2 == 0 {
            out.push_str("\"…\"");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The daemon's repair pass, by default: every day at 03:00 UTC.
pub const DEFAULT_REPAIR_SCHEDULE: &str = "0 0 3 * * *";

fn schedule(expr: Option<&str>, problems: &mut Vec<String>) -> Option<Schedule> {
    match Schedule::parse(expr?) {
        Ok(schedule) => Some(schedule),
        Err(e) => {
            problems.push(format!("schedule: {e}"));
            None
        }
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

/// Two URLs naming the same endpoint: scheme, host and port (with its default), path without
/// trailing slashes, and query.
fn same_endpoint(a: &url::Url, b: &url::Url) -> bool {
    let key = |u: &url::Url| {
        (
            u.scheme().to_owned(),
            u.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase()),
            u.port_or_known_default(),
            u.path().trim_end_matches('/').to_owned(),
            u.query().map(str::to_owned),
        )
    };
    key(a) == key(b)
}

/// A URL as messages show it: without user name or password.
fn shown_url(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// `[A-Z_][A-Z0-9_]*`: what an environment variable name looks like.
pub(crate) fn is_variable_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A JSON Web Token (Hygraph's Permanent Auth Tokens are): three base64url parts.
fn looks_like_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    s.starts_with("eyJ")
        || (parts.len() == 3
            && parts.iter().all(|p| {
                p.len() >= 8
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            }))
}

/// What a file path looks like: printable, no white space at the ends, short components, and
/// either a directory separator or short enough not to be a pasted token.
fn is_path_shaped(s: &str) -> bool {
    !s.is_empty()
        && !looks_like_jwt(s)
        && s.trim() == s
        && !s.chars().any(char::is_control)
        && s.split('/').all(|c| c.len() <= 64)
        && (s.contains('/') || s.len() <= 40)
}

/// A systemd credential name: a short word of letters, digits, `-`, `_`, `.`.
fn is_credential_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && !looks_like_jwt(s)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn resolve_endpoint(
    name: &'static str,
    raw: RawEndpoint,
    problems: &mut Vec<String>,
) -> Option<Endpoint> {
    let before = problems.len();
    if raw.token.is_some() {
        problems.push(format!(
            "{name}.token: a token is never written in the config (the value is not shown); remove it, rotate it if this file was shared, and name where it is instead: token_env = \"VARIABLE\", token_file = \"/path/to/file\" or token_credential = \"systemd-credential\""
        ));
    }
    let url = match url::Url::parse(&raw.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        Ok(url) => {
            problems.push(format!(
                "{name}.url: `{}` must be an http(s) URL of a Content API endpoint",
                shown_url(&url)
            ));
            None
        }
        Err(e) if raw.url.contains("://") && !raw.url.contains('@') => {
            problems.push(format!("{name}.url: `{}` is not a URL ({e})", raw.url));
            None
        }
        Err(e) => {
            problems.push(format!(
                "{name}.url: not a URL ({e}; the value is not shown); use the Content API endpoint, https://<region>.cdn.hygraph.com/content/<project>/<environment>"
            ));
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
        if !is_variable_name(var) {
            problems.push(format!(
                "{name}.token_env: not an environment variable name (A-Z, 0-9, _; the value is not shown: if it is a token, rotate it); name the variable that holds the token, e.g. token_env = \"{}_TOKEN\"",
                name.to_uppercase()
            ));
            None
        } else {
            match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Some(SecretString::from(v.trim().to_owned())),
                _ => {
                    problems.push(format!(
                        "{name}.token_env: environment variable {var} is not set (or empty); export it with the {name}'s Permanent Auth Token"
                    ));
                    None
                }
            }
        }
    } else if let Some(file) = &raw.token_file {
        match file.to_str() {
            Some(f) if is_path_shaped(f) => {
                read_token(&format!("{name}.token_file"), file, problems)
            }
            _ => {
                problems.push(format!(
                    "{name}.token_file: not a file path (the value is not shown: if it is a token, rotate it); name the file that holds the token, e.g. token_file = \"/etc/stagesync/{name}-token\""
                ));
                None
            }
        }
    } else if let Some(cred) = &raw.token_credential {
        if !is_credential_name(cred) {
            problems.push(format!(
                "{name}.token_credential: not a credential name (letters, digits, -, _, .; the value is not shown: if it is a token, rotate it); name the systemd credential, e.g. token_credential = \"{name}-token\" with LoadCredential={name}-token:/path/to/token"
            ));
            None
        } else {
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
    let max_query_bytes = raw
        .max_query_bytes
        .unwrap_or(crate::sync::read::DEFAULT_QUERY_BYTES);
    if max_query_bytes < 4096 {
        problems.push(format!(
            "{name}.max_query_bytes: must be at least 4096 (Hygraph's smallest limit is 10240)"
        ));
    }
    if problems.len() > before {
        return None;
    }
    let mut endpoint = Endpoint::new(name, url?);
    endpoint.max_query_bytes = max_query_bytes;
    endpoint.token = token;
    endpoint.requests_per_second = requests_per_second;
    endpoint.burst = burst;
    endpoint.max_in_flight = max_in_flight;
    endpoint.connect_timeout = connect_timeout;
    endpoint.read_timeout = read_timeout;
    endpoint.request_timeout = request_timeout;
    endpoint.give_up_after = give_up_after;
    endpoint.max_retries = raw.max_retries.unwrap_or(12);
    endpoint.backoff_base = Duration::from_millis(raw.backoff_initial_ms.unwrap_or(250));
    endpoint.backoff_max = Duration::from_millis(raw.backoff_max_ms.unwrap_or(30_000));
    Some(endpoint)
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

    const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJ2ZXJzaW9uIjozfQ.c2VjcmV0LXNpZ25hdHVyZQ";

    fn endpoints(source_extra: &str) -> String {
        format!(
            "[source]\nurl = \"http://127.0.0.1:1/\"\n{source_extra}\n[destination]\nurl = \"http://127.0.0.1:2/\"\n"
        )
    }

    #[test]
    fn a_token_is_never_printed_wherever_it_was_pasted() {
        for (line, key) in [
            (format!("token = \"{JWT}\""), "source.token:"),
            (format!("token_env = \"{JWT}\""), "source.token_env:"),
            (
                "token_env = \"abc-def-123456\"".to_owned(),
                "source.token_env:",
            ),
            (format!("token_file = \"{JWT}\""), "source.token_file:"),
            (
                format!("token_credential = \"{JWT}\""),
                "source.token_credential:",
            ),
            (
                format!("token_credential = \"{JWT}x\""),
                "source.token_credential:",
            ),
            (format!("url2 = \"{JWT}\""), "url2"),
            (format!("token_env = \"{JWT}"), "line 3, column"),
            (
                format!("requests_per_second = \"{JWT}\""),
                "requests_per_second",
            ),
        ] {
            let err = parse(&endpoints(&line)).unwrap_err().to_string();
            assert!(err.contains(key), "{line}: {err}");
            assert!(
                !err.contains("c2VjcmV0"),
                "{line}: the token was printed: {err}"
            );
            assert!(!err.contains("abc-def-123456"), "{line}: printed: {err}");
        }
        // A URL holding a token is not printed either.
        let err = parse(&format!(
            "[source]\nurl = \"{JWT}\"\n[destination]\nurl = \"http://127.0.0.1:2/\"\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("source.url") && !err.contains("c2VjcmV0"),
            "{err}"
        );
    }

    #[test]
    fn values_of_the_right_shape_are_named() {
        let err = parse(&endpoints("token_env = \"STAGESYNC_TEST_SURELY_UNSET_2\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("STAGESYNC_TEST_SURELY_UNSET_2"), "{err}");
        let err = parse(&endpoints("token_file = \"/nonexistent/source-token\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/source-token"), "{err}");
    }

    #[test]
    fn source_equal_to_destination_is_refused() {
        for (a, b) in [
            ("http://127.0.0.1:1/x", "http://127.0.0.1:1/x/"),
            (
                "https://API.example.com/content/p/master",
                "https://api.example.com:443/content/p/master",
            ),
        ] {
            let err = parse(&format!(
                "[source]\nurl = \"{a}\"\n[destination]\nurl = \"{b}\"\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("same endpoint") && err.contains("destination.url"),
                "{err}"
            );
        }
        assert!(parse(
            "[source]\nurl = \"http://127.0.0.1:1/a\"\n[destination]\nurl = \"http://127.0.0.1:1/b\"\n"
        )
        .is_ok());
    }

    #[test]
    fn empty_lists_that_would_sync_nothing_are_refused() {
        for (line, key) in [
            ("models = []", "models:"),
            ("locales = []", "locales:"),
            ("stages = []", "stages:"),
        ] {
            let err = parse(&format!("{line}\n{}", endpoints("")))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{line}: {err}");
        }
    }

    #[test]
    fn the_schedule_is_parsed_once_into_a_schedule() {
        let c = parse(&format!("schedule = \"0 */15 * * * *\"\n{}", endpoints(""))).unwrap();
        assert_eq!(c.schedule.unwrap().expr(), "0 */15 * * * *");
        assert_eq!(
            c.repair_schedule.unwrap().expr(),
            DEFAULT_REPAIR_SCHEDULE,
            "a repair once a day unless said otherwise"
        );
        let c = parse(&format!("repair_schedule = \"off\"\n{}", endpoints(""))).unwrap();
        assert!(c.repair_schedule.is_none());
        let c = parse(&format!(
            "repair_schedule = \"0 30 2 * * SUN\"\n{}",
            endpoints("")
        ))
        .unwrap();
        assert_eq!(c.repair_schedule.unwrap().expr(), "0 30 2 * * SUN");
        let err = parse(&format!("repair_schedule = \"daily\"\n{}", endpoints("")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("repair_schedule:"), "{err}");
        let err = parse(&format!("schedule = \"*/5 * * * *\"\n{}", endpoints("")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("schedule:") && err.contains("6"), "{err}");
    }

    #[test]
    fn the_state_dir_flag_wins_over_the_file() {
        assert_eq!(
            state_dir(Some(Path::new("/a")), Some(Path::new("/b"))),
            PathBuf::from("/a")
        );
        assert_eq!(state_dir(None, Some(Path::new("/b"))), PathBuf::from("/b"));
    }

    #[test]
    fn relations_are_parsed_once_into_rules() {
        let c = parse(&format!(
            "{}[relations]\n\"Block.preview\" = \"Asset.previewBlock\"\n\"Post.related\" = \"one-way\"\n\"Page.content\" = [\"Article.pages\", \"Video.appearsOn\"]\n",
            endpoints("")
        ))
        .unwrap();
        let field = |s: &str| FieldRef::parse(s).unwrap();
        assert_eq!(
            c.relations,
            [
                RelationRule::Pair(field("Block.preview"), field("Asset.previewBlock")),
                RelationRule::Pair(field("Page.content"), field("Article.pages")),
                RelationRule::Pair(field("Page.content"), field("Video.appearsOn")),
                RelationRule::OneWay(field("Post.related")),
            ]
        );
        assert!(parse(&endpoints("")).unwrap().relations.is_empty());
        for (entry, needle) in [
            (
                "preview = \"Asset.previewBlock\"",
                "the key `preview` is not `Model.field`",
            ),
            (
                &format!("\"Block.preview\" = \"{JWT}\""),
                "relations.\"Block.preview\": the value is not",
            ),
            ("\"Block.preview\" = 3", "relations.\"Block.preview\""),
            ("\"Block.preview\" = []", "an empty list"),
        ] {
            let err = parse(&format!("{}[relations]\n{entry}\n", endpoints("")))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{entry}: {err}");
            assert!(!err.contains("c2VjcmV0"), "a value was printed: {err}");
        }
    }

    #[test]
    fn deletion_limits() {
        assert!(MaxDeletions::Percent(50.0).allows(5, 10));
        assert!(!MaxDeletions::Percent(50.0).allows(6, 10));
        assert!(MaxDeletions::Count(3).allows(3, 1000));
        assert!(!MaxDeletions::Count(3).allows(4, 1000));
    }
}
