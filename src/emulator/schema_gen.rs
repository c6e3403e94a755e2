//! The GraphQL schema (SDL) Hygraph's Content API would generate for a content model: the
//! surface the emulator validates every request against and answers introspection with.
//!
//! Names and shapes follow the real schema in `shared/fixtures/hygraph/with-houdini.graphql`
//! (types, root fields, arguments, defaults, every generated input). It is not a template
//! engine for arbitrary schemas: it covers what a Hygraph project can hold (scalars, enums,
//! localized fields, relations one- and two-way, unions, components and component unions, the
//! legacy and the upload-url asset systems, custom stages).
//!
//! Where the fixture has no example, shapes are inferred from other public Hygraph schemas:
//! - union relations: member-keyed inputs (`<Union>WhereUniqueInput { Event: EventWhereUniqueInput }`,
//!   `<Union>CreateInput`, `<Union>ConnectInput`, `<Union>UpdateWithNestedWhereUniqueInput`,
//!   `<Union>UpsertWithNestedWhereUniqueInput`, `<Union>UpdateManyWithNestedWhereInput`,
//!   `<Union>WhereInput`), and `<field>_empty: Boolean` filters;
//! - components: `...CreateWithPositionInput`, `...UpdateWithNestedWhereUniqueAndPositionInput`,
//!   `...UpsertWithNestedWhereUniqueAndPositionInput`; component unions keyed by member name;
//! - Json filters `_json_path_exists` / `_value_recursive`, list filters `_contains_all`,
//!   `_contains_none`, `_contains_some`, Boolean `_not`, enum `_in`/`_not`/`_not_in`;
//! - the upload-url asset system: `AssetCreateInput.uploadUrl`, `AssetUpdateInput.uploadUrl`,
//!   `AssetUpdateInput.reUpload`, `Asset.upload: AssetUpload { status expiresAt error
//!   requestPostData }`, `AssetWhereInput.upload: AssetUploadWhereInput`.
//!
//! One deliberate deviation, configurable: the default of the `stage` argument of queries. The
//! real schema says `PUBLISHED` and lets the token override it (`@defaultOverride`); the emulator
//! behaves like a DRAFT-stage token, so [`generate_sdl`] writes `DRAFT`.
//! [`generate_sdl_with`] with `default_stage: "PUBLISHED"` writes exactly what the fixture has.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{upper_first, AssetSystem, ContentModel, Field, FieldKind, Model, Scalar};

/// Choices that are not part of the content model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdlOptions {
    /// Default of the `stage` argument of queries (`DRAFT` for a DRAFT-stage token).
    pub default_stage: String,
    /// The `documentInStages_every/_some/_none` filters of every content model's where inputs
    /// (current Hygraph; exports from before 2023, such as the fixtures, lack them).
    pub stage_filters: bool,
}

impl Default for SdlOptions {
    fn default() -> Self {
        SdlOptions {
            default_stage: "DRAFT".into(),
            stage_filters: true,
        }
    }
}

/// A generated schema that apollo-compiler rejects: a bug here, or names in the content model
/// that are not valid GraphQL names.
#[derive(Debug, thiserror::Error)]
#[error(
    "the schema generated for the content model is invalid GraphQL: {message}; check the model \
     and field names in the model file or schema (they must be GraphQL names)"
)]
pub struct SchemaGenError {
    pub message: String,
}

/// The SDL Hygraph would serve for `model`, as seen by a DRAFT-stage token.
pub fn generate_sdl(model: &ContentModel) -> String {
    generate_sdl_with(model, &SdlOptions::default())
}

/// The SDL Hygraph would serve for `model`, with explicit options.
pub fn generate_sdl_with(model: &ContentModel, options: &SdlOptions) -> String {
    let mut gen = Generator::new(model, options);
    gen.generate();
    gen.render()
}

/// The generated schema, parsed and validated.
pub fn generate_schema(
    model: &ContentModel,
) -> Result<apollo_compiler::validation::Valid<apollo_compiler::Schema>, SchemaGenError> {
    let sdl = generate_sdl(model);
    apollo_compiler::Schema::parse_and_validate(sdl, "emulator-schema.graphql").map_err(|e| {
        SchemaGenError {
            message: e.errors.to_string(),
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Interface,
    Input,
    Enum,
    Union,
    Scalar,
}

#[derive(Debug, Clone)]
struct Def {
    kind: Kind,
    implements: Vec<String>,
    description: Option<String>,
    fields: BTreeMap<String, FieldDef>,
    /// Enum values or union members, in order.
    values: Vec<String>,
}

#[derive(Debug, Clone)]
struct FieldDef {
    args: BTreeMap<String, ArgDef>,
    ty: String,
    /// Default value of an input field.
    default: Option<String>,
    description: Option<String>,
    deprecated: Option<String>,
}

#[derive(Debug, Clone)]
struct ArgDef {
    ty: String,
    default: Option<String>,
}

impl Def {
    fn new(kind: Kind) -> Self {
        Def {
            kind,
            implements: Vec::new(),
            description: None,
            fields: BTreeMap::new(),
            values: Vec::new(),
        }
    }

    fn field(&mut self, name: &str, ty: impl Into<String>) -> &mut FieldDef {
        self.fields.insert(
            name.to_string(),
            FieldDef {
                args: BTreeMap::new(),
                ty: ty.into(),
                default: None,
                description: None,
                deprecated: None,
            },
        );
        self.fields.get_mut(name).expect("just inserted")
    }
}

impl FieldDef {
    fn arg(&mut self, name: &str, ty: impl Into<String>) -> &mut Self {
        self.args.insert(
            name.to_string(),
            ArgDef {
                ty: ty.into(),
                default: None,
            },
        );
        self
    }

    fn arg_default(
        &mut self,
        name: &str,
        ty: impl Into<String>,
        default: impl Into<String>,
    ) -> &mut Self {
        self.args.insert(
            name.to_string(),
            ArgDef {
                ty: ty.into(),
                default: Some(default.into()),
            },
        );
        self
    }

    fn deprecated(&mut self, reason: &str) -> &mut Self {
        self.deprecated = Some(reason.to_string());
        self
    }

    fn describe(&mut self, text: &str) -> &mut Self {
        self.description = Some(text.to_string());
        self
    }
}

/// Everything one schema holds, keyed by type name so the output is sorted and stable.
struct Generator<'a> {
    model: &'a ContentModel,
    options: &'a SdlOptions,
    defs: BTreeMap<String, Def>,
    query: Def,
    mutation: Def,
    locales: Vec<String>,
    default_locale: String,
    stages: Vec<String>,
}

/// What the where/orderBy/connection generators need to know about a model, system or content.
struct Shape<'a> {
    name: &'a str,
    fields: &'a [Field],
    /// `createdBy`/`updatedBy`/`publishedBy` filters (every model but `User`).
    user_refs: bool,
    /// `scheduledIn_*` filters (content models only).
    scheduled_in: bool,
    /// `createdAt`/`updatedAt`/`publishedAt` (false for components).
    timestamps: bool,
    /// The `upload` filter of an asset on the upload-url system.
    upload: bool,
}

fn output_scalar(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "String",
        Scalar::Int => "Int",
        Scalar::Float => "Float",
        Scalar::Boolean => "Boolean",
        Scalar::Long => "Long",
        Scalar::Date => "Date",
        Scalar::DateTime => "DateTime",
        Scalar::Json => "Json",
        Scalar::RichText => "RichText",
        Scalar::Color => "Color",
        Scalar::Location => "Location",
        Scalar::Hex => "Hex",
        Scalar::Rgba => "RGBA",
        Scalar::Id => "ID",
    }
}

fn input_scalar(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::RichText => "RichTextAST",
        Scalar::Color => "ColorInput",
        Scalar::Location => "LocationInput",
        Scalar::Rgba => "RGBAInput",
        other => output_scalar(other),
    }
}

/// Scalars a where filter exists for, and which family of operators it gets.
enum FilterFamily {
    Text,
    Ordered,
    Boolean,
    Json,
    None,
}

fn filter_family(scalar: Scalar) -> FilterFamily {
    match scalar {
        Scalar::String | Scalar::Id | Scalar::Hex => FilterFamily::Text,
        Scalar::Int | Scalar::Float | Scalar::Long | Scalar::Date | Scalar::DateTime => {
            FilterFamily::Ordered
        }
        Scalar::Boolean => FilterFamily::Boolean,
        Scalar::Json => FilterFamily::Json,
        Scalar::RichText | Scalar::Color | Scalar::Location | Scalar::Rgba => FilterFamily::None,
    }
}

fn orderable(field: &Field) -> bool {
    if field.list {
        return false;
    }
    match &field.kind {
        FieldKind::Scalar { scalar } => !matches!(
            scalar,
            Scalar::Json | Scalar::RichText | Scalar::Color | Scalar::Location | Scalar::Rgba
        ),
        FieldKind::Enumeration { .. } => true,
        _ => false,
    }
}

const DOCUMENT_FILE_TYPES: &[&str] = &[
    "doc", "docx", "html", "jpg", "odp", "ods", "odt", "pdf", "png", "ppt", "pptx", "svg", "txt",
    "webp", "xls", "xlsx",
];

