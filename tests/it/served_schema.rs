//! The emulator started from a real Hygraph schema serves that schema: for every schema in the
//! fixtures (and every file in `$STAGESYNC_SCHEMAS`), its introspection over HTTP equals the
//! schema file, read independently of the emulator (SDL with apollo-compiler, introspection JSON
//! as JSON), on everything a content client uses — root query and mutation fields, their
//! arguments with types and defaults, input types, enums in order, object types of models and
//! components, unions, interfaces, custom directive definitions, descriptions and deprecations.
//!
//! The comparison reduces both sides to the same flat "surface": one key per type, field,
//! argument, input field, enum and union, each with a value (kind, type, default, ...); a
//! difference is a key missing, extra, or with another value.

use std::collections::BTreeMap;
use std::path::PathBuf;

use apollo_compiler::schema::ExtendedType;
use serde_json::{json, Value};
use stagesync::emulator::{Emulator, EmulatorOptions};

use crate::common;

/// System types that may differ from the real schema, by name: the built-in scalars, which a
/// GraphQL server lists with its own descriptions (Hygraph's and apollo-compiler's texts
/// differ) and whether used or not. Left out of both sides; every other type must be equal.
const MAY_DIFFER: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

const BUILT_IN_DIRECTIVES: &[&str] = &["skip", "include", "deprecated", "specifiedBy", "oneOf"];

/// The standard introspection query, written out here (not the crate's own copy).
const INTROSPECTION: &str = r#"query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}"#;

/// key → value; see the module doc.
type Surface = BTreeMap<String, String>;

/// A default value's literal without insignificant whitespace and commas (`[en, de]` and
/// `[en,de]` are the same value), strings kept as written.
fn literal(text: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() && c != ',' {
            out.push(c);
        }
    }
    out
}

fn deprecated(reason: Option<&str>) -> String {
    format!(" @deprecated({})", reason.unwrap_or("No longer supported"))
}

