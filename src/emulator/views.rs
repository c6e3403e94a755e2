//! GraphQL objects the executor returns: entries seen in one stage and locale, connections,
//! and plain JSON objects (rich text, colors, locations, components, asset upload state).
//!
//! A view owns a copy of the one version it shows and reads relations from the store when they
//! are selected, so a response never clones more than what it returns.

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::JsonValue;
use serde_json::{json, Map, Value};

use crate::model::{AssetSystem, ContentModel, FieldKind, Model, Scalar};

use super::components::LOCALIZATIONS;

use super::context::{args_of, Ctx};
use super::filter::{self, Subject};
use super::scalars::color;
use super::store::{Entry, Ref, Version};

/// One entry of `model` in one stage and locale.
pub(crate) struct EntryView<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub model: &'a Model,
    pub id: String,
    pub created_at: String,
    pub stage: String,
    pub locale: String,
    /// The requested locales, in fallback order, passed on to related entries.
    pub locales: Vec<String>,
    pub version: Version,
}

impl<'c, 'a> EntryView<'c, 'a> {
    pub fn new(
        ctx: &'c Ctx<'a>,
        model: &'a Model,
        entry: &Entry,
        stage: &str,
        locales: &[String],
    ) -> Option<Self> {
        let version = entry.stages.get(stage)?;
        let locale = pick_locale(ctx, model, version, locales)?;
        Some(EntryView {
            ctx,
            model,
            id: entry.id.clone(),
            created_at: entry.created_at.clone(),
            stage: stage.to_string(),
            locale,
            locales: locales.to_vec(),
            version: version.clone(),
        })
    }

    fn field_value(&self, name: &str) -> Value {
        let entry = Entry {
            id: self.id.clone(),
            created_at: self.created_at.clone(),
            stages: Default::default(),
        };
        let subject = Subject {
            entry: &entry,
            version: &self.version,
            locale: &self.locale,
        };
        filter::value_of(self.model, &subject, name)
            .or_else(|| self.version.fields.get(name).cloned())
            .unwrap_or(Value::Null)
    }

    fn relation<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
        field: &'a crate::model::Field,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let args = args_of(info);
        let locales = match args.get("locales").and_then(Value::as_array) {
            // `forceParentLocale`: the parent's resolved locale is the only one in the subtree
            // (targets without it are left out).
            _ if args.get("forceParentLocale") == Some(&Value::Bool(true)) => {
                vec![self.locale.clone()]
            }
            Some(l) => l
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            None => self.locales.clone(),
        };
        let store = self.ctx.store.borrow();
        let targets: Vec<Ref> = store
            .list(&self.stage, &self.model.name, &field.name, &self.id)
            .to_vec();
        let mut views = Vec::new();
        for target in &targets {
            let (Some(model), Some(entry)) = (
                self.ctx.cm.model(&target.typename),
                store.entry(&target.typename, &target.id),
            ) else {
                continue;
            };
            if let Some(view) = EntryView::new(self.ctx, model, entry, &self.stage, &locales) {
                views.push(view);
            }
        }
        drop(store);
        if !field.list {
            return match views.into_iter().next() {
                Some(v) => Ok(ResolvedValue::object(v)),
                // A required relation without its target in this stage (the target is not
                // published, or was deleted): a field error at its path, and null propagates to
                // the nearest nullable field, as Hygraph answers.
                None if info.field_definition().ty.is_non_null() => Err(self.ctx.fail(
                    "REQUIRED_RELATION_MISSING",
                    format!(
                        "the required relation `{}.{}` of {} `{}` has no target in stage {}: its target is missing there (not published in that stage, or deleted)",
                        self.model.name, field.name, self.model.name, self.id, self.stage
                    ),
                )),
                None => Ok(ResolvedValue::null()),
            };
        }
        if let Some(filter) = args.get("where").and_then(Value::as_object) {
            let store = self.ctx.store.borrow();
            let mut kept = Vec::new();
            for view in views {
                let entry = Entry {
                    id: view.id.clone(),
                    created_at: view.created_at.clone(),
                    stages: Default::default(),
                };
                let subject = Subject {
                    entry: &entry,
                    version: &view.version,
                    locale: &view.locale,
                };
                if filter::matches(
                    self.ctx.cm,
                    &store,
                    view.model,
                    &self.stage,
                    &subject,
                    filter,
                )
                .map_err(|m| self.ctx.fail("BAD_USER_INPUT", m))?
                {
                    kept.push(view);
                }
            }
            views = kept;
        }
        if let Some(order) = args.get("orderBy").and_then(Value::as_str) {
            let (key, desc) =
                filter::parse_order(views.first().map_or(self.model, |v| v.model), order)
                    .map_err(|m| self.ctx.fail("BAD_USER_INPUT", m))?;
            views.sort_by(|a, b| {
                let o = filter::order_values(&a.field_value(&key), &b.field_value(&key));
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let skip = args.get("skip").and_then(Value::as_u64).unwrap_or(0) as usize;
        let views: Vec<_> = views.into_iter().skip(skip).collect();
        let first = self.ctx.page_arg(&args, "first")?;
        let last = self.ctx.page_arg(&args, "last")?;
        let mut views = views;
        if let Some(first) = first {
            views.truncate(first);
        }
        if let Some(last) = last {
            let start = views.len().saturating_sub(last);
            views.drain(..start);
        }
        Ok(ResolvedValue::list(
            views.into_iter().map(ResolvedValue::object),
        ))
    }

    fn localizations<'r>(&'r self, info: &'r ResolveInfo<'r>) -> ResolvedValue<'r> {
        let args = args_of(info);
        let include_current = include_current(&args);
        let locales = string_list(&args, "locales").unwrap_or_else(|| self.ctx.cm.locales.clone());
        let mut out = Vec::new();
        for locale in locales {
            if (locale == self.locale && !include_current)
                || !self.version.localizations.contains_key(&locale)
            {
                continue;
            }
            out.push(EntryView {
                ctx: self.ctx,
                model: self.model,
                id: self.id.clone(),
                created_at: self.created_at.clone(),
                stage: self.stage.clone(),
                locale: locale.clone(),
                locales: vec![locale],
                version: self.version.clone(),
            });
        }
        ResolvedValue::list(out.into_iter().map(ResolvedValue::object))
    }

