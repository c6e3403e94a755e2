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
    // One wide entry's data is larger than the default batch; its answer's selection, too
    // wide to fit the query size limit, is not read back (each upsert is followed by an
    // update), and the documents stay under the limit.
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
    let written = pair.dest.stats();
    assert!(written.mutation_fields > 30);
    assert!(
        written.largest_mutation_document <= LIMIT,
        "a mutation document of {} bytes, over {LIMIT}",
        written.largest_mutation_document
    );
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
    assert!(pair.dest.stats().largest_mutation_document <= LIMIT);
}

/// A small blog as a hand-written model: `Post.author` is a required relation to `Author`, and
/// the `Stage` enum lists `PUBLISHED` first, as older exports do.
pub const BLOG_MODEL: &str = r#"
locales = [{ code = "en", default = true }, "de"]
stages = ["PUBLISHED", "DRAFT"]

[asset]
system = "legacy"

[[models]]
name = "Author"
fields = [
  { name = "name", type = "String", required = true, unique = true },
  { name = "posts", type = "Post", list = true, reverse = "author" },
]

[[models]]
name = "Post"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "title", type = "String", localized = true },
  { name = "author", type = "Author", required = true, reverse = "posts" },
]
"#;

pub fn blog_model() -> stagesync::model::ContentModel {
    stagesync::model::from_model_file(BLOG_MODEL, "blog.toml").expect("the blog model")
}

/// The blog's schema as real Hygraph serves it to a default token: queries default to
/// `PUBLISHED`, and the create input requires the required relation
/// (`author: AuthorCreateOneInlineInput!`).
pub fn blog_real_sdl() -> String {
    let sdl = stagesync::emulator::generate_sdl_with(
        &blog_model(),
        &stagesync::emulator::SdlOptions {
            default_stage: "PUBLISHED".into(),
            ..Default::default()
        },
    );
    // The generator requires a required relation in the create input, as Hygraph does.
    let start = sdl
        .find("input PostCreateInput {")
        .expect("PostCreateInput");
    let end = start + sdl[start..].find("\n}\n").expect("its end");
    assert!(
        sdl[start..end].contains("  author: AuthorCreateOneInlineInput!\n"),
        "{}",
        &sdl[start..end]
    );
    // Newer exports: `_in` lists take nullable items and `forceParentLocale` exists (the
    // generator writes the stage filters).
    let sdl = sdl
        .replace("id_in: [ID!]", "id_in: [ID]")
        .replace(
            "  posts(after: String, before: String, first: Int, last: Int, locales: [Locale!],",
            "  posts(after: String, before: String, first: Int, forceParentLocale: Boolean, last: Int, locales: [Locale!],",
        )
        ;
    assert!(
        sdl.contains("enum Stage {\n  PUBLISHED\n  DRAFT\n}"),
        "{sdl}"
    );
    assert!(sdl.contains("stage: Stage! = PUBLISHED"));
    sdl
}

/// One GraphQL request: the whole answer (`data` and `errors`), whatever the HTTP status.
async fn ask(emulator: &stagesync::emulator::Emulator, query: &str) -> serde_json::Value {
    reqwest::Client::new()
        .post(emulator.url())
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON answer")
}

fn errors_of(answer: &serde_json::Value) -> String {
    answer["errors"].to_string()
}

async fn real_blog(sdl: &str) -> stagesync::emulator::Emulator {
    let options = stagesync::emulator::EmulatorOptions::from_schema(sdl, "blog.graphql")
        .expect("the blog schema is served");
    stagesync::emulator::Emulator::start(options)
        .await
        .expect("the emulator starts")
}

