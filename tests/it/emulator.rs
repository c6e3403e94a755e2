//! Integration tests: the emulator, driven through plain HTTP + GraphQL (reqwest + serde_json,
//! never stagesync's client). Every document sent is first validated with apollo-compiler
//! against the generated schema and, for the Product/Review/Vote/Asset model derived from the
//! real fixture, against the real Hygraph schema too.

use std::time::Duration;

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Value};
use stagesync::emulator::{generate_sdl, Emulator, EmulatorOptions, FaultSpec, RateLimit, Stats};
use stagesync::model::{
    Access, AssetSystem, Cardinality, ContentModel, Field, FieldKind, Model, Relation, Scalar,
};

use crate::common;

// ---------------------------------------------------------------------------------------------
// Content models

fn field(name: &str, kind: FieldKind) -> Field {
    Field {
        name: name.into(),
        kind,
        list: false,
        required: false,
        localized: false,
        unique: false,
        access: Access::Writable,
        embeds: Vec::new(),
    }
}

fn scalar(name: &str, scalar: Scalar) -> Field {
    field(name, FieldKind::Scalar { scalar })
}

fn relation(
    name: &str,
    targets: &[&str],
    reverse: Option<&str>,
    cardinality: Cardinality,
    list: bool,
) -> Field {
    Field {
        list,
        ..field(
            name,
            FieldKind::Relation({
                let targets = targets.iter().map(|t| t.to_string()).collect();
                match reverse {
                    Some(reverse) => Relation::two_way(
                        targets,
                        None,
                        reverse,
                        stagesync::model::PairedBy::Declared,
                        cardinality,
                    ),
                    None => Relation::one_way(targets, None),
                }
            }),
        )
    }
}

fn model(name: &str, fields: Vec<Field>) -> Model {
    Model {
        name: name.into(),
        singular: stagesync::model::default_singular(name),
        plural: stagesync::model::default_plural(name),
        asset: None,
        fields,
    }
}

fn required(mut f: Field) -> Field {
    f.required = true;
    f
}

fn unique(mut f: Field) -> Field {
    f.unique = true;
    f
}

fn localized(mut f: Field) -> Field {
    f.localized = true;
    f
}

fn asset_model(system: AssetSystem) -> Model {
    let mut fields = vec![
        required(localized(scalar("fileName", Scalar::String))),
        required(localized(scalar("handle", Scalar::String))),
        localized(scalar("height", Scalar::Float)),
        localized(scalar("mimeType", Scalar::String)),
        localized(scalar("size", Scalar::Float)),
        localized(scalar("width", Scalar::Float)),
        relation(
            "productImage",
            &["Product"],
            Some("image"),
            Cardinality::OneToMany,
            true,
        ),
    ];
    if system == AssetSystem::UploadUrl {
        for f in &mut fields {
            f.required = false;
            f.localized = false;
        }
    }
    Model {
        asset: Some(system),
        ..model("Asset", fields)
    }
}

/// The content model of the real fixture `with-houdini.graphql` (Product, Review, Vote, Asset).
fn houdini_model() -> ContentModel {
    houdini_model_with(AssetSystem::Legacy)
}

fn houdini_model_with(system: AssetSystem) -> ContentModel {
    ContentModel {
        models: vec![
            asset_model(system),
            model(
                "Product",
                vec![
                    scalar("content", Scalar::RichText),
                    scalar("description", Scalar::String),
                    relation(
                        "image",
                        &["Asset"],
                        Some("productImage"),
                        Cardinality::ManyToOne,
                        false,
                    ),
                    required(localized(scalar("name", Scalar::String))),
                    required(scalar("price", Scalar::Int)),
                    relation(
                        "reviews",
                        &["Review"],
                        Some("product"),
                        Cardinality::OneToMany,
                        true,
                    ),
                    required(unique(scalar("slug", Scalar::String))),
                    relation(
                        "votes",
                        &["Vote"],
                        Some("product"),
                        Cardinality::OneToMany,
                        true,
                    ),
                ],
            ),
            model(
                "Review",
                vec![
                    required(scalar("comment", Scalar::String)),
                    scalar("name", Scalar::String),
                    relation(
                        "product",
                        &["Product"],
                        Some("reviews"),
                        Cardinality::ManyToOne,
                        false,
                    ),
                ],
            ),
            model(
                "Vote",
                vec![relation(
                    "product",
                    &["Product"],
                    Some("votes"),
                    Cardinality::ManyToOne,
                    false,
                )],
            ),
        ],
        components: vec![],
        enumerations: vec![],
        locales: vec!["en".into(), "de".into()],
        default_locale: "en".into(),
        stages: vec!["DRAFT".into(), "PUBLISHED".into()],
        mutations: true,
    }
}

/// A conference model: a union relation `Talk.venue` (Event | Conference, one-way) and a
/// many-to-many `Talk.speakers` ↔ `Speaker.talks`.
fn conference_model() -> ContentModel {
    let venue = Field {
        ..field(
            "venue",
            FieldKind::Relation(Relation::one_way(
                vec!["Conference".into(), "Event".into()],
                Some("TalkVenue".into()),
            )),
        )
    };
    ContentModel {
        models: vec![
            model(
                "Conference",
                vec![required(unique(scalar("slug", Scalar::String)))],
            ),
            model(
                "Event",
                vec![required(unique(scalar("slug", Scalar::String)))],
            ),
            model(
                "Speaker",
                vec![
                    required(unique(scalar("slug", Scalar::String))),
                    relation(
                        "talks",
                        &["Talk"],
                        Some("speakers"),
                        Cardinality::ManyToMany,
                        true,
                    ),
                ],
            ),
            model(
                "Talk",
                vec![
                    required(unique(scalar("slug", Scalar::String))),
                    localized(scalar("title", Scalar::String)),
                    relation(
                        "speakers",
                        &["Speaker"],
                        Some("talks"),
                        Cardinality::ManyToMany,
                        true,
                    ),
                    venue,
                ],
            ),
        ],
        components: vec![],
        enumerations: vec![],
        locales: vec!["en".into(), "de".into()],
        default_locale: "en".into(),
        stages: vec!["DRAFT".into(), "PUBLISHED".into()],
        mutations: true,
    }
}

