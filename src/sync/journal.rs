//! Pending creates: what makes the writes that create entries safe to lose an answer of.
//!
//! An upsert by a unique field can be sent twice and still leave one entry; a `create<Model>` of
//! a model without a unique field, or an asset upload (a legacy form post or
//! `createAsset(uploadUrl)`), cannot: sent again after a lost answer or a kill between the answer
//! and its commit, it leaves a second entry. So every such write is recorded in the store's
//! `pending` tree (flushed) before it is sent, and replaced by its acknowledgement once that is
//! committed ([`settle`]). The next run (or repair) resolves what is still pending before it
//! creates anything ([`resolve`]):
//!
//! - **a create** looks among the destination's entries of that model created since the record
//!   (`createdAt_gte`, less [`CLOCK_MARGIN_MS`] for the two machines' clocks), not mapped to any
//!   other source entry, for one whose canonical content hash (the engine's, without the fields
//!   the edges phase writes) is the one that was sent, and adopts it;
//! - **an asset upload** does the same with the file's bytes (blake3) as the content;
//! - **the carrier of a changed legacy file** (a new asset uploaded from the new file, whose
//!   handle is then moved onto the entry's asset before the carrier is deleted) is found the
//!   same way, by its bytes, and the swap it was uploaded for is finished: left alone, it would
//!   stay in the destination as an asset no source entry matches;
//! - **an upsert** looks the entry up by the key value it sent: when the source renamed that key
//!   since (a lost answer, then an edit of the `slug`), an upsert by the new value would create a
//!   second entry; the entry found by the old value is adopted and updated by its id instead.
//!
//! **In the same run** ([`landed`]): a batch of creates or an upload whose answer is lost (a
//! 5xx, a timeout after it was sent, a dropped answer) is not resent blindly either; the same
//! lookup finds what landed, which is acknowledged as if answered, and only the rest is sent
//! again — up to the destination's `max_retries` times, each send within `give_up_secs` — so
//! faults cost retries, not runs.
//!
//! Adopted entries get their destination id and the stages the destination shows them in, and
//! are then written by id like any known entry (their content, relations and publication).
//! Nothing found: the entry is created normally.
//!
//! **Ambiguity (decided).** Two destination entries may match one pending create (the lost
//! create, and an identical one an editor made since, or two identical source entries created
//! together): each pending create, oldest first, adopts the earliest-created matching candidate,
//! and each candidate is adopted once. A candidate left over is never deleted here: it is not
//! tracked, and stagesync deletes only what it tracks (under the deletion policy), so an
//! editor's entry is never removed on a guess. Two identical source entries created together
//! both adopt (they are indistinguishable, and both are rewritten by id anyway).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{json, Value};

use super::acks::refresh_publication;
use super::canonical::Version;
use super::shape::Shape;
use super::write::{Op, OpKind};
use super::{Prepared, SyncError};
use crate::hygraph::{Client, Idempotency};
use crate::store::{Acked, Hash, PendingCreate, PendingWrite, Store};

/// How far the destination's clock may be behind this machine's: candidates created up to this
/// long before a pending record are considered too (the content match and the mapping filter
/// keep the wider window safe).
pub const CLOCK_MARGIN_MS: i64 = 10 * 60 * 1000;

/// The pending record of a create of `version` (a model without a unique field).
pub(super) fn create(model: &str, source_id: &str, version: &Version) -> Pending {
    let skip = version.written_with_edges();
    Pending {
        model: model.to_owned(),
        source_id: source_id.to_owned(),
        write: PendingWrite::Create {
            content: version.content_hash_without(&skip),
            skip,
        },
    }
}

/// A write about to be sent, not yet recorded.
pub(super) struct Pending {
    model: String,
    source_id: String,
    write: PendingWrite,
}

/// The pending records of the creates and upserts among `ops` (see [`create`] for creates:
/// their content hash needs the version, so they are passed in `creates`).
pub(super) fn of_ops<'o>(ops: impl Iterator<Item = &'o Op>, creates: Vec<Pending>) -> Vec<Pending> {
    let mut out = creates;
    for op in ops {
        if let OpKind::Upsert { key, value, .. } = &op.kind {
            out.push(Pending {
                model: op.model.clone(),
                source_id: op.source_id.clone(),
                write: PendingWrite::Upsert {
                    key: key.clone(),
                    value: value.to_string(),
                },
            });
        }
    }
    out
}

