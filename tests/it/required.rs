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
