//! `demo --schema` on every real schema: the fixtures' (and every file in `$STAGESYNC_SCHEMAS`).
//!
//! Each case runs the demo's steps against two emulators serving the real schema — the demo's
//! own generator fills the source, the real binary syncs, the demo's edits change the source, the
//! binary syncs again — and checks each step with oracles of its own, never with stagesync's:
//! - `sync` exits 0 and `verify` exits 0 (exact);
//! - the two emulators' dumps (every field, both sides of every relation, every stage and
//!   locale) are equal, entries matched by a mapping computed here from content alone (a key per
//!   entry from its own fields, refined by its relations' keys; no unique field assumed);
//! - after the edits, one more sync converges (verify and dumps again), and a rerun sends no
//!   mutation;
//! - every GraphQL document the emulators received validates against the REAL schema file,
//!   parsed here with apollo-compiler (an introspection JSON file converted to SDL by this
//!   module, not by the emulator's converter);
//! - the largest query body stays under 10 KB (Hygraph Hobby's query limit) and every mutation
//!   body within the config's `batch.max_bytes`.
//!
//! Relation targets compare as sets: the emulator lists the side that was not written in write
//! order, which two correct syncs need not share. The real binary runs `demo --schema` too
//! (exit 0, "Both sides match."), and a bad schema file ends in exit 2 naming it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Map, Value};
use stagesync::demo::files::FileServer;
use stagesync::demo::project::{seed, ProjectSpec};
use stagesync::emulator::EmulatorOptions;

use super::common;
use super::harness::{json_diff, writes, Pair, DEST_TOKEN, SOURCE_TOKEN};

/// Hygraph's smallest query size limit (Hobby plan).
const QUERY_LIMIT: u64 = 10 * 1024;
/// Entries generated per model: enough for every kind of entry (draft-only, published, with a
/// newer draft) and for the edits, small enough to keep the case well under a minute.
const PER_MODEL: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_with_houdini() {
    fixture_case("with-houdini.graphql").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_genql() {
    fixture_case("genql.graphql").await;
}

/// `Person.headshot` is a required relation (`headshot: AssetCreateOneInlineInput!`): connected
/// in the create, after the assets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_bond_graphcms_starter() {
    fixture_case("bond-graphcms-starter.json").await;
}

/// The conference model (components nested and in a union, union relations whose members point
/// back, localized fields, rich text with embeds) as the SDL Hygraph would generate for it,
/// given to the demo as a schema file: the shapes none of the fixture schemas holds. Its
/// documents are validated against that generated file, so this case checks the generator and
/// the sync on those shapes, not the emulator's schema against Hygraph's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_the_conference_model_as_a_schema_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conference.graphql");
    let sdl = stagesync::emulator::generate_sdl(&super::harness::conference());
    std::fs::write(&path, sdl).unwrap();
    demo_case(&path).await;
}

/// Components holding relations (`image: Asset`, a nested component with a list, a single and
/// a union relation) and a union mixing a model and a component, as the SDL Hygraph would
/// generate: the generator connects targets inside components, the sync writes them, and the
/// dumps compare them by key; the mixed union is skipped, not refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_components_holding_relations_and_a_mixed_union() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("component-relations.graphql");
    std::fs::write(&path, super::component_relations::mixed_sdl()).unwrap();
    demo_case(&path).await;
}

/// Every fixture schema has a case above: a new fixture must get its own.
#[test]
fn every_fixture_schema_has_a_case() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let known = [
        "with-houdini.graphql",
        "genql.graphql",
        "bond-graphcms-starter.json",
    ];
    for file in schema_files(&dir.join("hygraph")) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            known.contains(&name.as_str()),
            "fixture schema {name} has no demo_schema case: add one"
        );
    }
}