/// Records writes about to be sent, durably (see [`Store::put_pending`]).
pub(super) fn record(store: &Store, pending: &[Pending]) -> Result<(), SyncError> {
    let at = chrono::Utc::now().timestamp_millis();
    let records: Vec<PendingCreate> = pending
        .iter()
        .map(|p| PendingCreate {
            at,
            write: p.write.clone(),
        })
        .collect();
    let items: Vec<(&str, &str, &PendingCreate)> = pending
        .iter()
        .zip(&records)
        .map(|(p, r)| (p.model.as_str(), p.source_id.as_str(), r))
        .collect();
    store.put_pending(&items)?;
    Ok(())
}

/// Records one asset upload about to be sent: of a new asset (`carrier` false), or of the
/// carrier of a changed legacy file (see `assets::sync_file`).
pub(super) fn record_upload(
    store: &Store,
    model: &str,
    source_id: &str,
    url: &str,
    carrier: bool,
) -> Result<(), SyncError> {
    let url = url.to_owned();
    record(
        store,
        &[Pending {
            model: model.to_owned(),
            source_id: source_id.to_owned(),
            write: if carrier {
                PendingWrite::Carrier { url }
            } else {
                PendingWrite::Asset { url }
            },
        }],
    )
}

/// Drops the records of writes whose outcome is known (acknowledged, or failed for sure).
pub(super) fn forget(store: &Store, pending: &[Pending]) -> Result<(), SyncError> {
    let refs: Vec<(&str, &str)> = pending
        .iter()
        .map(|p| (p.model.as_str(), p.source_id.as_str()))
        .collect();
    store.clear_pending(&refs)?;
    Ok(())
}

/// Drops the pending records whose entry has a destination id now (its acknowledgement is
/// committed) or is no longer tracked; a carrier's, once its file is acknowledged.
pub(super) fn settle(store: &Store) -> Result<(), SyncError> {
    let mut done = Vec::new();
    for (model, id, pending) in store.pending()? {
        let settled = match (store.node(&model, &id)?, &pending.write) {
            (None, _) => true,
            (Some(r), PendingWrite::Carrier { url }) => r.acked.file.as_ref() == Some(url),
            (Some(r), _) => r.dest_id.is_some(),
        };
        if settled {
            done.push((model, id));
        }
    }
    let refs: Vec<(&str, &str)> = done.iter().map(|(m, i)| (m.as_str(), i.as_str())).collect();
    store.clear_pending(&refs)?;
    Ok(())
}

