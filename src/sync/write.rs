//! Writing to the destination: mutation builders (content, edges, publication, deletion) and the
//! batch executor — many aliased mutations per request, bounded by bytes and count, split when
//! the server finds a request too large or too complex, failed aliases retried alone.

use serde_json::{json, Map, Value};

use super::canonical::{canonical_value, Version, COMPONENT_LOCALIZATIONS};
use super::shape::{selection, Shape};
use super::SyncError;
use crate::hygraph::{Client, ClientError, Idempotency};
use crate::model::rich_text::map_ast_references;
use crate::model::{ContentModel, Field, FieldKind};

/// One mutation for one entry.
#[derive(Debug, Clone)]
pub struct Op {
    pub model: String,
    pub source_id: String,
    pub kind: OpKind,
}

#[derive(Debug, Clone)]
pub enum OpKind {
    /// Create or adopt by a unique field (idempotent).
    Upsert {
        key: String,
        value: Value,
        create: Value,
        /// The whole update. With a `check`, the upsert's update half only sets the key, and
        /// this is sent as a follow-up where the answer shows an existing entry that differs.
        update: Value,
        check: Option<Box<UpsertCheck>>,
    },
    /// Create without a unique key (not idempotent: never retried after a lost answer).
    Create {
        data: Value,
    },
    Update {
        dest_id: String,
        data: Value,
    },
    Publish {
        dest_id: String,
        to: Vec<String>,
        locales: Option<Vec<String>>,
    },
    Unpublish {
        dest_id: String,
        from: Vec<String>,
    },
    Delete {
        dest_id: String,
    },
}

/// How an upsert tells a created entry from an existing one that needs its content written:
/// the answer selects `select` (the content fields, components with their ids), and its
/// content hash is compared with `content`.
#[derive(Debug, Clone)]
pub struct UpsertCheck {
    /// Shared by the ops of a model.
    pub select: std::sync::Arc<str>,
    /// `select` reads the entry's content. `false` for a model too wide to read back within
    /// the query size limit: the answer then proves nothing, and the upsert is followed by an
    /// update of the whole entry.
    pub reads_content: bool,
    /// The `$locales` the selection names, default locale first.
    pub locales: Vec<String>,
    /// [`Version::content_hash_without`] of the source version, without `skip`.
    pub content: crate::store::Hash,
    /// Fields the edges phase writes (see [`Version::written_with_edges`]).
    pub skip: Vec<String>,
    /// Required relations the create connects, as a created entry's answer shows them (field →
    /// `Type:destinationId` targets): a created entry holds these and is still "bare".
    pub connected: std::collections::BTreeMap<String, Vec<String>>,
    /// Set by [`execute`]: the answer showed an entry the destination already held (other
    /// content, relations, values in `skip`, or publication), so it cannot be treated as
    /// freshly created.
    pub existing: bool,
    /// Set by [`execute`]: the non-draft stages the answer's `documentInStages` listed (`None`:
    /// not selected or not readable).
    pub stages: Option<Vec<String>>,
}

/// What a checked upsert's answer says: its content hash without the skipped fields, and
/// whether it holds nothing else (no relations, no rich text with references, no values in
/// the skipped fields) — as a just-created entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerState {
    pub content: crate::store::Hash,
    pub bare: bool,
}

/// Reads a checked upsert's answer (see [`UpsertHooks::read`]).
pub type ReadAnswer<'a> = dyn Fn(&str, &Value, &UpsertCheck) -> Option<AnswerState> + Sync + 'a;

/// What [`execute`] needs from the engine for checked upserts.
pub struct UpsertHooks<'a> {
    /// Reads an answer for an entry of a model (the engine's canonical form, without the
    /// check's `skip` fields, its `connected` relations allowed); `None` when it cannot be read.
    pub read: &'a ReadAnswer<'a>,
    /// Builds a checked upsert's whole update, which the op leaves out (`Value::Null`) until a
    /// follow-up needs it: most upserts create, and their updates would only take memory.
    pub update: &'a (dyn Fn(&Op) -> Option<Value> + Sync),
}

pub type AnswerHash<'a> = &'a UpsertHooks<'a>;

impl Op {
    /// Whether sending it twice leaves what sending it once does (a create does not).
    pub(super) fn idempotent(&self) -> bool {
        !matches!(self.kind, OpKind::Create { .. })
    }

    /// Variable declarations, the aliased field, and the variables, for alias `m{i}`.
    fn render(&self, i: usize) -> (String, String, Vec<(String, Value)>) {
        let m = &self.model;
        let w = format!("w{i}");
        let d = format!("d{i}");
        match &self.kind {
            OpKind::Upsert {
                key,
                value,
                create,
                update,
                check,
            } => {
                // The answer's selection is a fragment the batch defines once per model.
                let (select, update) = match check {
                    Some(c) if !c.select.is_empty() => {
                        (format!(" ...{}", answer_fragment(m)), json!({ key: value }))
                    }
                    Some(_) => (String::new(), json!({ key: value })),
                    None => (String::new(), update.clone()),
                };
                (
                    format!("${w}: {m}WhereUniqueInput!, ${d}: {m}UpsertInput!"),
                    format!("m{i}: upsert{m}(where: ${w}, upsert: ${d}) {{ id{select} }}"),
                    vec![
                        (w, json!({ key: value })),
                        (d, json!({ "create": create, "update": update })),
                    ],
                )
            }
            OpKind::Create { data } => (
                format!("${d}: {m}CreateInput!"),
                format!("m{i}: create{m}(data: ${d}) {{ id }}"),
                vec![(d, data.clone())],
            ),
            OpKind::Update { dest_id, data } => (
                format!("${w}: {m}WhereUniqueInput!, ${d}: {m}UpdateInput!"),
                format!("m{i}: update{m}(where: ${w}, data: ${d}) {{ id }}"),
                vec![(w, json!({ "id": dest_id })), (d, data.clone())],
            ),
            OpKind::Publish {
                dest_id,
                to,
                locales,
            } => {
                let locales = match locales {
                    Some(l) => format!(", locales: [{}]", l.join(", ")),
                    None => String::new(),
                };
                (
                    format!("${w}: {m}WhereUniqueInput!"),
                    format!(
                        "m{i}: publish{m}(where: ${w}, to: [{}]{locales}) {{ id }}",
                        to.join(", ")
                    ),
                    vec![(w, json!({ "id": dest_id }))],
                )
            }
            OpKind::Unpublish { dest_id, from } => (
                format!("${w}: {m}WhereUniqueInput!"),
                format!(
                    "m{i}: unpublish{m}(where: ${w}, from: [{}]) {{ id }}",
                    from.join(", ")
                ),
                vec![(w, json!({ "id": dest_id }))],
            ),
            OpKind::Delete { dest_id } => (
                format!("${w}: {m}WhereUniqueInput!"),
                format!("m{i}: delete{m}(where: ${w}) {{ id }}"),
                vec![(w, json!({ "id": dest_id }))],
            ),
        }
    }