/// Every file in `$STAGESYNC_SCHEMAS`, each checked alone; the failures are reported together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_every_schema_in_stagesync_schemas() {
    let Some(dir) = std::env::var_os("STAGESYNC_SCHEMAS") else {
        eprintln!("skipping: STAGESYNC_SCHEMAS is not set (a directory of more schema files)");
        return;
    };
    let mut failures = Vec::new();
    for file in schema_files(Path::new(&dir)) {
        let name = file.display().to_string();
        let outcome = tokio::spawn(async move { demo_case(&file).await }).await;
        if let Err(e) = outcome {
            let reason = e
                .try_into_panic()
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                })
                .unwrap_or_default();
            failures.push(format!("{name}: {reason}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The generator connects a required relation in the create (`Person.headshot:
/// AssetCreateOneInlineInput!` in the real bond schema): every Person exists, in both stages
/// where published, with its headshot, as read back from the source here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_connects_required_relations_in_the_create() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let path = dir.join("hygraph/bond-graphcms-starter.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut options = EmulatorOptions::from_schema(&text, "bond").unwrap();
    options.token = Some(SOURCE_TOKEN.into());
    let content = options.model.clone();
    let pair = Pair::start_with(content.clone(), options.clone(), options, "", 500).await;
    let files = FileServer::start().await.unwrap();
    let mut spec = ProjectSpec::new(PER_MODEL * content.models.len());
    spec.assets = 3;
    spec.file_base = Some(files.url().to_owned());
    let project = seed(&pair.source_client(), &content, &spec)
        .await
        .expect("seeding a schema with a required relation");
    assert_eq!(project.ids["Person"].len(), PER_MODEL);
    let draft = pair
        .source_gql(
            "query { people(stage: DRAFT, first: 100) { id headshot { id } } }",
            json!({}),
        )
        .await;
    let people = draft["people"].as_array().unwrap();
    assert_eq!(people.len(), PER_MODEL, "{draft}");
    assert!(
        people.iter().all(|p| p["headshot"]["id"].is_string()),
        "{draft}"
    );
    // A published Person's required target is published too: the PUBLISHED read succeeds.
    let published = pair
        .source_gql(
            "query { people(stage: PUBLISHED, first: 100) { id headshot { id } } }",
            json!({}),
        )
        .await;
    assert!(published["people"].is_array(), "{published}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_with_a_bad_schema_file_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.graphql");
    std::fs::write(&bad, "type Query { products: [Product!]! ").unwrap();
    let missing = dir.path().join("missing.graphql");
    // A read-only export: the real houdini schema with an empty `type Mutation`.
    let read_only = dir.path().join("read-only.graphql");
    let mut files = vec![&bad, &missing];
    if let Some(sdl) = common::houdini_sdl() {
        let start = sdl.find("type Mutation {").expect("type Mutation");
        let end = start + sdl[start..].find("\n}\n").expect("end of Mutation") + 3;
        let emptied = format!("{}type Mutation\n{}", &sdl[..start], &sdl[end..]);
        std::fs::write(&read_only, emptied).unwrap();
        files.push(&read_only);
    }
    for file in files {
        let out = std::process::Command::new(common::stagesync_bin())
            .args(["demo", "--entries", "10", "--schema"])
            .arg(file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(&file.display().to_string()), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        if file == &read_only {
            assert!(err.contains("read-only token"), "{err}");
        }
    }
}

async fn fixture_case(name: &str) {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    demo_case(&dir.join("hygraph").join(name)).await;
}

fn schema_files(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "graphql" || e == "gql" || e == "json")
        })
        .collect();
    found.sort();
    found
}