// ---------------------------------------------------------------------------------------------
// A GraphQL client that checks every document against the schemas first

struct Client {
    url: String,
    token: Option<String>,
    http: reqwest::Client,
    schemas: Vec<(String, Valid<Schema>)>,
}

fn parse_schema(name: &str, sdl: &str) -> Valid<Schema> {
    Schema::parse_and_validate(sdl, name)
        .unwrap_or_else(|e| panic!("{name} is invalid: {}", e.errors))
}

impl Client {
    /// A client for `emu` validating against the generated schema and, with `real`, against
    /// the real fixture schema as well.
    fn new(emu: &Emulator, real: bool) -> Option<Client> {
        let mut schemas = vec![(
            "generated".to_string(),
            parse_schema("generated.graphql", emu.sdl()),
        )];
        if real {
            let sdl = common::houdini_sdl()?;
            schemas.push((
                "real fixture".to_string(),
                parse_schema("with-houdini.graphql", &sdl),
            ));
        }
        Some(Client {
            url: emu.url(),
            token: None,
            http: http(),
            schemas,
        })
    }

    fn token(mut self, token: &str) -> Self {
        self.token = Some(token.into());
        self
    }

    fn check(&self, query: &str) {
        for (name, schema) in &self.schemas {
            if let Err(e) = ExecutableDocument::parse_and_validate(schema, query, "test.graphql") {
                panic!(
                    "document is invalid against the {name} schema: {}\n{query}",
                    e.errors
                );
            }
        }
    }

    async fn send(&self, query: &str, variables: Value) -> (u16, Value) {
        self.check(query);
        send_raw(
            &self.http,
            &self.url,
            self.token.as_deref(),
            &json!({"query": query, "variables": variables}),
        )
        .await
    }

