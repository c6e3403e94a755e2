//! Deriving the content model from a Content API schema (SDL or introspection JSON).

use super::{ContentModel, ModelError};

pub fn from_sdl(_sdl: &str, origin: &str) -> Result<ContentModel, ModelError> {
    Err(ModelError::Invalid {
        origin: origin.into(),
        message: "not implemented".into(),
    })
}

pub fn from_introspection(
    _json: &serde_json::Value,
    origin: &str,
) -> Result<ContentModel, ModelError> {
    Err(ModelError::Invalid {
        origin: origin.into(),
        message: "not implemented".into(),
    })
}
