//! The hand-written content-model file (TOML): a project's content model without a Hygraph
//! schema, for the emulator, the demo, tests and benchmarks.
//!
//! ```toml
//! # Locales: the first is the default, unless one is marked `{ code = "de", default = true }`.
//! locales = ["en", "de"]
//! # Content stages; optional, this is the default.
//! stages = ["DRAFT", "PUBLISHED"]
//!
//! # Optional: adds the `Asset` model with Hygraph's system asset fields. `legacy`: writable
//! # `handle`, `fileName`, `mimeType`, `size`, `width`, `height` (created from a handle or by
//! # uploading a URL); `upload-url`: the same fields, read-only, filled in by Hygraph from
//! # `createAsset(data: { uploadUrl })`.
//! [asset]
//! system = "legacy"
//!
//! [enumerations]
//! TalkLevel = ["BEGINNER", "INTERMEDIATE", "ADVANCED"]
//!
//! # Unions of models (polymorphic relations) or of components.
//! [unions]
//! TalkVenue = ["Event", "Conference"]
//!
//! [[models]]
//! name = "Talk"
//! # singular = "talk", plural = "talks"   (API ids; Hygraph's defaults when left out)
//! fields = [
//!   { name = "slug", type = "String", required = true, unique = true },
//!   { name = "title", type = "String", required = true, localized = true },
//!   { name = "level", type = "TalkLevel" },
//!   { name = "event", type = "Event", reverse = "talks" },
//!   { name = "speakers", type = "Speaker", list = true, reverse = "talks" },
//!   { name = "venue", type = "TalkVenue" },
//!   { name = "slides", type = "Asset" },
//!   # Rich text whose AST may embed or link to Speaker entries and assets.
//!   { name = "abstract", type = "RichText", embeds = ["Speaker", "Asset"] },
//! ]
//!
//! [[components]]
//! name = "Address"
//! fields = [{ name = "street", type = "String" }]
//! ```
//!
//! A field has a `name`, a `type` and optional flags `list`, `required`, `localized`, `unique`
//! (all `false` by default) and `read_only = "why"` for a field the API does not accept writes
//! to. The `type` is a scalar (`String`, `Int`, `Float`, `Boolean`, `Long`, `Date`, `DateTime`,
//! `Json`, `RichText`, `Color`, `Location`, `Hex`, `RGBA`, `ID`), an enumeration, a model
//! (a relation), a component, or a union of either.
//!
//! `embeds = ["Model", ...]` on a `RichText` field (in a model or a component, localized or not)
//! enables Hygraph's rich-text embeds: the AST may embed entries of those models (and assets,
//! with `"Asset"`) and link to them, and the API types the field as `<Owner><Field>RichText`
//! with `references` over a union of them. Without `embeds` the field is plain `RichText`.
//!
//! Relations are one-way unless `reverse` names the field on the target that points back; that
//! field must exist and name this field as its own `reverse` (for a union, every member needs
//! it). Cardinality follows from `list` on both sides. Relations to `Asset` are always two-way:
//! Hygraph adds the reverse field `<model><Field>` to `Asset` (`Speaker.photo` →
//! `Asset.speakerPhoto`), so they take no `reverse`. Relations inside components are one-way.
//! Fields may not use Hygraph's system field names (`id`, `stage`, `createdAt`, ...).
//!
//! Models, components and enumerations come out sorted by name, as from a schema; fields keep
//! file order. Errors name the file, the line and the model or field at fault.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::derive::{asset_reverse_name, scalar_named, SYSTEM_FIELDS};
use super::{
    default_plural, default_singular, Access, AssetSystem, Cardinality, Component, ContentModel,
    Enumeration, Field, FieldKind, Model, ModelError, Relation, Scalar,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    locales: Spanned<Vec<LocaleSpec>>,
    #[serde(default)]
    stages: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    asset: Option<AssetSpec>,
    #[serde(default)]
    enumerations: BTreeMap<Spanned<String>, Vec<String>>,
    #[serde(default)]
    unions: BTreeMap<Spanned<String>, Vec<String>>,
    #[serde(default)]
    models: Vec<TypeSpec>,
    #[serde(default)]
    components: Vec<TypeSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LocaleSpec {
    Code(String),
    Marked(MarkedLocale),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkedLocale {
    code: String,
    #[serde(default)]
    default: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetSpec {
    system: Spanned<String>,
}

/// A model or a component.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeSpec {
    name: Spanned<String>,
    #[serde(default)]
    singular: Option<String>,
    #[serde(default)]
    plural: Option<String>,
    #[serde(default)]
    fields: Vec<FieldSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    list: bool,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    localized: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    reverse: Option<String>,
    #[serde(default)]
    read_only: Option<String>,
    #[serde(default)]
    embeds: Option<Vec<String>>,
}

const ASSET: &str = "Asset";

/// Reads a content-model file. `origin` names the file in errors.
pub fn from_model_file(text: &str, origin: &str) -> Result<ContentModel, ModelError> {
    let spec: FileSpec = toml::from_str(text).map_err(|e| ModelError::ModelFileSyntax {
        origin: origin.into(),
        message: e.to_string().trim_end().to_string(),
    })?;
    Reader { text, origin }.read(spec)
}

struct Reader<'a> {
    text: &'a str,
    origin: &'a str,
}

/// What a field's `type` names.
enum Named<'a> {
    Model,
    Component,
    Enumeration,
    Union(&'a [String]),
}

impl Reader<'_> {
    fn error<T>(
        &self,
        span: std::ops::Range<usize>,
        subject: impl Into<String>,
        problem: impl Into<String>,
    ) -> Result<T, ModelError> {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        Err(ModelError::ModelFile {
            origin: self.origin.into(),
            line: line.to_string(),
            subject: subject.into(),
            problem: problem.into(),
        })
    }

    fn read(&self, spec: FileSpec) -> Result<ContentModel, ModelError> {
        let (locales, default_locale) = self.locales(&spec.locales)?;
        let stages = match &spec.stages {
            Some(stages) => {
                if stages.get_ref().is_empty() {
                    return self.error(stages.span(), "stages", "needs at least one stage");
                }
                if let Some(dup) = duplicate(stages.get_ref().iter()) {
                    return self.error(stages.span(), "stages", format!("`{dup}` is listed twice"));
                }
                stages.get_ref().clone()
            }
            None => vec!["DRAFT".into(), "PUBLISHED".into()],
        };
        let asset = match &spec.asset {
            None => None,
            Some(a) => Some(match a.system.get_ref().as_str() {
                "legacy" => AssetSystem::Legacy,
                "upload-url" => AssetSystem::UploadUrl,
                other => {
                    return self.error(
                        a.system.span(),
                        "asset.system",
                        format!("unknown asset system `{other}`; use \"legacy\" or \"upload-url\""),
                    )
                }
            }),
        };

        // Every type name, to catch clashes between models, components, enumerations and unions.
        let mut names: BTreeMap<&str, Named> = BTreeMap::new();
        if asset.is_some() {
            names.insert(ASSET, Named::Model);
        }
        let declared = spec
            .models
            .iter()
            .map(|m| (&m.name, Named::Model))
            .chain(spec.components.iter().map(|c| (&c.name, Named::Component)))
            .chain(spec.enumerations.keys().map(|e| (e, Named::Enumeration)))
            .chain(
                spec.unions
                    .iter()
                    .map(|(u, members)| (u, Named::Union(members))),
            );
        for (name, named) in declared {
            let n = name.get_ref().as_str();
            if !is_graphql_name(n) || scalar_named(n).is_some() {
                return self.error(
                    name.span(),
                    format!("type `{n}`"),
                    "not a usable type name: use letters, digits and `_`, not a scalar name",
                );
            }
            if n == ASSET && asset.is_some() {
                return self.error(
                    name.span(),
                    "type `Asset`",
                    "the asset model comes from `[asset]`; do not declare it",
                );
            }
            if names.insert(n, named).is_some() {
                return self.error(
                    name.span(),
                    format!("type `{n}`"),
                    "defined twice; type names must be unique across models, components, enumerations and unions",
                );
            }
        }

        let mut enumerations = Vec::new();
        for (name, values) in &spec.enumerations {
            if values.is_empty() {
                return self.error(
                    name.span(),
                    format!("enumeration `{}`", name.get_ref()),
                    "has no values",
                );
            }
            if let Some(dup) = duplicate(values.iter()) {
                return self.error(
                    name.span(),
                    format!("enumeration `{}`", name.get_ref()),
                    format!("value `{dup}` is listed twice"),
                );
            }
            enumerations.push(Enumeration {
                name: name.get_ref().clone(),
                values: values.clone(),
            });
        }
        for (name, members) in &spec.unions {
            let subject = format!("union `{}`", name.get_ref());
            if members.is_empty() {
                return self.error(name.span(), subject, "a union of nothing: list its members");
            }
            for member in members {
                match names.get(member.as_str()) {
                    Some(Named::Model) | Some(Named::Component) => {}
                    _ => {
                        return self.error(
                            name.span(),
                            subject,
                            format!(
                            "member `{member}` is not a model or component defined in this file"
                        ),
                        )
                    }
                }
            }
            let models = members
                .iter()
                .filter(|m| matches!(names.get(m.as_str()), Some(Named::Model)))
                .count();
            if models != 0 && models != members.len() {
                return self.error(
                    name.span(),
                    subject,
                    "mixes models and components; a union holds either models or components",
                );
            }
        }

        let mut models = Vec::new();
        for spec in &spec.models {
            let name = spec.name.get_ref();
            models.push(Model {
                name: name.clone(),
                singular: spec
                    .singular
                    .clone()
                    .unwrap_or_else(|| default_singular(name)),
                plural: spec.plural.clone().unwrap_or_else(|| default_plural(name)),
                asset: None,
                fields: self.fields(spec, "model", &names)?,
            });
        }
        let mut components = Vec::new();
        for spec in &spec.components {
            if spec.singular.is_some() || spec.plural.is_some() {
                return self.error(
                    spec.name.span(),
                    format!("component `{}`", spec.name.get_ref()),
                    "components have no API ids; drop `singular`/`plural`",
                );
            }
            components.push(Component {
                name: spec.name.get_ref().clone(),
                fields: self.fields(spec, "component", &names)?,
            });
        }

        self.check_reverses(&spec.models, &names, &mut models)?;
        if let Some(system) = asset {
            let asset_model = asset_model(system, &mut models);
            models.push(asset_model);
        }
        self.check_unique_api_ids(&spec.models, &models)?;
        // Same order as a derived schema gives, so a model file and the schema generated from it
        // compare equal.
        models.sort_by(|a, b| a.name.cmp(&b.name));
        components.sort_by(|a, b| a.name.cmp(&b.name));

        Ok(ContentModel {
            models,
            components,
            enumerations,
            locales,
            default_locale,
            stages,
            mutations: true,
        })
    }

    fn locales(
        &self,
        spec: &Spanned<Vec<LocaleSpec>>,
    ) -> Result<(Vec<String>, String), ModelError> {
        let mut codes = Vec::new();
        let mut default = None;
        for locale in spec.get_ref() {
            let (code, marked) = match locale {
                LocaleSpec::Code(code) => (code, false),
                LocaleSpec::Marked(m) => (&m.code, m.default),
            };
            if !is_graphql_name(code) {
                return self.error(
                    spec.span(),
                    format!("locale `{code}`"),
                    "not a usable locale code (letters, digits, `_`)",
                );
            }
            if marked {
                if let Some(first) = default.replace(code.clone()) {
                    return self.error(
                        spec.span(),
                        "locales",
                        format!("two default locales (`{first}` and `{code}`); mark only one"),
                    );
                }
            }
            codes.push(code.clone());
        }
        let Some(first) = codes.first().cloned() else {
            return self.error(spec.span(), "locales", "needs at least one locale");
        };
        if let Some(dup) = duplicate(codes.iter()) {
            return self.error(spec.span(), "locales", format!("`{dup}` is listed twice"));
        }
        let default = default.unwrap_or(first);
        let mut locales = vec![default.clone()];
        locales.extend(codes.into_iter().filter(|c| *c != default));
        Ok((locales, default))
    }

    fn fields(
        &self,
        owner: &TypeSpec,
        what: &str,
        names: &BTreeMap<&str, Named>,
    ) -> Result<Vec<Field>, ModelError> {
        let owner_name = owner.name.get_ref();
        let mut seen = HashSet::new();
        let mut fields = Vec::new();
        for spec in &owner.fields {
            let name = spec.name.get_ref();
            let subject = format!("{what} `{owner_name}`, field `{name}`");
            let fail = |problem: String| self.error(spec.name.span(), subject.clone(), problem);
            if !is_graphql_name(name) {
                return fail("not a usable field name (letters, digits, `_`)".into());
            }
            if SYSTEM_FIELDS.contains(&name.as_str()) {
                return fail(
                    "a Hygraph system field of that name exists on every entry; rename it".into(),
                );
            }
            if !seen.insert(name.as_str()) {
                return fail(format!(
                    "duplicate field: `{owner_name}` already has a field `{name}`"
                ));
            }
            let ty = spec.ty.as_str();
            let kind = if let Some(scalar) = scalar_named(ty) {
                FieldKind::Scalar { scalar }
            } else {
                match names.get(ty) {
                    Some(Named::Enumeration) => FieldKind::Enumeration { name: ty.into() },
                    Some(Named::Model) => relation(vec![ty.into()], None),
                    Some(Named::Component) => FieldKind::Component {
                        targets: vec![ty.into()],
                        union: None,
                    },
                    Some(Named::Union(members)) => {
                        if matches!(names.get(members[0].as_str()), Some(Named::Model)) {
                            relation(members.to_vec(), Some(ty.into()))
                        } else {
                            FieldKind::Component {
                                targets: members.to_vec(),
                                union: Some(ty.into()),
                            }
                        }
                    }
                    None => {
                        return fail(format!(
                            "unknown type `{ty}`: not a scalar (String, Int, Float, Boolean, Long, Date, DateTime, Json, RichText, Color, Location, Hex, RGBA, ID) nor an enumeration, model, component or union defined in this file{}",
                            if ty == ASSET { " (add `[asset]` for the Asset model)" } else { "" }
                        ))
                    }
                }
            };
            let scalar_kind = matches!(kind, FieldKind::Scalar { .. });
            if spec.unique && (!scalar_kind || spec.list) {
                return fail("only a single scalar field can be unique".into());
            }
            if spec.unique
                && matches!(kind, FieldKind::Scalar { scalar } if matches!(scalar, Scalar::Json | Scalar::RichText | Scalar::Color | Scalar::Location | Scalar::Rgba))
            {
                return fail(format!("a `{ty}` field cannot be unique"));
            }
            let embeds = match &spec.embeds {
                None => Vec::new(),
                Some(_) if ty != "RichText" => {
                    return fail(format!(
                        "`embeds` on a `{ty}` field; only `RichText` fields embed entries"
                    ))
                }
                Some(list) => {
                    if list.is_empty() {
                        return fail(
                            "`embeds = []`: list the models it may embed, or drop `embeds`".into(),
                        );
                    }
                    for target in list {
                        if !matches!(names.get(target.as_str()), Some(Named::Model)) {
                            return fail(format!(
                                "embeds `{target}`, which is not a model defined in this file{}",
                                if target == ASSET {
                                    " (add `[asset]` for the Asset model)"
                                } else {
                                    ""
                                }
                            ));
                        }
                    }
                    if let Some(dup) = duplicate(list.iter()) {
                        return fail(format!("embeds `{dup}` twice"));
                    }
                    let mut sorted = list.clone();
                    sorted.sort();
                    sorted
                }
            };
            let is_relation = matches!(kind, FieldKind::Relation(_));
            if spec.localized && is_relation {
                return fail("relations cannot be localized; drop `localized`".into());
            }
            if let Some(reverse) = &spec.reverse {
                if !is_relation {
                    return fail(format!(
                        "`reverse = \"{reverse}\"` on a field that is not a relation"
                    ));
                }
                if what == "component" {
                    return fail("relations in components are one-way; drop `reverse`".into());
                }
                if ty == ASSET {
                    return fail(format!(
                        "relations to Asset take no `reverse`: Hygraph names the reverse field `{}`",
                        asset_reverse_name(owner_name, name)
                    ));
                }
            }
            fields.push(Field {
                name: name.clone(),
                kind,
                list: spec.list,
                required: spec.required,
                localized: spec.localized,
                unique: spec.unique,
                access: match &spec.read_only {
                    Some(reason) => Access::ReadOnly(reason.clone()),
                    None => Access::Writable,
                },
                embeds,
            });
        }
        Ok(fields)
    }

    /// Checks that every `reverse` points back, and sets reverse and cardinality on relations.
    fn check_reverses(
        &self,
        specs: &[TypeSpec],
        names: &BTreeMap<&str, Named>,
        models: &mut [Model],
    ) -> Result<(), ModelError> {
        let lookup = |model: &str, field: &str| {
            specs
                .iter()
                .find(|m| m.name.get_ref() == model)
                .and_then(|m| m.fields.iter().find(|f| f.name.get_ref() == field))
        };
        let mut resolved = Vec::new();
        for (spec, model) in specs.iter().zip(models.iter()) {
            for (field_spec, field) in spec.fields.iter().zip(&model.fields) {
                let Some(relation) = field.relation() else {
                    continue;
                };
                let subject = format!("model `{}`, field `{}`", model.name, field.name);
                let reverse_list = if relation.targets == [ASSET] {
                    Some(true)
                } else if let Some(reverse) = &field_spec.reverse {
                    let mut list = false;
                    for target in &relation.targets {
                        let Some(back) = lookup(target, reverse) else {
                            return self.error(
                                field_spec.name.span(),
                                subject,
                                format!("reverse field `{target}.{reverse}` does not exist; add it to `{target}` (type `{}`, reverse = \"{}\")", model.name, field.name),
                            );
                        };
                        let points_back = back.reverse.as_deref() == Some(field.name.as_str())
                            && (back.ty == model.name
                                || matches!(names.get(back.ty.as_str()), Some(Named::Union(members)) if members.contains(&model.name)));
                        if !points_back {
                            return self.error(
                                field_spec.name.span(),
                                subject,
                                format!("reverse field `{target}.{reverse}` does not point back: give it type `{}` and reverse = \"{}\"", model.name, field.name),
                            );
                        }
                        list |= back.list;
                    }
                    Some(list)
                } else {
                    None
                };
                let reverse = if relation.targets == [ASSET] {
                    Some(asset_reverse_name(&model.name, &field.name))
                } else {
                    field_spec.reverse.clone()
                };
                let pairing = relation
                    .targets
                    .iter()
                    .map(|t| super::Pairing {
                        target: t.clone(),
                        reverse: reverse.clone(),
                        by: super::PairedBy::Declared,
                    })
                    .collect::<Vec<_>>();
                resolved.push((pairing, Cardinality::of(field.list, reverse_list)));
            }
        }
        let mut resolved = resolved.into_iter();
        for model in models.iter_mut() {
            for field in &mut model.fields {
                if let FieldKind::Relation(relation) = &mut field.kind {
                    if let Some((pairing, card)) = resolved.next() {
                        relation.pairing = pairing;
                        relation.cardinality = card;
                    }
                }
            }
        }
        Ok(())
    }

    fn check_unique_api_ids(&self, specs: &[TypeSpec], models: &[Model]) -> Result<(), ModelError> {
        let mut seen = HashSet::new();
        for (i, model) in models.iter().enumerate() {
            for id in [&model.singular, &model.plural] {
                if !seen.insert(id.as_str()) {
                    let span = specs.get(i).map(|s| s.name.span()).unwrap_or(0..0);
                    return self.error(
                        span,
                        format!("model `{}`", model.name),
                        format!("API id `{id}` is already used by another model; set `singular`/`plural`"),
                    );
                }
            }
        }
        Ok(())
    }
}