    /// Bytes this op adds to a request, and to its GraphQL document alone (close enough to
    /// bound batches; the answer fragment it shares with its model's other ops not included,
    /// see [`Op::fragment`]).
    pub fn size(&self) -> (usize, usize) {
        // Aliases and variable names as long as a batch's 100th op's.
        let (decl, field, vars) = self.render(100);
        let document = decl.len() + field.len() + 4;
        let variables = vars
            .iter()
            .map(|(k, v)| k.len() + 4 + serde_json::to_string(v).map_or(0, |s| s.len()))
            .sum::<usize>();
        (document + variables, document)
    }

    /// The answer fragment this op selects (a checked upsert's), as the batch defines it.
    fn fragment(&self) -> Option<String> {
        match &self.kind {
            OpKind::Upsert { check: Some(c), .. } if !c.select.is_empty() => Some(format!(
                "fragment {} on {} {{ {} }}",
                answer_fragment(&self.model),
                self.model,
                c.select
            )),
            _ => None,
        }
    }
}

/// Name of the fragment through which a batch's checked upserts of `model` read their answer:
/// the selection is written once per batch, not once per entry, so a batch's document stays
/// under the destination's query size limit.
fn answer_fragment(model: &str) -> String {
    format!("StagesyncAnswer{model}")
}

/// The outcome of one op.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Acknowledged; the destination id when the answer carried one.
    Done(Option<String>),
    /// Rejected by the destination, with its message.
    Failed(String),
}

fn render_batch(ops: &[Op]) -> (String, Value) {
    let mut decls = Vec::new();
    let mut fields = Vec::new();
    let mut vars = Map::new();
    // The content read back by checked upserts names `$locales` (see `shape::selection`).
    let mut locales: Vec<&String> = Vec::new();
    let mut checked = false;
    for op in ops {
        // Declared only where used: an unused variable is a validation error.
        if let OpKind::Upsert { check: Some(c), .. } = &op.kind {
            if !c.select.contains("$locales") {
                continue;
            }
            checked = true;
            for l in &c.locales {
                if !locales.contains(&l) {
                    locales.push(l);
                }
            }
        }
    }
    if checked {
        decls.push("$locales: [Locale!]!".to_owned());
        vars.insert("locales".into(), json!(locales));
    }
    for (i, op) in ops.iter().enumerate() {
        let (decl, field, v) = op.render(i);
        decls.push(decl);
        fields.push(field);
        for (k, val) in v {
            vars.insert(k, val);
        }
    }
    let mut fragments: Vec<String> = Vec::new();
    for fragment in ops.iter().filter_map(Op::fragment) {
        if !fragments.contains(&fragment) {
            fragments.push(fragment);
        }
    }
    let mut document = format!(
        "mutation StagesyncBatch({}) {{ {} }}",
        decls.join(", "),
        fields.join(" ")
    );
    for fragment in fragments {
        document.push(' ');
        document.push_str(&fragment);
    }
    (document, Value::Object(vars))
}

/// How large one batch may be.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Bytes of the whole request body (`batch.max_bytes`).
    pub max_bytes: usize,
    /// Bytes of the GraphQL document alone: the destination's query size limit
    /// (`max_query_bytes`), which Hygraph applies to mutation documents too.
    pub max_document_bytes: usize,
    /// Mutations per request (`batch.max_mutations`).
    pub max_mutations: usize,
}

