//! The derivation rules: from a [`TypeSystem`] (SDL or introspection, already read) to a
//! [`ContentModel`]. Everything is read from the schema; only Hygraph's own system names
//! (system models, system fields, `Node`, `Entity`, `Locale`, `Stage`) are known here.
//!
//! Decisions worth knowing:
//! - Models, components and enumerations are sorted by name (SDL and introspection list types in
//!   different orders); fields keep schema order. Locales list the default locale first, then the
//!   others in enum order.
//! - `Asset.url` and `Asset.upload` are left out like system fields: Hygraph computes them, the
//!   asset pipeline reads them explicitly, and they differ between environments by design.
//! - A field whose type is an object that is neither a model, a component nor a structured
//!   scalar (`RichText`, `Color`, `Location`, `RGBA`) — a remote field's own type, say — is left
//!   out: there is nothing stagesync could write to it.
//! - Enumerations are the enums used by fields of models and components (system enums such as
//!   `ImageFit` are not content).
//! - Relations are paired with their reverse fields by [`super::pairing`] (types, then Hygraph's
//!   naming; what stays ambiguous is undecided, never guessed).

use std::collections::{BTreeSet, HashMap};

use super::type_system::{FieldDef, TypeKind, TypeSystem};
use super::{
    default_plural, default_singular, Access, AssetSystem, Component, ContentModel, Enumeration,
    Field, FieldKind, Model, ModelError, Relation, Scalar,
};

/// Object types implementing `Node` that are Hygraph's own, not content.
const SYSTEM_MODELS: &[&str] = &["User", "ScheduledOperation", "ScheduledRelease"];

/// Fields Hygraph adds to every model.
pub(crate) const SYSTEM_FIELDS: &[&str] = &[
    "id",
    "stage",
    "locale",
    "localizations",
    "documentInStages",
    "createdAt",
    "updatedAt",
    "publishedAt",
    "createdBy",
    "updatedBy",
    "publishedBy",
    "history",
    "scheduledIn",
];

/// Fields of the asset model that Hygraph computes (see the module doc).
pub(crate) const ASSET_COMPUTED_FIELDS: &[&str] = &["url", "upload"];

/// The scalar kind for a Content API type name, if it is one.
pub(crate) fn scalar_named(name: &str) -> Option<Scalar> {
    Some(match name {
        "String" => Scalar::String,
        "Int" => Scalar::Int,
        "Float" => Scalar::Float,
        "Boolean" => Scalar::Boolean,
        "Long" => Scalar::Long,
        "Date" => Scalar::Date,
        "DateTime" => Scalar::DateTime,
        "Json" => Scalar::Json,
        "RichText" => Scalar::RichText,
        "Color" => Scalar::Color,
        "Location" => Scalar::Location,
        "Hex" => Scalar::Hex,
        "RGBA" => Scalar::Rgba,
        "ID" => Scalar::Id,
        _ => return None,
    })
}

/// Hygraph's name for the reverse field on `Asset` of the asset field `model.field`.
pub(crate) fn asset_reverse_name(model: &str, field: &str) -> String {
    let mut chars = field.chars();
    let upper: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{}{upper}", default_singular(model))
}

struct Context<'a> {
    types: &'a TypeSystem,
    origin: &'a str,
    models: BTreeSet<&'a str>,
    components: BTreeSet<&'a str>,
}

