//! SDL text from the JSON answer of the standard introspection query, so the emulator can serve a
//! schema exported as introspection JSON exactly as it was exported. Only conversion: nothing is
//! added, dropped or reordered, except what GraphQL SDL cannot say.
//!
//! Carried over: every type in the answer's order (built-in scalars and `__` types aside),
//! descriptions, argument and input-field defaults (the answer's literal text), deprecations with
//! their reasons, interfaces, union members, enum values in order, directive definitions and the
//! root operation types. Introspection does not carry directive *uses* (`@remote` on a field is
//! invisible), so the SDL has none. A mutation root without fields (a schema exported with a
//! read-only token) is left out: SDL cannot declare an empty type, and a schema without mutations
//! is what such a token sees.

use std::fmt::Write as _;

use serde_json::Value;

const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];
const BUILT_IN_DIRECTIVES: &[&str] = &["skip", "include", "deprecated", "specifiedBy", "oneOf"];

/// Converts an introspection answer (`{"__schema": ...}`, with or without `{"data": ...}`
/// around it) to SDL. The error says what is missing or malformed.
pub fn introspection_to_sdl(json: &Value) -> Result<String, String> {
    let schema = json
        .get("data")
        .unwrap_or(json)
        .get("__schema")
        .ok_or("no `__schema` object (expected the answer of the standard introspection query, with or without `{\"data\": ...}`)")?;
    let types = schema
        .get("types")
        .and_then(Value::as_array)
        .ok_or("`__schema.types` is not a list")?;
    let root = |key: &str| {
        schema
            .get(key)
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let query = root("queryType").ok_or("`__schema.queryType` has no name")?;
    let empty = |name: &str| {
        types.iter().any(|t| {
            t["name"] == name
                && t["fields"]
                    .as_array()
                    .is_none_or(|fields| fields.is_empty())
        })
    };
    let mutation = root("mutationType").filter(|m| !empty(m));
    let subscription = root("subscriptionType").filter(|s| !empty(s));

    let mut out = String::new();
    let conventional = query == "Query"
        && mutation.as_deref().is_none_or(|m| m == "Mutation")
        && subscription.as_deref().is_none_or(|s| s == "Subscription");
    if !conventional {
        out.push_str("schema {\n");
        let _ = writeln!(out, "  query: {query}");
        if let Some(m) = &mutation {
            let _ = writeln!(out, "  mutation: {m}");
        }
        if let Some(s) = &subscription {
            let _ = writeln!(out, "  subscription: {s}");
        }
        out.push_str("}\n\n");
    }

    for directive in schema
        .get("directives")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = str_of(directive, "name")?;
        if BUILT_IN_DIRECTIVES.contains(&name) {
            continue;
        }
        description(&mut out, directive, "");
        let _ = write!(out, "directive @{name}");
        arguments(&mut out, directive.get("args"))?;
        if directive.get("isRepeatable").and_then(Value::as_bool) == Some(true) {
            out.push_str(" repeatable");
        }
        let locations: Vec<&str> = directive
            .get("locations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if locations.is_empty() {
            return Err(format!("directive @{name} has no locations"));
        }
        let _ = writeln!(out, " on {}\n", locations.join(" | "));
    }

    for ty in types {
        let name = str_of(ty, "name")?;
        if name.starts_with("__") {
            continue;
        }
        let kind = str_of(ty, "kind")?;
        match kind {
            "SCALAR" if BUILT_IN_SCALARS.contains(&name) => {}
            "SCALAR" => {
                description(&mut out, ty, "");
                let _ = writeln!(out, "scalar {name}\n");
            }
            "OBJECT" | "INTERFACE" => {
                let fields = ty.get("fields").and_then(Value::as_array);
                if fields.is_none_or(|f| f.is_empty()) {
                    if Some(name) == root("mutationType").as_deref()
                        || Some(name) == root("subscriptionType").as_deref()
                    {
                        continue;
                    }
                    return Err(format!("{} {name} has no fields", kind.to_lowercase()));
                }
                description(&mut out, ty, "");
                let keyword = if kind == "OBJECT" {
                    "type"
                } else {
                    "interface"
                };
                let _ = write!(out, "{keyword} {name}");
                let interfaces = names(ty.get("interfaces"))?;
                if !interfaces.is_empty() {
                    let _ = write!(out, " implements {}", interfaces.join(" & "));
                }
                out.push_str(" {\n");
                for field in fields.into_iter().flatten() {
                    description(&mut out, field, "  ");
                    let _ = write!(out, "  {}", str_of(field, "name")?);
                    arguments(&mut out, field.get("args"))?;
                    let _ = write!(out, ": {}", type_ref(field.get("type"))?);
                    deprecation(&mut out, field);
                    out.push('\n');
                }
                out.push_str("}\n\n");
            }
            "UNION" => {
                description(&mut out, ty, "");
                let members = names(ty.get("possibleTypes"))?;
                let _ = writeln!(out, "union {name} = {}\n", members.join(" | "));
            }
            "ENUM" => {
                description(&mut out, ty, "");
                let _ = writeln!(out, "enum {name} {{");
                for value in ty
                    .get("enumValues")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    description(&mut out, value, "  ");
                    let _ = write!(out, "  {}", str_of(value, "name")?);
                    deprecation(&mut out, value);
                    out.push('\n');
                }
                out.push_str("}\n\n");
            }
            "INPUT_OBJECT" => {
                description(&mut out, ty, "");
                let _ = writeln!(out, "input {name} {{");
                for field in ty
                    .get("inputFields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    description(&mut out, field, "  ");
                    out.push_str("  ");
                    input_value(&mut out, field)?;
                    out.push('\n');
                }
                out.push_str("}\n\n");
            }
            other => return Err(format!("type {name} has an unknown kind `{other}`")),
        }
    }
    Ok(out)
}

