//! Runs one validated GraphQL operation against the store: the `Query` and `Mutation` root
//! fields of every model, with apollo-compiler's resolver-based execution (which also answers
//! introspection).
//!
//! Decisions where Hygraph's exact behaviour is not documented:
//! - Cursors are entry ids; the default order is `id_ASC`, which for emulator ids is creation
//!   order. `first`/`last` above the page cap (100) or below 0 are field errors; the default page
//!   size is 10.
//! - `update`/`publish`/`unpublish` of an entry that does not exist are field errors (`NOT_FOUND`);
//!   `delete` of a missing entry returns `null` without an error, so deletes are idempotent.
//! - Each root mutation field is one transaction: on error nothing of it (nested inputs
//!   included) is kept, and the next aliased field still runs.
//! - Publishing copies the draft's base fields, the default locale and the listed `locales`,
//!   and replaces the published relation lists of every relation field of the entry (both sides
//!   of two-way relations) with the draft ones. Edges from one-way relations of *other* entries
//!   to this one are published with those other entries.
//! - Upload completion of an asset does not change its `updatedAt`.
//! - A create that leaves a required relation without a target fails naming the field (Hygraph's
//!   create input requires it); reading a required relation whose target is missing in the stage
//!   read is a field error at its path, and null propagates (see `views`).
//! - Query arguments take the served schema's defaults (`stage` is `PUBLISHED` in real schemas);
//!   writes always go to the draft stage, `DRAFT` whatever the `Stage` enum's order.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use apollo_compiler::executable::{Selection, SelectionSet};
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use serde_json::{json, Map, Value};

use crate::model::{upper_first, AssetSystem, ContentModel, Field, FieldKind, Model};

pub(crate) use super::context::{args_of, Ctx, Op};
use super::filter::{self, Subject};
use super::store::{Entry, Fields, Ref, Store, Version};
use super::views::{batch_payload, ConnectionView, EntryView};

/// Root field name → (operation, model index).
pub(crate) fn root_fields(cm: &ContentModel) -> HashMap<String, (Op, usize)> {
    let mut roots = HashMap::new();
    roots.insert("node".to_string(), (Op::Node, usize::MAX));
    for (i, m) in cm.models.iter().enumerate() {
        let name = &m.name;
        let plural = upper_first(&m.plural);
        roots.insert(m.singular.clone(), (Op::One, i));
        roots.insert(m.plural.clone(), (Op::Many, i));
        roots.insert(m.connection(), (Op::Connection, i));
        roots.insert(format!("create{name}"), (Op::Create, i));
        roots.insert(format!("update{name}"), (Op::Update, i));
        roots.insert(format!("upsert{name}"), (Op::Upsert, i));
        roots.insert(format!("delete{name}"), (Op::Delete, i));
        roots.insert(format!("publish{name}"), (Op::Publish, i));
        roots.insert(format!("unpublish{name}"), (Op::Unpublish, i));
        for connection in [false, true] {
            let suffix = if connection { "Connection" } else { "" };
            roots.insert(
                format!("updateMany{plural}{suffix}"),
                (Op::UpdateMany { connection }, i),
            );
            roots.insert(
                format!("deleteMany{plural}{suffix}"),
                (Op::DeleteMany { connection }, i),
            );
            roots.insert(
                format!("publishMany{plural}{suffix}"),
                (Op::PublishMany { connection }, i),
            );
            roots.insert(
                format!("unpublishMany{plural}{suffix}"),
                (Op::UnpublishMany { connection }, i),
            );
        }
    }
    roots
}

/// A field error with a machine-readable code.
#[derive(Debug)]
pub(crate) struct Failure {
    pub code: &'static str,
    pub message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

type Outcome<T> = Result<T, Failure>;

impl Ctx<'_> {
    fn failure(&self, f: Failure) -> FieldError {
        self.fail(f.code, f.message)
    }
}

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|l| {
        l.iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    })
}

/// The `Query` or `Mutation` object.
pub(crate) struct Root<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub type_name: String,
}

impl ObjectValue for Root<'_, '_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'r>(
        &'r self,
        info: &'r ResolveInfo<'r>,
    ) -> Result<ResolvedValue<'r>, FieldError> {
        let ctx = self.ctx;
        let Some(&(op, index)) = ctx.roots.get(info.field_name()) else {
            return Err(ctx.fail(
                "UNSUPPORTED",
                format!("the emulator does not implement `{}`", info.field_name()),
            ));
        };
        let args = args_of(info);
        if op == Op::Node {
            return node(ctx, &args);
        }
        let model = &ctx.cm.models[index];
        if op.is_mutation() {
            ctx.mutation_fields
                .borrow_mut()
                .push(info.field_name().to_string());
            return mutate(ctx, info, op, model, &args);
        }
        let stage = stage_arg(ctx, &args, "stage");
        let locales = locales_arg(ctx, &args);
        match op {
            Op::One => {
                let where_ = args.get("where").cloned().unwrap_or(Value::Null);
                let store = ctx.store.borrow();
                let id = find_unique(ctx.cm, &store, model, &where_, &stage)
                    .map_err(|f| ctx.failure(f))?;
                let view = id.and_then(|id| {
                    EntryView::new(ctx, model, store.entry(&model.name, &id)?, &stage, &locales)
                });
                Ok(ResolvedValue::nullable_object(view))
            }
            Op::Many => {
                let page = query_page(ctx, model, &args, &stage, &locales, false)?;
                Ok(ResolvedValue::list(
                    page.nodes.into_iter().map(ResolvedValue::object),
                ))
            }
            _ => {
                let wants_count = selects(
                    info.document(),
                    info.field_selections().iter().map(|f| &f.selection_set),
                    "aggregate",
                );
                let page = query_page(ctx, model, &args, &stage, &locales, wants_count)?;
                Ok(ResolvedValue::object(page))
            }
        }
    }
}

fn stage_arg(ctx: &Ctx<'_>, args: &Map<String, Value>, name: &str) -> String {
    args.get(name)
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| ctx.cm.draft_stage().to_string())
}

fn locales_arg(ctx: &Ctx<'_>, args: &Map<String, Value>) -> Vec<String> {
    string_list(args.get("locales"))
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| vec![ctx.cm.default_locale.clone()])
}

/// Whether any of `sets` selects field `name` (through fragments too).
fn selects<'d>(
    doc: &'d apollo_compiler::ExecutableDocument,
    sets: impl IntoIterator<Item = &'d SelectionSet>,
    name: &str,
) -> bool {
    sets.into_iter().any(|set| {
        set.selections.iter().any(|s| match s {
            Selection::Field(f) => f.name == name,
            Selection::InlineFragment(i) => selects(doc, [&i.selection_set], name),
            Selection::FragmentSpread(s) => doc
                .fragments
                .get(&s.fragment_name)
                .is_some_and(|f| selects(doc, [&f.selection_set], name)),
        })
    })
}