/// Splits ops into batches under the byte, document and count limits (an answer fragment
/// counted once per batch that uses it). A single op over a limit goes alone.
pub fn batches(ops: Vec<Op>, limits: BatchLimits) -> Vec<Vec<Op>> {
    const FRAME: usize = 64;
    let mut out = Vec::new();
    let mut current: Vec<Op> = Vec::new();
    let mut fragments: Vec<String> = Vec::new();
    let (mut bytes, mut document) = (FRAME, FRAME);
    for op in ops {
        let (size, doc) = op.size();
        let fragment = op.fragment();
        let shared = |fragments: &[String]| {
            fragment
                .as_ref()
                .filter(|f| !fragments.contains(f))
                .map_or(0, |f| f.len() + 1)
        };
        let extra = shared(&fragments);
        if !current.is_empty()
            && (bytes + size + extra > limits.max_bytes
                || document + doc + extra > limits.max_document_bytes
                || current.len() >= limits.max_mutations)
        {
            out.push(std::mem::take(&mut current));
            fragments.clear();
            (bytes, document) = (FRAME, FRAME);
        }
        let extra = shared(&fragments);
        bytes += size + extra;
        document += doc + extra;
        if let Some(f) = fragment.filter(|_| extra > 0) {
            fragments.push(f);
        }
        current.push(op);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Sends one batch and returns one outcome per op (same order). Too large or too complex:
/// split in halves. Aliases that failed: retried alone once. A transport failure that retries
/// could not cure ends the run (nothing of this batch is acknowledged).
pub async fn execute(
    client: &Client,
    ops: Vec<Op>,
    answer_hash: AnswerHash<'_>,
) -> Result<Vec<(Op, Outcome)>, SyncError> {
    let mut ops = ops;
    resolve_components(client, &mut ops).await?;
    let (mut out, follow_ups) = send(client, ops, answer_hash).await?;
    if follow_ups.is_empty() {
        return Ok(out);
    }
    // Upserts that met an existing entry with other content: write it whole, now that the
    // answer told us the destination's component ids. The upsert counts as done only when its
    // follow-up is.
    let (at, mut follow_ups): (Vec<usize>, Vec<Op>) = follow_ups.into_iter().unzip();
    // Those whose answer could not show the components (see `UpsertCheck::reads_content`).
    resolve_components(client, &mut follow_ups).await?;
    let (done, _) = send(client, follow_ups, answer_hash).await?;
    for (op, outcome) in done {
        let Some(i) = at
            .iter()
            .copied()
            .find(|&i| out[i].0.source_id == op.source_id && out[i].0.model == op.model)
        else {
            continue;
        };
        if let Outcome::Failed(message) = outcome {
            out[i].1 = Outcome::Failed(format!(
                "it existed in the destination with other content, and updating it failed: {message}"
            ));
        }
    }
    Ok(out)
}

/// The update an upsert needs after all, given its answer (`None`: the destination holds the
/// source's content — it was just created, or adopted unchanged).
fn upsert_follow_up(
    op: &mut Op,
    dest_id: &str,
    answer: &Value,
    answer_hash: AnswerHash<'_>,
) -> Result<Option<Op>, String> {
    let OpKind::Upsert {
        update,
        check: Some(check),
        ..
    } = &mut op.kind
    else {
        return Ok(None);
    };
    let state = (answer_hash.read)(&op.model, answer, check);
    check.stages = answer
        .get("documentInStages")
        .and_then(Value::as_array)
        .map(|docs| {
            docs.iter()
                .filter_map(|d| d.get("stage").and_then(Value::as_str))
                .map(str::to_owned)
                .collect()
        });
    let published = check.stages.as_ref().is_some_and(|s| !s.is_empty());
    check.existing = published || state.is_none_or(|s| !s.bare || s.content != check.content);
    if state.is_some_and(|s| s.content == check.content) {
        return Ok(None);
    }
    tracing::info!(
        model = %op.model,
        source_id = %op.source_id,
        "the destination already held this entry with other content: updating it"
    );
    let answer_shows_components = check.reads_content;
    let update = if update.is_null() {
        (answer_hash.update)(op).ok_or_else(|| {
            "it existed in the destination with other content, and its update could not be \
             built from the stored snapshot; the next run retries"
                .to_owned()
        })?
    } else {
        update.clone()
    };
    let mut follow = Op {
        model: op.model.clone(),
        source_id: op.source_id.clone(),
        kind: OpKind::Update {
            dest_id: dest_id.to_owned(),
            data: update,
        },
    };
    // The answer holds the destination's components (with ids): no read needed to replace
    // them. Else `execute` reads them.
    if answer_shows_components {
        resolve_op(&mut follow, answer);
    }
    Ok(Some(follow))
}

/// Sends ops in batches (see [`execute`]); also returns, by index into the outcomes, the
/// follow-up writes upserts need (see [`upsert_follow_up`]).
async fn send(
    client: &Client,
    ops: Vec<Op>,
    answer_hash: AnswerHash<'_>,
) -> Result<(Vec<(Op, Outcome)>, Vec<(usize, Op)>), SyncError> {
    let mut follow_ups = Vec::new();
    let mut out = Vec::with_capacity(ops.len());
    let mut stack = vec![(ops, false)];
    while let Some((ops, alone)) = stack.pop() {
        if ops.is_empty() {
            continue;
        }
        let (query, variables) = render_batch(&ops);
        let idem = if ops.iter().all(Op::idempotent) {
            Idempotency::Safe
        } else {
            Idempotency::Unsafe
        };
        match client.graphql(&query, variables, idem).await {
            Ok(response) => {
                let data = response.data.as_ref();
                // A batch of one that failed is final: nothing to split or retry alone.
                let single = alone || ops.len() == 1;
                let mut retry_alone = Vec::new();
                for (i, op) in ops.into_iter().enumerate() {
                    let alias = format!("m{i}");
                    let value = data.and_then(|d| d.get(&alias));
                    let error = response.alias_error(&alias).or_else(|| {
                        // A request-level error (no data at all) applies to every alias.
                        if data.is_none() {
                            response.errors.first()
                        } else {
                            None
                        }
                    });
                    let mut op = op;
                    match (error, value) {
                        (None, Some(v)) => {
                            let id = v.get("id").and_then(Value::as_str).map(str::to_owned);
                            match &id {
                                Some(dest) => match upsert_follow_up(&mut op, dest, v, answer_hash)
                                {
                                    Ok(Some(f)) => follow_ups.push((out.len(), f)),
                                    Ok(None) => {}
                                    Err(message) => {
                                        out.push((op, Outcome::Failed(message)));
                                        continue;
                                    }
                                },
                                None if matches!(
                                    &op.kind,
                                    OpKind::Upsert { check: Some(_), .. }
                                ) =>
                                {
                                    out.push((
                                        op,
                                        Outcome::Failed(
                                            "the answer had no id for this upsert".into(),
                                        ),
                                    ));
                                    continue;
                                }
                                None => {}
                            }
                            out.push((op, Outcome::Done(id)));
                        }
                        (Some(err), _) if single => {
                            out.push((op, Outcome::Failed(err.message.clone())))
                        }
                        (Some(_), _) => retry_alone.push(op),
                        (None, None) => {
                            if single {
                                out.push((
                                    op,
                                    Outcome::Failed(
                                        "the answer had no data for this mutation".into(),
                                    ),
                                ))
                            } else {
                                retry_alone.push(op)
                            }
                        }
                    }
                }
                for op in retry_alone {
                    stack.push((vec![op], true));
                }
            }
            Err(ClientError::TooLarge { .. }) | Err(ClientError::TooComplex { .. })
                if ops.len() > 1 =>
            {
                let mut ops = ops;
                let tail = ops.split_off(ops.len() / 2);
                stack.push((tail, alone));
                stack.push((ops, alone));
            }
            Err(ClientError::TooLarge { .. }) => {
                let op = ops.into_iter().next().expect("one op");
                out.push((
                    op,
                    Outcome::Failed(
                        "the entry alone is larger than the destination's request size limit"
                            .into(),
                    ),
                ));
            }
            Err(ClientError::TooComplex { message, .. }) => {
                let op = ops.into_iter().next().expect("one op");
                out.push((op, Outcome::Failed(message)));
            }
            Err(source) => return Err(SyncError::client(client.name().to_owned(), source)),
        }
    }
    Ok((out, follow_ups))
}

/// Builds the data of a content write. `create`: a create input (no nulls, localizations as
/// `create`); else an update input (nulls clear fields; localizations upserted, and those the
/// destination is known to hold but the source no longer has deleted).
pub fn content_data(
    shape: &Shape<'_>,
    version: &Version,
    default_locale: &str,
    create: bool,
    known_locales: &[String],
) -> Value {
    let mut data = Map::new();
    for f in &shape.plain {
        // Values referencing entries are written with the edges, once their targets exist.
        if version.embeds.contains_key(&f.name) {
            continue;
        }
        let v = version.fields.get(&f.name).cloned().unwrap_or(Value::Null);
        if let FieldKind::Component { .. } = &f.kind {
            let input = if create {
                component_create(shape.content, default_locale, f, &v)
            } else {
                Some(component_marker(shape, f, &v, default_locale, version))
            };
            if let Some(input) = input {
                data.insert(f.name.clone(), input);
            }
            continue;
        }
        if create && v.is_null() {
            continue;
        }
        data.insert(f.name.clone(), v);
    }
    if !shape.localized.is_empty() {
        if let Some(values) = version.locales.get(default_locale) {
            for (k, v) in values {
                if create && v.is_null() {
                    continue;
                }
                data.insert(k.clone(), v.clone());
            }
        }
        let others: Vec<(&String, &std::collections::BTreeMap<String, Value>)> = version
            .locales
            .iter()
            .filter(|(l, _)| l.as_str() != default_locale)
            .collect();
        let strip_nulls = |m: &std::collections::BTreeMap<String, Value>| -> Map<String, Value> {
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        if create {
            if !others.is_empty() {
                let list: Vec<Value> = others
                    .iter()
                    .map(|(l, m)| json!({ "locale": l, "data": strip_nulls(m) }))
                    .collect();
                data.insert("localizations".into(), json!({ "create": list }));
            }
        } else {
            let mut loc = Map::new();
            if !others.is_empty() {
                let list: Vec<Value> = others
                    .iter()
                    .map(|(l, m)| {
                        let update: Map<String, Value> =
                            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                        json!({ "locale": l, "create": strip_nulls(m), "update": update })
                    })
                    .collect();
                loc.insert("upsert".into(), Value::Array(list));
            }
            let stale: Vec<&String> = known_locales
                .iter()
                .filter(|l| l.as_str() != default_locale && !version.locales.contains_key(*l))
                .collect();
            if !stale.is_empty() {
                loc.insert("delete".into(), json!(stale));
            }
            if !loc.is_empty() {
                data.insert("localizations".into(), Value::Object(loc));
            }
        }
    }
    Value::Object(data)
}

/// Key of the placeholder `content_data` puts in update data for a component field: the
/// executor replaces it with the whole-list write once it knows the destination's component ids
/// (see [`resolve_components`]).
const COMPONENTS_MARKER: &str = "__stagesyncComponents";

/// The `...CreateOneInlineInput` / `...CreateManyInlineInput` of a component field holding the
/// canonical value `value` (`None` for no value).
fn component_create(
    content: &ContentModel,
    default_locale: &str,
    field: &Field,
    value: &Value,
) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) => Some(json!({ "create": items
            .iter()
            .map(|i| component_item(content, default_locale, field, i, None))
            .collect::<Vec<_>>() })),
        one => Some(json!({ "create": component_item(content, default_locale, field, one, None) })),
    }
}

