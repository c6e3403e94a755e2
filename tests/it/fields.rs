//! Integration tests: every field kind a Hygraph project uses — components and component unions
//! (nested, localized), rich text, and every scalar — synced between two emulators by the real
//! binary, writing only what changed.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use stagesync::demo::project::{seed, ProjectSpec};

use super::harness::{assert_same_content, conference, Pair};

fn writes(pair: &Pair) -> BTreeMap<String, u64> {
    pair.dest_writes()
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn expect_writes(pair: &Pair, expected: &[(&str, u64)]) {
    let expected: BTreeMap<String, u64> =
        expected.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(writes(pair), expected, "destination writes");
}

const SECTIONS: &str = "sections { __typename ... on Hero { id heading } ... on RichBlock { id } ... on CardGrid { id columns cards { id title } } ... on Quote { id text } }";

/// The source's pages with their sections (draft stage).
async fn source_pages(pair: &Pair) -> Vec<Value> {
    let data = pair
        .source_gql(
            &format!("query {{ pages(first: 100, stage: DRAFT) {{ id slug {SECTIONS} }} }}"),
            json!({}),
        )
        .await;
    data["pages"].as_array().cloned().unwrap_or_default()
}

async fn dest_sections(pair: &Pair, slug: &str) -> Vec<Value> {
    let data = pair
        .dest_gql(
            &format!(
                "query {{ page(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ {SECTIONS} }} }}"
            ),
            json!({}),
        )
        .await;
    data["page"]["sections"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn typenames(sections: &[Value]) -> Vec<String> {
    sections
        .iter()
        .map(|s| s["__typename"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_unions_sync_whole_and_only_when_changed() {
    let content = conference();
    let pair = Pair::start(content.clone()).await;
    seed(&pair.source_client(), &content, &ProjectSpec::new(25))
        .await
        .expect("seeding the source");

    // 1. Initial sync: every page with its sections, nested cards and localized headings.
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    let pages = source_pages(&pair).await;
    let page = pages
        .iter()
        .find(|p| {
            let sections = p["sections"].as_array().unwrap();
            sections.len() >= 3
                && sections
                    .iter()
                    .any(|s| s["cards"].as_array().is_some_and(|c| !c.is_empty()))
        })
        .expect("a seeded page with a card grid among three or more sections")
        .clone();
    let (page_id, slug) = (
        page["id"].as_str().unwrap().to_owned(),
        page["slug"].as_str().unwrap().to_owned(),
    );
    let sections = page["sections"].as_array().unwrap().clone();
    assert_eq!(
        typenames(&dest_sections(&pair, &slug).await),
        typenames(&sections)
    );

    // A rerun writes nothing.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // 2. A change inside one nested component: one card's title.
    let grid = sections
        .iter()
        .find(|s| s["cards"].as_array().is_some_and(|c| !c.is_empty()))
        .unwrap();
    let (grid_id, card_id) = (
        grid["id"].as_str().unwrap(),
        grid["cards"][0]["id"].as_str().unwrap(),
    );
    pair.source_gql(
        "mutation ($id: ID!, $data: PageUpdateInput!) { updatePage(where: { id: $id }, data: $data) { id } }",
        json!({ "id": page_id, "data": { "sections": { "update": [{ "CardGrid": {
            "where": { "id": grid_id },
            "data": { "cards": { "update": [{ "where": { "id": card_id }, "data": { "title": "a changed card" } }] } }
        } }] } } }),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updatePage", 1)]);
    pair.verify_passes().await;
    assert_same_content(&pair);
    let dest = dest_sections(&pair, &slug).await;
    assert!(
        dest.iter().any(|s| s["cards"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["title"] == "a changed card"))),
        "the nested change reached the destination: {dest:?}"
    );

    // 3. A reordering of sections: the first moves to the end.
    let first = &sections[0];
    let first_type = first["__typename"].as_str().unwrap();
    pair.source_gql(
        "mutation ($id: ID!, $data: PageUpdateInput!) { updatePage(where: { id: $id }, data: $data) { id } }",
        json!({ "id": page_id, "data": { "sections": { "update": [{ first_type: {
            "where": { "id": first["id"] }, "data": {}, "position": { "end": true }
        } }] } } }),
    )
    .await;
    let mut expected = typenames(&sections);
    let moved = expected.remove(0);
    expected.push(moved);
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updatePage", 1)]);
    assert_eq!(typenames(&dest_sections(&pair, &slug).await), expected);
    pair.verify_passes().await;
    assert_same_content(&pair);

    // 4. A localized field inside a component, in the second locale only.
    let hero = source_pages(&pair)
        .await
        .into_iter()
        .find_map(|p| {
            p["sections"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["__typename"] == "Hero")
                .map(|s| (p["id"].clone(), s["id"].clone()))
        })
        .expect("a page with a hero");
    pair.source_gql(
        "mutation ($id: ID!, $data: PageUpdateInput!) { updatePage(where: { id: $id }, data: $data) { id } }",
        json!({ "id": hero.0, "data": { "sections": { "update": [{ "Hero": {
            "where": { "id": hero.1 },
            "data": { "localizations": { "update": [{ "locale": "de", "data": { "heading": "Neue Überschrift" } }] } }
        } }] } } }),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updatePage", 1)]);
    pair.verify_passes().await;
    assert_same_content(&pair);

    // And nothing after that.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);
}

/// Every `(nodeType, nodeId)` referenced in a rich-text AST.
fn references(ast: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    stagesync::sync::canonical::visit_embeds(ast, &mut |ty, id| {
        out.push((ty.to_owned(), id.to_owned()))
    });
    out
}

async fn slug_of(pair: &Pair, dest: bool, model: &str, id: &str) -> Option<String> {
    let m = pair.content.model(model).unwrap();
    let query = format!(
        "query {{ e: {}(where: {{ id: \"{id}\" }}, stage: DRAFT) {{ slug }} }}",
        m.singular
    );
    let data = if dest {
        pair.dest_gql(&query, json!({})).await
    } else {
        pair.source_gql(&query, json!({})).await
    };
    data["e"]["slug"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_text_references_point_at_destination_entries() {
    let content = conference();
    let pair = Pair::start(content.clone()).await;
    let files = stagesync::demo::files::FileServer::start().await.unwrap();
    let mut spec = ProjectSpec::new(25);
    spec.assets = 3;
    spec.file_base = Some(files.url().to_owned());
    seed(&pair.source_client(), &content, &spec)
        .await
        .expect("seeding the source");

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);

    let talks = pair
        .source_gql(
            "query { talks(first: 100, stage: DRAFT) { id slug abstract { raw } } }",
            json!({}),
        )
        .await;
    let talk = talks["talks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            references(&t["abstract"]["raw"])
                .iter()
                .any(|(ty, _)| ty == "Speaker")
        })
        .expect("a seeded talk whose abstract embeds a speaker")
        .clone();
    let slug = talk["slug"].as_str().unwrap();
    let dest_talk = pair
        .dest_gql(
            &format!("query {{ talk(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ id abstract {{ raw }} }} }}"),
            json!({}),
        )
        .await;
    let source_refs = references(&talk["abstract"]["raw"]);
    let dest_refs = references(&dest_talk["talk"]["abstract"]["raw"]);
    assert_eq!(source_refs.len(), dest_refs.len());
    assert!(
        source_refs.iter().any(|(ty, _)| ty == "Asset"),
        "{source_refs:?}"
    );
    for ((sty, sid), (dty, did)) in source_refs.iter().zip(&dest_refs) {
        assert_eq!(sty, dty);
        assert_ne!(sid, did, "a reference still holds the source id");
        if sty != "Asset" {
            assert_eq!(
                slug_of(&pair, false, sty, sid).await,
                slug_of(&pair, true, dty, did).await,
                "the reference points at the same entry"
            );
        }
    }

    // An edit of an embed target writes the target only.
    let (_, speaker_id) = source_refs.iter().find(|(ty, _)| ty == "Speaker").unwrap();
    pair.source_gql(
        &format!("mutation {{ updateSpeaker(where: {{ id: \"{speaker_id}\" }}, data: {{ name: \"A renamed speaker\" }}) {{ id }} }}"),
        json!({}),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateSpeaker", 1)]);
    pair.verify_passes().await;

    // Pointing the rich text at another speaker rewrites that field, with the new target's id.
    let speakers = pair
        .source_gql(
            "query { speakers(first: 100, stage: DRAFT) { id } }",
            json!({}),
        )
        .await;
    let other = speakers["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .find(|id| id != speaker_id)
        .unwrap();
    let ast = json!({ "children": [
        { "type": "paragraph", "children": [{ "text": "Now about someone else" }] },
        { "type": "embed", "nodeId": other, "nodeType": "Speaker", "children": [{ "text": "" }] },
    ] });
    pair.source_gql(
        "mutation ($id: ID!, $ast: RichTextAST) { updateTalk(where: { id: $id }, data: { abstract: $ast }) { id } }",
        json!({ "id": talk["id"], "ast": ast }),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateTalk", 1)]);
    pair.verify_passes().await;
    assert_same_content(&pair);
    let dest_talk = pair
        .dest_gql(
            &format!("query {{ talk(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ abstract {{ raw }} }} }}"),
            json!({}),
        )
        .await;
    let refs = references(&dest_talk["talk"]["abstract"]["raw"]);
    assert_eq!(refs.len(), 1);
    assert_eq!(
        slug_of(&pair, true, "Speaker", &refs[0].1).await,
        slug_of(&pair, false, "Speaker", &other).await
    );
}