fn node<'r>(ctx: &'r Ctx<'_>, args: &Map<String, Value>) -> Result<ResolvedValue<'r>, FieldError> {
    let stage = stage_arg(ctx, args, "stage");
    let locales = locales_arg(ctx, args);
    let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
    let store = ctx.store.borrow();
    let view = store.model_of(id).and_then(|m| {
        let model = ctx.cm.model(m)?;
        EntryView::new(ctx, model, store.entry(m, id)?, &stage, &locales)
    });
    Ok(ResolvedValue::nullable_object(view))
}

/// The entry a `<Model>WhereUniqueInput` designates in `stage`, if any.
fn find_unique(
    cm: &ContentModel,
    store: &Store,
    model: &Model,
    where_: &Value,
    stage: &str,
) -> Outcome<Option<String>> {
    let Some(map) = where_.as_object() else {
        return Err(failure(
            "BAD_USER_INPUT",
            format!("a {}WhereUniqueInput is required", model.name),
        ));
    };
    let mut found: Option<String> = None;
    let mut any = false;
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        any = true;
        let id = if key == "id" {
            let id = value.as_str().unwrap_or_default();
            store
                .version(&model.name, id, stage)
                .map(|_| id.to_string())
        } else if model.field(key).is_some_and(|f| f.unique) {
            store
                .find_unique(stage, &model.name, key, value)
                .map(String::from)
        } else {
            return Err(failure(
                "BAD_USER_INPUT",
                format!("`{key}` is not a unique field of {}", model.name),
            ));
        };
        match (&found, id) {
            (_, None) => return Ok(None),
            (Some(f), Some(id)) if *f != id => return Ok(None),
            (_, Some(id)) => found = Some(id),
        }
    }
    if !any {
        return Err(failure(
            "BAD_USER_INPUT",
            format!(
                "{}WhereUniqueInput needs exactly one of `id` or a unique field",
                model.name
            ),
        ));
    }
    let _ = cm;
    Ok(found)
}

/// One page of a plural or connection query.
fn query_page<'c, 'a>(
    ctx: &'c Ctx<'a>,
    model: &'a Model,
    args: &Map<String, Value>,
    stage: &str,
    locales: &[String],
    wants_count: bool,
) -> Result<ConnectionView<'c, 'a>, FieldError> {
    let first = ctx.page_arg(args, "first")?;
    let last = ctx.page_arg(args, "last")?;
    let skip = match args.get("skip").and_then(Value::as_i64) {
        Some(n) if n < 0 => {
            return Err(ctx.fail(
                "BAD_USER_INPUT",
                format!("`skip` must not be negative, got {n}"),
            ))
        }
        Some(n) => n as usize,
        None => 0,
    };
    let after = args.get("after").and_then(Value::as_str);
    let before = args.get("before").and_then(Value::as_str);
    let filter = args.get("where").and_then(Value::as_object);
    let order = match args.get("orderBy").and_then(Value::as_str) {
        Some(o) => Some(filter::parse_order(model, o).map_err(|m| ctx.fail("BAD_USER_INPUT", m))?),
        None => None,
    };
    let by_id = order.as_ref().is_none_or(|(f, _)| f == "id");
    let descending = order.as_ref().is_some_and(|(_, d)| *d);
    let page_size = first.or(last).unwrap_or(10);

    let store = ctx.store.borrow();
    let empty = Default::default();
    let entries = store.model_entries(&model.name).unwrap_or(&empty);
    let fail = |m: String| ctx.fail("BAD_USER_INPUT", m);
    let keep = |entry: &Entry| -> Result<Option<String>, FieldError> {
        let Some(version) = entry.stages.get(stage) else {
            return Ok(None);
        };
        let Some(locale) = super::views::pick_locale(ctx, model, version, locales) else {
            return Ok(None);
        };
        if let Some(f) = filter {
            let subject = Subject {
                entry,
                version,
                locale: &locale,
            };
            if !filter::matches(ctx.cm, &store, model, stage, &subject, f).map_err(fail)? {
                return Ok(None);
            }
        }
        Ok(Some(locale))
    };

    let mut ids: Vec<String> = Vec::new();
    let (has_next, has_previous);
    let candidates = filter.and_then(|f| candidate_ids(&store, model, stage, f));
    if by_id && !descending && last.is_none() && before.is_none() && candidates.is_none() {
        // The common case, cursor pages in id order: O(page size) on an unfiltered model.
        let start = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Unbounded,
        };
        let mut skipped = 0;
        let mut more = false;
        for (_, entry) in entries.range((start, Bound::Unbounded)) {
            if keep(entry)?.is_none() {
                continue;
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            if ids.len() == page_size {
                more = true;
                break;
            }
            ids.push(entry.id.clone());
        }
        has_next = more;
        has_previous = after.is_some() || skip > 0;
    } else {
        let mut all: Vec<(&Entry, Value)> = Vec::new();
        let source: Box<dyn Iterator<Item = &Entry>> = match &candidates {
            Some(c) => Box::new(c.iter().filter_map(|id| entries.get(id))),
            None => Box::new(entries.values()),
        };
        for entry in source {
            if let Some(locale) = keep(entry)? {
                let key = match &order {
                    Some((field, _)) if field != "id" => {
                        let version = &entry.stages[stage];
                        let subject = Subject {
                            entry,
                            version,
                            locale: &locale,
                        };
                        filter::value_of(model, &subject, field).unwrap_or(Value::Null)
                    }
                    _ => Value::Null,
                };
                all.push((entry, key));
            }
        }
        all.sort_by(|a, b| {
            let o = filter::order_values(&a.1, &b.1).then_with(|| a.0.id.cmp(&b.0.id));
            if descending {
                o.reverse()
            } else {
                o
            }
        });
        let mut list: Vec<&Entry> = all.into_iter().map(|(e, _)| e).collect();
        let mut prev = false;
        if let Some(a) = after {
            match list.iter().position(|e| e.id == a) {
                Some(p) => {
                    list.drain(..=p);
                    prev = true;
                }
                None => list.clear(),
            }
        }
        if let Some(b) = before {
            if let Some(p) = list.iter().position(|e| e.id == b) {
                list.truncate(p);
            }
        }
        if skip > 0 {
            prev = true;
            list.drain(..skip.min(list.len()));
        }
        let mut next = false;
        if let Some(l) = last.filter(|_| first.is_none()) {
            if list.len() > l {
                prev = true;
                list.drain(..list.len() - l);
            }
        } else if list.len() > page_size {
            next = true;
            list.truncate(page_size);
        }
        has_next = next;
        has_previous = prev;
        ids = list.iter().map(|e| e.id.clone()).collect();
    }

    let count = if !wants_count {
        0
    } else if filter.is_none()
        && (!model.has_localized_fields() || locales.contains(&ctx.cm.default_locale))
    {
        store.count(&model.name, stage)
    } else {
        let mut n = 0;
        for entry in entries.values() {
            if keep(entry)?.is_some() {
                n += 1;
            }
        }
        n
    };
    let nodes = ids
        .iter()
        .filter_map(|id| EntryView::new(ctx, model, entries.get(id)?, stage, locales))
        .collect();
    Ok(ConnectionView {
        type_name: format!("{}Connection", model.name),
        model,
        nodes,
        has_next,
        has_previous,
        count,
    })
}

