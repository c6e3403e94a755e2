//! Scalar values as the emulator stores and shows them: times in UTC with milliseconds, colours
//! in their full output form. Shared by entry writes, component writes and reads.

use serde_json::{json, Value};

use crate::model::{Field, FieldKind, Scalar};

/// A scalar input as stored: times in UTC with milliseconds, colours in their full output form
/// (so a colour written as `hex` and the same colour written as `rgba` are stored alike).
pub(crate) fn scalar_value(field: &Field, value: &Value) -> Value {
    let one = |v: &Value| match &field.kind {
        FieldKind::Scalar {
            scalar: Scalar::DateTime,
        } => normalize_time(v),
        FieldKind::Scalar {
            scalar: Scalar::Color,
        } if v.is_object() => color(v.clone()),
        _ => v.clone(),
    };
    match value {
        Value::Array(items) if field.list => Value::Array(items.iter().map(one).collect()),
        other => one(other),
    }
}

/// A `DateTime` as Hygraph answers it: UTC, milliseconds, `Z`.
pub(crate) fn normalize_time(value: &Value) -> Value {
    match value
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    {
        Some(t) => Value::String(
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
        ),
        None => value.clone(),
    }
}

/// A colour input (`hex` or `rgba`) or stored colour as the API shows it: `{hex rgba css}`.
pub(crate) fn color(input: Value) -> Value {
    let (r, g, b, a) = if let Some(rgba) = input.get("rgba") {
        (
            rgba.get("r").and_then(Value::as_u64).unwrap_or(0),
            rgba.get("g").and_then(Value::as_u64).unwrap_or(0),
            rgba.get("b").and_then(Value::as_u64).unwrap_or(0),
            rgba.get("a").and_then(Value::as_f64).unwrap_or(1.0),
        )
    } else {
        let hex = input
            .get("hex")
            .and_then(Value::as_str)
            .unwrap_or("#000000")
            .trim_start_matches('#');
        let part =
            |i: usize| u64::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
        (part(0), part(2), part(4), 1.0)
    };
    json!({
        "hex": format!("#{r:02x}{g:02x}{b:02x}"),
        "rgba": {"r": r, "g": g, "b": b, "a": a},
        "css": format!("rgba({r},{g},{b},{a})"),
    })
}
