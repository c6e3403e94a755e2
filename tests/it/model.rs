//! Integration tests: the content model derived from the real Hygraph schema (SDL and
//! introspection), the conference model file, malformed inputs, and `stagesync schema`.

use std::process::Command;

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use stagesync::model::{
    self, introspection::INTROSPECTION_QUERY, Access, AssetSystem, Cardinality, ContentModel,
    FieldKind, Scalar,
};

use crate::common;

fn houdini() -> Option<ContentModel> {
    let sdl = common::houdini_sdl()?;
    Some(model::from_sdl(&sdl, "with-houdini.graphql").expect("the real schema derives"))
}

/// The introspection answer for `sdl`, as a Content API endpoint would send it.
fn introspect(sdl: &str) -> serde_json::Value {
    let schema = match Schema::parse_and_validate(sdl, "schema.graphql") {
        Ok(valid) => valid,
        // The export has quirks a strict validator flags; introspection does not care.
        Err(with_errors) => Valid::assume_valid(with_errors.partial),
    };
    let document =
        ExecutableDocument::parse_and_validate(&schema, INTROSPECTION_QUERY, "q.graphql")
            .expect("the standard introspection query is valid");
    let operation = document.operations.get(None).expect("one operation");
    let response = apollo_compiler::introspection::partial_execute(
        &schema,
        &schema.implementers_map(),
        &document,
        operation,
        Valid::assume_valid_ref(&Default::default()),
    )
    .expect("introspection executes");
    serde_json::to_value(&response).expect("response serializes")
}

fn field_names(model: &model::Model) -> Vec<&str> {
    model.fields.iter().map(|f| f.name.as_str()).collect()
}

#[test]
fn houdini_schema_yields_exactly_its_content_models() {
    let Some(content) = houdini() else { return };

    let names: Vec<&str> = content.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["Asset", "NextAuthUser", "Product", "Review", "Vote"],
        "no system model (User, ScheduledOperation, ScheduledRelease) among the models"
    );
    assert_eq!(content.locales, ["en", "de"]);
    assert_eq!(content.default_locale, "en");
    assert_eq!(content.stages, ["DRAFT", "PUBLISHED"]);
    assert!(content.components.is_empty());
    assert!(content.enumerations.is_empty());

    let product = content.model("Product").unwrap();
    assert_eq!(
        (product.singular.as_str(), product.plural.as_str()),
        ("product", "products")
    );
    assert_eq!(product.connection(), "productsConnection");
    assert_eq!(
        field_names(product),
        [
            "content",
            "description",
            "image",
            "name",
            "price",
            "reviews",
            "slug",
            "votes"
        ]
    );
    let name = product.field("name").unwrap();
    assert!(name.localized && name.required && !name.unique);
    assert_eq!(
        name.kind,
        FieldKind::Scalar {
            scalar: Scalar::String
        }
    );
    let slug = product.field("slug").unwrap();
    assert!(slug.unique && slug.required && !slug.localized);
    let price = product.field("price").unwrap();
    assert_eq!(
        price.kind,
        FieldKind::Scalar {
            scalar: Scalar::Int
        }
    );
    assert!(price.required);
    assert_eq!(
        product.field("content").unwrap().kind,
        FieldKind::Scalar {
            scalar: Scalar::RichText
        }
    );
    assert!(!product.field("description").unwrap().required);
    assert!(product.fields.iter().all(|f| f.access == Access::Writable));
    assert_eq!(
        product
            .unique_fields()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["slug"]
    );

    let reviews = product.field("reviews").unwrap();
    let relation = reviews.relation().unwrap();
    assert!(reviews.list);
    assert_eq!(relation.targets, ["Review"]);
    assert_eq!(relation.reverse(), Some("product"));
    assert_eq!(relation.cardinality, Cardinality::OneToMany);
    let votes = product.field("votes").unwrap().relation().unwrap();
    assert_eq!(
        (votes.reverse(), votes.cardinality),
        (Some("product"), Cardinality::OneToMany)
    );

    let image = product.field("image").unwrap();
    assert!(!image.list);
    let image = image.relation().unwrap();
    assert_eq!(image.targets, ["Asset"]);
    assert_eq!(image.reverse(), Some("productImage"));
    assert_eq!(image.cardinality, Cardinality::ManyToOne);

    let review = content.model("Review").unwrap();
    assert_eq!(field_names(review), ["comment", "name", "product"]);
    assert!(review.field("comment").unwrap().required);
    let back = review.field("product").unwrap().relation().unwrap();
    assert_eq!(back.targets, ["Product"]);
    assert_eq!(back.reverse(), Some("reviews"));
    assert_eq!(back.cardinality, Cardinality::ManyToOne);
    assert!(!review.has_localized_fields());

    let vote = content.model("Vote").unwrap();
    assert_eq!(field_names(vote), ["product"]);
    assert_eq!(
        vote.field("product").unwrap().relation().unwrap().reverse(),
        Some("votes")
    );

    let user = content.model("NextAuthUser").unwrap();
    assert_eq!(
        field_names(user),
        ["auth0Id", "bio", "email", "name", "password"]
    );
    assert_eq!(
        user.unique_fields()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["auth0Id", "email"]
    );
    assert!(user.field("email").unwrap().required && user.field("password").unwrap().required);
    assert!(!user.field("auth0Id").unwrap().required);
    assert_eq!(
        (user.singular.as_str(), user.plural.as_str()),
        ("nextAuthUser", "nextAuthUsers")
    );

    let asset = content.asset_model().unwrap();
    assert_eq!(asset.name, "Asset");
    assert_eq!(asset.asset, Some(AssetSystem::Legacy));
    assert_eq!(
        field_names(asset),
        [
            "fileName",
            "handle",
            "height",
            "mimeType",
            "productImage",
            "size",
            "width"
        ]
    );
    assert!(asset.field("handle").unwrap().required && asset.field("fileName").unwrap().localized);
    let product_image = asset.field("productImage").unwrap();
    assert!(product_image.list);
    let product_image = product_image.relation().unwrap();
    assert_eq!(product_image.reverse(), Some("image"));
    assert_eq!(product_image.cardinality, Cardinality::OneToMany);
}

