//! How the engine sees one model: which fields it reads and writes, which relation fields it
//! writes from this side ("owned") and which it leaves to the other side, and which it skips.

use crate::model::{Cardinality, ContentModel, Field, FieldKind, Model, Scalar};

/// One model, sorted into what the engine does with each field.
#[derive(Debug, Clone)]
pub struct Shape<'m> {
    pub model: &'m Model,
    /// Writable non-relation fields with one value per entry.
    pub plain: Vec<&'m Field>,
    /// Writable non-relation fields with one value per locale.
    pub localized: Vec<&'m Field>,
    /// Relation fields written from this side.
    pub owned: Vec<&'m Field>,
    /// Relation fields written from the other side (compared as sets by `verify`).
    pub reverse: Vec<&'m Field>,
    /// Fields stagesync does not write, with the reason.
    pub skipped: Vec<(&'m Field, String)>,
}

/// Fields of the Asset model that describe the stored file rather than content: the file is
/// transferred by upload, never by writing these.
pub const ASSET_FILE_FIELDS: &[&str] = &["handle", "url", "upload", "uploadUrl"];

impl<'m> Shape<'m> {
    pub fn new(content: &'m ContentModel, model: &'m Model) -> Shape<'m> {
        let mut shape = Shape {
            model,
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
                FieldKind::Relation(rel) => {
                    if owns(
                        content,
                        model,
                        field,
                        rel.reverse.as_deref(),
                        rel.cardinality,
                    ) {
                        shape.owned.push(field);
                    } else {
                        shape.reverse.push(field);
                    }
                }
                FieldKind::Component { .. } => shape.skipped.push((
                    field,
                    "component fields are not synced by this version of stagesync".into(),
                )),
                _ if field.localized => shape.localized.push(field),
                _ => shape.plain.push(field),
            }
        }
        shape
    }

    pub fn is_asset(&self) -> bool {
        self.model.asset.is_some()
    }
}

/// Two-way relations are written from one side only: the side holding the ordered list when the
/// other holds one target; the non-asset side of asset links; else the alphabetically first
/// `Model.field`. One-way relations are always written from their only side.
fn owns(
    content: &ContentModel,
    model: &Model,
    field: &Field,
    reverse: Option<&str>,
    cardinality: Cardinality,
) -> bool {
    let Some(reverse) = reverse else {
        return true;
    };
    if model.asset.is_some() {
        return false;
    }
    let rel = field.relation().expect("relation field");
    if rel
        .targets
        .iter()
        .any(|t| content.model(t).is_some_and(|m| m.asset.is_some()))
    {
        return true;
    }
    match cardinality {
        Cardinality::OneToMany => true,
        Cardinality::ManyToOne => false,
        Cardinality::OneWay => true,
        Cardinality::OneToOne | Cardinality::ManyToMany => {
            let target = rel.targets.first().map(String::as_str).unwrap_or("");
            (model.name.as_str(), field.name.as_str()) <= (target, reverse)
        }
    }
}

/// How a field is selected in a read.
pub fn selection(field: &Field, content: &ContentModel) -> String {
    match &field.kind {
        FieldKind::Scalar { scalar } => match scalar {
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
        FieldKind::Component { .. } => String::new(),
    }
}