/// One component of a component field: its create data, wrapped in `{data, position}` when
/// `position` is given, keyed by member type for unions.
fn component_item(
    content: &ContentModel,
    default_locale: &str,
    field: &Field,
    value: &Value,
    position: Option<Value>,
) -> Value {
    let typename = value
        .get("__typename")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let data = component_data(content, default_locale, typename, value);
    let inner = match position {
        Some(p) => json!({ "data": data, "position": p }),
        None => data,
    };
    match &field.kind {
        FieldKind::Component { union: Some(_), .. } => json!({ typename: inner }),
        _ => inner,
    }
}

/// `<Component>CreateInput` from a component's canonical form: nulls left out, nested components
/// as their own create inputs, localized values of the default locale at the top and the other
/// locales under `localizations.create`.
fn component_data(
    content: &ContentModel,
    default_locale: &str,
    typename: &str,
    value: &Value,
) -> Value {
    let mut data = Map::new();
    let Some(component) = content.component(typename) else {
        return Value::Object(data);
    };
    let put = |data: &mut Map<String, Value>, f: &Field, v: &Value| {
        if v.is_null() {
            return;
        }
        match &f.kind {
            FieldKind::Component { .. } => {
                if let Some(input) = component_create(content, default_locale, f, v) {
                    data.insert(f.name.clone(), input);
                }
            }
            FieldKind::Relation(rel) => {
                if let Some(input) = component_connect(f, rel, v) {
                    data.insert(f.name.clone(), input);
                }
            }
            _ => {
                data.insert(f.name.clone(), v.clone());
            }
        }
    };
    for f in component.fields.iter().filter(|f| !f.localized) {
        if let Some(v) = value.get(&f.name) {
            put(&mut data, f, v);
        }
    }
    let locs = value
        .get(COMPONENT_LOCALIZATIONS)
        .and_then(Value::as_object);
    let mut others = Vec::new();
    for (locale, values) in locs.into_iter().flatten() {
        let mut loc = Map::new();
        for f in component.fields.iter().filter(|f| f.localized) {
            if let Some(v) = values.get(&f.name) {
                put(&mut loc, f, v);
            }
        }
        if locale == default_locale {
            data.extend(loc);
        } else {
            others.push(json!({ "locale": locale, "data": loc }));
        }
    }
    if !others.is_empty() {
        data.insert(COMPONENT_LOCALIZATIONS.into(), json!({ "create": others }));
    }
    Value::Object(data)
}

/// The `...CreateOneInlineInput` / `...CreateManyInlineInput` connecting the targets of a
/// relation inside a component, from its `{nodeId, nodeType}` references (already rewritten to
/// destination ids): `{ connect: { id } }`, a list `{ connect: [{ id }, ...] }`, a union member
/// `{ connect: { Member: { id } } }`. `None` without a target.
fn component_connect(field: &Field, rel: &crate::model::Relation, value: &Value) -> Option<Value> {
    let refs: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        one => vec![one],
    };
    let wheres: Vec<Value> = refs
        .iter()
        .filter_map(|r| {
            let id = r.get("nodeId")?.as_str()?;
            let ty = r.get("nodeType")?.as_str()?;
            Some(if rel.union.is_some() {
                json!({ ty: { "id": id } })
            } else {
                json!({ "id": id })
            })
        })
        .collect();
    if field.list {
        (!wheres.is_empty()).then(|| json!({ "connect": wheres }))
    } else {
        wheres.into_iter().next().map(|w| json!({ "connect": w }))
    }
}

