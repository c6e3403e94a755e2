//! Relations inside components (issue 12): a component holding `image: Asset`, a component
//! nested in it holding a list relation to another model and a union relation, synced with the
//! targets mapped to the destination's entries; `verify` sees a wrong target inside a component;
//! the emulator stores a nested `connect` as a reference and resolves it per stage. And a union
//! mixing models and components: the schema is accepted, the field reported as skipped.
//!
//! Oracles of their own: the emulators' dumps with ids replaced by slugs/file names
//! (`assert_same_content`), and the targets read back through each side's own API by key.

use serde_json::{json, Value};
use stagesync::emulator::{Emulator, EmulatorOptions};

use super::harness::{
    assert_same_content, expect_writes, gql, json_diff, normalized_dump, writes, Pair, DEST_TOKEN,
    SOURCE_TOKEN,
};

/// `Page.hero` is a `Hero` with an `image: Asset` and a nested `LinkList` holding a list
/// relation to `Article`, a single one (`featured`), and a union relation (`promo`).
pub const MODEL: &str = r#"
locales = [{ code = "en", default = true }, "de"]
stages = ["DRAFT", "PUBLISHED"]

[asset]
system = "legacy"

[unions]
Promo = ["Article", "Page"]
Block = ["Quote"]

[[models]]
name = "Article"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "title", type = "String", localized = true },
]

[[models]]
name = "Page"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "title", type = "String" },
  { name = "hero", type = "Hero" },
  { name = "blocks", type = "Block", list = true },
]

[[components]]
name = "Hero"
fields = [
  { name = "heading", type = "String", localized = true },
  { name = "image", type = "Asset" },
  { name = "links", type = "LinkList" },
]

[[components]]
name = "LinkList"
fields = [
  { name = "label", type = "String" },
  { name = "articles", type = "Article", list = true },
  { name = "featured", type = "Article" },
  { name = "promo", type = "Promo" },
]

[[components]]
name = "Quote"
fields = [{ name = "text", type = "String" }]
"#;

pub fn model() -> stagesync::model::ContentModel {
    stagesync::model::from_model_file(MODEL, "component-relations.toml").expect("the test model")
}

/// The same model as the SDL Hygraph would generate, with the `Block` union turned into one
/// that mixes a model and a component (`union Block = Article | Quote`, the 2022 style).
pub fn mixed_sdl() -> String {
    let sdl = stagesync::emulator::generate_sdl(&model());
    assert!(sdl.contains("union Block = Quote"), "generated SDL: {sdl}");
    sdl.replace("union Block = Quote", "union Block = Article | Quote")
}

const HERO: &str = "hero { id image { id fileName } links { id label articles { slug } featured { slug } promo { __typename ... on Article { slug } ... on Page { slug } } } }";

/// Every page's hero targets by key (`slug`, assets by `fileName`), read through one side's own
/// API in `stage`.
async fn heroes(pair: &Pair, dest: bool, stage: &str) -> Value {
    let query =
        format!("{{ pages(stage: {stage}, first: 100, orderBy: slug_ASC) {{ slug {HERO} }} }}");
    let data = if dest {
        pair.dest_gql(&query, json!({})).await
    } else {
        pair.source_gql(&query, json!({})).await
    };
    let mut pages = data["pages"].clone();
    // Component ids differ between the sides.
    for p in pages.as_array_mut().into_iter().flatten() {
        if let Some(h) = p["hero"].as_object_mut() {
            h.remove("id");
            if let Some(image) = h.get_mut("image").and_then(Value::as_object_mut) {
                image.remove("id");
            }
            if let Some(l) = h.get_mut("links").and_then(Value::as_object_mut) {
                l.remove("id");
            }
        }
    }
    pages
}

