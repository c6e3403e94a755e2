//! The content model: what a Hygraph project contains — models, fields, relations, components,
//! enumerations, locales and stages — derived from the project's Content API schema (SDL text or
//! an introspection answer) or from a hand-written model file.
//!
//! Pure data, no I/O: the `hygraph` client builds its queries from it, the `sync` engine walks it,
//! and the `emulator` serves a schema generated from it.

mod derive;
mod error;
mod file;
pub mod introspection;
pub mod pairing;
pub mod rich_text;
mod schema;
mod type_system;

pub use error::ModelError;
pub use file::from_model_file;
pub use schema::{from_introspection, from_sdl};

use serde::Serialize;

/// Everything stagesync knows about one project's content.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContentModel {
    /// Content models (object types implementing `Node`, system models excluded), `Asset` included.
    pub models: Vec<Model>,
    /// Components: object types implementing `Entity` but not `Node`.
    pub components: Vec<Component>,
    pub enumerations: Vec<Enumeration>,
    /// All locales of the `Locale` enum; the default locale is also in this list.
    pub locales: Vec<String>,
    pub default_locale: String,
    /// Content stages of the `Stage` enum (`DRAFT`, `PUBLISHED`, custom ones), in the enum's
    /// order: older exports list `PUBLISHED` first, so the draft is [`ContentModel::draft_stage`],
    /// never "the first stage".
    pub stages: Vec<String>,
    /// The schema serves mutations. `false` for a schema exported with a read-only token (no or
    /// an empty `type Mutation`): such a project can be read, never written.
    pub mutations: bool,
}

/// Hygraph's draft stage: where entries are created and updated, whatever the enum's order.
pub const DRAFT_STAGE: &str = "DRAFT";

/// One content model, e.g. `Product`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    /// Type name: `Product`.
    pub name: String,
    /// Singular query field: `product`.
    pub singular: String,
    /// Plural query field: `products` (the connection is `productsConnection`).
    pub plural: String,
    /// `Some` for the `Asset` model.
    pub asset: Option<AssetSystem>,
    /// Fields in schema order, system fields (`id`, `stage`, `createdAt`, ...) excluded.
    pub fields: Vec<Field>,
}

/// Which asset system a project uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssetSystem {
    /// `createAsset(data: { handle, fileName, ... })` and `POST <endpoint>/upload` with `url=`.
    Legacy,
    /// `createAsset(data: { uploadUrl })` with `upload { status }`.
    UploadUrl,
}

/// A component type (an `Entity` without `Node`): it lives inside an entry's field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enumeration {
    pub name: String,
    pub values: Vec<String>,
}

/// One field of a model or component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
    /// A list (`[T!]`) rather than a single value.
    pub list: bool,
    /// Required on create (`T!` in the create input).
    pub required: bool,
    /// Has a value per locale (appears in `...CreateLocalizationDataInput`).
    pub localized: bool,
    /// Appears in `...WhereUniqueInput`.
    pub unique: bool,
    pub access: Access,
    /// Models (`Asset` included) that rich text in this field may embed or link to: the members
    /// of Hygraph's `<Owner><Field>RichTextEmbeddedTypes` union. Empty for every other field and
    /// for rich text without embeds (plain `RichText`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub embeds: Vec<String>,
}

/// Whether stagesync can write a field, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "access", content = "reason", rename_all = "kebab-case")]
pub enum Access {
    Writable,
    /// Not in the create/update inputs (remote fields, taxonomies, fields the token may not
    /// write): read, reported as skipped, never written.
    ReadOnly(String),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FieldKind {
    Scalar {
        scalar: Scalar,
    },
    Enumeration {
        name: String,
    },
    Relation(Relation),
    /// A component field, single or list, over one component type or a union of them.
    Component {
        targets: Vec<String>,
        union: Option<String>,
    },
}

/// Scalar kinds of the Content API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Scalar {
    String,
    Int,
    Float,
    Boolean,
    Long,
    Date,
    DateTime,
    Json,
    /// `RichText` out, `RichTextAST` in.
    RichText,
    /// `Color` out (`{hex rgba css}`), `ColorInput` in (`hex` or `rgba`).
    Color,
    /// `Location` out (`{latitude longitude}`), `LocationInput` in.
    Location,
    Hex,
    Rgba,
    Id,
}