/// Adds the locales of component localizations found in `value` to `out`.
fn locales_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|i| locales_in(i, out)),
        Value::Object(map) => {
            for (k, v) in map {
                if k == COMPONENT_LOCALIZATIONS {
                    for l in v.as_object().into_iter().flat_map(|m| m.keys()) {
                        if !out.contains(l) {
                            out.push(l.clone());
                        }
                    }
                }
                locales_in(v, out);
            }
        }
        _ => {}
    }
}

/// The placeholder for writing component field `field` as `value` in an update (see
/// [`COMPONENTS_MARKER`]).
fn component_marker(
    shape: &Shape<'_>,
    field: &Field,
    value: &Value,
    default_locale: &str,
    version: &Version,
) -> Value {
    // Every locale the comparison in `resolve_components` must see.
    let mut locales: Vec<String> = vec![default_locale.to_owned()];
    locales.extend(version.locales.keys().cloned());
    locales_in(value, &mut locales);
    let items: Vec<Value> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    let creates: Vec<Value> = items
        .iter()
        .map(|i| {
            component_item(
                shape.content,
                default_locale,
                field,
                i,
                field.list.then(|| json!({ "end": true })),
            )
        })
        .collect();
    json!({ COMPONENTS_MARKER: {
        "singular": shape.model.singular,
        "select": selection(field, shape.content),
        "locales": locales,
        "list": field.list,
        "union": matches!(&field.kind, FieldKind::Component { union: Some(_), .. }),
        "desired": value,
        "creates": creates,
    }})
}

/// Replaces the component placeholders of update ops with real inputs: one query (split when
/// too large) reads the destination's current value of each such field; a field already equal
/// to the source is left out of the write, any other is written whole — its components
/// deleted, the source's created in order.
pub async fn resolve_components(client: &Client, ops: &mut [Op]) -> Result<(), SyncError> {
    let marked: Vec<usize> = (0..ops.len())
        .filter(|i| markers_of(&ops[*i]).next().is_some())
        .collect();
    let mut stack = vec![marked];
    while let Some(chunk) = stack.pop() {
        if chunk.is_empty() {
            continue;
        }
        let (query, variables) = components_query(ops, &chunk);
        let response = match client.graphql(&query, variables, Idempotency::Safe).await {
            Ok(r) => r,
            Err(ClientError::TooLarge { .. }) | Err(ClientError::TooComplex { .. })
                if chunk.len() > 1 =>
            {
                let mut head = chunk;
                let tail = head.split_off(head.len() / 2);
                stack.push(tail);
                stack.push(head);
                continue;
            }
            Err(source) => return Err(SyncError::client(client.name().to_owned(), source)),
        };
        if let Some(err) = response.errors.first() {
            return Err(SyncError::Read {
                endpoint: client.name().to_owned(),
                model: ops[chunk[0]].model.clone(),
                message: format!(
                    "reading the destination's components before a write: {}",
                    err.message
                ),
            });
        }
        for i in chunk {
            let current = response
                .data
                .as_ref()
                .and_then(|d| d.get(format!("q{i}")))
                .cloned()
                .unwrap_or(Value::Null);
            resolve_op(&mut ops[i], &current);
        }
    }
    Ok(())
}

fn update_data_mut(op: &mut Op) -> Option<&mut Map<String, Value>> {
    match &mut op.kind {
        OpKind::Update { data, .. } => data.as_object_mut(),
        OpKind::Upsert {
            update,
            check: None,
            ..
        } => update.as_object_mut(),
        _ => None,
    }
}

fn markers_of(op: &Op) -> impl Iterator<Item = &Value> {
    let data = match &op.kind {
        OpKind::Update { data, .. } => Some(data),
        // A checked upsert sends its update only as a follow-up, resolved from its answer.
        OpKind::Upsert {
            update,
            check: None,
            ..
        } => Some(update),
        _ => None,
    };
    data.and_then(Value::as_object)
        .into_iter()
        .flat_map(|d| d.values())
        .filter_map(|v| v.get(COMPONENTS_MARKER))
}

/// The query reading the current component fields of the ops at `chunk`: one fragment per
/// model, one aliased root field per op.
fn components_query(ops: &[Op], chunk: &[usize]) -> (String, Value) {
    let mut fragments: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    let mut locales: Vec<Value> = Vec::new();
    let mut decls = vec!["$locales: [Locale!]!".to_owned()];
    let mut fields = Vec::new();
    let mut vars = Map::new();
    for &i in chunk {
        let op = &ops[i];
        let selects = fragments.entry(op.model.as_str()).or_default();
        let mut singular = "";
        for m in markers_of(op) {
            singular = m["singular"].as_str().unwrap_or_default();
            if let Some(sel) = m["select"].as_str() {
                if !selects.contains(&sel) {
                    selects.push(sel);
                }
            }
            for l in m["locales"].as_array().into_iter().flatten() {
                if !locales.contains(l) {
                    locales.push(l.clone());
                }
            }
        }
        let where_ = match &op.kind {
            OpKind::Update { dest_id, .. } => json!({ "id": dest_id }),
            OpKind::Upsert { key, value, .. } => json!({ key: value }),
            _ => continue,
        };
        decls.push(format!("$w{i}: {}WhereUniqueInput!", op.model));
        fields.push(format!(
            "q{i}: {singular}(where: $w{i}, stage: DRAFT, locales: $locales) {{ ...Components{} }}",
            op.model
        ));
        vars.insert(format!("w{i}"), where_);
    }
    vars.insert("locales".into(), Value::Array(locales));
    let fragments: Vec<String> = fragments
        .iter()
        .map(|(model, selects)| {
            format!(
                "fragment Components{model} on {model} {{ {} }}",
                selects.join(" ")
            )
        })
        .collect();
    (
        format!(
            "query StagesyncComponents({}) {{ {} }} {}",
            decls.join(", "),
            fields.join(" "),
            fragments.join(" ")
        ),
        Value::Object(vars),
    )
}

