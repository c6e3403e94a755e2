//! Required relations (issue: every real Hygraph project): a create must connect them, so their
//! targets are written first; a cycle of them is a configuration error; a published entry whose
//! required target is not published cannot be read in `PUBLISHED`, and fails alone.

use serde_json::{json, Value};
use stagesync::emulator::EmulatorOptions;

use super::harness::{json_diff, normalized_dump, writes, Pair, DEST_TOKEN, SOURCE_TOKEN};
use super::schema_classes::{blog_model, blog_real_sdl};

/// Both emulators serve the blog's real schema, whose `PostCreateInput` requires `author`.
async fn blog_pair() -> Pair {
    let sdl = blog_real_sdl();
    let options = |token: &str| {
        let mut o = EmulatorOptions::from_schema(&sdl, "blog.graphql").expect("the blog schema");
        o.token = Some(token.to_owned());
        o
    };
    Pair::start_with(
        blog_model(),
        options(SOURCE_TOKEN),
        options(DEST_TOKEN),
        "",
        500,
    )
    .await
}

/// A dump keyed for comparison: authors have no `slug`, their unique `name` identifies them.
fn blog_dump(dump: &Value) -> Value {
    let mut dump = dump.clone();
    for author in dump["models"]["Author"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        for version in author["stages"]
            .as_object_mut()
            .into_iter()
            .flat_map(|s| s.values_mut())
        {
            let name = version["fields"]["name"].clone();
            version["fields"]["slug"] = name;
        }
    }
    normalized_dump(&dump)
}

fn assert_same_blog(pair: &Pair) {
    let diff = json_diff(
        &blog_dump(&pair.source.dump()),
        &blog_dump(&pair.dest.dump()),
    );
    assert!(
        diff.is_empty(),
        "source and destination differ:\n{}",
        diff.join("\n")
    );
}

async fn create_author(pair: &Pair, name: &str, publish: bool) -> String {
    let created = pair
        .source_gql(
            "mutation($name: String!) { createAuthor(data: { name: $name }) { id } }",
            json!({ "name": name }),
        )
        .await;
    let id = created["createAuthor"]["id"].as_str().unwrap().to_owned();
    if publish {
        set_published(pair, "Author", &id, true).await;
    }
    id
}

async fn create_post(pair: &Pair, slug: &str, author: &str, publish: bool) -> String {
    let created = pair
        .source_gql(
            "mutation($slug: String!, $title: String!, $author: ID!) { createPost(data: { slug: $slug, title: $title, author: { connect: { id: $author } }, localizations: { create: [{ locale: de, data: { title: \"Titel\" } }] } }) { id } }",
            json!({ "slug": slug, "title": format!("Post {slug}"), "author": author }),
        )
        .await;
    let id = created["createPost"]["id"].as_str().unwrap().to_owned();
    if publish {
        set_published(pair, "Post", &id, true).await;
    }
    id
}

async fn set_published(pair: &Pair, model: &str, id: &str, published: bool) {
    let mutation = if published {
        format!(
            "mutation($id: ID!) {{ publish{model}(where: {{ id: $id }}, to: PUBLISHED) {{ id }} }}"
        )
    } else {
        format!(
            "mutation($id: ID!) {{ unpublish{model}(where: {{ id: $id }}, from: PUBLISHED) {{ id }} }}"
        )
    };
    pair.source_gql(&mutation, json!({ "id": id })).await;
}

