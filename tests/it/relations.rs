//! Relations paired exactly (issue 12, item 2): a union whose members each point back with a
//! field of their own, two relations between one pair of models, and a pair nothing decides —
//! each shown on a schema built here as SDL, derived, served by two emulators and synced by the
//! real binary. The expected pairs are written in each test from the SDL it builds, never read
//! back from the derivation under test; contents are compared through both emulators' own dumps
//! and GraphQL reads of both sides.

use serde_json::{json, Value};
use stagesync::model::pairing::{FieldRef, RelationRule};
use stagesync::model::{from_sdl, ContentModel, PairedBy};

use super::harness::{assert_same_content, duplicates, Pair};

/// A Hygraph-shaped SDL for `models`: each model gets `id`, `stage`, a unique `slug` and the
/// given fields (SDL field definitions), and the create/update/where-unique inputs that make
/// them writable (the derivation reads writability from the inputs).
fn sdl(models: &[(&str, &[&str])], extra: &str) -> String {
    let mut out = String::from(
        "interface Node { id: ID! stage: Stage! }\nenum Locale { \"\"\"System locale\"\"\" en }\nenum Stage { DRAFT PUBLISHED }\n",
    );
    for (name, fields) in models {
        out.push_str(&format!(
            "type {name} implements Node {{ id: ID! stage: Stage! slug: String! {} }}\n",
            fields.join(" ")
        ));
        let names: Vec<&str> = fields
            .iter()
            .map(|f| f.split(':').next().unwrap().trim())
            .collect();
        let inputs: String = names.iter().map(|n| format!(" {n}: ID")).collect();
        out.push_str(&format!(
            "input {name}CreateInput {{ slug: String!{inputs} }}\ninput {name}UpdateInput {{ slug: String{inputs} }}\ninput {name}WhereUniqueInput {{ id: ID slug: String }}\n"
        ));
    }
    let creates: String = models
        .iter()
        .map(|(name, _)| format!(" create{name}(data: {name}CreateInput!): {name}"))
        .collect();
    out.push_str(&format!("type Mutation {{{creates} }}\n"));
    out.push_str(extra);
    out
}

fn derive(text: &str) -> ContentModel {
    from_sdl(text, "test.graphql").expect("the test schema derives")
}

