//! How the engine sees one model: which fields it reads and writes, which relation fields it
//! writes from this side ("owned") and which it leaves to the other side, and which it skips.
//!
//! Component fields are content: they are read whole (every member type through an inline
//! fragment, nested components included), compared whole, and written whole. Inside components,
//! read-only fields are not synced and are listed as skipped.
//!
//! A relation field inside a component (at any depth, single or list, to a model, a union of
//! models or Asset) is read with its targets' `__typename` and `id` and kept in the component's
//! canonical value as `{nodeType, nodeId}` references with source ids (`canonical`). A component
//! field holding such a reference is written like one holding rich text with references (below):
//! whole, in the edges phase, once every target exists in the destination, with each id
//! rewritten to the destination's. A target without a destination id (its model not synced, or
//! the target failed) fails that entry's edges with a message naming the target, as a top-level
//! relation does; the rest of the run goes on. A required relation inside a component needs no
//! ordering: the component is written only once all its targets exist, so its create connects
//! them. (A component field that the model's create itself requires and that holds relations
//! cannot be left to the edges phase: the destination refuses such a create, reported for that
//! entry.)
//!
//! Rich text with embeds is read with its `references` (the embedded and linked entries and
//! assets). A value whose AST references entries — a rich-text field, a localized one in any
//! locale, or a component field holding such rich text at any depth — is written in the edges
//! phase, once every target exists in the destination, with each `nodeId` rewritten to the
//! destination's id. A component field is written whole there (the content phase leaves it
//! alone), a localized value through the update's `localizations.upsert`.

use crate::model::{Cardinality, ContentModel, Field, FieldKind, Model, Scalar};

/// One model, sorted into what the engine does with each field.
#[derive(Debug, Clone)]
pub struct Shape<'m> {
    pub model: &'m Model,
    /// The content model the model belongs to (component types, enumerations).
    pub content: &'m ContentModel,
    /// Writable non-relation fields with one value per entry.
    pub plain: Vec<&'m Field>,
    /// Writable non-relation fields with one value per locale.
    pub localized: Vec<&'m Field>,
    /// Relation fields written from this side (a required relation from the side requiring
    /// it: its create connects the targets, see `order`).
    pub owned: Vec<&'m Field>,
    /// Relation fields written from the other side (not read: the owning side has the edges).
    pub reverse: Vec<&'m Field>,
    /// Fields stagesync does not write, with the reason.
    pub skipped: Vec<(&'m Field, String)>,
}

/// Fields of the Asset model that describe the stored file rather than content: the file is
/// transferred by upload, never by writing these.
pub const ASSET_FILE_FIELDS: &[&str] = &["handle", "url", "upload", "uploadUrl"];

impl<'m> Shape<'m> {
    /// Moves field `name` to `skipped` with `reason` (a field the destination cannot take).
    pub fn skip(&mut self, name: &str, reason: String) {
        let Some(field) = self.model.field(name) else {
            return;
        };
        for list in [&mut self.plain, &mut self.localized, &mut self.owned] {
            list.retain(|f| f.name != name);
        }
        if !self.skipped.iter().any(|(f, _)| f.name == name) {
            self.skipped.push((field, reason));
        }
    }

    pub fn new(content: &'m ContentModel, model: &'m Model) -> Shape<'m> {
        let mut shape = Shape {
            model,
            content,
            plain: Vec::new(),
            localized: Vec::new(),
            owned: Vec::new(),
            reverse: Vec::new(),
            skipped: Vec::new(),
        };
        for field in &model.fields {
            if let crate::model::Access::ReadOnly(reason) = &field.access {
                shape.skipped.push((field, reason.clone()));
                continue;
            }
            if model.asset.is_some() && ASSET_FILE_FIELDS.contains(&field.name.as_str()) {
                continue;
            }
            match &field.kind {
                FieldKind::Relation(_) => {
                    if owns(content, model, field) {
                        shape.owned.push(field);
                    } else {
                        shape.reverse.push(field);
                    }
                }
                FieldKind::Component { .. } if field.localized => shape.skipped.push((
                    field,
                    "localized component fields (one component per locale) are not synced by this version of stagesync; localized fields inside components are".into(),
                )),
                FieldKind::Component { targets, .. } => {
                    skipped_inside(content, targets, &mut shape.skipped, 0);
                    shape.plain.push(field);
                }
                _ if field.localized => shape.localized.push(field),
                _ => shape.plain.push(field),
            }
        }
        shape
    }

    pub fn is_asset(&self) -> bool {
        self.model.asset.is_some()
    }

    /// Relation fields written from this side whose targets have one owner (an event's
    /// `talks`, a conference's `events`): writing one takes its targets from their owners.
    pub fn single_owner(&self) -> impl Iterator<Item = &'m Field> + '_ {
        self.owned.iter().copied().filter(|f| {
            f.relation().is_some_and(|r| {
                matches!(
                    r.cardinality,
                    Cardinality::OneToMany | Cardinality::OneToOne
                )
            })
        })
    }
}

