//! The TOML config file and the environment: endpoints, tokens, what to sync, limits, state.

/// A config problem; exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}