/// Replaces the placeholders of one op given the destination entry `current` (null: absent).
fn resolve_op(op: &mut Op, current: &Value) {
    let Some(data) = update_data_mut(op) else {
        return;
    };
    let names: Vec<String> = data
        .iter()
        .filter(|(_, v)| v.get(COMPONENTS_MARKER).is_some())
        .map(|(k, _)| k.clone())
        .collect();
    for name in names {
        let Some(marker) = data
            .remove(&name)
            .and_then(|mut m| m.get_mut(COMPONENTS_MARKER).map(Value::take))
        else {
            continue;
        };
        let now = current.get(&name).cloned().unwrap_or(Value::Null);
        if destination_canonical(&now) == marker["desired"] {
            continue;
        }
        if let Some(input) = replacement(&marker, &now) {
            data.insert(name, input);
        }
    }
}

/// The update inline input that turns `now` (the destination's value) into the marker's value.
fn replacement(marker: &Value, now: &Value) -> Option<Value> {
    let union = marker["union"].as_bool().unwrap_or(false);
    let existing: Vec<Value> = match now {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    let creates = marker["creates"].as_array().cloned().unwrap_or_default();
    if marker["list"].as_bool().unwrap_or(false) {
        let deletes: Vec<Value> = existing
            .iter()
            .map(|c| {
                let id = c.get("id").cloned().unwrap_or(Value::Null);
                let ty = c
                    .get("__typename")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if union {
                    json!({ ty: { "id": id } })
                } else {
                    json!({ "id": id })
                }
            })
            .collect();
        let mut input = Map::new();
        if !deletes.is_empty() {
            input.insert("delete".into(), Value::Array(deletes));
        }
        if !creates.is_empty() {
            input.insert("create".into(), Value::Array(creates));
        }
        return Some(Value::Object(input));
    }
    let mut input = Map::new();
    if !existing.is_empty() {
        input.insert("delete".into(), Value::Bool(true));
    }
    if let Some(item) = creates.into_iter().next() {
        input.insert("create".into(), item);
    }
    (!input.is_empty()).then_some(Value::Object(input))
}

/// The destination's answer for a component field in the canonical form of `canonical.rs`,
/// without the content model: component ids dropped, `localizations` lists keyed by locale,
/// rich text as its AST, colours as rgba, relation targets (`{__typename, id}`) as references. (A rare false difference only costs a rewrite.)
fn destination_canonical(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(destination_canonical).collect()),
        // A relation target inside a component (a component type always has more fields).
        Value::Object(map)
            if map.len() == 2 && map.contains_key("__typename") && map.contains_key("id") =>
        {
            json!({ "nodeId": map["id"], "nodeType": map["__typename"] })
        }
        Value::Object(map) if map.contains_key("__typename") => {
            let mut out = std::collections::BTreeMap::new();
            for (k, v) in map {
                match k.as_str() {
                    "id" => {}
                    COMPONENT_LOCALIZATIONS => {
                        let mut locs = Map::new();
                        let mut sorted: Vec<&Value> = v.as_array().into_iter().flatten().collect();
                        sorted.sort_by_key(|l| {
                            l.get("locale").and_then(Value::as_str).map(str::to_owned)
                        });
                        for l in sorted {
                            let Some(locale) = l.get("locale").and_then(Value::as_str) else {
                                continue;
                            };
                            let fields: std::collections::BTreeMap<String, Value> = l
                                .as_object()
                                .into_iter()
                                .flatten()
                                .filter(|(k, _)| k.as_str() != "locale")
                                .map(|(k, v)| (k.clone(), destination_canonical(v)))
                                .collect();
                            locs.insert(
                                locale.to_owned(),
                                Value::Object(fields.into_iter().collect()),
                            );
                        }
                        out.insert(k.clone(), Value::Object(locs));
                    }
                    _ => {
                        out.insert(k.clone(), destination_canonical(v));
                    }
                }
            }
            Value::Object(out.into_iter().collect())
        }
        // Rich text, read with its `references` when it has embeds.
        Value::Object(map)
            if map.contains_key("raw") && map.keys().all(|k| k == "raw" || k == "references") =>
        {
            canonical_value(&map["raw"])
        }
        Value::Object(map)
            if map.len() == 2 && map.contains_key("hex") && map.contains_key("rgba") =>
        {
            match &map["rgba"] {
                Value::Null => json!({ "hex": map["hex"] }),
                rgba => json!({ "rgba": canonical_value(rgba) }),
            }
        }
        other => canonical_value(other),
    }
}