/// `(reverse, how)` of `model.field` toward `target`.
fn pairing(
    content: &ContentModel,
    model: &str,
    field: &str,
    target: &str,
) -> (Option<String>, PairedBy) {
    let relation = content
        .model(model)
        .and_then(|m| m.field(field))
        .and_then(|f| f.relation())
        .unwrap_or_else(|| panic!("{model}.{field} is a relation"));
    let p = relation
        .pairing
        .iter()
        .find(|p| p.target == target)
        .unwrap_or_else(|| panic!("{model}.{field} targets {target}"));
    (p.reverse.clone(), p.by)
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

/// The slugs `model` entry `slug` holds in relation `field` (a union's members by `__typename`),
/// read through the emulator's GraphQL API, sorted.
async fn targets(
    read: impl std::future::Future<Output = Value>,
    singular: &str,
    field: &str,
) -> Vec<String> {
    let data = read.await;
    let value = &data[singular][field];
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let mut out: Vec<String> = items
        .into_iter()
        .map(|t| {
            format!(
                "{}:{}",
                t["__typename"].as_str().unwrap_or("?"),
                t["slug"].as_str().unwrap_or("?")
            )
        })
        .collect();
    out.sort();
    out
}

fn read_query(singular: &str, slug: &str, field: &str, members: &[&str]) -> String {
    let on: String = members
        .iter()
        .map(|m| format!(" ... on {m} {{ slug }}"))
        .collect();
    format!(
        r#"query {{ {singular}(where: {{ slug: "{slug}" }}, stage: DRAFT) {{ {field} {{ __typename{on} }} }} }}"#
    )
}

/// The targets of `singular(slug).field` on both sides: (source, destination).
async fn both_sides(
    pair: &Pair,
    singular: &str,
    slug: &str,
    field: &str,
    members: &[&str],
) -> (Vec<String>, Vec<String>) {
    let q = read_query(singular, slug, field, members);
    let source = targets(pair.source_gql(&q, json!({})), singular, field).await;
    let dest = targets(pair.dest_gql(&q, json!({})), singular, field).await;
    (source, dest)
}

fn page_content_schema() -> String {
    sdl(
        &[
            ("Page", &["content: [PageContent!]!"]),
            ("Article", &["pages: [Page!]!"]),
            ("Video", &["appearsOn: [Page!]!"]),
            ("Quote", &["page: Page"]),
        ],
        "union PageContent = Article | Video | Quote\n",
    )
}

/// A union relation whose members each point back with a field of their own (`Article.pages`,
/// `Video.appearsOn`, `Quote.page`): paired per member by types; the emulator shows a write on
/// either side from the other; a sync makes every member's back field in the destination equal
/// to the source's, and an edit made from a member's side syncs too.
#[tokio::test(flavor = "multi_thread")]
async fn a_union_whose_members_point_back_is_paired_per_member_and_synced_on_both_sides() {
    let content = derive(&page_content_schema());
    for (member, back) in [
        ("Article", "pages"),
        ("Video", "appearsOn"),
        ("Quote", "page"),
    ] {
        assert_eq!(
            pairing(&content, "Page", "content", member),
            (some(back), PairedBy::Types),
            "Page.content toward {member}"
        );
        assert_eq!(
            pairing(&content, member, back, "Page"),
            (some("content"), PairedBy::Types),
            "{member}.{back}"
        );
    }
    assert!(content.undecided_relations().is_empty());

    let pair = Pair::start(content).await;
    let mut create = String::from("mutation {");
    for (i, (model, slug)) in [
        ("Article", "a1"),
        ("Article", "a2"),
        ("Video", "v1"),
        ("Video", "v2"),
        ("Quote", "q1"),
        ("Quote", "q2"),
        ("Page", "p1"),
        ("Page", "p2"),
    ]
    .iter()
    .enumerate()
    {
        create.push_str(&format!(
            r#" c{i}: create{model}(data: {{ slug: "{slug}" }}) {{ id }}"#
        ));
    }
    create.push('}');
    pair.source_gql(&create, json!({})).await;
    pair.source_gql(
        r#"mutation {
            p1: updatePage(where: { slug: "p1" }, data: { content: { set: [
                { Article: { slug: "a1" } }, { Video: { slug: "v1" } }, { Quote: { slug: "q1" } } ] } }) { id }
            p2: updatePage(where: { slug: "p2" }, data: { content: { set: [
                { Quote: { slug: "q2" } }, { Video: { slug: "v1" } } ] } }) { id }
        }"#,
        json!({}),
    )
    .await;
    // Written from a member's side.
    pair.source_gql(
        r#"mutation { updateArticle(where: { slug: "a2" }, data: { pages: { set: [{ slug: "p2" }] } }) { id } }"#,
        json!({}),
    )
    .await;

    // The emulator shows each write from the other side.
    let members = ["Article", "Video", "Quote"];
    let src =
        |singular: &'static str, slug: &'static str, field: &'static str, on: Vec<&'static str>| {
            let pair = &pair;
            async move { both_sides(pair, singular, slug, field, &on).await.0 }
        };
    assert_eq!(
        src("article", "a1", "pages", vec!["Page"]).await,
        ["Page:p1"]
    );
    assert_eq!(
        src("video", "v1", "appearsOn", vec!["Page"]).await,
        ["Page:p1", "Page:p2"]
    );
    assert_eq!(src("quote", "q2", "page", vec!["Page"]).await, ["Page:p2"]);
    assert_eq!(
        src("page", "p2", "content", members.to_vec()).await,
        ["Article:a2", "Quote:q2", "Video:v1"],
        "a write from the member's side shows in the union"
    );

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    let check = |label: &'static str| {
        let pair = &pair;
        async move {
            for (singular, slug, field, on) in [
                ("page", "p1", "content", &members[..]),
                ("page", "p2", "content", &members[..]),
                ("article", "a1", "pages", &["Page"][..]),
                ("article", "a2", "pages", &["Page"][..]),
                ("video", "v1", "appearsOn", &["Page"][..]),
                ("video", "v2", "appearsOn", &["Page"][..]),
                ("quote", "q1", "page", &["Page"][..]),
                ("quote", "q2", "page", &["Page"][..]),
            ] {
                let (source, dest) = both_sides(pair, singular, slug, field, on).await;
                assert_eq!(source, dest, "{label}: {singular} {slug}.{field}");
            }
            assert_same_content(pair);
            assert!(duplicates(&pair.dest.dump()).is_empty());
        }
    };
    check("after the first sync").await;
    let (_, dest) = both_sides(&pair, "video", "v1", "appearsOn", &["Page"]).await;
    assert_eq!(
        dest,
        ["Page:p1", "Page:p2"],
        "the member's back field was written"
    );

    // Edits from a member's side, then from the union's side.
    pair.source_gql(
        r#"mutation {
            v: updateVideo(where: { slug: "v2" }, data: { appearsOn: { set: [{ slug: "p1" }] } }) { id }
            q: updateQuote(where: { slug: "q1" }, data: { page: { connect: { slug: "p2" } } }) { id }
        }"#,
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    check("after edits from the members' side").await;
    let (_, dest) = both_sides(&pair, "page", "p1", "content", &members).await;
    assert!(dest.contains(&"Video:v2".to_string()), "{dest:?}");
    assert!(!dest.contains(&"Quote:q1".to_string()), "{dest:?}");

    pair.source_gql(
        r#"mutation { updatePage(where: { slug: "p2" }, data: { content: { set: [{ Article: { slug: "a1" } }] } }) { id } }"#,
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    check("after an edit from the union's side").await;
    let (_, dest) = both_sides(&pair, "article", "a1", "pages", &["Page"]).await;
    assert_eq!(dest, ["Page:p1", "Page:p2"]);
}