/// The demo's steps on one schema file, every step checked independently.
async fn demo_case(path: &Path) {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{origin}: {e}"));
    let real = real_schema(&text, &origin);
    let options = |token: &str| {
        let mut o = EmulatorOptions::from_schema(&text, &origin)
            .unwrap_or_else(|e| panic!("{origin}: the emulator cannot serve it: {e}"));
        o.token = Some(token.to_owned());
        o.record_documents = true;
        o
    };
    let content = options(SOURCE_TOKEN).model;
    let pair = Pair::start_with(
        content.clone(),
        options(SOURCE_TOKEN),
        options(DEST_TOKEN),
        "",
        500,
    )
    .await;
    let files = FileServer::start().await.unwrap();
    let mut spec = ProjectSpec::new(PER_MODEL * content.models.len());
    spec.assets = 4;
    spec.file_base = Some(files.url().to_owned());
    let project = seed(&pair.source_client(), &content, &spec)
        .await
        .unwrap_or_else(|e| panic!("{origin}: seeding the source: {e}"));
    let mut sent = Sent::default();
    pair.source.reset_stats();

    // The initial sync.
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same(&pair, &origin, "after the initial sync");
    sent.take(&pair);

    // The demo's edits, then the incremental sync.
    let edits = stagesync::demo::tour::edit(&pair.source_client(), &content, &project, files.url())
        .await
        .unwrap_or_else(|e| panic!("{origin}: the demo's edits: {e}"));
    assert!(!edits.is_empty(), "{origin}: the demo edited nothing");
    pair.source.reset_stats();
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same(&pair, &origin, &format!("after the edits {edits:?}"));
    sent.take(&pair);

    // Nothing left to write.
    pair.ok(&["sync"]).await;
    assert!(
        writes(&pair).is_empty(),
        "{origin}: a rerun wrote {:?}",
        writes(&pair)
    );
    sent.take(&pair);

    // What stagesync sent fits the real schema and the limits.
    let invalid: Vec<String> = sent
        .documents
        .iter()
        .filter_map(|doc| {
            ExecutableDocument::parse_and_validate(&real, doc.as_str(), "sent.graphql")
                .err()
                .map(|e| format!("{}\n  in {}", e.errors, truncated(doc)))
        })
        .collect();
    assert!(
        invalid.is_empty(),
        "{origin}: {} of {} documents sent are invalid against the real schema:\n{}",
        invalid.len(),
        sent.documents.len(),
        invalid.join("\n")
    );
    assert!(
        sent.documents.len() > 3,
        "{origin}: too few documents recorded"
    );
    assert!(
        sent.largest_query < QUERY_LIMIT,
        "{origin}: a query of {} bytes (limit {QUERY_LIMIT})",
        sent.largest_query
    );
    assert!(
        sent.largest_mutation_document < QUERY_LIMIT,
        "{origin}: a mutation document of {} bytes (limit {QUERY_LIMIT})",
        sent.largest_mutation_document
    );
    let max_bytes = stagesync::config::DEFAULT_BATCH_BYTES as u64;
    assert!(
        sent.largest_mutation <= max_bytes,
        "{origin}: a mutation of {} bytes (batch.max_bytes {max_bytes})",
        sent.largest_mutation
    );

    // The real binary's demo on the same file.
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(240),
        tokio::process::Command::new(common::stagesync_bin())
            .args(["demo", "--entries"])
            .arg((PER_MODEL * content.models.len()).to_string())
            .arg("--schema")
            .arg(path)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the demo finishes in time")
    .unwrap();
    let story = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{origin}: demo --schema:\n{story}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(story.contains("Both sides match."), "{origin}: {story}");
}

/// What the emulators received from stagesync, over the steps of a case.
#[derive(Default)]
struct Sent {
    documents: std::collections::BTreeSet<String>,
    largest_query: u64,
    largest_mutation: u64,
    largest_mutation_document: u64,
}

impl Sent {
    /// Takes what both emulators received since the last reset, and resets them.
    fn take(&mut self, pair: &Pair) {
        for emulator in [&pair.source, &pair.dest] {
            self.documents.extend(emulator.documents());
            let stats = emulator.stats();
            self.largest_query = self.largest_query.max(stats.largest_query);
            self.largest_mutation = self.largest_mutation.max(stats.largest_mutation);
            self.largest_mutation_document = self
                .largest_mutation_document
                .max(stats.largest_mutation_document);
            emulator.reset_stats();
        }
    }
}

fn truncated(doc: &str) -> String {
    doc.chars().take(300).collect()
}

/// The real schema file, parsed and validated here: SDL as it is, introspection JSON through
/// [`introspection_sdl`].
fn real_schema(text: &str, origin: &str) -> apollo_compiler::validation::Valid<Schema> {
    let sdl = if text.trim_start().starts_with('{') {
        introspection_sdl(&serde_json::from_str(text).expect("JSON schema"))
    } else {
        text.to_owned()
    };
    Schema::parse_and_validate(sdl, origin)
        .unwrap_or_else(|e| panic!("{origin}: the real schema does not validate: {}", e.errors))
}

