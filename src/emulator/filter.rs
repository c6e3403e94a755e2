//! `where` filters and `orderBy` of the Content API, evaluated over the emulator's store.
//!
//! Supported: `AND`/`OR`/`NOT`, `_search`, equality and the `_not`, `_in`, `_not_in`, `_lt`,
//! `_lte`, `_gt`, `_gte`, `_contains`, `_not_contains`, `_starts_with`, `_not_starts_with`,
//! `_ends_with`, `_not_ends_with` variants on system and scalar fields, `_contains_all`,
//! `_contains_some`, `_contains_none` on list fields, and relation filters (`field: {..}` for
//! single relations, `_some`/`_every`/`_none` for lists), and `documentInStages_some`/`_every`/
//! `_none` over the entry's versions in the other stages (`stage`, `compareWithParent:
//! { outdated_to }` — a version older than the one read is outdated). Anything else is a field error naming
//! the filter, never a silent "match everything".

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::model::{ContentModel, FieldKind, Model};

use super::store::{Entry, Store, Version};

const OPERATORS: &[&str] = &[
    "_not_contains",
    "_not_starts_with",
    "_not_ends_with",
    "_contains_all",
    "_contains_some",
    "_contains_none",
    "_not_in",
    "_contains",
    "_starts_with",
    "_ends_with",
    "_some",
    "_every",
    "_none",
    "_not",
    "_in",
    "_lte",
    "_lt",
    "_gte",
    "_gt",
];

const SYSTEM_FIELDS: &[&str] = &["id", "createdAt", "updatedAt", "publishedAt"];

/// What a filter sees of one entry: the entry, its version in the stage being read, the locale.
pub(crate) struct Subject<'s> {
    pub entry: &'s Entry,
    pub version: &'s Version,
    pub locale: &'s str,
}

/// A field value of `subject` as the API returns it (`None` when the field does not exist).
pub(crate) fn value_of<'s>(model: &Model, subject: &Subject<'s>, field: &str) -> Option<Value> {
    match field {
        "id" => Some(Value::String(subject.entry.id.clone())),
        "createdAt" => Some(Value::String(subject.entry.created_at.clone())),
        "updatedAt" => Some(Value::String(subject.version.updated_at.clone())),
        "publishedAt" => Some(
            subject
                .version
                .published_at
                .clone()
                .map_or(Value::Null, Value::String),
        ),
        _ => {
            let f = model.field(field)?;
            let v = if f.localized {
                subject
                    .version
                    .localizations
                    .get(subject.locale)
                    .and_then(|l| l.get(field))
            } else {
                subject.version.fields.get(field)
            };
            Some(v.cloned().unwrap_or(Value::Null))
        }
    }
}