/// Started from a real schema whose `Stage` enum lists `PUBLISHED` first, the emulator serves
/// that enum and those defaults as they are: creates land in `DRAFT`, a query without `stage`
/// reads `PUBLISHED` (as real Hygraph does for a default token), and what is not implemented
/// answers an error naming it.
#[tokio::test(flavor = "multi_thread")]
async fn a_real_schema_with_a_published_first_stage_enum_drafts_in_draft_and_reads_published() {
    let emulator = real_blog(&blog_real_sdl()).await;
    assert!(emulator
        .sdl()
        .contains("enum Stage {\n  PUBLISHED\n  DRAFT\n}"));
    let created = ask(
        &emulator,
        r#"mutation { createAuthor(data: { name: "Ann" }) { id stage } }"#,
    )
    .await;
    assert_eq!(
        created["data"]["createAuthor"]["stage"], "DRAFT",
        "{created}"
    );
    let id = created["data"]["createAuthor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let by_default = ask(&emulator, "{ authors { id } }").await;
    assert_eq!(by_default["data"]["authors"], json!([]), "{by_default}");
    let drafts = ask(&emulator, "{ authors(stage: DRAFT) { id } }").await;
    assert_eq!(drafts["data"]["authors"], json!([{ "id": id }]), "{drafts}");
    let published = ask(
        &emulator,
        &format!(
            r#"mutation {{ publishAuthor(where: {{ id: "{id}" }}, to: PUBLISHED) {{ id }} }}"#
        ),
    )
    .await;
    assert!(published["errors"].is_null(), "{published}");
    let by_default = ask(&emulator, "{ authors { id stage } }").await;
    assert_eq!(
        by_default["data"]["authors"],
        json!([{ "id": id, "stage": "PUBLISHED" }]),
        "{by_default}"
    );

    // Served but not implemented: an error naming the field, never a silent answer.
    let versions = ask(
        &emulator,
        r#"{ authorVersion(where: { id: "x", stage: DRAFT, revision: 1 }) { id } }"#,
    )
    .await;
    assert!(
        errors_of(&versions).contains("the emulator does not implement `authorVersion`"),
        "{versions}"
    );
    let filter = ask(
        &emulator,
        "{ authors(stage: DRAFT, where: { documentInStages_some: { stage: PUBLISHED } }) { id } }",
    )
    .await;
    assert_eq!(
        filter["data"]["authors"],
        json!([{ "id": id }]),
        "the published author has a PUBLISHED version: {filter}"
    );
    let filter = ask(
        &emulator,
        "{ authors(stage: DRAFT, where: { documentInStages_none: { stage: PUBLISHED } }) { id } }",
    )
    .await;
    assert_eq!(filter["data"]["authors"], json!([]), "{filter}");
    // `forceParentLocale`: the related posts in the parent's locale only.
    let localized = ask(
        &emulator,
        &format!(
            r#"mutation {{ one: createPost(data: {{ slug: "one", title: "One", author: {{ connect: {{ id: "{id}" }} }}, localizations: {{ create: [{{ locale: de, data: {{ title: "Eins" }} }}] }} }}) {{ id }} two: createPost(data: {{ slug: "two", title: "Two", author: {{ connect: {{ id: "{id}" }} }} }}) {{ id }} }}"#
        ),
    )
    .await;
    assert!(localized["errors"].is_null(), "{localized}");
    let posts = ask(
        &emulator,
        "{ authors(stage: DRAFT, locales: [de, en]) { all: posts(orderBy: slug_ASC) { slug locale } forced: posts(orderBy: slug_ASC, forceParentLocale: true) { slug title } } }",
    )
    .await;
    assert_eq!(
        posts["data"]["authors"][0],
        json!({
            "all": [{ "slug": "one", "locale": "de" }, { "slug": "two", "locale": "en" }],
            "forced": [{ "slug": "one", "title": "Eins" }],
        }),
        "{posts}"
    );
    // `_in` takes nullable items, as in the real schema.
    let in_filter = ask(
        &emulator,
        &format!(r#"{{ authors(stage: DRAFT, where: {{ id_in: [null, "{id}"] }}) {{ id }} }}"#),
    )
    .await;
    assert_eq!(
        in_filter["data"]["authors"],
        json!([{ "id": id }]),
        "{in_filter}"
    );
}

/// A required relation is enforced on create: by the served real schema itself (its create
/// input requires the field) and by the emulator's own rule on a generated schema (whose input
/// requires it too, as Hygraph's does); either way the error names the field, and a create that connects it succeeds.
#[tokio::test(flavor = "multi_thread")]
async fn a_required_relation_is_enforced_on_create() {
    let real = real_blog(&blog_real_sdl()).await;
    let generated = stagesync::emulator::Emulator::start(
        stagesync::emulator::EmulatorOptions::new(blog_model()),
    )
    .await
    .unwrap();
    assert!(generated
        .sdl()
        .contains("author: AuthorCreateOneInlineInput!"));
    for emulator in [&real, &generated] {
        let refused = ask(
            emulator,
            r#"mutation { createPost(data: { slug: "orphan", title: "Orphan" }) { id } }"#,
        )
        .await;
        assert!(refused["data"]["createPost"].is_null(), "{refused}");
        let errors = errors_of(&refused);
        assert!(
            errors.contains("author"),
            "the error names the field: {errors}"
        );
        let count = ask(
            emulator,
            "{ postsConnection(stage: DRAFT) { aggregate { count } } }",
        )
        .await;
        assert_eq!(
            count["data"]["postsConnection"]["aggregate"]["count"], 0,
            "{count}"
        );

        let author = ask(
            emulator,
            r#"mutation { createAuthor(data: { name: "Ann" }) { id } }"#,
        )
        .await;
        let author = author["data"]["createAuthor"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let post = ask(
            emulator,
            &format!(
                r#"mutation {{ createPost(data: {{ slug: "p", author: {{ connect: {{ id: "{author}" }} }} }}) {{ author {{ id }} }} }}"#
            ),
        )
        .await;
        assert_eq!(
            post["data"]["createPost"]["author"]["id"],
            author.as_str(),
            "{post}"
        );
    }
    // An input that passes validation but names no target: the emulator's own rule.
    let generated_error = ask(
        &generated,
        r#"mutation { createPost(data: { slug: "orphan", author: {} }) { id } }"#,
    )
    .await;
    assert!(
        errors_of(&generated_error).contains("required relation `author` of Post is missing"),
        "{generated_error}"
    );
}

/// A published entry whose required relation target is not published: reading it in
/// `PUBLISHED` is an error at the relation's path naming the entry, and null propagates to the
/// nearest nullable field, as a GraphQL server does — other fields of the same query are
/// answered.
#[tokio::test(flavor = "multi_thread")]
async fn an_unpublished_required_target_is_an_error_at_its_path_and_null_propagates() {
    let emulator = real_blog(&blog_real_sdl()).await;
    let author = ask(
        &emulator,
        r#"mutation { createAuthor(data: { name: "Ann" }) { id } }"#,
    )
    .await;
    let author = author["data"]["createAuthor"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = ask(
        &emulator,
        &format!(
            r#"mutation {{ createPost(data: {{ slug: "p", author: {{ connect: {{ id: "{author}" }} }} }}) {{ id }} }}"#
        ),
    )
    .await;
    let post = post["data"]["createPost"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let published = ask(
        &emulator,
        &format!(
            r#"mutation {{ publishPost(where: {{ id: "{post}" }}, to: PUBLISHED) {{ id }} }}"#
        ),
    )
    .await;
    assert!(published["errors"].is_null(), "{published}");

    let answer = ask(
        &emulator,
        &format!(
            r#"{{ bad: post(where: {{ id: "{post}" }}, stage: PUBLISHED) {{ id author {{ id }} }} fine: post(where: {{ id: "{post}" }}, stage: PUBLISHED) {{ slug }} drafts: authors(stage: DRAFT) {{ id }} }}"#
        ),
    )
    .await;
    assert!(
        answer["data"]["bad"].is_null(),
        "null propagates to `bad`: {answer}"
    );
    assert_eq!(answer["data"]["fine"]["slug"], "p", "{answer}");
    assert_eq!(
        answer["data"]["drafts"],
        json!([{ "id": author }]),
        "{answer}"
    );
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["path"], json!(["bad", "author"]), "{answer}");
    let message = errors[0]["message"].as_str().unwrap();
    for part in ["Post.author", post.as_str(), "PUBLISHED"] {
        assert!(message.contains(part), "the error names {part}: {message}");
    }

    // In a connection every level down to the relation is non-null: null reaches the root field.
    let page = ask(
        &emulator,
        "{ postsConnection(stage: PUBLISHED) { edges { node { id author { id } } } } }",
    )
    .await;
    assert!(page["data"].is_null(), "{page}");
    assert_eq!(
        page["errors"][0]["path"],
        json!(["postsConnection", "edges", 0, "node", "author"]),
        "{page}"
    );

    // Once the target is published the entry reads whole.
    ask(
        &emulator,
        &format!(
            r#"mutation {{ publishAuthor(where: {{ id: "{author}" }}, to: PUBLISHED) {{ id }} }}"#
        ),
    )
    .await;
    let healed = ask(
        &emulator,
        &format!(r#"{{ post(where: {{ id: "{post}" }}) {{ author {{ id }} }} }}"#),
    )
    .await;
    assert_eq!(
        healed["data"]["post"]["author"]["id"],
        author.as_str(),
        "{healed}"
    );
}

/// A schema exported with a read-only token, as SDL (an empty `type Mutation`) and as
/// introspection JSON (a `Mutation` type without fields, inside `{"data": ...}`): served as a
/// schema without mutations — reads answer, a mutation is refused as invalid against it.
#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_export_is_served_without_mutations_as_sdl_and_as_introspection_json() {
    let full = blog_real_sdl();
    let start = full.find("type Mutation {").expect("a Mutation type");
    let end = start + full[start..].find("\n}\n").expect("its end") + 3;
    let read_only_sdl = format!("{}type Mutation\n{}", &full[..start], &full[end..]);

    // The JSON export: the full schema's introspection with the mutation fields taken away.
    let full_emulator = real_blog(&full).await;
    let mut introspection = reqwest::Client::new()
        .post(full_emulator.url())
        .json(&json!({ "query": stagesync::model::introspection::INTROSPECTION_QUERY }))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    for ty in introspection["data"]["__schema"]["types"]
        .as_array_mut()
        .unwrap()
    {
        if ty["name"] == "Mutation" {
            ty["fields"] = json!([]);
        }
    }
    let read_only_json = introspection.to_string();

    for (form, text) in [("SDL", read_only_sdl), ("JSON", read_only_json)] {
        let options = stagesync::emulator::EmulatorOptions::from_schema(&text, form)
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        assert!(
            !options.model.mutations,
            "{form}: the model knows it cannot be written"
        );
        let emulator = stagesync::emulator::Emulator::start(options)
            .await
            .unwrap_or_else(|e| panic!("{form}: {e}"));
        let roots = ask(&emulator, "{ __schema { mutationType { name } } }").await;
        assert!(
            roots["data"]["__schema"]["mutationType"].is_null(),
            "{form}: {roots}"
        );
        let read = ask(&emulator, "{ authors(stage: DRAFT) { id } }").await;
        assert_eq!(read["data"]["authors"], json!([]), "{form}: {read}");
        let write = ask(
            &emulator,
            r#"mutation { createAuthor(data: { name: "Ann" }) { id } }"#,
        )
        .await;
        assert!(
            write["data"].is_null() && write["errors"].is_array(),
            "{form}: {write}"
        );
        assert!(
            !emulator.sdl().contains("createAuthor"),
            "{form}: no mutation field is served"
        );
    }
}

/// `verify` compares the fields stagesync does not write too (here one the API does not accept
/// writes to): a difference there is reported with the reason stagesync leaves the field
/// alone, so "match" means the two sides hold the same content, not only what the sync writes.
#[tokio::test(flavor = "multi_thread")]
async fn verify_compares_fields_the_sync_does_not_write() {
    let content = stagesync::model::from_model_file(
        r#"
locales = ["en"]
[[models]]
name = "Note"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "body", type = "String" },
  { name = "score", type = "Int", read_only = "set by a workflow" },
]
"#,
        "notes.toml",
    )
    .expect("the model");
    let pair = Pair::start(content).await;
    for slug in ["a", "b"] {
        pair.source_gql(
            &format!(r#"mutation {{ createNote(data: {{ slug: "{slug}", body: "text {slug}" }}) {{ id }} }}"#),
            json!({}),
        )
        .await;
    }
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;

    // The workflow sets `score` on one destination entry (the API cannot: a store edit).
    let mut dump = pair.dest.dump();
    let notes = dump["models"]["Note"].as_array_mut().expect("notes");
    let note = notes
        .iter_mut()
        .find(|n| n["stages"]["DRAFT"]["fields"]["slug"] == "b")
        .expect("note b");
    note["stages"]["DRAFT"]["fields"]["score"] = json!(7);
    pair.dest.load(&dump).expect("load");

    let out = pair.run(&["verify"]).await;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("field score (stagesync does not write it: not in NoteCreateInput"),
        "{text}"
    );
    assert!(text.contains("source null destination 7"), "{text}");
    assert!(text.contains("verify: 1 differences"), "{text}");
    // A sync does not (cannot) write it: verify keeps saying so, and nothing else differs.
    pair.ok(&["sync"]).await;
    let again = pair.run(&["verify"]).await;
    assert_eq!(again.status.code(), Some(4));
}