/// SDL for an introspection answer (`{"__schema"}` or `{"data": {"__schema"}}`): every
/// non-introspection type with its fields, arguments, defaults, interfaces, union members and
/// enum values. Descriptions and directives are left out: documents are validated without them.
fn introspection_sdl(json: &Value) -> String {
    let schema = if json["data"].is_object() {
        &json["data"]["__schema"]
    } else {
        &json["__schema"]
    };
    fn ty(t: &Value) -> String {
        match t["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", ty(&t["ofType"])),
            Some("LIST") => format!("[{}]", ty(&t["ofType"])),
            _ => t["name"].as_str().expect("named type").to_owned(),
        }
    }
    fn input_value(v: &Value) -> String {
        let mut s = format!("{}: {}", v["name"].as_str().unwrap(), ty(&v["type"]));
        if let Some(d) = v["defaultValue"].as_str() {
            s.push_str(&format!(" = {d}"));
        }
        s
    }
    let names = |list: &Value| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut out = String::from("schema {\n");
    for (op, key) in [
        ("query", "queryType"),
        ("mutation", "mutationType"),
        ("subscription", "subscriptionType"),
    ] {
        if let Some(name) = schema[key]["name"].as_str() {
            out.push_str(&format!("  {op}: {name}\n"));
        }
    }
    out.push_str("}\n");
    for t in schema["types"].as_array().expect("types") {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || ["String", "Int", "Float", "Boolean", "ID"].contains(&name) {
            continue;
        }
        let implements = names(&t["interfaces"]);
        let implements = if implements.is_empty() {
            String::new()
        } else {
            format!(" implements {}", implements.join(" & "))
        };
        let fields = |key: &str, args: bool| -> String {
            t[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    if !args {
                        return format!("  {}\n", input_value(f));
                    }
                    let a: Vec<String> = f["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(input_value)
                        .collect();
                    let a = if a.is_empty() {
                        String::new()
                    } else {
                        format!("({})", a.join(", "))
                    };
                    format!("  {}{a}: {}\n", f["name"].as_str().unwrap(), ty(&f["type"]))
                })
                .collect()
        };
        match t["kind"].as_str().unwrap() {
            "SCALAR" => out.push_str(&format!("scalar {name}\n")),
            "OBJECT" => out.push_str(&format!(
                "type {name}{implements} {{\n{}}}\n",
                fields("fields", true)
            )),
            "INTERFACE" => out.push_str(&format!(
                "interface {name}{implements} {{\n{}}}\n",
                fields("fields", true)
            )),
            "UNION" => out.push_str(&format!(
                "union {name} = {}\n",
                names(&t["possibleTypes"]).join(" | ")
            )),
            "ENUM" => out.push_str(&format!(
                "enum {name} {{\n  {}\n}}\n",
                names(&t["enumValues"]).join("\n  ")
            )),
            "INPUT_OBJECT" => out.push_str(&format!(
                "input {name} {{\n{}}}\n",
                fields("inputFields", false)
            )),
            other => panic!("unknown type kind {other}"),
        }
    }
    out
}

/// Asserts both emulators hold the same content, entries matched by [`canonical_dump`].
fn assert_same(pair: &Pair, origin: &str, when: &str) {
    // Own fields first (a difference there changes every key pointing at the entry), then all.
    if let Some(dir) = std::env::var_os("DEMO_SCHEMA_DEBUG") {
        let dir = PathBuf::from(dir);
        std::fs::write(dir.join("source.json"), pair.source.dump().to_string()).unwrap();
        std::fs::write(dir.join("dest.json"), pair.dest.dump().to_string()).unwrap();
    }
    for rounds in 1..=4 {
        let source = canonical_dump(&pair.source.dump(), rounds);
        let dest = canonical_dump(&pair.dest.dump(), rounds);
        if source != dest {
            report_differences(&source, &dest, origin, when);
        }
    }
}

fn report_differences(
    source: &BTreeMap<String, Vec<Value>>,
    dest: &BTreeMap<String, Vec<Value>>,
    origin: &str,
    when: &str,
) {
    let mut report = Vec::new();
    for (model, entries) in source {
        let other = dest.get(model).cloned().unwrap_or_default();
        if *entries == other {
            continue;
        }
        report.push(format!(
            "{model}: {} entries in the source, {} in the destination",
            entries.len(),
            other.len()
        ));
        let only_source: Vec<&Value> = entries.iter().filter(|e| !other.contains(e)).collect();
        let only_dest: Vec<&Value> = other.iter().filter(|e| !entries.contains(e)).collect();
        for (a, b) in only_source.iter().zip(only_dest.iter()).take(3) {
            report.extend(json_diff(a, b).into_iter().map(|d| format!("  {d}")));
        }
        for e in only_source.iter().skip(only_dest.len()).take(2) {
            report.push(format!(
                "  only in the source: {}",
                truncated(&e.to_string())
            ));
        }
        for e in only_dest.iter().skip(only_source.len()).take(2) {
            report.push(format!(
                "  only in the destination: {}",
                truncated(&e.to_string())
            ));
        }
    }
    panic!(
        "{origin}: source and destination differ {when}:\n{}",
        report.join("\n")
    );
}

