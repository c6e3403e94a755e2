//! Integration tests: every field kind a Hygraph project uses — components and component unions
//! (nested, localized), rich text, and every scalar — synced between two emulators by the real
//! binary, writing only what changed.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use stagesync::demo::project::{seed, ProjectSpec};

use super::harness::{assert_same_content, conference, expect_writes, writes, Pair};

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
    pair.sync_expecting(&[("updatePage", 1)]).await;
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
    pair.sync_expecting(&[("updatePage", 1)]).await;

    // And nothing after that.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);
}

/// Every `(nodeType, nodeId)` referenced in a rich-text AST.
fn references(ast: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    stagesync::model::rich_text::ast_references(ast, &mut |ty, id| {
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
    let mut spec = ProjectSpec::new(25);
    spec.assets = 3;
    let _files = pair.seed_source(spec).await;

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
    pair.sync_expecting(&[("updateTalk", 1)]).await;
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

/// One field per scalar kind, lists of several, localized variants of some.
const SCALARS_MODEL: &str = r#"
locales = ["en", "de"]

[enumerations]
Level = ["LOW", "MID", "HIGH"]

[[models]]
name = "Sample"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "text", type = "String" },
  { name = "count", type = "Int" },
  { name = "ratio", type = "Float" },
  { name = "whole", type = "Float" },
  { name = "flag", type = "Boolean" },
  { name = "big", type = "Long" },
  { name = "day", type = "Date" },
  { name = "at", type = "DateTime" },
  { name = "data", type = "Json" },
  { name = "place", type = "Location" },
  { name = "tint", type = "Color" },
  { name = "level", type = "Level" },
  { name = "tags", type = "String", list = true },
  { name = "counts", type = "Int", list = true },
  { name = "ratios", type = "Float", list = true },
  { name = "bigs", type = "Long", list = true },
  { name = "days", type = "Date", list = true },
  { name = "levels", type = "Level", list = true },
  { name = "caption", type = "String", localized = true },
  { name = "localRatio", type = "Float", localized = true },
  { name = "localData", type = "Json", localized = true },
  { name = "localLevel", type = "Level", localized = true },
  { name = "localPlace", type = "Location", localized = true },
  { name = "localDays", type = "Date", list = true, localized = true },
]
"#;

const SAMPLE_PLAIN: &str = "text count ratio whole flag big day at data place { latitude longitude } tint { hex rgba { r g b a } css } level tags counts ratios bigs days levels";
const SAMPLE_LOCALIZED: &str =
    "caption localRatio localData localLevel localPlace { latitude longitude } localDays";

async fn samples(client: &stagesync::hygraph::Client, stage: &str) -> BTreeMap<String, Value> {
    let query = format!(
        "query {{ samples(first: 100, stage: {stage}) {{ slug {SAMPLE_PLAIN} localizations(includeCurrent: true, locales: [en, de]) {{ locale {SAMPLE_LOCALIZED} }} }} }}"
    );
    let data = super::harness::gql(client, &query, json!({})).await;
    data["samples"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|mut s| {
            let slug = s["slug"].as_str().unwrap_or_default().to_owned();
            // Order of the locales in the answer is not content.
            if let Some(ls) = s["localizations"].as_array_mut() {
                ls.sort_by_key(|l| l["locale"].as_str().unwrap_or_default().to_owned());
            }
            (slug, s)
        })
        .collect()
}

/// Compares two values exactly: same JSON types (a Float stays a Float), same object key order.
fn exact_diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let (kx, ky): (Vec<_>, Vec<_>) = (x.keys().collect(), y.keys().collect());
            if kx != ky {
                out.push(format!("{path}: keys {kx:?} != {ky:?}"));
            }
            for (k, v) in x {
                exact_diff(
                    &format!("{path}/{k}"),
                    v,
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                exact_diff(&format!("{path}/{i}"), v, w, out);
            }
        }
        // 2 and 2.0 differ: a Float must stay a Float.
        (Value::Number(x), Value::Number(y))
            if x.to_string() != y.to_string() || x.is_f64() != y.is_f64() =>
        {
            out.push(format!("{path}: {x} != {y}"));
        }
        (Value::Number(_), Value::Number(_)) => {}
        _ if a != b => out.push(format!("{path}: {a} != {b}")),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scalar_kind_round_trips_exactly() {
    let content = stagesync::model::from_model_file(SCALARS_MODEL, "scalars.toml")
        .expect("the scalars model");
    let pair = Pair::start(content).await;
    let long = 9_007_199_254_740_993_i64; // 2^53 + 1: not representable as an f64
    let full = json!({
        "slug": "full",
        "text": "plain text with ünïcode",
        "count": -42,
        "ratio": 1.5,
        "whole": 2.0,
        "flag": false,
        "big": long,
        "day": "2024-02-29",
        "at": "2024-03-01T12:34:56.789Z",
        "data": { "zeta": 1, "alpha": { "nested": [3, 1, 2], "b": null, "a": 2.0 }, "mid": "x" },
        "place": { "latitude": 52.52, "longitude": 13.405 },
        "tint": { "hex": "#ff8800" },
        "level": "HIGH",
        "tags": ["b", "a", "b"],
        "counts": [3, 1, 2],
        "ratios": [2.0, 0.5, -1.25],
        "bigs": [long, -long],
        "days": ["2024-01-02", "2023-12-31"],
        "levels": ["MID", "LOW"],
        "caption": "english caption",
        "localRatio": 3.0,
        "localData": { "y": [1, { "k": "v" }], "x": true },
        "localLevel": "LOW",
        "localPlace": { "latitude": -33.8688, "longitude": 151.2093 },
        "localDays": ["2022-06-01"],
        "localizations": { "create": [{ "locale": "de", "data": {
            "caption": "deutsche Beschriftung",
            "localRatio": 4.0,
            "localData": { "ö": 1, "a": [] },
            "localLevel": "MID",
            "localPlace": { "latitude": 48.137, "longitude": 11.575 },
            "localDays": ["2021-01-01", "2020-02-02"]
        } }] }
    });
    let rgba = json!({
        "slug": "rgba",
        "tint": { "rgba": { "r": 10, "g": 20, "b": 30, "a": 0.5 } },
        "ratio": 0.1,
        "data": [1, "two", { "three": 3.0 }],
        "caption": "only english"
    });
    let sparse = json!({ "slug": "sparse" });
    let mutation = "mutation ($data: SampleCreateInput!) { createSample(data: $data) { id } }";
    let mut ids = Vec::new();
    for data in [&full, &rgba, &sparse] {
        let created = pair.source_gql(mutation, json!({ "data": data })).await;
        ids.push(created["createSample"]["id"].as_str().unwrap().to_owned());
    }
    pair.source_gql(
        "mutation ($id: ID!) { publishSample(where: { id: $id }, to: PUBLISHED, locales: [en, de]) { id } }",
        json!({ "id": ids[0] }),
    )
    .await;

    let source_draft = samples(&pair.source_client(), "DRAFT").await;
    // The source answers what was written: the test compares against real values.
    assert_eq!(source_draft["full"]["big"], json!(long));
    assert!(
        source_draft["full"]["whole"].is_f64(),
        "{}",
        source_draft["full"]["whole"]
    );
    assert_eq!(source_draft.len(), 3);

    pair.ok(&["sync"]).await;
    for stage in ["DRAFT", "PUBLISHED"] {
        let source = samples(&pair.source_client(), stage).await;
        let dest = samples(&pair.dest_client(), stage).await;
        assert_eq!(
            source.keys().collect::<Vec<_>>(),
            dest.keys().collect::<Vec<_>>(),
            "{stage} entries"
        );
        let mut diff = Vec::new();
        for (slug, s) in &source {
            exact_diff(&format!("{stage}/{slug}"), s, &dest[slug], &mut diff);
        }
        assert!(diff.is_empty(), "values differ:\n{}", diff.join("\n"));
    }
    pair.verify_passes().await;

    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    // The same Json with its keys in another order is not a change.
    pair.source_gql(
        "mutation ($id: ID!, $data: Json) { updateSample(where: { id: $id }, data: { data: $data }) { id } }",
        json!({ "id": ids[0], "data": { "mid": "x", "alpha": { "a": 2.0, "b": null, "nested": [3, 1, 2] }, "zeta": 1 } }),
    )
    .await;
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);
}