/// Resolves every pending create left by an earlier run (see the module doc): adopts the entries
/// they created, forgets the rest. Returns how many entries were adopted.
pub(super) async fn resolve(
    dest: &Client,
    prepared: &Prepared<'_>,
    store: &Store,
) -> Result<usize, SyncError> {
    settle(store)?;
    let pending = store.pending()?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut adopted = 0;
    for shape in &prepared.shapes {
        let name = &shape.model.name;
        let Some((mine, mapped)) = model_pending(store, &pending, name)? else {
            continue;
        };
        let mut found: Vec<(String, Adopted)> = Vec::new();
        let upserts: Vec<(&String, &String, &String)> = mine
            .iter()
            .filter_map(|(id, p)| match &p.write {
                PendingWrite::Upsert { key, value } => Some((*id, key, value)),
                _ => None,
            })
            .collect();
        found.extend(by_old_key(dest, prepared, shape, &upserts, &mapped).await?);
        let others: Vec<(&String, &PendingCreate)> = mine
            .iter()
            .filter(|(_, p)| !matches!(p.write, PendingWrite::Upsert { .. }))
            .copied()
            .collect();
        if !others.is_empty() {
            found.extend(by_content(dest, prepared, shape, &others, &mapped).await?);
        }
        let mut commits = Vec::new();
        for (id, a) in found {
            let Some(mut record) = store.node(name, &id)? else {
                continue;
            };
            if let (true, Some(own)) = (a.carrier, record.dest_id.clone()) {
                // A changed file's carrier, uploaded before an interruption: the swap it was
                // uploaded for is finished now (its handle moved onto the entry's asset, the
                // carrier deleted), instead of being left in the destination as an extra asset.
                if let Err(message) = super::assets::swap(dest, name, &own, &a.id, &id).await? {
                    tracing::warn!(model = %name, source_id = %id, carrier = %a.id, %message,
                        "the carrier of a changed file could not be swapped in; the file is uploaded again");
                    continue;
                }
                tracing::info!(model = %name, source_id = %id, carrier = %a.id,
                    "the carrier of a changed file, left by an interrupted run, is swapped in");
                record.acked.file = a.file;
                commits.push((id, record));
                continue;
            }
            tracing::info!(model = %name, source_id = %id, dest_id = %a.id,
                "a create whose answer was lost is adopted instead of being sent again");
            record.dest_id = Some(a.id);
            record.acked = Acked {
                stages: Some(a.stages),
                locales: a.locales,
                file: a.file,
                ..Default::default()
            };
            refresh_publication(&mut record.acked, &prepared.stages);
            commits.push((id, record));
        }
        let refs: Vec<(&str, &str, &crate::store::NodeRecord)> = commits
            .iter()
            .map(|(id, r)| (name.as_str(), id.as_str(), r))
            .collect();
        store.commit_acks(&refs)?;
        adopted += commits.len();
    }
    // Everything still pending created nothing that can be found: created normally.
    let refs: Vec<(&str, &str)> = pending
        .iter()
        .map(|(m, i, _)| (m.as_str(), i.as_str()))
        .collect();
    store.clear_pending(&refs)?;
    Ok(adopted)
}

/// Same-run retry of a batch whose answer was lost: the destination ids of the creates among
/// `ops` that landed all the same, found as [`resolve`] finds them (by their pending records:
/// among the entries created since, unmapped, the one holding the content sent), keyed by
/// (model, source id). Nothing is committed here: the caller acknowledges what was found as
/// the creates' answers, and sends the rest again.
pub(super) async fn landed(
    dest: &Client,
    prepared: &Prepared<'_>,
    store: &Store,
    ops: &[Op],
) -> Result<HashMap<(String, String), String>, SyncError> {
    let creates: HashSet<(&str, &str)> = ops
        .iter()
        .filter(|op| matches!(op.kind, OpKind::Create { .. }))
        .map(|op| (op.model.as_str(), op.source_id.as_str()))
        .collect();
    let mut out = HashMap::new();
    if creates.is_empty() {
        return Ok(out);
    }
    let pending: Vec<(String, String, PendingCreate)> = store
        .pending()?
        .into_iter()
        .filter(|(m, id, p)| {
            creates.contains(&(m.as_str(), id.as_str()))
                && matches!(p.write, PendingWrite::Create { .. })
        })
        .collect();
    for shape in &prepared.shapes {
        let name = &shape.model.name;
        let Some((mine, mapped)) = model_pending(store, &pending, name)? else {
            continue;
        };
        for (id, a) in by_content(dest, prepared, shape, &mine, &mapped).await? {
            tracing::info!(model = %name, source_id = %id, dest_id = %a.id,
                "a create whose answer was lost had landed: adopted instead of being sent again");
            out.insert((name.clone(), id), a.id);
        }
    }
    Ok(out)
}

/// The pending records of model `name` (source id, record), and the destination ids the store
/// already maps to its entries (never adopted for another). `None`: nothing pending for it.
#[allow(clippy::type_complexity)]
fn model_pending<'p>(
    store: &Store,
    pending: &'p [(String, String, PendingCreate)],
    name: &str,
) -> Result<Option<(Vec<(&'p String, &'p PendingCreate)>, HashSet<String>)>, SyncError> {
    let mine: Vec<(&String, &PendingCreate)> = pending
        .iter()
        .filter(|(m, _, _)| m == name)
        .map(|(_, id, p)| (id, p))
        .collect();
    if mine.is_empty() {
        return Ok(None);
    }
    let mut mapped = HashSet::new();
    for item in store.nodes_of(name) {
        if let Some(d) = item?.1.dest_id {
            mapped.insert(d);
        }
    }
    Ok(Some((mine, mapped)))
}