fn relation(targets: Vec<String>, union: Option<String>) -> FieldKind {
    FieldKind::Relation(Relation::one_way(targets, union))
}

/// The `Asset` model as Hygraph defines it, with one reverse field per asset field of `models`
/// (whose relations already name those reverse fields).
fn asset_model(system: AssetSystem, models: &mut [Model]) -> Model {
    let access = match system {
        AssetSystem::Legacy => Access::Writable,
        AssetSystem::UploadUrl => Access::ReadOnly(
            "set by Hygraph from the uploaded file (upload-url asset system)".into(),
        ),
    };
    let legacy = system == AssetSystem::Legacy;
    let scalar = |name: &str, scalar: Scalar, required: bool| Field {
        name: name.into(),
        kind: FieldKind::Scalar { scalar },
        list: false,
        required: required && legacy,
        // Hygraph localizes asset files: each locale may hold its own file.
        localized: true,
        unique: false,
        access: access.clone(),
        embeds: Vec::new(),
    };
    let mut fields = vec![
        scalar("fileName", Scalar::String, true),
        scalar("handle", Scalar::String, true),
        scalar("height", Scalar::Float, false),
        scalar("mimeType", Scalar::String, false),
        scalar("size", Scalar::Float, false),
        scalar("width", Scalar::Float, false),
    ];
    for model in models.iter() {
        for field in &model.fields {
            let Some(relation) = field.relation() else {
                continue;
            };
            if relation.targets == [ASSET] {
                fields.push(Field {
                    name: asset_reverse_name(&model.name, &field.name),
                    kind: FieldKind::Relation(Relation::two_way(
                        vec![model.name.clone()],
                        None,
                        &field.name,
                        super::PairedBy::Declared,
                        Cardinality::of(true, Some(field.list)),
                    )),
                    list: true,
                    required: false,
                    localized: false,
                    unique: false,
                    access: Access::Writable,
                    embeds: Vec::new(),
                });
            }
        }
    }
    Model {
        name: ASSET.into(),
        singular: default_singular(ASSET),
        plural: default_plural(ASSET),
        asset: Some(system),
        fields,
    }
}

fn duplicate<'a>(items: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    let mut seen = HashSet::new();
    items.into_iter().find(|item| !seen.insert(item.as_str()))
}

fn is_graphql_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
