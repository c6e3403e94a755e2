//! Errors from deriving a content model.

/// A schema or model file that cannot be turned into a content model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}