fn str_of<'v>(v: &'v Value, key: &str) -> Result<&'v str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("an introspection entry has no `{key}`: {}", short(v)))
}

fn short(v: &Value) -> String {
    let text = v.to_string();
    match text.char_indices().nth(120) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text,
    }
}

/// A description as a GraphQL string literal (JSON string escapes are GraphQL's).
fn description(out: &mut String, v: &Value, indent: &str) {
    if let Some(text) = v.get("description").and_then(Value::as_str) {
        let _ = writeln!(out, "{indent}{}", Value::String(text.to_owned()));
    }
}

fn deprecation(out: &mut String, v: &Value) {
    if v.get("isDeprecated").and_then(Value::as_bool) != Some(true) {
        return;
    }
    match v.get("deprecationReason").and_then(Value::as_str) {
        Some(reason) => {
            let _ = write!(
                out,
                " @deprecated(reason: {})",
                Value::String(reason.into())
            );
        }
        None => out.push_str(" @deprecated"),
    }
}

fn arguments(out: &mut String, args: Option<&Value>) -> Result<(), String> {
    let args: Vec<&Value> = args
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    if args.is_empty() {
        return Ok(());
    }
    out.push('(');
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(text) = arg.get("description").and_then(Value::as_str) {
            let _ = write!(out, "{} ", Value::String(text.to_owned()));
        }
        input_value(out, arg)?;
    }
    out.push(')');
    Ok(())
}

/// `name: Type = default`, with the deprecation when the answer carries one.
fn input_value(out: &mut String, v: &Value) -> Result<(), String> {
    let _ = write!(out, "{}: {}", str_of(v, "name")?, type_ref(v.get("type"))?);
    if let Some(default) = v.get("defaultValue").and_then(Value::as_str) {
        let _ = write!(out, " = {default}");
    }
    deprecation(out, v);
    Ok(())
}

fn type_ref(v: Option<&Value>) -> Result<String, String> {
    let v = v.ok_or("a field or argument has no `type`")?;
    match v.get("kind").and_then(Value::as_str) {
        Some("NON_NULL") => Ok(format!("{}!", type_ref(v.get("ofType"))?)),
        Some("LIST") => Ok(format!("[{}]", type_ref(v.get("ofType"))?)),
        Some(_) => Ok(str_of(v, "name")?.to_owned()),
        None => Err(format!(
            "a type reference has no `kind` (the introspection query must nest `ofType` deep enough): {}",
            short(v)
        )),
    }
}