#[test]
fn introspection_of_houdini_yields_the_same_model() {
    let Some(sdl) = common::houdini_sdl() else {
        return;
    };
    let from_sdl = model::from_sdl(&sdl, "with-houdini.graphql").unwrap();
    let answer = introspect(&sdl);
    assert!(answer["data"]["__schema"]["types"].is_array(), "{answer:#}");

    let wrapped = model::from_introspection(&answer, "introspection.json").unwrap();
    assert_eq!(wrapped, from_sdl);
    let bare = model::from_introspection(&answer["data"], "introspection.json").unwrap();
    assert_eq!(bare, from_sdl);
}

fn conference() -> ContentModel {
    let path = common::project_fixture("conference.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    model::from_model_file(&text, "conference.toml").expect("the conference model loads")
}

#[test]
fn conference_model_file_loads_with_its_relations() {
    let content = conference();
    let names: Vec<&str> = content.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["Asset", "Conference", "Event", "Page", "Speaker", "Talk"]
    );
    assert_eq!(content.locales, ["en", "de"]);
    assert_eq!(content.default_locale, "en");
    assert_eq!(content.stages, ["DRAFT", "PUBLISHED"]);
    assert_eq!(content.enumerations.len(), 1);
    assert_eq!(content.enumerations[0].name, "TalkLevel");
    assert_eq!(
        content.enumerations[0].values,
        ["BEGINNER", "INTERMEDIATE", "ADVANCED"]
    );

    for m in content.models.iter().filter(|m| m.asset.is_none()) {
        let slug = m
            .field("slug")
            .unwrap_or_else(|| panic!("{} has a slug", m.name));
        assert!(
            slug.unique && slug.required,
            "{}.slug is the identity",
            m.name
        );
    }

    let relation = |model: &str, field: &str| {
        content
            .model(model)
            .and_then(|m| m.field(field))
            .and_then(|f| f.relation())
            .unwrap_or_else(|| panic!("{model}.{field} is a relation"))
            .clone()
    };
    let events = relation("Conference", "events");
    assert_eq!(
        (events.reverse(), events.cardinality),
        (Some("conference"), Cardinality::OneToMany)
    );
    let conf = relation("Event", "conference");
    assert_eq!(
        (conf.reverse(), conf.cardinality),
        (Some("events"), Cardinality::ManyToOne)
    );
    assert_eq!(
        relation("Event", "talks").cardinality,
        Cardinality::OneToMany
    );
    assert_eq!(
        relation("Talk", "event").cardinality,
        Cardinality::ManyToOne
    );
    assert_eq!(
        relation("Talk", "speakers").cardinality,
        Cardinality::ManyToMany
    );
    assert_eq!(relation("Speaker", "talks").reverse(), Some("speakers"));
    let venue = relation("Talk", "venue");
    assert_eq!(venue.union.as_deref(), Some("TalkVenue"));
    assert_eq!(venue.targets, ["Event", "Conference"]);
    assert_eq!(
        (venue.reverse().map(String::from), venue.cardinality),
        (None, Cardinality::OneWay)
    );
    let related = relation("Talk", "relatedTalks");
    assert_eq!(
        (related.targets.as_slice(), related.cardinality),
        (&["Talk".to_string()][..], Cardinality::OneWay)
    );

    let talk = content.model("Talk").unwrap();
    assert!(talk.field("title").unwrap().localized);
    assert_eq!(
        talk.field("abstract").unwrap().kind,
        FieldKind::Scalar {
            scalar: Scalar::RichText
        }
    );
    assert_eq!(
        talk.field("level").unwrap().kind,
        FieldKind::Enumeration {
            name: "TalkLevel".into()
        }
    );
    assert!(
        content
            .model("Speaker")
            .unwrap()
            .field("bio")
            .unwrap()
            .localized
    );
    assert!(
        content
            .model("Conference")
            .unwrap()
            .field("name")
            .unwrap()
            .localized
    );
    assert_eq!(
        content
            .model("Conference")
            .unwrap()
            .field("metadata")
            .unwrap()
            .kind,
        FieldKind::Scalar {
            scalar: Scalar::Json
        }
    );

    let asset = content.asset_model().unwrap();
    assert_eq!(asset.asset, Some(AssetSystem::Legacy));
    assert_eq!(
        (asset.singular.as_str(), asset.plural.as_str()),
        ("asset", "assets")
    );
    for system_field in ["handle", "fileName", "mimeType", "size", "width", "height"] {
        assert!(
            asset.field(system_field).is_some_and(|f| f.is_writable()),
            "{system_field}"
        );
    }
    let photo = relation("Speaker", "photo");
    assert_eq!(
        (photo.reverse(), photo.cardinality),
        (Some("speakerPhoto"), Cardinality::ManyToOne)
    );
    let back = asset.field("speakerPhoto").unwrap();
    assert!(back.list);
    assert_eq!(back.relation().unwrap().reverse(), Some("photo"));
    assert_eq!(relation("Asset", "conferenceLogo").targets, ["Conference"]);
}