/// The surface of an introspection answer (`{"__schema"}`, with or without `{"data"}`).
fn surface_of_introspection(answer: &Value) -> Surface {
    let schema = answer
        .get("data")
        .unwrap_or(answer)
        .get("__schema")
        .expect("an introspection answer has __schema");
    let mut s = Surface::new();
    let types = schema["types"].as_array().expect("types");
    let empty_type = |name: &str| {
        types
            .iter()
            .any(|t| t["name"] == name && t["fields"].as_array().is_some_and(|f| f.is_empty()))
    };
    for root in ["queryType", "mutationType", "subscriptionType"] {
        if let Some(name) = schema[root]["name"].as_str() {
            // A root without fields (a read-only export's `type Mutation`) is no root.
            if !empty_type(name) {
                s.insert(format!("schema {root}"), name.to_owned());
            }
        }
    }
    fn type_ref(t: &Value) -> String {
        match t["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", type_ref(&t["ofType"])),
            Some("LIST") => format!("[{}]", type_ref(&t["ofType"])),
            _ => t["name"].as_str().expect("a named type").to_owned(),
        }
    }
    let names = |list: &Value| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let description = |s: &mut Surface, key: String, v: &Value| {
        if let Some(d) = v["description"].as_str() {
            s.insert(format!("description {key}"), d.to_owned());
        }
    };
    let input_value = |s: &mut Surface, key: String, v: &Value| {
        let mut value = type_ref(&v["type"]);
        if let Some(d) = v["defaultValue"].as_str() {
            value.push_str(&format!(" = {}", literal(d)));
        }
        s.insert(key.clone(), value);
        if let Some(d) = v["description"].as_str() {
            s.insert(format!("description {key}"), d.to_owned());
        }
    };
    for t in types {
        let name = t["name"].as_str().unwrap();
        let kind = t["kind"].as_str().unwrap();
        if name.starts_with("__") {
            continue;
        }
        if MAY_DIFFER.contains(&name)
            || (matches!(kind, "OBJECT" | "INTERFACE") && empty_type(name))
        {
            continue;
        }
        let interfaces = names(&t["interfaces"]);
        s.insert(
            format!("type {name}"),
            format!("{kind} implements [{}]", interfaces.join(" & ")),
        );
        description(&mut s, format!("type {name}"), t);
        for f in t["fields"].as_array().into_iter().flatten() {
            let key = format!("{name}.{}", f["name"].as_str().unwrap());
            let mut value = type_ref(&f["type"]);
            if f["isDeprecated"] == true {
                value.push_str(&deprecated(f["deprecationReason"].as_str()));
            }
            s.insert(key.clone(), value);
            description(&mut s, key.clone(), f);
            for a in f["args"].as_array().into_iter().flatten() {
                input_value(&mut s, format!("{key}({})", a["name"].as_str().unwrap()), a);
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            input_value(&mut s, format!("{name}.{}", f["name"].as_str().unwrap()), f);
        }
        if let Some(values) = t["enumValues"].as_array().filter(|_| kind == "ENUM") {
            let order: Vec<&str> = values.iter().map(|v| v["name"].as_str().unwrap()).collect();
            s.insert(format!("enum {name}"), order.join(", "));
            for v in values {
                let key = format!("{name}::{}", v["name"].as_str().unwrap());
                if v["isDeprecated"] == true {
                    s.insert(key.clone(), deprecated(v["deprecationReason"].as_str()));
                }
                description(&mut s, key, v);
            }
        }
        if kind == "UNION" {
            s.insert(
                format!("union {name}"),
                names(&t["possibleTypes"]).join(" | "),
            );
        }
    }
    for d in schema["directives"].as_array().into_iter().flatten() {
        let name = d["name"].as_str().unwrap();
        if BUILT_IN_DIRECTIVES.contains(&name) {
            continue;
        }
        let mut locations: Vec<&str> = d["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        locations.sort();
        s.insert(format!("directive @{name}"), locations.join(" | "));
        description(&mut s, format!("directive @{name}"), d);
        for a in d["args"].as_array().into_iter().flatten() {
            input_value(
                &mut s,
                format!("directive @{name}({})", a["name"].as_str().unwrap()),
                a,
            );
        }
    }
    s
}

/// The surface of SDL, read with apollo-compiler (parsed, not validated: exported schemas
/// carry quirks a strict validator may refuse).
fn surface_of_sdl(sdl: &str) -> Surface {
    let schema = match apollo_compiler::Schema::parse(sdl, "real.graphql") {
        Ok(schema) => schema,
        Err(with_errors) => with_errors.partial,
    };
    let mut s = Surface::new();
    let empty = |name: &str| match schema.types.get(name) {
        Some(ExtendedType::Object(o)) => o.fields.is_empty(),
        _ => false,
    };
    let def = &schema.schema_definition;
    for (key, root) in [
        ("queryType", &def.query),
        ("mutationType", &def.mutation),
        ("subscriptionType", &def.subscription),
    ] {
        if let Some(root) = root {
            if !empty(root.as_str()) {
                s.insert(format!("schema {key}"), root.to_string());
            }
        }
    }
    let describe = |s: &mut Surface, key: String, d: Option<&str>| {
        if let Some(d) = d {
            s.insert(format!("description {key}"), d.to_owned());
        }
    };
    let deprecation = |directives: &apollo_compiler::ast::DirectiveList| {
        directives.get("deprecated").map(|d| {
            let reason = d
                .specified_argument_by_name("reason")
                .and_then(|r| r.as_str().map(str::to_owned));
            deprecated(reason.as_deref())
        })
    };
    let input_value =
        |s: &mut Surface, key: String, v: &apollo_compiler::ast::InputValueDefinition| {
            let mut value = v.ty.to_string();
            if let Some(d) = &v.default_value {
                value.push_str(&format!(" = {}", literal(&d.to_string())));
            }
            s.insert(key.clone(), value);
            describe(s, key, v.description.as_deref());
        };
    for (name, ty) in &schema.types {
        if name.starts_with("__") || MAY_DIFFER.contains(&name.as_str()) {
            continue;
        }
        let (kind, interfaces): (&str, Vec<String>) = match ty {
            ExtendedType::Scalar(_) => ("SCALAR", vec![]),
            ExtendedType::Object(o) if o.fields.is_empty() => continue,
            ExtendedType::Object(o) => (
                "OBJECT",
                o.implements_interfaces
                    .iter()
                    .map(|i| i.to_string())
                    .collect(),
            ),
            ExtendedType::Interface(i) => (
                "INTERFACE",
                i.implements_interfaces
                    .iter()
                    .map(|i| i.to_string())
                    .collect(),
            ),
            ExtendedType::Union(_) => ("UNION", vec![]),
            ExtendedType::Enum(_) => ("ENUM", vec![]),
            ExtendedType::InputObject(_) => ("INPUT_OBJECT", vec![]),
        };
        let mut interfaces = interfaces;
        interfaces.sort();
        s.insert(
            format!("type {name}"),
            format!("{kind} implements [{}]", interfaces.join(" & ")),
        );
        describe(
            &mut s,
            format!("type {name}"),
            ty.description().map(|d| &**d),
        );
        let fields: Vec<&apollo_compiler::ast::FieldDefinition> = match ty {
            ExtendedType::Object(o) => o.fields.values().map(|f| &***f).collect(),
            ExtendedType::Interface(i) => i.fields.values().map(|f| &***f).collect(),
            _ => vec![],
        };
        for f in fields {
            let key = format!("{name}.{}", f.name);
            let mut value = f.ty.to_string();
            if let Some(d) = deprecation(&f.directives) {
                value.push_str(&d);
            }
            s.insert(key.clone(), value);
            describe(&mut s, key.clone(), f.description.as_deref());
            for a in &f.arguments {
                input_value(&mut s, format!("{key}({})", a.name), a);
            }
        }
        match ty {
            ExtendedType::InputObject(i) => {
                for (field, v) in &i.fields {
                    input_value(&mut s, format!("{name}.{field}"), v);
                }
            }
            ExtendedType::Enum(e) => {
                let order: Vec<&str> = e.values.keys().map(|k| k.as_str()).collect();
                s.insert(format!("enum {name}"), order.join(", "));
                for (value, v) in &e.values {
                    let key = format!("{name}::{value}");
                    if let Some(d) = deprecation(&v.directives) {
                        s.insert(key.clone(), d);
                    }
                    describe(&mut s, key, v.description.as_deref());
                }
            }
            ExtendedType::Union(u) => {
                let mut members: Vec<String> = u.members.iter().map(|m| m.to_string()).collect();
                members.sort();
                s.insert(format!("union {name}"), members.join(" | "));
            }
            _ => {}
        }
    }
    for (name, d) in &schema.directive_definitions {
        if BUILT_IN_DIRECTIVES.contains(&name.as_str()) {
            continue;
        }
        let mut locations: Vec<String> = d.locations.iter().map(|l| l.to_string()).collect();
        locations.sort();
        s.insert(format!("directive @{name}"), locations.join(" | "));
        describe(
            &mut s,
            format!("directive @{name}"),
            d.description.as_deref(),
        );
        for a in &d.arguments {
            input_value(&mut s, format!("directive @{name}({})", a.name), a);
        }
    }
    s
}

/// Every difference between the real schema's surface and the served one, one line each.
fn differences(real: &Surface, served: &Surface) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in real {
        match served.get(key) {
            None => out.push(format!("missing: {key} = {value}")),
            Some(v) if v != value => out.push(format!("changed: {key}: real {value}, served {v}")),
            Some(_) => {}
        }
    }
    for (key, value) in served {
        if !real.contains_key(key) {
            out.push(format!("extra: {key} = {value}"));
        }
    }
    out
}