impl<'a> Generator<'a> {
    fn new(model: &'a ContentModel, options: &'a SdlOptions) -> Self {
        // A schema needs at least one locale and the two built-in stages.
        let mut locales = model.locales.clone();
        let default_locale = if model.default_locale.is_empty() {
            locales.first().cloned().unwrap_or_else(|| "en".into())
        } else {
            model.default_locale.clone()
        };
        if !locales.contains(&default_locale) {
            locales.insert(0, default_locale.clone());
        }
        let mut stages = model.stages.clone();
        for built_in in ["DRAFT", "PUBLISHED"] {
            if !stages.iter().any(|s| s == built_in) {
                stages.push(built_in.into());
            }
        }
        Generator {
            model,
            options,
            defs: BTreeMap::new(),
            query: Def::new(Kind::Object),
            mutation: Def::new(Kind::Object),
            locales,
            default_locale,
            stages,
        }
    }

    fn def(&mut self, name: &str, kind: Kind) -> &mut Def {
        self.defs
            .entry(name.to_string())
            .or_insert_with(|| Def::new(kind))
    }

    fn has(&self, name: &str) -> bool {
        self.defs.contains_key(name)
    }

    /// `[en, de]`: the default locale first, as Hygraph lists them.
    fn locales_default(&self) -> String {
        let mut ordered = vec![self.default_locale.clone()];
        ordered.extend(
            self.locales
                .iter()
                .filter(|l| **l != self.default_locale)
                .cloned(),
        );
        format!("[{}]", ordered.join(", "))
    }

    fn generate(&mut self) {
        self.system_types();
        for model in &self.model.models {
            self.content_model(model);
        }
        for component in &self.model.components {
            self.component(&component.name, &component.fields);
        }
        for enumeration in &self.model.enumerations {
            let def = self.def(&enumeration.name, Kind::Enum);
            def.values = enumeration.values.clone();
        }
        self.system_models();
        if !self.model.components.is_empty() {
            let def = self.def("Entity", Kind::Interface);
            def.description = Some("An object with an ID".into());
            def.field("id", "ID!");
            def.field("stage", "Stage!");
        }
        let stage_default = self.options.default_stage.clone();
        let locales_default = format!("[{}]", self.default_locale);
        self.query
            .field("node", "Node")
            .arg("id", "ID!")
            .arg_default("locales", "[Locale!]!", locales_default)
            .arg_default("stage", "Stage!", stage_default)
            .describe("Fetches an object given its ID");
    }

    fn system_types(&mut self) {
        let def = self.def("Node", Kind::Interface);
        def.description = Some("An object with an ID".into());
        def.field("id", "ID!");
        def.field("stage", "Stage!");

        self.def("Aggregate", Kind::Object).field("count", "Int!");
        self.def("BatchPayload", Kind::Object)
            .field("count", "Long!");
        let def = self.def("PageInfo", Kind::Object);
        def.field("endCursor", "String");
        def.field("hasNextPage", "Boolean!");
        def.field("hasPreviousPage", "Boolean!");
        def.field("pageSize", "Int");
        def.field("startCursor", "String");

        let def = self.def("Color", Kind::Object);
        def.field("css", "String!");
        def.field("hex", "Hex!");
        def.field("rgba", "RGBA!");
        let def = self.def("ColorInput", Kind::Input);
        def.field("hex", "Hex");
        def.field("rgba", "RGBAInput");
        for name in ["RGBA", "RGBAInput"] {
            let kind = if name == "RGBA" {
                Kind::Object
            } else {
                Kind::Input
            };
            let def = self.def(name, kind);
            def.field("a", "RGBATransparency!");
            def.field("b", "RGBAHue!");
            def.field("g", "RGBAHue!");
            def.field("r", "RGBAHue!");
        }
        let def = self.def("Location", Kind::Object);
        def.field("distance", "Float!")
            .arg("from", "LocationInput!");
        def.field("latitude", "Float!");
        def.field("longitude", "Float!");
        let def = self.def("LocationInput", Kind::Input);
        def.field("latitude", "Float!");
        def.field("longitude", "Float!");
        let def = self.def("RichText", Kind::Object);
        def.field("html", "String!");
        def.field("markdown", "String!");
        def.field("raw", "RichTextAST!");
        def.field("text", "String!");

        let def = self.def("ConnectPositionInput", Kind::Input);
        def.field("after", "ID");
        def.field("before", "ID");
        def.field("end", "Boolean");
        def.field("start", "Boolean");

        let def = self.def("DocumentVersion", Kind::Object);
        def.field("createdAt", "DateTime!");
        def.field("data", "Json");
        def.field("id", "ID!");
        def.field("revision", "Int!");
        def.field("stage", "Stage!");
        let def = self.def("Version", Kind::Object);
        def.field("createdAt", "DateTime!");
        def.field("id", "ID!");
        def.field("revision", "Int!");
        def.field("stage", "Stage!");
        let def = self.def("VersionWhereInput", Kind::Input);
        def.field("id", "ID!");
        def.field("revision", "Int!");
        def.field("stage", "Stage!");

        let def = self.def("PublishLocaleInput", Kind::Input);
        def.field("locale", "Locale!");
        def.field("stages", "[Stage!]!");
        let def = self.def("UnpublishLocaleInput", Kind::Input);
        def.field("locale", "Locale!");
        def.field("stages", "[Stage!]!");

        for scalar in [
            "Date",
            "DateTime",
            "Hex",
            "Json",
            "Long",
            "RGBAHue",
            "RGBATransparency",
            "RichTextAST",
        ] {
            self.def(scalar, Kind::Scalar);
        }
        let locales = self.locales.clone();
        let stages = self.stages.clone();
        let def = self.def("Locale", Kind::Enum);
        def.description = Some("Locale system enumeration".into());
        def.values = locales;
        let def = self.def("Stage", Kind::Enum);
        def.description = Some("Stage system enumeration".into());
        def.values = stages;
        self.def("SystemDateTimeFieldVariation", Kind::Enum).values =
            vec!["BASE".into(), "COMBINED".into(), "LOCALIZATION".into()];
    }

    /// `User`, `ScheduledOperation`, `ScheduledRelease`: referenced by every content model's
    /// system fields and filters. Read-only here: their queries exist, their mutations do not.
    fn system_models(&mut self) {
        use crate::model::{Access, Relation};
        let field = |name: &str, kind: FieldKind, required: bool, list: bool| Field {
            name: name.into(),
            kind,
            list,
            required,
            localized: false,
            unique: false,
            access: Access::ReadOnly("system model".into()),
            embeds: Vec::new(),
        };
        let scalar = |s| FieldKind::Scalar { scalar: s };
        let enumeration = |n: &str| FieldKind::Enumeration { name: n.into() };
        let relation =
            |target: &str| FieldKind::Relation(Relation::one_way(vec![target.into()], None));
        let user_fields = vec![
            field("isActive", scalar(Scalar::Boolean), true, false),
            field("kind", enumeration("UserKind"), true, false),
            field("name", scalar(Scalar::String), true, false),
            field("picture", scalar(Scalar::String), false, false),
        ];
        let operation_fields = vec![
            field("description", scalar(Scalar::String), false, false),
            field("errorMessage", scalar(Scalar::String), false, false),
            field("release", relation("ScheduledRelease"), false, false),
            field(
                "status",
                enumeration("ScheduledOperationStatus"),
                true,
                false,
            ),
        ];
        let release_fields = vec![
            field("description", scalar(Scalar::String), false, false),
            field("errorMessage", scalar(Scalar::String), false, false),
            field("isActive", scalar(Scalar::Boolean), true, false),
            field("isImplicit", scalar(Scalar::Boolean), true, false),
            field("operations", relation("ScheduledOperation"), false, true),
            field("releaseAt", scalar(Scalar::DateTime), false, false),
            field("status", enumeration("ScheduledReleaseStatus"), true, false),
            field("title", scalar(Scalar::String), false, false),
        ];
        self.def("UserKind", Kind::Enum).values = ["MEMBER", "PAT", "PUBLIC", "WEBHOOK"]
            .map(String::from)
            .to_vec();
        self.def("ScheduledOperationStatus", Kind::Enum).values =
            ["CANCELED", "COMPLETED", "FAILED", "IN_PROGRESS", "PENDING"]
                .map(String::from)
                .to_vec();
        self.def("ScheduledReleaseStatus", Kind::Enum).values =
            ["COMPLETED", "FAILED", "IN_PROGRESS", "PENDING"]
                .map(String::from)
                .to_vec();

        let systems: [(&str, &str, &str, &[Field], bool); 3] = [
            ("User", "user", "users", &user_fields, false),
            (
                "ScheduledOperation",
                "scheduledOperation",
                "scheduledOperations",
                &operation_fields,
                true,
            ),
            (
                "ScheduledRelease",
                "scheduledRelease",
                "scheduledReleases",
                &release_fields,
                true,
            ),
        ];
        for (name, singular, plural, fields, user_refs) in systems {
            let shape = Shape {
                name,
                fields,
                user_refs,
                scheduled_in: false,
                timestamps: true,
                upload: false,
            };
            self.where_input(&shape, false);
            self.where_input(&shape, true);
            self.order_by(&shape);
            self.connection(name);
            self.where_unique_system(name);
            self.queries(name, singular, plural, false);
            let mut object = Def::new(Kind::Object);
            object.implements = vec!["Node".into()];
            self.system_fields(&mut object, name, false, user_refs, false);
            for f in fields.iter() {
                self.object_field(&mut object, name, f);
            }
            if name == "ScheduledOperation" {
                object.field("rawPayload", "Json!");
                object
                    .field(
                        "affectedDocuments",
                        "[ScheduledOperationAffectedDocument!]!",
                    )
                    .arg("after", "String")
                    .arg("before", "String")
                    .arg("first", "Int")
                    .arg("last", "Int")
                    .arg("locales", "[Locale!]")
                    .arg("skip", "Int");
            }
            self.defs.insert(name.to_string(), object);
        }
        let mut union = Def::new(Kind::Union);
        union.values = self.model.models.iter().map(|m| m.name.clone()).collect();
        union.values.sort();
        if union.values.is_empty() {
            // A union needs a member; without content models only the release is affected.
            union.values.push("ScheduledRelease".into());
        }
        self.defs
            .insert("ScheduledOperationAffectedDocument".into(), union);
    }

