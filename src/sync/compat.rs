//! Whether the destination's schema can hold what the source has: every synced model and
//! writable field must exist there with a compatible type. All mismatches are listed at once.
//! A field the destination has but does not let this token write (not in its input types) is
//! not a mismatch: it is skipped, and `plan` says so.

use crate::model::{ContentModel, Field, FieldKind, Model};

use super::SyncError;

/// A field to skip: (model, field, reason).
pub type Skip = (String, String, String);

/// Checks the destination and returns the fields it does not let stagesync write.
pub fn check(
    source: &ContentModel,
    dest: &ContentModel,
    names: &[String],
) -> Result<Vec<Skip>, SyncError> {
    let mut problems = Vec::new();
    let mut skips = Vec::new();
    if !dest.mutations {
        return Err(SyncError::ReadOnlyDestination);
    }
    for name in names {
        let Some(model) = source.model(name) else {
            continue;
        };
        let Some(target) = dest.model(name) else {
            problems.push(format!("model {name} is missing in the destination"));
            continue;
        };
        for field in model.fields.iter().filter(|f| f.is_writable()) {
            if matches!(field.kind, FieldKind::Component { .. }) {
                continue;
            }
            match target.field(&field.name) {
                None => problems.push(format!(
                    "{name}.{} is missing in the destination",
                    field.name
                )),
                Some(other) if !other.is_writable() => skips.push((
                    name.clone(),
                    field.name.clone(),
                    "not writable in the destination (not in its input types: a remote field \
                     there, or the destination token may not write it)"
                        .to_owned(),
                )),
                Some(other) => {
                    if let Some(why) = mismatch(source, dest, field, other) {
                        problems.push(format!("{name}.{}: {why}", field.name));
                    }
                }
            }
        }
    }
    let missing_locales: Vec<&String> = source
        .locales
        .iter()
        .filter(|l| !dest.locales.contains(l))
        .collect();
    if !missing_locales.is_empty() {
        problems.push(format!(
            "locales {:?} are missing in the destination",
            missing_locales
        ));
    }
    if problems.is_empty() {
        Ok(skips)
    } else {
        Err(SyncError::Incompatible(problems))
    }
}

/// The configured locales, each of which must exist in both schemas.
pub fn locales(
    configured: &[String],
    source: &ContentModel,
    dest: &ContentModel,
) -> Result<Vec<String>, SyncError> {
    missing_in_either(configured, source, dest, |m| &m.locales).map_err(SyncError::UnknownLocales)
}

/// The configured stages, each of which must exist in both schemas' `Stage` enum: a stage
/// only one side has cannot be synced, and silently skipping it would leave it stale.
pub fn stages(
    configured: &[String],
    source: &ContentModel,
    dest: &ContentModel,
) -> Result<Vec<String>, SyncError> {
    missing_in_either(configured, source, dest, |m| &m.stages).map_err(SyncError::UnknownStages)
}

/// `configured` if every name is in both schemas' list, else one problem per missing name,
/// naming the side(s) that lack it.
fn missing_in_either(
    configured: &[String],
    source: &ContentModel,
    dest: &ContentModel,
    list: impl Fn(&ContentModel) -> &Vec<String>,
) -> Result<Vec<String>, Vec<String>> {
    let problems: Vec<String> = configured
        .iter()
        .filter_map(|name| {
            let missing: Vec<&str> = [("source", source), ("destination", dest)]
                .into_iter()
                .filter(|(_, m)| !list(m).contains(name))
                .map(|(side, _)| side)
                .collect();
            (!missing.is_empty())
                .then(|| format!("{name} is missing in the {}", missing.join(" and ")))
        })
        .collect();
    if problems.is_empty() {
        Ok(configured.to_vec())
    } else {
        Err(problems)
    }
}

fn describe(field: &Field) -> String {
    let base = match &field.kind {
        FieldKind::Scalar { scalar } => format!("{scalar:?}"),
        FieldKind::Enumeration { name } => format!("enum {name}"),
        FieldKind::Relation(r) => format!("relation to {}", r.targets.join(" | ")),
        FieldKind::Component { targets, .. } => format!("component {}", targets.join(" | ")),
    };
    if field.list {
        format!("[{base}]")
    } else {
        base
    }
}

fn mismatch(source: &ContentModel, dest: &ContentModel, a: &Field, b: &Field) -> Option<String> {
    let kinds_match = match (&a.kind, &b.kind) {
        (FieldKind::Scalar { scalar: x }, FieldKind::Scalar { scalar: y }) => x == y,
        (FieldKind::Enumeration { name: x }, FieldKind::Enumeration { name: y }) => {
            if x != y {
                false
            } else {
                let values = |m: &ContentModel| {
                    m.enumeration(x)
                        .map(|e| e.values.clone())
                        .unwrap_or_default()
                };
                let missing: Vec<String> = values(source)
                    .into_iter()
                    .filter(|v| !values(dest).contains(v))
                    .collect();
                if !missing.is_empty() {
                    return Some(format!(
                        "enumeration {x} lacks values {missing:?} in the destination"
                    ));
                }
                true
            }
        }
        (FieldKind::Relation(x), FieldKind::Relation(y)) => {
            let mut tx = x.targets.clone();
            let mut ty = y.targets.clone();
            tx.sort();
            ty.sort();
            tx == ty
        }
        (FieldKind::Component { targets: x, .. }, FieldKind::Component { targets: y, .. }) => {
            x == y
        }
        _ => false,
    };
    if !kinds_match || a.list != b.list {
        return Some(format!(
            "is {} in the source but {} in the destination",
            describe(a),
            describe(b)
        ));
    }
    let not_embeddable: Vec<&String> = a.embeds.iter().filter(|e| !b.embeds.contains(e)).collect();
    if !not_embeddable.is_empty() {
        return Some(format!(
            "embeds {not_embeddable:?} in the source but not in the destination; enable those embeds on the destination's field"
        ));
    }
    if a.localized && !b.localized {
        return Some("is localized in the source but not in the destination".into());
    }
    if !a.localized && b.localized {
        return Some("is localized in the destination but not in the source".into());
    }
    if !a.required && b.required {
        return Some("is optional in the source but required in the destination".into());
    }
    None
}

/// What a full pass depends on: both sides' view of the model.
pub fn fingerprint(source: &Model, dest: Option<&Model>) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_derive_key("stagesync 2026-11 model fingerprint v1");
    let _ = serde_json::to_writer(&mut hasher, &(source, dest));
    *hasher.finalize().as_bytes()
}