/// Whether `subject` (an entry of `model` read in `stage`) matches `filter`.
pub(crate) fn matches(
    cm: &ContentModel,
    store: &Store,
    model: &Model,
    stage: &str,
    subject: &Subject<'_>,
    filter: &Map<String, Value>,
) -> Result<bool, String> {
    for (key, expected) in filter {
        if expected.is_null() && matches!(key.as_str(), "AND" | "OR" | "NOT" | "_search") {
            continue;
        }
        let ok = match key.as_str() {
            "AND" | "OR" | "NOT" => logical(key, expected, |f| {
                matches(cm, store, model, stage, subject, f)
            })?,
            "_search" => search(model, subject, expected),
            "documentInStages_some" | "documentInStages_every" | "documentInStages_none" => {
                in_stages_condition(stage, subject, key, expected)?
            }
            _ => field_condition(cm, store, model, stage, subject, key, expected)?,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `documentInStages_{some,every,none}`: a condition on the entry's versions in the stages other
/// than the one read (Hygraph's `documentInStages(includeCurrent: false)`).
fn in_stages_condition(
    stage: &str,
    subject: &Subject<'_>,
    key: &str,
    expected: &Value,
) -> Result<bool, String> {
    let Some(filter) = expected.as_object() else {
        return Ok(true);
    };
    let mut results = Vec::new();
    for (other, version) in subject.entry.stages.iter().filter(|(s, _)| *s != stage) {
        results.push(stage_matches(other, version, subject.version, filter)?);
    }
    Ok(match key {
        "documentInStages_some" => results.iter().any(|r| *r),
        "documentInStages_every" => results.iter().all(|r| *r),
        _ => !results.iter().any(|r| *r),
    })
}

/// Whether the version `version` of stage `stage` matches a `<Model>WhereStageInput`; `parent`
/// is the version being read (what `compareWithParent` compares with).
fn stage_matches(
    stage: &str,
    version: &Version,
    parent: &Version,
    filter: &Map<String, Value>,
) -> Result<bool, String> {
    for (key, expected) in filter {
        if expected.is_null() {
            continue;
        }
        let ok = match key.as_str() {
            "stage" => expected.as_str() == Some(stage),
            "compareWithParent" => match expected.get("outdated_to") {
                Some(Value::Bool(want)) => {
                    let outdated = compare(
                        &Value::String(version.updated_at.clone()),
                        &Value::String(parent.updated_at.clone()),
                    ) == Some(Ordering::Less);
                    outdated == *want
                }
                _ => true,
            },
            "AND" | "OR" | "NOT" => {
                logical(key, expected, |f| stage_matches(stage, version, parent, f))?
            }
            other => {
                return Err(format!(
                    "the emulator does not implement the stage filter `{other}`"
                ))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `AND` (every filter holds), `OR` (one holds; an empty list holds) or `NOT` (none holds)
/// over the filters `expected` lists, each evaluated by `eval`, stopping at the first that
/// decides.
fn logical(
    key: &str,
    expected: &Value,
    mut eval: impl FnMut(&Map<String, Value>) -> Result<bool, String>,
) -> Result<bool, String> {
    let filters = each_filter(expected, key)?;
    let empty = filters.is_empty();
    for f in filters {
        let holds = eval(f)?;
        match (key, holds) {
            ("AND", false) => return Ok(false),
            ("OR", true) => return Ok(true),
            ("NOT", true) => return Ok(false),
            _ => {}
        }
    }
    Ok(match key {
        "OR" => empty,
        _ => true,
    })
}

fn is_plain_field(model: &Model, key: &str) -> bool {
    SYSTEM_FIELDS.contains(&key) || model.field(key).is_some()
}

fn each_filter<'v>(value: &'v Value, key: &str) -> Result<Vec<&'v Map<String, Value>>, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|i| {
                i.as_object()
                    .ok_or_else(|| format!("{key} expects objects"))
            })
            .collect(),
        Value::Object(map) => Ok(vec![map]),
        _ => Err(format!("{key} expects a list of filters")),
    }
}

fn search(model: &Model, subject: &Subject<'_>, needle: &Value) -> bool {
    let Some(needle) = needle.as_str().map(str::to_lowercase) else {
        return true;
    };
    model.fields.iter().any(|f| {
        matches!(value_of(model, subject, &f.name), Some(Value::String(s)) if s.to_lowercase().contains(&needle))
    })
}

fn split_key<'k>(model: &Model, key: &'k str) -> Option<(&'k str, &'static str)> {
    if is_plain_field(model, key) {
        return Some((key, ""));
    }
    OPERATORS.iter().find_map(|op| {
        let field = key.strip_suffix(op)?;
        is_plain_field(model, field).then_some((field, *op))
    })
}

fn field_condition(
    cm: &ContentModel,
    store: &Store,
    model: &Model,
    stage: &str,
    subject: &Subject<'_>,
    key: &str,
    expected: &Value,
) -> Result<bool, String> {
    let Some((field, op)) = split_key(model, key) else {
        return Err(format!(
            "the emulator does not implement the filter `{key}` on {}",
            model.name
        ));
    };
    // A null operand means "no condition", except for (in)equality with null.
    if expected.is_null() && !matches!(op, "" | "_not") {
        return Ok(true);
    }
    if let Some(FieldKind::Relation(_)) = model.field(field).map(|f| &f.kind) {
        return relation_condition(cm, store, model, stage, subject, field, op, expected);
    }
    let actual = value_of(model, subject, field).unwrap_or(Value::Null);
    let ok = match op {
        "" => equal(&actual, expected),
        "_not" => !equal(&actual, expected),
        "_in" => list(expected).iter().any(|e| equal(&actual, e)),
        "_not_in" => !list(expected).iter().any(|e| equal(&actual, e)),
        "_lt" => compare(&actual, expected) == Some(Ordering::Less),
        "_lte" => matches!(
            compare(&actual, expected),
            Some(Ordering::Less | Ordering::Equal)
        ),
        "_gt" => compare(&actual, expected) == Some(Ordering::Greater),
        "_gte" => matches!(
            compare(&actual, expected),
            Some(Ordering::Greater | Ordering::Equal)
        ),
        "_contains" | "_not_contains" if actual.is_array() => {
            let has = list(&actual).iter().any(|a| equal(a, expected));
            has == (op == "_contains")
        }
        "_contains" => text(&actual).contains(text(expected)),
        "_not_contains" => !text(&actual).contains(text(expected)),
        "_starts_with" => text(&actual).starts_with(text(expected)),
        "_not_starts_with" => !text(&actual).starts_with(text(expected)),
        "_ends_with" => text(&actual).ends_with(text(expected)),
        "_not_ends_with" => !text(&actual).ends_with(text(expected)),
        "_contains_all" => list(expected)
            .iter()
            .all(|e| list(&actual).iter().any(|a| equal(a, e))),
        "_contains_some" => list(expected)
            .iter()
            .any(|e| list(&actual).iter().any(|a| equal(a, e))),
        "_contains_none" => !list(expected)
            .iter()
            .any(|e| list(&actual).iter().any(|a| equal(a, e))),
        _ => {
            return Err(format!(
                "the emulator does not implement the filter `{key}` on {}",
                model.name
            ))
        }
    };
    Ok(ok)
}

#[allow(clippy::too_many_arguments)]
fn relation_condition(
    cm: &ContentModel,
    store: &Store,
    model: &Model,
    stage: &str,
    subject: &Subject<'_>,
    field: &str,
    op: &str,
    expected: &Value,
) -> Result<bool, String> {
    let targets = store.list(stage, &model.name, field, &subject.entry.id);
    let mut results = Vec::new();
    for target in targets {
        let (Some(target_model), Some(entry)) = (
            cm.model(&target.typename),
            store.entry(&target.typename, &target.id),
        ) else {
            continue;
        };
        let Some(version) = entry.stages.get(stage) else {
            continue;
        };
        let filter = match expected {
            // Union filters are keyed by member type name.
            Value::Object(m) if m.contains_key(&target.typename) => {
                m.get(&target.typename).and_then(Value::as_object)
            }
            Value::Object(m) => Some(m),
            _ => None,
        };
        let sub = Subject {
            entry,
            version,
            locale: subject.locale,
        };
        let ok = match filter {
            Some(f) => matches(cm, store, target_model, stage, &sub, f)?,
            None => true,
        };
        results.push(ok);
    }
    Ok(match op {
        "" | "_some" => results.iter().any(|r| *r),
        "_every" => results.iter().all(|r| *r),
        "_none" => !results.iter().any(|r| *r),
        _ => {
            return Err(format!(
                "the emulator does not implement the filter `{field}{op}` on {}",
                model.name
            ))
        }
    })
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => a.as_f64() == b.as_f64(),
        _ => compare(a, b) == Some(Ordering::Equal) || a == b,
    }
}

