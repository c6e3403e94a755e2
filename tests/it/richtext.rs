//! Integration tests: rich text with embeds (Hygraph's `<Owner><Field>RichText` with
//! `references`) synced wherever it appears — a model's field, a localized field in a second
//! locale, a field of a component inside a component union — with every `nodeId` pointing at
//! the destination's entries, and the emulator refusing references it cannot resolve.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};
use stagesync::demo::project::{seed, ProjectSpec};

use super::harness::{assert_same_content, conference, expect_writes, gql, Pair};

/// Every `(nodeType, nodeId)` of a rich-text AST (or any JSON holding ASTs), in order.
fn references(value: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    stagesync::model::rich_text::ast_references(value, &mut |ty, id| {
        out.push((ty.to_owned(), id.to_owned()))
    });
    out
}

fn ast(text: &str, embeds: &[(&str, &str)]) -> Value {
    let mut children = vec![json!({ "type": "paragraph", "children": [{ "text": text }] })];
    for (ty, id) in embeds {
        children.push(json!({ "type": "embed", "nodeId": id, "nodeType": ty, "isInline": false, "children": [{ "text": "" }] }));
        children.push(json!({ "type": "paragraph", "children": [
            { "text": "see " },
            { "type": "link", "nodeId": id, "nodeType": ty, "children": [{ "text": "there" }] },
        ] }));
    }
    json!({ "children": children })
}

