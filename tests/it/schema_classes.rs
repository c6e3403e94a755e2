//! Classes of real Hygraph schemas that differ from the shipped conference model, each shown on a
//! schema built in the test (issue: every real Hygraph project).

use serde_json::json;
use stagesync::demo::project::ProjectSpec;

use super::harness::{assert_same_content, conference, duplicates, Pair};

/// Older exports list `PUBLISHED` before `DRAFT` in the `Stage` enum. Writes must still land in
/// `DRAFT`, reads of `DRAFT` must find them, and a sync between two such projects must carry
/// drafts and publications alike.
#[tokio::test(flavor = "multi_thread")]
async fn a_published_first_stage_enum_keeps_drafts_in_draft() {
    let mut content = conference();
    content.stages = vec!["PUBLISHED".into(), "DRAFT".into()];
    assert_eq!(content.draft_stage(), "DRAFT");
    let pair = Pair::start(content).await;

    // The emulator alone: a create lands in DRAFT, not in the enum's first stage.
    let created = pair
        .source_gql(
            r#"mutation { createSpeaker(data: { slug: "acme", name: "Acme" }) { id stage } }"#,
            json!({}),
        )
        .await;
    assert_eq!(created["createSpeaker"]["stage"], "DRAFT", "{created}");
    let id = created["createSpeaker"]["id"].as_str().unwrap().to_owned();
    let read = |stage: &'static str| {
        format!(r#"query {{ speaker(where: {{ id: "{id}" }}, stage: {stage}) {{ id }} }}"#)
    };
    let draft = pair.source_gql(&read("DRAFT"), json!({})).await;
    assert_eq!(draft["speaker"]["id"], id.as_str(), "{draft}");
    let published = pair.source_gql(&read("PUBLISHED"), json!({})).await;
    assert!(published["speaker"].is_null(), "{published}");
    pair.source_gql(
        r#"mutation { deleteSpeaker(where: { slug: "acme" }) { id } }"#,
        json!({}),
    )
    .await;

    // A sync between two such projects.
    let _files = pair.seed_source(ProjectSpec::new(40)).await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    let count = |stage: &str| {
        format!(r#"query {{ talksConnection(stage: {stage}) {{ aggregate {{ count }} }} }}"#)
    };
    for stage in ["DRAFT", "PUBLISHED"] {
        let src = pair.source_gql(&count(stage), json!({})).await;
        let dst = pair.dest_gql(&count(stage), json!({})).await;
        assert_eq!(src, dst, "{stage} counts differ");
    }
    let drafts = pair.dest_gql(&count("DRAFT"), json!({})).await;
    assert!(
        drafts["talksConnection"]["aggregate"]["count"].as_u64() > Some(0),
        "nothing in the destination's DRAFT: {drafts}"
    );
    let dump: serde_json::Value = pair.dest.dump();
    assert!(duplicates(&dump).is_empty());
}
