//! Writing to the destination: mutation builders (content, edges, publication, deletion) and the
//! batch executor — many aliased mutations per request, bounded by bytes and count, split when
//! the server finds a request too large or too complex, failed aliases retried alone.

use serde_json::{json, Map, Value};

use super::canonical::Version;
use super::shape::Shape;
use super::SyncError;
use crate::hygraph::{Client, ClientError, Idempotency};
use crate::model::FieldKind;

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
        update: Value,
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

impl Op {
    fn idempotent(&self) -> bool {
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
            } => (
                format!("${w}: {m}WhereUniqueInput!, ${d}: {m}UpsertInput!"),
                format!("m{i}: upsert{m}(where: ${w}, upsert: ${d}) {{ id }}"),
                vec![
                    (w, json!({ key: value })),
                    (d, json!({ "create": create, "update": update })),
                ],
            ),
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

    /// Bytes this op adds to a request (close enough to bound batches).
    pub fn size(&self) -> usize {
        let (decl, field, vars) = self.render(0);
        decl.len()
            + field.len()
            + vars
                .iter()
                .map(|(k, v)| k.len() + 4 + serde_json::to_string(v).map_or(0, |s| s.len()))
                .sum::<usize>()
    }
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
    for (i, op) in ops.iter().enumerate() {
        let (decl, field, v) = op.render(i);
        decls.push(decl);
        fields.push(field);
        for (k, val) in v {
            vars.insert(k, val);
        }
    }
    (
        format!(
            "mutation StagesyncBatch({}) {{ {} }}",
            decls.join(", "),
            fields.join(" ")
        ),
        Value::Object(vars),
    )
}

/// Splits ops into batches under the byte and count limits.
pub fn batches(ops: Vec<Op>, max_bytes: usize, max_mutations: usize) -> Vec<Vec<Op>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 64;
    for op in ops {
        let size = op.size();
        if !current.is_empty() && (bytes + size > max_bytes || current.len() >= max_mutations) {
            out.push(std::mem::take(&mut current));
            bytes = 64;
        }
        bytes += size;
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
pub async fn execute(client: &Client, ops: Vec<Op>) -> Result<Vec<(Op, Outcome)>, SyncError> {
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
                    match (error, value) {
                        (None, Some(v)) => {
                            let id = v.get("id").and_then(Value::as_str).map(str::to_owned);
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
    Ok(out)
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
        let v = version.fields.get(&f.name).cloned().unwrap_or(Value::Null);
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
    Ok(Ok(Value::Object(data)))
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
        let b = batches(ops.clone(), 3500, 100);
        assert!(
            b.iter().all(|b| b.len() <= 3),
            "{:?}",
            b.iter().map(Vec::len).collect::<Vec<_>>()
        );
        assert_eq!(b.iter().map(Vec::len).sum::<usize>(), 10);
        let b = batches(ops, 1_000_000, 4);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
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