    fn where_unique_system(&mut self, name: &str) {
        self.def(&format!("{name}WhereUniqueInput"), Kind::Input)
            .field("id", "ID");
    }

    fn connection(&mut self, name: &str) {
        let def = self.def(&format!("{name}Connection"), Kind::Object);
        def.description = Some("A connection to a list of items.".into());
        def.field("aggregate", "Aggregate!");
        def.field("edges", format!("[{name}Edge!]!"));
        def.field("pageInfo", "PageInfo!");
        let def = self.def(&format!("{name}Edge"), Kind::Object);
        def.description = Some("An edge in a connection.".into());
        def.field("cursor", "String!");
        def.field("node", format!("{name}!"));
    }

    fn queries(&mut self, name: &str, singular: &str, plural: &str, versions: bool) {
        let stage_default = self.options.default_stage.clone();
        let locales_default = format!("[{}]", self.default_locale);
        self.query
            .field(singular, name)
            .arg_default("locales", "[Locale!]!", locales_default.clone())
            .arg_default("stage", "Stage!", stage_default.clone())
            .arg("where", format!("{name}WhereUniqueInput!"));
        for (field, ty) in [
            (plural.to_string(), format!("[{name}!]!")),
            (format!("{plural}Connection"), format!("{name}Connection!")),
        ] {
            self.query
                .field(&field, ty)
                .arg("after", "String")
                .arg("before", "String")
                .arg("first", "Int")
                .arg("last", "Int")
                .arg_default("locales", "[Locale!]!", locales_default.clone())
                .arg("orderBy", format!("{name}OrderByInput"))
                .arg("skip", "Int")
                .arg_default("stage", "Stage!", stage_default.clone())
                .arg("where", format!("{name}WhereInput"));
        }
        if versions {
            self.query
                .field(&format!("{singular}Version"), "DocumentVersion")
                .arg("where", "VersionWhereInput!");
        }
    }

    /// `id`, `stage`, timestamps, users, `documentInStages`, `history`, `scheduledIn`,
    /// `locale`/`localizations`.
    fn system_fields(
        &self,
        object: &mut Def,
        name: &str,
        localized: bool,
        user_refs: bool,
        content: bool,
    ) {
        object.field("id", "ID!");
        object.field("stage", "Stage!");
        for (field, ty) in [
            ("createdAt", "DateTime!"),
            ("updatedAt", "DateTime!"),
            ("publishedAt", "DateTime"),
        ] {
            let f = object.field(field, ty);
            if localized {
                f.arg_default("variation", "SystemDateTimeFieldVariation!", "COMBINED");
            }
        }
        if user_refs {
            for field in ["createdBy", "updatedBy", "publishedBy"] {
                object.field(field, "User").arg("locales", "[Locale!]");
            }
        }
        let stages = format!("[{}]", self.stages.join(", "));
        object
            .field("documentInStages", format!("[{name}!]!"))
            .arg_default("includeCurrent", "Boolean!", "false")
            .arg_default("inheritLocale", "Boolean!", "false")
            .arg_default("stages", "[Stage!]!", stages);
        if content {
            object
                .field("history", "[Version!]!")
                .arg_default("limit", "Int!", "10")
                .arg_default("skip", "Int!", "0")
                .arg("stageOverride", "Stage");
            object
                .field("scheduledIn", "[ScheduledOperation!]!")
                .arg("after", "String")
                .arg("before", "String")
                .arg("first", "Int")
                .arg("last", "Int")
                .arg("locales", "[Locale!]")
                .arg("skip", "Int")
                .arg("where", "ScheduledOperationWhereInput");
        }
        if localized {
            object.field("locale", "Locale!");
            object
                .field("localizations", format!("[{name}!]!"))
                .arg_default("includeCurrent", "Boolean!", "false")
                .arg_default("locales", "[Locale!]!", self.locales_default());
        }
    }

    /// One content field on an object type of `owner`.
    fn object_field(&self, object: &mut Def, owner: &str, field: &Field) {
        let wrap = |base: &str| {
            if field.list {
                format!("[{base}!]!")
            } else if field.required {
                format!("{base}!")
            } else {
                base.to_string()
            }
        };
        match &field.kind {
            FieldKind::Scalar { scalar } => {
                let ty = field
                    .rich_text_type(owner)
                    .unwrap_or_else(|| output_scalar(*scalar).to_string());
                object.field(&field.name, wrap(&ty));
            }
            FieldKind::Enumeration { name } => {
                object.field(&field.name, wrap(name));
            }
            FieldKind::Relation(relation) => {
                let target = relation_type_name(&relation.targets, relation.union.as_deref());
                if field.list {
                    let f = object
                        .field(&field.name, format!("[{target}!]!"))
                        .arg("after", "String")
                        .arg("before", "String")
                        .arg("first", "Int")
                        .arg("last", "Int")
                        .arg("locales", "[Locale!]")
                        .arg("skip", "Int");
                    if relation.union.is_none() {
                        f.arg("orderBy", format!("{target}OrderByInput"))
                            .arg("where", format!("{target}WhereInput"));
                    }
                } else {
                    let ty = if field.required {
                        format!("{target}!")
                    } else {
                        target
                    };
                    object.field(&field.name, ty).arg("locales", "[Locale!]");
                }
            }
            FieldKind::Component { targets, union } => {
                let target = relation_type_name(targets, union.as_deref());
                if field.list {
                    object
                        .field(&field.name, format!("[{target}!]!"))
                        .arg("after", "String")
                        .arg("before", "String")
                        .arg("first", "Int")
                        .arg("last", "Int")
                        .arg("locales", "[Locale!]")
                        .arg("skip", "Int");
                } else {
                    let ty = if field.required {
                        format!("{target}!")
                    } else {
                        target
                    };
                    object.field(&field.name, ty).arg("locales", "[Locale!]");
                }
            }
        }
    }

    /// Rich text with embeds gets its own output type, as in Hygraph: `PostContentRichText`
    /// (the fields of `RichText`, `json`, and `references` over
    /// `union PostContentRichTextEmbeddedTypes = Asset | ...`). Inputs still take `RichTextAST`.
    fn rich_text_type(&mut self, owner: &str, field: &Field) {
        let Some(name) = field.rich_text_type(owner) else {
            return;
        };
        let union = format!("{name}EmbeddedTypes");
        let def = self.def(&name, Kind::Object);
        def.field("html", "String!")
            .describe("Returns HTMl representation");
        def.field("json", "RichTextAST!");
        def.field("markdown", "String!")
            .describe("Returns Markdown representation");
        def.field("raw", "RichTextAST!")
            .deprecated("Please use the 'json' field");
        def.field("references", format!("[{union}!]!"))
            .arg("after", "String")
            .arg("before", "String")
            .arg("first", "Int")
            .arg("last", "Int")
            .arg("skip", "Int");
        def.field("text", "String!")
            .describe("Returns plain-text contents of RichText");
        let mut members = field.embeds.clone();
        members.sort();
        self.def(&union, Kind::Union).values = members;
    }

    fn content_model(&mut self, model: &Model) {
        let name = model.name.as_str();
        let localized = model.has_localized_fields();
        let mut object = Def::new(Kind::Object);
        object.implements = vec!["Node".into()];
        if !self.model.components.is_empty() {
            object.implements.insert(0, "Entity".into());
        }
        self.system_fields(&mut object, name, localized, true, true);
        for field in &model.fields {
            self.object_field(&mut object, name, field);
            self.rich_text_type(name, field);
        }
        if let Some(system) = model.asset {
            self.asset_extras(&mut object, system);
        }
        self.defs.insert(name.to_string(), object);

        let shape = Shape {
            name,
            fields: &model.fields,
            user_refs: true,
            scheduled_in: true,
            timestamps: true,
            upload: model.asset == Some(AssetSystem::UploadUrl),
        };
        self.where_input(&shape, false);
        self.where_input(&shape, true);
        self.order_by(&shape);
        self.connection(name);
        self.queries(name, &model.singular, &model.plural, true);

        let mut unique = Def::new(Kind::Input);
        unique.description = Some(format!("References {name} record uniquely"));
        unique.field("id", "ID");
        for field in model.unique_fields() {
            if let FieldKind::Scalar { scalar } = field.kind {
                unique.field(&field.name, input_scalar(scalar));
            }
        }
        self.defs.insert(format!("{name}WhereUniqueInput"), unique);

        self.write_inputs(model);
        self.mutations(model);
    }