/// Deepest component nesting the engine follows (Hygraph allows a few levels; cycles are
/// impossible in a schema but cheap to guard against).
pub const MAX_COMPONENT_DEPTH: usize = 6;

/// Whether the engine syncs `field` of a component.
pub fn synced_in_component(field: &Field) -> bool {
    field.is_writable() && !field_is_localized_component(field)
}

fn field_is_localized_component(field: &Field) -> bool {
    field.localized && matches!(field.kind, FieldKind::Component { .. })
}

/// Lists fields inside the component types `targets` (and deeper) that are not synced.
fn skipped_inside<'m>(
    content: &'m ContentModel,
    targets: &[String],
    skipped: &mut Vec<(&'m Field, String)>,
    depth: usize,
) {
    for name in targets {
        let Some(component) = content.component(name) else {
            continue;
        };
        for f in &component.fields {
            let why = match (&f.access, &f.kind) {
                (crate::model::Access::ReadOnly(reason), _) => Some(reason.clone()),
                (_, FieldKind::Component { .. }) if f.localized => Some(
                    "localized component field inside a component: not synced by this version of stagesync".into(),
                ),
                (_, FieldKind::Component { .. }) if depth + 1 >= MAX_COMPONENT_DEPTH => Some(format!(
                    "components nested deeper than {MAX_COMPONENT_DEPTH} levels are not synced"
                )),
                _ => None,
            };
            match (why, &f.kind) {
                (Some(reason), _) if !skipped.iter().any(|(s, _)| std::ptr::eq(*s, f)) => {
                    skipped.push((f, format!("{name}.{}: {reason}", f.name)));
                }
                (Some(_), _) => {}
                (None, FieldKind::Component { targets, .. }) => {
                    skipped_inside(content, targets, skipped, depth + 1)
                }
                _ => {}
            }
        }
    }
}

/// Two-way relations are written from one side only: the union side of a union relation (its
/// members' fields are parts of it); the non-asset side of asset links; the side holding the
/// ordered list when the other holds one target; else the alphabetically first `Model.field`.
/// A relation with a target that does not point back — one-way, or undecided (see
/// `model::pairing`) — is written from this side, whatever the other side does: both sides of
/// an undecided pair are read, written and verified, each as the data of its own entries.
fn owns(content: &ContentModel, model: &Model, field: &Field) -> bool {
    let rel = field.relation().expect("relation field");
    if !rel.fully_paired() {
        return true;
    }
    if model.asset.is_some() {
        return false;
    }
    if rel
        .targets
        .iter()
        .any(|t| content.model(t).is_some_and(|m| m.asset.is_some()))
        || rel.union.is_some()
    {
        return true;
    }
    let target = rel.targets.first().map(String::as_str).unwrap_or("");
    let reverse = rel.reverse_for(target).unwrap_or("");
    let partner = content
        .model(target)
        .and_then(|m| m.field(reverse))
        .and_then(Field::relation);
    // A partner that writes whatever this side does (a union, or one with a target of its own
    // that does not point back) holds these edges already.
    if partner.is_some_and(|p| p.union.is_some() || !p.fully_paired()) {
        return false;
    }
    // A required relation is written from the side whose create requires it: that create
    // connects its target (see `order`), so this side must read and hold the edges.
    let partner_required = content
        .model(target)
        .and_then(|m| m.field(reverse))
        .is_some_and(|f| f.required);
    if field.required != partner_required {
        return field.required;
    }
    match rel.cardinality {
        Cardinality::OneToMany => true,
        Cardinality::ManyToOne => false,
        Cardinality::OneWay => true,
        Cardinality::OneToOne | Cardinality::ManyToMany => {
            (model.name.as_str(), field.name.as_str()) <= (target, reverse)
        }
    }
}

