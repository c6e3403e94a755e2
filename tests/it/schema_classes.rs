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

/// `with-houdini.graphql` as a read-only token exports it: the same types, an empty `Mutation`.
fn read_only_houdini() -> Option<String> {
    let sdl = super::common::houdini_sdl()?;
    let start = sdl
        .find("type Mutation {")
        .expect("the fixture has a Mutation type");
    let end = start + sdl[start..].find("\n}\n").expect("the Mutation type ends") + 3;
    Some(format!("{}type Mutation\n{}", &sdl[..start], &sdl[end..]))
}

/// A schema exported with a read-only token has an empty `type Mutation`: the model knows it
/// cannot be written, the emulator serves reads only (no mutation field the real schema lacks),
/// and a sync into it stops before anything is read or written, naming the fix.
#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_schema_serves_reads_only_and_is_refused_as_a_destination() {
    let Some(sdl) = read_only_houdini() else {
        return;
    };
    let full = stagesync::model::from_sdl(&super::common::houdini_sdl().unwrap(), "full").unwrap();
    assert!(full.mutations, "the real schema serves mutations");
    let read_only = stagesync::model::from_sdl(&sdl, "read-only").unwrap();
    assert!(
        !read_only.mutations,
        "an empty Mutation type means no writes"
    );
    let served = stagesync::emulator::generate_sdl(&read_only);
    assert!(
        !served.contains("type Mutation"),
        "the emulator serves mutations"
    );
    assert!(!served.contains("mutation: Mutation"));

    let emulator = stagesync::emulator::Emulator::start(stagesync::emulator::EmulatorOptions::new(
        read_only.clone(),
    ))
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let ask = |query: &'static str| {
        client
            .post(emulator.url())
            .json(&json!({ "query": query }))
            .send()
    };
    let read: serde_json::Value =
        ask("{ productsConnection(stage: DRAFT) { aggregate { count } } }")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        read["data"]["productsConnection"]["aggregate"]["count"], 0,
        "{read}"
    );
    let write: serde_json::Value = ask(r#"mutation { deleteProduct(where: { id: "x" }) { id } }"#)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        write["data"].is_null() && write["errors"].is_array(),
        "{write}"
    );

    // As a destination: a configuration error (exit 2) before any write.
    let mut dest_model = conference();
    dest_model.mutations = false;
    let source_model = conference();
    let pair = Pair::start_with(
        source_model.clone(),
        super::harness::options(&source_model, super::harness::SOURCE_TOKEN),
        super::harness::options(&dest_model, super::harness::DEST_TOKEN),
        "",
        500,
    )
    .await;
    let out = pair.run(&["sync"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no mutations"), "{stderr}");
    assert!(stderr.contains("write permission"), "{stderr}");
}

/// Models and components with nothing writable in one of their inputs: Hygraph emits `_: String`
/// in such an input (GraphQL forbids empty input types), and the emulator must start on them.
#[tokio::test(flavor = "multi_thread")]
async fn inputs_without_writable_fields_hold_an_underscore_and_the_emulator_starts() {
    use stagesync::model::{Access, Component, Field, FieldKind, Model, Relation, Scalar};
    let field = |name: &str, kind: FieldKind| Field {
        name: name.into(),
        kind,
        list: false,
        required: false,
        localized: false,
        unique: false,
        access: Access::Writable,
        embeds: Vec::new(),
    };
    let one_way_to_talk = || FieldKind::Relation(Relation::one_way(vec!["Talk".into()], None));
    let mut content = conference();
    let mut views = field(
        "views",
        FieldKind::Scalar {
            scalar: Scalar::Int,
        },
    );
    views.access = Access::ReadOnly("remote field".into());
    let mut remote_title = field(
        "remoteTitle",
        FieldKind::Scalar {
            scalar: Scalar::String,
        },
    );
    remote_title.localized = true;
    remote_title.access = Access::ReadOnly("remote field".into());
    content.models.push(Model {
        name: "Counter".into(),
        singular: "counter".into(),
        plural: "counters".into(),
        asset: None,
        fields: vec![views, remote_title],
    });
    content.models.push(Model {
        name: "Pointer".into(),
        singular: "pointer".into(),
        plural: "pointers".into(),
        asset: None,
        fields: vec![field("talk", one_way_to_talk())],
    });
    content.components.push(Component {
        name: "TalkLink".into(),
        fields: vec![field("talk", one_way_to_talk())],
    });
    let sdl = stagesync::emulator::generate_sdl(&content);
    let schema = match apollo_compiler::Schema::parse_and_validate(&sdl, "generated.graphql") {
        Ok(schema) => schema,
        Err(e) => panic!("the generated schema is invalid: {}", e.errors),
    };
    for (name, ty) in &schema.types {
        if let apollo_compiler::schema::ExtendedType::InputObject(input) = ty {
            assert!(!input.fields.is_empty(), "{name} is empty");
        }
    }
    let emulator =
        stagesync::emulator::Emulator::start(stagesync::emulator::EmulatorOptions::new(content))
            .await;
    assert!(emulator.is_ok(), "the emulator refused the model");
}

/// A model whose only unique field is optional: an entry without a value there is matched by the
/// destination id the store recorded, never by the null it shares with other such entries.
#[tokio::test(flavor = "multi_thread")]
async fn an_optional_unique_field_that_is_null_identifies_nothing() {
    let mut content = conference();
    let speaker = content
        .models
        .iter_mut()
        .find(|m| m.name == "Speaker")
        .expect("Speaker");
    let slug = speaker.fields.iter_mut().find(|f| f.name == "slug");
    slug.expect("Speaker.slug").required = false;
    let pair = Pair::start(content).await;
    for name in ["Ada", "Grace", "Edsger"] {
        let create =
            format!(r#"mutation {{ createSpeaker(data: {{ name: "{name}" }}) {{ id }} }}"#);
        pair.source_gql(&create, json!({})).await;
    }
    pair.source_gql(
        r#"mutation { createSpeaker(data: { slug: "barbara", name: "Barbara" }) { id } }"#,
        json!({}),
    )
    .await;
    let speakers = r#"query { speakers(stage: DRAFT, first: 100) { slug name } }"#;
    let sorted = |v: serde_json::Value| {
        let mut list: Vec<String> = v["speakers"]
            .as_array()
            .expect("speakers")
            .iter()
            .map(|s| format!("{}/{}", s["slug"], s["name"]))
            .collect();
        list.sort();
        list
    };

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    let src = sorted(pair.source_gql(speakers, json!({})).await);
    assert_eq!(src.len(), 4);
    assert_eq!(src, sorted(pair.dest_gql(speakers, json!({})).await));

    // An edit of one entry without a key reaches its own counterpart only.
    pair.source_gql(
        r#"mutation { updateSpeaker(where: { id: "__ID__" }, data: { name: "Grace H." }) { id } }"#
            .replace("__ID__", &speaker_id(&pair, "Grace").await)
            .as_str(),
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    let src = sorted(pair.source_gql(speakers, json!({})).await);
    assert!(src.iter().any(|s| s.ends_with("/\"Grace H.\"")), "{src:?}");
    assert_eq!(src, sorted(pair.dest_gql(speakers, json!({})).await));

    // Nothing left to write.
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(
        super::harness::writes(&pair).is_empty(),
        "{:?}",
        super::harness::writes(&pair)
    );
}

async fn speaker_id(pair: &Pair, name: &str) -> String {
    let found = pair
        .source_gql(
            r#"query($name: String) { speakers(stage: DRAFT, where: { name: $name }) { id } }"#,
            json!({ "name": name }),
        )
        .await;
    found["speakers"][0]["id"]
        .as_str()
        .expect("speaker id")
        .to_owned()
}

/// Every read stays under Hygraph's smallest query size limit (10 KB, the default of
/// `max_query_bytes`): a model whose page query would not fit (here: `Page` with 200 more
/// fields, a third of them localized) is read in parts of the same page, merged by id, and
/// syncs exactly; edits of it converge.
#[tokio::test(flavor = "multi_thread")]
async fn a_model_too_large_for_one_query_is_read_in_parts_within_the_limit() {
    const LIMIT: u64 = 10 * 1024;
    let mut content = conference();
    let page = content
        .models
        .iter_mut()
        .find(|m| m.name == "Page")
        .expect("Page");
    let template = page.field("slug").expect("Page.slug").clone();
    for i in 0..200 {
        let mut field = template.clone();
        field.name = format!("aLongDescriptiveFieldNameThatMakesThePageQueryLarger{i:03}");
        field.unique = false;
        field.required = false;
        field.localized = i % 3 == 0;
        page.fields.push(field);
    }
    // The seeder writes wide pages in large batches: the source takes any body.
    let mut source = super::harness::options(&content, super::harness::SOURCE_TOKEN);
    source.max_body_bytes = None;
    // One wide entry's write (its data and the answer it reads back) is larger than the
    // default batch: this test is about reads.
    let mut dest = super::harness::options(&content, super::harness::DEST_TOKEN);
    dest.max_body_bytes = None;
    let extra = "[batch]\nmax_bytes = 65536";
    let pair = Pair::start_with(content, source, dest, extra, 500).await;
    let _files = pair.seed_source(ProjectSpec::new(30)).await;
    pair.source.reset_stats();
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    for (side, stats) in [
        ("source", pair.source.stats()),
        ("destination", pair.dest.stats()),
    ] {
        assert!(stats.queries > 0);
        assert!(
            stats.largest_query <= LIMIT,
            "a query to the {side} of {} bytes, over {LIMIT}",
            stats.largest_query
        );
    }
    // Edits of the split model converge, and a rerun writes nothing.
    let pages = pair
        .source_gql(
            r#"query { pages(stage: DRAFT, first: 3) { id } }"#,
            json!({}),
        )
        .await;
    for page in pages["pages"].as_array().expect("pages") {
        pair.source_gql(
            r#"mutation($id: ID!) { updatePage(where: { id: $id }, data: { title: "Retitled", aLongDescriptiveFieldNameThatMakesThePageQueryLarger001: "edited" }) { id } }"#,
            json!({ "id": page["id"] }),
        )
        .await;
    }
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    assert_same_content(&pair);
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(
        super::harness::writes(&pair).is_empty(),
        "{:?}",
        super::harness::writes(&pair)
    );
    assert!(pair.dest.stats().largest_query <= LIMIT);
}