/// A reference from this entry to other entries (or assets).
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    /// Target model names: one, or the members of a union.
    pub targets: Vec<String>,
    /// The union type name when the relation is polymorphic.
    pub union: Option<String>,
    /// Per target, in the order of `targets`: the field on that target that shows the same
    /// relation from the other side (members of a union may each name theirs differently), and
    /// how that was decided. See [`pairing`].
    pub pairing: Vec<Pairing>,
    pub cardinality: Cardinality,
}

/// How one end of a relation is paired with the field showing it from one target model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pairing {
    pub target: String,
    /// The field on `target` pointing back; `None` when the target does not show this relation
    /// (one-way) or when stagesync cannot tell which field does (undecided).
    pub reverse: Option<String>,
    pub by: PairedBy,
}

/// How a pairing was decided (`stagesync schema` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairedBy {
    /// The types alone: one field each way between the two models, or each member of a union
    /// with exactly one field back to the owner.
    Types,
    /// Hygraph's naming of reverse fields decided between several relations of two models.
    Naming,
    /// A `[relations]` entry of the config.
    Config,
    /// A model file's `reverse` (or Hygraph's asset reverse field a model file implies).
    Declared,
    /// Several fields could be the reverse and nothing decides: the relation is read, written
    /// and verified from both sides, each as its own one-way relation.
    Undecided,
    /// No field points back: the target does not show this relation.
    OneWay,
}

impl PairedBy {
    /// The words `stagesync schema` prints.
    pub fn describe(self) -> &'static str {
        match self {
            PairedBy::Types => "by types",
            PairedBy::Naming => "by naming",
            PairedBy::Config => "by config",
            PairedBy::Declared => "by model file",
            PairedBy::Undecided => "undecided",
            PairedBy::OneWay => "one-way",
        }
    }
}

impl Relation {
    /// A relation no target points back to.
    pub fn one_way(targets: Vec<String>, union: Option<String>) -> Relation {
        let pairing = targets
            .iter()
            .map(|t| Pairing {
                target: t.clone(),
                reverse: None,
                by: PairedBy::OneWay,
            })
            .collect();
        Relation {
            targets,
            union,
            pairing,
            cardinality: Cardinality::OneWay,
        }
    }

    /// A relation whose every target points back through a field named `reverse`.
    pub fn two_way(
        targets: Vec<String>,
        union: Option<String>,
        reverse: &str,
        by: PairedBy,
        cardinality: Cardinality,
    ) -> Relation {
        let pairing = targets
            .iter()
            .map(|t| Pairing {
                target: t.clone(),
                reverse: Some(reverse.to_owned()),
                by,
            })
            .collect();
        Relation {
            targets,
            union,
            pairing,
            cardinality,
        }
    }

    /// The common case: the one reverse field every target names alike (`Event.talks` ↔
    /// `Talk.event`). `None` when a target does not point back, or members of a union name
    /// their reverse fields differently (see [`Relation::reverse_for`]).
    pub fn reverse(&self) -> Option<&str> {
        let first = self.pairing.first()?.reverse.as_deref()?;
        self.pairing
            .iter()
            .all(|p| p.reverse.as_deref() == Some(first))
            .then_some(first)
    }

    /// The field on `target` showing this relation from the other side, if any.
    pub fn reverse_for(&self, target: &str) -> Option<&str> {
        self.pairing
            .iter()
            .find(|p| p.target == target)
            .and_then(|p| p.reverse.as_deref())
    }

    /// Every target points back: the relation is two-way for all of them.
    pub fn fully_paired(&self) -> bool {
        !self.pairing.is_empty() && self.pairing.iter().all(|p| p.reverse.is_some())
    }

    /// Targets for which stagesync could not tell the reverse field.
    pub fn undecided(&self) -> impl Iterator<Item = &Pairing> {
        self.pairing.iter().filter(|p| p.by == PairedBy::Undecided)
    }
}

/// The JSON form (`schema --json`): `reverse` as before (the common single reverse field), and
/// `pairing` per target.
impl Serialize for Relation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut s = serializer.serialize_struct("Relation", 5)?;
        s.serialize_field("targets", &self.targets)?;
        s.serialize_field("union", &self.union)?;
        s.serialize_field("reverse", &self.reverse())?;
        s.serialize_field("cardinality", &self.cardinality)?;
        s.serialize_field("pairing", &self.pairing)?;
        s.end()
    }
}

/// Cardinality as seen from this side: `OneToMany` means this entry holds many targets and each
/// target holds one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cardinality {
    OneToOne,
    OneToMany,
    ManyToOne,
    ManyToMany,
    /// No reverse field: the target does not see this relation. `list` on the field tells
    /// whether it holds one target or many.
    OneWay,
}

