//! A source and a destination emulator on 127.0.0.1, a config pointing at them, a state
//! directory in a temporary directory, and the real `stagesync` binary to run against them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

use serde_json::{json, Value};
use stagesync::demo::files::FileServer;
use stagesync::demo::project::{seed, ProjectSpec};
use stagesync::emulator::{Emulator, EmulatorOptions};
use stagesync::hygraph::{Client, EndpointConfig, Idempotency};
use stagesync::model::ContentModel;

use super::common;

pub const SOURCE_TOKEN: &str = "source-token-do-not-print";
pub const DEST_TOKEN: &str = "destination-token-do-not-print";

/// Neither stream of a finished command holds a token.
pub fn assert_no_token(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains(SOURCE_TOKEN) && !text.contains(DEST_TOKEN),
            "a token leaked: {text}"
        );
    }
}

pub fn conference() -> ContentModel {
    let path = common::project_fixture("conference.toml");
    let text = std::fs::read_to_string(&path).expect("conference.toml");
    stagesync::model::from_model_file(&text, &path.display().to_string()).expect("conference model")
}

pub struct Pair {
    pub source: Emulator,
    pub dest: Emulator,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub content: ContentModel,
}

pub fn options(content: &ContentModel, token: &str) -> EmulatorOptions {
    let mut opts = EmulatorOptions::new(content.clone());
    opts.token = Some(token.to_owned());
    opts
}

impl Pair {
    pub async fn start(content: ContentModel) -> Pair {
        Pair::start_configured(content, "", 500).await
    }

    /// Both emulators with the default options; `extra`: more TOML appended to the config.
    pub async fn start_configured(content: ContentModel, extra: &str, dest_rps: u32) -> Pair {
        let source = options(&content, SOURCE_TOKEN);
        let dest = options(&content, DEST_TOKEN);
        Pair::start_with(content, source, dest, extra, dest_rps).await
    }

    /// `extra`: more TOML appended to the config.
    pub async fn start_with(
        content: ContentModel,
        source: EmulatorOptions,
        dest: EmulatorOptions,
        extra: &str,
        dest_rps: u32,
    ) -> Pair {
        let source = Emulator::start(source).await.expect("source emulator");
        let dest = Emulator::start(dest).await.expect("destination emulator");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("source.token"), SOURCE_TOKEN).unwrap();
        std::fs::write(dir.path().join("dest.token"), DEST_TOKEN).unwrap();
        let config = dir.path().join("stagesync.toml");
        let text = format!(
            "state_dir = \"{state}\"\n{extra}\n[source]\nurl = \"{s}\"\ntoken_file = \"{st}\"\nrequests_per_second = 500\nburst = 50\nmax_retries = 10\nbackoff_initial_ms = 10\nbackoff_max_ms = 400\n[destination]\nurl = \"{d}\"\ntoken_file = \"{dt}\"\nrequests_per_second = {dest_rps}\nburst = {burst}\nmax_retries = 10\nbackoff_initial_ms = 10\nbackoff_max_ms = 400\n",
            burst = dest_rps.clamp(1, 50),
            state = dir.path().join("state").display(),
            s = source.url(),
            d = dest.url(),
            st = dir.path().join("source.token").display(),
            dt = dir.path().join("dest.token").display(),
        );
        std::fs::write(&config, text).unwrap();
        Pair {
            source,
            dest,
            dir,
            config,
            content,
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Runs the real binary with `--config` appended.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut cmd = tokio::process::Command::new(common::stagesync_bin());
        cmd.args(args)
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "stagesync=info,warn")
            .kill_on_drop(true);
        let out = tokio::time::timeout(std::time::Duration::from_secs(240), cmd.output())
            .await
            .expect("stagesync finished in time")
            .expect("stagesync runs");
        assert_no_token(&out);
        out
    }

    /// Runs and asserts the exit code.
    pub async fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "stagesync {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub async fn verify_passes(&self) {
        let out = self.run(&["verify"]).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "verify found differences:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn source_client(&self) -> Client {
        client(&self.source, SOURCE_TOKEN, "source")
    }

    pub fn dest_client(&self) -> Client {
        client(&self.dest, DEST_TOKEN, "destination")
    }

    /// Runs a GraphQL document on the source and returns `data` (panics on errors).
    pub async fn source_gql(&self, query: &str, variables: Value) -> Value {
        gql(&self.source_client(), query, variables).await
    }

    pub async fn dest_gql(&self, query: &str, variables: Value) -> Value {
        gql(&self.dest_client(), query, variables).await
    }

    /// Mutation fields the destination served since the last reset, by root field.
    pub fn dest_writes(&self) -> std::collections::BTreeMap<String, u64> {
        let stats = serde_json::to_value(self.dest.stats()).unwrap();
        serde_json::from_value(stats["by_field"].clone()).unwrap_or_default()
    }

    pub fn dest_mutation_count(&self) -> u64 {
        self.dest_writes().values().sum()
    }

    /// Runs `sync` and asserts exactly these destination writes, then that `verify` passes and
    /// both sides hold the same content.
    pub async fn sync_expecting(&self, expected: &[(&str, u64)]) {
        self.dest.reset_stats();
        self.ok(&["sync"]).await;
        expect_writes(self, expected);
        self.verify_passes().await;
        assert_same_content(self);
    }

    /// Seeds the source with `spec`, its assets' files served by a local file server (kept
    /// alive by the returned handle).
    pub async fn seed_source(&self, mut spec: ProjectSpec) -> FileServer {
        let files = FileServer::start().await.unwrap();
        spec.file_base = Some(files.url().to_owned());
        seed(&self.source_client(), &self.content, &spec)
            .await
            .expect("seeding the source");
        files
    }
}