/// Ids an `id`/`id_in`/unique-field filter allows at the top level, to avoid a full scan.
fn candidate_ids(
    store: &Store,
    model: &Model,
    stage: &str,
    filter: &Map<String, Value>,
) -> Option<Vec<String>> {
    let mut out: Option<BTreeSet<String>> = None;
    let mut narrow = |ids: BTreeSet<String>| {
        out = Some(match out.take() {
            Some(prev) => prev.intersection(&ids).cloned().collect(),
            None => ids,
        });
    };
    for (key, value) in filter {
        if value.is_null() {
            continue;
        }
        let (field, many) = match key.strip_suffix("_in") {
            Some(f) if !f.ends_with("_not") => (f, true),
            _ => (key.as_str(), false),
        };
        let values: Vec<&Value> = if many {
            value.as_array()?.iter().collect()
        } else {
            vec![value]
        };
        if field == "id" {
            narrow(
                values
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
            );
        } else if model.field(field).is_some_and(|f| f.unique && !f.localized) {
            narrow(
                values
                    .iter()
                    .filter_map(|v| store.find_unique(stage, &model.name, field, v))
                    .map(String::from)
                    .collect(),
            );
        }
    }
    out.map(|s| s.into_iter().collect())
}

// ---------------------------------------------------------------------------------------------
// Mutations

fn mutate<'r, 'a>(
    ctx: &'r Ctx<'a>,
    info: &'r ResolveInfo<'r>,
    op: Op,
    model: &'a Model,
    args: &Map<String, Value>,
) -> Result<ResolvedValue<'r>, FieldError> {
    let draft = ctx.cm.draft_stage().to_string();
    let locales = ctx.cm.locales.clone();
    let mut guard = ctx.store.borrow_mut();
    let store: &mut Store = &mut guard;
    store.begin();
    let now = store.now();
    let mut writer = Writer {
        cm: ctx.cm,
        store,
        now,
        draft: draft.clone(),
        uploads: Vec::new(),
    };
    let result = run_mutation(&mut writer, op, model, args);
    let uploads = std::mem::take(&mut writer.uploads);
    let store = writer.store;
    match &result {
        Ok(_) => {
            store.commit();
            ctx.uploads.borrow_mut().extend(uploads);
        }
        Err(_) => store.rollback(),
    }
    drop(guard);
    let done = result.map_err(|f| ctx.failure(f))?;
    let views: Vec<EntryView<'r, 'a>> = done
        .entries
        .into_iter()
        .filter_map(|(entry, stage)| EntryView::new(ctx, model, &entry, &stage, &locales))
        .collect();
    let _ = info;
    match op {
        Op::UpdateMany { connection: false }
        | Op::DeleteMany { connection: false }
        | Op::PublishMany { connection: false }
        | Op::UnpublishMany { connection: false } => Ok(batch_payload(done.count)),
        Op::UpdateMany { .. }
        | Op::DeleteMany { .. }
        | Op::PublishMany { .. }
        | Op::UnpublishMany { .. } => Ok(ResolvedValue::object(ConnectionView {
            type_name: format!("{}Connection", model.name),
            model,
            count: views.len(),
            nodes: views,
            has_next: done.has_next,
            has_previous: false,
        })),
        _ => Ok(ResolvedValue::nullable_object(views.into_iter().next())),
    }
}

struct Done {
    /// Entry snapshots to show and the stage to show each in.
    entries: Vec<(Entry, String)>,
    count: usize,
    has_next: bool,
}

fn done_one(entry: Option<Entry>, stage: &str) -> Done {
    Done {
        count: entry.iter().len(),
        entries: entry.into_iter().map(|e| (e, stage.to_string())).collect(),
        has_next: false,
    }
}

fn run_mutation(
    w: &mut Writer<'_>,
    op: Op,
    model: &Model,
    args: &Map<String, Value>,
) -> Outcome<Done> {
    let draft = w.draft.clone();
    let null = Value::Null;
    let where_ = args.get("where").unwrap_or(&null);
    match op {
        Op::Create => {
            let data = args.get("data").unwrap_or(&null);
            let id = w.create(model, data)?;
            Ok(done_one(w.store.entry(&model.name, &id).cloned(), &draft))
        }
        Op::Update => {
            let id = w.require(model, where_, &draft)?;
            w.update(model, &id, args.get("data").unwrap_or(&null))?;
            Ok(done_one(w.store.entry(&model.name, &id).cloned(), &draft))
        }
        Op::Upsert => {
            let upsert = args.get("upsert").unwrap_or(&null);
            let id = match find_unique(w.cm, w.store, model, where_, &draft)? {
                Some(id) => {
                    w.update(model, &id, upsert.get("update").unwrap_or(&null))?;
                    id
                }
                None => w.create(model, upsert.get("create").unwrap_or(&null))?,
            };
            Ok(done_one(w.store.entry(&model.name, &id).cloned(), &draft))
        }
        Op::Delete => {
            let Some(id) = find_unique(w.cm, w.store, model, where_, &draft)? else {
                return Ok(done_one(None, &draft));
            };
            let snapshot = w.store.entry(&model.name, &id).cloned();
            w.delete(model, &id)?;
            Ok(done_one(snapshot, &draft))
        }
        Op::Publish => {
            let id = w.require(model, where_, &draft)?;
            let to = string_list(args.get("to")).unwrap_or_else(|| vec!["PUBLISHED".into()]);
            w.publish(model, &id, &draft, &to, args)?;
            let stage = to.first().cloned().unwrap_or_else(|| draft.clone());
            Ok(done_one(w.store.entry(&model.name, &id).cloned(), &stage))
        }
        Op::Unpublish => {
            // Unpublishing looks the entry up in the stages it leaves.
            let from = string_list(args.get("from")).unwrap_or_else(|| vec!["PUBLISHED".into()]);
            let mut found = None;
            for stage in &from {
                if let Some(id) = find_unique(w.cm, w.store, model, where_, stage)? {
                    found = Some(id);
                    break;
                }
            }
            let Some(id) = found else {
                return Err(failure(
                    "NOT_FOUND",
                    format!(
                        "no {} matches {} in stage(s) {}: it is not published",
                        model.name,
                        where_,
                        from.join(", ")
                    ),
                ));
            };
            let snapshot = w.store.entry(&model.name, &id).cloned();
            w.unpublish(model, &id, &from, args)?;
            let stage = from.first().cloned().unwrap_or_default();
            Ok(done_one(snapshot, &stage))
        }
        Op::UpdateMany { connection }
        | Op::DeleteMany { connection }
        | Op::PublishMany { connection }
        | Op::UnpublishMany { connection } => {
            let source_stage = match op {
                Op::PublishMany { .. } => args.get("from").and_then(Value::as_str),
                Op::UnpublishMany { .. } => args.get("stage").and_then(Value::as_str),
                _ => None,
            }
            .unwrap_or(&draft)
            .to_string();
            let (ids, has_next) = w.select_many(model, args, &source_stage, connection)?;
            let mut entries = Vec::new();
            for id in &ids {
                match op {
                    Op::UpdateMany { .. } => {
                        w.update(model, id, args.get("data").unwrap_or(&null))?;
                        entries.extend(
                            w.store
                                .entry(&model.name, id)
                                .cloned()
                                .map(|e| (e, draft.clone())),
                        );
                    }
                    Op::DeleteMany { .. } => {
                        entries.extend(
                            w.store
                                .entry(&model.name, id)
                                .cloned()
                                .map(|e| (e, draft.clone())),
                        );
                        w.delete(model, id)?;
                    }
                    Op::PublishMany { .. } => {
                        let to =
                            string_list(args.get("to")).unwrap_or_else(|| vec!["PUBLISHED".into()]);
                        w.publish(model, id, &source_stage, &to, args)?;
                        entries.extend(
                            w.store
                                .entry(&model.name, id)
                                .cloned()
                                .map(|e| (e, source_stage.clone())),
                        );
                    }
                    _ => {
                        let from = string_list(args.get("from"))
                            .unwrap_or_else(|| vec!["PUBLISHED".into()]);
                        entries.extend(
                            w.store
                                .entry(&model.name, id)
                                .cloned()
                                .map(|e| (e, source_stage.clone())),
                        );
                        w.unpublish(model, id, &from, args)?;
                    }
                }
            }
            Ok(Done {
                count: ids.len(),
                entries,
                has_next,
            })
        }
        Op::One | Op::Many | Op::Connection | Op::Node => {
            Err(failure("INTERNAL", "not a mutation"))
        }
    }
}