    fn document_in_stages<'r>(&'r self, info: &'r ResolveInfo<'r>) -> ResolvedValue<'r> {
        let args = args_of(info);
        let include_current = include_current(&args);
        let stages = string_list(&args, "stages").unwrap_or_else(|| self.ctx.cm.stages.clone());
        let store = self.ctx.store.borrow();
        let mut out = Vec::new();
        if let Some(entry) = store.entry(&self.model.name, &self.id) {
            for stage in stages {
                if stage == self.stage && !include_current {
                    continue;
                }
                let mut locales = vec![self.locale.clone()];
                locales.extend(self.locales.iter().cloned());
                locales.push(self.ctx.cm.default_locale.clone());
                if let Some(view) = EntryView::new(self.ctx, self.model, entry, &stage, &locales) {
                    out.push(view);
                }
            }
        }
        drop(store);
        ResolvedValue::list(out.into_iter().map(ResolvedValue::object))
    }

    fn asset_url(&self) -> String {
        let handle = self
            .version
            .localizations
            .get(&self.locale)
            .and_then(|l| l.get("handle"))
            .or_else(|| self.version.fields.get("handle"))
            .and_then(Value::as_str)
            .unwrap_or(&self.id);
        format!("{}{}", self.ctx.asset_base, handle)
    }
}

/// The locale an entry is shown in: the first requested locale it has. Entries of models without
/// localized fields are shown in the default locale; entries with none of the requested locales
/// are left out, as Hygraph does.
pub(crate) fn pick_locale(
    ctx: &Ctx<'_>,
    model: &Model,
    version: &Version,
    locales: &[String],
) -> Option<String> {
    if !model.has_localized_fields() {
        return Some(
            locales
                .first()
                .cloned()
                .unwrap_or_else(|| ctx.cm.default_locale.clone()),
        );
    }
    if locales.is_empty() {
        return Some(ctx.cm.default_locale.clone());
    }
    locales
        .iter()
        .find(|l| version.localizations.contains_key(*l))
        .cloned()
}

