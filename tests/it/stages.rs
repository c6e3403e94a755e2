//! Integration tests: custom content stages (QA beside DRAFT and PUBLISHED), each holding its
//! own version of an entry, synced stage by stage with the real binary between two emulators.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use stagesync::model::ContentModel;

use super::harness::{assert_same_content, expect_writes, options, Pair, DEST_TOKEN, SOURCE_TOKEN};

const STAGES: &str = "stages = [\"DRAFT\", \"PUBLISHED\", \"QA\"]";

fn model(path: &std::path::Path) -> ContentModel {
    let text = std::fs::read_to_string(path).expect("model file");
    stagesync::model::from_model_file(&text, &path.display().to_string()).expect("model")
}

fn stages_model() -> ContentModel {
    model(&super::common::project_fixture("stages.toml"))
}

async fn start(source: ContentModel, dest: ContentModel, extra: &str) -> Pair {
    Pair::start_with(
        source.clone(),
        options(&source, SOURCE_TOKEN),
        options(&dest, DEST_TOKEN),
        extra,
        500,
    )
    .await
}

/// Runs a GraphQL document on the source; returns the `id` of the first root field's answer.
async fn source(pair: &Pair, doc: &str) -> String {
    let data = pair.source_gql(doc, json!({})).await;
    data.as_object()
        .and_then(|o| o.values().next())
        .and_then(|v| v["id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

async fn create_article(pair: &Pair, slug: &str, body: &str, author: &str) -> String {
    source(
        pair,
        &format!(
            "mutation {{ createArticle(data: {{ slug: \"{slug}\", title: \"{slug} en\", body: \"{body}\", author: {{ connect: {{ id: \"{author}\" }} }}, localizations: {{ create: [{{ locale: de, data: {{ title: \"{slug} de\" }} }}] }} }}) {{ id }} }}"
        ),
    )
    .await
}

/// Sets the draft's body and English title, and its author unless `None`.
async fn update_article(pair: &Pair, id: &str, body: &str, author: Option<&str>) {
    let author = author
        .map(|a| format!(", author: {{ connect: {{ id: \"{a}\" }} }}"))
        .unwrap_or_default();
    source(
        pair,
        &format!(
            "mutation {{ updateArticle(where: {{ id: \"{id}\" }}, data: {{ body: \"{body}\", title: \"{body} en\"{author} }}) {{ id }} }}"
        ),
    )
    .await;
}

async fn publish(pair: &Pair, model: &str, id: &str, to: &str) {
    let locales = if model == "Article" {
        ", locales: [en, de]"
    } else {
        ""
    };
    source(
        pair,
        &format!("mutation {{ publish{model}(where: {{ id: \"{id}\" }}, to: [{to}]{locales}) {{ id }} }}"),
    )
    .await;
}

/// The destination's article `slug` in every stage: stage → (body, author slug, German title).
async fn dest_article(pair: &Pair, slug: &str) -> BTreeMap<String, (Value, Value, Value)> {
    let data = pair
        .dest_gql(
            &format!("query {{ a: article(where: {{ slug: \"{slug}\" }}, stage: DRAFT, locales: [en]) {{ documentInStages(stages: [DRAFT, PUBLISHED, QA], includeCurrent: true) {{ stage body author {{ slug }} localizations(locales: [de]) {{ title }} }} }} }}"),
            json!({}),
        )
        .await;
    data["a"]["documentInStages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            (
                d["stage"].as_str().unwrap().to_owned(),
                (
                    d["body"].clone(),
                    d["author"]["slug"].clone(),
                    d["localizations"][0]["title"].clone(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_stage_keeps_its_own_version() {
    let content = stages_model();
    let pair = start(content.clone(), content, STAGES).await;

    let ann = source(
        &pair,
        "mutation { createAuthor(data: { slug: \"ann\", name: \"Ann\" }) { id } }",
    )
    .await;
    let bob = source(
        &pair,
        "mutation { createAuthor(data: { slug: \"bob\", name: \"Bob\" }) { id } }",
    )
    .await;
    publish(&pair, "Author", &ann, "PUBLISHED, QA").await;
    publish(&pair, "Author", &bob, "PUBLISHED, QA").await;
    // (a) the same version in every stage.
    let same = create_article(&pair, "same", "v1", &ann).await;
    publish(&pair, "Article", &same, "PUBLISHED, QA").await;
    // (b) PUBLISHED, QA and DRAFT each hold another version (fields, relation, localization).
    let three = create_article(&pair, "three", "published", &ann).await;
    publish(&pair, "Article", &three, "PUBLISHED").await;
    update_article(&pair, &three, "qa", Some(&bob)).await;
    publish(&pair, "Article", &three, "QA").await;
    update_article(&pair, &three, "draft", Some(&ann)).await;
    // (c) only in QA; (d) only in PUBLISHED; and a draft-only entry.
    let qa_only = create_article(&pair, "qa-only", "q", &bob).await;
    publish(&pair, "Article", &qa_only, "QA").await;
    let pub_only = create_article(&pair, "pub-only", "p", &bob).await;
    publish(&pair, "Article", &pub_only, "PUBLISHED").await;
    create_article(&pair, "draft-only", "d", &ann).await;

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    let three_dest = dest_article(&pair, "three").await;
    let body_author = |stage: &str| {
        let (body, author, _) = &three_dest[stage];
        (
            body.as_str().unwrap().to_owned(),
            author.as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(body_author("PUBLISHED"), ("published".into(), "ann".into()));
    assert_eq!(body_author("QA"), ("qa".into(), "bob".into()));
    assert_eq!(body_author("DRAFT"), ("draft".into(), "ann".into()));
    let stages_of =
        |m: &BTreeMap<String, (Value, Value, Value)>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        stages_of(&dest_article(&pair, "qa-only").await),
        ["DRAFT", "QA"]
    );
    assert_eq!(
        stages_of(&dest_article(&pair, "pub-only").await),
        ["DRAFT", "PUBLISHED"]
    );
    assert_eq!(
        stages_of(&dest_article(&pair, "draft-only").await),
        ["DRAFT"]
    );
    // The emulator serves QA like any stage, and no stage the schema lacks.
    let qa = pair
        .dest_gql(
            "query { articles(stage: QA, first: 100) { slug } }",
            json!({}),
        )
        .await;
    let mut slugs: Vec<&str> = qa["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    slugs.sort();
    assert_eq!(slugs, ["qa-only", "same", "three"]);
    let unknown = pair
        .dest_client()
        .graphql(
            "query { articles(stage: STAGING, first: 1) { slug } }",
            json!({}),
            stagesync::hygraph::Idempotency::Safe,
        )
        .await;
    assert!(
        unknown.map_or(true, |r| !r.errors.is_empty()),
        "an unknown stage was accepted"
    );

    // A rerun writes nothing.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // Only the QA version of one entry changes: that version is written and published to QA,
    // then the draft is written back; nothing else.
    update_article(&pair, &same, "v2 for QA", None).await;
    publish(&pair, "Article", &same, "QA").await;
    update_article(&pair, &same, "v1", None).await;
    source(
        &pair,
        &format!("mutation {{ updateArticle(where: {{ id: \"{same}\" }}, data: {{ title: \"same en\" }}) {{ id }} }}"),
    )
    .await;
    pair.sync_expecting(&[("updateArticle", 2), ("publishArticle", 1)])
        .await;
    let same_dest = dest_article(&pair, "same").await;
    assert_eq!(same_dest["QA"].0, json!("v2 for QA"));
    assert_eq!(same_dest["PUBLISHED"].0, json!("v1"));
    assert_eq!(same_dest["DRAFT"].0, json!("v1"));

    // The QA version's relation changes (the author's QA version lists it, the draft does not).
    update_article(&pair, &same, "v3 for QA", Some(&bob)).await;
    publish(&pair, "Article", &same, "QA").await;
    publish(&pair, "Author", &bob, "QA").await;
    update_article(&pair, &same, "v1", Some(&ann)).await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    assert_eq!(dest_article(&pair, "same").await["QA"].1, json!("bob"));
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // Unpublished from QA only: one unpublish, PUBLISHED stays.
    source(
        &pair,
        &format!(
            "mutation {{ unpublishArticle(where: {{ id: \"{three}\" }}, from: [QA]) {{ id }} }}"
        ),
    )
    .await;
    pair.sync_expecting(&[("unpublishArticle", 1)]).await;
    assert_eq!(
        stages_of(&dest_article(&pair, "three").await),
        ["DRAFT", "PUBLISHED"]
    );

    // And nothing more to do.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // A QA version changed in the destination behind stagesync's back: verify names that stage
    // only; a full pass puts it right.
    for doc in [
        "mutation { updateArticle(where: { slug: \"qa-only\" }, data: { body: \"tampered\" }) { id } }",
        "mutation { publishArticle(where: { slug: \"qa-only\" }, to: [QA], locales: [en, de]) { id } }",
        "mutation { updateArticle(where: { slug: \"qa-only\" }, data: { body: \"q\" }) { id } }",
    ] {
        pair.dest_gql(doc, json!({})).await;
    }
    let out = pair.run(&["verify"]).await;
    let err = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("[QA]: field body"), "{err}");
    assert!(
        !err.contains("[DRAFT]") && !err.contains("[PUBLISHED]"),
        "{err}"
    );
    pair.ok(&["sync", "--full"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_stage_rounds_the_rerun_finishes_them() {
    let content = stages_model();
    let pair = start(content.clone(), content, STAGES).await;
    let ann = source(
        &pair,
        "mutation { createAuthor(data: { slug: \"ann\", name: \"Ann\" }) { id } }",
    )
    .await;
    publish(&pair, "Author", &ann, "PUBLISHED, QA").await;
    let id = create_article(&pair, "three", "published", &ann).await;
    publish(&pair, "Article", &id, "PUBLISHED").await;
    update_article(&pair, &id, "qa", None).await;
    publish(&pair, "Article", &id, "QA").await;
    update_article(&pair, &id, "draft", None).await;
    // Publication batches: the authors with the article's PUBLISHED round, then its QA round;
    // then the draft. Each run dies between a write the destination acknowledged and its commit.
    for (crash, full) in [
        ("publication:1", true),
        ("publication:2", false),
        ("drafts:1", false),
    ] {
        let mut cmd = std::process::Command::new(super::common::stagesync_bin());
        cmd.arg("sync");
        if full {
            cmd.arg("--full");
        }
        cmd.arg("--config")
            .arg(&pair.config)
            .env("STAGESYNC_CRASH_AT", crash)
            .stderr(std::process::Stdio::null());
        let status = tokio::task::spawn_blocking(move || cmd.status())
            .await
            .unwrap()
            .unwrap();
        // A rerun after an unfinished run repairs first and may find a batch's work done, so
        // only the first run is sure to reach its crash point.
        assert!(
            !status.success() || crash != "publication:1",
            "the run died at {crash}"
        );
    }
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    assert!(super::harness::duplicates(&pair.dest.dump()).is_empty());
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_stage_missing_in_a_schema_is_a_config_error() {
    let content = stages_model();
    // The destination has no QA stage.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(super::common::project_fixture("stages.toml"))
        .unwrap()
        .replace(
            "stages = [\"DRAFT\", \"PUBLISHED\", \"QA\"]",
            "stages = [\"DRAFT\", \"PUBLISHED\"]",
        );
    let path = dir.path().join("no-qa.toml");
    std::fs::write(&path, text).unwrap();
    let pair = start(content, model(&path), STAGES).await;
    source(
        &pair,
        "mutation { createAuthor(data: { slug: \"ann\", name: \"Ann\" }) { id } }",
    )
    .await;
    for command in ["sync", "verify"] {
        let out = pair.run(&[command]).await;
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("QA is missing in the destination") && err.contains("`stages`"),
            "{command}: {err}"
        );
    }
    assert_eq!(pair.dest_mutation_count(), 0);
    // Without QA in the config, the rest syncs.
    let config = std::fs::read_to_string(&pair.config)
        .unwrap()
        .replace(STAGES, "");
    std::fs::write(&pair.config, config).unwrap();
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
}