    /// `url`, and for the upload-url system `upload { status ... }`.
    fn asset_extras(&mut self, object: &mut Def, system: AssetSystem) {
        object
            .field("url", "String!")
            .arg("transformation", "AssetTransformationInput");
        let def = self.def("AssetTransformationInput", Kind::Input);
        def.description = Some("Transformations for Assets".into());
        def.field("document", "DocumentTransformationInput");
        def.field("image", "ImageTransformationInput");
        def.field("validateOptions", "Boolean").default = Some("false".into());
        self.def("DocumentTransformationInput", Kind::Input)
            .field("output", "DocumentOutputInput");
        self.def("DocumentOutputInput", Kind::Input)
            .field("format", "DocumentFileTypes");
        self.def("DocumentFileTypes", Kind::Enum).values =
            DOCUMENT_FILE_TYPES.iter().map(|s| s.to_string()).collect();
        self.def("ImageTransformationInput", Kind::Input)
            .field("resize", "ImageResizeInput");
        let def = self.def("ImageResizeInput", Kind::Input);
        def.field("fit", "ImageFit");
        def.field("height", "Int");
        def.field("width", "Int");
        self.def("ImageFit", Kind::Enum).values =
            ["clip", "crop", "max", "scale"].map(String::from).to_vec();
        if system == AssetSystem::UploadUrl {
            object.field("upload", "AssetUpload");
            let def = self.def("AssetUpload", Kind::Object);
            def.description = Some("Asset Upload".into());
            def.field("error", "AssetUploadError");
            def.field("expiresAt", "DateTime");
            def.field("requestPostData", "AssetUploadRequestPostData");
            def.field("status", "AssetUploadStatus");
            let def = self.def("AssetUploadError", Kind::Object);
            def.field("code", "String!");
            def.field("message", "String!");
            let def = self.def("AssetUploadRequestPostData", Kind::Object);
            for f in [
                "algorithm",
                "credential",
                "date",
                "key",
                "policy",
                "signature",
                "url",
            ] {
                def.field(f, "String!");
            }
            def.field("securityToken", "String");
            self.def("AssetUploadStatus", Kind::Enum).values = [
                "ASSET_CREATE_PENDING",
                "ASSET_ERROR_UPLOAD",
                "ASSET_UPDATE_PENDING",
                "ASSET_UPLOAD_COMPLETE",
            ]
            .map(String::from)
            .to_vec();
            let mut def = Def::new(Kind::Input);
            def.description = Some("Identifies documents".into());
            for logical in ["AND", "NOT", "OR"] {
                def.field(logical, "[AssetUploadWhereInput!]");
            }
            ordered_filters(&mut def, "expiresAt", "DateTime");
            def.field("status", "AssetUploadStatus");
            def.field("status_in", "[AssetUploadStatus!]");
            def.field("status_not", "AssetUploadStatus");
            def.field("status_not_in", "[AssetUploadStatus!]");
            self.defs.insert("AssetUploadWhereInput".into(), def);
        }
    }

    /// `<Model>WhereInput` (all filters) or `<Model>ManyWhereInput` (no localized fields).
    fn where_input(&mut self, shape: &Shape, many: bool) {
        let name = shape.name;
        let input_name = if many {
            format!("{name}ManyWhereInput")
        } else {
            format!("{name}WhereInput")
        };
        let mut def = Def::new(Kind::Input);
        def.description = Some("Identifies documents".into());
        for logical in ["AND", "NOT", "OR"] {
            def.field(logical, format!("[{name}WhereInput!]"));
        }
        def.field("_search", "String");
        text_filters(&mut def, "id", "ID");
        if shape.timestamps {
            for ts in ["createdAt", "updatedAt", "publishedAt"] {
                ordered_filters(&mut def, ts, "DateTime");
            }
        }
        if shape.user_refs {
            for user in ["createdBy", "updatedBy", "publishedBy"] {
                def.field(user, "UserWhereInput");
            }
        }
        if shape.scheduled_in {
            for q in ["every", "none", "some"] {
                def.field(&format!("scheduledIn_{q}"), "ScheduledOperationWhereInput");
            }
        }
        if shape.scheduled_in && self.options.stage_filters {
            for q in ["every", "none", "some"] {
                def.field(
                    &format!("documentInStages_{q}"),
                    format!("{name}WhereStageInput"),
                );
            }
            self.where_stage_input(name);
        }
        for field in shape.fields {
            if many && field.localized {
                continue;
            }
            self.field_filters(&mut def, field);
        }
        if shape.upload {
            def.field("upload", "AssetUploadWhereInput");
        }
        self.defs.insert(input_name, def);
    }

    /// `<Model>WhereStageInput` (the `documentInStages_*` filters: conditions on the entry's
    /// versions in other stages) and its `<Model>WhereComparatorInput`.
    fn where_stage_input(&mut self, name: &str) {
        let mut def = Def::new(Kind::Input);
        def.description = Some(
            "This contains a set of filters that can be used to compare values internally".into(),
        );
        for logical in ["AND", "NOT", "OR"] {
            def.field(logical, format!("[{name}WhereStageInput!]"));
        }
        def.field("compareWithParent", format!("{name}WhereComparatorInput"));
        def.field("stage", "Stage");
        self.defs.insert(format!("{name}WhereStageInput"), def);
        let mut comparator = Def::new(Kind::Input);
        comparator.description = Some("This contains fields which can be set as true or false to specify an internal comparison".into());
        comparator.field("outdated_to", "Boolean");
        self.defs
            .insert(format!("{name}WhereComparatorInput"), comparator);
    }

    fn field_filters(&mut self, def: &mut Def, field: &Field) {
        let name = field.name.as_str();
        match &field.kind {
            FieldKind::Scalar { scalar } => {
                let ty = input_scalar(*scalar);
                if field.list {
                    if !matches!(
                        filter_family(*scalar),
                        FilterFamily::None | FilterFamily::Json
                    ) {
                        list_filters(def, name, ty);
                    }
                    return;
                }
                match filter_family(*scalar) {
                    FilterFamily::Text => text_filters(def, name, ty),
                    FilterFamily::Ordered => ordered_filters(def, name, ty),
                    FilterFamily::Boolean => {
                        def.field(name, "Boolean");
                        def.field(&format!("{name}_not"), "Boolean");
                    }
                    FilterFamily::Json => {
                        def.field(&format!("{name}_json_path_exists"), "String");
                        def.field(&format!("{name}_value_recursive"), "Json");
                    }
                    FilterFamily::None => {}
                }
            }
            FieldKind::Enumeration { name: enum_name } => {
                if field.list {
                    list_filters(def, name, enum_name);
                } else {
                    def.field(name, enum_name.as_str());
                    def.field(&format!("{name}_in"), format!("[{enum_name}!]"));
                    def.field(&format!("{name}_not"), enum_name.as_str());
                    def.field(&format!("{name}_not_in"), format!("[{enum_name}!]"));
                }
            }
            FieldKind::Relation(relation) => {
                let target = relation_type_name(&relation.targets, relation.union.as_deref());
                let filter = format!("{target}WhereInput");
                if relation.union.is_some() {
                    def.field(&format!("{name}_empty"), "Boolean");
                    if field.list {
                        def.field(&format!("{name}_some"), filter);
                    } else {
                        def.field(name, filter);
                    }
                } else if field.list {
                    for q in ["every", "none", "some"] {
                        def.field(&format!("{name}_{q}"), filter.as_str());
                    }
                } else {
                    def.field(name, filter);
                }
            }
            FieldKind::Component { targets, union } => {
                let target = relation_type_name(targets, union.as_deref());
                let filter = format!("{target}WhereInput");
                if union.is_some() {
                    def.field(&format!("{name}_empty"), "Boolean");
                    if field.list {
                        def.field(&format!("{name}_some"), filter);
                    } else {
                        def.field(name, filter);
                    }
                } else if field.list {
                    for q in ["every", "none", "some"] {
                        def.field(&format!("{name}_{q}"), filter.as_str());
                    }
                } else {
                    def.field(name, filter);
                }
            }
        }
    }

    fn order_by(&mut self, shape: &Shape) {
        let mut values = vec!["id".to_string()];
        if shape.timestamps {
            values.extend(["createdAt", "updatedAt", "publishedAt"].map(String::from));
        }
        values.extend(
            shape
                .fields
                .iter()
                .filter(|f| orderable(f))
                .map(|f| f.name.clone()),
        );
        values.sort();
        let def = self.def(&format!("{}OrderByInput", shape.name), Kind::Enum);
        def.values = values
            .iter()
            .flat_map(|v| [format!("{v}_ASC"), format!("{v}_DESC")])
            .collect();
    }

    /// The type a content field takes in create (`create == true`) or update inputs.
    fn input_type(&mut self, field: &Field, create: bool) -> String {
        let suffix = |one: bool| match (create, one) {
            (true, true) => "CreateOneInlineInput",
            (true, false) => "CreateManyInlineInput",
            (false, true) => "UpdateOneInlineInput",
            (false, false) => "UpdateManyInlineInput",
        };
        let base = match &field.kind {
            FieldKind::Scalar { scalar } => input_scalar(*scalar).to_string(),
            FieldKind::Enumeration { name } => name.clone(),
            FieldKind::Relation(relation) => {
                let target = relation_type_name(&relation.targets, relation.union.as_deref());
                if let Some(union) = &relation.union {
                    self.union_relation_inputs(union, &relation.targets);
                }
                // Hygraph's create input requires a required relation
                // (`asset: AssetCreateOneInlineInput!`).
                let ty = format!("{target}{}", suffix(!field.list));
                return if create && field.required {
                    format!("{ty}!")
                } else {
                    ty
                };
            }
            FieldKind::Component { targets, union } => {
                let target = relation_type_name(targets, union.as_deref());
                if let Some(union) = union {
                    self.component_union_inputs(union, targets);
                }
                let ty = format!("{target}{}", suffix(!field.list));
                return if create && field.required && !field.list {
                    format!("{ty}!")
                } else {
                    ty
                };
            }
        };
        match (field.list, create && field.required) {
            (true, true) => format!("[{base}!]!"),
            (true, false) => format!("[{base}!]"),
            (false, true) => format!("{base}!"),
            (false, false) => base,
        }
    }