impl Cardinality {
    /// The cardinality of an end holding a list (`list`) or one target, whose reverse end, if
    /// any, holds a list or one.
    pub(crate) fn of(list: bool, reverse_list: Option<bool>) -> Cardinality {
        match (list, reverse_list) {
            (_, None) => Cardinality::OneWay,
            (false, Some(false)) => Cardinality::OneToOne,
            (true, Some(false)) => Cardinality::OneToMany,
            (false, Some(true)) => Cardinality::ManyToOne,
            (true, Some(true)) => Cardinality::ManyToMany,
        }
    }
}

impl ContentModel {
    /// The stage writes land in: `DRAFT` whenever the `Stage` enum has it (every Hygraph project
    /// does); only a hand-written model without it falls back to its first stage.
    pub fn draft_stage(&self) -> &str {
        if self.stages.iter().any(|s| s == DRAFT_STAGE) {
            DRAFT_STAGE
        } else {
            self.stages.first().map_or(DRAFT_STAGE, String::as_str)
        }
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    pub fn enumeration(&self, name: &str) -> Option<&Enumeration> {
        self.enumerations.iter().find(|e| e.name == name)
    }

    /// Pairs every relation again with the config's `[relations]` entries first (see
    /// [`pairing`]). Each problem with the entries (a model or field the schema lacks, fields
    /// that do not point at each other) is one line of the error; nothing changes then.
    pub fn apply_relations(&mut self, rules: &[pairing::RelationRule]) -> Result<(), Vec<String>> {
        let mut models = self.models.clone();
        pairing::pair(&mut models, rules)?;
        self.models = models;
        Ok(())
    }

    /// Relation ends whose reverse field stagesync could not tell, as `(model, field, target)`.
    pub fn undecided_relations(&self) -> Vec<(&str, &str, &str)> {
        self.models
            .iter()
            .flat_map(|m| {
                m.fields
                    .iter()
                    .filter_map(move |f| Some((m, f, f.relation()?)))
            })
            .flat_map(|(m, f, r)| {
                r.undecided()
                    .map(move |p| (m.name.as_str(), f.name.as_str(), p.target.as_str()))
            })
            .collect()
    }

    /// The asset model, if the project has one.
    pub fn asset_model(&self) -> Option<&Model> {
        self.models.iter().find(|m| m.asset.is_some())
    }
}

impl Model {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// `productsConnection`.
    pub fn connection(&self) -> String {
        format!("{}Connection", self.plural)
    }

    pub fn unique_fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| f.unique)
    }

    pub fn has_localized_fields(&self) -> bool {
        self.fields.iter().any(|f| f.localized)
    }
}

impl Field {
    pub fn is_writable(&self) -> bool {
        self.access == Access::Writable
    }

    pub fn relation(&self) -> Option<&Relation> {
        match &self.kind {
            FieldKind::Relation(r) => Some(r),
            _ => None,
        }
    }

    pub fn is_rich_text(&self) -> bool {
        self.kind
            == FieldKind::Scalar {
                scalar: Scalar::RichText,
            }
    }

    /// Hygraph's name for the output type of rich text with embeds in `owner` (a model or a
    /// component type): `Post.content` → `PostContentRichText`. `None` for any other field.
    pub fn rich_text_type(&self, owner: &str) -> Option<String> {
        (self.is_rich_text() && !self.embeds.is_empty())
            .then(|| format!("{owner}{}RichText", upper_first(&self.name)))
    }
}

/// `post` → `Post`: how Hygraph builds type and field names from API ids.
pub fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Hygraph's naming rules for the API ids of a model (`BlogPost` → `blogPost` / `blogPosts`).
/// Only used where no schema says otherwise (model files); schemas carry the real names.
pub fn default_singular(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// English plural as Hygraph generates it for model API ids (`Category` → `categories`).
pub fn default_plural(name: &str) -> String {
    let singular = default_singular(name);
    let lower = singular.to_ascii_lowercase();
    if lower.ends_with('y')
        && !["ay", "ey", "iy", "oy", "uy"]
            .iter()
            .any(|v| lower.ends_with(v))
    {
        format!("{}ies", &singular[..singular.len() - 1])
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        format!("{singular}es")
    } else {
        format!("{singular}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_follow_hygraph_rules() {
        assert_eq!(default_singular("BlogPost"), "blogPost");
        assert_eq!(default_plural("BlogPost"), "blogPosts");
        assert_eq!(default_plural("Category"), "categories");
        assert_eq!(default_plural("Day"), "days");
        assert_eq!(default_plural("Address"), "addresses");
    }
}
