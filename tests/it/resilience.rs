//! Integration tests: rate limits, faults and bad input. Every case ends in a correct
//! destination or a clear error — never lost data, never a duplicate, never a panic.

use serde_json::{json, Value};
use stagesync::demo::project::{seed, ProjectSpec};
use stagesync::emulator::{FaultSpec, RateLimit};
use stagesync::hygraph::Idempotency;
use stagesync::store::Store;

use super::harness::{conference, duplicates, options, Pair, DEST_TOKEN, SOURCE_TOKEN};

/// Everything the store acknowledges, for before/after comparisons.
fn acknowledged_state(pair: &Pair) -> Vec<(String, String, String)> {
    let store = Store::open(&pair.state_dir()).expect("store opens");
    let mut out = Vec::new();
    for model in store.tracked_models().unwrap() {
        for item in store.nodes_of(&model) {
            let (id, record) = item.unwrap();
            out.push((model.clone(), id, format!("{:?}", record.acked)));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_five_requests_per_second_the_sync_completes_with_few_429s() {
    let content = conference();
    let mut source = options(&content, SOURCE_TOKEN);
    let mut dest = options(&content, DEST_TOKEN);
    let pair0 = Pair::start(content.clone()).await;
    seed(&pair0.source_client(), &content, &ProjectSpec::new(200))
        .await
        .unwrap();
    source.seed = Some(pair0.source.dump());
    source.rate_limit = Some(RateLimit {
        per_second: 5,
        retry_after_header: true,
    });
    dest.rate_limit = Some(RateLimit {
        per_second: 5,
        retry_after_header: false,
    });
    let pair = Pair::start_with(content, source, dest, "[batch]\nmax_mutations = 50", 5).await;
    // The harness config runs the source at 500/s: slow it to the plan's rate as a user would.
    let text = std::fs::read_to_string(&pair.config).unwrap().replacen(
        "requests_per_second = 500\nburst = 50",
        "requests_per_second = 5\nburst = 5",
        1,
    );
    std::fs::write(&pair.config, text).unwrap();
    let out = pair.ok(&["sync", "--json"]).await;
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let limited = serde_json::to_value(pair.source.stats()).unwrap()["rate_limited"]
        .as_u64()
        .unwrap()
        + serde_json::to_value(pair.dest.stats()).unwrap()["rate_limited"]
            .as_u64()
            .unwrap();
    assert!(
        limited <= 5,
        "the emulators answered 429 {limited} times: {report}"
    );
    assert_eq!(
        report["destination"]["rate_limited"].as_u64().unwrap()
            + report["source"]["rate_limited"].as_u64().unwrap(),
        limited,
        "the report counts the 429s the emulators sent"
    );
    pair.verify_passes().await;
}

async fn faulty_pair(seed_value: u64, dump: &Value) -> Pair {
    let content = conference();
    let faults = FaultSpec::parse(&format!(
        "rate=0.2,seed={seed_value},kinds=500+502+503+delay+drop-after,delay-ms=20"
    ))
    .unwrap();
    let mut source = options(&content, SOURCE_TOKEN);
    source.seed = Some(dump.clone());
    source.faults = Some(faults.clone());
    let mut dest = options(&content, DEST_TOKEN);
    dest.faults = Some(faults);
    // One write at a time: the same seed then meets the same faults in the same order.
    Pair::start_with(content, source, dest, "[batch]\nconcurrency = 1", 500).await
}

fn fault_counts(pair: &Pair) -> (Value, Value) {
    (
        serde_json::to_value(pair.source.stats()).unwrap()["faults"].clone(),
        serde_json::to_value(pair.dest.stats()).unwrap()["faults"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_twenty_percent_faults_full_and_incremental_syncs_converge() {
    let content = conference();
    let plain = Pair::start(content.clone()).await;
    seed(&plain.source_client(), &content, &ProjectSpec::new(150))
        .await
        .unwrap();
    let dump = plain.source.dump();
    let pair = faulty_pair(11, &dump).await;
    pair.ok(&["sync", "--full"]).await;
    let after_full = fault_counts(&pair);
    assert!(
        after_full.1.as_object().is_some_and(|f| !f.is_empty()),
        "faults were injected: {after_full:?}"
    );
    // Publish a few talks (publishing is idempotent, so the test's own client may retry).
    let safe = |query: String| {
        let client = pair.source_client();
        async move {
            let r = client
                .graphql(&query, json!({}), Idempotency::Safe)
                .await
                .unwrap();
            assert!(r.errors.is_empty(), "{:?}", r.errors);
            r.data.unwrap_or(Value::Null)
        }
    };
    let talks = safe("query { talks(first: 5, stage: DRAFT) { id } }".into()).await;
    for t in talks["talks"].as_array().unwrap() {
        safe(format!(
            "mutation {{ publishTalk(where: {{ id: \"{}\" }}, to: [PUBLISHED]) {{ id }} }}",
            t["id"].as_str().unwrap()
        ))
        .await;
    }
    pair.ok(&["sync"]).await;
    assert!(
        duplicates(&pair.dest.dump()).is_empty(),
        "{:?}",
        duplicates(&pair.dest.dump())
    );
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);

    // The same seed gives the same faults.
    let again = faulty_pair(11, &dump).await;
    again.ok(&["sync", "--full"]).await;
    assert_eq!(fault_counts(&again), after_full);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_too_large_for_the_body_limit_is_split() {
    let content = conference();
    let mut dest = options(&content, DEST_TOKEN);
    dest.max_body_bytes = Some(6_000);
    let pair = Pair::start_with(
        content.clone(),
        options(&content, SOURCE_TOKEN),
        dest,
        "[batch]\nmax_bytes = 60000\nmax_mutations = 100",
        500,
    )
    .await;
    seed(&pair.source_client(), &content, &ProjectSpec::new(120))
        .await
        .unwrap();
    pair.ok(&["sync"]).await;
    let rejected = serde_json::to_value(pair.dest.stats()).unwrap();
    assert!(
        rejected.to_string().contains("413") || rejected["rejected"].as_u64().unwrap_or(0) > 0,
        "no 413 was seen: {rejected}"
    );
    pair.verify_passes().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_rejected_entry_fails_alone_and_is_retried_next_run() {
    let pair = Pair::start(conference()).await;
    seed(&pair.source_client(), &pair.content, &ProjectSpec::new(80))
        .await
        .unwrap();
    pair.ok(&["sync"]).await;
    // In the destination, someone created an entry holding the slug a source entry moves to.
    let talk = pair
        .source_gql(
            "query { talks(first: 1, stage: DRAFT) { id slug } }",
            json!({}),
        )
        .await;
    let id = talk["talks"][0]["id"].as_str().unwrap().to_owned();
    let shape_data = {
        let content = &pair.content;
        let shape = stagesync::sync::shape::Shape::new(content, content.model("Talk").unwrap());
        let mut d = stagesync::demo::project::entry_data(content, &shape, 777_777, 0, true);
        d["slug"] = json!("taken-in-destination");
        d
    };
    let blocker = pair
        .dest_gql(
            "mutation($d: TalkCreateInput!) { createTalk(data: $d) { id } }",
            json!({ "d": shape_data }),
        )
        .await;
    pair.source_gql(&format!("mutation {{ updateTalk(where: {{ id: \"{id}\" }}, data: {{ slug: \"taken-in-destination\" }}) {{ id }} }}"), json!({})).await;
    let other = pair
        .source_gql(
            "query { talks(first: 2, skip: 1, stage: DRAFT) { id } }",
            json!({}),
        )
        .await;
    let other_id = other["talks"][0]["id"].as_str().unwrap().to_owned();
    pair.source_gql(&format!("mutation {{ updateTalk(where: {{ id: \"{other_id}\" }}, data: {{ slug: \"fine-change\" }}) {{ id }} }}"), json!({})).await;
    let out = pair.run(&["sync", "--json"]).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["failures"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["failures"][0]["id"], json!(id));
    assert!(
        report["status"]
            .as_str()
            .unwrap()
            .contains("completed with 1 failed"),
        "{report}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.to_lowercase().contains("unique"),
        "the server's message is reported: {err}"
    );
    // The other change went through.
    let moved = pair
        .dest_gql(
            "query { talk(where: { slug: \"fine-change\" }, stage: DRAFT) { id } }",
            json!({}),
        )
        .await;
    assert!(!moved["talk"].is_null());
    // Fixed in the destination: the next run retries the entry and succeeds.
    let blocker_id = blocker["createTalk"]["id"].as_str().unwrap();
    pair.dest_gql(
        &format!("mutation {{ deleteTalk(where: {{ id: \"{blocker_id}\" }}) {{ id }} }}"),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
}

/// A server that answers every request with a fixed status, content type and body.
async fn bad_server(status: u16, content_type: &'static str, body: &'static str) -> String {
    use axum::http::{header, StatusCode};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(move || async move {
        (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, content_type)],
            body,
        )
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_endpoints_fail_clearly_and_leave_the_store_unchanged() {
    let pair = Pair::start(conference()).await;
    seed(&pair.source_client(), &pair.content, &ProjectSpec::new(30))
        .await
        .unwrap();
    pair.ok(&["sync"]).await;
    let before = acknowledged_state(&pair);
    let original = std::fs::read_to_string(&pair.config).unwrap();
    let dest_url = pair.dest.url();

    let unreachable = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/")
    };
    let html = bad_server(
        200,
        "text/html",
        "<html><body>Welcome to nginx</body></html>",
    )
    .await;
    let truncated = bad_server(
        200,
        "application/json",
        "{\"data\": {\"__schema\": {\"types\": [",
    )
    .await;
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong token",
            original.replacen(
                &pair.dir.path().join("dest.token").display().to_string(),
                &pair.dir.path().join("source.token").display().to_string(),
                1,
            ),
            "destination",
        ),
        (
            "unreachable port",
            original.replacen(&dest_url, &unreachable, 1),
            "destination",
        ),
        (
            "HTML answer",
            original.replacen(&dest_url, &html, 1),
            "destination",
        ),
        (
            "truncated JSON",
            original.replacen(&dest_url, &truncated, 1),
            "destination",
        ),
    ];
    let mut codes = Vec::new();
    for (name, config, endpoint) in cases {
        std::fs::write(&pair.config, config).unwrap();
        let out = pair.run(&["sync"]).await;
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(endpoint),
            "{name}: the message names the endpoint: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        codes.push((name, err.lines().last().unwrap_or_default().to_owned()));
        assert_eq!(
            acknowledged_state(&pair),
            before,
            "{name}: the store changed"
        );
    }
    // Each failure has its own message.
    let mut messages: Vec<&String> = codes.iter().map(|(_, m)| m).collect();
    messages.dedup();
    assert_eq!(messages.len(), codes.len(), "{codes:?}");
    std::fs::write(&pair.config, original).unwrap();
    pair.ok(&["sync"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_foreign_store_is_refused_with_the_fix() {
    let pair = Pair::start(conference()).await;
    seed(&pair.source_client(), &pair.content, &ProjectSpec::new(20))
        .await
        .unwrap();
    pair.ok(&["sync"]).await;

    // A store written for another pair.
    let other = Pair::start(conference()).await;
    let text = std::fs::read_to_string(&pair.config).unwrap().replacen(
        &pair.dest.url(),
        &other.dest.url(),
        1,
    );
    std::fs::write(&pair.config, &text).unwrap();
    let out = pair.run(&["sync"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another source/destination pair") && err.contains("stagesync reset"),
        "{err}"
    );
    assert_eq!(other.dest_mutation_count(), 0);

    // A damaged record.
    let text = text.replacen(&other.dest.url(), &pair.dest.url(), 1);
    std::fs::write(&pair.config, &text).unwrap();
    {
        // Truncate one record behind the store's back.
        let db = sled::open(pair.state_dir().join("store")).unwrap();
        let nodes = db.open_tree("nodes").unwrap();
        let (key, value) = nodes.iter().next().unwrap().unwrap();
        nodes.insert(key, &value[..value.len() / 2]).unwrap();
        db.flush().unwrap();
    }
    let out = pair.run(&["sync"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("damaged") && err.contains("reset"), "{err}");
    // The documented recovery works.
    pair.ok(&["reset", "--yes"]).await;
    pair.ok(&["sync"]).await;
    assert!(duplicates(&pair.dest.dump()).is_empty());
    pair.verify_passes().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_errors_exit_2_with_one_message_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    // Runs `sync` on this config text; the config error must exit 2. Returns stderr.
    let sync_with = |text: &str| {
        std::fs::write(&config, text).unwrap();
        let out = std::process::Command::new(super::common::stagesync_bin())
            .args(["sync", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{err}");
        err
    };
    let err = sync_with(&format!(
        "schedule = \"every five minutes\"\nstate_dir = \"{}\"\n[source]\nurl = \"not a url\"\ntoken_env = \"STAGESYNC_TEST_NO_SUCH_VARIABLE\"\n[destination]\nurl = \"http://127.0.0.1:9/\"\ntoken_file = \"{}\"\n",
        dir.path().join("state").display(),
        dir.path().join("missing.token").display()
    ));
    for needle in [
        "schedule:",
        "source.url",
        "STAGESYNC_TEST_NO_SUCH_VARIABLE",
        "destination.token_file",
        "4 problem",
    ] {
        assert!(err.contains(needle), "`{needle}` missing from: {err}");
    }
    // A wrong type and an unknown key are named too.
    let err = sync_with("[source]\nurl = \"http://127.0.0.1:9/\"\nrequests_per_second = \"fast\"\n[destination]\nurl = \"http://127.0.0.1:9/\"\n");
    assert!(err.contains("requests_per_second"), "{err}");
    let err = sync_with("[source]\nurl = \"http://127.0.0.1:9/\"\n[destination]\nurl = \"http://127.0.0.1:9/\"\n[deletions]\nmaximum = 3\n");
    assert!(err.contains("maximum"), "{err}");
    // Nothing was created for a config that never loaded.
    assert!(!dir.path().join("state").exists());
}

/// The harness's retry settings (fast, for other tests) taken out of the config: what is left is
/// stagesync's defaults.
fn with_default_retries(pair: &Pair) {
    let fast = "max_retries = 10\nbackoff_initial_ms = 10\nbackoff_max_ms = 400\n";
    let text = std::fs::read_to_string(&pair.config).unwrap();
    assert_eq!(text.matches(fast).count(), 2, "{text}");
    std::fs::write(&pair.config, text.replace(fast, "")).unwrap();
}

/// `default`, unless `STAGESYNC_FAULT_SEED` replaces it.
fn fault_seed(default: u64) -> u64 {
    std::env::var("STAGESYNC_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Two emulators of `content` with `rate` of their requests failing (5xx, answers dropped
/// before or after the write, delays; seeded), the source holding what `plain`'s source
/// holds; default retry settings. `extra`: more config.
async fn faulted_pair(
    content: stagesync::model::ContentModel,
    plain: &Pair,
    rate: f64,
    seed_value: u64,
    extra: &str,
) -> Pair {
    let faults = FaultSpec::parse(&format!(
        "rate={rate},seed={seed_value},kinds=500+502+503+delay+drop-before+drop-after,delay-ms=50"
    ))
    .unwrap();
    let mut source = options(&content, SOURCE_TOKEN);
    source.seed = Some(plain.source.dump());
    source.faults = Some(faults.clone());
    let mut dest = options(&content, DEST_TOKEN);
    dest.faults = Some(faults);
    let pair = Pair::start_with(content, source, dest, extra, 500).await;
    with_default_retries(&pair);
    pair
}

/// An initial sync with `rate` of the requests on both sides failing (5xx, dropped before or
/// after the write was applied, or delayed) completes in one run with default retry settings.
/// `STAGESYNC_FAULT_SEED` replaces the seed (to try others).
async fn initial_sync_completes_in_one_run_under_faults(rate: f64, seed_value: u64) {
    let seed_value = fault_seed(seed_value);
    let content = conference();
    let plain = Pair::start(content.clone()).await;
    seed(&plain.source_client(), &content, &ProjectSpec::new(150))
        .await
        .unwrap();
    let pair = faulted_pair(content, &plain, rate, seed_value, "").await;

    let out = pair.run(&["sync", "--json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "one run completes (fault seed {seed_value}):\n{err}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (source_faults, dest_faults) = fault_counts(&pair);
    let total = |f: &Value| {
        f.as_object()
            .map_or(0, |f| f.values().filter_map(Value::as_u64).sum::<u64>())
    };
    assert!(
        total(&source_faults) > 0 && total(&dest_faults) > 0,
        "faults on both sides: {source_faults} {dest_faults}"
    );
    assert!(
        report["destination"]["retries"].as_u64().unwrap() > 0
            && report["source"]["retries"].as_u64().unwrap() > 0,
        "{report}"
    );
    let dump = pair.dest.dump();
    assert!(duplicates(&dump).is_empty(), "{:?}", duplicates(&dump));
    pair.verify_passes().await;
    super::harness::assert_same_content(&pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_with_twenty_percent_faults_on_both_sides_completes_in_one_run() {
    initial_sync_completes_in_one_run_under_faults(0.2, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_with_forty_percent_faults_on_both_sides_completes_in_one_run() {
    initial_sync_completes_in_one_run_under_faults(0.4, 6).await;
}

/// The conference model on `system`'s assets (`legacy` or `upload-url`).
fn conference_on(system: &str) -> stagesync::model::ContentModel {
    let path = super::common::project_fixture("conference.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("system = \"legacy\""), "{text}");
    let text = text.replace("system = \"legacy\"", &format!("system = \"{system}\""));
    stagesync::model::from_model_file(&text, "conference.toml").expect("the conference model")
}

/// The same with the writes that cannot be sent twice blindly: speakers matched by `id` (so
/// created by `createSpeaker`, as a model without a unique field is) and asset uploads of
/// `system`. A create or an upload whose answer is lost (a 5xx after it was applied, a
/// dropped answer) is looked up — among the entries created since its pending record, by
/// content or file bytes — and adopted if it landed, sent again if not, in the same run.
/// One write at a time, so that a fault seed meets the same faults in the same order.
async fn journaled_initial_sync_completes_in_one_run_under_faults(
    rate: f64,
    seed_value: u64,
    system: &str,
) {
    let seed_value = fault_seed(seed_value);
    let content = conference_on(system);
    let plain = Pair::start(content.clone()).await;
    let mut spec = ProjectSpec::new(120);
    spec.assets = 8;
    let _files = plain.seed_source(spec).await;
    let pair = faulted_pair(
        content,
        &plain,
        rate,
        seed_value,
        "[batch]\nconcurrency = 1\nmax_mutations = 8\n[identity]\nSpeaker = \"id\"",
    )
    .await;

    let out = pair.run(&["sync", "--json"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "one run completes ({system} assets, fault seed {seed_value}):\n{err}"
    );
    let (source_faults, dest_faults) = fault_counts(&pair);
    eprintln!("{system}, rate {rate}, fault seed {seed_value}: source faults {source_faults}, destination faults {dest_faults}");
    let writes = super::harness::writes(&pair);
    assert!(
        writes.get("createSpeaker").is_some_and(|n| *n > 0),
        "speakers are created, not upserted: {writes:?}"
    );
    // Faults are drawn per request (reads run concurrently, so not always in the same order):
    // which journaled writes lose their answers varies; at these rates some always do.
    let creates = err
        .matches("a create whose answer was lost had landed")
        .count()
        + err
            .matches("writes whose answer was lost did not land")
            .count();
    let uploads = err.matches("an asset upload's answer was lost").count();
    eprintln!(
        "journaled writes whose answers were lost: {creates} create batches, {uploads} uploads"
    );
    assert!(
        creates + uploads > 0,
        "no journaled write lost its answer with this seed:\n{err}"
    );
    let dump = pair.dest.dump();
    assert!(duplicates(&dump).is_empty(), "{:?}", duplicates(&dump));
    let assets = dump["models"]["Asset"].as_array().map_or(0, Vec::len);
    assert_eq!(assets, 8, "one asset per source asset");
    pair.verify_passes().await;
    assert_eq!(
        asset_files(&pair.source, SOURCE_TOKEN).await,
        asset_files(&pair.dest, DEST_TOKEN).await,
        "the same files on both sides, each once"
    );
    if system == "legacy" {
        // (An upload-url asset's `fileName` comes from the URL it was fetched from, so the
        // destination's differ: a known gap, see `fields.rs`. `verify` compares the rest.)
        super::harness::assert_same_content(&pair);
    }
}

/// The blake3 of every asset's file bytes, sorted.
async fn asset_files(emulator: &stagesync::emulator::Emulator, token: &str) -> Vec<String> {
    let client = super::harness::client(emulator, token, "side");
    let data = super::harness::gql(
        &client,
        "{ assets(first: 100, stage: DRAFT) { url } }",
        json!({}),
    )
    .await;
    let mut out = Vec::new();
    for a in data["assets"].as_array().unwrap() {
        let bytes = client.get_bytes(a["url"].as_str().unwrap()).await.unwrap();
        out.push(blake3::hash(&bytes).to_hex().to_string());
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_of_creates_and_legacy_uploads_at_twenty_percent_faults_completes_in_one_run()
{
    journaled_initial_sync_completes_in_one_run_under_faults(0.2, 5, "legacy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_of_creates_and_legacy_uploads_at_forty_percent_faults_completes_in_one_run() {
    journaled_initial_sync_completes_in_one_run_under_faults(0.4, 6, "legacy").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_of_creates_and_upload_url_assets_at_twenty_percent_faults_completes_in_one_run(
) {
    journaled_initial_sync_completes_in_one_run_under_faults(0.2, 5, "upload-url").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_sync_of_creates_and_upload_url_assets_at_forty_percent_faults_completes_in_one_run(
) {
    journaled_initial_sync_completes_in_one_run_under_faults(0.4, 6, "upload-url").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_gives_up_on_an_endpoint_that_never_answers_naming_it() {
    let silent = super::transport::silent_server().await;
    let dest = super::transport::silent_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("stagesync.toml");
    // Per-attempt timeouts and retries at their defaults; only `give_up_secs` is short.
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{}\"\n[source]\nurl = \"{silent}\"\ngive_up_secs = 2\n[destination]\nurl = \"{dest}\"\ngive_up_secs = 2\n",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let mut cmd = tokio::process::Command::new(super::common::stagesync_bin());
    cmd.args(["sync", "--config"])
        .arg(&config)
        .kill_on_drop(true);
    let out = tokio::time::timeout(std::time::Duration::from_secs(100), cmd.output())
        .await
        .expect("the run gives up (the defaults alone would take minutes)")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("no usable answer within 2 s")
            && (err.contains(silent.as_str()) || err.contains(dest.as_str())),
        "the error names the endpoint and its URL: {err}"
    );
}

/// A first run with a failed entry still records the models' schema fingerprints: the next run
/// retries that entry only, instead of a full pass over every model (which rewrote every entry
/// on every run for as long as one entry kept failing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_a_failed_entry_retries_only_that_entry_next_time() {
    let content = conference();
    let mut source = super::harness::options(&content, super::harness::SOURCE_TOKEN);
    source.max_body_bytes = None;
    let dest = super::harness::options(&content, super::harness::DEST_TOKEN);
    let pair = Pair::start_with(content, source, dest, "", 500).await;
    seed(&pair.source_client(), &pair.content, &ProjectSpec::new(40))
        .await
        .unwrap();
    // One speaker too large for any write to the destination (batch.max_bytes: 24 KB).
    pair.source_gql(
        "mutation($bio: String) { createSpeaker(data: { slug: \"huge\", name: \"Huge\", bio: $bio }) { id } }",
        json!({ "bio": "x".repeat(40_000) }),
    )
    .await;
    let first = pair.run(&["sync"]).await;
    assert_eq!(
        first.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let total_first = pair.dest_mutation_count();
    assert!(
        total_first > 40,
        "the first run wrote the rest: {total_first}"
    );

    pair.dest.reset_stats();
    let second = pair.run(&["sync", "--json"]).await;
    assert_eq!(
        second.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report: Value = serde_json::from_slice(&second.stdout).unwrap();
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{report}");
    assert!(
        super::harness::writes(&pair).is_empty(),
        "{:?}",
        super::harness::writes(&pair)
    );
}