/// A destination entry adopted for a pending create.
struct Adopted {
    id: String,
    stages: Vec<String>,
    locales: Vec<String>,
    file: Option<String>,
    /// The carrier of a changed file (see [`PendingWrite::Carrier`]), not the entry itself.
    carrier: bool,
}

/// A destination entry that may be the one a pending create made.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub id: String,
    /// `createdAt`, unix milliseconds.
    pub created: i64,
}

/// Pairs pending creates (their times) with candidates: each pending
/// create, oldest first, takes the earliest-created candidate not older than it (less
/// [`CLOCK_MARGIN_MS`]) whose content is the same; a candidate is taken once. Returns
/// (pending index, candidate index) pairs; `same(pending, candidate)` compares contents.
pub(super) fn assign(
    pending: &[i64],
    candidates: &[Candidate],
    same: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&p| pending[p]);
    let mut by_time: Vec<usize> = (0..candidates.len()).collect();
    by_time.sort_by(|&a, &b| {
        candidates[a]
            .created
            .cmp(&candidates[b].created)
            .then_with(|| candidates[a].id.cmp(&candidates[b].id))
    });
    let mut taken = vec![false; candidates.len()];
    let mut out = Vec::new();
    for p in order {
        let found = by_time.iter().copied().find(|&c| {
            !taken[c] && candidates[c].created >= pending[p] - CLOCK_MARGIN_MS && same(p, c)
        });
        if let Some(c) = found {
            taken[c] = true;
            out.push((p, c));
        }
    }
    out
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