impl ObjectValue for EntryView<'_, '_> {
    fn type_name(&self) -> &str {
        &self.model.name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let name = info.field_name();
        match name {
            "id" => return Ok(ResolvedValue::leaf(self.id.as_str())),
            "stage" => return Ok(ResolvedValue::leaf(self.stage.as_str())),
            "locale" => return Ok(ResolvedValue::leaf(self.locale.as_str())),
            "createdAt" => return Ok(ResolvedValue::leaf(self.created_at.as_str())),
            "updatedAt" => return Ok(ResolvedValue::leaf(self.version.updated_at.as_str())),
            "publishedAt" => {
                return Ok(match &self.version.published_at {
                    Some(t) => ResolvedValue::leaf(t.as_str()),
                    None => ResolvedValue::null(),
                })
            }
            "createdBy" | "updatedBy" | "publishedBy" => return Ok(ResolvedValue::null()),
            // Nothing can be scheduled in the emulator (scheduling mutations are not
            // implemented), so no entry is in a scheduled operation.
            "scheduledIn" => return Ok(ResolvedValue::list(Vec::new())),
            "history" => {
                return Err(self.ctx.fail(
                    "UNSUPPORTED",
                    format!(
                        "the emulator does not implement `{}.history` (version history)",
                        self.model.name
                    ),
                ))
            }
            "localizations" => return Ok(self.localizations(info)),
            "documentInStages" => return Ok(self.document_in_stages(info)),
            _ => {}
        }
        if self.model.asset.is_some() && name == "url" {
            return Ok(ResolvedValue::leaf(self.asset_url()));
        }
        if self.model.asset == Some(AssetSystem::UploadUrl) && name == "upload" {
            let value = self.version.fields.get("upload").cloned();
            return Ok(json_value(info, value.unwrap_or(Value::Null)));
        }
        let Some(field) = self.model.field(name) else {
            // Fields the content model does not describe (e.g. remote fields) read as stored.
            return Ok(json_value(info, self.field_value(name)));
        };
        // Hygraph types list fields `[T!]!`: a list never written reads as empty.
        if field.list
            && !matches!(field.kind, FieldKind::Relation(_))
            && self.field_value(name).is_null()
        {
            return Ok(ResolvedValue::list(Vec::new()));
        }
        match &field.kind {
            FieldKind::Relation(_) => self.relation(info, field),
            FieldKind::Scalar {
                scalar: Scalar::RichText,
            } => Ok(rich_text_value(
                self.ctx,
                &self.model.name,
                field,
                &self.stage,
                &self.locales,
                self.field_value(name),
            )),
            FieldKind::Scalar {
                scalar: Scalar::Color,
            } => Ok(map_value(self.field_value(name), &|v| {
                json_object("Color", color(v))
            })),
            FieldKind::Component { .. } => Ok(component_views(
                self.ctx,
                &self.stage,
                &self.locale,
                self.field_value(name),
            )),
            _ => Ok(json_value(info, self.field_value(name))),
        }
    }
}

/// Stored components (see `components.rs`) shown in one stage and locale.
fn component_views<'r, 'c: 'r, 'a: 'c>(
    ctx: &'c Ctx<'a>,
    stage: &str,
    locale: &str,
    value: Value,
) -> ResolvedValue<'r> {
    map_value(value, &|v| match v {
        Value::Object(map) => ResolvedValue::object(ComponentView {
            ctx,
            cm: ctx.cm,
            stage: stage.to_owned(),
            locale: locale.to_owned(),
            type_name: map
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            map,
        }),
        other => ResolvedValue::Leaf(to_json(other)),
    })
}

/// One component inside an entry, in the entry's stage and locale.
struct ComponentView<'c, 'a> {
    ctx: &'c Ctx<'a>,
    cm: &'a ContentModel,
    stage: String,
    locale: String,
    type_name: String,
    map: Map<String, Value>,
}

impl ComponentView<'_, '_> {
    fn localized(&self, locale: &str) -> Option<&Map<String, Value>> {
        self.map
            .get(LOCALIZATIONS)
            .and_then(|l| l.get(locale))
            .and_then(Value::as_object)
    }
}

