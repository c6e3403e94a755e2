//! What one request's execution shares: the content model, the store, the page cap, and the
//! error codes of the field errors made so far. Used by the executor and the views it returns.

use std::cell::RefCell;
use std::collections::HashMap;

use apollo_compiler::resolvers::{FieldError, ResolveInfo};
use serde_json::{Map, Value};

use crate::model::ContentModel;

use super::store::Store;

/// What a root field does, for which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    One,
    Many,
    Connection,
    Node,
    Create,
    Update,
    Upsert,
    Delete,
    Publish,
    Unpublish,
    UpdateMany { connection: bool },
    DeleteMany { connection: bool },
    PublishMany { connection: bool },
    UnpublishMany { connection: bool },
}

impl Op {
    pub fn is_mutation(self) -> bool {
        !matches!(self, Op::One | Op::Many | Op::Connection | Op::Node)
    }
}

/// Everything one request's execution needs.
pub(crate) struct Ctx<'a> {
    pub cm: &'a ContentModel,
    pub roots: &'a HashMap<String, (Op, usize)>,
    pub store: RefCell<&'a mut Store>,
    /// `http://127.0.0.1:PORT/__emulator/assets/`: asset `url`s point here.
    pub asset_base: &'a str,
    pub page_cap: usize,
    /// Error message → `extensions.code`, filled as field errors are made.
    pub codes: RefCell<HashMap<String, String>>,
    /// Asset uploads to start once the request is answered: (asset id, URL).
    pub uploads: RefCell<Vec<(String, String)>>,
    /// Root mutation field names executed (for stats).
    pub mutation_fields: RefCell<Vec<String>>,
}

impl<'a> Ctx<'a> {
    pub fn fail(&self, code: &str, message: String) -> FieldError {
        self.codes
            .borrow_mut()
            .insert(message.clone(), code.to_string());
        FieldError { message }
    }

    /// `first`/`last`, checked against the page cap.
    pub fn page_arg(
        &self,
        args: &Map<String, Value>,
        name: &str,
    ) -> Result<Option<usize>, FieldError> {
        match args.get(name).and_then(Value::as_i64) {
            None => Ok(None),
            Some(n) if n < 0 => Err(self.fail(
                "BAD_USER_INPUT",
                format!("`{name}` must not be negative, got {n}"),
            )),
            Some(n) if n as usize > self.page_cap => Err(self.fail(
                "BAD_USER_INPUT",
                format!(
                    "`{name}` must not be greater than {}, got {n}: page through the results with `skip` or `after`",
                    self.page_cap
                ),
            )),
            Some(n) => Ok(Some(n as usize)),
        }
    }
}

/// The arguments of the field being resolved, as plain JSON.
pub(crate) fn args_of(info: &ResolveInfo<'_>) -> Map<String, Value> {
    match serde_json::to_value(info.arguments()) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}