/// The real schema files to check: the fixtures, then `$STAGESYNC_SCHEMAS`.
fn schema_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut add_dir = |dir: PathBuf| {
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "graphql" || e == "gql" || e == "json")
            })
            .collect();
        found.sort();
        files.extend(found);
    };
    if let Some(dir) = common::fixtures_dir() {
        add_dir(dir.join("hygraph"));
    }
    if let Some(dir) = std::env::var_os("STAGESYNC_SCHEMAS") {
        add_dir(PathBuf::from(dir));
    }
    files
}

async fn served_introspection(emulator: &Emulator) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(emulator.url())
        .json(&json!({ "query": INTROSPECTION }))
        .send()
        .await
        .expect("introspection request")
        .json()
        .await
        .expect("introspection answer");
    assert!(answer["errors"].is_null(), "introspection failed: {answer}");
    answer
}

fn real_surface(text: &str) -> Surface {
    if text.trim_start().starts_with('{') {
        surface_of_introspection(&serde_json::from_str(text).expect("JSON schema"))
    } else {
        surface_of_sdl(text)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_real_schema_is_served_as_it_is() {
    let files = schema_files();
    if files.is_empty() {
        eprintln!("NOT CHECKED: no real schema found (fixtures absent, $STAGESYNC_SCHEMAS unset)");
        return;
    }
    let mut report = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let origin = path.display().to_string();
        let options = match EmulatorOptions::from_schema(&text, &origin) {
            Ok(o) => o,
            Err(e) => {
                report.push(format!("{origin}: not served: {e}"));
                continue;
            }
        };
        let emulator = match Emulator::start(options).await {
            Ok(e) => e,
            Err(e) => {
                report.push(format!("{origin}: the emulator refused to start: {e}"));
                continue;
            }
        };
        let real = real_surface(&text);
        assert!(
            real.len() > 100 && real.contains_key("schema queryType"),
            "{origin}: the real schema was not read ({} keys)",
            real.len()
        );
        let served = surface_of_introspection(&served_introspection(&emulator).await);
        let diffs = differences(&real, &served);
        eprintln!(
            "{origin}: {} keys compared, {} differences",
            real.len(),
            diffs.len()
        );
        if !diffs.is_empty() {
            report.push(format!(
                "{origin}: {} differences:\n  {}",
                diffs.len(),
                diffs
                    .iter()
                    .take(40)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

const SMALL: &str = r#"
type Query { posts(stage: Stage! = PUBLISHED, ids: [ID], locales: [Locale!]! = [en, de]): [Post!]! }
type Post { id: ID! title: String @deprecated(reason: "use name") }
enum Stage { PUBLISHED DRAFT }
enum Locale { en de }
input PostWhereInput { id_in: [ID] }
union Any = Post
"#;

/// The comparison can fail: each kind of change the issue lists is reported.
#[test]
fn the_comparison_reports_changed_defaults_items_orders_and_missing_mutations() {
    let real = surface_of_sdl(SMALL);
    assert!(differences(&real, &surface_of_sdl(SMALL)).is_empty());
    let changed = |from: &str, to: &str| {
        assert!(SMALL.contains(from), "{from}");
        let diffs = differences(&real, &surface_of_sdl(&SMALL.replace(from, to)));
        assert!(!diffs.is_empty(), "`{from}` → `{to}` is not reported");
        diffs.join("\n")
    };
    let d = changed("Stage! = PUBLISHED", "Stage! = DRAFT");
    assert!(d.contains("Query.posts(stage)"), "{d}");
    let d = changed("id_in: [ID]", "id_in: [ID!]");
    assert!(d.contains("PostWhereInput.id_in"), "{d}");
    let d = changed(
        "enum Stage { PUBLISHED DRAFT }",
        "enum Stage { DRAFT PUBLISHED }",
    );
    assert!(d.contains("enum Stage"), "{d}");
    let d = changed("= [en, de]", "= [de, en]");
    assert!(d.contains("Query.posts(locales)"), "{d}");
    changed("@deprecated(reason: \"use name\")", "");
    changed(
        "union Any = Post",
        "union Any = Post | Other type Other { id: ID }",
    );
    let d = changed(
        "type Query {",
        "type Mutation { deletePost(id: ID): Post } type Query {",
    );
    assert!(d.contains("extra: Mutation.deletePost"), "{d}");
    // Whitespace inside a default is not a difference.
    assert!(differences(
        &real,
        &surface_of_sdl(&SMALL.replace("[en, de]", "[en,de]"))
    )
    .is_empty());
}

/// The introspection side of the comparison reads what the SDL side reads.
#[tokio::test(flavor = "multi_thread")]
async fn the_two_readers_of_the_comparison_agree_on_a_served_schema() {
    let mut options = EmulatorOptions::new(super::harness::conference());
    options.schema_sdl = Some(SMALL.to_owned());
    let emulator = Emulator::start(options).await.unwrap();
    let served = surface_of_introspection(&served_introspection(&emulator).await);
    let diffs = differences(&surface_of_sdl(SMALL), &served);
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// What the emulator serves but does not implement answers an error naming it (never missing
/// from the schema, never a made-up answer): scheduling, users, version history.
#[tokio::test(flavor = "multi_thread")]
async fn what_the_emulator_does_not_implement_answers_an_error_naming_it() {
    let Some(sdl) = common::houdini_sdl() else {
        eprintln!("NOT CHECKED: the with-houdini fixture is absent");
        return;
    };
    let emulator = Emulator::start(EmulatorOptions::from_schema(&sdl, "with-houdini").unwrap())
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let ask = |query: String| {
        let request = client.post(emulator.url()).json(&json!({ "query": query }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let created = ask(
        r#"mutation { createProduct(data: { name: "Chair", slug: "chair", price: 10 }) { id } }"#
            .into(),
    )
    .await;
    assert!(created["errors"].is_null(), "{created}");
    for (query, named) in [
        (
            "{ scheduledOperations(stage: DRAFT) { id } }",
            "`scheduledOperations`",
        ),
        ("{ users(stage: DRAFT) { id } }", "`users`"),
        (
            "{ products(stage: DRAFT) { history { id } } }",
            "`Product.history`",
        ),
    ] {
        let answer = ask(query.into()).await;
        let errors = answer["errors"].to_string();
        assert!(
            errors.contains("the emulator does not implement") && errors.contains(named),
            "{query}: {answer}"
        );
    }
}

/// Real schemas default `stage` to `PUBLISHED`; stagesync must never rely on a default. A sync
/// between two emulators serving a real fixture schema carries drafts and publications alike
/// (a read relying on the default would miss every draft-only entry), and `verify` agrees.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_between_two_served_real_schemas_reads_every_stage_explicitly() {
    use super::harness::{Pair, DEST_TOKEN, SOURCE_TOKEN};
    use stagesync::demo::project::ProjectSpec;

    let Some(dir) = common::fixtures_dir() else {
        eprintln!("NOT CHECKED: the fixtures are absent");
        return;
    };
    for name in ["with-houdini.graphql", "genql.graphql"] {
        let path = dir.join("hygraph").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("stage: Stage! = PUBLISHED"), "{name}");
        let options = |token: &str| {
            let mut o = EmulatorOptions::from_schema(&text, name).unwrap();
            o.token = Some(token.to_owned());
            o
        };
        let content = options(SOURCE_TOKEN).model;
        let pair =
            Pair::start_with(content, options(SOURCE_TOKEN), options(DEST_TOKEN), "", 500).await;
        let mut spec = ProjectSpec::new(30);
        spec.published_percent = 50;
        let _files = pair.seed_source(spec).await;
        pair.ok(&["sync"]).await;
        pair.verify_passes().await;
        let count = |stage: &str| {
            format!("query {{ c: productsConnection(stage: {stage}) {{ aggregate {{ count }} }} }}")
        };
        for stage in ["DRAFT", "PUBLISHED"] {
            let src = pair.source_gql(&count(stage), json!({})).await;
            let dst = pair.dest_gql(&count(stage), json!({})).await;
            assert_eq!(src, dst, "{name}: {stage} counts differ");
        }
        let drafts = pair.dest_gql(&count("DRAFT"), json!({})).await;
        let published = pair.dest_gql(&count("PUBLISHED"), json!({})).await;
        assert!(
            drafts["c"]["aggregate"]["count"].as_u64()
                > published["c"]["aggregate"]["count"].as_u64(),
            "{name}: some entries are draft-only: {drafts} {published}"
        );
    }
}

/// A schema file that cannot be served is a clear error naming the file and the problem.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_schema_file_is_a_clear_error() {
    let error = |text: &str, origin: &str| match EmulatorOptions::from_schema(text, origin) {
        Ok(_) => panic!("{origin} was accepted"),
        Err(e) => e.to_string(),
    };
    let e = error("{ not json", "broken.json");
    assert!(e.contains("broken.json") && e.contains("not JSON"), "{e}");
    let e = error(r#"{"data": {"types": []}}"#, "answer.json");
    assert!(e.contains("answer.json") && e.contains("__schema"), "{e}");
    let e = error("type Query {", "cut.graphql");
    assert!(e.contains("cut.graphql") && e.contains("syntax"), "{e}");

    let mut options = EmulatorOptions::new(super::harness::conference());
    options.schema_sdl = Some("type Query { a: Missing }".into());
    let e = match Emulator::start(options).await {
        Ok(_) => panic!("an invalid schema was served"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("not valid GraphQL") && e.contains("Missing"),
        "{e}"
    );
}