/// The destination's mutation fields served since the last reset, those with a count only.
pub fn writes(pair: &Pair) -> std::collections::BTreeMap<String, u64> {
    pair.dest_writes()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// Asserts exactly these destination writes since the last reset.
pub fn expect_writes(pair: &Pair, expected: &[(&str, u64)]) {
    let expected: std::collections::BTreeMap<String, u64> =
        expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(writes(pair), expected, "destination writes");
}

pub fn client(emulator: &Emulator, token: &str, name: &str) -> Client {
    let cfg =
        EndpointConfig::new(name, url::Url::parse(&emulator.url()).unwrap()).with_token(token);
    Client::new(cfg).unwrap()
}

pub async fn gql(client: &Client, query: &str, variables: Value) -> Value {
    let response = client
        .graphql(query, variables, Idempotency::Unsafe)
        .await
        .expect("request");
    assert!(
        response.errors.is_empty(),
        "GraphQL errors: {:?}\nfor {query}",
        response.errors
    );
    response.data.unwrap_or(Value::Null)
}

/// A dump with ids replaced by identity keys (slug, or fileName for assets) and timestamps
/// dropped, so two environments with different ids compare equal when their content is.
pub fn normalized_dump(dump: &Value) -> Value {
    let models = dump["models"].as_object().cloned().unwrap_or_default();
    let mut key_of = std::collections::HashMap::new();
    for (model, entries) in &models {
        for e in entries.as_array().into_iter().flatten() {
            let id = e["id"].as_str().unwrap_or_default().to_owned();
            let draft = &e["stages"]["DRAFT"];
            let key = draft["fields"]["slug"]
                .as_str()
                .or_else(|| {
                    draft["localizations"]
                        .as_object()
                        .and_then(|l| l.values().find_map(|v| v["fileName"].as_str()))
                })
                .or_else(|| draft["fields"]["fileName"].as_str())
                .unwrap_or("?")
                .to_owned();
            key_of.insert(id, format!("{model}:{key}"));
        }
    }
    let mut out = serde_json::Map::new();
    for (model, entries) in models {
        let mut list: Vec<(String, Value)> = Vec::new();
        for e in entries.as_array().into_iter().flatten() {
            let id = e["id"].as_str().unwrap_or_default();
            let mut stages = serde_json::Map::new();
            for (stage, v) in e["stages"].as_object().into_iter().flatten() {
                let mut v = v.clone();
                if let Some(o) = v.as_object_mut() {
                    o.remove("updatedAt");
                    o.remove("publishedAt");
                    o.remove("createdAt");
                    if let Some(f) = o.get_mut("fields").and_then(Value::as_object_mut) {
                        for k in ["handle", "url", "upload"] {
                            f.remove(k);
                        }
                    }
                    // Components have no identity across projects; rich-text embeds point at
                    // entries by id.
                    for k in ["fields", "localizations"] {
                        if let Some(f) = o.get_mut(k) {
                            normalize_embedded(f, &key_of);
                        }
                    }
                    if let Some(ls) = o.get_mut("localizations").and_then(Value::as_object_mut) {
                        for l in ls.values_mut() {
                            if let Some(l) = l.as_object_mut() {
                                for k in ["handle", "url", "upload"] {
                                    l.remove(k);
                                }
                            }
                        }
                    }
                    if let Some(rels) = o.get_mut("relations").and_then(Value::as_object_mut) {
                        for targets in rels.values_mut() {
                            let mut mapped: Vec<String> = targets
                                .as_array()
                                .into_iter()
                                .flatten()
                                .map(|t| {
                                    key_of
                                        .get(t["id"].as_str().unwrap_or_default())
                                        .cloned()
                                        .unwrap_or_else(|| "<unmapped>".into())
                                })
                                .collect();
                            // Order of the side written second follows write order: compare as sets.
                            mapped.sort();
                            *targets = json!(mapped);
                        }
                    }
                }
                stages.insert(stage.clone(), v);
            }
            list.push((
                key_of.get(id).cloned().unwrap_or_default(),
                Value::Object(stages),
            ));
        }
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(model, Value::Object(list.into_iter().collect()));
    }
    Value::Object(out)
}

/// Drops component ids and maps rich-text `nodeId`s to identity keys, recursively.
fn normalize_embedded(value: &mut Value, key_of: &std::collections::HashMap<String, String>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("__typename") {
                map.remove("id");
            }
            if let Some(Value::String(id)) = map.get("nodeId") {
                let mapped = key_of
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| "<unmapped>".into());
                map.insert("nodeId".into(), Value::String(mapped));
            }
            map.values_mut().for_each(|v| normalize_embedded(v, key_of));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalize_embedded(v, key_of)),
        _ => {}
    }
}