/// Where a `connect` puts the new target in the list.
#[derive(Debug, Clone, PartialEq)]
enum Position {
    End,
    Start,
    Before(String),
    After(String),
}

fn position_of(v: Option<&Value>) -> Position {
    let Some(p) = v.and_then(Value::as_object) else {
        return Position::End;
    };
    if let Some(id) = p.get("before").and_then(Value::as_str) {
        Position::Before(id.to_string())
    } else if let Some(id) = p.get("after").and_then(Value::as_str) {
        Position::After(id.to_string())
    } else if p.get("start").and_then(Value::as_bool) == Some(true) {
        Position::Start
    } else {
        Position::End
    }
}

/// Rich-text references of one version (see [`Writer::references_in`]).
#[derive(Default)]
struct References(BTreeSet<(String, String, Vec<String>, String, String)>);

/// Applies writes of one root mutation field to the store (inside its transaction).
struct Writer<'w> {
    cm: &'w ContentModel,
    store: &'w mut Store,
    now: String,
    draft: String,
    uploads: Vec<(String, String)>,
}

impl Writer<'_> {
    fn model(&self, name: &str) -> Outcome<&Model> {
        // The content model outlives the writer; re-borrow through `cm` to satisfy the checker.
        self.cm
            .model(name)
            .ok_or_else(|| failure("BAD_USER_INPUT", format!("unknown model {name}")))
    }

    fn require(&self, model: &Model, where_: &Value, stage: &str) -> Outcome<String> {
        find_unique(self.cm, self.store, model, where_, stage)?.ok_or_else(|| {
            failure(
                "NOT_FOUND",
                format!("no {} matches {} in stage {stage}", model.name, where_),
            )
        })
    }

    fn select_many(
        &self,
        model: &Model,
        args: &Map<String, Value>,
        stage: &str,
        paginated: bool,
    ) -> Outcome<(Vec<String>, bool)> {
        let filter = args.get("where").and_then(Value::as_object);
        let first = args.get("first").and_then(Value::as_i64);
        if let Some(n) = first.filter(|n| *n < 0 || *n > 100) {
            return Err(failure(
                "BAD_USER_INPUT",
                format!("`first` must be between 0 and 100, got {n}"),
            ));
        }
        let skip = args.get("skip").and_then(Value::as_u64).unwrap_or(0) as usize;
        let after = args.get("after").and_then(Value::as_str);
        let limit = if paginated {
            first.map_or(10, |n| n as usize)
        } else {
            usize::MAX
        };
        let mut ids = Vec::new();
        let mut skipped = 0;
        let mut more = false;
        let Some(entries) = self.store.model_entries(&model.name) else {
            return Ok((ids, false));
        };
        let start = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Unbounded,
        };
        for (_, entry) in entries.range((start, Bound::Unbounded)) {
            let Some(version) = entry.stages.get(stage) else {
                continue;
            };
            if let Some(f) = filter {
                let subject = Subject {
                    entry,
                    version,
                    locale: &self.cm.default_locale,
                };
                if !filter::matches(self.cm, self.store, model, stage, &subject, f)
                    .map_err(|m| failure("BAD_USER_INPUT", m))?
                {
                    continue;
                }
            }
            if skipped < skip {
                skipped += 1;
                continue;
            }
            if ids.len() == limit {
                more = true;
                break;
            }
            ids.push(entry.id.clone());
        }
        Ok((ids, more))
    }

    fn create(&mut self, model: &Model, data: &Value) -> Outcome<String> {
        let data = data.as_object().cloned().unwrap_or_default();
        let id = self.store.new_id();
        let created_at = data
            .get("createdAt")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| self.now.clone());
        let updated_at = data
            .get("updatedAt")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| self.now.clone());
        let mut version = Version {
            updated_at,
            published_at: None,
            ..Version::default()
        };
        if model.has_localized_fields() {
            version
                .localizations
                .insert(self.cm.default_locale.clone(), Fields::new());
        }
        let relations = self.assign(model, &id, &mut version, &data, true)?;
        if let Some(loc) = data.get("localizations").and_then(|l| l.get("create")) {
            for item in loc.as_array().into_iter().flatten() {
                let locale = item
                    .get("locale")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.localization_create(model, &mut version, locale, item.get("data"))?;
            }
        }
        self.check_references(model, &id, &References::default(), &version)?;
        self.check_required(model, &version)?;
        self.check_unique(model, &id, &version)?;
        let entry = Entry {
            id: id.clone(),
            created_at,
            stages: [(self.draft.clone(), version)].into_iter().collect(),
        };
        self.store.put_entry(&model.name, &id, Some(entry));
        for (field, input) in relations {
            self.relation_input(model, &id, &field, &input, true)?;
        }
        self.check_required_relations(model, &id)?;
        Ok(id)
    }

    fn update(&mut self, model: &Model, id: &str, data: &Value) -> Outcome<()> {
        let data = data.as_object().cloned().unwrap_or_default();
        let mut entry = self
            .store
            .entry(&model.name, id)
            .cloned()
            .ok_or_else(|| failure("NOT_FOUND", format!("no {} with id {id}", model.name)))?;
        let mut version = entry
            .stages
            .get(&self.draft)
            .cloned()
            .ok_or_else(|| failure("NOT_FOUND", format!("{} {id} has no draft", model.name)))?;
        version.updated_at = self.now.clone();
        let before = self.references_in(model, &version);
        let relations = self.assign(model, id, &mut version, &data, false)?;
        if let Some(loc) = data.get("localizations").and_then(Value::as_object) {
            for item in loc
                .get("create")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let locale = item
                    .get("locale")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                self.localization_create(model, &mut version, locale, item.get("data"))?;
            }
            for item in loc
                .get("update")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let locale = item
                    .get("locale")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let Some(fields) = version.localizations.get_mut(locale) else {
                    return Err(failure(
                        "NOT_FOUND",
                        format!(
                            "{} {id} has no localization `{locale}` to update: create it first",
                            model.name
                        ),
                    ));
                };
                merge(fields, item.get("data"));
            }
            for item in loc
                .get("upsert")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let locale = item
                    .get("locale")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                match version.localizations.get_mut(locale) {
                    Some(fields) => merge(fields, item.get("update")),
                    None => {
                        self.localization_create(model, &mut version, locale, item.get("create"))?
                    }
                }
            }
            for locale in loc
                .get("delete")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let locale = locale.as_str().unwrap_or_default();
                if locale == self.cm.default_locale {
                    return Err(failure(
                        "BAD_USER_INPUT",
                        format!(
                            "the default locale `{locale}` of {} {id} cannot be deleted",
                            model.name
                        ),
                    ));
                }
                if version.localizations.remove(locale).is_none() {
                    return Err(failure(
                        "NOT_FOUND",
                        format!(
                            "{} {id} has no localization `{locale}` to delete",
                            model.name
                        ),
                    ));
                }
            }
        }
        self.check_references(model, id, &before, &version)?;
        self.check_required(model, &version)?;
        self.check_unique(model, id, &version)?;
        entry.stages.insert(self.draft.clone(), version);
        self.store.put_entry(&model.name, id, Some(entry));
        for (field, input) in relations {
            self.relation_input(model, id, &field, &input, false)?;
        }
        Ok(())
    }

    fn localization_create(
        &mut self,
        model: &Model,
        version: &mut Version,
        locale: &str,
        data: Option<&Value>,
    ) -> Outcome<()> {
        if !self.cm.locales.iter().any(|l| l == locale) {
            return Err(failure(
                "BAD_USER_INPUT",
                format!("unknown locale `{locale}`"),
            ));
        }
        if version.localizations.contains_key(locale) {
            return Err(failure(
                "BAD_USER_INPUT",
                format!(
                    "{} already has a localization `{locale}`: update it instead",
                    model.name
                ),
            ));
        }
        let mut fields = Fields::new();
        merge(&mut fields, data);
        fields.remove("createdAt");
        fields.remove("updatedAt");
        for f in model.fields.iter().filter(|f| f.localized && f.required) {
            if fields.get(&f.name).is_none_or(Value::is_null) {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!(
                        "value for required field `{}` of {} is missing in locale `{locale}`",
                        f.name, model.name
                    ),
                ));
            }
        }
        version.localizations.insert(locale.to_string(), fields);
        Ok(())
    }

    /// Writes the scalar, enum and component fields of `data` into `version`; returns the
    /// relation inputs to apply once the entry exists.
    fn assign(
        &mut self,
        model: &Model,
        id: &str,
        version: &mut Version,
        data: &Map<String, Value>,
        creating: bool,
    ) -> Outcome<Vec<(String, Value)>> {
        let mut relations = Vec::new();
        for (key, value) in data {
            if matches!(key.as_str(), "localizations" | "createdAt" | "updatedAt") {
                continue;
            }
            if key == "uploadUrl" && model.asset.is_some() {
                if let Some(url) = value.as_str() {
                    self.start_upload(id, url, version);
                }
                continue;
            }
            let Some(field) = model.field(key) else {
                version.fields.insert(key.clone(), value.clone());
                continue;
            };
            if !field.is_writable() {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!("field `{key}` of {} is read-only", model.name),
                ));
            }
            let value = match &field.kind {
                FieldKind::Relation(_) => {
                    if !value.is_null() {
                        relations.push((key.clone(), value.clone()));
                    }
                    continue;
                }
                FieldKind::Component { .. } => {
                    let old = self
                        .field_of(version, field)
                        .cloned()
                        .unwrap_or(Value::Null);
                    self.component_value(field, old, value, creating)?
                }
                FieldKind::Scalar { .. } => super::scalars::scalar_value(field, value),
                _ => value.clone(),
            };
            if field.localized {
                version
                    .localizations
                    .entry(self.cm.default_locale.clone())
                    .or_default()
                    .insert(key.clone(), value);
            } else {
                version.fields.insert(key.clone(), value);
            }
        }
        Ok(relations)
    }

    fn field_of<'v>(&self, version: &'v Version, field: &Field) -> Option<&'v Value> {
        if field.localized {
            version
                .localizations
                .get(&self.cm.default_locale)?
                .get(&field.name)
        } else {
            version.fields.get(&field.name)
        }
    }

    /// Component inputs, the way Hygraph's schema defines them (see [`super::components`]).
    fn component_value(
        &mut self,
        field: &Field,
        old: Value,
        input: &Value,
        creating: bool,
    ) -> Outcome<Value> {
        let mut host = ComponentHost {
            cm: self.cm,
            store: &mut *self.store,
            draft: &self.draft,
        };
        let mut components = super::components::Components {
            cm: self.cm,
            host: &mut host,
        };
        components
            .apply(field, old, input, creating)
            .map_err(|message| failure("BAD_USER_INPUT", message))
    }

    fn start_upload(&mut self, id: &str, url: &str, version: &mut Version) {
        let file_name = url
            .split(['?', '#'])
            .next()
            .and_then(|u| u.rsplit('/').next())
            .filter(|s| !s.is_empty())
            .unwrap_or("file")
            .to_string();
        version
            .fields
            .entry("fileName")
            .or_insert(Value::String(file_name));
        version
            .fields
            .insert("handle".into(), Value::String(id.to_string()));
        version.fields.insert(
            "upload".into(),
            json!({"status": "ASSET_CREATE_PENDING", "error": null, "expiresAt": null, "requestPostData": null}),
        );
        self.uploads.push((id.to_string(), url.to_string()));
    }

    /// Every embed and entry link in the rich text of `version`: (field holding the rich text,
    /// the rich-text field, nodeType, nodeId).
    fn references_in(&self, model: &Model, version: &Version) -> References {
        let mut out = References::default();
        for field in &model.fields {
            if !field.is_rich_text() && !matches!(field.kind, FieldKind::Component { .. }) {
                continue;
            }
            let values: Vec<&Value> = if field.localized {
                version
                    .localizations
                    .values()
                    .filter_map(|l| l.get(&field.name))
                    .collect()
            } else {
                version.fields.get(&field.name).into_iter().collect()
            };
            for value in values {
                self.cm.visit_rich_text(field, value, &mut |rich, ast| {
                    if !rich.is_rich_text() {
                        return; // a relation inside a component, checked when written
                    }
                    crate::model::rich_text::ast_references(ast, &mut |ty, id| {
                        out.0.insert((
                            field.name.clone(),
                            rich.name.clone(),
                            rich.embeds.clone(),
                            ty.to_owned(),
                            id.to_owned(),
                        ));
                    });
                });
            }
        }
        out
    }

    /// Hygraph validates rich-text references: each embed or link written must name an
    /// embeddable model and an entry that exists. References already stored are not checked
    /// again (their target may have been deleted since, which Hygraph tolerates).
    fn check_references(
        &self,
        model: &Model,
        id: &str,
        before: &References,
        version: &Version,
    ) -> Outcome<()> {
        for (holder, rich, embeds, ty, target) in self.references_in(model, version).0 {
            if before.0.contains(&(
                holder.clone(),
                rich.clone(),
                embeds.clone(),
                ty.clone(),
                target.clone(),
            )) {
                continue;
            }
            let place = if holder == rich {
                format!("rich text `{}.{rich}` of {} {id}", model.name, model.name)
            } else {
                format!(
                    "rich text `{rich}` in component field `{}.{holder}` of {} {id}",
                    model.name, model.name
                )
            };
            if !embeds.contains(&ty) {
                let allowed = if embeds.is_empty() {
                    "it has no embeds enabled".to_owned()
                } else {
                    format!("it embeds only {}", embeds.join(", "))
                };
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!("{place} references {ty} `{target}`, but {ty} is not embeddable there ({allowed})"),
                ));
            }
            if self.store.entry(&ty, &target).is_none() {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!("{place} references {ty} `{target}`, which does not exist in this project: create it first, or fix the nodeId"),
                ));
            }
        }
        Ok(())
    }

    fn check_required(&self, model: &Model, version: &Version) -> Outcome<()> {
        for f in &model.fields {
            if !f.required || !f.is_writable() || matches!(f.kind, FieldKind::Relation(_)) {
                continue;
            }
            // Assets on the upload-URL system get their file fields from the upload.
            if model.asset == Some(AssetSystem::UploadUrl) {
                continue;
            }
            if self.field_of(version, f).is_none_or(Value::is_null) {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!(
                        "value for required field `{}` of {} is missing",
                        f.name, model.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Hygraph refuses a create that leaves a required relation without a target (its create
    /// input types the field `XCreateOneInlineInput!`; a generated schema may not, so the rule is
    /// enforced here as well).
    fn check_required_relations(&self, model: &Model, id: &str) -> Outcome<()> {
        for f in &model.fields {
            if !f.required || !f.is_writable() || !matches!(f.kind, FieldKind::Relation(_)) {
                continue;
            }
            if self
                .store
                .list(&self.draft, &model.name, &f.name, id)
                .is_empty()
            {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!(
                        "value for required relation `{}` of {} is missing: connect (or create) its target in the same create",
                        f.name, model.name
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_unique(&self, model: &Model, id: &str, version: &Version) -> Outcome<()> {
        for f in model.unique_fields() {
            let Some(value) = self.field_of(version, f).filter(|v| !v.is_null()) else {
                continue;
            };
            if let Some(other) = self
                .store
                .find_unique(&self.draft, &model.name, &f.name, value)
            {
                if other != id {
                    return Err(failure(
                        "BAD_USER_INPUT",
                        format!("value is not unique for the field \"{}\"", f.name),
                    ));
                }
            }
        }
        Ok(())
    }

    fn delete(&mut self, model: &Model, id: &str) -> Outcome<()> {
        let Some(entry) = self.store.entry(&model.name, id).cloned() else {
            return Ok(());
        };
        for stage in entry.stages.keys() {
            self.drop_edges(model, id, stage);
        }
        self.store.put_entry(&model.name, id, None);
        Ok(())
    }

    fn drop_edges(&mut self, model: &Model, id: &str, stage: &str) {
        for field in &model.fields {
            if field.relation().is_none() {
                continue;
            }
            for target in self
                .store
                .list(stage, &model.name, &field.name, id)
                .to_vec()
            {
                self.unlink(stage, model, field, id, &target);
            }
        }
    }

    fn publish(
        &mut self,
        model: &Model,
        id: &str,
        from: &str,
        to: &[String],
        args: &Map<String, Value>,
    ) -> Outcome<()> {
        let mut entry = self
            .store
            .entry(&model.name, id)
            .cloned()
            .ok_or_else(|| failure("NOT_FOUND", format!("no {} with id {id}", model.name)))?;
        let source = entry.stages.get(from).cloned().ok_or_else(|| {
            failure(
                "NOT_FOUND",
                format!("{} {id} does not exist in stage {from}", model.name),
            )
        })?;
        if model.asset == Some(AssetSystem::UploadUrl) {
            let status = source
                .fields
                .get("upload")
                .and_then(|u| u.get("status"))
                .and_then(Value::as_str);
            if status.is_some_and(|s| s != "ASSET_UPLOAD_COMPLETE") {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!(
                        "asset {id} cannot be published: its upload is {}; wait for ASSET_UPLOAD_COMPLETE",
                        status.unwrap_or("unknown")
                    ),
                ));
            }
        }
        let publish_base = args
            .get("publishBase")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let with_default = args
            .get("withDefaultLocale")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut locales: Vec<String> = string_list(args.get("locales")).unwrap_or_default();
        if with_default {
            locales.push(self.cm.default_locale.clone());
        }
        let now = self.now.clone();
        for stage in to {
            if stage == from {
                continue;
            }
            let mut target = match entry.stages.get(stage) {
                Some(v) => v.clone(),
                None => Version {
                    fields: source.fields.clone(),
                    ..Version::default()
                },
            };
            if publish_base {
                target.fields = source.fields.clone();
            }
            for locale in &locales {
                if let Some(l) = source.localizations.get(locale) {
                    target.localizations.insert(locale.clone(), l.clone());
                }
            }
            target.updated_at = source.updated_at.clone();
            target.published_at = Some(now.clone());
            entry.stages.insert(stage.clone(), target);
        }
        if let Some(v) = entry.stages.get_mut(from) {
            v.published_at = Some(now);
        }
        self.store.put_entry(&model.name, id, Some(entry));
        for stage in to.iter().filter(|s| *s != from) {
            self.publish_edges(model, id, from, stage);
        }
        Ok(())
    }

    fn publish_edges(&mut self, model: &Model, id: &str, from: &str, to: &str) {
        let me = Ref {
            typename: model.name.clone(),
            id: id.to_string(),
        };
        for field in &model.fields {
            let Some(rel) = field.relation() else {
                continue;
            };
            let new = self.store.list(from, &model.name, &field.name, id).to_vec();
            let old = self.store.list(to, &model.name, &field.name, id).to_vec();
            for o in old.iter().filter(|o| !new.contains(o)) {
                self.unlink(to, model, field, id, o);
            }
            for t in new.iter().filter(|t| !old.contains(t)) {
                let Some((target_model, reverse)) = self.reverse_of(rel, t) else {
                    continue;
                };
                let mut list = self
                    .store
                    .list(to, &target_model.name, &reverse.name, &t.id)
                    .to_vec();
                if !reverse.list {
                    for other in list.iter().filter(|o| **o != me) {
                        self.unlink_from(to, &target_model, &reverse, &t.id, other);
                    }
                    list = self
                        .store
                        .list(to, &target_model.name, &reverse.name, &t.id)
                        .to_vec();
                }
                if !list.contains(&me) {
                    let draft_list =
                        self.store
                            .list(from, &target_model.name, &reverse.name, &t.id);
                    let at = draft_list
                        .iter()
                        .position(|r| *r == me)
                        .unwrap_or(list.len())
                        .min(list.len());
                    list.insert(at, me.clone());
                    self.store
                        .put_list(to, &target_model.name, &reverse.name, &t.id, list);
                }
            }
            self.store.put_list(to, &model.name, &field.name, id, new);
        }
    }

    fn unpublish(
        &mut self,
        model: &Model,
        id: &str,
        from: &[String],
        args: &Map<String, Value>,
    ) -> Outcome<()> {
        let mut entry = self
            .store
            .entry(&model.name, id)
            .cloned()
            .ok_or_else(|| failure("NOT_FOUND", format!("no {} with id {id}", model.name)))?;
        let unpublish_base = args
            .get("unpublishBase")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let locales = string_list(args.get("locales"));
        for stage in from {
            if *stage == self.draft {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!("cannot unpublish from the {stage} stage"),
                ));
            }
            match (&locales, unpublish_base) {
                (Some(locales), false) => {
                    if let Some(v) = entry.stages.get_mut(stage) {
                        for l in locales {
                            v.localizations.remove(l);
                        }
                    }
                }
                _ => {
                    if entry.stages.remove(stage).is_some() {
                        self.drop_edges(model, id, stage);
                    }
                }
            }
        }
        if !entry.stages.keys().any(|s| *s != self.draft) {
            if let Some(v) = entry.stages.get_mut(&self.draft) {
                v.published_at = None;
            }
        }
        self.store.put_entry(&model.name, id, Some(entry));
        Ok(())
    }

    /// The model and field on the other side of `rel` for target `t`, for two-way relations.
    fn reverse_of(&self, rel: &crate::model::Relation, t: &Ref) -> Option<(Model, Field)> {
        let name = rel.reverse_for(&t.typename)?;
        let model = self.cm.model(&t.typename)?;
        let field = model.field(name)?;
        Some((model.clone(), field.clone()))
    }

    /// Removes the edge `id.field → target` in `stage`, on both sides.
    fn unlink(&mut self, stage: &str, model: &Model, field: &Field, id: &str, target: &Ref) {
        self.unlink_from(stage, model, field, id, target);
    }

    fn unlink_from(&mut self, stage: &str, model: &Model, field: &Field, id: &str, target: &Ref) {
        let mut list = self
            .store
            .list(stage, &model.name, &field.name, id)
            .to_vec();
        list.retain(|r| r != target);
        self.store
            .put_list(stage, &model.name, &field.name, id, list);
        if let Some(rel) = field.relation() {
            if let Some((tm, rf)) = self.reverse_of(rel, target) {
                let me = Ref {
                    typename: model.name.clone(),
                    id: id.to_string(),
                };
                let mut back = self
                    .store
                    .list(stage, &tm.name, &rf.name, &target.id)
                    .to_vec();
                back.retain(|r| *r != me);
                self.store
                    .put_list(stage, &tm.name, &rf.name, &target.id, back);
            }
        }
    }

    /// Adds (or moves) the edge `id.field → target` in `stage`, on both sides.
    fn link(
        &mut self,
        stage: &str,
        model: &Model,
        field: &Field,
        id: &str,
        target: &Ref,
        position: &Position,
    ) -> Outcome<()> {
        let me = Ref {
            typename: model.name.clone(),
            id: id.to_string(),
        };
        if !field.list {
            for old in self
                .store
                .list(stage, &model.name, &field.name, id)
                .to_vec()
            {
                if old != *target {
                    self.unlink(stage, model, field, id, &old);
                }
            }
        }
        let mut list = self
            .store
            .list(stage, &model.name, &field.name, id)
            .to_vec();
        list.retain(|r| r != target);
        let index_of = |id: &str| list.iter().position(|r| r.id == id);
        let at = match position {
            Position::End => list.len(),
            Position::Start => 0,
            Position::Before(other) => index_of(other).ok_or_else(|| {
                failure(
                    "BAD_USER_INPUT",
                    format!(
                        "position.before: {other} is not connected to {}.{}",
                        model.name, field.name
                    ),
                )
            })?,
            Position::After(other) => index_of(other).map(|i| i + 1).ok_or_else(|| {
                failure(
                    "BAD_USER_INPUT",
                    format!(
                        "position.after: {other} is not connected to {}.{}",
                        model.name, field.name
                    ),
                )
            })?,
        };
        list.insert(at, target.clone());
        self.store
            .put_list(stage, &model.name, &field.name, id, list);
        if let Some(rel) = field.relation() {
            if let Some((tm, rf)) = self.reverse_of(rel, target) {
                let mut back = self
                    .store
                    .list(stage, &tm.name, &rf.name, &target.id)
                    .to_vec();
                if !rf.list {
                    for other in back.iter().filter(|o| **o != me) {
                        // `other` holds `target` in the field paired with `rf` on its model
                        // (members of a union may name it differently from `field`).
                        let theirs_field = rf
                            .relation()
                            .and_then(|r| r.reverse_for(&other.typename))
                            .unwrap_or(&field.name)
                            .to_owned();
                        let mut theirs = self
                            .store
                            .list(stage, &other.typename, &theirs_field, &other.id)
                            .to_vec();
                        theirs.retain(|r| r != target);
                        self.store.put_list(
                            stage,
                            &other.typename,
                            &theirs_field,
                            &other.id,
                            theirs,
                        );
                    }
                    back.retain(|o| *o == me);
                }
                if !back.contains(&me) {
                    back.push(me);
                }
                self.store
                    .put_list(stage, &tm.name, &rf.name, &target.id, back);
            }
        }
        Ok(())
    }

    /// Resolves the target model and the inner input of one relation input item (unions are
    /// keyed by member type name).
    fn target_of<'v>(
        &self,
        rel: &crate::model::Relation,
        item: &'v Value,
    ) -> Outcome<(Model, &'v Value)> {
        if rel.union.is_some() {
            let map = item.as_object().ok_or_else(|| {
                failure(
                    "BAD_USER_INPUT",
                    "a union relation input must be an object keyed by member type",
                )
            })?;
            let mut members = map.iter().filter(|(_, v)| !v.is_null());
            let (Some((name, inner)), None) = (members.next(), members.next()) else {
                return Err(failure(
                    "BAD_USER_INPUT",
                    format!(
                        "a union relation input needs exactly one member type key (one of {})",
                        rel.targets.join(", ")
                    ),
                ));
            };
            let model = self.model(name)?.clone();
            Ok((model, inner))
        } else {
            let name = rel.targets.first().map(String::as_str).unwrap_or_default();
            Ok((self.model(name)?.clone(), item))
        }
    }

    fn resolve_target(
        &self,
        rel: &crate::model::Relation,
        item: &Value,
    ) -> Outcome<(Ref, Position)> {
        let (model, inner) = self.target_of(rel, item)?;
        // `ConnectInput` is `{where, position}`; the create form's connect is the where itself.
        let (where_, position) = match inner.get("where") {
            Some(w) if inner.as_object().is_some_and(|m| m.contains_key("where")) => {
                (w, position_of(inner.get("position")))
            }
            _ => (inner, Position::End),
        };
        let id = self.require(&model, where_, &self.draft)?;
        Ok((
            Ref {
                typename: model.name.clone(),
                id,
            },
            position,
        ))
    }

    fn relation_input(
        &mut self,
        model: &Model,
        id: &str,
        field_name: &str,
        input: &Value,
        creating: bool,
    ) -> Outcome<()> {
        let field = model.field(field_name).cloned().ok_or_else(|| {
            failure(
                "BAD_USER_INPUT",
                format!("{} has no field {field_name}", model.name),
            )
        })?;
        let rel = field
            .relation()
            .cloned()
            .ok_or_else(|| failure("BAD_USER_INPUT", format!("{field_name} is not a relation")))?;
        let draft = self.draft.clone();
        let Some(input) = input.as_object() else {
            return Ok(());
        };
        let items = |v: Option<&Value>| -> Vec<Value> {
            match v {
                Some(Value::Array(a)) => a.clone(),
                Some(Value::Null) | None => Vec::new(),
                Some(other) => vec![other.clone()],
            }
        };
        let _ = creating;
        if let Some(set) = input.get("set").filter(|v| !v.is_null()) {
            let mut targets = Vec::new();
            for item in items(Some(set)) {
                targets.push(self.resolve_target(&rel, &item)?.0);
            }
            for old in self
                .store
                .list(&draft, &model.name, &field.name, id)
                .to_vec()
            {
                if !targets.contains(&old) {
                    self.unlink(&draft, model, &field, id, &old);
                }
            }
            for t in &targets {
                self.link(&draft, model, &field, id, t, &Position::End)?;
            }
        }
        match input.get("disconnect") {
            Some(Value::Bool(true)) => {
                for old in self
                    .store
                    .list(&draft, &model.name, &field.name, id)
                    .to_vec()
                {
                    self.unlink(&draft, model, &field, id, &old);
                }
            }
            Some(Value::Array(list)) => {
                for item in list {
                    let (t, _) = self.resolve_target(&rel, item)?;
                    self.unlink(&draft, model, &field, id, &t);
                }
            }
            _ => {}
        }
        match input.get("delete") {
            Some(Value::Bool(true)) => {
                for old in self
                    .store
                    .list(&draft, &model.name, &field.name, id)
                    .to_vec()
                {
                    let tm = self.model(&old.typename)?.clone();
                    self.delete(&tm, &old.id)?;
                }
            }
            Some(Value::Array(list)) => {
                for item in list {
                    let (t, _) = self.resolve_target(&rel, item)?;
                    let tm = self.model(&t.typename)?.clone();
                    self.delete(&tm, &t.id)?;
                }
            }
            _ => {}
        }
        for item in items(input.get("connect")) {
            let (t, position) = self.resolve_target(&rel, &item)?;
            self.link(&draft, model, &field, id, &t, &position)?;
        }
        for item in items(input.get("create")) {
            let (tm, data) = self.target_of(&rel, &item)?;
            let data = data.clone();
            let new_id = self.create(&tm, &data)?;
            let t = Ref {
                typename: tm.name.clone(),
                id: new_id,
            };
            self.link(&draft, model, &field, id, &t, &Position::End)?;
        }
        for item in items(input.get("update")) {
            let (tm, inner) = self.target_of(&rel, &item)?;
            let inner = inner.clone();
            let tid = match inner.get("where") {
                Some(w) => self.require(&tm, w, &draft)?,
                None => self
                    .store
                    .list(&draft, &model.name, &field.name, id)
                    .first()
                    .map(|r| r.id.clone())
                    .ok_or_else(|| {
                        failure(
                            "NOT_FOUND",
                            format!("{}.{} is not connected", model.name, field.name),
                        )
                    })?,
            };
            self.update(&tm, &tid, inner.get("data").unwrap_or(&Value::Null))?;
        }
        for item in items(input.get("upsert")) {
            let (tm, inner) = self.target_of(&rel, &item)?;
            let inner = inner.clone();
            let data = inner.get("data").cloned().unwrap_or(Value::Null);
            let existing = match inner.get("where") {
                Some(w) => find_unique(self.cm, self.store, &tm, w, &draft)?,
                None => self
                    .store
                    .list(&draft, &model.name, &field.name, id)
                    .first()
                    .map(|r| r.id.clone()),
            };
            match existing {
                Some(tid) => self.update(&tm, &tid, data.get("update").unwrap_or(&Value::Null))?,
                None => {
                    let new_id = self.create(&tm, data.get("create").unwrap_or(&Value::Null))?;
                    let t = Ref {
                        typename: tm.name.clone(),
                        id: new_id,
                    };
                    self.link(&draft, model, &field, id, &t, &Position::End)?;
                }
            }
        }
        Ok(())
    }
}

/// The store as component writes see it (see [`super::components::Host`]).
struct ComponentHost<'h> {
    cm: &'h ContentModel,
    store: &'h mut Store,
    draft: &'h str,
}

impl super::components::Host for ComponentHost<'_> {
    fn new_id(&mut self) -> String {
        self.store.new_id()
    }

    fn target(&self, model: &str, where_: &Value) -> Result<(String, String), String> {
        let m = self
            .cm
            .model(model)
            .ok_or_else(|| format!("unknown model {model}"))?;
        match find_unique(self.cm, self.store, m, where_, self.draft) {
            Ok(Some(id)) => Ok((m.name.clone(), id)),
            Ok(None) => Err(format!(
                "no {model} matches {where_} in stage {}",
                self.draft
            )),
            Err(f) => Err(f.message),
        }
    }
}

fn merge(fields: &mut Fields, data: Option<&Value>) {
    if let Some(Value::Object(data)) = data {
        for (k, v) in data {
            if k == "createdAt" || k == "updatedAt" {
                continue;
            }
            fields.insert(k.clone(), v.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_position_parses() {
        assert_eq!(
            position_of(Some(&json!({"before": "x"}))),
            Position::Before("x".into())
        );
        assert_eq!(position_of(Some(&json!({"start": true}))), Position::Start);
        assert_eq!(position_of(None), Position::End);
    }
}