    fn write_inputs(&mut self, model: &Model) {
        let name = model.name.as_str();
        let localized = model.has_localized_fields();
        let writable: Vec<&Field> = model.fields.iter().filter(|f| f.is_writable()).collect();

        let mut create = Def::new(Kind::Input);
        let mut update = Def::new(Kind::Input);
        let mut update_many = Def::new(Kind::Input);
        let mut create_loc = Def::new(Kind::Input);
        let mut update_loc = Def::new(Kind::Input);
        let mut update_many_loc = Def::new(Kind::Input);
        create.field("createdAt", "DateTime");
        create.field("updatedAt", "DateTime");
        create_loc.field("createdAt", "DateTime");
        create_loc.field("updatedAt", "DateTime");
        for field in &writable {
            let create_ty = self.input_type(field, true);
            let update_ty = self.input_type(field, false);
            create.field(&field.name, create_ty.as_str());
            update.field(&field.name, update_ty.as_str());
            let plain_value = matches!(
                field.kind,
                FieldKind::Scalar { .. } | FieldKind::Enumeration { .. }
            );
            // Unique values cannot be the same on many entries; an asset's handle is its file.
            let in_many =
                plain_value && !field.unique && !(model.asset.is_some() && field.name == "handle");
            if in_many {
                update_many.field(&field.name, update_ty.as_str());
            }
            if field.localized {
                create_loc.field(&field.name, create_ty.as_str());
                update_loc.field(&field.name, update_ty.as_str());
                if in_many {
                    update_many_loc.field(&field.name, update_ty.as_str());
                }
            }
        }
        if model.asset == Some(AssetSystem::UploadUrl) {
            for def in [&mut create, &mut create_loc] {
                def.field("uploadUrl", "String");
            }
            for def in [&mut update, &mut update_loc] {
                def.field("uploadUrl", "String");
                def.field("reUpload", "Boolean");
            }
        }
        // An input type may not be empty (upload-url assets have no writable localized plain
        // value); Hygraph fills such a type with the same placeholder as an empty updateMany.
        if update_many_loc.fields.is_empty() {
            update_many_loc
                .field("_", "String")
                .describe("No fields in updateMany data input");
        }
        if localized {
            create.field("localizations", format!("{name}CreateLocalizationsInput"));
            update.field("localizations", format!("{name}UpdateLocalizationsInput"));
            update_many.field(
                "localizations",
                format!("{name}UpdateManyLocalizationsInput"),
            );
            self.defs
                .insert(format!("{name}CreateLocalizationDataInput"), create_loc);
            self.defs
                .insert(format!("{name}UpdateLocalizationDataInput"), update_loc);
            self.defs.insert(
                format!("{name}UpdateManyLocalizationDataInput"),
                update_many_loc,
            );
            let def = self.def(&format!("{name}CreateLocalizationInput"), Kind::Input);
            def.field("data", format!("{name}CreateLocalizationDataInput!"));
            def.field("locale", "Locale!");
            self.def(&format!("{name}CreateLocalizationsInput"), Kind::Input)
                .field("create", format!("[{name}CreateLocalizationInput!]"));
            let def = self.def(&format!("{name}UpdateLocalizationInput"), Kind::Input);
            def.field("data", format!("{name}UpdateLocalizationDataInput!"));
            def.field("locale", "Locale!");
            let def = self.def(&format!("{name}UpsertLocalizationInput"), Kind::Input);
            def.field("create", format!("{name}CreateLocalizationDataInput!"));
            def.field("locale", "Locale!");
            def.field("update", format!("{name}UpdateLocalizationDataInput!"));
            let def = self.def(&format!("{name}UpdateLocalizationsInput"), Kind::Input);
            def.field("create", format!("[{name}CreateLocalizationInput!]"));
            def.field("delete", "[Locale!]");
            def.field("update", format!("[{name}UpdateLocalizationInput!]"));
            def.field("upsert", format!("[{name}UpsertLocalizationInput!]"));
            let def = self.def(&format!("{name}UpdateManyLocalizationInput"), Kind::Input);
            def.field("data", format!("{name}UpdateManyLocalizationDataInput!"));
            def.field("locale", "Locale!");
            self.def(&format!("{name}UpdateManyLocalizationsInput"), Kind::Input)
                .field("update", format!("[{name}UpdateManyLocalizationInput!]"));
        }
        if update_many.fields.is_empty() {
            update_many
                .field("_", "String")
                .describe("No fields in updateMany data input");
        }
        self.defs.insert(format!("{name}CreateInput"), create);
        self.defs.insert(format!("{name}UpdateInput"), update);
        self.defs
            .insert(format!("{name}UpdateManyInput"), update_many);

        let unique = format!("{name}WhereUniqueInput");
        let def = self.def(&format!("{name}ConnectInput"), Kind::Input);
        def.field("position", "ConnectPositionInput");
        def.field("where", format!("{unique}!"));
        let def = self.def(&format!("{name}CreateManyInlineInput"), Kind::Input);
        def.field("connect", format!("[{unique}!]"));
        def.field("create", format!("[{name}CreateInput!]"));
        let def = self.def(&format!("{name}CreateOneInlineInput"), Kind::Input);
        def.field("connect", unique.as_str());
        def.field("create", format!("{name}CreateInput"));
        let def = self.def(&format!("{name}UpdateManyInlineInput"), Kind::Input);
        def.field("connect", format!("[{name}ConnectInput!]"));
        def.field("create", format!("[{name}CreateInput!]"));
        def.field("delete", format!("[{unique}!]"));
        def.field("disconnect", format!("[{unique}!]"));
        def.field("set", format!("[{unique}!]"));
        def.field(
            "update",
            format!("[{name}UpdateWithNestedWhereUniqueInput!]"),
        );
        def.field(
            "upsert",
            format!("[{name}UpsertWithNestedWhereUniqueInput!]"),
        );
        let def = self.def(&format!("{name}UpdateOneInlineInput"), Kind::Input);
        def.field("connect", unique.as_str());
        def.field("create", format!("{name}CreateInput"));
        def.field("delete", "Boolean");
        def.field("disconnect", "Boolean");
        def.field("update", format!("{name}UpdateWithNestedWhereUniqueInput"));
        def.field("upsert", format!("{name}UpsertWithNestedWhereUniqueInput"));
        let def = self.def(
            &format!("{name}UpdateManyWithNestedWhereInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpdateManyInput!"));
        def.field("where", format!("{name}WhereInput!"));
        let def = self.def(
            &format!("{name}UpdateWithNestedWhereUniqueInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpdateInput!"));
        def.field("where", format!("{unique}!"));
        let def = self.def(&format!("{name}UpsertInput"), Kind::Input);
        def.field("create", format!("{name}CreateInput!"));
        def.field("update", format!("{name}UpdateInput!"));
        let def = self.def(
            &format!("{name}UpsertWithNestedWhereUniqueInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpsertInput!"));
        def.field("where", format!("{unique}!"));
    }

    fn mutations(&mut self, model: &Model) {
        let name = model.name.as_str();
        let singular = upper_first(&model.singular);
        let plural = upper_first(&model.plural);
        let localized = model.has_localized_fields();
        let unique = format!("{name}WhereUniqueInput!");
        let many_where = format!("{name}ManyWhereInput");
        let connection = format!("{name}Connection!");
        let m = &mut self.mutation;

        let create = m
            .field(&format!("create{singular}"), name)
            .arg("data", format!("{name}CreateInput!"));
        if model.asset == Some(AssetSystem::Legacy) {
            create.deprecated("Asset mutations will be overhauled soon");
        }
        m.field(&format!("update{singular}"), name)
            .arg("data", format!("{name}UpdateInput!"))
            .arg("where", unique.as_str());
        m.field(&format!("upsert{singular}"), name)
            .arg("upsert", format!("{name}UpsertInput!"))
            .arg("where", unique.as_str());
        m.field(&format!("delete{singular}"), name)
            .arg("where", unique.as_str());

        let publish_args = |f: &mut FieldDef| {
            f.arg_default("to", "[Stage!]!", "[PUBLISHED]");
            if localized {
                f.arg("locales", "[Locale!]")
                    .arg_default("publishBase", "Boolean", "true")
                    .arg_default("withDefaultLocale", "Boolean", "true");
            }
        };
        let unpublish_args = |f: &mut FieldDef| {
            f.arg_default("from", "[Stage!]!", "[PUBLISHED]");
            if localized {
                f.arg("locales", "[Locale!]")
                    .arg_default("unpublishBase", "Boolean", "true");
            }
        };
        let page_args = |f: &mut FieldDef| {
            f.arg("after", "ID")
                .arg("before", "ID")
                .arg("first", "Int")
                .arg("last", "Int")
                .arg("skip", "Int");
        };
        let deprecated = |op: &str| {
            format!("Please use the new paginated many mutation ({op}Many{plural}Connection)")
        };

        let f = m
            .field(&format!("publish{singular}"), name)
            .arg("where", unique.as_str());
        publish_args(f);
        let f = m
            .field(&format!("unpublish{singular}"), name)
            .arg("where", unique.as_str());
        unpublish_args(f);
        let f = m
            .field(&format!("schedulePublish{singular}"), name)
            .arg("releaseAt", "DateTime")
            .arg("releaseId", "String")
            .arg("where", unique.as_str());
        publish_args(f);
        let f = m
            .field(&format!("scheduleUnpublish{singular}"), name)
            .arg("releaseAt", "DateTime")
            .arg("releaseId", "String")
            .arg("where", unique.as_str());
        unpublish_args(f);

        m.field(&format!("deleteMany{plural}"), "BatchPayload!")
            .arg("where", many_where.as_str())
            .deprecated(&deprecated("delete"));
        let f = m
            .field(
                &format!("deleteMany{plural}Connection"),
                connection.as_str(),
            )
            .arg("where", many_where.as_str());
        page_args(f);

        m.field(&format!("updateMany{plural}"), "BatchPayload!")
            .arg("data", format!("{name}UpdateManyInput!"))
            .arg("where", many_where.as_str())
            .deprecated(&deprecated("update"));
        let f = m
            .field(
                &format!("updateMany{plural}Connection"),
                connection.as_str(),
            )
            .arg("data", format!("{name}UpdateManyInput!"))
            .arg("where", many_where.as_str());
        page_args(f);

        let f = m
            .field(&format!("publishMany{plural}"), "BatchPayload!")
            .arg("where", many_where.as_str())
            .deprecated(&deprecated("publish"));
        publish_args(f);
        let f = m
            .field(
                &format!("publishMany{plural}Connection"),
                connection.as_str(),
            )
            .arg_default("from", "Stage", "DRAFT")
            .arg("where", many_where.as_str());
        publish_args(f);
        page_args(f);

        let f = m
            .field(&format!("unpublishMany{plural}"), "BatchPayload!")
            .arg("where", many_where.as_str())
            .deprecated(&deprecated("unpublish"));
        unpublish_args(f);
        let f = m
            .field(
                &format!("unpublishMany{plural}Connection"),
                connection.as_str(),
            )
            .arg_default("stage", "Stage", "DRAFT")
            .arg("where", many_where.as_str());
        unpublish_args(f);
        page_args(f);
    }