fn stages_of(node: &Value) -> Vec<String> {
    let mut stages: Vec<String> = node
        .get("documentInStages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|d| d.get("stage").and_then(Value::as_str))
        .filter(|s| *s != "DRAFT")
        .map(str::to_owned)
        .collect();
    stages.sort();
    stages
}

fn stages_selection(prepared: &Prepared<'_>) -> String {
    if prepared.stages.is_empty() {
        String::new()
    } else {
        format!(
            " documentInStages(stages: [{}]) {{ stage }}",
            prepared.stages.join(", ")
        )
    }
}

async fn query(
    dest: &Client,
    model: &str,
    text: &str,
    variables: Value,
) -> Result<Value, SyncError> {
    let response = dest
        .graphql(text, variables, Idempotency::Safe)
        .await
        .map_err(|source| SyncError::client(dest.name().to_owned(), source))?;
    if let Some(err) = response.errors.first() {
        return Err(SyncError::Read {
            endpoint: dest.name().to_owned(),
            model: model.to_owned(),
            message: format!(
                "looking for the entries of creates whose answers were lost: {}",
                err.message
            ),
        });
    }
    Ok(response.data.unwrap_or(Value::Null))
}

/// Pending upserts: the entries holding the key values they sent, when no other source entry
/// maps to them.
async fn by_old_key(
    dest: &Client,
    prepared: &Prepared<'_>,
    shape: &Shape<'_>,
    upserts: &[(&String, &String, &String)],
    mapped: &HashSet<String>,
) -> Result<Vec<(String, Adopted)>, SyncError> {
    let mut out = Vec::new();
    let mut by_key: BTreeMap<&String, Vec<(&String, Value)>> = BTreeMap::new();
    for (id, key, value) in upserts {
        if let Ok(v) = serde_json::from_str::<Value>(value) {
            by_key.entry(*key).or_default().push((*id, v));
        }
    }
    let locales = prepared.locales_for(shape);
    let localizations = if shape.model.has_localized_fields() {
        " localizations(includeCurrent: true, locales: $locales) { locale }"
    } else {
        ""
    };
    for (key, wanted) in by_key {
        for chunk in wanted.chunks(super::read::PAGE_SIZE) {
            // Inline literals (a JSON scalar is a GraphQL literal): the key may be of any type.
            let values: Vec<String> = chunk.iter().map(|(_, v)| v.to_string()).collect();
            let (decl, arg, variables) = if localizations.is_empty() {
                ("", "", json!({}))
            } else {
                (
                    "($locales: [Locale!]!)",
                    ", locales: $locales",
                    json!({ "locales": locales }),
                )
            };
            let text = format!(
                "query StagesyncPendingKeys{decl} {{ list: {}(where: {{ {key}_in: [{}] }}, stage: DRAFT, first: {}{arg}) {{ id {key}{}{localizations} }} }}",
                shape.model.plural,
                values.join(", "),
                super::read::PAGE_SIZE,
                stages_selection(prepared),
            );
            let data = query(dest, &shape.model.name, &text, variables).await?;
            for node in data
                .get("list")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(dest_id) = node.get("id").and_then(Value::as_str) else {
                    continue;
                };
                if mapped.contains(dest_id) {
                    continue;
                }
                let Some((source_id, _)) = chunk.iter().find(|(_, v)| node.get(key) == Some(v))
                else {
                    continue;
                };
                let mut entry_locales: Vec<String> = node
                    .get("localizations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|l| l.get("locale").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect();
                entry_locales.sort();
                out.push((
                    (*source_id).clone(),
                    Adopted {
                        id: dest_id.to_owned(),
                        stages: stages_of(node),
                        locales: entry_locales,
                        file: None,
                        carrier: false,
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Pending creates and uploads: the entries created since, unmapped, holding the same content
/// (entries) or the same file bytes (assets).
async fn by_content(
    dest: &Client,
    prepared: &Prepared<'_>,
    shape: &Shape<'_>,
    pending: &[(&String, &PendingCreate)],
    mapped: &HashSet<String>,
) -> Result<Vec<(String, Adopted)>, SyncError> {
    let since = pending.iter().map(|(_, p)| p.at).min().unwrap_or_default() - CLOCK_MARGIN_MS;
    let locales = prepared.locales_for(shape);
    let selection = super::read::version_selection(shape, prepared.content);
    let text = format!(
        "query StagesyncPendingCreates($since: DateTime!, $after: String, $locales: [Locale!]!) {{ page: {}(first: {}, after: $after, stage: DRAFT, where: {{ createdAt_gte: $since }}, orderBy: createdAt_ASC, locales: $locales) {{ edges {{ node {{ createdAt{} {selection} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
        shape.model.connection(),
        super::read::PAGE_SIZE,
        stages_selection(prepared),
    );
    let mut nodes = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let data = query(
            dest,
            &shape.model.name,
            &text,
            json!({ "since": rfc3339(since), "after": after, "locales": locales }),
        )
        .await?;
        for edge in data
            .pointer("/page/edges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let node = &edge["node"];
            let id = node.get("id").and_then(Value::as_str).unwrap_or_default();
            if !id.is_empty() && !mapped.contains(id) {
                nodes.push(node.clone());
            }
        }
        after = super::read::next_cursor(data.get("page"));
        if after.is_none() {
            break;
        }
    }
    if nodes.is_empty() {
        return Ok(Vec::new());
    }
    let candidates: Vec<Candidate> = nodes
        .iter()
        .map(|n| Candidate {
            id: n["id"].as_str().unwrap_or_default().to_owned(),
            created: n
                .get("createdAt")
                .and_then(Value::as_str)
                .and_then(parse_time)
                .unwrap_or(i64::MIN),
        })
        .collect();
    let versions: Vec<Option<Version>> = nodes
        .iter()
        .map(|n| Version::from_node(shape, n, &prepared.default_locale, &locales).ok())
        .collect();
    // Assets: the bytes of each file, read once.
    let mut bytes: HashMap<String, Option<[u8; 32]>> = HashMap::new();
    if shape.is_asset() {
        let mut urls: Vec<String> = pending
            .iter()
            .filter_map(|(_, p)| match &p.write {
                PendingWrite::Asset { url } | PendingWrite::Carrier { url } => Some(url.clone()),
                _ => None,
            })
            .collect();
        urls.extend(
            nodes
                .iter()
                .filter_map(|n| n.get("url").and_then(Value::as_str).map(str::to_owned)),
        );
        for url in urls {
            if bytes.contains_key(&url) {
                continue;
            }
            let hash = dest
                .get_bytes(&url)
                .await
                .ok()
                .map(|b| *blake3::hash(&b).as_bytes());
            bytes.insert(url, hash);
        }
    }
    let file_hash = |url: Option<&str>| url.and_then(|u| bytes.get(u).copied().flatten());
    let times: Vec<i64> = pending.iter().map(|(_, p)| p.at).collect();
    let same = |p: usize, c: usize| -> bool {
        match &pending[p].1.write {
            PendingWrite::Create { content, skip } => versions[c]
                .as_ref()
                .is_some_and(|v| &v.content_hash_without(skip) == content),
            PendingWrite::Asset { url } | PendingWrite::Carrier { url } => {
                let sent: Option<Hash> = file_hash(Some(url));
                sent.is_some() && sent == file_hash(nodes[c].get("url").and_then(Value::as_str))
            }
            PendingWrite::Upsert { .. } => false,
        }
    };
    Ok(assign(&times, &candidates, same)
        .into_iter()
        .map(|(p, c)| {
            let file = match &pending[p].1.write {
                PendingWrite::Asset { url } | PendingWrite::Carrier { url } => Some(url.clone()),
                _ => None,
            };
            let carrier = matches!(pending[p].1.write, PendingWrite::Carrier { .. });
            (
                pending[p].0.clone(),
                Adopted {
                    id: candidates[c].id.clone(),
                    stages: stages_of(&nodes[c]),
                    locales: versions[c]
                        .as_ref()
                        .map(|v| v.locales.keys().cloned().collect())
                        .unwrap_or_default(),
                    file,
                    carrier,
                },
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(id: &str, created: i64) -> Candidate {
        Candidate {
            id: id.into(),
            created,
        }
    }

    const T: i64 = 1_800_000_000_000;

    #[test]
    fn a_pending_create_adopts_the_matching_candidate() {
        let candidates = [candidate("other", T + 5), candidate("mine", T + 9)];
        let content = ["x", "y"];
        let sent = ["y"];
        let pairs = assign(&[T], &candidates, |p, c| sent[p] == content[c]);
        assert_eq!(pairs, [(0, 1)]);
    }

    #[test]
    fn two_identical_candidates_adopt_one_the_earliest() {
        // The lost create, and an identical entry made since: one is adopted, the other left.
        let candidates = [candidate("later", T + 20), candidate("earlier", T + 10)];
        let pairs = assign(&[T], &candidates, |_, _| true);
        assert_eq!(pairs, [(0, 1)], "the earliest-created candidate, once");
    }

    #[test]
    fn each_candidate_is_adopted_once() {
        // Two identical source entries, one create answered before the kill was lost: one
        // candidate, so the second pending create finds nothing and is created normally.
        let candidates = [candidate("only", T + 3)];
        let pairs = assign(&[T, T], &candidates, |_, _| true);
        assert_eq!(pairs.len(), 1);
        // Two candidates: each pending create takes its own, the older pending first.
        let candidates = [candidate("a", T + 3), candidate("b", T + 4)];
        let pairs = assign(&[T + 1, T], &candidates, |_, _| true);
        assert_eq!(pairs, [(1, 0), (0, 1)]);
    }

    #[test]
    fn a_candidate_older_than_the_record_and_its_margin_is_not_adopted() {
        let candidates = [candidate("old", T - CLOCK_MARGIN_MS - 1)];
        assert!(assign(&[T], &candidates, |_, _| true).is_empty());
        // Within the clock margin: the destination's clock may be behind.
        let candidates = [candidate("skewed", T - CLOCK_MARGIN_MS + 1)];
        assert_eq!(assign(&[T], &candidates, |_, _| true), [(0, 0)]);
    }

    #[test]
    fn other_content_is_never_adopted() {
        let candidates = [candidate("a", T + 1), candidate("b", T + 2)];
        assert!(assign(&[T], &candidates, |_, _| false).is_empty());
    }
}
