//! A decoded GraphQL answer: `data` plus `errors`, with per-alias error lookup for batches.

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// One GraphQL answer. Both fields may be set: a batch of aliased mutations can partly succeed.
///
/// `D` is how `data` is decoded: a [`Value`] by default, or e.g. a
/// `Box<serde_json::value::RawValue>` for a caller that decodes (part of) it lazily.
#[derive(Debug, Clone, PartialEq)]
pub struct Response<D = Value> {
    /// `None` when the server sent `null` or no `data` (a request-level error).
    pub data: Option<D>,
    pub errors: Vec<GraphqlError>,
}

/// The body as sent; `Some(None)` is a field sent as `null`, `None` one not sent at all.
#[derive(Deserialize)]
#[serde(bound(deserialize = "D: Deserialize<'de>"))]
struct Envelope<D> {
    #[serde(default, deserialize_with = "present")]
    data: Option<Option<D>>,
    #[serde(default, deserialize_with = "present")]
    errors: Option<Option<Value>>,
}

fn present<'de, De, T>(deserializer: De) -> Result<Option<Option<T>>, De::Error>
where
    De: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// One entry of a response's `errors`.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlError {
    pub message: String,
    /// Response path: `["createPost_3", "id"]`; empty for request-level errors.
    pub path: Vec<Value>,
    /// `extensions.code` when the server sent one.
    pub code: Option<String>,
}

impl<D> Response<D> {
    /// The first error of the aliased field `alias` (its path starts with the alias).
    pub fn alias_error(&self, alias: &str) -> Option<&GraphqlError> {
        self.errors
            .iter()
            .find(|e| e.path.first().and_then(Value::as_str) == Some(alias))
    }

    /// Errors not tied to any field: the whole request was rejected (validation, complexity).
    pub fn request_errors(&self) -> impl Iterator<Item = &GraphqlError> {
        self.errors.iter().filter(|e| e.path.is_empty())
    }

    /// `data`, when the server sent some.
    pub fn data(&self) -> Option<&D> {
        self.data.as_ref()
    }

    /// A query-complexity rejection, if the server answered with one and no data.
    pub(crate) fn complexity_error(&self) -> Option<&GraphqlError> {
        if self.data.is_some() {
            return None;
        }
        self.errors.iter().find(|e| {
            let m = e.message.to_ascii_lowercase();
            m.contains("complexity") || m.contains("too complex")
        })
    }
}

impl<D: DeserializeOwned> Response<D> {
    /// Decodes a GraphQL-over-HTTP body. `Err` says why it is not one (for the error message).
    /// `D` should accept any JSON (a `Value`, a `RawValue`): a `data` it rejects is reported as
    /// a body that is not JSON.
    pub(crate) fn parse(body: &[u8]) -> Result<Response<D>, String> {
        let not_json =
            |e: serde_json::Error| format!("not JSON ({e}), body starts with {}", excerpt(body));
        // A struct would also accept a JSON array (as its fields in order): reject that first.
        if body.trim_ascii_start().first() != Some(&b'{') {
            serde_json::from_slice::<IgnoredAny>(body).map_err(not_json)?;
            return Err(format!("not a JSON object: {}", excerpt(body)));
        }
        let envelope: Envelope<D> = serde_json::from_slice(body).map_err(not_json)?;
        if envelope.data.is_none() && envelope.errors.is_none() {
            return Err(format!("neither `data` nor `errors`: {}", excerpt(body)));
        }
        let errors = match envelope.errors.flatten() {
            None => Vec::new(),
            Some(Value::Array(errors)) => errors.into_iter().map(GraphqlError::from_json).collect(),
            Some(other) => vec![GraphqlError::from_json(other)],
        };
        Ok(Response {
            data: envelope.data.flatten(),
            errors,
        })
    }
}

impl GraphqlError {
    /// Leniently decodes one error: an odd shape still carries its text.
    fn from_json(value: Value) -> GraphqlError {
        let message = match value.get("message").and_then(Value::as_str) {
            Some(m) => m.to_owned(),
            None => value.to_string(),
        };
        let path = match value.get("path") {
            Some(Value::Array(path)) => path.clone(),
            _ => Vec::new(),
        };
        let code = value
            .pointer("/extensions/code")
            .and_then(Value::as_str)
            .map(str::to_owned);
        GraphqlError {
            message,
            path,
            code,
        }
    }
}

impl std::fmt::Display for GraphqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.path.is_empty() {
            let path: Vec<String> = self
                .path
                .iter()
                .map(|p| match p {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            write!(f, "{}: ", path.join("."))?;
        }
        f.write_str(&self.message)
    }
}

/// The first bytes of a body, on one line, for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 120;
    let text = String::from_utf8_lossy(&body[..body.len().min(MAX)]);
    let mut line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if body.len() > MAX {
        line.push('…');
    }
    if line.trim().is_empty() {
        "(empty body)".to_owned()
    } else {
        format!("`{}`", line.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serde_json::value::RawValue;

    fn parse(body: &[u8]) -> Result<Response, String> {
        Response::parse(body)
    }

    #[test]
    fn partial_data_and_alias_errors_are_kept() {
        let body = json!({
            "data": {"a0": {"id": "x"}, "a1": null},
            "errors": [{"message": "value is not unique", "path": ["a1"],
                        "extensions": {"code": "BAD_USER_INPUT"}}]
        });
        let r = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(r.data.as_ref().unwrap()["a0"]["id"], "x");
        let e = r.alias_error("a1").unwrap();
        assert_eq!(e.code.as_deref(), Some("BAD_USER_INPUT"));
        assert!(r.alias_error("a0").is_none());
        assert_eq!(e.to_string(), "a1: value is not unique");
    }

    #[test]
    fn request_level_errors_have_no_data() {
        let r = parse(br#"{"data":null,"errors":[{"message":"Cannot query field"}]}"#).unwrap();
        assert!(r.data.is_none());
        assert_eq!(r.request_errors().count(), 1);
        assert!(r.complexity_error().is_none());
        let r = parse(br#"{"errors":[{"message":"query exceeds complexity limit"}]}"#).unwrap();
        assert!(r.complexity_error().is_some());
    }

    #[test]
    fn bodies_that_are_not_graphql_are_rejected_with_an_excerpt() {
        let e = parse(b"<html><body>Bad gateway</body></html>").unwrap_err();
        assert!(e.contains("<html>"), "{e}");
        let e = parse(br#"{"data": {"posts": [{"id""#).unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        assert!(parse(br#"{"hello": 1}"#).is_err());
        assert!(parse(b"[1]").is_err());
    }

    #[test]
    fn raw_data_is_kept_as_sent_with_the_same_rules() {
        let body = br#"{"data": {"page": {"b": 1,  "a": [2]}}, "errors": null}"#;
        let r = Response::<Box<RawValue>>::parse(body).unwrap();
        assert_eq!(r.data.unwrap().get(), r#"{"page": {"b": 1,  "a": [2]}}"#);
        assert!(r.errors.is_empty());
        let r = Response::<Box<RawValue>>::parse(br#"{"data":null,"errors":[{"message":"x"}]}"#)
            .unwrap();
        assert!(r.data.is_none());
        assert_eq!(r.errors[0].message, "x");
        assert!(Response::<Box<RawValue>>::parse(br#"{"hello": 1}"#).is_err());
        assert!(Response::<Box<RawValue>>::parse(br#"[{"data": 1}]"#)
            .unwrap_err()
            .contains("not a JSON object"));
        assert!(Response::<Box<RawValue>>::parse(br#"{"data": {"#)
            .unwrap_err()
            .contains("not JSON"));
    }
}