/// Builds the update data that sets every owned relation field of `version`, with targets
/// mapped to destination ids by `dest_of(Type, sourceId)`. `Err` names a target that has no
/// destination id yet. `fresh`: the entry was created without relations, so empty single
/// relations need no disconnect.
pub fn edges_data(
    shape: &Shape<'_>,
    version: &Version,
    fresh: bool,
    mut dest_of: impl FnMut(&str, &str) -> Result<Option<String>, SyncError>,
) -> Result<Result<Value, String>, SyncError> {
    let mut data = Map::new();
    for f in &shape.owned {
        let union = matches!(&f.kind, FieldKind::Relation(r) if r.union.is_some());
        let targets = version.edges.get(&f.name).cloned().unwrap_or_default();
        let mut wheres = Vec::with_capacity(targets.len());
        for t in &targets {
            let (ty, id) = t.split_once(':').unwrap_or(("", t));
            let Some(dest) = dest_of(ty, id)? else {
                return Ok(Err(format!(
                    "{}.{} targets {ty} {id}, which is not in the destination yet",
                    shape.model.name, f.name
                )));
            };
            wheres.push(if union {
                json!({ ty: { "id": dest } })
            } else {
                json!({ "id": dest })
            });
        }
        if f.list {
            if fresh && wheres.is_empty() {
                continue;
            }
            data.insert(f.name.clone(), json!({ "set": wheres }));
        } else {
            match wheres.into_iter().next() {
                Some(w) => {
                    data.insert(f.name.clone(), json!({ "connect": w }));
                }
                None if fresh => {}
                None => {
                    data.insert(f.name.clone(), json!({ "disconnect": true }));
                }
            }
        }
    }
    let model = &shape.model.name;
    // Every target the source's `references` listed must be there before any AST is written.
    for target in &version.references {
        let (ty, id) = target.split_once(':').unwrap_or(("", target));
        if dest_of(ty, id)?.is_none() {
            return Ok(Err(format!(
                "{model}: rich text references {ty} {id}, which is not in the destination yet"
            )));
        }
    }
    let content = shape.content;
    let default_locale = content.default_locale.as_str();
    // Maps every nodeId of `value` (of `field`) to the destination's id; `Err` names the place
    // and the first target without one.
    let mut map_value = |field: &Field,
                         place: String,
                         value: &Value|
     -> Result<Result<Value, String>, SyncError> {
        let mut missing = None;
        let mut resolve = |ty: &str, id: &str| -> Result<String, SyncError> {
            match dest_of(ty, id)? {
                Some(dest) => Ok(dest),
                None => {
                    missing.get_or_insert_with(|| format!("{ty} {id}"));
                    Ok(id.to_owned())
                }
            }
        };
        let mapped = content.map_rich_text(field, value, &mut |_, ast| {
            map_ast_references(ast, &mut resolve)
        })?;
        Ok(match missing {
            Some(target) => Err(format!(
                "{model}.{place} (rich text, or a relation inside a component) references {target}, which is not in the destination yet"
            )),
            None => Ok(mapped),
        })
    };
    for f in &shape.plain {
        let Some(value) = version.embeds.get(&f.name) else {
            continue;
        };
        let mapped = match map_value(f, f.name.clone(), value)? {
            Ok(v) => v,
            Err(message) => return Ok(Err(message)),
        };
        let input = match &f.kind {
            // Written whole: the destination's components are replaced by the source's.
            FieldKind::Component { .. } => {
                let marker = component_marker(shape, f, &mapped, default_locale, version);
                if fresh {
                    // Created this run without it: nothing to replace, no ids to read first.
                    match replacement(&marker[COMPONENTS_MARKER], &Value::Null) {
                        Some(input) => input,
                        None => continue,
                    }
                } else {
                    marker
                }
            }
            _ => mapped,
        };
        data.insert(f.name.clone(), input);
    }
    let mut upserts = Vec::new();
    for (locale, values) in &version.localized_embeds {
        let mut mapped_values = Map::new();
        for f in &shape.localized {
            let Some(value) = values.get(&f.name) else {
                continue;
            };
            match map_value(f, format!("{}[{locale}]", f.name), value)? {
                Ok(v) => {
                    mapped_values.insert(f.name.clone(), v);
                }
                Err(message) => return Ok(Err(message)),
            }
        }
        if locale == default_locale {
            data.extend(mapped_values);
        } else if !mapped_values.is_empty() {
            // The content phase created the localization; should it be missing, `create` holds
            // the whole localization so that its required fields are there.
            let mut create: Map<String, Value> = version
                .locales
                .get(locale)
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            create.extend(mapped_values.clone());
            upserts.push(json!({
                "locale": locale,
                "create": create,
                "update": mapped_values,
            }));
        }
    }
    if !upserts.is_empty() {
        data.insert("localizations".into(), json!({ "upsert": upserts }));
    }
    Ok(Ok(Value::Object(data)))
}

/// Why a required relation cannot be connected in a create (see [`required_connects`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unconnected {
    /// The version holds no target for it.
    NoTarget { field: String },
    /// A target has no destination id.
    Missing {
        field: String,
        ty: String,
        id: String,
    },
}

/// A create's inputs for its required relations, and their targets as its answer shows them.
pub type Connects = (
    Map<String, Value>,
    std::collections::BTreeMap<String, Vec<String>>,
);

/// The create inputs connecting the `required` relations of `version` to their targets'
/// destination ids (`dest_of(Type, sourceId)`), in the shape the create input takes: `{ connect:
/// { id } }`, a list `{ connect: [{ id }, ...] }`, a union member `{ connect: { Member: { id } }
/// }`. Also returns the targets as a created entry's answer shows them (`Type:destinationId`
/// per field).
pub fn required_connects(
    required: &[&Field],
    version: &Version,
    mut dest_of: impl FnMut(&str, &str) -> Option<String>,
) -> Result<Connects, Unconnected> {
    let mut inputs = Map::new();
    let mut connected = std::collections::BTreeMap::new();
    for f in required {
        let targets = version.edges.get(&f.name).map(Vec::as_slice).unwrap_or(&[]);
        if targets.is_empty() {
            return Err(Unconnected::NoTarget {
                field: f.name.clone(),
            });
        }
        let union = matches!(&f.kind, FieldKind::Relation(r) if r.union.is_some());
        let mut wheres = Vec::with_capacity(targets.len());
        let mut shown = Vec::with_capacity(targets.len());
        for target in targets {
            let (ty, id) = target.split_once(':').unwrap_or(("", target));
            let Some(dest) = dest_of(ty, id) else {
                return Err(Unconnected::Missing {
                    field: f.name.clone(),
                    ty: ty.to_owned(),
                    id: id.to_owned(),
                });
            };
            wheres.push(if union {
                json!({ ty: { "id": dest } })
            } else {
                json!({ "id": dest })
            });
            shown.push(format!("{ty}:{dest}"));
        }
        let connect = if f.list {
            Value::Array(wheres)
        } else {
            wheres.swap_remove(0)
        };
        inputs.insert(f.name.clone(), json!({ "connect": connect }));
        connected.insert(f.name.clone(), shown);
    }
    Ok((inputs, connected))
}