    /// Sends and expects a 200 answer without errors; returns `data`.
    async fn data(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.send(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.get("errors").is_none(),
            "unexpected errors: {body}\n{query}"
        );
        body["data"].clone()
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn send_raw(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let mut request = http.post(url).json(body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("request failed");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn start(model: ContentModel) -> Emulator {
    Emulator::start(EmulatorOptions::new(model))
        .await
        .expect("emulator starts")
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

const CREATE_PRODUCT: &str =
    "mutation ($data: ProductCreateInput!) { createProduct(data: $data) { id slug updatedAt } }";

async fn create_product(c: &Client, slug: &str, price: i64) -> String {
    let data = c
        .data(
            CREATE_PRODUCT,
            json!({"data": {"name": format!("Product {slug}"), "slug": slug, "price": price}}),
        )
        .await;
    data["createProduct"]["id"].as_str().unwrap().to_string()
}

async fn create_review(c: &Client, comment: &str, product: Option<&str>) -> String {
    let mut data = json!({"comment": comment});
    if let Some(p) = product {
        data["product"] = json!({"connect": {"id": p}});
    }
    let d = c
        .data(
            "mutation ($data: ReviewCreateInput!) { createReview(data: $data) { id } }",
            json!({"data": data}),
        )
        .await;
    d["createReview"]["id"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn introspection_and_sdl_describe_the_generated_schema() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let data = c
        .data(
            "{ __schema { queryType { name } mutationType { name } types { name } } __type(name: \"Product\") { fields { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    let names: Vec<&str> = data["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for f in [
        "id",
        "slug",
        "reviews",
        "localizations",
        "documentInStages",
        "publishedAt",
    ] {
        assert!(
            names.contains(&f),
            "Product.{f} missing from introspection: {names:?}"
        );
    }
    let sdl = http()
        .get(format!("{}/schema.graphql", emu.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(sdl, generate_sdl(&houdini_model()));
    assert!(sdl.contains("productsConnection("));
}

#[tokio::test]
async fn invalid_documents_are_rejected_before_running() {
    let emu = start(houdini_model()).await;
    let (status, body) = send_raw(
        &http(),
        &emu.url(),
        None,
        &json!({"query": "{ products(stage: DRAFT) { nope } }"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let messages: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages.iter().any(|m| m.contains("nope")), "{body}");
    assert!(body.get("data").is_none());
    // A missing required input field is a validation error too.
    let (status, _) = send_raw(
        &http(),
        &emu.url(),
        None,
        &json!({"query": "mutation { createProduct(data: {slug: \"x\", price: 1}) { id } }"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn pagination_walks_pages_with_cursors_and_caps_page_size() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    // 25 products in one request of aliased mutations.
    let mut doc = String::from("mutation {");
    for i in 0..25 {
        doc.push_str(&format!(
            " p{i}: createProduct(data: {{name: \"P{i}\", slug: \"p-{i:02}\", price: {i}}}) {{ id }}"
        ));
    }
    doc.push('}');
    let created = c.data(&doc, json!({})).await;
    assert_eq!(created.as_object().unwrap().len(), 25);

    let page_query = "query ($after: String) { productsConnection(stage: DRAFT, first: 10, after: $after) { edges { cursor node { id slug } } pageInfo { hasNextPage hasPreviousPage endCursor pageSize } aggregate { count } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let data = c.data(page_query, json!({"after": after})).await;
        let conn = &data["productsConnection"];
        assert_eq!(conn["aggregate"]["count"], 25);
        for edge in conn["edges"].as_array().unwrap() {
            assert_eq!(edge["cursor"], edge["node"]["id"]);
            seen.push(edge["node"]["slug"].as_str().unwrap().to_string());
        }
        pages += 1;
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], pages > 1);
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let expected: Vec<String> = (0..25).map(|i| format!("p-{i:02}")).collect();
    assert_eq!(seen, expected, "every entry once, in creation order");

    // Default page size is 10; skip; last.
    let data = c.data("{ products(stage: DRAFT) { id } }", json!({})).await;
    assert_eq!(data["products"].as_array().unwrap().len(), 10);
    let data = c
        .data(
            "{ products(stage: DRAFT, skip: 20, first: 100) { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(data["products"].as_array().unwrap().len(), 5);
    let data = c
        .data(
            "{ productsConnection(stage: DRAFT, last: 2) { edges { node { slug } } } }",
            json!({}),
        )
        .await;
    let slugs: Vec<&str> = data["productsConnection"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["p-23", "p-24"]);

    // Above 100 is an error with the field's path, as in Hygraph.
    let (status, body) = c
        .send(
            "{ productsConnection(stage: DRAFT, first: 101) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["path"],
        json!(["productsConnection"]),
        "{body}"
    );
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("100"));
}

#[tokio::test]
async fn filters_and_order_by() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let a = create_product(&c, "a", 30).await;
    let b = create_product(&c, "b", 10).await;
    let cc = create_product(&c, "c", 20).await;
    let list = |w: Value| {
        let c = &c;
        async move {
            let data = c
                .data(
                    "query ($w: ProductWhereInput) { products(stage: DRAFT, where: $w, first: 100) { id } }",
                    json!({"w": w}),
                )
                .await;
            ids(&data["products"])
        }
    };
    assert_eq!(list(json!({"id": a})).await, [a.as_str()]);
    assert_eq!(
        list(json!({"id_in": [a, cc]})).await,
        [a.clone(), cc.clone()]
    );
    assert_eq!(
        list(json!({"id_not_in": [a]})).await,
        [b.clone(), cc.clone()]
    );
    assert_eq!(list(json!({"slug": "b"})).await, [b.as_str()]);
    assert_eq!(
        list(json!({"price_gte": 20})).await,
        [a.clone(), cc.clone()]
    );
    assert_eq!(
        list(json!({"OR": [{"slug": "a"}, {"slug": "c"}]})).await,
        [a.clone(), cc.clone()]
    );
    assert_eq!(
        list(json!({"AND": [{"price_gt": 5}, {"price_lt": 25}]})).await,
        [b.clone(), cc.clone()]
    );
    assert_eq!(
        list(json!({"NOT": [{"slug": "a"}]})).await,
        [b.clone(), cc.clone()]
    );
    assert_eq!(list(json!({"name_contains": "Product"})).await.len(), 3);

    // updatedAt_gt: only what changed after a point in time.
    let data = c
        .data(
            "{ product(stage: DRAFT, where: {slug: \"c\"}) { updatedAt } }",
            json!({}),
        )
        .await;
    let mark = data["product"]["updatedAt"].as_str().unwrap().to_string();
    c.data(
        "mutation { updateProduct(where: {slug: \"a\"}, data: {price: 31}) { id } }",
        json!({}),
    )
    .await;
    assert_eq!(list(json!({"updatedAt_gt": mark})).await, [a.as_str()]);
    assert_eq!(
        list(json!({"updatedAt_lte": mark})).await,
        [b.clone(), cc.clone()]
    );
    assert_eq!(
        list(json!({"createdAt_lt": mark})).await,
        [a.clone(), b.clone()]
    );
    assert!(list(json!({"publishedAt_gt": mark})).await.is_empty());

    // orderBy.
    let data = c
        .data(
            "{ products(stage: DRAFT, orderBy: price_DESC) { slug } }",
            json!({}),
        )
        .await;
    let slugs: Vec<&str> = data["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["a", "c", "b"]);
    let data = c
        .data(
            "{ products(stage: DRAFT, orderBy: updatedAt_DESC, first: 1) { slug } }",
            json!({}),
        )
        .await;
    assert_eq!(data["products"][0]["slug"], "a");
}

#[tokio::test]
async fn every_mutation_kind_and_an_aliased_batch_with_one_failure() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let a = create_product(&c, "a", 1).await;

    // update
    let d = c
        .data("mutation ($id: ID) { updateProduct(where: {id: $id}, data: {price: 2, description: \"d\"}) { price description } }", json!({"id": a}))
        .await;
    assert_eq!(d["updateProduct"], json!({"price": 2, "description": "d"}));
    // upsert: update path, then create path
    let upsert = "mutation ($slug: String, $u: ProductUpsertInput!) { upsertProduct(where: {slug: $slug}, upsert: $u) { id price } }";
    let u = json!({"create": {"name": "x", "slug": "a", "price": 9}, "update": {"price": 3}});
    let d = c.data(upsert, json!({"slug": "a", "u": u})).await;
    assert_eq!(d["upsertProduct"], json!({"id": a, "price": 3}));
    let u = json!({"create": {"name": "b", "slug": "b", "price": 9}, "update": {"price": 4}});
    let d = c.data(upsert, json!({"slug": "b", "u": u})).await;
    let b = d["upsertProduct"]["id"].as_str().unwrap().to_string();
    assert_ne!(b, a);
    assert_eq!(d["upsertProduct"]["price"], 9);

    // An aliased batch where the middle alias violates a unique field: partial data + errors.
    let batch = "mutation { one: createProduct(data: {name: \"c\", slug: \"c\", price: 1}) { slug } two: createProduct(data: {name: \"dup\", slug: \"a\", price: 1}) { slug } three: updateProduct(where: {slug: \"b\"}, data: {price: 5}) { price } }";
    let (status, body) = c.send(batch, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["one"]["slug"], "c");
    assert_eq!(body["data"]["two"], Value::Null);
    assert_eq!(body["data"]["three"]["price"], 5);
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["path"], json!(["two"]));
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("not unique"),
        "{body}"
    );
    let stats = emu.stats();
    assert_eq!(stats.by_field.get("createProduct"), Some(&3), "{stats:?}");
    assert_eq!(stats.by_field.get("upsertProduct"), Some(&2), "{stats:?}");

    // Many-forms over a connection.
    let d = c
        .data("mutation { updateManyProductsConnection(where: {price_lt: 5}, data: {description: \"cheap\"}) { edges { node { slug description } } aggregate { count } } }", json!({}))
        .await;
    let slugs: Vec<&str> = d["updateManyProductsConnection"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["a", "c"]);
    let d = c
        .data("mutation { publishManyProductsConnection(where: {description: \"cheap\"}, to: [PUBLISHED]) { edges { node { slug } } } }", json!({}))
        .await;
    assert_eq!(
        d["publishManyProductsConnection"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let d = c
        .data("{ products(stage: PUBLISHED) { slug } }", json!({}))
        .await;
    assert_eq!(d["products"].as_array().unwrap().len(), 2);
    let d = c
        .data("mutation { unpublishManyProductsConnection(where: {slug: \"a\"}, from: [PUBLISHED]) { edges { node { slug } } } }", json!({}))
        .await;
    assert_eq!(
        d["unpublishManyProductsConnection"]["edges"][0]["node"]["slug"],
        "a"
    );
    let d = c
        .data("{ products(stage: PUBLISHED) { slug } }", json!({}))
        .await;
    assert_eq!(d["products"], json!([{"slug": "c"}]));
    let d = c
        .data("mutation { deleteManyProductsConnection(where: {slug_in: [\"b\", \"c\"]}) { edges { node { slug } } } }", json!({}))
        .await;
    assert_eq!(
        d["deleteManyProductsConnection"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let d = c
        .data("{ products(stage: PUBLISHED) { slug } }", json!({}))
        .await;
    assert_eq!(d["products"], json!([]), "deleted from every stage");

    // delete, then delete again (idempotent: null, no error)
    let d = c
        .data(
            "mutation ($id: ID) { deleteProduct(where: {id: $id}) { id slug } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(d["deleteProduct"]["slug"], "a");
    let d = c
        .data(
            "mutation ($id: ID) { deleteProduct(where: {id: $id}) { id } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(d["deleteProduct"], Value::Null);
    // update of a missing entry is an error on that field
    let (_, body) = c
        .send(
            "mutation ($id: ID) { updateProduct(where: {id: $id}, data: {price: 1}) { id } }",
            json!({"id": a}),
        )
        .await;
    assert_eq!(body["errors"][0]["path"], json!(["updateProduct"]));
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn publish_then_newer_draft_then_unpublish() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let p = create_product(&c, "p", 1).await;
    let one = "query ($id: ID, $stage: Stage!) { product(where: {id: $id}, stage: $stage) { price stage updatedAt publishedAt } }";
    let d = c.data(one, json!({"id": p, "stage": "PUBLISHED"})).await;
    assert_eq!(
        d["product"],
        Value::Null,
        "never published: nothing in PUBLISHED"
    );

    let d = c
        .data("mutation ($id: ID) { publishProduct(where: {id: $id}, to: PUBLISHED) { id stage publishedAt } }", json!({"id": p}))
        .await;
    assert_eq!(d["publishProduct"]["stage"], "PUBLISHED");
    assert!(d["publishProduct"]["publishedAt"].is_string());
    let published = c.data(one, json!({"id": p, "stage": "PUBLISHED"})).await["product"].clone();
    assert_eq!(published["price"], 1);

    c.data(
        "mutation ($id: ID) { updateProduct(where: {id: $id}, data: {price: 2}) { id } }",
        json!({"id": p}),
    )
    .await;
    let draft = c.data(one, json!({"id": p, "stage": "DRAFT"})).await["product"].clone();
    let published2 = c.data(one, json!({"id": p, "stage": "PUBLISHED"})).await["product"].clone();
    assert_eq!(draft["price"], 2);
    assert_eq!(
        published2["price"], 1,
        "the published version keeps its content"
    );
    assert!(
        draft["updatedAt"].as_str().unwrap() > published2["updatedAt"].as_str().unwrap(),
        "draft is newer"
    );
    let d = c
        .data("query ($id: ID) { product(where: {id: $id}, stage: DRAFT) { documentInStages(stages: [PUBLISHED]) { stage price } } }", json!({"id": p}))
        .await;
    assert_eq!(
        d["product"]["documentInStages"],
        json!([{"stage": "PUBLISHED", "price": 1}])
    );

    let d = c
        .data(
            "mutation ($id: ID) { unpublishProduct(where: {id: $id}, from: PUBLISHED) { id } }",
            json!({"id": p}),
        )
        .await;
    assert_eq!(d["unpublishProduct"]["id"], p.as_str());
    assert_eq!(
        c.data(one, json!({"id": p, "stage": "PUBLISHED"})).await["product"],
        Value::Null
    );
    assert_eq!(
        c.data(one, json!({"id": p, "stage": "DRAFT"})).await["product"]["price"],
        2
    );
    let (_, body) = c
        .send(
            "mutation ($id: ID) { unpublishProduct(where: {id: $id}, from: PUBLISHED) { id } }",
            json!({"id": p}),
        )
        .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not published"),
        "{body}"
    );
}

/// `documentInStages_*` filters (in current Hygraph schemas on every model's `WhereInput`): the
/// classic "which drafts have unpublished changes" query, and draft-only entries.
#[tokio::test]
async fn document_in_stages_filters_find_outdated_and_unpublished_entries() {
    let emu = start(houdini_model()).await;
    // The real fixture is older than these filters: validate against the generated schema.
    let c = Client::new(&emu, false).expect("no fixture needed");
    let changed = create_product(&c, "changed", 1).await;
    let same = create_product(&c, "same", 1).await;
    let draft_only = create_product(&c, "draft-only", 1).await;
    for id in [&changed, &same] {
        c.data(
            "mutation ($id: ID) { publishProduct(where: {id: $id}, to: PUBLISHED) { id } }",
            json!({"id": id}),
        )
        .await;
    }
    c.data(
        "mutation ($id: ID) { updateProduct(where: {id: $id}, data: {price: 2}) { id } }",
        json!({"id": changed}),
    )
    .await;
    let query = "query ($where: ProductWhereInput) { products(where: $where, stage: DRAFT, orderBy: slug_ASC) { id } }";
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let outdated = c
        .data(
            query,
            json!({"where": {"documentInStages_some": {"stage": "PUBLISHED", "compareWithParent": {"outdated_to": true}}}}),
        )
        .await;
    assert_eq!(ids(&outdated["products"]), vec![changed.clone()]);
    let up_to_date = c
        .data(
            query,
            json!({"where": {"documentInStages_some": {"stage": "PUBLISHED", "compareWithParent": {"outdated_to": false}}}}),
        )
        .await;
    assert_eq!(ids(&up_to_date["products"]), vec![same.clone()]);
    let unpublished = c
        .data(
            query,
            json!({"where": {"documentInStages_none": {"stage": "PUBLISHED"}}}),
        )
        .await;
    assert_eq!(ids(&unpublished["products"]), vec![draft_only.clone()]);
    let every = c
        .data(
            query,
            json!({"where": {"documentInStages_every": {"OR": [{"stage": "PUBLISHED"}]}}}),
        )
        .await;
    // `every` over no other version holds: the draft-only entry matches too.
    assert_eq!(
        sorted(ids(&every["products"])),
        sorted(vec![changed, same, draft_only])
    );
}

#[tokio::test]
async fn relations_are_one_edge_seen_from_both_sides_with_positions() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let p = create_product(&c, "p", 1).await;
    let q = create_product(&c, "q", 1).await;
    let r1 = create_review(&c, "r1", Some(&p)).await;
    let r2 = create_review(&c, "r2", Some(&p)).await;
    let r3 = create_review(&c, "r3", None).await;
    let reviews_of = |id: String, stage: &'static str| {
        let c = &c;
        async move {
            let d = c
                .data(
                    "query ($id: ID, $stage: Stage!) { product(where: {id: $id}, stage: $stage) { reviews { id product { id } } } }",
                    json!({"id": id, "stage": stage}),
                )
                .await;
            ids(&d["product"]["reviews"])
        }
    };
    assert_eq!(
        reviews_of(p.clone(), "DRAFT").await,
        [r1.clone(), r2.clone()]
    );

    // Connect from the other side with a position.
    let connect = "mutation ($id: ID, $r: ID, $before: ID) { updateProduct(where: {id: $id}, data: {reviews: {connect: [{where: {id: $r}, position: {before: $before}}]}}) { reviews { id } } }";
    let d = c
        .data(connect, json!({"id": p, "r": r3, "before": r2}))
        .await;
    assert_eq!(
        ids(&d["updateProduct"]["reviews"]),
        [r1.clone(), r3.clone(), r2.clone()]
    );
    let d = c
        .data(
            "query ($id: ID) { review(where: {id: $id}, stage: DRAFT) { product { id slug } } }",
            json!({"id": r3}),
        )
        .await;
    assert_eq!(d["review"]["product"]["id"], p.as_str());
    let start = "mutation ($id: ID, $r: ID) { updateProduct(where: {id: $id}, data: {reviews: {connect: [{where: {id: $r}, position: {start: true}}]}}) { reviews { id } } }";
    let d = c.data(start, json!({"id": p, "r": r2})).await;
    assert_eq!(
        ids(&d["updateProduct"]["reviews"]),
        [r2.clone(), r1.clone(), r3.clone()]
    );

    // Moving a review to another product (a single relation) removes it from the first.
    c.data("mutation ($id: ID, $q: ID) { updateReview(where: {id: $id}, data: {product: {connect: {id: $q}}}) { id } }", json!({"id": r1, "q": q})).await;
    assert_eq!(
        reviews_of(p.clone(), "DRAFT").await,
        [r2.clone(), r3.clone()]
    );
    assert_eq!(reviews_of(q.clone(), "DRAFT").await, [r1.as_str()]);

    // set replaces the list in the given order; disconnect; nested create.
    let set = "mutation ($id: ID, $set: [ReviewWhereUniqueInput!]) { updateProduct(where: {id: $id}, data: {reviews: {set: $set}}) { reviews { id } } }";
    let d = c
        .data(
            set,
            json!({"id": p, "set": [{"id": r3}, {"id": r1}, {"id": r2}]}),
        )
        .await;
    assert_eq!(
        ids(&d["updateProduct"]["reviews"]),
        [r3.clone(), r1.clone(), r2.clone()]
    );
    assert!(reviews_of(q.clone(), "DRAFT").await.is_empty());
    let d = c
        .data("mutation ($id: ID, $r: ID) { updateProduct(where: {id: $id}, data: {reviews: {disconnect: [{id: $r}], create: [{comment: \"r4\"}]}}) { reviews { comment } } }", json!({"id": p, "r": r1}))
        .await;
    assert_eq!(
        d["updateProduct"]["reviews"],
        json!([{"comment": "r3"}, {"comment": "r2"}, {"comment": "r4"}])
    );
    let d = c
        .data(
            "query ($id: ID) { review(where: {id: $id}, stage: DRAFT) { product { id } } }",
            json!({"id": r1}),
        )
        .await;
    assert_eq!(d["review"]["product"], Value::Null);

    // Publishing: targets show only where they exist; publishing both publishes the edge.
    c.data(
        "mutation ($id: ID) { publishProduct(where: {id: $id}, to: PUBLISHED) { id } }",
        json!({"id": p}),
    )
    .await;
    assert!(
        reviews_of(p.clone(), "PUBLISHED").await.is_empty(),
        "reviews are not published yet"
    );
    c.data(
        "mutation ($id: ID) { publishReview(where: {id: $id}, to: PUBLISHED) { id } }",
        json!({"id": r2}),
    )
    .await;
    assert_eq!(reviews_of(p.clone(), "PUBLISHED").await, [r2.as_str()]);

    // Deleting an entry removes its edges.
    c.data(
        "mutation ($id: ID) { deleteReview(where: {id: $id}) { id } }",
        json!({"id": r3}),
    )
    .await;
    let d = c
        .data(
            "query ($id: ID) { product(where: {id: $id}, stage: DRAFT) { reviews { comment } } }",
            json!({"id": p}),
        )
        .await;
    assert_eq!(
        d["product"]["reviews"],
        json!([{"comment": "r2"}, {"comment": "r4"}])
    );
    let dump = emu.dump();
    let dumped = dump["models"]["Product"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == p.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        dumped["stages"]["DRAFT"]["relations"]["reviews"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn unions_and_many_to_many_in_the_conference_model() {
    let emu = start(conference_model()).await;
    // The fixture has no union relation: these documents validate against the generated schema.
    let c = Client::new(&emu, false).unwrap();
    let d = c
        .data("mutation { e: createEvent(data: {slug: \"e\"}) { id } k: createConference(data: {slug: \"k\"}) { id } s1: createSpeaker(data: {slug: \"s1\"}) { id } s2: createSpeaker(data: {slug: \"s2\"}) { id } }", json!({}))
        .await;
    let e = d["e"]["id"].as_str().unwrap().to_string();
    let s1 = d["s1"]["id"].as_str().unwrap().to_string();
    let s2 = d["s2"]["id"].as_str().unwrap().to_string();
    let d = c
        .data(
            "mutation ($e: ID, $s1: ID, $s2: ID) { createTalk(data: {slug: \"t\", title: \"T\", venue: {connect: {Event: {id: $e}}}, speakers: {connect: [{id: $s2}, {id: $s1}]}}) { id venue { __typename ... on Event { slug } } speakers { slug } } }",
            json!({"e": e, "s1": s1, "s2": s2}),
        )
        .await;
    assert_eq!(
        d["createTalk"]["venue"],
        json!({"__typename": "Event", "slug": "e"})
    );
    assert_eq!(
        d["createTalk"]["speakers"],
        json!([{"slug": "s2"}, {"slug": "s1"}])
    );
    let t = d["createTalk"]["id"].as_str().unwrap().to_string();
    let d = c
        .data(
            "{ speakers(stage: DRAFT) { slug talks { slug } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["speakers"],
        json!([{"slug": "s1", "talks": [{"slug": "t"}]}, {"slug": "s2", "talks": [{"slug": "t"}]}])
    );

    // Switch the union member to a Conference.
    let d = c
        .data("mutation ($t: ID) { updateTalk(where: {id: $t}, data: {venue: {connect: {Conference: {slug: \"k\"}}}}) { venue { __typename ... on Conference { slug } } } }", json!({"t": t}))
        .await;
    assert_eq!(
        d["updateTalk"]["venue"],
        json!({"__typename": "Conference", "slug": "k"})
    );
    let dump = emu.dump();
    let talk = &dump["models"]["Talk"][0]["stages"]["DRAFT"]["relations"];
    assert_eq!(talk["venue"][0]["__typename"], "Conference");
    assert_eq!(talk["speakers"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn localizations_create_update_read_and_delete() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let d = c
        .data("mutation { createProduct(data: {name: \"Chair\", slug: \"chair\", price: 5, localizations: {create: [{locale: de, data: {name: \"Stuhl\"}}]}}) { id name localizations(includeCurrent: true) { locale name } } }", json!({}))
        .await;
    let id = d["createProduct"]["id"].as_str().unwrap().to_string();
    assert_eq!(d["createProduct"]["name"], "Chair");
    assert_eq!(
        d["createProduct"]["localizations"],
        json!([{"locale": "en", "name": "Chair"}, {"locale": "de", "name": "Stuhl"}])
    );
    let d = c
        .data("query ($id: ID) { product(where: {id: $id}, stage: DRAFT, locales: [de]) { locale name price } }", json!({"id": id}))
        .await;
    assert_eq!(
        d["product"],
        json!({"locale": "de", "name": "Stuhl", "price": 5})
    );
    c.data(
        "mutation ($id: ID) { updateProduct(where: {id: $id}, data: {localizations: {update: [{locale: de, data: {name: \"Sessel\"}}]}}) { id } }",
        json!({"id": id}),
    )
    .await;
    let d = c
        .data("query ($id: ID) { product(where: {id: $id}, stage: DRAFT) { localizations(locales: [de]) { name } } }", json!({"id": id}))
        .await;
    assert_eq!(d["product"]["localizations"], json!([{"name": "Sessel"}]));
    // Publishing with every locale copies the localization.
    c.data("mutation ($id: ID) { publishProduct(where: {id: $id}, to: PUBLISHED, locales: [en, de]) { id } }", json!({"id": id})).await;
    let d = c
        .data("query ($id: ID) { product(where: {id: $id}, stage: PUBLISHED, locales: [de]) { name } }", json!({"id": id}))
        .await;
    assert_eq!(d["product"]["name"], "Sessel");
    let delete = "mutation ($id: ID) { updateProduct(where: {id: $id}, data: {localizations: {delete: [de]}}) { localizations { locale } } }";
    let d = c.data(delete, json!({"id": id})).await;
    assert_eq!(d["updateProduct"]["localizations"], json!([]));
    let (_, body) = c.send(delete, json!({"id": id})).await;
    assert_eq!(
        body["errors"][0]["path"],
        json!(["updateProduct"]),
        "deleting a missing localization is an error: {body}"
    );
    assert_eq!(body["data"]["updateProduct"], Value::Null);
}

#[tokio::test]
async fn unique_and_required_fields_are_enforced_per_alias() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    create_product(&c, "taken", 1).await;
    let (_, body) = c
        .send("mutation { a: createProduct(data: {name: \"x\", slug: \"taken\", price: 1}) { id } b: updateProduct(where: {slug: \"taken\"}, data: {name: null}) { id } c: createProduct(data: {name: \"y\", slug: \"free\", price: 1}) { slug } }", json!({}))
        .await;
    assert_eq!(body["data"]["a"], Value::Null);
    assert_eq!(body["data"]["b"], Value::Null);
    assert_eq!(body["data"]["c"]["slug"], "free");
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{body}");
    assert_eq!(errors[0]["path"], json!(["a"]));
    assert!(errors[0]["message"].as_str().unwrap().contains("\"slug\""));
    assert_eq!(errors[1]["path"], json!(["b"]));
    assert!(errors[1]["message"].as_str().unwrap().contains("required"));
    // Nothing of a failed alias is kept (a nested create included).
    let (_, body) = c
        .send("mutation { createReview(data: {comment: \"c\", product: {create: {name: \"n\", slug: \"taken\", price: 1}}}) { id } }", json!({}))
        .await;
    assert!(body["errors"].is_array());
    let d = c
        .data(
            "{ reviewsConnection(stage: DRAFT) { aggregate { count } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        d["reviewsConnection"]["aggregate"]["count"], 0,
        "rolled back"
    );
}

#[tokio::test]
async fn legacy_asset_upload_from_a_second_emulator() {
    // The source emulator serves a file at an asset URL.
    let seed = json!({"models": {}, "assets_files": {"src1": {"mimeType": "image/png", "base64": "iVBORw0KGgo="}}});
    let source = Emulator::start(EmulatorOptions {
        seed: Some(seed),
        ..EmulatorOptions::new(houdini_model())
    })
    .await
    .unwrap();
    let file_url = format!("{}/__emulator/assets/src1", source.base_url());

    let mut opts = EmulatorOptions::new(houdini_model());
    opts.token = Some("secret".into());
    let emu = Emulator::start(opts).await.unwrap();
    let Some(c) = Client::new(&emu, true).map(|c| c.token("secret")) else {
        return;
    };
    let response = http()
        .post(format!("{}/upload", emu.url().trim_end_matches('/')))
        .bearer_auth("secret")
        .form(&[("url", file_url.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let asset: Value = response.json().await.unwrap();
    let id = asset["id"].as_str().unwrap().to_string();
    let d = c
        .data("query ($id: ID) { asset(where: {id: $id}, stage: DRAFT) { handle fileName mimeType size url } }", json!({"id": id}))
        .await;
    assert_eq!(d["asset"]["fileName"], "src1");
    assert_eq!(d["asset"]["mimeType"], "image/png");
    assert_eq!(d["asset"]["size"], 8.0);
    let bytes = http()
        .get(d["asset"]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        &bytes[..],
        b"\x89PNG\r\n\x1a\n",
        "the asset URL serves the uploaded bytes"
    );

    // Link it and publish it.
    let d = c
        .data("mutation ($id: ID) { createProduct(data: {name: \"n\", slug: \"s\", price: 1, image: {connect: {id: $id}}}) { image { id } } publishAsset(where: {id: $id}, to: PUBLISHED) { stage } }", json!({"id": id}))
        .await;
    assert_eq!(d["createProduct"]["image"]["id"], id.as_str());
    assert_eq!(d["publishAsset"]["stage"], "PUBLISHED");
    // A legacy createAsset by handle works too.
    let d = c
        .data(
            "mutation { createAsset(data: {handle: \"h2\", fileName: \"f.txt\"}) { handle url } }",
            json!({}),
        )
        .await;
    assert!(d["createAsset"]["url"].as_str().unwrap().ends_with("/h2"));
}

#[tokio::test]
async fn upload_url_assets_move_from_pending_to_complete_or_error() {
    let seed = json!({"models": {}, "assets_files": {"f": {"mimeType": "text/plain", "base64": "aGVsbG8="}}});
    let source = Emulator::start(EmulatorOptions {
        seed: Some(seed),
        ..EmulatorOptions::new(houdini_model())
    })
    .await
    .unwrap();
    let emu = start(houdini_model_with(AssetSystem::UploadUrl)).await;
    // The fixture uses the legacy asset system: these validate against the generated schema.
    let c = Client::new(&emu, false).unwrap();
    let create =
        "mutation ($url: String) { createAsset(data: {uploadUrl: $url}) { id upload { status } } }";
    let good = c
        .data(
            create,
            json!({"url": format!("{}/__emulator/assets/f", source.base_url())}),
        )
        .await;
    assert_eq!(
        good["createAsset"]["upload"]["status"],
        "ASSET_CREATE_PENDING"
    );
    let bad = c
        .data(
            create,
            json!({"url": format!("{}/__emulator/assets/missing", source.base_url())}),
        )
        .await;
    let status_of = |id: String| {
        let c = &c;
        async move {
            for _ in 0..100 {
                let d = c.data("query ($id: ID) { asset(where: {id: $id}, stage: DRAFT) { upload { status } url mimeType } }", json!({"id": id})).await;
                if d["asset"]["upload"]["status"] != "ASSET_CREATE_PENDING" {
                    return d["asset"].clone();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("upload never finished");
        }
    };
    let good_id = good["createAsset"]["id"].as_str().unwrap().to_string();
    let bad_id = bad["createAsset"]["id"].as_str().unwrap().to_string();
    let done = status_of(good_id.clone()).await;
    assert_eq!(done["upload"]["status"], "ASSET_UPLOAD_COMPLETE");
    assert_eq!(done["mimeType"], "text/plain");
    let bytes = http()
        .get(done["url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(bytes, "hello");
    assert_eq!(
        status_of(bad_id.clone()).await["upload"]["status"],
        "ASSET_ERROR_UPLOAD"
    );

    let publish = "mutation ($id: ID) { publishAsset(where: {id: $id}, to: PUBLISHED) { id } }";
    c.data(publish, json!({"id": good_id})).await;
    let (_, body) = c.send(publish, json!({"id": bad_id})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ASSET_ERROR_UPLOAD"),
        "{body}"
    );
}

#[tokio::test]
async fn auth_needs_the_token_and_read_only_tokens_cannot_mutate() {
    let mut opts = EmulatorOptions::new(houdini_model());
    opts.token = Some("rw".into());
    opts.read_only_token = Some("ro".into());
    let emu = Emulator::start(opts).await.unwrap();
    let query = json!({"query": "{ products(stage: DRAFT) { id } }"});
    assert_eq!(send_raw(&http(), &emu.url(), None, &query).await.0, 401);
    assert_eq!(
        send_raw(&http(), &emu.url(), Some("wrong"), &query).await.0,
        401
    );
    assert_eq!(
        send_raw(&http(), &emu.url(), Some("rw"), &query).await.0,
        200
    );
    assert_eq!(
        send_raw(&http(), &emu.url(), Some("ro"), &query).await.0,
        200
    );
    let mutation = json!({"query": "mutation { createReview(data: {comment: \"x\"}) { id } }"});
    let (status, body) = send_raw(&http(), &emu.url(), Some("ro"), &mutation).await;
    assert_eq!(status, 403);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("read-only"));
    assert_eq!(
        send_raw(&http(), &emu.url(), Some("rw"), &mutation).await.0,
        200
    );
    assert_eq!(emu.stats().rejected, 3);
}

#[tokio::test]
async fn rate_limit_answers_429_with_or_without_retry_after() {
    for header in [true, false] {
        let mut opts = EmulatorOptions::new(houdini_model());
        opts.rate_limit = Some(RateLimit {
            per_second: 2,
            retry_after_header: header,
        });
        let emu = Emulator::start(opts).await.unwrap();
        let query = json!({"query": "{ products(stage: DRAFT) { id } }"});
        let client = http();
        let mut limited = None;
        for _ in 0..10 {
            let response = client.post(emu.url()).json(&query).send().await.unwrap();
            if response.status() == 429 {
                limited = Some(
                    response
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_string()),
                );
                break;
            }
        }
        let retry_after = limited.expect("10 requests at once exceed 2 per second");
        assert_eq!(retry_after.as_deref(), header.then_some("1"));
        assert!(emu.stats().rate_limited >= 1);
    }
}

#[tokio::test]
async fn request_bodies_above_the_limit_answer_413() {
    let mut opts = EmulatorOptions::new(houdini_model());
    opts.max_body_bytes = Some(1000);
    let emu = Emulator::start(opts).await.unwrap();
    let big = json!({"query": "{ products(stage: DRAFT) { id } }", "variables": {"pad": "x".repeat(2000)}});
    let (status, body) = send_raw(&http(), &emu.url(), None, &big).await;
    assert_eq!(status, 413);
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("1000"));
    let small = json!({"query": "{ products(stage: DRAFT) { id } }"});
    assert_eq!(send_raw(&http(), &emu.url(), None, &small).await.0, 200);
}

/// Sends the same sequence of requests to a fresh emulator with `faults`; returns its stats
/// and what the client saw.
async fn faulty_run(spec: &str) -> (Stats, Vec<String>) {
    let mut opts = EmulatorOptions::new(houdini_model());
    opts.faults = Some(FaultSpec::parse(spec).unwrap());
    let emu = Emulator::start(opts).await.unwrap();
    let client = http();
    let mut seen = Vec::new();
    for i in 0..40 {
        let body = json!({"query": "mutation ($slug: String!) { createReview(data: {comment: $slug}) { id } }", "variables": {"slug": format!("r{}", i % 10)}});
        let outcome = match client.post(emu.url()).json(&body).send().await {
            Ok(r) => match r.text().await {
                Ok(_) if true => "answered".to_string(),
                Ok(_) => unreachable!(),
                Err(_) => "dropped".to_string(),
            },
            Err(_) => "dropped".to_string(),
        };
        seen.push(outcome);
    }
    (emu.stats(), seen)
}

#[tokio::test]
async fn seeded_faults_are_reproducible() {
    let spec = "rate=0.5,seed=7,kinds=500+502+503+delay+drop-before+drop-after,delay-ms=5";
    let (a, seen_a) = faulty_run(spec).await;
    let (b, seen_b) = faulty_run(spec).await;
    assert_eq!(a.faults, b.faults, "same seed, same faults");
    assert_eq!(seen_a, seen_b);
    assert_eq!(a.by_field, b.by_field);
    let total: u64 = a.faults.values().sum();
    assert!(
        (5..=35).contains(&total),
        "about half of 40 requests: {:?}",
        a.faults
    );
    assert!(
        seen_a.iter().any(|s| s == "dropped")
            == (a.faults.contains_key("drop-before") || a.faults.contains_key("drop-after"))
    );
    let (c, _) =
        faulty_run("rate=0.5,seed=8,kinds=500+502+503+delay+drop-before+drop-after,delay-ms=5")
            .await;
    assert_ne!(a.faults, c.faults, "another seed, other faults");
    let (none, _) = faulty_run("rate=0").await;
    assert!(none.faults.is_empty());
}

#[tokio::test]
async fn dump_and_seed_round_trip() {
    let emu = start(houdini_model()).await;
    let Some(c) = Client::new(&emu, true) else {
        return;
    };
    let p = create_product(&c, "p", 1).await;
    create_review(&c, "r", Some(&p)).await;
    c.data("mutation ($id: ID) { updateProduct(where: {id: $id}, data: {localizations: {create: [{locale: de, data: {name: \"P de\"}}]}}) { id } publishProduct(where: {id: $id}, to: PUBLISHED) { id } }", json!({"id": p})).await;
    let dump = emu.dump();
    let product = &dump["models"]["Product"][0];
    assert_eq!(product["id"], p.as_str());
    let draft = &product["stages"]["DRAFT"];
    assert_eq!(draft["fields"]["slug"], "p");
    assert_eq!(draft["localizations"]["en"]["name"], "Product p");
    assert_eq!(draft["relations"]["reviews"][0]["__typename"], "Review");
    assert!(product["stages"]["PUBLISHED"]["publishedAt"].is_string());
    let http_dump: Value = http()
        .get(format!("{}/__emulator/dump", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(http_dump, dump);

    let copy = Emulator::start(EmulatorOptions {
        seed: Some(dump.clone()),
        ..EmulatorOptions::new(houdini_model())
    })
    .await
    .unwrap();
    assert_eq!(copy.dump(), dump);
    let c2 = Client::new(&copy, true).unwrap();
    let d = c2.data("query ($id: ID) { product(where: {id: $id}, stage: PUBLISHED) { slug reviews { comment } } }", json!({"id": p})).await;
    assert_eq!(d["product"]["slug"], "p");
    // New ids after a seed still sort after the seeded ones.
    let q = create_product(&c2, "q", 2).await;
    assert!(q > p);

    // Reset: stats only, then content too.
    let reset = http()
        .post(format!("{}/__emulator/reset", copy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(copy.stats().requests, 0);
    assert_eq!(
        copy.dump()["models"]["Product"].as_array().unwrap().len(),
        2
    );
    http()
        .post(format!("{}/__emulator/reset?content=1", copy.base_url()))
        .send()
        .await
        .unwrap();
    assert!(copy.dump()["models"]["Product"]
        .as_array()
        .unwrap()
        .is_empty());
    let stats: Value = http()
        .get(format!("{}/__emulator/stats", emu.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(stats["mutations"].as_u64().unwrap() >= 3);
    assert!(stats["bytes_in"].as_u64().unwrap() > 0);
}