fn footer_schema() -> String {
    sdl(
        &[
            (
                "Footer",
                &["socialLinks: [PageLink!]!", "legalLinks: [PageLink!]!"],
            ),
            (
                "PageLink",
                &[
                    "footerLegalLinks: [Footer!]!",
                    "footerSocialLinks: [Footer!]!",
                ],
            ),
        ],
        "",
    )
}

/// Two relations between one pair of models, told apart by Hygraph's reverse-field naming
/// (`Footer.socialLinks` ↔ `PageLink.footerSocialLinks`), synced on both sides.
#[tokio::test(flavor = "multi_thread")]
async fn two_relations_between_two_models_are_paired_by_naming_and_synced() {
    let content = derive(&footer_schema());
    for (field, back) in [
        ("socialLinks", "footerSocialLinks"),
        ("legalLinks", "footerLegalLinks"),
    ] {
        assert_eq!(
            pairing(&content, "Footer", field, "PageLink"),
            (some(back), PairedBy::Naming)
        );
        assert_eq!(
            pairing(&content, "PageLink", back, "Footer"),
            (some(field), PairedBy::Naming)
        );
    }

    let pair = Pair::start(content).await;
    pair.source_gql(
        r#"mutation {
            l1: createPageLink(data: { slug: "l1" }) { id }
            l2: createPageLink(data: { slug: "l2" }) { id }
            l3: createPageLink(data: { slug: "l3" }) { id }
            f1: createFooter(data: { slug: "f1" }) { id }
            f2: createFooter(data: { slug: "f2" }) { id }
        }"#,
        json!({}),
    )
    .await;
    pair.source_gql(
        r#"mutation {
            f1: updateFooter(where: { slug: "f1" }, data: { socialLinks: { set: [{ slug: "l1" }, { slug: "l2" }] }, legalLinks: { set: [{ slug: "l3" }] } }) { id }
            l3: updatePageLink(where: { slug: "l3" }, data: { footerSocialLinks: { set: [{ slug: "f2" }] } }) { id }
        }"#,
        json!({}),
    )
    .await;
    // In the source emulator, each side shows the other's writes, and only its own relation.
    let (l1_legal, _) = both_sides(&pair, "pageLink", "l1", "footerLegalLinks", &["Footer"]).await;
    assert!(l1_legal.is_empty(), "{l1_legal:?}");
    let (f2_social, _) = both_sides(&pair, "footer", "f2", "socialLinks", &["PageLink"]).await;
    assert_eq!(f2_social, ["PageLink:l3"]);

    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    for (singular, slug, field, on) in [
        ("footer", "f1", "socialLinks", "PageLink"),
        ("footer", "f1", "legalLinks", "PageLink"),
        ("footer", "f2", "socialLinks", "PageLink"),
        ("pageLink", "l1", "footerSocialLinks", "Footer"),
        ("pageLink", "l3", "footerLegalLinks", "Footer"),
        ("pageLink", "l3", "footerSocialLinks", "Footer"),
    ] {
        let (source, dest) = both_sides(&pair, singular, slug, field, &[on]).await;
        assert_eq!(source, dest, "{singular} {slug}.{field}");
        assert!(!dest.is_empty(), "{singular} {slug}.{field} is empty");
    }
    assert_same_content(&pair);
}