/// How a field is selected in a read.
pub fn selection(field: &Field, content: &ContentModel) -> String {
    match &field.kind {
        FieldKind::Scalar { scalar } => match scalar {
            Scalar::RichText if !field.embeds.is_empty() => {
                // The targets come with the AST: they must exist in the destination before
                // the AST is written (see `canonical::Version::references`).
                let members: Vec<String> = field
                    .embeds
                    .iter()
                    .filter(|t| content.model(t).is_some())
                    .map(|t| format!("... on {t} {{ id }}"))
                    .collect();
                // No arguments: real schemas differ in whether `references` takes any, and
                // without them every reference is returned.
                format!(
                    "{} {{ raw references {{ __typename {} }} }}",
                    field.name,
                    members.join(" ")
                )
            }
            Scalar::RichText => format!("{} {{ raw }}", field.name),
            Scalar::Color => format!("{} {{ hex rgba {{ r g b a }} }}", field.name),
            Scalar::Location => format!("{} {{ latitude longitude }}", field.name),
            _ => field.name.clone(),
        },
        FieldKind::Enumeration { .. } => field.name.clone(),
        FieldKind::Relation(rel) => {
            let first = if field.list { "(first: 100)" } else { "" };
            if rel.union.is_some() {
                let members: Vec<String> = rel
                    .targets
                    .iter()
                    .filter(|t| content.model(t).is_some())
                    .map(|t| format!("... on {t} {{ id }}"))
                    .collect();
                format!(
                    "{}{first} {{ __typename {} }}",
                    field.name,
                    members.join(" ")
                )
            } else {
                format!("{}{first} {{ __typename id }}", field.name)
            }
        }
        FieldKind::Component { targets, .. } => {
            let first = if field.list { "(first: 100)" } else { "" };
            format!(
                "{}{first} {{ __typename {} }}",
                field.name,
                component_fragments(targets, content, 0)
            )
        }
    }
}

/// `... on Hero { ... }` for each component type: its synced fields, localized ones through
/// `localizations` (every synced locale, the current one included).
fn component_fragments(targets: &[String], content: &ContentModel, depth: usize) -> String {
    let mut out = Vec::new();
    for name in targets {
        let Some(component) = content.component(name) else {
            continue;
        };
        let mut plain = vec!["id".to_string()];
        let mut localized = Vec::new();
        for f in component.fields.iter().filter(|f| synced_in_component(f)) {
            let sel = match &f.kind {
                FieldKind::Component { targets, .. } => {
                    if depth + 1 >= MAX_COMPONENT_DEPTH {
                        continue;
                    }
                    let first = if f.list { "(first: 100)" } else { "" };
                    format!(
                        "{}{first} {{ __typename {} }}",
                        f.name,
                        component_fragments(targets, content, depth + 1)
                    )
                }
                _ => selection(f, content),
            };
            if f.localized {
                localized.push(sel);
            } else {
                plain.push(sel);
            }
        }
        if !localized.is_empty() {
            plain.push(format!(
                "localizations(includeCurrent: true, locales: $locales) {{ locale {} }}",
                localized.join(" ")
            ));
        }
        out.push(format!("... on {name} {{ {} }}", plain.join(" ")));
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::Shape;
    use crate::model::{from_sdl, ContentModel};

    fn derive(types: &str) -> ContentModel {
        let prelude = "interface Node { id: ID! stage: Stage! }\nenum Locale { \"\"\"System locale\"\"\" en }\nenum Stage { DRAFT PUBLISHED }\n";
        from_sdl(&format!("{prelude}{types}"), "test.graphql").unwrap()
    }

    /// (owned, reverse) field names of `model`'s shape.
    fn sides(content: &ContentModel, model: &str) -> (Vec<String>, Vec<String>) {
        let shape = Shape::new(content, content.model(model).unwrap());
        let names =
            |fields: &[&crate::model::Field]| fields.iter().map(|f| f.name.clone()).collect();
        (names(&shape.owned), names(&shape.reverse))
    }

    #[test]
    fn every_relation_is_written_from_exactly_one_side_or_from_both_when_undecided() {
        let content = derive(
            r#"
type Page implements Node { id: ID! stage: Stage! content: [PageContent!]! hero: Video }
union PageContent = Article | Video
type Article implements Node { id: ID! stage: Stage! pages: [Page!]! }
type Video implements Node { id: ID! stage: Stage! appearsOn: [Page!]! }
type Post implements Node { id: ID! stage: Stage! writer: Person editor: Person }
type Person implements Node { id: ID! stage: Stage! written: [Post!]! edited: [Post!]! }
input PageCreateInput { content: ID hero: ID }
input ArticleCreateInput { pages: ID }
input VideoCreateInput { appearsOn: ID }
input PostCreateInput { writer: ID editor: ID }
input PersonCreateInput { written: ID edited: ID }
"#,
        );
        // `Video.appearsOn` has two candidates (`content`, `hero`): undecided, like `hero`.
        assert_eq!(
            sides(&content, "Page"),
            (vec!["content".into(), "hero".into()], vec![])
        );
        assert_eq!(sides(&content, "Article"), (vec![], vec!["pages".into()]));
        assert_eq!(sides(&content, "Video"), (vec!["appearsOn".into()], vec![]));
        assert_eq!(
            sides(&content, "Post"),
            (vec!["writer".into(), "editor".into()], vec![])
        );
        assert_eq!(
            sides(&content, "Person"),
            (vec!["written".into(), "edited".into()], vec![])
        );
    }
}