/// A real-schema project: the model is derived from SDL shaped like a current Hygraph project
/// (upload-url assets, a component union with nesting and localized fields, localized rich text,
/// a remote field), both emulators serve that SDL, and the sync leaves the remote field alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_current_hygraph_schema_syncs_and_reports_its_remote_field() {
    use stagesync::model::{Access, AssetSystem, FieldKind};

    let path = super::common::project_fixture("modern.graphql");
    let sdl = std::fs::read_to_string(&path).expect("modern.graphql");
    let content =
        stagesync::model::from_sdl(&sdl, &path.display().to_string()).expect("derived model");
    assert_eq!(
        content.model("Asset").and_then(|a| a.asset),
        Some(AssetSystem::UploadUrl)
    );
    let product = content.model("Product").expect("Product");
    match &product.field("stockLevel").expect("stockLevel").access {
        Access::ReadOnly(reason) => assert!(reason.contains("remote"), "{reason}"),
        Access::Writable => panic!("the remote field is derived as writable"),
    }
    let blocks = content
        .model("LandingPage")
        .unwrap()
        .field("blocks")
        .unwrap();
    match &blocks.kind {
        FieldKind::Component { targets, union } => {
            assert_eq!(union.as_deref(), Some("PageBlock"));
            assert_eq!(targets.len(), 4, "{targets:?}");
        }
        other => panic!("blocks is not a component union: {other:?}"),
    }
    assert!(content
        .component("HeroBlock")
        .and_then(|c| c.fields.iter().find(|f| f.name == "headline"))
        .is_some_and(|f| f.localized));

    let with_sdl = |token: &str| {
        let mut opts = super::harness::options(&content, token);
        opts.schema_sdl = Some(sdl.clone());
        opts
    };
    let pair = Pair::start_with(
        content.clone(),
        with_sdl(super::harness::SOURCE_TOKEN),
        with_sdl(super::harness::DEST_TOKEN),
        "",
        500,
    )
    .await;
    assert!(
        pair.source.sdl().contains("@remote"),
        "the emulator serves the given SDL"
    );
    let mut spec = ProjectSpec::new(30);
    spec.assets = 3;
    let _files = pair.seed_source(spec).await;
    let pages = pair
        .source_gql(
            "query { landingPages(first: 100, stage: DRAFT) { blocks { __typename } } }",
            json!({}),
        )
        .await;
    assert!(
        pages["landingPages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| !p["blocks"].as_array().unwrap().is_empty()),
        "the seed wrote component blocks: {pages}"
    );

    let plan = pair.ok(&["plan"]).await;
    let plan = format!(
        "{}{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    // The sync reads the schema by introspection, which hides directives: the reason it can
    // give is that the field is in no input.
    assert!(
        plan.lines()
            .any(|l| l.contains("skipped Product.stockLevel")
                && l.contains("not in ProductCreateInput or ProductUpdateInput")),
        "plan lists the remote field as skipped:\n{plan}"
    );

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    // Not `assert_same_content`: an upload-url asset's `fileName` is set by the upload from the
    // file URL, so the destination's copies are named after the source's handles (known gap).
    let created = writes(&pair);
    assert!(
        created.get("createAsset").copied().unwrap_or(0) >= 3,
        "{created:?}"
    );
    assert!(created.keys().all(|k| !k.contains("stockLevel")));

    // A change inside a nested component rewrites that one page.
    let page = pair
        .source_gql(
            "query { landingPages(first: 100, stage: DRAFT) { id blocks { __typename ... on FeatureList { id features { id } } } } }",
            json!({}),
        )
        .await["landingPages"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| {
            p["blocks"].as_array().unwrap().iter().find_map(|b| {
                let feature = b["features"].as_array()?.first()?;
                Some((p["id"].clone(), b["id"].clone(), feature["id"].clone()))
            })
        });
    let (page_id, list_id, feature_id) = page.expect("a seeded page with a feature list");
    pair.dest.reset_stats();
    {
        pair.source_gql(
            "mutation ($id: ID!, $data: LandingPageUpdateInput!) { updateLandingPage(where: { id: $id }, data: $data) { id } }",
            json!({ "id": page_id, "data": { "blocks": { "update": [{ "FeatureList": {
                "where": { "id": list_id },
                "data": { "features": { "update": [{ "where": { "id": feature_id }, "data": { "details": { "z": 1, "a": [2.5] } } }] } }
            } }] } } }),
        )
        .await;
        pair.ok(&["sync"]).await;
        expect_writes(&pair, &[("updateLandingPage", 1)]);
        pair.verify_passes().await;
        pair.dest.reset_stats();
    }
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[]);

    let schema = tokio::process::Command::new(super::common::stagesync_bin())
        .arg("schema")
        .arg(&path)
        .kill_on_drop(true)
        .output();
    let schema = tokio::time::timeout(std::time::Duration::from_secs(60), schema)
        .await
        .expect("schema finished in time")
        .expect("stagesync schema runs");
    assert_eq!(schema.status.code(), Some(0));
    let schema = String::from_utf8_lossy(&schema.stdout);
    assert!(
        schema
            .lines()
            .any(|l| l.contains("skipped Product.stockLevel") && l.contains("remote")),
        "schema lists the remote field as skipped by the sync:\n{schema}"
    );
}