/// Per model, its entries as sorted canonical JSON: timestamps, asset file locations and
/// component ids dropped, every entry id (in relations and rich-text references) replaced by
/// a key computed from content. An entry's key starts as a hash of its model and its own fields
/// in every stage and locale, then is refined three times with the keys of its relations'
/// targets, so entries that differ only in what they point at are told apart; entries still
/// alike are interchangeable, and the lists compare as multisets.
fn canonical_dump(dump: &Value, rounds: usize) -> BTreeMap<String, Vec<Value>> {
    let models = dump["models"].as_object().cloned().unwrap_or_default();
    let mut keys: HashMap<String, String> = HashMap::new();
    let mut canonical = BTreeMap::new();
    for round in 0..rounds {
        let mut next = HashMap::new();
        canonical.clear();
        for (model, entries) in &models {
            let mut list = Vec::new();
            for e in entries.as_array().into_iter().flatten() {
                let view = entry_view(e, &keys, round > 0);
                let key = blake3::hash(format!("{model}\n{}", sorted_text(&view)).as_bytes())
                    .to_hex()
                    .to_string();
                next.insert(e["id"].as_str().unwrap_or_default().to_owned(), key);
                list.push(view);
            }
            list.sort_by_key(sorted_text);
            canonical.insert(model.clone(), list);
        }
        keys = next;
    }
    canonical
}

/// JSON text with object keys sorted at every level (the dump keeps insertion order, which two
/// equal entries need not share).
fn sorted_text(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", json!(k), sorted_text(&map[k])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(sorted_text).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

fn entry_view(entry: &Value, keys: &HashMap<String, String>, with_relations: bool) -> Value {
    let map_id = |id: &str| keys.get(id).cloned().unwrap_or_else(|| "?".to_owned());
    let mut stages = Map::new();
    for (stage, version) in entry["stages"].as_object().into_iter().flatten() {
        let mut v = Map::new();
        let mut fields = version["fields"].clone();
        strip_file_location(&mut fields);
        map_references(&mut fields, &map_id);
        v.insert("fields".into(), fields);
        let mut localizations = version["localizations"].clone();
        for l in localizations.as_object_mut().into_iter().flatten() {
            strip_file_location(l.1);
            map_references(l.1, &map_id);
        }
        v.insert("localizations".into(), localizations);
        if with_relations {
            let relations: Map<String, Value> = version["relations"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, targets)| {
                    let mut mapped: Vec<String> = targets
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|t| {
                            format!(
                                "{}:{}",
                                t["__typename"].as_str().unwrap_or_default(),
                                map_id(t["id"].as_str().unwrap_or_default())
                            )
                        })
                        .collect();
                    mapped.sort();
                    (field.clone(), json!(mapped))
                })
                .collect();
            v.insert("relations".into(), Value::Object(relations));
        }
        stages.insert(stage.clone(), Value::Object(v));
    }
    Value::Object(stages)
}

/// Drops the asset fields that say where a project stores the file, not what it is, and null
/// values: a field never written and a field written null read the same through the API.
fn strip_file_location(fields: &mut Value) {
    if let Some(o) = fields.as_object_mut() {
        for k in ["handle", "url", "upload"] {
            o.remove(k);
        }
        o.retain(|_, v| !v.is_null());
    }
}

/// Drops component ids (components have no identity across projects) and maps rich-text
/// `nodeId`s, recursively.
fn map_references(value: &mut Value, map_id: &dyn Fn(&str) -> String) {
    match value {
        Value::Object(map) => {
            if map.contains_key("__typename") {
                map.remove("id");
            }
            if let Some(Value::String(id)) = map.get("nodeId") {
                let mapped = map_id(id);
                map.insert("nodeId".into(), Value::String(mapped));
            }
            map.values_mut().for_each(|v| map_references(v, map_id));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| map_references(v, map_id)),
        _ => {}
    }
}