pub(crate) fn derive(types: &TypeSystem, origin: &str) -> Result<ContentModel, ModelError> {
    let missing_enum = |name: &str| ModelError::MissingEnum {
        origin: origin.into(),
        name: name.into(),
    };
    let stages: Vec<String> = types
        .enum_values("Stage")
        .ok_or_else(|| missing_enum("Stage"))?
        .iter()
        .map(|v| v.name.clone())
        .collect();
    if stages.is_empty() {
        return Err(missing_enum("Stage"));
    }
    let locale_values = types
        .enum_values("Locale")
        .ok_or_else(|| missing_enum("Locale"))?;
    let default_locale =
        default_locale(types, locale_values).ok_or(ModelError::NoDefaultLocale {
            origin: origin.into(),
        })?;
    let mut locales = vec![default_locale.clone()];
    locales.extend(
        locale_values
            .iter()
            .map(|v| v.name.clone())
            .filter(|l| *l != default_locale),
    );

    let object_names = |pred: &dyn Fn(&super::type_system::TypeDef) -> bool| {
        types
            .types
            .iter()
            .filter(|t| matches!(t.kind, TypeKind::Object { .. }))
            .filter(|t| !SYSTEM_MODELS.contains(&t.name.as_str()))
            .filter(|t| pred(t))
            .map(|t| t.name.as_str())
            .collect::<BTreeSet<_>>()
    };
    let ctx = Context {
        types,
        origin,
        models: object_names(&|t| t.implements("Node")),
        components: object_names(&|t| t.implements("Entity") && !t.implements("Node")),
    };

    let query_fields: &[FieldDef] = match types
        .query_type
        .as_deref()
        .and_then(|q| types.get(q))
        .map(|t| &t.kind)
    {
        Some(TypeKind::Object { fields, .. }) => fields,
        _ => &[],
    };

    let mut enums_used = BTreeSet::new();
    let mut models = Vec::new();
    for &name in &ctx.models {
        let singular = query_fields
            .iter()
            .find(|f| f.ty.name == name && !f.ty.list)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| default_singular(name));
        let plural = query_fields
            .iter()
            .find(|f| f.ty.name == name && f.ty.list)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| default_plural(name));
        let asset = (name == "Asset").then(|| asset_system(types));
        let skip: &[&str] = if asset.is_some() {
            ASSET_COMPUTED_FIELDS
        } else {
            &[]
        };
        let fields = derive_fields(&ctx, name, skip, &mut enums_used)?;
        models.push(Model {
            name: name.into(),
            singular,
            plural,
            asset,
            fields,
        });
    }

    let mut components = Vec::new();
    for &name in &ctx.components {
        let fields = derive_fields(&ctx, name, &[], &mut enums_used)?;
        components.push(Component {
            name: name.into(),
            fields,
        });
    }

    let enumerations = enums_used
        .into_iter()
        .map(|name: String| Enumeration {
            values: types
                .enum_values(&name)
                .unwrap_or_default()
                .iter()
                .map(|v| v.name.clone())
                .collect(),
            name,
        })
        .collect();

    super::pairing::pair(&mut models, &[]).expect("no rules, no problems");

    Ok(ContentModel {
        models,
        components,
        enumerations,
        locales,
        default_locale,
        stages,
        mutations: has_mutations(types),
    })
}

/// Whether the mutation root type exists and has a field (Hygraph writes a read-only token's
/// export with an empty `type Mutation`).
fn has_mutations(types: &TypeSystem) -> bool {
    types
        .mutation_type
        .as_deref()
        .and_then(|m| types.get(m))
        .is_some_and(|t| matches!(&t.kind, TypeKind::Object { fields, .. } if !fields.is_empty()))
}

fn default_locale(
    types: &TypeSystem,
    values: &[super::type_system::EnumValueDef],
) -> Option<String> {
    if let Some(value) = values.iter().find(|v| {
        v.description
            .as_deref()
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("system locale"))
    }) {
        return Some(value.name.clone());
    }
    // Older exports describe inputs as "... input for default locale (en)".
    let descriptions = types.types.iter().flat_map(|t| {
        let own = t.description.as_deref().into_iter();
        let fields: Vec<&str> = match &t.kind {
            TypeKind::Object { fields, .. } => fields
                .iter()
                .filter_map(|f| f.description.as_deref())
                .collect(),
            TypeKind::Input { fields } => fields
                .iter()
                .filter_map(|f| f.description.as_deref())
                .collect(),
            _ => Vec::new(),
        };
        own.chain(fields)
    });
    for description in descriptions {
        if let Some(at) = description.find("default locale (") {
            let rest = &description[at + "default locale (".len()..];
            if let Some(end) = rest.find(')') {
                let locale = rest[..end].trim();
                if values.iter().any(|v| v.name == locale) {
                    return Some(locale.to_string());
                }
            }
        }
    }
    None
}

