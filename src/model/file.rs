//! The hand-written content-model file (TOML).

use super::{ContentModel, ModelError};

pub fn from_model_file(_text: &str, origin: &str) -> Result<ContentModel, ModelError> {
    Err(ModelError::Invalid {
        origin: origin.into(),
        message: "not implemented".into(),
    })
}