impl ComponentView<'_, '_> {
    /// A relation inside a component: its stored references (`{nodeType, nodeId}`, see
    /// `components`) resolved in the stage read, as top-level relations are: a target missing
    /// there is null for an optional single relation, left out of a list, and an error at its
    /// path for a required one.
    fn relation<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
        field: &crate::model::Field,
        value: Value,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let refs: Vec<Value> = match value {
            Value::Array(items) => items,
            Value::Null => Vec::new(),
            one => vec![one],
        };
        let args = args_of(info);
        let locales: Vec<String> = match args.get("locales").and_then(Value::as_array) {
            Some(l) => l
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            None => vec![self.locale.clone(), self.cm.default_locale.clone()],
        };
        let store = self.ctx.store.borrow();
        let mut views = Vec::new();
        for r in &refs {
            let (Some(ty), Some(id)) = (
                r.get("nodeType").and_then(Value::as_str),
                r.get("nodeId").and_then(Value::as_str),
            ) else {
                continue;
            };
            let (Some(model), Some(entry)) = (self.ctx.cm.model(ty), store.entry(ty, id)) else {
                continue;
            };
            if let Some(view) = EntryView::new(self.ctx, model, entry, &self.stage, &locales) {
                views.push(view);
            }
        }
        drop(store);
        if field.list {
            return Ok(ResolvedValue::list(
                views
                    .into_iter()
                    .map(ResolvedValue::object)
                    .collect::<Vec<_>>(),
            ));
        }
        match views.into_iter().next() {
            Some(v) => Ok(ResolvedValue::object(v)),
            None if info.field_definition().ty.is_non_null() => Err(self.ctx.fail(
                "REQUIRED_RELATION_MISSING",
                format!(
                    "the required relation `{}.{}` has no target in stage {}: its target is missing there (not published in that stage, or deleted)",
                    self.type_name, field.name, self.stage
                ),
            )),
            None => Ok(ResolvedValue::null()),
        }
    }
}

impl ObjectValue for ComponentView<'_, '_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let name = info.field_name();
        match name {
            "stage" => return Ok(ResolvedValue::leaf(self.stage.as_str())),
            "locale" => return Ok(ResolvedValue::leaf(self.locale.as_str())),
            "localizations" => {
                let args = args_of(info);
                let include_current = args
                    .get("includeCurrent")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let locales: Vec<String> = match args.get("locales").and_then(Value::as_array) {
                    Some(l) => l
                        .iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                    None => self.cm.locales.clone(),
                };
                let views: Vec<ResolvedValue<'r>> = locales
                    .into_iter()
                    .filter(|l| include_current || *l != self.locale)
                    .filter(|l| *l == self.cm.default_locale || self.localized(l).is_some())
                    .map(|l| {
                        ResolvedValue::object(ComponentView {
                            ctx: self.ctx,
                            cm: self.cm,
                            stage: self.stage.clone(),
                            locale: l,
                            type_name: self.type_name.clone(),
                            map: self.map.clone(),
                        })
                    })
                    .collect();
                return Ok(ResolvedValue::list(views));
            }
            _ => {}
        }
        let field = self
            .cm
            .component(&self.type_name)
            .and_then(|c| c.fields.iter().find(|f| f.name == name));
        let value = match field {
            Some(f) if f.localized && self.locale != self.cm.default_locale => self
                .localized(&self.locale)
                .and_then(|l| l.get(name))
                .cloned(),
            _ => self.map.get(name).cloned(),
        }
        .unwrap_or(Value::Null);
        if value.is_null() && field.is_some_and(|f| f.list) {
            return Ok(ResolvedValue::list(Vec::new()));
        }
        Ok(match field.map(|f| (f, &f.kind)) {
            Some((f, FieldKind::Relation(_))) => return self.relation(info, f, value),
            Some((_, FieldKind::Component { .. })) => {
                component_views(self.ctx, &self.stage, &self.locale, value)
            }
            Some((
                f,
                FieldKind::Scalar {
                    scalar: Scalar::RichText,
                },
            )) => {
                let locales = [self.locale.clone(), self.cm.default_locale.clone()];
                rich_text_value(self.ctx, &self.type_name, f, &self.stage, &locales, value)
            }
            Some((
                _,
                FieldKind::Scalar {
                    scalar: Scalar::Color,
                },
            )) => map_value(value, &|v| json_object("Color", color(v))),
            _ => json_value(info, value),
        })
    }
}

fn map_value<'r>(value: Value, f: &dyn Fn(Value) -> ResolvedValue<'r>) -> ResolvedValue<'r> {
    match value {
        Value::Null => ResolvedValue::null(),
        Value::Array(items) => {
            let values: Vec<_> = items.into_iter().map(|v| map_value(v, f)).collect();
            ResolvedValue::list(values)
        }
        v => f(v),
    }
}