/// Orders two API values: numbers numerically, timestamps as instants, strings as text.
pub(crate) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => {
            match (
                chrono::DateTime::parse_from_rfc3339(x),
                chrono::DateTime::parse_from_rfc3339(y),
            ) {
                (Ok(x), Ok(y)) => Some(x.cmp(&y)),
                _ => Some(x.cmp(y)),
            }
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Parses `field_ASC` / `field_DESC` into the field and whether it is descending.
pub(crate) fn parse_order(model: &Model, order: &str) -> Result<(String, bool), String> {
    let (field, desc) = if let Some(f) = order.strip_suffix("_ASC") {
        (f, false)
    } else if let Some(f) = order.strip_suffix("_DESC") {
        (f, true)
    } else {
        return Err(format!("unknown orderBy value `{order}`"));
    };
    if !is_plain_field(model, field) {
        return Err(format!("{} has no field `{field}` to order by", model.name));
    }
    Ok((field.to_string(), desc))
}

/// Sort order of two values of one field: nulls last ascending (as PostgreSQL does).
pub(crate) fn order_values(a: &Value, b: &Value) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_compare_as_instants() {
        assert_eq!(
            compare(
                &json!("2024-01-01T00:00:00.000Z"),
                &json!("2024-01-01T01:00:00+02:00")
            ),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn nulls_sort_last() {
        assert_eq!(order_values(&Value::Null, &json!(1)), Ordering::Greater);
        assert_eq!(order_values(&json!(1), &json!(2)), Ordering::Less);
    }
}