fn names(list: Option<&Value>) -> Result<Vec<String>, String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| str_of(t, "name").map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn named(kind: &str, name: &str) -> Value {
        json!({"kind": kind, "name": name, "ofType": null})
    }

    fn non_null(of: Value) -> Value {
        json!({"kind": "NON_NULL", "name": null, "ofType": of})
    }

    #[test]
    fn converts_types_defaults_descriptions_and_deprecations() {
        let answer = json!({"data": {"__schema": {
            "queryType": {"name": "Query"},
            "mutationType": {"name": "Mutation"},
            "subscriptionType": null,
            "directives": [
                {"name": "remote", "description": null, "locations": ["FIELD_DEFINITION", "OBJECT"], "args": []},
                {"name": "skip", "description": "", "locations": ["FIELD"], "args": []}
            ],
            "types": [
                {"kind": "OBJECT", "name": "Query", "description": "The \"root\"\nquery", "interfaces": [],
                 "fields": [{"name": "posts", "description": null, "isDeprecated": false, "deprecationReason": null,
                    "type": non_null(json!({"kind": "LIST", "name": null, "ofType": named("OBJECT", "Post")})),
                    "args": [{"name": "stage", "description": "the stage", "defaultValue": "PUBLISHED", "type": non_null(named("ENUM", "Stage"))},
                             {"name": "ids", "description": null, "defaultValue": null, "type": {"kind": "LIST", "name": null, "ofType": named("SCALAR", "ID")}}]}]},
                {"kind": "OBJECT", "name": "Mutation", "description": null, "interfaces": [], "fields": []},
                {"kind": "OBJECT", "name": "Post", "description": null, "interfaces": [named("INTERFACE", "Node")],
                 "fields": [{"name": "id", "description": null, "args": [], "type": non_null(named("SCALAR", "ID")), "isDeprecated": true, "deprecationReason": "use key"}]},
                {"kind": "INTERFACE", "name": "Node", "description": null, "interfaces": [],
                 "fields": [{"name": "id", "description": null, "args": [], "type": non_null(named("SCALAR", "ID")), "isDeprecated": false, "deprecationReason": null}]},
                {"kind": "ENUM", "name": "Stage", "description": null, "enumValues": [
                    {"name": "PUBLISHED", "description": null, "isDeprecated": false, "deprecationReason": null},
                    {"name": "DRAFT", "description": null, "isDeprecated": false, "deprecationReason": null}]},
                {"kind": "UNION", "name": "Any", "description": null, "possibleTypes": [named("OBJECT", "Post")]},
                {"kind": "INPUT_OBJECT", "name": "PostWhere", "description": null, "inputFields": [
                    {"name": "id_in", "description": null, "defaultValue": null, "type": {"kind": "LIST", "name": null, "ofType": named("SCALAR", "ID")}},
                    {"name": "n", "description": null, "defaultValue": "[en, de]", "type": named("SCALAR", "Json")}]},
                {"kind": "SCALAR", "name": "Json", "description": null},
                {"kind": "SCALAR", "name": "String", "description": null}
            ]
        }}});
        let sdl = introspection_to_sdl(&answer).unwrap();
        assert!(
            sdl.contains("directive @remote on FIELD_DEFINITION | OBJECT"),
            "{sdl}"
        );
        assert!(!sdl.contains("@skip"), "{sdl}");
        assert!(
            !sdl.contains("type Mutation"),
            "an empty mutation root is left out: {sdl}"
        );
        assert!(!sdl.contains("scalar String"), "{sdl}");
        let schema = apollo_compiler::Schema::parse_and_validate(&sdl, "converted.graphql")
            .unwrap_or_else(|e| panic!("{}\n{sdl}", e.errors));
        assert!(schema.schema_definition.mutation.is_none());
        let query = schema.get_object("Query").unwrap();
        assert_eq!(query.description.as_deref(), Some("The \"root\"\nquery"));
        let posts = &query.fields["posts"];
        assert_eq!(posts.ty.to_string(), "[Post]!");
        let stage = posts.argument_by_name("stage").unwrap();
        assert_eq!(
            stage.default_value.as_ref().unwrap().to_string(),
            "PUBLISHED"
        );
        assert_eq!(stage.description.as_deref(), Some("the stage"));
        assert_eq!(
            posts.argument_by_name("ids").unwrap().ty.to_string(),
            "[ID]"
        );
        let id = &schema.get_object("Post").unwrap().fields["id"];
        assert_eq!(
            id.directives.get("deprecated").unwrap().to_string(),
            "@deprecated(reason: \"use key\")"
        );
        let stages: Vec<String> = match &schema.types["Stage"] {
            apollo_compiler::schema::ExtendedType::Enum(e) => {
                e.values.keys().map(|k| k.to_string()).collect()
            }
            _ => panic!("Stage is not an enum"),
        };
        assert_eq!(stages, ["PUBLISHED", "DRAFT"]);
    }

    #[test]
    fn a_malformed_answer_is_an_error_naming_what_is_missing() {
        let err = introspection_to_sdl(&json!({"types": []})).unwrap_err();
        assert!(err.contains("__schema"), "{err}");
        let err = introspection_to_sdl(&json!({"__schema": {"queryType": {"name": "Query"}, "types": [
            {"kind": "OBJECT", "name": "Query", "interfaces": [], "fields": [{"name": "x", "args": [], "type": {"name": "X"}}]}
        ]}}))
        .unwrap_err();
        assert!(err.contains("ofType"), "{err}");
    }
}