/// A stored value shown through the schema type of the field being resolved: leaves as JSON,
/// objects as [`JsonObject`]s named after the field's type (or their `__typename`).
pub(crate) fn json_value<'r>(info: &ResolveInfo<'_>, value: Value) -> ResolvedValue<'r> {
    let type_name = info.field_definition().ty.inner_named_type().to_string();
    let is_object = info
        .schema()
        .types
        .get(type_name.as_str())
        .is_some_and(|t| {
            matches!(
                t,
                apollo_compiler::schema::ExtendedType::Object(_)
                    | apollo_compiler::schema::ExtendedType::Union(_)
                    | apollo_compiler::schema::ExtendedType::Interface(_)
            )
        });
    if !is_object {
        // A list field's items resolve one by one; a Json value is one leaf, whatever it holds.
        let list = info.field_definition().ty.is_list();
        return match value {
            Value::Array(items) if list => {
                ResolvedValue::list(items.into_iter().map(|i| ResolvedValue::Leaf(to_json(i))))
            }
            other => ResolvedValue::Leaf(to_json(other)),
        };
    }
    map_value(value, &|v| json_object(&type_name, v))
}

fn json_object<'r>(type_name: &str, value: Value) -> ResolvedValue<'r> {
    match value {
        Value::Object(map) => {
            let type_name = map
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or(type_name)
                .to_string();
            ResolvedValue::object(JsonObject { type_name, map })
        }
        other => ResolvedValue::Leaf(to_json(other)),
    }
}

pub(crate) fn to_json(value: Value) -> JsonValue {
    JsonValue::from(value)
}

/// The renderings of a rich-text AST: `raw`/`json` as stored, text, markdown, html.
fn rich_text_fields(raw: Value) -> Map<String, Value> {
    let mut text = String::new();
    collect_text(&raw, &mut text);
    let html = text
        .lines()
        .map(|l| format!("<p>{l}</p>"))
        .collect::<Vec<_>>()
        .join("");
    let mut map = Map::new();
    map.insert("json".into(), raw.clone());
    map.insert("raw".into(), raw);
    map.insert("markdown".into(), json!(text));
    map.insert("html".into(), json!(html));
    map.insert("text".into(), json!(text));
    map
}

/// A stored rich-text value of `field` (of `owner`) shown in `stage`: plain `RichText`, or for
/// rich text with embeds the generated `<Owner><Field>RichText` with `references`.
fn rich_text_value<'r, 'c: 'r, 'a: 'c>(
    ctx: &'c Ctx<'a>,
    owner: &str,
    field: &'a crate::model::Field,
    stage: &str,
    locales: &[String],
    value: Value,
) -> ResolvedValue<'r> {
    let Some(type_name) = field.rich_text_type(owner) else {
        return map_value(value, &|raw| {
            ResolvedValue::object(JsonObject {
                type_name: "RichText".into(),
                map: rich_text_fields(raw),
            })
        });
    };
    map_value(value, &|raw| {
        ResolvedValue::object(RichTextView {
            ctx,
            type_name: type_name.clone(),
            embeds: &field.embeds,
            stage: stage.to_owned(),
            locales: locales.to_vec(),
            map: rich_text_fields(raw),
        })
    })
}

/// Rich text with embeds: its renderings, and `references` — the entries and assets its AST
/// embeds or links to that exist in the stage being read, in document order, each once.
struct RichTextView<'c, 'a> {
    ctx: &'c Ctx<'a>,
    type_name: String,
    embeds: &'a [String],
    stage: String,
    locales: Vec<String>,
    map: Map<String, Value>,
}