/// Adds the update data `other` to `into`: the edges-phase data of an entry and its content
/// data, written together. Both may upsert localizations; their values for one locale merge.
pub fn merge_data(into: &mut Map<String, Value>, other: Map<String, Value>) {
    for (k, v) in other {
        let (Some(Value::Object(mine)), Value::Object(theirs)) = (into.get_mut(&k), &v) else {
            into.insert(k, v);
            continue;
        };
        if k != "localizations" {
            into.insert(k, v);
            continue;
        }
        for (op, list) in theirs {
            match (op.as_str(), mine.get_mut(op), list) {
                ("upsert", Some(Value::Array(existing)), Value::Array(items)) => {
                    for item in items {
                        let locale = item.get("locale");
                        match existing.iter_mut().find(|e| e.get("locale") == locale) {
                            Some(e) => {
                                for part in ["create", "update"] {
                                    if let (Some(Value::Object(a)), Some(Value::Object(b))) =
                                        (e.get_mut(part), item.get(part))
                                    {
                                        a.extend(b.clone());
                                    }
                                }
                            }
                            None => existing.push(item.clone()),
                        }
                    }
                }
                _ => {
                    mine.insert(op.clone(), list.clone());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(i: usize, bytes: usize) -> Op {
        Op {
            model: "Talk".into(),
            source_id: format!("s{i}"),
            kind: OpKind::Update {
                dest_id: format!("d{i}"),
                data: json!({ "title": "x".repeat(bytes) }),
            },
        }
    }

    #[test]
    fn batches_respect_bytes_and_count() {
        let ops: Vec<Op> = (0..10).map(|i| op(i, 1000)).collect();
        let limits = |max_bytes, max_document_bytes, max_mutations| BatchLimits {
            max_bytes,
            max_document_bytes,
            max_mutations,
        };
        let b = batches(ops.clone(), limits(3500, 1_000_000, 100));
        assert!(
            b.iter().all(|b| b.len() <= 3),
            "{:?}",
            b.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 10);
        let b = batches(ops.clone(), limits(1_000_000, 1_000_000, 4));
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
        // The document alone: each update adds ~90 bytes of text (its data are variables).
        let b = batches(ops, limits(1_000_000, 300, 100));
        assert!(
            b.len() >= 4,
            "{:?}",
            b.iter().map(Vec::len).collect::<Vec<_>>()
        );
        for batch in &b {
            assert!(
                render_batch(batch).0.len() <= 300,
                "{}",
                render_batch(batch).0
            );
        }
    }

    fn checked(i: usize, select: &str) -> Op {
        Op {
            model: "Talk".into(),
            source_id: format!("s{i}"),
            kind: OpKind::Upsert {
                key: "slug".into(),
                value: json!(format!("t{i}")),
                create: json!({ "slug": format!("t{i}") }),
                update: Value::Null,
                check: Some(Box::new(UpsertCheck {
                    select: select.into(),
                    reads_content: true,
                    locales: vec!["en".into()],
                    content: crate::store::Hash::default(),
                    skip: Vec::new(),
                    connected: Default::default(),
                    existing: false,
                    stages: None,
                })),
            },
        }
    }

    /// A wide model's answer selection is written once per batch (a fragment), so the
    /// document of a batch of upserts stays under the destination's query size limit; each
    /// batch defines exactly the fragments it uses.
    #[test]
    fn checked_upserts_share_one_answer_fragment_per_batch() {
        let select = (0..60)
            .map(|f| format!("field{f}"))
            .collect::<Vec<_>>()
            .join(" ");
        let ops: Vec<Op> = (0..100).map(|i| checked(i, &select)).collect();
        let (document, _) = render_batch(&ops[..3]);
        assert_eq!(document.matches(&select).count(), 1, "{document}");
        assert_eq!(document.matches("...StagesyncAnswerTalk }").count(), 3);
        assert!(document.ends_with(&format!(
            "fragment StagesyncAnswerTalk on Talk {{ {select} }}"
        )));
        let limits = BatchLimits {
            max_bytes: 1_000_000,
            max_document_bytes: 10_240,
            max_mutations: 200,
        };
        let groups = batches(ops, limits);
        assert!(groups.len() >= 2);
        for batch in &groups {
            let (document, _) = render_batch(batch);
            assert!(document.len() <= 10_240, "{} bytes", document.len());
            assert_eq!(document.matches("fragment ").count(), 1);
        }
        assert_eq!(groups.iter().map(Vec::len).sum::<usize>(), 100);
    }

    #[test]
    fn required_relations_are_connected_in_the_shape_of_the_create_input() {
        let content = crate::model::from_model_file(
            r#"
locales = ["en"]
[unions]
Owner = ["Person", "Team"]
[[models]]
name = "Person"
fields = [{ name = "slug", type = "String" }]
[[models]]
name = "Team"
fields = [{ name = "slug", type = "String" }]
[[models]]
name = "Task"
fields = [
  { name = "assignee", type = "Person", required = true },
  { name = "watchers", type = "Person", list = true, required = true },
  { name = "owner", type = "Owner", required = true },
]
"#,
            "test.toml",
        )
        .unwrap();
        let task = content.model("Task").unwrap();
        let required: Vec<&Field> = task.fields.iter().collect();
        let mut version = Version::default();
        version
            .edges
            .insert("assignee".into(), vec!["Person:p1".into()]);
        version.edges.insert(
            "watchers".into(),
            vec!["Person:p2".into(), "Person:p1".into()],
        );
        version.edges.insert("owner".into(), vec!["Team:t1".into()]);
        let dest = |_: &str, id: &str| Some(format!("d-{id}"));
        let (inputs, connected) = required_connects(&required, &version, dest).unwrap();
        assert_eq!(
            Value::Object(inputs),
            json!({
                "assignee": { "connect": { "id": "d-p1" } },
                "watchers": { "connect": [{ "id": "d-p2" }, { "id": "d-p1" }] },
                "owner": { "connect": { "Team": { "id": "d-t1" } } },
            })
        );
        assert_eq!(connected["watchers"], ["Person:d-p2", "Person:d-p1"]);
        assert_eq!(connected["owner"], ["Team:d-t1"]);

        let missing = |ty: &str, id: &str| (id != "p2").then(|| format!("{ty}-{id}"));
        assert_eq!(
            required_connects(&required, &version, missing).unwrap_err(),
            Unconnected::Missing {
                field: "watchers".into(),
                ty: "Person".into(),
                id: "p2".into()
            }
        );
        version.edges.remove("owner");
        assert_eq!(
            required_connects(&required, &version, dest).unwrap_err(),
            Unconnected::NoTarget {
                field: "owner".into()
            }
        );
    }

    #[test]
    fn batch_document_uses_aliases_and_variables() {
        let (q, v) = render_batch(&[op(0, 1), op(1, 1)]);
        assert!(q.starts_with(
            "mutation StagesyncBatch($w0: TalkWhereUniqueInput!, $d0: TalkUpdateInput!"
        ));
        assert!(q.contains("m1: updateTalk(where: $w1, data: $d1) { id }"));
        assert_eq!(v["w1"], json!({"id": "d1"}));
    }
}