/// `id → slug` of every entry of `model` on one side (draft stage).
async fn slugs(pair: &Pair, dest: bool, model: &str) -> BTreeMap<String, String> {
    let plural = &pair.content.model(model).unwrap().plural;
    let query = format!("query {{ list: {plural}(first: 100, stage: DRAFT) {{ id slug }} }}");
    let data = if dest {
        pair.dest_gql(&query, json!({})).await
    } else {
        pair.source_gql(&query, json!({})).await
    };
    data["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The references of a rich text as the source or destination writes them, as `Model:slug`
/// (assets as `Asset:fileName`), checking on the way that each `nodeId` is an entry of that
/// side: a source id left in the destination fails here.
async fn resolved(pair: &Pair, dest: bool, value: &Value) -> Vec<String> {
    let mut by_model: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut out = Vec::new();
    for (ty, id) in references(value) {
        if !by_model.contains_key(&ty) {
            let map = if ty == "Asset" {
                let query = "query { assets(first: 100, stage: DRAFT) { id fileName } }";
                let data = if dest {
                    pair.dest_gql(query, json!({})).await
                } else {
                    pair.source_gql(query, json!({})).await
                };
                data["assets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| {
                        (
                            a["id"].as_str().unwrap().to_owned(),
                            a["fileName"].as_str().unwrap().to_owned(),
                        )
                    })
                    .collect()
            } else {
                slugs(pair, dest, &ty).await
            };
            by_model.insert(ty.clone(), map);
        }
        let key = by_model[&ty].get(&id).unwrap_or_else(|| {
            panic!(
                "{} rich text references {ty} {id}, which is not an entry there",
                if dest {
                    "the destination's"
                } else {
                    "the source's"
                }
            )
        });
        out.push(format!("{ty}:{key}"));
    }
    out
}

const PAGE_RICH_TEXT: &str = "slug intro { raw references { __typename ... on Talk { id } ... on Speaker { id } ... on Asset { id } } } sections { __typename ... on RichBlock { body { raw references { __typename ... on Talk { id } ... on Speaker { id } ... on Asset { id } } } } }";

async fn page(pair: &Pair, dest: bool, slug: &str, locale: &str) -> Value {
    let query = format!(
        "query {{ page(where: {{ slug: \"{slug}\" }}, stage: DRAFT, locales: [{locale}]) {{ {PAGE_RICH_TEXT} }} }}"
    );
    let data = if dest {
        pair.dest_gql(&query, json!({})).await
    } else {
        pair.source_gql(&query, json!({})).await
    };
    data["page"].clone()
}

/// The rich text of the page's `RichBlock` sections, in order.
fn blocks(page: &Value) -> Vec<Value> {
    page["sections"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["__typename"] == "RichBlock")
        .map(|s| s["body"].clone())
        .collect()
}

/// `references` lists what the AST references, as the API resolves it.
fn assert_references_match_ast(rich: &Value) {
    let from_ast: BTreeSet<(String, String)> = references(&rich["raw"]).into_iter().collect();
    let listed: BTreeSet<(String, String)> = rich["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["__typename"].as_str().unwrap().to_owned(),
                r["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(listed, from_ast, "references of {rich}");
}

const UPDATE_PAGE: &str = "mutation ($id: ID!, $data: PageUpdateInput!) { updatePage(where: { id: $id }, data: $data) { id } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeds_in_fields_localizations_and_components_point_at_destination_entries() {
    let content = conference();
    let pair = Pair::start(content.clone()).await;
    let mut spec = ProjectSpec::new(20);
    spec.assets = 3;
    let _files = pair.seed_source(spec).await;

    // The seed embeds speakers and assets in talks' abstracts and pages' intros (default
    // locale); add a localized embed in the second locale and a rich-text section with embeds.
    let talks: Vec<String> = slugs(&pair, false, "Talk").await.into_keys().collect();
    let speakers: Vec<String> = slugs(&pair, false, "Speaker").await.into_keys().collect();
    let pages = pair
        .source_gql(
            "query { pages(first: 100, stage: DRAFT) { id slug } }",
            json!({}),
        )
        .await;
    let pages = pages["pages"].as_array().unwrap().clone();
    assert!(pages.len() >= 2 && talks.len() >= 2 && speakers.len() >= 2);
    let (localized_page, localized_slug) = (pages[0]["id"].clone(), pages[0]["slug"].clone());
    let (block_page, block_slug) = (pages[1]["id"].clone(), pages[1]["slug"].clone());
    let (localized_slug, block_slug) = (
        localized_slug.as_str().unwrap().to_owned(),
        block_slug.as_str().unwrap().to_owned(),
    );
    pair.source_gql(
        UPDATE_PAGE,
        json!({ "id": localized_page, "data": { "localizations": { "upsert": [{
            "locale": "de",
            "create": { "title": "Seite", "intro": ast("Auf Deutsch", &[("Talk", &talks[0])]) },
            "update": { "intro": ast("Auf Deutsch", &[("Talk", &talks[0])]) },
        }] } } }),
    )
    .await;
    pair.source_gql(
        UPDATE_PAGE,
        json!({ "id": block_page, "data": { "sections": { "create": [{ "RichBlock": {
            "data": { "body": ast("A section", &[("Speaker", &speakers[0]), ("Talk", &talks[1])]) },
            "position": { "end": true },
        } }] } } }),
    )
    .await;

    // 1. Initial sync: verify passes, and every nodeId in the destination is a destination
    // entry — the same entry, by slug, as in the source — in all three places.
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);

    let source_talks = pair
        .source_gql(
            "query { talks(first: 100, stage: DRAFT) { slug abstract { raw references { __typename ... on Speaker { id } ... on Asset { id } } } } }",
            json!({}),
        )
        .await;
    let mut top_level = 0;
    for talk in source_talks["talks"].as_array().unwrap() {
        let slug = talk["slug"].as_str().unwrap();
        let dest = pair
            .dest_gql(
                &format!("query {{ talk(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ abstract {{ raw references {{ __typename ... on Speaker {{ id }} ... on Asset {{ id }} }} }} }} }}"),
                json!({}),
            )
            .await;
        let (s, d) = (&talk["abstract"], &dest["talk"]["abstract"]);
        if references(&s["raw"]).is_empty() {
            continue;
        }
        top_level += 1;
        assert_references_match_ast(s);
        assert_references_match_ast(d);
        assert_eq!(
            resolved(&pair, true, &d["raw"]).await,
            resolved(&pair, false, &s["raw"]).await,
            "Talk {slug}: abstract"
        );
    }
    assert!(top_level > 0, "the seed embeds entries in abstracts");

    let (s, d) = (
        page(&pair, false, &localized_slug, "de").await,
        page(&pair, true, &localized_slug, "de").await,
    );
    assert_references_match_ast(&d["intro"]);
    let de = resolved(&pair, true, &d["intro"]["raw"]).await;
    assert_eq!(de, resolved(&pair, false, &s["intro"]["raw"]).await);
    assert_eq!(de.len(), 2, "an embed and a link to the same talk: {de:?}");
    let (s, d) = (
        page(&pair, false, &block_slug, "en").await,
        page(&pair, true, &block_slug, "en").await,
    );
    let (s_blocks, d_blocks) = (blocks(&s), blocks(&d));
    assert!(!d_blocks.is_empty());
    assert_eq!(s_blocks.len(), d_blocks.len());
    for (s, d) in s_blocks.iter().zip(&d_blocks) {
        assert_references_match_ast(d);
        assert_eq!(
            resolved(&pair, true, &d["raw"]).await,
            resolved(&pair, false, &s["raw"]).await
        );
    }
    assert!(
        references(&d_blocks.last().unwrap()["raw"]).len() == 4,
        "the added section's embeds and links reached the destination"
    );

    // 2. A rerun writes nothing.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // 3. An edit of an embed target writes the target only.
    pair.source_gql(
        &format!("mutation {{ updateSpeaker(where: {{ id: \"{}\" }}, data: {{ name: \"A renamed speaker\" }}) {{ id }} }}", speakers[0]),
        json!({}),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updateSpeaker", 1)]);
    pair.verify_passes().await;

    // 4. Another target in the localized rich text: that page only, the new target's id.
    pair.source_gql(
        UPDATE_PAGE,
        json!({ "id": localized_page, "data": { "localizations": { "update": [{
            "locale": "de",
            "data": { "intro": ast("Jetzt über etwas anderes", &[("Speaker", &speakers[1])]) },
        }] } } }),
    )
    .await;
    pair.sync_expecting(&[("updatePage", 1)]).await;
    let d = page(&pair, true, &localized_slug, "de").await;
    let de = resolved(&pair, true, &d["intro"]["raw"]).await;
    let speaker_slug = slugs(&pair, false, "Speaker").await[&speakers[1]].clone();
    assert_eq!(
        de,
        vec![format!("Speaker:{speaker_slug}"); 2],
        "the localized rich text points at the new target"
    );

    // 5. Another target in the component's rich text: that page only.
    let section = pair
        .source_gql(
            &format!("query {{ page(where: {{ slug: \"{block_slug}\" }}, stage: DRAFT) {{ sections {{ __typename ... on RichBlock {{ id }} }} }} }}"),
            json!({}),
        )
        .await;
    let block_id = section["page"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s["__typename"] == "RichBlock")
        .unwrap()["id"]
        .clone();
    pair.source_gql(
        UPDATE_PAGE,
        json!({ "id": block_page, "data": { "sections": { "update": [{ "RichBlock": {
            "where": { "id": block_id },
            "data": { "body": ast("A changed section", &[("Talk", &talks[0])]) },
        } }] } } }),
    )
    .await;
    pair.sync_expecting(&[("updatePage", 1)]).await;

    // And nothing after that.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_rejects_references_it_cannot_resolve() {
    let content = conference();
    let pair = Pair::start(content.clone()).await;
    seed(&pair.source_client(), &content, &ProjectSpec::new(4))
        .await
        .expect("seeding the source");
    let client = pair.source_client();
    let talk = slugs(&pair, false, "Talk")
        .await
        .into_keys()
        .next()
        .unwrap();
    let event = slugs(&pair, false, "Event")
        .await
        .into_keys()
        .next()
        .unwrap();
    let speaker = slugs(&pair, false, "Speaker")
        .await
        .into_keys()
        .next()
        .unwrap();
    let update = "mutation ($id: ID!, $ast: RichTextAST) { updateTalk(where: { id: $id }, data: { abstract: $ast }) { id } }";
    let error_of = |response: stagesync::hygraph::Response| {
        response
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    };

    let unknown = client
        .graphql(
            update,
            json!({ "id": talk, "ast": ast("x", &[("Speaker", "no-such-speaker")]) }),
            stagesync::hygraph::Idempotency::Unsafe,
        )
        .await
        .unwrap();
    let message = error_of(unknown);
    assert!(
        message.contains("Speaker `no-such-speaker`") && message.contains("does not exist"),
        "{message}"
    );

    let not_embeddable = client
        .graphql(
            update,
            json!({ "id": talk, "ast": ast("x", &[("Event", &event)]) }),
            stagesync::hygraph::Idempotency::Unsafe,
        )
        .await
        .unwrap();
    let message = error_of(not_embeddable);
    assert!(
        message.contains("Event is not embeddable") && message.contains("Asset, Speaker"),
        "{message}"
    );

    // Inside a component too.
    let page = gql(
        &client,
        "query { pages(first: 1, stage: DRAFT) { id } }",
        json!({}),
    )
    .await;
    let response = client
        .graphql(
            UPDATE_PAGE,
            json!({ "id": page["pages"][0]["id"], "data": { "sections": { "create": [{ "RichBlock": {
                "data": { "body": ast("x", &[("Talk", "no-such-talk")]) },
            } }] } } }),
            stagesync::hygraph::Idempotency::Unsafe,
        )
        .await
        .unwrap();
    let message = error_of(response);
    assert!(
        message.contains("RichBlock") || message.contains("body"),
        "{message}"
    );
    assert!(message.contains("no-such-talk"), "{message}");

    // A valid reference is accepted, and `references` resolves it.
    gql(
        &client,
        update,
        json!({ "id": talk, "ast": ast("x", &[("Speaker", &speaker)]) }),
    )
    .await;
    let read = gql(
        &client,
        &format!("query {{ talk(where: {{ id: \"{talk}\" }}, stage: DRAFT) {{ abstract {{ __typename references {{ __typename ... on Speaker {{ id }} }} }} }} }}"),
        json!({}),
    )
    .await;
    assert_eq!(
        read["talk"]["abstract"]["__typename"],
        "TalkAbstractRichText"
    );
    assert_eq!(
        read["talk"]["abstract"]["references"],
        json!([{ "__typename": "Speaker", "id": speaker }])
    );
}

#[test]
fn the_schema_command_shows_what_rich_text_embeds() {
    let toml = super::common::project_fixture("conference.toml");
    let out = std::process::Command::new(super::common::stagesync_bin())
        .args(["schema", toml.to_str().unwrap()])
        .output()
        .expect("stagesync schema runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("RichText embeds Asset | Speaker | Talk"),
        "{stdout}"
    );
    assert!(
        stdout.contains("RichText embeds Asset | Speaker"),
        "{stdout}"
    );
}