fn asset_system(types: &TypeSystem) -> AssetSystem {
    let has_input = |name: &str| {
        types
            .input_fields("AssetCreateInput")
            .is_some_and(|fields| fields.iter().any(|f| f.name == name))
    };
    if has_input("uploadUrl") {
        AssetSystem::UploadUrl
    } else {
        // `handle` in the create input is the legacy system; without a create input (a token
        // that may not create assets) legacy is the safe reading: it never needs `upload`.
        AssetSystem::Legacy
    }
}

fn derive_fields(
    ctx: &Context,
    owner: &str,
    skip: &[&str],
    enums_used: &mut BTreeSet<String>,
) -> Result<Vec<Field>, ModelError> {
    let Some(TypeKind::Object { fields, .. }) = ctx.types.get(owner).map(|t| &t.kind) else {
        return Ok(Vec::new());
    };
    let names = |suffix: &str| -> Option<HashMap<&str, bool>> {
        ctx.types
            .input_fields(&format!("{owner}{suffix}"))
            .map(|fields| {
                fields
                    .iter()
                    .map(|f| (f.name.as_str(), f.ty.non_null))
                    .collect()
            })
    };
    let create = names("CreateInput");
    let update = names("UpdateInput");
    let localization = names("CreateLocalizationDataInput");
    let unique = names("WhereUniqueInput");

    let mut out = Vec::new();
    for field in fields {
        let name = field.name.as_str();
        if SYSTEM_FIELDS.contains(&name) || skip.contains(&name) {
            continue;
        }
        let embeds = rich_text_embeds(ctx, field);
        let kind = match &embeds {
            Some(_) => FieldKind::Scalar {
                scalar: Scalar::RichText,
            },
            None => match field_kind(ctx, owner, field)? {
                Some(kind) => kind,
                None => continue,
            },
        };
        if let FieldKind::Enumeration { name } = &kind {
            enums_used.insert(name.clone());
        }
        let in_input = |input: &Option<HashMap<&str, bool>>| {
            input.as_ref().is_some_and(|i| i.contains_key(name))
        };
        let mixed = mixed_union_access(ctx, owner, field, &kind, &create, &update);
        let access = if let Some(access) = mixed {
            access
        } else if in_input(&create) || in_input(&update) {
            Access::Writable
        } else if field.remote {
            Access::ReadOnly("remote field (@remote): its value comes from an external API".into())
        } else {
            Access::ReadOnly(format!(
                "not in {owner}CreateInput or {owner}UpdateInput: the API does not accept writes to it"
            ))
        };
        out.push(Field {
            name: name.into(),
            kind,
            list: field.ty.list,
            required: create
                .as_ref()
                .and_then(|c| c.get(name).copied())
                .unwrap_or(false),
            localized: in_input(&localization),
            unique: name != "id" && in_input(&unique),
            access,
            embeds: embeds.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A union mixing content models and components (Hygraph's 2022-style modular fields). Its
/// value holds components (content, written whole) and entries (relation targets) in one
/// ordered list, and how the API writes such a list — which inline input takes which member,
/// and how a position orders entries among components — is not something the input types
/// alone determine: stagesync does not write it. The field is read-only for stagesync (listed as
/// skipped with this reason by `stagesync schema`, `plan` and every run), never a refusal of
/// the whole schema and never a silent loss. `None` for any other field.
fn mixed_union_access(
    ctx: &Context,
    owner: &str,
    field: &FieldDef,
    kind: &FieldKind,
    create: &Option<HashMap<&str, bool>>,
    update: &Option<HashMap<&str, bool>>,
) -> Option<Access> {
    let FieldKind::Component { targets, union } = kind else {
        return None;
    };
    let (models, components): (Vec<&String>, Vec<&String>) = targets
        .iter()
        .partition(|t| ctx.models.contains(t.as_str()));
    if models.is_empty() {
        return None;
    }
    let list = |v: Vec<&String>| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    let union = union.as_deref().unwrap_or_default();
    let writable = create
        .as_ref()
        .is_some_and(|c| c.contains_key(field.name.as_str()))
        || update
            .as_ref()
            .is_some_and(|u| u.contains_key(field.name.as_str()));
    let input = if writable {
        format!(
            "the API takes it through `{owner}CreateInput.{0}`/`{owner}UpdateInput.{0}`, whose union inputs stagesync does not write",
            field.name
        )
    } else {
        format!("`{owner}CreateInput` and `{owner}UpdateInput` do not take it")
    };
    Some(Access::ReadOnly(format!(
        "union `{union}` mixes content models ({}) and components ({}): not synced by this version of stagesync ({input}); keep models and components in separate fields to sync them",
        list(models),
        list(components)
    )))
}

/// The embeddable models of a rich-text field with embeds: its type is Hygraph's generated
/// `<Owner><Field>RichText` object (`raw: RichTextAST!` like `RichText`) whose `references` list
/// a union of the models (`<Owner><Field>RichTextEmbeddedTypes`). `None` for any other field.
fn rich_text_embeds(ctx: &Context, field: &FieldDef) -> Option<Vec<String>> {
    let name = field.ty.name.as_str();
    if name == "RichText" || ctx.models.contains(name) || ctx.components.contains(name) {
        return None;
    }
    let Some(TypeKind::Object { fields, .. }) = ctx.types.get(name).map(|t| &t.kind) else {
        return None;
    };
    if !fields
        .iter()
        .any(|f| f.name == "raw" && f.ty.name == "RichTextAST")
    {
        return None;
    }
    let references = fields.iter().find(|f| f.name == "references");
    let mut embeds: Vec<String> = match references.and_then(|r| ctx.types.get(&r.ty.name)) {
        Some(def) => match &def.kind {
            TypeKind::Union { members } => members.clone(),
            TypeKind::Object { .. } => vec![def.name.clone()],
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    // Only models can be embedded; anything else in the union is not content stagesync knows.
    embeds.retain(|m| ctx.models.contains(m.as_str()));
    embeds.sort();
    Some(embeds)
}

fn field_kind(
    ctx: &Context,
    owner: &str,
    field: &FieldDef,
) -> Result<Option<FieldKind>, ModelError> {
    let target = field.ty.name.as_str();
    if let Some(scalar) = scalar_named(target) {
        return Ok(Some(FieldKind::Scalar { scalar }));
    }
    let missing = |target: &str| ModelError::MissingType {
        origin: ctx.origin.into(),
        owner: owner.into(),
        field: field.name.clone(),
        target: target.into(),
    };
    let def = ctx.types.get(target).ok_or_else(|| missing(target))?;
    let relation = |targets: Vec<String>, union: Option<String>| {
        FieldKind::Relation(Relation::one_way(targets, union))
    };
    Ok(match &def.kind {
        TypeKind::Enum { .. } => Some(FieldKind::Enumeration {
            name: target.into(),
        }),
        TypeKind::Object { .. } if ctx.models.contains(target) => {
            Some(relation(vec![target.into()], None))
        }
        TypeKind::Object { .. } if ctx.components.contains(target) => Some(FieldKind::Component {
            targets: vec![target.into()],
            union: None,
        }),
        TypeKind::Union { members } => {
            if members.is_empty() {
                return Err(ModelError::EmptyUnion {
                    origin: ctx.origin.into(),
                    owner: owner.into(),
                    field: field.name.clone(),
                    union: target.into(),
                });
            }
            if let Some(absent) = members.iter().find(|m| ctx.types.get(m).is_none()) {
                return Err(missing(absent));
            }
            let all = |set: &BTreeSet<&str>| members.iter().all(|m| set.contains(m.as_str()));
            if all(&ctx.models) {
                Some(relation(members.clone(), Some(target.into())))
            } else if all(&ctx.components) {
                Some(FieldKind::Component {
                    targets: members.clone(),
                    union: Some(target.into()),
                })
            } else {
                // Models and components in one union (see `mixed_union_access`): kept as a
                // component field over every member, read-only for stagesync.
                Some(FieldKind::Component {
                    targets: members.clone(),
                    union: Some(target.into()),
                })
            }
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{from_sdl, Cardinality, ContentModel};

    const PRELUDE: &str = r#"
interface Node { id: ID! stage: Stage! }
enum Locale { """System locale""" en }
enum Stage { DRAFT PUBLISHED }
"#;

    fn derive(types: &str) -> ContentModel {
        from_sdl(&format!("{PRELUDE}{types}"), "test.graphql").unwrap()
    }

    fn reverse(content: &ContentModel, model: &str, field: &str) -> (Option<String>, Cardinality) {
        let r = content
            .model(model)
            .unwrap()
            .field(field)
            .unwrap()
            .relation()
            .unwrap();
        (r.reverse().map(String::from), r.cardinality)
    }

    #[test]
    fn plain_relations_pair_before_a_union_over_the_same_models() {
        let content = derive(
            r#"
type Conference implements Node { id: ID! stage: Stage! events: [Event!]! }
type Event implements Node { id: ID! stage: Stage! conference: Conference talks: [Talk!]! }
type Talk implements Node { id: ID! stage: Stage! event: Event venue: TalkVenue related: [Talk!]! }
union TalkVenue = Event | Conference
"#,
        );
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            reverse(&content, "Event", "talks"),
            (some("event"), Cardinality::OneToMany)
        );
        assert_eq!(
            reverse(&content, "Talk", "event"),
            (some("talks"), Cardinality::ManyToOne)
        );
        assert_eq!(
            reverse(&content, "Conference", "events"),
            (some("conference"), Cardinality::OneToMany)
        );
        assert_eq!(
            reverse(&content, "Talk", "venue"),
            (None, Cardinality::OneWay)
        );
        assert_eq!(
            reverse(&content, "Talk", "related"),
            (None, Cardinality::OneWay)
        );
    }

    #[test]
    fn ambiguous_reverse_fields_stay_one_way() {
        let content = derive(
            r#"
type Post implements Node { id: ID! stage: Stage! writer: Person editor: Person }
type Person implements Node { id: ID! stage: Stage! work: [Post!]! }
"#,
        );
        assert_eq!(
            reverse(&content, "Post", "writer"),
            (None, Cardinality::OneWay)
        );
        assert_eq!(
            reverse(&content, "Post", "editor"),
            (None, Cardinality::OneWay)
        );
        assert_eq!(
            reverse(&content, "Person", "work"),
            (None, Cardinality::OneWay)
        );
    }

    #[test]
    fn asset_reverse_fields_pair_by_hygraph_naming() {
        let content = derive(
            r#"
type Asset implements Node { id: ID! stage: Stage! url: String! postCover: [Post!]! postThumbnail: [Post!]! }
type Post implements Node { id: ID! stage: Stage! thumbnail: Asset cover: Asset }
input AssetCreateInput { handle: String! }
"#,
        );
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            reverse(&content, "Post", "cover"),
            (some("postCover"), Cardinality::ManyToOne)
        );
        assert_eq!(
            reverse(&content, "Asset", "postThumbnail"),
            (some("thumbnail"), Cardinality::OneToMany)
        );
        let asset = content.asset_model().unwrap();
        assert!(
            asset.field("url").is_none(),
            "computed asset fields are left out"
        );
    }

    #[test]
    fn rich_text_with_embeds_knows_its_embeddable_models() {
        let content = derive(
            r#"
interface Entity { id: ID! stage: Stage! }
type Asset implements Node { id: ID! stage: Stage! url: String! }
type Speaker implements Node { id: ID! stage: Stage! name: String }
type Post implements Node & Entity {
  id: ID! stage: Stage!
  content: PostContentRichText
  summary: RichText
  blocks: [Block!]!
}
type Block implements Entity { id: ID! stage: Stage! body: BlockBodyRichText! }
type RichText { raw: RichTextAST! html: String! }
type PostContentRichText {
  html: String!
  json: RichTextAST!
  raw: RichTextAST! @deprecated(reason: "Please use the 'json' field")
  references(after: String, before: String, first: Int, last: Int, skip: Int): [PostContentRichTextEmbeddedTypes!]!
  text: String!
}
union PostContentRichTextEmbeddedTypes = Speaker | Asset
type BlockBodyRichText { raw: RichTextAST! references: [BlockBodyRichTextEmbeddedTypes!]! }
union BlockBodyRichTextEmbeddedTypes = Post
scalar RichTextAST
input PostCreateInput { content: RichTextAST summary: RichTextAST }
input PostCreateLocalizationDataInput { content: RichTextAST }
input AssetCreateInput { handle: String! }
"#,
        );
        let post = content.model("Post").unwrap();
        let rich = post
            .field("content")
            .expect("rich text with embeds is a field");
        assert!(rich.is_rich_text());
        assert!(rich.localized);
        assert_eq!(rich.embeds, ["Asset", "Speaker"]);
        assert_eq!(
            rich.rich_text_type("Post").as_deref(),
            Some("PostContentRichText")
        );
        let plain = post.field("summary").unwrap();
        assert!(plain.is_rich_text() && plain.embeds.is_empty());
        assert_eq!(plain.rich_text_type("Post"), None);
        let body = &content.component("Block").unwrap().fields[0];
        assert!(body.is_rich_text());
        assert_eq!(body.embeds, ["Post"]);
        assert!(
            content.model("PostContentRichText").is_none()
                && content.component("PostContentRichText").is_none()
        );
    }

    #[test]
    fn model_file_embeds_are_checked_and_sorted() {
        let file = |field: &str| {
            format!(
                "locales = [\"en\"]\n[asset]\nsystem = \"legacy\"\n[[models]]\nname = \"Speaker\"\nfields = [{{ name = \"name\", type = \"String\" }}]\n[[models]]\nname = \"Talk\"\nfields = [{field}]\n"
            )
        };
        let content = super::super::from_model_file(
            &file(r#"{ name = "abstract", type = "RichText", embeds = ["Speaker", "Asset"] }"#),
            "ok.toml",
        )
        .unwrap();
        let field = content.model("Talk").unwrap().field("abstract").unwrap();
        assert_eq!(field.embeds, ["Asset", "Speaker"]);
        for (spec, problem) in [
            (
                r#"{ name = "abstract", type = "String", embeds = ["Speaker"] }"#,
                "only `RichText` fields embed",
            ),
            (
                r#"{ name = "abstract", type = "RichText", embeds = ["Nope"] }"#,
                "embeds `Nope`, which is not a model",
            ),
            (
                r#"{ name = "abstract", type = "RichText", embeds = [] }"#,
                "list the models",
            ),
        ] {
            let err = super::super::from_model_file(&file(spec), "bad.toml")
                .unwrap_err()
                .to_string();
            assert!(err.contains(problem) && err.contains("bad.toml:"), "{err}");
        }
    }

    #[test]
    fn default_locale_falls_back_to_input_descriptions() {
        let sdl = r#"
interface Node { id: ID! stage: Stage! }
enum Locale { de en }
enum Stage { DRAFT }
input PostCreateInput { """Title input for default locale (en)""" title: String }
"#;
        let content = from_sdl(sdl, "old.graphql").unwrap();
        assert_eq!(content.default_locale, "en");
        assert_eq!(content.locales, ["en", "de"]);
    }
}