/// The error for `text` read as a model file named `bad.toml`.
fn model_file_error(text: &str) -> String {
    match model::from_model_file(text, "bad.toml") {
        Ok(_) => panic!("accepted a bad model file:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_model_files_name_the_file_line_and_problem() {
    let cases: &[(&str, &[&str])] = &[
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"slug\", type = \"Strng\" }]\n",
            &["bad.toml:4", "model `Post`, field `slug`", "unknown type `Strng`"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"author\", type = \"Author\", reverse = \"posts\" }]\n",
            &["bad.toml:4", "field `author`", "unknown type `Author`"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [\n  { name = \"slug\", type = \"String\" },\n  { name = \"slug\", type = \"Int\" },\n]\n",
            &["bad.toml:6", "field `slug`", "duplicate field"],
        ),
        (
            "locales = [\"en\"]\n[unions]\nNothing = []\n[[models]]\nname = \"Post\"\n",
            &["bad.toml:3", "union `Nothing`", "union of nothing"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"author\", type = \"Person\", reverse = \"posts\" }]\n[[models]]\nname = \"Person\"\n",
            &["bad.toml:4", "reverse field `Person.posts` does not exist"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"author\", type = \"Person\", reverse = \"posts\" }]\n[[models]]\nname = \"Person\"\nfields = [{ name = \"posts\", type = \"Post\", list = true }]\n",
            &["bad.toml:4", "`Person.posts` does not point back"],
        ),
        (
            "locales = [{ code = \"en\", default = true }, { code = \"de\", default = true }]\n",
            &["bad.toml:1", "two default locales"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\ncolour = \"red\"\n",
            &["bad.toml", "line 4", "unknown field `colour`"],
        ),
        (
            "locales = [\"en\"\n",
            &["bad.toml", "line 1"],
        ),
        (
            "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"photo\", type = \"Asset\" }]\n",
            &["bad.toml:4", "unknown type `Asset`", "[asset]"],
        ),
    ];
    for (text, expected) in cases {
        let message = model_file_error(text);
        for part in *expected {
            assert!(
                message.contains(part),
                "{message:?} should contain {part:?}"
            );
        }
    }
}

/// A minimal Hygraph-like schema around `extra` SDL.
fn tiny_schema(extra: &str) -> String {
    format!(
        r#"
interface Node {{ id: ID! stage: Stage! }}
"""Locale system enumeration"""
enum Locale {{ """System locale""" en de }}
enum Stage {{ DRAFT PUBLISHED }}
type Query {{ post(where: PostWhereUniqueInput!): Post posts: [Post!]! }}
input PostWhereUniqueInput {{ id: ID }}
{extra}
"#
    )
}

#[test]
fn malformed_schemas_name_the_origin_type_and_problem() {
    let cases: &[(String, &[&str])] = &[
        (
            "type Query { broken(".into(),
            &["bad.graphql", "cannot parse the GraphQL schema", "syntax error"],
        ),
        (
            tiny_schema("type Post implements Node { id: ID! stage: Stage! author: Author }"),
            &["bad.graphql", "`Post.author`", "type `Author`", "does not define"],
        ),
        (
            tiny_schema("union Nothing\ntype Post implements Node { id: ID! stage: Stage! related: [Nothing!]! }"),
            &["bad.graphql", "union `Nothing`", "`Post.related`", "no members"],
        ),
        (
            tiny_schema("union Target = Ghost\ntype Post implements Node { id: ID! stage: Stage! related: Target }"),
            &["bad.graphql", "`Post.related`", "type `Ghost`"],
        ),
        (
            "type Query { a: Int }\nenum Stage { DRAFT }".into(),
            &["bad.graphql", "no `Locale` enum"],
        ),
    ];
    for (sdl, expected) in cases {
        let message = match model::from_sdl(sdl, "bad.graphql") {
            Ok(m) => panic!("accepted a bad schema: {m:?}"),
            Err(e) => e.to_string(),
        };
        for part in *expected {
            assert!(
                message.contains(part),
                "{message:?} should contain {part:?}"
            );
        }
    }
}

#[test]
fn a_tiny_schema_derives_unions_components_and_read_only_fields() {
    let sdl = tiny_schema(
        r#"
interface Entity { id: ID! stage: Stage! }
enum Mood { HAPPY SAD }
type Address implements Entity { id: ID! stage: Stage! street: String! geo: Location }
type Post implements Node {
  id: ID! stage: Stage!
  title: String!
  mood: Mood
  address: Address
  views: Int @remote(method: "GET", url: "x", payloadFields: [], requestParamFields: [])
  about: Topic
}
union Topic = Post
input PostCreateInput { title: String! mood: Mood address: AddressCreateOneInlineInput about: TopicCreateOneInlineInput }
input AddressCreateOneInlineInput { x: Int }
input TopicCreateOneInlineInput { x: Int }
directive @remote(method: String!, url: String!, payloadFields: [String!]!, requestParamFields: [String!]!) on FIELD_DEFINITION
"#,
    );
    let content = model::from_sdl(&sdl, "tiny.graphql").unwrap();
    assert_eq!(content.models.len(), 1);
    let post = content.model("Post").unwrap();
    assert_eq!(
        post.field("mood").unwrap().kind,
        FieldKind::Enumeration {
            name: "Mood".into()
        }
    );
    assert_eq!(
        post.field("address").unwrap().kind,
        FieldKind::Component {
            targets: vec!["Address".into()],
            union: None
        }
    );
    match &post.field("views").unwrap().access {
        Access::ReadOnly(reason) => assert!(reason.contains("remote"), "{reason}"),
        Access::Writable => panic!("a remote field is read-only"),
    }
    let about = post.field("about").unwrap().relation().unwrap();
    assert_eq!(
        (about.union.as_deref(), about.cardinality),
        (Some("Topic"), Cardinality::OneWay)
    );
    assert_eq!(content.enumerations[0].values, ["HAPPY", "SAD"]);
    assert_eq!(content.components[0].name, "Address");
    assert_eq!(
        content.components[0]
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["street", "geo"]
    );
}

fn run_schema(args: &[&str]) -> std::process::Output {
    Command::new(common::stagesync_bin())
        .arg("schema")
        .args(args)
        .output()
        .expect("the stagesync binary runs")
}

#[test]
fn schema_command_prints_tables_and_json() {
    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let sdl = dir.join("hygraph/with-houdini.graphql");
    let out = run_schema(&[sdl.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Locales: en (default), de"), "{stdout}");
    assert!(
        stdout.contains("Model Product (product / productsConnection)"),
        "{stdout}"
    );
    assert!(stdout.contains("one-to-many"), "{stdout}");
    assert!(!stdout.contains("ScheduledOperation"), "{stdout}");

    let out = run_schema(&[sdl.to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(json["default_locale"], "en");
    let product = json["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "Product")
        .unwrap();
    assert_eq!(product["plural"], "products");

    let toml = common::project_fixture("conference.toml");
    let out = run_schema(&[toml.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("TalkVenue = Event | Conference"));
}

#[test]
fn schema_command_reads_introspection_json() {
    let Some(sdl) = common::houdini_sdl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("introspection.json");
    std::fs::write(&path, serde_json::to_vec(&introspect(&sdl)).unwrap()).unwrap();
    let out = run_schema(&[path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["models"].as_array().unwrap().len(), 5);
}

#[test]
fn schema_command_rejects_bad_files_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "locales = [\"en\"]\n[[models]]\nname = \"Post\"\nfields = [{ name = \"x\", type = \"Nope\" }]\n").unwrap();
    let out = run_schema(&[bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml:4") && stderr.contains("unknown type `Nope`"),
        "{stderr}"
    );

    let missing = dir.path().join("missing.graphql");
    assert_eq!(
        run_schema(&[missing.to_str().unwrap()]).status.code(),
        Some(2)
    );
    let odd = dir.path().join("schema.txt");
    std::fs::write(&odd, "x").unwrap();
    assert_eq!(run_schema(&[odd.to_str().unwrap()]).status.code(), Some(2));
}

/// Serves `requests` HTTP requests on 127.0.0.1: the introspection answer for a bearer `token`,
/// 401 otherwise. Returns the endpoint URL.
fn introspection_server(answer: serde_json::Value, token: &'static str, requests: usize) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/v2/project/master",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { return };
            stream
                .set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .ok();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut authorized) = (0, false);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                authorized |= line.trim_end() == format!("authorization: Bearer {token}")
                    || line.trim_end() == format!("Authorization: Bearer {token}");
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).ok();
            let query_sent = String::from_utf8_lossy(&body).contains("__schema");
            let (status, body) = if authorized && query_sent {
                ("200 OK", answer.to_string())
            } else {
                (
                    "401 Unauthorized",
                    r#"{"errors":[{"message":"unauthorized"}]}"#.to_string(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn schema_command_introspects_an_endpoint_with_a_bearer_token() {
    let Some(sdl) = common::houdini_sdl() else {
        return;
    };
    let url = introspection_server(introspect(&sdl), "s3cret-token", 2);

    let out = Command::new(common::stagesync_bin())
        .args([
            "schema",
            &url,
            "--token-env",
            "HYGRAPH_TEST_TOKEN",
            "--json",
        ])
        .env("HYGRAPH_TEST_TOKEN", "s3cret-token")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["models"].as_array().unwrap().len(), 5);

    let out = Command::new(common::stagesync_bin())
        .args(["schema", &url, "--token-env", "HYGRAPH_TEST_TOKEN"])
        .env("HYGRAPH_TEST_TOKEN", "wrong-token-value")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("401"), "{stderr}");
    assert!(
        !stderr.contains("wrong-token-value"),
        "the token never appears: {stderr}"
    );

    let out = Command::new(common::stagesync_bin())
        .args([
            "schema",
            &url,
            "--token-env",
            "STAGESYNC_TEST_UNSET_VARIABLE",
        ])
        .env_remove("STAGESYNC_TEST_UNSET_VARIABLE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("STAGESYNC_TEST_UNSET_VARIABLE"));
}
