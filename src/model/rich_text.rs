//! Where entries and assets are referenced from rich text: the `nodeId`/`nodeType` pairs of a
//! rich-text AST (embeds and entry links), and the rich-text values inside a field's value —
//! the field itself, or every rich-text field of the components it holds, nested components and
//! their other locales included.
//!
//! Values are JSON in the one layout both the emulator's store and the engine's canonical form
//! use: rich text as its AST, a component as an object with `__typename`, its fields, and
//! `localizations: { <locale>: { field: value } }` for its localized fields in other locales.
//!
//! A relation field inside a component holds its targets in the form rich text references
//! take, `{"nodeType": "Asset", "nodeId": "..."}` (a list of them for a list field), so the
//! walk visits them like rich text: the visitor gets the relation field and one reference, and
//! [`ast_references`]/[`map_ast_references`] read and rewrite it.

use serde_json::{Map, Value};

use super::{ContentModel, Field, FieldKind};

/// Key of a component's other locales in a component value.
const LOCALIZATIONS: &str = "localizations";

/// Components nest a few levels in Hygraph; the walk stops here (cycles are impossible in a
/// schema, but a value is input).
const MAX_DEPTH: usize = 16;

/// Calls `f(nodeType, nodeId)` for each embed or entry link of a rich-text AST, in document
/// order.
pub fn ast_references(ast: &Value, f: &mut dyn FnMut(&str, &str)) {
    match ast {
        Value::Object(map) => {
            if let (Some(Value::String(id)), Some(Value::String(ty))) =
                (map.get("nodeId"), map.get("nodeType"))
            {
                f(ty, id);
            }
            map.values().for_each(|v| ast_references(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| ast_references(v, f)),
        _ => {}
    }
}

/// Whether a rich-text AST (or a list of them) embeds or links to an entry or asset.
pub fn ast_has_references(ast: &Value) -> bool {
    let mut found = false;
    ast_references(ast, &mut |_, _| found = true);
    found
}

/// A rich-text AST with each reference's `nodeId` replaced by `map(nodeType, nodeId)`.
pub fn map_ast_references<E>(
    ast: &Value,
    map: &mut dyn FnMut(&str, &str) -> Result<String, E>,
) -> Result<Value, E> {
    Ok(match ast {
        Value::Object(obj) => {
            let reference = match (obj.get("nodeId"), obj.get("nodeType")) {
                (Some(Value::String(id)), Some(Value::String(ty))) => Some(map(ty, id)?),
                _ => None,
            };
            let mut out = Map::new();
            for (k, v) in obj {
                let value = match (&reference, k.as_str()) {
                    (Some(id), "nodeId") => Value::String(id.clone()),
                    _ => map_ast_references(v, map)?,
                };
                out.insert(k.clone(), value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| map_ast_references(v, map))
                .collect::<Result<_, _>>()?,
        ),
        other => other.clone(),
    })
}

impl ContentModel {
    /// Calls `f(rich-text field, AST)` for every rich-text value inside `value`, the value of
    /// `field`: the value itself for a rich-text field (each item of a list), every rich-text
    /// field of the components for a component field — and `f(relation field, reference)` for
    /// each target of a relation field inside a component (check `field.is_rich_text()`).
    pub fn visit_rich_text(&self, field: &Field, value: &Value, f: &mut dyn FnMut(&Field, &Value)) {
        let mut visit = |field: &Field, ast: &Value| -> Result<Value, ()> {
            f(field, ast);
            Ok(Value::Null)
        };
        let _ = self.walk(field, value, &mut visit, 0, false);
    }

    /// `value` (of `field`) with every rich-text AST inside it replaced by `f(field, AST)`.
    pub fn map_rich_text<E>(
        &self,
        field: &Field,
        value: &Value,
        f: &mut dyn FnMut(&Field, &Value) -> Result<Value, E>,
    ) -> Result<Value, E> {
        self.walk(field, value, f, 0, true)
    }

    /// Whether some rich text inside `value` (of `field`) embeds or links to an entry or asset,
    /// or a relation inside a component of it holds a target.
    pub fn has_rich_text_references(&self, field: &Field, value: &Value) -> bool {
        let mut found = false;
        self.visit_rich_text(field, value, &mut |_, ast| {
            found |= ast_has_references(ast);
        });
        found
    }

    fn walk<E>(
        &self,
        field: &Field,
        value: &Value,
        f: &mut dyn FnMut(&Field, &Value) -> Result<Value, E>,
        depth: usize,
        rebuild: bool,
    ) -> Result<Value, E> {
        if value.is_null() || depth > MAX_DEPTH {
            return Ok(value.clone());
        }
        match (&field.kind, value) {
            (
                FieldKind::Component { .. } | FieldKind::Scalar { .. } | FieldKind::Relation(_),
                Value::Array(items),
            ) if field.list => {
                let mut out = Vec::with_capacity(if rebuild { items.len() } else { 0 });
                for item in items {
                    let one = self.walk_one(field, item, f, depth, rebuild)?;
                    if rebuild {
                        out.push(one);
                    }
                }
                Ok(Value::Array(out))
            }
            _ => self.walk_one(field, value, f, depth, rebuild),
        }
    }

    fn walk_one<E>(
        &self,
        field: &Field,
        value: &Value,
        f: &mut dyn FnMut(&Field, &Value) -> Result<Value, E>,
        depth: usize,
        rebuild: bool,
    ) -> Result<Value, E> {
        // A relation inside a component holds `{nodeType, nodeId}` references (never a
        // top-level relation: its targets are not part of the field's value).
        if field.is_rich_text() || (depth > 0 && field.relation().is_some()) {
            return f(field, value);
        }
        let FieldKind::Component { .. } = &field.kind else {
            return Ok(value.clone());
        };
        let component = value
            .get("__typename")
            .and_then(Value::as_str)
            .and_then(|t| self.component(t));
        let (Some(component), Value::Object(map)) = (component, value) else {
            return Ok(value.clone());
        };
        let mut out = if rebuild { map.clone() } else { Map::new() };
        for inner in &component.fields {
            if let Some(v) = map.get(&inner.name) {
                let mapped = self.walk(inner, v, f, depth + 1, rebuild)?;
                if rebuild {
                    out.insert(inner.name.clone(), mapped);
                }
            }
        }
        if let Some(Value::Object(locales)) = map.get(LOCALIZATIONS) {
            let mut mapped_locales = Map::new();
            for (locale, values) in locales {
                let Value::Object(values) = values else {
                    mapped_locales.insert(locale.clone(), values.clone());
                    continue;
                };
                let mut mapped = values.clone();
                for inner in component.fields.iter().filter(|f| f.localized) {
                    if let Some(v) = values.get(&inner.name) {
                        let m = self.walk(inner, v, f, depth + 1, rebuild)?;
                        if rebuild {
                            mapped.insert(inner.name.clone(), m);
                        }
                    }
                }
                mapped_locales.insert(locale.clone(), Value::Object(mapped));
            }
            if rebuild {
                out.insert(LOCALIZATIONS.into(), Value::Object(mapped_locales));
            }
        }
        Ok(Value::Object(out))
    }
}