/// Every (model, identity key) that appears more than once.
pub fn duplicates(dump: &Value) -> Vec<String> {
    let norm = normalized_dump(dump);
    let mut dups = Vec::new();
    for (model, entries) in dump["models"].as_object().into_iter().flatten() {
        let n = entries.as_array().map_or(0, Vec::len);
        let unique = norm[model].as_object().map_or(0, |o| o.len());
        if n != unique {
            dups.push(format!("{model}: {n} entries, {unique} distinct keys"));
        }
    }
    dups
}

/// The first differences between two JSON values, as `path: left != right` lines.
pub fn json_diff(a: &Value, b: &Value) -> Vec<String> {
    fn walk(path: String, a: &Value, b: &Value, out: &mut Vec<String>) {
        if out.len() >= 12 {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    walk(
                        format!("{path}/{k}"),
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                        out,
                    );
                }
            }
            _ if a != b => {
                let s = |v: &Value| v.to_string().chars().take(160).collect::<String>();
                out.push(format!("{path}: {} != {}", s(a), s(b)));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(String::new(), a, b, &mut out);
    out
}

/// Asserts both emulators hold the same content, ids mapped.
pub fn assert_same_content(pair: &Pair) {
    let diff = json_diff(
        &normalized_dump(&pair.source.dump()),
        &normalized_dump(&pair.dest.dump()),
    );
    assert!(
        diff.is_empty(),
        "source and destination differ:\n{}",
        diff.join("\n")
    );
}
