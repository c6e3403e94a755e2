//! `stagesync schema`: print the derived content model.

use crate::cli::SchemaArgs;

use super::{Exit, UsageError};

pub fn run(_args: SchemaArgs) -> anyhow::Result<Exit> {
    Err(UsageError("schema: not implemented yet".into()).into())
}
