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
    assert_eq!(relation.reverse.as_deref(), Some("product"));
    assert_eq!(relation.cardinality, Cardinality::OneToMany);
    let votes = product.field("votes").unwrap().relation().unwrap();
    assert_eq!(
        (votes.reverse.as_deref(), votes.cardinality),
        (Some("product"), Cardinality::OneToMany)
    );

    let image = product.field("image").unwrap();
    assert!(!image.list);
    let image = image.relation().unwrap();
    assert_eq!(image.targets, ["Asset"]);
    assert_eq!(image.reverse.as_deref(), Some("productImage"));
    assert_eq!(image.cardinality, Cardinality::ManyToOne);

    let review = content.model("Review").unwrap();
    assert_eq!(field_names(review), ["comment", "name", "product"]);
    assert!(review.field("comment").unwrap().required);
    let back = review.field("product").unwrap().relation().unwrap();
    assert_eq!(back.targets, ["Product"]);
    assert_eq!(back.reverse.as_deref(), Some("reviews"));
    assert_eq!(back.cardinality, Cardinality::ManyToOne);
    assert!(!review.has_localized_fields());

    let vote = content.model("Vote").unwrap();
    assert_eq!(field_names(vote), ["product"]);
    assert_eq!(
        vote.field("product")
            .unwrap()
            .relation()
            .unwrap()
            .reverse
            .as_deref(),
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
    assert_eq!(product_image.reverse.as_deref(), Some("image"));
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
