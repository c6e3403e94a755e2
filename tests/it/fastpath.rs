//! Integration tests: the no-op fast path. An acknowledged entry that the source sends byte for
//! byte as last read is neither parsed nor canonicalized (`skipped_unparsed` in `sync --json`);
//! a changed entry, and one whose write failed, still go the whole way.

use serde_json::{json, Value};
use stagesync::demo::files::FileServer;
use stagesync::demo::project::ProjectSpec;
use stagesync::model::{FieldKind, Scalar};
use stagesync::sync::shape::Shape;

use super::harness::{conference, Pair};

async fn seeded_pair(entries: usize) -> (Pair, FileServer) {
    let pair = Pair::start(conference()).await;
    let mut spec = ProjectSpec::new(entries);
    spec.assets = 4;
    let files = pair.seed_source(spec).await;
    (pair, files)
}

async fn sync_json(pair: &Pair, args: &[&str]) -> Value {
    let out = pair.ok(args).await;
    serde_json::from_slice(&out.stdout).expect("sync --json prints JSON")
}

/// `count` of `model` in a `sync --json` report.
fn count(report: &Value, model: &str, count: &str) -> u64 {
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == model)
        .unwrap_or_else(|| panic!("{model} in {report}"))[count]
        .as_u64()
        .unwrap_or_else(|| panic!("{model}.{count} in {report}"))
}

fn models(report: &Value) -> Vec<String> {
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap().to_owned())
        .collect()
}

/// Every entry of every model (but `except`) was read and skipped unparsed.
fn all_skipped(report: &Value, except: Option<&str>) {
    for model in models(report) {
        if Some(model.as_str()) == except {
            continue;
        }
        let read = count(report, &model, "read");
        assert!(read > 0, "{model} read nothing: {report}");
        assert_eq!(
            count(report, &model, "skipped_unparsed"),
            read,
            "{model}: {report}"
        );
        assert_eq!(
            count(report, &model, "unchanged"),
            read,
            "{model}: {report}"
        );
    }
}

/// A plain, non-unique, non-localized String or Int field of Talk, and the GraphQL literal of
/// its edit number `n`.
fn talk_field(pair: &Pair) -> (String, impl Fn(u64) -> String) {
    let talk = pair.content.model("Talk").expect("Talk model");
    let shape = Shape::new(&pair.content, talk);
    let find = |scalar: Scalar| {
        shape
            .plain
            .iter()
            .find(|f| f.kind == FieldKind::Scalar { scalar } && !f.unique && !f.list)
            .map(|f| f.name.clone())
    };
    let (name, is_string) = find(Scalar::String)
        .map(|n| (n, true))
        .or_else(|| find(Scalar::Int).map(|n| (n, false)))
        .expect("a plain String or Int field on Talk");
    let literal = move |n: u64| {
        if is_string {
            format!("\"fast path edit {n}\"")
        } else {
            format!("{}", 20_000 + n)
        }
    };
    (name, literal)
}

async fn a_draft_only_talk(pair: &Pair) -> String {
    let ids = |data: Value| -> Vec<String> {
        data["list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let q = |stage: &str| format!("query {{ list: talks(first: 100, stage: {stage}) {{ id }} }}");
    let drafts = ids(pair.source_gql(&q("DRAFT"), json!({})).await);
    let published = ids(pair.source_gql(&q("PUBLISHED"), json!({})).await);
    drafts
        .into_iter()
        .find(|d| !published.contains(d))
        .expect("a draft-only talk")
}

fn talk_updates(pair: &Pair) -> u64 {
    pair.dest_writes()
        .get("updateTalk")
        .copied()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_entries_are_not_parsed_but_changes_and_failed_writes_are() {
    let (pair, _files) = seeded_pair(120).await;
    let (field, literal) = talk_field(&pair);
    let target = a_draft_only_talk(&pair).await;
    let set = |n: u64| {
        format!("mutation {{ updateTalk(where: {{ id: \"{target}\" }}, data: {{ {field}: {} }}) {{ id }} }}", literal(n))
    };

    // The first run has nothing to compare with: everything is parsed.
    let first = sync_json(&pair, &["sync", "--json"]).await;
    for model in models(&first) {
        assert_eq!(count(&first, &model, "skipped_unparsed"), 0, "{first}");
    }

    // A no-op rerun parses nothing and writes nothing.
    pair.dest.reset_stats();
    let noop = sync_json(&pair, &["sync", "--json"]).await;
    all_skipped(&noop, None);
    assert_eq!(pair.dest_mutation_count(), 0, "{:?}", pair.dest_writes());

    // One field of one entry: that entry alone is parsed, and written.
    pair.source_gql(&set(1), json!({})).await;
    pair.dest.reset_stats();
    let one = sync_json(&pair, &["sync", "--json"]).await;
    all_skipped(&one, Some("Talk"));
    let read = count(&one, "Talk", "read");
    assert_eq!(count(&one, "Talk", "skipped_unparsed"), read - 1, "{one}");
    assert_eq!(count(&one, "Talk", "updated"), 1, "{one}");
    assert_eq!(pair.dest_mutation_count(), 1, "{:?}", pair.dest_writes());
    assert_eq!(talk_updates(&pair), 1);
    pair.verify_passes().await;

    // A write the destination rejects leaves the entry pending, with the source's bytes
    // recorded as read: here the source renames the entry to a slug another destination entry
    // holds.
    let taken = pair
        .dest_gql(
            r#"mutation { createTalk(data: { slug: "fastpath-taken", title: "In the way" }) { id } }"#,
            json!({}),
        )
        .await;
    let taken = taken["createTalk"]["id"].as_str().unwrap().to_owned();
    pair.source_gql(
        &format!(
            "mutation {{ updateTalk(where: {{ id: \"{target}\" }}, data: {{ slug: \"fastpath-taken\" }}) {{ id }} }}"
        ),
        json!({}),
    )
    .await;
    let failed = pair.run(&["sync", "--json"]).await;
    let failed: Value = serde_json::from_slice(&failed.stdout).expect("sync --json prints JSON");
    assert_eq!(count(&failed, "Talk", "failed"), 1, "{failed}");
    pair.dest_gql(
        &format!("mutation {{ deleteTalk(where: {{ id: \"{taken}\" }}) {{ id }} }}"),
        json!({}),
    )
    .await;

    // Same bytes in the source, but not acknowledged: parsed and written again.
    pair.dest.reset_stats();
    let retry = sync_json(&pair, &["sync", "--json"]).await;
    all_skipped(&retry, Some("Talk"));
    assert_eq!(
        count(&retry, "Talk", "skipped_unparsed"),
        read - 1,
        "{retry}"
    );
    assert_eq!(talk_updates(&pair), 1, "{:?}", pair.dest_writes());
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);

    // A full pass parses everything; the run after it is a no-op again.
    let full = sync_json(&pair, &["sync", "--full", "--json"]).await;
    for model in models(&full) {
        assert_eq!(count(&full, &model, "skipped_unparsed"), 0, "{full}");
    }
    pair.dest.reset_stats();
    let after = sync_json(&pair, &["sync", "--json"]).await;
    all_skipped(&after, None);
    assert_eq!(pair.dest_mutation_count(), 0, "{:?}", pair.dest_writes());
}