async fn seeded_pair() -> (Pair, stagesync::demo::files::FileServer) {
    let pair = Pair::start(model()).await;
    let mut spec = stagesync::demo::project::ProjectSpec::new(8);
    spec.assets = 3;
    spec.seed = 12;
    let files = pair.seed_source(spec).await;
    (pair, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relations_inside_components_sync_change_and_converge() {
    let (pair, _files) = seeded_pair().await;
    let source = heroes(&pair, false, "DRAFT").await;
    // The generator connected targets inside the components: the case is not vacuous.
    let text = source.to_string();
    assert!(text.contains("\"fileName\""), "no image in {text}");
    assert!(text.contains("\"articles\":[{"), "no articles in {text}");
    assert!(text.contains("\"promo\":{"), "no promo in {text}");

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    for stage in ["DRAFT", "PUBLISHED"] {
        assert_eq!(
            heroes(&pair, true, stage).await,
            heroes(&pair, false, stage).await,
            "{stage}: the destination's heroes differ from the source's"
        );
    }

    // Another target inside the nested component, written by an editor in the source.
    let page = &source[0];
    let slug = page["slug"].as_str().unwrap();
    let ids = pair
        .source_gql(
            &format!("{{ page(where: {{ slug: \"{slug}\" }}, stage: DRAFT) {{ {HERO} }} }}"),
            json!({}),
        )
        .await;
    let hero = &ids["page"]["hero"];
    let articles = pair
        .source_gql(
            "{ articles(stage: DRAFT, first: 100, orderBy: slug_DESC) { id slug } }",
            json!({}),
        )
        .await;
    let now: Vec<&str> = hero["links"]["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    let other = articles["articles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| !now.contains(&a["slug"].as_str().unwrap()))
        .expect("an article the page does not link yet");
    pair.source_gql(
        "mutation($slug: String!, $hero: ID!, $links: ID!, $article: ID!) { updatePage(where: { slug: $slug }, data: { hero: { update: { where: { id: $hero }, data: { links: { update: { where: { id: $links }, data: { articles: { set: [{ id: $article }] } } } } } } } }) { id } }",
        json!({
            "slug": slug,
            "hero": hero["id"],
            "links": hero["links"]["id"],
            "article": other["id"],
        }),
    )
    .await;
    let changed = heroes(&pair, false, "DRAFT").await;
    assert_eq!(
        changed[0]["hero"]["links"]["articles"],
        json!([{ "slug": other["slug"] }])
    );

    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    expect_writes(&pair, &[("updatePage", 1)]);
    pair.verify_passes().await;
    assert_same_content(&pair);
    assert_eq!(heroes(&pair, true, "DRAFT").await, changed);

    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(
        writes(&pair).is_empty(),
        "a rerun wrote {:?}",
        writes(&pair)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sees_a_wrong_target_inside_a_component() {
    let (pair, _files) = seeded_pair().await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;

    // An editor in the destination points a hero's image at another asset.
    let data = pair
        .dest_gql(
            "{ pages(stage: DRAFT, first: 100, orderBy: slug_ASC) { slug hero { id image { id } } } assets(stage: DRAFT, first: 100) { id } }",
            json!({}),
        )
        .await;
    let page = data["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| !p["hero"]["image"].is_null())
        .expect("a page whose hero has an image");
    let other = data["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] != page["hero"]["image"]["id"])
        .expect("another asset");
    pair.dest_gql(
        "mutation($slug: String!, $hero: ID!, $asset: ID!) { updatePage(where: { slug: $slug }, data: { hero: { update: { where: { id: $hero }, data: { image: { connect: { id: $asset } } } } } }) { id } }",
        json!({ "slug": page["slug"], "hero": page["hero"]["id"], "asset": other["id"] }),
    )
    .await;

    let out = pair.run(&["verify"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(4),
        "verify: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("hero"),
        "verify does not name the field: {stdout}"
    );

    // A sync does not see it (the store says the destination holds it), a repair fixes it.
    pair.ok(&["sync", "--repair"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
}

/// The emulator alone: `createPage(data: { hero: { create: { links: { create: { articles: {
/// connect: [...] } } } } } })` stores references and reads them per stage.
#[tokio::test]
async fn the_emulator_stores_a_nested_connect_as_a_reference_resolved_per_stage() {
    let mut options = EmulatorOptions::new(model());
    options.token = Some(SOURCE_TOKEN.into());
    let emulator = Emulator::start(options).await.unwrap();
    let client = super::harness::client(&emulator, SOURCE_TOKEN, "emulator");
    let article = |slug: &str| {
        format!("mutation {{ createArticle(data: {{ slug: \"{slug}\", title: \"{slug}\" }}) {{ id }} }}")
    };
    let a1 = gql(&client, &article("a1"), json!({})).await["createArticle"]["id"].clone();
    let a2 = gql(&client, &article("a2"), json!({})).await["createArticle"]["id"].clone();
    gql(
        &client,
        "mutation($a1: ID!, $a2: ID!) { createPage(data: { slug: \"p\", hero: { create: { links: { create: { label: \"l\", articles: { connect: [{ id: $a1 }, { id: $a2 }] }, featured: { connect: { id: $a2 } }, promo: { connect: { Article: { id: $a1 } } } } } } } }) { id } }",
        json!({ "a1": a1, "a2": a2 }),
    )
    .await;
    let links = "page(where: { slug: \"p\" }, stage: $stage) { hero { links { articles { slug } featured { slug } promo { __typename ... on Article { slug } } } } }";
    let read = |stage: &'static str| {
        let client = &client;
        async move {
            gql(
                client,
                &format!("query($stage: Stage!) {{ {links} }}"),
                json!({ "stage": stage }),
            )
            .await["page"]["hero"]["links"]
                .clone()
        }
    };
    assert_eq!(
        read("DRAFT").await,
        json!({ "articles": [{ "slug": "a1" }, { "slug": "a2" }], "featured": { "slug": "a2" }, "promo": { "__typename": "Article", "slug": "a1" } })
    );
    // Stored as references (ids), not as the input.
    let dump = emulator.dump();
    let stored = dump["models"]["Page"][0]["stages"]["DRAFT"]["fields"]["hero"]["links"].clone();
    assert_eq!(
        stored["articles"],
        json!([{ "nodeType": "Article", "nodeId": a1 }, { "nodeType": "Article", "nodeId": a2 }]),
        "{stored}"
    );

    // Published without its targets: the PUBLISHED read leaves them out (optional: null).
    gql(
        &client,
        "mutation { publishPage(where: { slug: \"p\" }, to: PUBLISHED) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        read("PUBLISHED").await,
        json!({ "articles": [], "featured": null, "promo": null })
    );
    gql(
        &client,
        "mutation { publishArticle(where: { slug: \"a2\" }, to: PUBLISHED) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(
        read("PUBLISHED").await,
        json!({ "articles": [{ "slug": "a2" }], "featured": { "slug": "a2" }, "promo": null })
    );

    // An update's `disconnect` and positioned `connect`.
    let ids = gql(
        &client,
        "{ page(where: { slug: \"p\" }, stage: DRAFT) { hero { id links { id } } } }",
        json!({}),
    )
    .await;
    gql(
        &client,
        "mutation($hero: ID!, $links: ID!, $a1: ID!) { updatePage(where: { slug: \"p\" }, data: { hero: { update: { where: { id: $hero }, data: { links: { update: { where: { id: $links }, data: { featured: { disconnect: true }, articles: { disconnect: [{ id: $a1 }] } } } } } } } }) { id } }",
        json!({ "hero": ids["page"]["hero"]["id"], "links": ids["page"]["hero"]["links"]["id"], "a1": a1 }),
    )
    .await;
    assert_eq!(
        read("DRAFT").await,
        json!({ "articles": [{ "slug": "a2" }], "featured": null, "promo": { "__typename": "Article", "slug": "a1" } })
    );

    // An unknown target is a clear error, and nothing is written.
    let response = client
        .graphql(
            "mutation { createPage(data: { slug: \"q\", hero: { create: { image: { connect: { id: \"no-such-asset\" } } } } }) { id } }",
            json!({}),
            stagesync::hygraph::Idempotency::Unsafe,
        )
        .await
        .unwrap();
    let message = response
        .errors
        .first()
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("no Asset matches") && message.contains("no-such-asset"),
        "{message}"
    );
    let pages = gql(&client, "{ pages(stage: DRAFT) { slug } }", json!({})).await;
    assert_eq!(pages["pages"], json!([{ "slug": "p" }]));
}

/// A union mixing a model and a component (the 2022 style): `schema` shows the field as skipped
/// with its reason instead of refusing the schema; the emulator serves it; sync and verify are
/// exact on everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_union_mixing_models_and_components_is_skipped_not_refused() {
    let sdl = mixed_sdl();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.graphql");
    std::fs::write(&path, &sdl).unwrap();
    let out = std::process::Command::new(super::common::stagesync_bin())
        .arg("schema")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("skipped Page.blocks")
            && stdout.contains("mixes content models (Article) and components (Quote)"),
        "{stdout}"
    );

    let options = |token: &str| {
        let mut o = EmulatorOptions::from_schema(&sdl, "mixed.graphql").expect("served");
        o.token = Some(token.to_owned());
        o
    };
    let content = options(SOURCE_TOKEN).model;
    let pair = Pair::start_with(content, options(SOURCE_TOKEN), options(DEST_TOKEN), "", 500).await;
    let mut spec = stagesync::demo::project::ProjectSpec::new(6);
    spec.assets = 2;
    let _files = pair.seed_source(spec).await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    // verify says what its "match" does not cover.
    let verify = pair.run(&["verify"]).await;
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        said.contains("not compared: Page.blocks: ")
            && said.contains("mixes content models (Article) and components (Quote)"),
        "{said}"
    );
    let strip = |dump: Value| {
        let mut d = normalized_dump(&dump);
        for page in d["Page"]
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            for stage in page
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
            {
                if let Some(f) = stage["fields"].as_object_mut() {
                    f.remove("blocks");
                }
            }
        }
        d
    };
    let diff = json_diff(&strip(pair.source.dump()), &strip(pair.dest.dump()));
    assert!(diff.is_empty(), "{}", diff.join("\n"));
}

/// A published page (with a newer draft) whose component links an article that is not
/// published: the PUBLISHED read shows no target, and the destination's published version is
/// written that way. Publishing the article in the source changes what the page's published
/// component shows without any write to the page; the next sync rewrites it (the check of
/// published relations alone would not see a component's targets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_a_target_shows_in_the_published_component() {
    let pair = Pair::start(model()).await;
    let a0 = pair
        .source_gql(
            "mutation { createArticle(data: { slug: \"a0\", title: \"A0\" }) { id } }",
            json!({}),
        )
        .await["createArticle"]["id"]
        .clone();
    pair.source_gql(
        "mutation { publishArticle(where: { slug: \"a0\" }, to: PUBLISHED) { id } }",
        json!({}),
    )
    .await;
    let a1 = pair
        .source_gql(
            "mutation { createArticle(data: { slug: \"a1\", title: \"A1\" }) { id } }",
            json!({}),
        )
        .await["createArticle"]["id"]
        .clone();
    pair.source_gql(
        "mutation($a0: ID!, $a1: ID!) { createPage(data: { slug: \"p\", blocks: { create: [{ Quote: { text: \"q\" } }] }, hero: { create: { links: { create: { articles: { connect: [{ id: $a0 }, { id: $a1 }] }, featured: { connect: { id: $a1 } } } } } } }) { id } }",
        json!({ "a0": a0, "a1": a1 }),
    )
    .await;
    pair.source_gql(
        "mutation { publishPage(where: { slug: \"p\" }, to: PUBLISHED) { id } }",
        json!({}),
    )
    .await;
    // A newer draft: the destination's published version is written from the source's, whose
    // component shows no target yet.
    pair.source_gql(
        "mutation { updatePage(where: { slug: \"p\" }, data: { title: \"newer\" }) { id } }",
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    let published = "{ page(where: { slug: \"p\" }, stage: PUBLISHED) { hero { links { articles { slug } featured { slug } } } } }";
    assert_eq!(
        pair.dest_gql(published, json!({})).await["page"]["hero"]["links"],
        json!({ "articles": [{ "slug": "a0" }], "featured": null })
    );

    pair.source_gql(
        "mutation { publishArticle(where: { slug: \"a1\" }, to: PUBLISHED) { id } }",
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    assert_eq!(
        pair.dest_gql(published, json!({})).await["page"]["hero"]["links"],
        json!({ "articles": [{ "slug": "a0" }, { "slug": "a1" }], "featured": { "slug": "a1" } })
    );
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(
        writes(&pair).is_empty(),
        "a rerun wrote {:?}",
        writes(&pair)
    );
}