    /// Inputs of a union relation, keyed by member type name.
    fn union_relation_inputs(&mut self, union: &str, members: &[String]) {
        if self.has(&format!("{union}WhereUniqueInput")) {
            return;
        }
        let mut sorted: Vec<String> = members.to_vec();
        sorted.sort();
        self.def(union, Kind::Union).values = sorted.clone();
        let keyed = |gen: &mut Self, suffix: &str| {
            let def = gen.def(&format!("{union}{suffix}"), Kind::Input);
            for member in &sorted {
                def.field(member, format!("{member}{suffix}"));
            }
        };
        for suffix in [
            "WhereUniqueInput",
            "CreateInput",
            "ConnectInput",
            "UpdateWithNestedWhereUniqueInput",
            "UpsertWithNestedWhereUniqueInput",
            "UpdateManyWithNestedWhereInput",
            "WhereInput",
        ] {
            keyed(self, suffix);
        }
        let def = self.def(&format!("{union}CreateOneInlineInput"), Kind::Input);
        def.field("connect", format!("{union}WhereUniqueInput"));
        def.field("create", format!("{union}CreateInput"));
        let def = self.def(&format!("{union}CreateManyInlineInput"), Kind::Input);
        def.field("connect", format!("[{union}WhereUniqueInput!]"));
        def.field("create", format!("[{union}CreateInput!]"));
        let def = self.def(&format!("{union}UpdateOneInlineInput"), Kind::Input);
        def.field("connect", format!("{union}WhereUniqueInput"));
        def.field("create", format!("{union}CreateInput"));
        def.field("delete", "Boolean");
        def.field("disconnect", "Boolean");
        def.field("update", format!("{union}UpdateWithNestedWhereUniqueInput"));
        def.field("upsert", format!("{union}UpsertWithNestedWhereUniqueInput"));
        let def = self.def(&format!("{union}UpdateManyInlineInput"), Kind::Input);
        def.field("connect", format!("[{union}ConnectInput!]"));
        def.field("create", format!("[{union}CreateInput!]"));
        def.field("delete", format!("[{union}WhereUniqueInput!]"));
        def.field("disconnect", format!("[{union}WhereUniqueInput!]"));
        def.field("set", format!("[{union}WhereUniqueInput!]"));
        def.field(
            "update",
            format!("[{union}UpdateWithNestedWhereUniqueInput!]"),
        );
        def.field(
            "upsert",
            format!("[{union}UpsertWithNestedWhereUniqueInput!]"),
        );
    }

    /// A component type and its inputs (`...CreateWithPositionInput` and friends).
    fn component(&mut self, name: &str, fields: &[Field]) {
        let mut object = Def::new(Kind::Object);
        object.implements = vec!["Entity".into()];
        object.field("id", "ID!");
        object.field("stage", "Stage!");
        let localized = fields.iter().any(|f| f.localized);
        if localized {
            object.field("locale", "Locale!");
            object
                .field("localizations", format!("[{name}!]!"))
                .arg_default("includeCurrent", "Boolean!", "false")
                .arg_default("locales", "[Locale!]!", self.locales_default());
        }
        for field in fields {
            self.object_field(&mut object, name, field);
            self.rich_text_type(name, field);
        }
        self.defs.insert(name.to_string(), object);

        let shape = Shape {
            name,
            fields,
            user_refs: false,
            scheduled_in: false,
            timestamps: false,
            upload: false,
        };
        self.where_input(&shape, false);
        self.where_input(&shape, true);
        self.order_by(&shape);
        self.connection(name);
        self.where_unique_system(name);

        let mut create = Def::new(Kind::Input);
        let mut update = Def::new(Kind::Input);
        let mut update_many = Def::new(Kind::Input);
        for field in fields.iter().filter(|f| f.is_writable()) {
            let create_ty = self.input_type(field, true);
            let update_ty = self.input_type(field, false);
            create.field(&field.name, create_ty);
            update.field(&field.name, update_ty.as_str());
            if matches!(
                field.kind,
                FieldKind::Scalar { .. } | FieldKind::Enumeration { .. }
            ) && !field.unique
            {
                update_many.field(&field.name, update_ty);
            }
        }
        if localized {
            self.component_localization_inputs(name, fields);
            create.field("localizations", format!("{name}CreateLocalizationsInput"));
            update.field("localizations", format!("{name}UpdateLocalizationsInput"));
        }
        if create.fields.is_empty() {
            create
                .field("_", "String")
                .describe("No fields in create input");
        }
        if update.fields.is_empty() {
            update
                .field("_", "String")
                .describe("No fields in update input");
        }
        if update_many.fields.is_empty() {
            update_many
                .field("_", "String")
                .describe("No fields in updateMany data input");
        }
        self.defs.insert(format!("{name}CreateInput"), create);
        self.defs.insert(format!("{name}UpdateInput"), update);
        self.defs
            .insert(format!("{name}UpdateManyInput"), update_many);

        let unique = format!("{name}WhereUniqueInput");
        let def = self.def(&format!("{name}CreateOneInlineInput"), Kind::Input);
        def.field("create", format!("{name}CreateInput"));
        let def = self.def(&format!("{name}CreateManyInlineInput"), Kind::Input);
        def.field("create", format!("[{name}CreateInput!]"));
        let def = self.def(&format!("{name}CreateWithPositionInput"), Kind::Input);
        def.field("data", format!("{name}CreateInput!"));
        def.field("position", "ConnectPositionInput");
        let def = self.def(&format!("{name}UpdateOneInlineInput"), Kind::Input);
        def.field("create", format!("{name}CreateInput"));
        def.field("delete", "Boolean");
        def.field("update", format!("{name}UpdateWithNestedWhereUniqueInput"));
        def.field("upsert", format!("{name}UpsertWithNestedWhereUniqueInput"));
        let def = self.def(&format!("{name}UpdateManyInlineInput"), Kind::Input);
        def.field("create", format!("[{name}CreateWithPositionInput!]"));
        def.field("delete", format!("[{unique}!]"));
        def.field(
            "update",
            format!("[{name}UpdateWithNestedWhereUniqueAndPositionInput!]"),
        );
        def.field(
            "upsert",
            format!("[{name}UpsertWithNestedWhereUniqueAndPositionInput!]"),
        );
        let def = self.def(
            &format!("{name}UpdateWithNestedWhereUniqueInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpdateInput!"));
        def.field("where", format!("{unique}!"));
        let def = self.def(
            &format!("{name}UpdateWithNestedWhereUniqueAndPositionInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpdateInput"));
        def.field("position", "ConnectPositionInput");
        def.field("where", format!("{unique}!"));
        let def = self.def(&format!("{name}UpsertInput"), Kind::Input);
        def.field("create", format!("{name}CreateInput!"));
        def.field("update", format!("{name}UpdateInput!"));
        let def = self.def(
            &format!("{name}UpsertWithNestedWhereUniqueInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpsertInput!"));
        def.field("where", format!("{unique}!"));
        let def = self.def(
            &format!("{name}UpsertWithNestedWhereUniqueAndPositionInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpsertInput"));
        def.field("position", "ConnectPositionInput");
        def.field("where", format!("{unique}!"));
        let def = self.def(
            &format!("{name}UpdateManyWithNestedWhereInput"),
            Kind::Input,
        );
        def.field("data", format!("{name}UpdateManyInput!"));
        def.field("where", format!("{name}WhereInput!"));
        let def = self.def(&format!("{name}ConnectInput"), Kind::Input);
        def.field("position", "ConnectPositionInput");
        def.field("where", format!("{unique}!"));
    }

