//! The emulator's generated schema against the real Hygraph schema: same root fields,
//! arguments and input types for the fixture's content models and Asset.

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema;
use stagesync::emulator::{generate_sdl, generate_sdl_with, SdlOptions};
use stagesync::model::{
    Access, AssetSystem, Cardinality, ContentModel, Field, FieldKind, Model, Relation, Scalar,
};

use crate::common;

/// The models whose generated surface must match the fixture's.
const COMPARED: &[&str] = &["Product", "Review", "Vote", "NextAuthUser", "Asset"];

fn field(name: &str, kind: FieldKind, required: bool) -> Field {
    Field {
        name: name.into(),
        kind,
        list: false,
        required,
        localized: false,
        unique: false,
        access: Access::Writable,
        embeds: Vec::new(),
    }
}

fn scalar(s: Scalar) -> FieldKind {
    FieldKind::Scalar { scalar: s }
}

fn relation(target: &str, reverse: &str, cardinality: Cardinality) -> FieldKind {
    FieldKind::Relation(Relation::two_way(
        vec![target.into()],
        None,
        reverse,
        stagesync::model::PairedBy::Declared,
        cardinality,
    ))
}

fn localized(mut f: Field) -> Field {
    f.localized = true;
    f
}

fn unique(mut f: Field) -> Field {
    f.unique = true;
    f
}

fn list(mut f: Field) -> Field {
    f.list = true;
    f
}

fn model(name: &str, singular: &str, plural: &str, fields: Vec<Field>) -> Model {
    Model {
        name: name.into(),
        singular: singular.into(),
        plural: plural.into(),
        asset: None,
        fields,
    }
}

/// The content model of `with-houdini.graphql`, written out by hand (what `model::from_sdl`
/// must derive from it).
fn houdini_model() -> ContentModel {
    let mut asset = model(
        "Asset",
        "asset",
        "assets",
        vec![
            localized(field("fileName", scalar(Scalar::String), true)),
            localized(field("handle", scalar(Scalar::String), true)),
            localized(field("height", scalar(Scalar::Float), false)),
            localized(field("mimeType", scalar(Scalar::String), false)),
            list(field(
                "productImage",
                relation("Product", "image", Cardinality::OneToMany),
                false,
            )),
            localized(field("size", scalar(Scalar::Float), false)),
            localized(field("width", scalar(Scalar::Float), false)),
        ],
    );
    asset.asset = Some(AssetSystem::Legacy);
    ContentModel {
        models: vec![
            asset,
            model(
                "NextAuthUser",
                "nextAuthUser",
                "nextAuthUsers",
                vec![
                    unique(field("auth0Id", scalar(Scalar::String), false)),
                    field("bio", scalar(Scalar::String), false),
                    unique(field("email", scalar(Scalar::String), true)),
                    field("name", scalar(Scalar::String), false),
                    field("password", scalar(Scalar::String), true),
                ],
            ),
            model(
                "Product",
                "product",
                "products",
                vec![
                    field("content", scalar(Scalar::RichText), false),
                    field("description", scalar(Scalar::String), false),
                    field(
                        "image",
                        relation("Asset", "productImage", Cardinality::ManyToOne),
                        false,
                    ),
                    localized(field("name", scalar(Scalar::String), true)),
                    field("price", scalar(Scalar::Int), true),
                    list(field(
                        "reviews",
                        relation("Review", "product", Cardinality::OneToMany),
                        false,
                    )),
                    unique(field("slug", scalar(Scalar::String), true)),
                    list(field(
                        "votes",
                        relation("Vote", "product", Cardinality::OneToMany),
                        false,
                    )),
                ],
            ),
            model(
                "Review",
                "review",
                "reviews",
                vec![
                    field("comment", scalar(Scalar::String), true),
                    field("name", scalar(Scalar::String), false),
                    field(
                        "product",
                        relation("Product", "reviews", Cardinality::ManyToOne),
                        false,
                    ),
                ],
            ),
            model(
                "Vote",
                "vote",
                "votes",
                vec![field(
                    "product",
                    relation("Product", "votes", Cardinality::ManyToOne),
                    false,
                )],
            ),
        ],
        components: vec![],
        enumerations: vec![],
        locales: vec!["de".into(), "en".into()],
        default_locale: "en".into(),
        stages: vec!["DRAFT".into(), "PUBLISHED".into()],
        mutations: true,
    }
}

fn parse(sdl: &str, origin: &str) -> Schema {
    match Schema::parse_and_validate(sdl, origin) {
        Ok(valid) => valid.into_inner(),
        Err(e) => panic!("{origin} does not validate:\n{}", e.errors),
    }
}

/// `[Foo!]!` → `Foo`.
fn named(ty: &apollo_compiler::ast::Type) -> String {
    ty.inner_named_type().to_string()
}