/// Each post's author by name, read from the destination's own API in `stage` (slug → name).
async fn dest_authors(pair: &Pair, stage: &str) -> Vec<(String, String)> {
    let data = pair
        .dest_gql(
            &format!("{{ posts(stage: {stage}, first: 100, orderBy: slug_ASC) {{ slug author {{ name }} }} }}"),
            json!({}),
        )
        .await;
    data["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["slug"].as_str().unwrap().to_owned(),
                p["author"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn output_text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A model whose create input requires a relation (`Post.author`, `AuthorCreateOneInlineInput!`)
/// syncs between two projects serving that schema: authors are written first, each post is
/// created connected to its author's destination id, and a changed author moves in the
/// destination like any relation.
#[tokio::test(flavor = "multi_thread")]
async fn a_required_relation_is_connected_in_the_create_after_its_target() {
    let pair = blog_pair().await;
    let ann = create_author(&pair, "Ann", true).await;
    let bob = create_author(&pair, "Bob", false).await;
    let one = create_post(&pair, "one", &ann, true).await;
    create_post(&pair, "two", &bob, false).await;
    create_post(&pair, "three", &ann, false).await;

    let out = pair.ok(&["sync", "--json"]).await;
    let report: Value = serde_json::from_slice(&out.stdout).expect("the JSON report");
    let count = |model: &str, what: &str| {
        report["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["model"] == model)
            .map(|m| m[what].clone())
            .unwrap_or(Value::Null)
    };
    // Each created with its author connected counts as created, not as an adopted entry.
    assert_eq!(count("Post", "created"), 3, "{report}");
    assert_eq!(count("Author", "created"), 2, "{report}");
    assert_eq!(
        dest_authors(&pair, "DRAFT").await,
        pairs(&[("one", "Ann"), ("three", "Ann"), ("two", "Bob")])
    );
    assert_eq!(
        dest_authors(&pair, "PUBLISHED").await,
        pairs(&[("one", "Ann")])
    );
    pair.verify_passes().await;
    assert_same_blog(&pair);

    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(
        writes(&pair).is_empty(),
        "a no-op rerun writes nothing: {:?}",
        writes(&pair)
    );

    // The required target changes in the source: it moves in the destination.
    pair.source_gql(
        "mutation($id: ID!, $author: ID!) { updatePost(where: { id: $id }, data: { author: { connect: { id: $author } } }) { id } }",
        json!({ "id": one, "author": bob }),
    )
    .await;
    set_published(&pair, "Author", &bob, true).await;
    set_published(&pair, "Post", &one, true).await;
    pair.ok(&["sync"]).await;
    assert_eq!(
        dest_authors(&pair, "DRAFT").await,
        pairs(&[("one", "Bob"), ("three", "Ann"), ("two", "Bob")])
    );
    assert_eq!(
        dest_authors(&pair, "PUBLISHED").await,
        pairs(&[("one", "Bob")])
    );
    pair.verify_passes().await;
    assert_same_blog(&pair);
}

/// Required relations that form a cycle can never be created: `sync` refuses with a
/// configuration error naming the cycle, before writing anything.
#[tokio::test(flavor = "multi_thread")]
async fn a_cycle_of_required_relations_is_a_configuration_error_naming_it() {
    let model = stagesync::model::from_model_file(
        r#"
locales = [{ code = "en", default = true }]
[[models]]
name = "Person"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "team", type = "Team", required = true },
]
[[models]]
name = "Team"
fields = [
  { name = "slug", type = "String", required = true, unique = true },
  { name = "lead", type = "Person", required = true },
]
"#,
        "cycle.toml",
    )
    .expect("the model");
    // As real Hygraph serves it: the create inputs require both relations.
    let sdl = stagesync::emulator::generate_sdl_with(&model, &Default::default());
    let sdl = sdl
        .replace(
            "  team: TeamCreateOneInlineInput\n",
            "  team: TeamCreateOneInlineInput!\n",
        )
        .replace(
            "  lead: PersonCreateOneInlineInput\n",
            "  lead: PersonCreateOneInlineInput!\n",
        );
    assert!(
        sdl.contains("TeamCreateOneInlineInput!") && sdl.contains("PersonCreateOneInlineInput!")
    );
    let options = |token: &str| {
        let mut o = EmulatorOptions::from_schema(&sdl, "cycle.graphql").expect("the schema");
        o.token = Some(token.to_owned());
        o
    };
    let pair = Pair::start_with(
        model.clone(),
        options(SOURCE_TOKEN),
        options(DEST_TOKEN),
        "",
        500,
    )
    .await;
    let out = pair.run(&["sync"]).await;
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    for part in ["Person.team → Team", "Team.lead → Person", "optional"] {
        assert!(text.contains(part), "the error names {part}: {text}");
    }
    assert_eq!(pair.dest_mutation_count(), 0, "nothing was written");
}

/// `sync --json`: the exit code, and the report.
async fn sync_json(pair: &Pair) -> (Option<i32>, Value) {
    let out = pair.run(&["sync", "--json"]).await;
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("a JSON report ({e}): {}", output_text(&out)));
    (out.status.code(), report)
}

/// The run's failures as (model, id, phase), sorted, each message checked to name `author`.
fn failures(report: &Value) -> Vec<(String, String, String)> {
    let mut list: Vec<(String, String, String)> = report["failures"]
        .as_array()
        .expect("failures")
        .iter()
        .map(|f| {
            let message = f["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("`author`"),
                "the failure names the field: {f}"
            );
            (
                f["model"].as_str().unwrap().to_owned(),
                f["id"].as_str().unwrap().to_owned(),
                f["phase"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

/// The posts the destination holds in its draft, by slug (its own API, not the store).
async fn dest_posts(pair: &Pair) -> Vec<String> {
    dest_authors(pair, "DRAFT")
        .await
        .into_iter()
        .map(|(slug, _)| slug)
        .collect()
}

/// A published post whose required author is not published cannot be read in `PUBLISHED` (null
/// propagation nulls its page): it fails alone, named with its field, while every other post
/// syncs and nothing is deleted; `verify` reports it. A post that becomes unreadable after it
/// was synced stays in the destination. Once the authors are published the next run writes
/// exactly those entries — the models' fingerprints were saved although entries failed, so no
/// model is rewritten whole — and both sides match.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_whose_required_target_is_unpublished_fails_alone_and_syncs_once_published() {
    let pair = blog_pair().await;
    let ann = create_author(&pair, "Ann", true).await;
    let bea = create_author(&pair, "Bea", true).await;
    let ghost = create_author(&pair, "Ghost", false).await;
    create_post(&pair, "one", &ann, true).await;
    create_post(&pair, "two", &ann, true).await;
    create_post(&pair, "draft", &ann, false).await;
    let kept = create_post(&pair, "kept", &bea, true).await;
    let bad = create_post(&pair, "bad", &ghost, true).await;

    let (code, report) = sync_json(&pair).await;
    assert_eq!(code, Some(3), "completed with a failed entry: {report}");
    assert_eq!(
        failures(&report),
        [("Post".to_owned(), bad.clone(), "read".to_owned())],
        "{report}"
    );
    assert_eq!(dest_posts(&pair).await, ["draft", "kept", "one", "two"]);
    assert_eq!(
        dest_authors(&pair, "PUBLISHED").await,
        pairs(&[("kept", "Bea"), ("one", "Ann"), ("two", "Ann")])
    );
    let out = pair.run(&["verify"]).await;
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains(&bad) && text.contains("author"),
        "verify names the entry and its field: {text}"
    );

    // A synced post becomes unreadable: a failure of the run, not a deletion.
    set_published(&pair, "Author", &bea, false).await;
    pair.dest.reset_stats();
    let (code, report) = sync_json(&pair).await;
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(
        failures(&report),
        {
            let mut expected = [
                ("Post".to_owned(), bad.clone(), "read".to_owned()),
                ("Post".to_owned(), kept.clone(), "read".to_owned()),
            ];
            expected.sort();
            expected
        },
        "{report}"
    );
    assert_eq!(
        writes(&pair),
        [("unpublishAuthor".to_owned(), 1)].into_iter().collect(),
        "nothing deleted, nothing rewritten"
    );
    assert_eq!(dest_posts(&pair).await, ["draft", "kept", "one", "two"]);

    // Fixed in the source: the next run writes those entries only, and exits 0.
    set_published(&pair, "Author", &ghost, true).await;
    set_published(&pair, "Author", &bea, true).await;
    pair.dest.reset_stats();
    let (code, report) = sync_json(&pair).await;
    assert_eq!(code, Some(0), "{report}");
    // The post: created with its author, its relation written, its published version (the
    // default locale's, as published in the source) published, then its draft (with `de`).
    assert_eq!(
        writes(&pair),
        [
            ("publishAuthor".to_owned(), 2),
            ("upsertPost".to_owned(), 1),
            ("updatePost".to_owned(), 2),
            ("publishPost".to_owned(), 1),
        ]
        .into_iter()
        .collect(),
        "the run wrote the authors' publication and the post that failed, nothing else: {report}"
    );
    assert_eq!(
        dest_authors(&pair, "PUBLISHED").await,
        pairs(&[
            ("bad", "Ghost"),
            ("kept", "Bea"),
            ("one", "Ann"),
            ("two", "Ann")
        ])
    );
    pair.verify_passes().await;
    assert_same_blog(&pair);
    pair.dest.reset_stats();
    pair.ok(&["sync"]).await;
    assert!(writes(&pair).is_empty(), "{:?}", writes(&pair));
}

/// A page whose every entry fails alike is not one entry's fault: the read fails as a whole
/// (exit 1, naming the model), and nothing is written.
#[tokio::test(flavor = "multi_thread")]
async fn a_page_whose_every_entry_fails_alike_fails_the_read() {
    let pair = blog_pair().await;
    let ghost = create_author(&pair, "Ghost", false).await;
    let gail = create_author(&pair, "Gail", false).await;
    create_post(&pair, "one", &ghost, true).await;
    create_post(&pair, "two", &gail, true).await;
    let out = pair.run(&["sync"]).await;
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("reading Post failed"), "{text}");
    assert_eq!(pair.dest_mutation_count(), 0, "nothing was written");
}

/// A required target whose own write failed (too large for the destination's request limit):
/// its dependents fail alone, each naming the relation and the target; every other entry syncs.
#[tokio::test(flavor = "multi_thread")]
async fn an_entry_whose_required_target_failed_fails_alone_naming_it() {
    let sdl = blog_real_sdl();
    let options = |token: &str, limit: Option<usize>| {
        let mut o = EmulatorOptions::from_schema(&sdl, "blog.graphql").expect("the blog schema");
        o.token = Some(token.to_owned());
        o.max_body_bytes = limit;
        o
    };
    let pair = Pair::start_with(
        blog_model(),
        options(SOURCE_TOKEN, None),
        options(DEST_TOKEN, Some(16 * 1024)),
        "",
        500,
    )
    .await;
    let ann = create_author(&pair, "Ann", false).await;
    let huge = create_author(&pair, &"H".repeat(20 * 1024), false).await;
    create_post(&pair, "one", &ann, false).await;
    let orphan = create_post(&pair, "orphan", &huge, false).await;

    let (code, report) = sync_json(&pair).await;
    assert_eq!(code, Some(3), "{report}");
    let list = report["failures"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{report}");
    let post = list
        .iter()
        .find(|f| f["id"] == orphan.as_str())
        .unwrap_or_else(|| panic!("the orphan failed: {report}"));
    let message = post["message"].as_str().unwrap();
    for part in ["Post.author", "required", &format!("Author {huge}")] {
        assert!(
            message.contains(part),
            "the failure names {part}: {message}"
        );
    }
    assert!(list.iter().any(|f| f["id"] == huge.as_str()), "{report}");
    assert_eq!(dest_posts(&pair).await, ["one"]);
}