impl ObjectValue for RichTextView<'_, '_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let name = info.field_name();
        if name != "references" {
            let value = self.map.get(name).cloned().unwrap_or(Value::Null);
            return Ok(ResolvedValue::Leaf(to_json(value)));
        }
        let args = args_of(info);
        let mut seen = Vec::new();
        if let Some(ast) = self.map.get("raw") {
            crate::model::rich_text::ast_references(ast, &mut |ty, id| {
                let key = (ty.to_owned(), id.to_owned());
                if self.embeds.iter().any(|e| e == ty) && !seen.contains(&key) {
                    seen.push(key);
                }
            });
        }
        let mut locales = self.locales.clone();
        locales.push(self.ctx.cm.default_locale.clone());
        let store = self.ctx.store.borrow();
        let mut views = Vec::new();
        for (ty, id) in &seen {
            let (Some(model), Some(entry)) = (self.ctx.cm.model(ty), store.entry(ty, id)) else {
                continue;
            };
            if let Some(view) = EntryView::new(self.ctx, model, entry, &self.stage, &locales) {
                views.push(view);
            }
        }
        drop(store);
        let skip = args.get("skip").and_then(Value::as_u64).unwrap_or(0) as usize;
        let mut views: Vec<_> = views.into_iter().skip(skip).collect();
        if let Some(first) = self.ctx.page_arg(&args, "first")? {
            views.truncate(first);
        }
        if let Some(last) = self.ctx.page_arg(&args, "last")? {
            let start = views.len().saturating_sub(last);
            views.drain(..start);
        }
        Ok(ResolvedValue::list(
            views.into_iter().map(ResolvedValue::object),
        ))
    }
}

fn collect_text(node: &Value, out: &mut String) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(t)) = map.get("text") {
                out.push_str(t);
            }
            if let Some(children) = map.get("children") {
                collect_text(children, out);
                if map.get("type").is_some_and(|t| t != "text") && !out.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_text(i, out)),
        _ => {}
    }
}

/// A JSON object shown as a GraphQL object of `type_name`.
pub(crate) struct JsonObject {
    pub type_name: String,
    pub map: Map<String, Value>,
}

impl ObjectValue for JsonObject {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let value = self
            .map
            .get(info.field_name())
            .cloned()
            .unwrap_or(Value::Null);
        Ok(json_value(info, value))
    }
}

/// A `<Model>Connection`: edges of one page, page info, and the total count.
pub(crate) struct ConnectionView<'c, 'a> {
    /// `ProductConnection`.
    pub type_name: String,
    pub model: &'a Model,
    pub nodes: Vec<EntryView<'c, 'a>>,
    pub has_next: bool,
    pub has_previous: bool,
    pub count: usize,
}

impl ObjectValue for ConnectionView<'_, '_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        match info.field_name() {
            "edges" => Ok(ResolvedValue::list(self.nodes.iter().map(|n| {
                ResolvedValue::object(EdgeView {
                    type_name: format!("{}Edge", self.model.name),
                    node: n,
                })
            }))),
            "pageInfo" => {
                let start = self.nodes.first().map(|n| n.id.clone());
                let end = self.nodes.last().map(|n| n.id.clone());
                Ok(json_object(
                    "PageInfo",
                    json!({
                        "hasNextPage": self.has_next,
                        "hasPreviousPage": self.has_previous,
                        "startCursor": start,
                        "endCursor": end,
                        "pageSize": self.nodes.len(),
                    }),
                ))
            }
            "aggregate" => Ok(json_object("Aggregate", json!({"count": self.count}))),
            _ => Err(self.unknown_field_error(info)),
        }
    }
}

struct EdgeView<'v, 'c, 'a> {
    type_name: String,
    node: &'v EntryView<'c, 'a>,
}

impl ObjectValue for EdgeView<'_, '_, '_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        match info.field_name() {
            "cursor" => Ok(ResolvedValue::leaf(self.node.id.as_str())),
            "node" => Ok(ResolvedValue::Object(Box::new(NodeRef(self.node)))),
            _ => Err(self.unknown_field_error(info)),
        }
    }
}

struct NodeRef<'v, 'c, 'a>(&'v EntryView<'c, 'a>);

impl ObjectValue for NodeRef<'_, '_, '_> {
    fn type_name(&self) -> &str {
        self.0.type_name()
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        self.0.resolve_field(info)
    }
}

/// `{ count }` of the deprecated `...Many<Plural>` mutations.
pub(crate) fn batch_payload<'r>(count: usize) -> ResolvedValue<'r> {
    json_object("BatchPayload", json!({ "count": count }))
}

/// The `includeCurrent` argument of `localizations` and `documentInStages`.
fn include_current(args: &serde_json::Map<String, Value>) -> bool {
    args.get("includeCurrent")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// A list-of-enum argument (`locales`, `stages`) as strings; `None` when absent.
fn string_list(args: &serde_json::Map<String, Value>, key: &str) -> Option<Vec<String>> {
    args.get(key).and_then(Value::as_array).map(|l| {
        l.iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    })
}