/// Whether a root field serves model `name` (returns it, its connection, or takes its inputs).
fn serves(schema: &Schema, root: &str, field: &str, name: &str, singular: &str) -> bool {
    let Some(def) = schema.get_object(root).and_then(|o| o.fields.get(field)) else {
        return false;
    };
    let ret = named(&def.ty);
    if ret == name || ret == format!("{name}Connection") || field == format!("{singular}Version") {
        return true;
    }
    def.arguments.iter().any(|arg| {
        let ty = named(&arg.ty);
        ty.strip_prefix(name)
            .is_some_and(|rest| rest.ends_with("Input") && rest.starts_with(char::is_uppercase))
    })
}

/// Every difference between the real and the generated schema for the compared models, and how
/// many root fields and input types of the real schema were compared.
fn differences(
    real: &Schema,
    generated: &Schema,
    content: &ContentModel,
) -> (Vec<String>, usize, usize) {
    let mut diffs = Vec::new();
    let mut compared_fields = 0;
    let mut compared_types = 0;
    for name in COMPARED {
        let model = content.model(name).expect("compared model exists");
        for root in ["Query", "Mutation"] {
            let fields_of = |schema: &Schema| -> Vec<String> {
                let mut fields: Vec<String> = schema
                    .get_object(root)
                    .map(|o| {
                        o.fields
                            .keys()
                            .filter(|f| serves(schema, root, f, name, &model.singular))
                            .map(|f| f.to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                fields.sort();
                fields
            };
            let real_fields = fields_of(real);
            let gen_fields = fields_of(generated);
            compared_fields += real_fields.len();
            for f in &real_fields {
                if !gen_fields.contains(f) {
                    diffs.push(format!("{root}.{f}: missing in the generated schema"));
                    continue;
                }
                let r = &real.get_object(root).unwrap().fields[f.as_str()];
                let g = &generated.get_object(root).unwrap().fields[f.as_str()];
                if r.ty.to_string() != g.ty.to_string() {
                    diffs.push(format!(
                        "{root}.{f}: returns {} in the real schema, {} generated",
                        r.ty, g.ty
                    ));
                }
                compare_values(
                    &format!("{root}.{f}"),
                    r.arguments.iter().map(|a| &**a),
                    g.arguments.iter().map(|a| &**a),
                    &mut diffs,
                );
            }
            for f in &gen_fields {
                if !real_fields.contains(f) {
                    diffs.push(format!("{root}.{f}: generated but not in the real schema"));
                }
            }
        }
        let types_of = |schema: &Schema| -> Vec<String> {
            let mut types: Vec<String> = schema
                .types
                .iter()
                .filter(|(n, t)| {
                    n.starts_with(name)
                        && (t.is_input_object()
                            || (t.is_enum() && n.ends_with("OrderByInput")))
                        // `ProductX...` belongs to model `ProductX` when there is one.
                        && !COMPARED
                            .iter()
                            .any(|other| other.len() > name.len() && n.starts_with(other))
                })
                .map(|(n, _)| n.to_string())
                .collect();
            types.sort();
            types
        };
        let real_types = types_of(real);
        let gen_types = types_of(generated);
        compared_types += real_types.len();
        for t in &real_types {
            match (&real.types[t.as_str()], generated.types.get(t.as_str())) {
                (_, None) => diffs.push(format!("input {t}: missing in the generated schema")),
                (ExtendedType::InputObject(r), Some(ExtendedType::InputObject(g))) => {
                    compare_values(
                        &format!("input {t}"),
                        r.fields.values().map(|v| &***v),
                        g.fields.values().map(|v| &***v),
                        &mut diffs,
                    );
                }
                (ExtendedType::Enum(r), Some(ExtendedType::Enum(g))) => {
                    let rv: Vec<_> = r.values.keys().map(|k| k.to_string()).collect();
                    let gv: Vec<_> = g.values.keys().map(|k| k.to_string()).collect();
                    let mut rs = rv.clone();
                    let mut gs = gv.clone();
                    rs.sort();
                    gs.sort();
                    if rs != gs {
                        diffs.push(format!("enum {t}: values {rs:?} real, {gs:?} generated"));
                    }
                }
                _ => diffs.push(format!("{t}: a different kind of type")),
            }
        }
        for t in &gen_types {
            if !real_types.contains(t) {
                diffs.push(format!("input {t}: generated but not in the real schema"));
            }
        }
    }
    (diffs, compared_fields, compared_types)
}

fn compare_values<'a>(
    place: &str,
    real: impl Iterator<Item = &'a apollo_compiler::ast::InputValueDefinition>,
    generated: impl Iterator<Item = &'a apollo_compiler::ast::InputValueDefinition>,
    diffs: &mut Vec<String>,
) {
    let real: Vec<_> = real.collect();
    let generated: Vec<_> = generated.collect();
    for r in &real {
        match generated.iter().find(|g| g.name == r.name) {
            None => diffs.push(format!("{place}: `{}: {}` missing", r.name, r.ty)),
            Some(g) => {
                if r.ty.to_string() != g.ty.to_string() {
                    diffs.push(format!(
                        "{place}: `{}` is {} in the real schema, {} generated",
                        r.name, r.ty, g.ty
                    ));
                }
                let rd = r.default_value.as_ref().map(|v| v.to_string());
                let gd = g.default_value.as_ref().map(|v| v.to_string());
                if rd != gd {
                    diffs.push(format!(
                        "{place}: `{}` defaults to {rd:?} in the real schema, {gd:?} generated",
                        r.name
                    ));
                }
            }
        }
    }
    for g in &generated {
        if !real.iter().any(|r| r.name == g.name) {
            diffs.push(format!(
                "{place}: `{}: {}` generated but not real",
                g.name, g.ty
            ));
        }
    }
}

fn assert_same_surface(content: &ContentModel) {
    let Some(real_sdl) = common::houdini_sdl() else {
        return;
    };
    let real = parse(&real_sdl, "with-houdini.graphql");
    // The fixture (2022) predates the `documentInStages_*` filters.
    let options = SdlOptions {
        default_stage: "PUBLISHED".into(),
        stage_filters: false,
    };
    let generated = parse(&generate_sdl_with(content, &options), "generated.graphql");
    let (diffs, fields, types) = differences(&real, &generated, content);
    // 4 queries and 16 mutations per model (fewer publish arguments do not change the count).
    assert!(fields >= 5 * 19, "only {fields} root fields compared");
    assert!(types >= 5 * 20, "only {types} input types compared");
    assert!(
        diffs.is_empty(),
        "{} differences between the real and the generated schema:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn generated_schema_matches_the_real_one_for_the_hand_written_model() {
    assert_same_surface(&houdini_model());
}

#[test]
fn generated_schema_validates_and_defaults_queries_to_draft() {
    let sdl = generate_sdl(&houdini_model());
    let schema = parse(&sdl, "generated.graphql");
    let products = &schema.get_object("Query").unwrap().fields["productsConnection"];
    let stage = products
        .arguments
        .iter()
        .find(|a| a.name == "stage")
        .unwrap();
    assert_eq!(
        stage.default_value.as_ref().map(|v| v.to_string()),
        Some("DRAFT".to_string())
    );
}

/// Kills the child when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn cli_serves_the_fixture_schema_and_answers_introspection() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};

    let Some(dir) = common::fixtures_dir() else {
        return;
    };
    let child = Command::new(common::stagesync_bin())
        .args(["emulator", "--schema"])
        .arg(dir.join("hygraph/with-houdini.graphql"))
        .args(["--listen", "127.0.0.1:0", "--token", "secret-token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start stagesync emulator");
    let mut child = Running(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the emulator prints its URL within 30 s");
    let url = url.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "first line: {url:?}");

    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let query = "query { __schema { queryType { name } types { name kind } } \
                 __type(name: \"Mutation\") { fields { name } } }";
    let unauthorized = client
        .post(&url)
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);
    let answer: serde_json::Value = client
        .post(&url)
        .bearer_auth("secret-token")
        .json(&serde_json::json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["__schema"]["queryType"]["name"], "Query",
        "{answer}"
    );
    let types: Vec<&str> = answer["data"]["__schema"]["types"]
        .as_array()
        .expect("types")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    for expected in [
        "Product",
        "ProductWhereUniqueInput",
        "ReviewUpdateManyInlineInput",
        "Asset",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    let mutations: Vec<&str> = answer["data"]["__type"]["fields"]
        .as_array()
        .expect("mutation fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert!(mutations.contains(&"upsertProduct"), "{mutations:?}");
    assert!(
        mutations.contains(&"publishManyProductsConnection"),
        "{mutations:?}"
    );
}

#[test]
fn generated_schema_matches_the_real_one_for_the_model_derived_from_it() {
    let Some(sdl) = common::houdini_sdl() else {
        return;
    };
    let derived = stagesync::model::from_sdl(&sdl, "with-houdini.graphql")
        .expect("the fixture derives a content model");
    assert_same_surface(&derived);
}

#[test]
fn conference_model_generates_a_valid_schema() {
    let path = common::project_fixture("conference.toml");
    let text = std::fs::read_to_string(&path).expect("tests/fixtures/conference.toml");
    let content = stagesync::model::from_model_file(&text, "conference.toml")
        .expect("the conference model file parses");
    let sdl = generate_sdl(&content);
    let schema = parse(&sdl, "conference.graphql");
    // The union, the many-to-many and the localized fields all reach the surface.
    for input in [
        "TalkUpdateInput",
        "TalkCreateLocalizationsInput",
        "SpeakerUpdateManyInlineInput",
    ] {
        assert!(schema.types.contains_key(input), "{input} missing");
    }
    let talk_update = match &schema.types["TalkUpdateInput"] {
        ExtendedType::InputObject(input) => input,
        _ => panic!("TalkUpdateInput is not an input"),
    };
    let venue = named(&talk_update.fields["venue"].ty);
    match schema.types.get(
        venue
            .replace("UpdateOneInlineInput", "WhereUniqueInput")
            .as_str(),
    ) {
        Some(ExtendedType::InputObject(keyed)) => {
            let members: Vec<_> = keyed.fields.keys().map(|k| k.to_string()).collect();
            assert_eq!(members, ["Conference", "Event"]);
        }
        _ => panic!("no member-keyed where-unique input for Talk.venue ({venue})"),
    }
}