/// The bond starter (a real export): `Block.asset` / `Block.preview` ↔ `Asset.relatedBlock` /
/// `Asset.previewBlock` and its `Union_<field>_<reverse>` unions whose members point back.
#[test]
fn the_bond_fixture_pairs_its_two_asset_relations_and_its_unions() {
    let Some(dir) = super::common::fixtures_dir() else {
        return;
    };
    let path = dir.join("hygraph/bond-graphcms-starter.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let content = stagesync::model::from_introspection(&json, "bond").unwrap();
    assert_eq!(
        pairing(&content, "Block", "preview", "Asset"),
        (some("previewBlock"), PairedBy::Naming)
    );
    assert_eq!(
        pairing(&content, "Block", "asset", "Asset"),
        (some("relatedBlock"), PairedBy::Naming),
        "paired once `preview` is: one field each way is left"
    );
    assert_eq!(
        pairing(&content, "Asset", "relatedBlock", "Block"),
        (some("asset"), PairedBy::Naming)
    );
    for member in ["Block", "Person", "Team"] {
        assert_eq!(
            pairing(&content, "Collection", "blocks", member),
            (some("relatedCollection"), PairedBy::Types)
        );
        assert_eq!(
            pairing(&content, "Page", "blocks", member),
            (some("relatedPage"), PairedBy::Types)
        );
    }
    assert_eq!(
        pairing(&content, "Collection", "blocks", "Collection"),
        (some("relatedCollection"), PairedBy::Naming),
        "a self-relation pairs only by name: Union_blocks_relatedCollection"
    );
    for member in ["Page", "Person"] {
        assert_eq!(
            pairing(&content, "Link", "internalLink", member),
            (some("relatedLink"), PairedBy::Types)
        );
    }
    assert_eq!(
        pairing(&content, "Team", "people", "Person"),
        (None, PairedBy::OneWay)
    );
    assert!(content.undecided_relations().is_empty());
}

fn writer_schema() -> String {
    sdl(
        &[
            ("Post", &["writer: Person", "editor: Person"]),
            ("Person", &["written: [Post!]!", "edited: [Post!]!"]),
        ],
        "",
    )
}

fn rule(a: &str, b: &str) -> RelationRule {
    RelationRule::Pair(FieldRef::parse(a).unwrap(), FieldRef::parse(b).unwrap())
}

async fn schema_command(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let out = tokio::process::Command::new(super::common::stagesync_bin())
        .arg("schema")
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .expect("stagesync runs");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Two relations between two models that neither types nor names tell apart: `stagesync schema`
/// (the real binary) shows them undecided and warns with the `[relations]` entry to add; with the
/// entry they are paired by config. Synced without the entry against emulators that do pair them
/// (as Hygraph would), both sides are written and verified, and the destination equals the
/// source; with the entry, the same.
#[tokio::test(flavor = "multi_thread")]
async fn an_undecided_pair_is_shown_synced_from_both_sides_and_fixed_by_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.graphql"), writer_schema()).unwrap();

    let out = schema_command(dir.path(), &["schema.graphql"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Rows of the relations tables (the fields tables show `relation → Target` instead).
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")) && !l.contains("relation →"))
            .unwrap_or_default()
            .to_owned()
    };
    for name in ["writer", "editor", "written", "edited"] {
        let line = row(name);
        assert!(
            line.trim_end().ends_with("undecided"),
            "{name}: {line:?}\n{stdout}"
        );
    }
    assert!(
        stderr.contains("warning: Post.writer → Person: undecided")
            && stderr.contains("[relations] \"Post.writer\" = \"Person.")
            && stderr.contains("--config"),
        "{stderr}"
    );

    std::fs::write(
        dir.path().join("stagesync.toml"),
        "[source]\nurl = \"http://127.0.0.1:1/\"\ntoken_env = \"STAGESYNC_UNSET_FOR_THIS_TEST\"\n[destination]\nurl = \"http://127.0.0.1:2/\"\n[relations]\n\"Post.writer\" = \"Person.written\"\n",
    )
    .unwrap();
    let out = schema_command(
        dir.path(),
        &["schema.graphql", "--config", "stagesync.toml"],
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(!stdout.contains("undecided"), "{stdout}");
    let out = schema_command(
        dir.path(),
        &["schema.graphql", "--config", "stagesync.toml", "--json"],
    )
    .await;
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let json = super::common::unversioned(json);
    let post = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Post")
        .unwrap();
    let writer = post["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "writer")
        .unwrap();
    assert_eq!(writer["kind"]["reverse"], "written", "{writer}");
    assert_eq!(
        writer["kind"]["pairing"],
        json!([{ "target": "Person", "reverse": "written", "by": "config" }])
    );
    let editor = post["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "editor")
        .unwrap();
    assert_eq!(
        editor["kind"]["reverse"], "edited",
        "the rest follows: {editor}"
    );

    // Emulators that pair the fields, as the real project does; the engine cannot tell.
    let mut served = derive(&writer_schema());
    served
        .apply_relations(&[rule("Post.writer", "Person.written")])
        .unwrap();
    assert_eq!(
        pairing(&served, "Post", "editor", "Person"),
        (some("edited"), PairedBy::Config)
    );
    let pair = Pair::start(served).await;
    pair.source_gql(
        r#"mutation {
            a: createPerson(data: { slug: "ada" }) { id }
            b: createPerson(data: { slug: "bob" }) { id }
            c: createPerson(data: { slug: "cy" }) { id }
            p1: createPost(data: { slug: "p1" }) { id }
            p2: createPost(data: { slug: "p2" }) { id }
            p3: createPost(data: { slug: "p3" }) { id }
        }"#,
        json!({}),
    )
    .await;
    pair.source_gql(
        r#"mutation {
            p1: updatePost(where: { slug: "p1" }, data: { writer: { connect: { slug: "ada" } }, editor: { connect: { slug: "bob" } } }) { id }
            p2: updatePost(where: { slug: "p2" }, data: { writer: { connect: { slug: "bob" } } }) { id }
            c: updatePerson(where: { slug: "cy" }, data: { edited: { set: [{ slug: "p2" }, { slug: "p3" }] } }) { id }
        }"#,
        json!({}),
    )
    .await;
    let check = |label: &'static str| {
        let pair = &pair;
        async move {
            for (singular, slug, field, on) in [
                ("post", "p1", "writer", "Person"),
                ("post", "p1", "editor", "Person"),
                ("post", "p2", "writer", "Person"),
                ("post", "p2", "editor", "Person"),
                ("post", "p3", "editor", "Person"),
                ("person", "ada", "written", "Post"),
                ("person", "bob", "written", "Post"),
                ("person", "bob", "edited", "Post"),
                ("person", "cy", "edited", "Post"),
            ] {
                let (source, dest) = both_sides(pair, singular, slug, field, &[on]).await;
                assert_eq!(source, dest, "{label}: {singular} {slug}.{field}");
            }
            assert_same_content(pair);
        }
    };
    let out = pair.ok(&["sync"]).await;
    let log = super::common::strip_ansi(&String::from_utf8_lossy(&out.stderr));
    assert!(
        log.contains("relation Post.writer → Person is undecided") && log.contains("[relations]"),
        "the run does not warn about the undecided relation:\n{log}"
    );
    pair.verify_passes().await;
    check("undecided, first sync").await;
    let (_, dest) = both_sides(&pair, "person", "cy", "edited", &["Post"]).await;
    assert_eq!(dest, ["Post:p2", "Post:p3"]);

    // A write on one side only, in the source: the other side follows in the destination.
    pair.source_gql(
        r#"mutation { updatePost(where: { slug: "p3" }, data: { writer: { connect: { slug: "ada" } } }) { id } }"#,
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    check("undecided, after an edit").await;
    let (_, dest) = both_sides(&pair, "person", "ada", "written", &["Post"]).await;
    assert_eq!(dest, ["Post:p1", "Post:p3"]);

    // Drift on the side that the engine would not write if it had paired the relation: verify
    // reads it and reports it.
    pair.dest_gql(
        r#"mutation { updatePerson(where: { slug: "cy" }, data: { edited: { set: [{ slug: "p3" }] } }) { id } }"#,
        json!({}),
    )
    .await;
    let out = pair.run(&["verify"]).await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "verify missed a difference on one side of an undecided pair:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    pair.ok(&["sync", "--repair"]).await;
    pair.verify_passes().await;
    check("undecided, repaired").await;

    // With the [relations] entry: paired, and the sync still converges.
    let config = std::fs::read_to_string(&pair.config).unwrap();
    std::fs::write(
        &pair.config,
        format!("{config}[relations]\n\"Post.writer\" = \"Person.written\"\n"),
    )
    .unwrap();
    pair.source_gql(
        r#"mutation { updatePerson(where: { slug: "bob" }, data: { written: { set: [{ slug: "p2" }, { slug: "p3" }] } }) { id } }"#,
        json!({}),
    )
    .await;
    pair.ok(&["sync"]).await;
    pair.verify_passes().await;
    check("paired by config").await;
}

/// A `[relations]` entry naming a model or field the schema lacks is a configuration error:
/// exit 2, the name in the message, nothing written.
#[tokio::test(flavor = "multi_thread")]
async fn relations_naming_what_the_schema_lacks_exit_2() {
    let content = derive(&writer_schema());
    let pair = Pair::start_configured(
        content,
        "[relations]\n\"Post.wrter\" = \"Person.written\"\n\"Pots.editor\" = \"one-way\"\n",
        500,
    )
    .await;
    pair.source_gql(
        r#"mutation { createPerson(data: { slug: "ada" }) { id } }"#,
        json!({}),
    )
    .await;
    for command in [&["sync"][..], &["verify"][..], &["plan"][..]] {
        pair.dest.reset_stats();
        let out = pair.run(command).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains("`Post.wrter`") && stderr.contains("has no field `wrter`"),
            "{command:?}: {stderr}"
        );
        assert!(stderr.contains("no model `Pots`"), "{command:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert_eq!(pair.dest_mutation_count(), 0, "{command:?} wrote");
    }

    // `schema --config` alike; and a key that is not `Model.field` at all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.graphql"), writer_schema()).unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[relations]\n\"Post.writer\" = \"Persn.written\"\n",
    )
    .unwrap();
    let out = schema_command(dir.path(), &["schema.graphql", "--config", "bad.toml"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no model `Persn`"), "{stderr}");
    std::fs::write(
        dir.path().join("bad.toml"),
        "[relations]\n\"writer\" = \"Person.written\"\n",
    )
    .unwrap();
    let out = schema_command(dir.path(), &["schema.graphql", "--config", "bad.toml"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`writer` is not `Model.field`"), "{stderr}");
}

/// `verify` reads every relation from both sides. Here the destination pairs nothing (its
/// `Event.talks` and `Talk.event` are two one-way relations, as a derivation bug would make
/// them): the sync writes `Event.talks`, `Talk.event` stays empty there, and verify says so —
/// seen from the side the sync does not write. (It used to compare only what the sync writes,
/// and said "match".)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_sees_a_relation_from_the_side_the_sync_does_not_write() {
    use stagesync::model::{FieldKind, Relation};
    let content = super::harness::conference();
    let mut unpaired = content.clone();
    for model in &mut unpaired.models {
        for field in &mut model.fields {
            let end = (model.name.as_str(), field.name.as_str());
            if end == ("Event", "talks") || end == ("Talk", "event") {
                if let FieldKind::Relation(r) = &mut field.kind {
                    *r = Relation::one_way(r.targets.clone(), r.union.clone());
                }
            }
        }
    }
    let source = super::harness::options(&content, super::harness::SOURCE_TOKEN);
    let dest = super::harness::options(&unpaired, super::harness::DEST_TOKEN);
    let pair = Pair::start_with(content, source, dest, "", 500).await;
    let _files = pair
        .seed_source(stagesync::demo::project::ProjectSpec::new(30))
        .await;
    pair.ok(&["sync"]).await;
    let verify = pair.run(&["verify"]).await;
    let out = String::from_utf8_lossy(&verify.stdout);
    assert_eq!(verify.status.code(), Some(4), "{out}");
    assert!(
        out.contains("relation event (seen from this side)"),
        "the difference is named from Talk's side: {out}"
    );
}