    /// Localization inputs of a component with localized fields: the same shapes as a model's.
    fn component_localization_inputs(&mut self, name: &str, fields: &[Field]) {
        let mut create_loc = Def::new(Kind::Input);
        let mut update_loc = Def::new(Kind::Input);
        for field in fields.iter().filter(|f| f.localized && f.is_writable()) {
            let create_ty = self.input_type(field, true);
            let update_ty = self.input_type(field, false);
            create_loc.field(&field.name, create_ty);
            update_loc.field(&field.name, update_ty);
        }
        self.defs
            .insert(format!("{name}CreateLocalizationDataInput"), create_loc);
        self.defs
            .insert(format!("{name}UpdateLocalizationDataInput"), update_loc);
        let def = self.def(&format!("{name}CreateLocalizationInput"), Kind::Input);
        def.field("data", format!("{name}CreateLocalizationDataInput!"));
        def.field("locale", "Locale!");
        self.def(&format!("{name}CreateLocalizationsInput"), Kind::Input)
            .field("create", format!("[{name}CreateLocalizationInput!]"));
        let def = self.def(&format!("{name}UpdateLocalizationInput"), Kind::Input);
        def.field("data", format!("{name}UpdateLocalizationDataInput!"));
        def.field("locale", "Locale!");
        let def = self.def(&format!("{name}UpsertLocalizationInput"), Kind::Input);
        def.field("create", format!("{name}CreateLocalizationDataInput!"));
        def.field("locale", "Locale!");
        def.field("update", format!("{name}UpdateLocalizationDataInput!"));
        let def = self.def(&format!("{name}UpdateLocalizationsInput"), Kind::Input);
        def.field("create", format!("[{name}CreateLocalizationInput!]"));
        def.field("delete", "[Locale!]");
        def.field("update", format!("[{name}UpdateLocalizationInput!]"));
        def.field("upsert", format!("[{name}UpsertLocalizationInput!]"));
    }

    /// Inputs of a component union, keyed by member component name.
    fn component_union_inputs(&mut self, union: &str, members: &[String]) {
        if self.has(&format!("{union}WhereUniqueInput")) {
            return;
        }
        let mut sorted: Vec<String> = members.to_vec();
        sorted.sort();
        self.def(union, Kind::Union).values = sorted.clone();
        for suffix in [
            "WhereUniqueInput",
            "CreateInput",
            "CreateWithPositionInput",
            "UpdateWithNestedWhereUniqueInput",
            "UpsertWithNestedWhereUniqueInput",
            "UpdateWithNestedWhereUniqueAndPositionInput",
            "UpsertWithNestedWhereUniqueAndPositionInput",
            "UpdateManyWithNestedWhereInput",
            "ConnectInput",
            "WhereInput",
        ] {
            let def = self.def(&format!("{union}{suffix}"), Kind::Input);
            for member in &sorted {
                def.field(member, format!("{member}{suffix}"));
            }
        }
        self.def(&format!("{union}CreateOneInlineInput"), Kind::Input)
            .field("create", format!("{union}CreateInput"));
        self.def(&format!("{union}CreateManyInlineInput"), Kind::Input)
            .field("create", format!("[{union}CreateInput!]"));
        let def = self.def(&format!("{union}UpdateOneInlineInput"), Kind::Input);
        def.field("create", format!("{union}CreateInput"));
        def.field("delete", "Boolean");
        def.field("update", format!("{union}UpdateWithNestedWhereUniqueInput"));
        def.field("upsert", format!("{union}UpsertWithNestedWhereUniqueInput"));
        let def = self.def(&format!("{union}UpdateManyInlineInput"), Kind::Input);
        def.field("create", format!("[{union}CreateWithPositionInput!]"));
        def.field("delete", format!("[{union}WhereUniqueInput!]"));
        def.field(
            "update",
            format!("[{union}UpdateWithNestedWhereUniqueAndPositionInput!]"),
        );
        def.field(
            "upsert",
            format!("[{union}UpsertWithNestedWhereUniqueAndPositionInput!]"),
        );
    }

    fn render(mut self) -> String {
        let mut out = String::new();
        // A project without content models has no mutations, and GraphQL forbids empty types.
        let has_mutations = self.model.mutations && !self.mutation.fields.is_empty();
        if has_mutations {
            out.push_str("schema {\n  query: Query\n  mutation: Mutation\n}\n\n");
            let mutation = std::mem::replace(&mut self.mutation, Def::new(Kind::Object));
            self.defs.insert("Mutation".into(), mutation);
        } else {
            out.push_str("schema {\n  query: Query\n}\n\n");
        }
        let query = std::mem::replace(&mut self.query, Def::new(Kind::Object));
        self.defs.insert("Query".into(), query);
        for (name, def) in &self.defs {
            render_def(&mut out, name, def);
        }
        out
    }
}

fn relation_type_name(targets: &[String], union: Option<&str>) -> String {
    match union {
        Some(union) => union.to_string(),
        None => targets.first().cloned().unwrap_or_default(),
    }
}

fn text_filters(def: &mut Def, name: &str, ty: &str) {
    def.field(name, ty);
    for op in [
        "contains",
        "ends_with",
        "not",
        "not_contains",
        "not_ends_with",
        "not_starts_with",
        "starts_with",
    ] {
        def.field(&format!("{name}_{op}"), ty);
    }
    def.field(&format!("{name}_in"), format!("[{ty}!]"));
    def.field(&format!("{name}_not_in"), format!("[{ty}!]"));
}

fn ordered_filters(def: &mut Def, name: &str, ty: &str) {
    def.field(name, ty);
    for op in ["gt", "gte", "lt", "lte", "not"] {
        def.field(&format!("{name}_{op}"), ty);
    }
    def.field(&format!("{name}_in"), format!("[{ty}!]"));
    def.field(&format!("{name}_not_in"), format!("[{ty}!]"));
}

fn list_filters(def: &mut Def, name: &str, ty: &str) {
    let list = format!("[{ty}!]");
    def.field(name, list.as_str());
    for op in ["contains_all", "contains_none", "contains_some", "not"] {
        def.field(&format!("{name}_{op}"), list.as_str());
    }
}

fn render_description(out: &mut String, indent: &str, text: &str) {
    let escaped = text.replace("\"\"\"", "\\\"\"\"");
    let _ = writeln!(out, "{indent}\"\"\"{escaped}\"\"\"");
}

fn render_def(out: &mut String, name: &str, def: &Def) {
    if let Some(text) = &def.description {
        render_description(out, "", text);
    }
    match def.kind {
        Kind::Scalar => {
            let _ = writeln!(out, "scalar {name}\n");
            return;
        }
        Kind::Enum => {
            let _ = writeln!(out, "enum {name} {{");
            for (i, value) in def.values.iter().enumerate() {
                // Hygraph marks the default locale (listed first here) this way.
                if name == "Locale" && i == 0 {
                    let _ = writeln!(out, "  \"\"\"System locale\"\"\"");
                }
                let _ = writeln!(out, "  {value}");
            }
            out.push_str("}\n\n");
            return;
        }
        Kind::Union => {
            let _ = writeln!(out, "union {name} = {}\n", def.values.join(" | "));
            return;
        }
        Kind::Object => {
            let _ = write!(out, "type {name}");
        }
        Kind::Interface => {
            let _ = write!(out, "interface {name}");
        }
        Kind::Input => {
            let _ = write!(out, "input {name}");
        }
    }
    if !def.implements.is_empty() {
        let _ = write!(out, " implements {}", def.implements.join(" & "));
    }
    out.push_str(" {\n");
    // GraphQL forbids an empty input type; Hygraph puts a placeholder in one with nothing to write.
    if def.fields.is_empty() && matches!(def.kind, Kind::Input) {
        out.push_str("  _: String\n");
    }
    for (field_name, field) in &def.fields {
        if let Some(text) = &field.description {
            render_description(out, "  ", text);
        }
        let _ = write!(out, "  {field_name}");
        if !field.args.is_empty() {
            let args: Vec<String> = field
                .args
                .iter()
                .map(|(arg, a)| match &a.default {
                    Some(default) => format!("{arg}: {} = {default}", a.ty),
                    None => format!("{arg}: {}", a.ty),
                })
                .collect();
            let _ = write!(out, "({})", args.join(", "));
        }
        let _ = write!(out, ": {}", field.ty);
        if let Some(default) = &field.default {
            let _ = write!(out, " = {default}");
        }
        if let Some(reason) = &field.deprecated {
            let _ = write!(out, " @deprecated(reason: {})", quote(reason));
        }
        out.push('\n');
    }
    out.push_str("}\n\n");
}

fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Access, Cardinality, Component, Enumeration, Relation};

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

    fn relation(name: &str, targets: &[&str], union: Option<&str>, reverse: Option<&str>) -> Field {
        field(
            name,
            FieldKind::Relation({
                let targets = targets.iter().map(|t| t.to_string()).collect();
                match reverse {
                    Some(reverse) => Relation::two_way(
                        targets,
                        union.map(String::from),
                        reverse,
                        crate::model::PairedBy::Declared,
                        Cardinality::ManyToMany,
                    ),
                    None => Relation::one_way(targets, union.map(String::from)),
                }
            }),
        )
    }

    fn model(name: &str, fields: Vec<Field>) -> Model {
        Model {
            name: name.into(),
            singular: crate::model::default_singular(name),
            plural: crate::model::default_plural(name),
            asset: None,
            fields,
        }
    }

    /// Every kind of field the generator knows, in one project.
    fn everything() -> ContentModel {
        let mut slug = scalar("slug", Scalar::String);
        slug.unique = true;
        slug.required = true;
        let mut title = scalar("title", Scalar::String);
        title.localized = true;
        let mut tags = scalar("tags", Scalar::String);
        tags.list = true;
        let mut speakers = relation("speakers", &["Speaker"], None, Some("talks"));
        speakers.list = true;
        let mut talks = relation("talks", &["Talk"], None, Some("speakers"));
        talks.list = true;
        let mut related = relation("relatedTalks", &["Talk"], None, None);
        related.list = true;
        let mut sections = field(
            "sections",
            FieldKind::Component {
                targets: vec!["Hero".into(), "Quote".into()],
                union: Some("TalksectionsUnion".into()),
            },
        );
        sections.list = true;
        let mut level = field(
            "level",
            FieldKind::Enumeration {
                name: "Level".into(),
            },
        );
        level.required = true;
        let mut asset = model(
            "Asset",
            vec![scalar("fileName", Scalar::String), {
                let mut handle = scalar("handle", Scalar::String);
                handle.access = Access::ReadOnly("set by the upload".into());
                handle
            }],
        );
        asset.asset = Some(AssetSystem::UploadUrl);
        ContentModel {
            models: vec![
                asset,
                model(
                    "Talk",
                    vec![
                        slug.clone(),
                        title,
                        tags,
                        level,
                        scalar("abstract", Scalar::RichText),
                        scalar("meta", Scalar::Json),
                        scalar("color", Scalar::Color),
                        scalar("place", Scalar::Location),
                        scalar("day", Scalar::Date),
                        scalar("views", Scalar::Long),
                        scalar("featured", Scalar::Boolean),
                        speakers,
                        related,
                        relation("venue", &["Event", "Speaker"], Some("TalkVenue"), None),
                        field(
                            "seo",
                            FieldKind::Component {
                                targets: vec!["Seo".into()],
                                union: None,
                            },
                        ),
                        sections,
                    ],
                ),
                model("Speaker", vec![slug.clone(), talks]),
                model("Event", vec![slug]),
            ],
            components: vec![
                Component {
                    name: "Seo".into(),
                    fields: vec![scalar("description", Scalar::String)],
                },
                Component {
                    name: "Hero".into(),
                    fields: vec![scalar("heading", Scalar::String)],
                },
                Component {
                    name: "Quote".into(),
                    fields: vec![scalar("text", Scalar::String)],
                },
            ],
            enumerations: vec![Enumeration {
                name: "Level".into(),
                values: vec!["BEGINNER".into(), "EXPERT".into()],
            }],
            locales: vec!["en".into(), "de".into()],
            default_locale: "en".into(),
            stages: vec!["DRAFT".into(), "PUBLISHED".into(), "QA".into()],
            mutations: true,
        }
    }

    fn validated(content: &ContentModel) -> apollo_compiler::Schema {
        match generate_schema(content) {
            Ok(schema) => schema.into_inner(),
            Err(e) => panic!("{e}\n{}", generate_sdl(content)),
        }
    }

    fn input_fields(schema: &apollo_compiler::Schema, name: &str) -> Vec<String> {
        match schema.types.get(name) {
            Some(apollo_compiler::schema::ExtendedType::InputObject(input)) => {
                input.fields.keys().map(|k| k.to_string()).collect()
            }
            _ => panic!("input {name} missing"),
        }
    }

    #[test]
    fn every_field_kind_generates_a_valid_schema() {
        let schema = validated(&everything());
        assert_eq!(
            input_fields(&schema, "TalkVenueWhereUniqueInput"),
            ["Event", "Speaker"]
        );
        let talk_update = input_fields(&schema, "TalkUpdateInput");
        for f in [
            "venue",
            "sections",
            "seo",
            "speakers",
            "localizations",
            "color",
        ] {
            assert!(talk_update.contains(&f.to_string()), "{f}: {talk_update:?}");
        }
        assert_eq!(
            input_fields(&schema, "TalksectionsUnionUpdateManyInlineInput"),
            ["create", "delete", "update", "upsert"]
        );
        assert!(schema
            .types
            .contains_key("HeroUpdateWithNestedWhereUniqueAndPositionInput"));
        assert!(schema.types.contains_key("QuoteCreateWithPositionInput"));
        let asset_create = input_fields(&schema, "AssetCreateInput");
        assert!(asset_create.contains(&"uploadUrl".to_string()));
        assert!(!asset_create.contains(&"handle".to_string()));
        let where_input = input_fields(&schema, "TalkWhereInput");
        for f in [
            "venue_empty",
            "sections_empty",
            "sections_some",
            "tags_contains_some",
            "level_in",
            "meta_json_path_exists",
            "featured_not",
            "speakers_some",
            "title_starts_with",
        ] {
            assert!(where_input.contains(&f.to_string()), "{f}");
        }
        assert!(!input_fields(&schema, "TalkManyWhereInput").contains(&"title".to_string()));
        let stage = match schema.types.get("Stage") {
            Some(apollo_compiler::schema::ExtendedType::Enum(e)) => e.values.len(),
            _ => 0,
        };
        assert_eq!(stage, 3);
    }

    /// A required relation is required in the create input, as Hygraph generates it
    /// (`asset: AssetCreateOneInlineInput!`), and derives back as required; the update input
    /// never requires it.
    #[test]
    fn a_required_relation_is_required_in_the_create_input() {
        let mut content = everything();
        let mut cover = relation("cover", &["Asset"], None, None);
        cover.required = true;
        content.models[3].fields.push(cover);
        let schema = validated(&content);
        let ty = |input: &str| match &schema.types[input] {
            apollo_compiler::schema::ExtendedType::InputObject(o) => {
                o.fields["cover"].ty.to_string()
            }
            _ => panic!("{input} is an input"),
        };
        assert_eq!(ty("EventCreateInput"), "AssetCreateOneInlineInput!");
        assert_eq!(ty("EventUpdateInput"), "AssetUpdateOneInlineInput");
        let derived = crate::model::from_sdl(&generate_sdl(&content), "generated").unwrap();
        let event = derived.model("Event").unwrap();
        assert!(event.field("cover").unwrap().required);
    }

    #[test]
    fn rich_text_with_embeds_round_trips_through_the_generated_schema() {
        let text = include_str!("../../tests/fixtures/conference.toml");
        let content = crate::model::from_model_file(text, "conference.toml").unwrap();
        let schema = validated(&content);
        let talk = match &schema.types["Talk"] {
            apollo_compiler::schema::ExtendedType::Object(o) => o,
            _ => panic!("Talk is an object"),
        };
        assert_eq!(
            talk.fields["abstract"].ty.inner_named_type().as_str(),
            "TalkAbstractRichText"
        );
        match &schema.types["TalkAbstractRichTextEmbeddedTypes"] {
            apollo_compiler::schema::ExtendedType::Union(u) => {
                let members: Vec<&str> = u.members.iter().map(|m| m.as_str()).collect();
                assert_eq!(members, ["Asset", "Speaker"]);
            }
            _ => panic!("the embedded types are a union"),
        }
        assert!(schema.types.contains_key("RichBlockBodyRichText"));
        assert!(schema.types.contains_key("PageIntroRichText"));
        // Inputs still take the AST.
        assert!(input_fields(&schema, "TalkUpdateInput").contains(&"abstract".to_string()));
        // The generated schema lists fields sorted: compare each field's embeds.
        let embeds = |content: &ContentModel| {
            let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
            let owners = content
                .models
                .iter()
                .map(|m| (&m.name, &m.fields))
                .chain(content.components.iter().map(|c| (&c.name, &c.fields)));
            for (owner, fields) in owners {
                for f in fields.iter().filter(|f| f.is_rich_text()) {
                    out.push((owner.clone(), f.name.clone(), f.embeds.clone()));
                }
            }
            out.sort();
            out
        };
        let derived = crate::model::from_sdl(&generate_sdl(&content), "generated").unwrap();
        assert_eq!(embeds(&derived), embeds(&content));
        assert_eq!(embeds(&content).len(), 3);
    }

    #[test]
    fn a_model_without_localized_fields_has_no_locale_surface() {
        let content = ContentModel {
            models: vec![model("Vote", vec![scalar("score", Scalar::Int)])],
            components: vec![],
            enumerations: vec![],
            locales: vec!["en".into()],
            default_locale: "en".into(),
            stages: vec!["DRAFT".into(), "PUBLISHED".into()],
            mutations: true,
        };
        let schema = validated(&content);
        assert!(!schema.types.contains_key("VoteCreateLocalizationsInput"));
        let vote = schema.get_object("Vote").unwrap();
        assert!(!vote.fields.contains_key("localizations"));
        assert!(vote.fields["createdAt"].arguments.is_empty());
        let publish = &schema.get_object("Mutation").unwrap().fields["publishVote"];
        let args: Vec<_> = publish.arguments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(args, ["to", "where"]);
    }

    #[test]
    fn an_empty_model_still_generates_a_valid_schema() {
        let content = ContentModel {
            models: vec![],
            components: vec![],
            enumerations: vec![],
            locales: vec![],
            default_locale: String::new(),
            stages: vec![],
            mutations: true,
        };
        validated(&content);
    }
}
