//! The apply phases, in dependency order: content (assets first), edges, publication (with the
//! later rounds of other stages' versions and the newer drafts), deletions. Each builds its
//! writes from the store chunk by chunk and sends them through [`Engine::run_ops`], which
//! commits the acknowledged state after every acknowledged batch, never before.

mod content;
mod deletions;
mod edges;
mod publication;

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde_json::{json, Value};

use super::canonical::{Entry, Version};
use super::engine::Engine;
use super::progress::Progress;
use super::write::{
    batches, content_data, execute, AnswerHash, AnswerState, BatchLimits, Op, OpKind, Outcome,
    UpsertCheck, UpsertHooks,
};
use super::SyncError;
use crate::hygraph::Idempotency;
use crate::store::NodeRecord;

/// Work items whose writes are built and sent together (bounds memory on large projects).
const WORK_CHUNK: usize = 2_000;

/// Fault injection for the crash tests: `STAGESYNC_CRASH_AT=<phase>:<n>` aborts the process
/// when the n-th batch of that phase was acknowledged by the destination but not yet committed
/// to the store — the hardest moment to die at. Phase `upload`: the n-th asset file written;
/// `carrier`: the n-th carrier of a changed legacy file uploaded, before its swap.
pub(super) fn crash_point(phase: &str) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static HITS: AtomicU64 = AtomicU64::new(0);
    let Ok(spec) = std::env::var("STAGESYNC_CRASH_AT") else {
        return;
    };
    let Some((at_phase, n)) = spec.split_once(':') else {
        return;
    };
    if at_phase == phase {
        let hit = HITS.fetch_add(1, Ordering::SeqCst) + 1;
        if n.parse::<u64>().ok() == Some(hit) {
            eprintln!("STAGESYNC_CRASH_AT={spec}: aborting before the commit");
            std::process::abort();
        }
    }
}

/// The entries a query answered under the alias `list`.
fn listed(data: &Option<Value>) -> impl Iterator<Item = &Value> {
    data.as_ref()
        .and_then(|d| d.get("list"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

impl Engine<'_> {
    /// Runs ops in batches with bounded concurrency; `on_done` sees each op's outcome and
    /// returns the record to commit for it. Commits once per acknowledged batch.
    async fn run_ops(
        &mut self,
        phase: &str,
        ops: Vec<(usize, Op)>,
        mut on_done: impl FnMut(
            &mut Self,
            usize,
            &Op,
            &Outcome,
        ) -> Result<Option<NodeRecord>, SyncError>,
    ) -> Result<(), SyncError> {
        if ops.is_empty() {
            return Ok(());
        }
        self.set_phase(phase, "")?;
        let model_of: BTreeMap<(String, String), usize> = ops
            .iter()
            .map(|(m, op)| ((op.model.clone(), op.source_id.clone()), *m))
            .collect();
        let ops: Vec<Op> = ops.into_iter().map(|(_, op)| op).collect();
        let total = ops.len();
        let progress = Progress::new(self.opts.progress_bars, Some(total as u64), phase);
        let groups = batches(
            ops,
            BatchLimits {
                max_bytes: self.config.batch.max_bytes,
                max_document_bytes: self.config.destination.max_query_bytes,
                max_mutations: self.config.batch.max_mutations,
            },
        );
        self.checkpoint.writes_pending = groups.iter().map(|g| g.len() as u64).sum();
        let dest = self.dest;
        let cancel = self.opts.cancel.clone();
        let prepared = self.prepared;
        let hash_answer = move |model: &str, node: &Value, check: &UpsertCheck| {
            if !check.reads_content {
                return None;
            }
            let shape = prepared.shapes.iter().find(|s| s.model.name == model)?;
            let locales = prepared.locales_for(shape);
            let v = Version::from_node(shape, node, &prepared.default_locale, &locales).ok()?;
            Some(AnswerState {
                content: v.content_hash_without(&check.skip),
                bare: v.holds_only_content(&check.skip, &check.connected),
            })
        };
        let store = self.store;
        let rebuild = move |op: &Op| -> Option<Value> {
            let OpKind::Upsert { check: Some(c), .. } = &op.kind else {
                return None;
            };
            let shape = prepared.shapes.iter().find(|s| s.model.name == op.model)?;
            let bytes = store.snapshot(&op.model, &op.source_id).ok()??;
            let entry = Entry::from_bytes(&bytes)?;
            // The version the upsert wrote: the one whose content it was checked against.
            let version = std::iter::once(&entry.draft)
                .chain(entry.stages.values())
                .find(|v| v.content_hash_without(&c.skip) == c.content)?;
            Some(content_data(
                shape,
                version,
                &prepared.default_locale,
                false,
                &[],
            ))
        };
        let hooks = UpsertHooks {
            read: &hash_answer,
            update: &rebuild,
        };
        let answer_hash: AnswerHash<'_> = &hooks;
        let mut stream = futures::stream::iter(groups)
            .take_while(move |_| futures::future::ready(!*cancel.borrow()))
            .map(|batch| {
                // A batch holding creates is kept: if its answer is lost, what landed of it is
                // looked up and the rest sent again (see `retry_lost`).
                let kept = batch
                    .iter()
                    .any(|op| !op.idempotent())
                    .then(|| batch.clone());
                async move { (kept, execute(dest, batch, answer_hash).await) }
            })
            .buffer_unordered(self.config.batch.concurrency);
        let mut first_error = None;
        let mut lost = Vec::new();
        while let Some((kept, result)) = stream.next().await {
            let outcomes = match (result, kept) {
                (Ok(o), _) => o,
                (Err(e), Some(batch)) if e.answer_lost() => {
                    // Looked up once every batch in flight is committed, so that the lookup
                    // knows every entry this run created.
                    lost.push(batch);
                    continue;
                }
                (Err(e), _) => {
                    // Let the batches in flight finish and commit before failing.
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            crash_point(phase);
            self.commit_outcomes(phase, outcomes, &mut on_done, &model_of, &progress)?;
        }
        drop(stream);
        for batch in lost {
            if first_error.is_some() || self.cancelled() {
                break;
            }
            if let Err(e) = self
                .retry_lost(
                    phase,
                    batch,
                    answer_hash,
                    &mut on_done,
                    &model_of,
                    &progress,
                )
                .await
            {
                first_error = Some(e);
            }
        }
        progress.finish();
        tracing::debug!(phase, writes = total, "batches done");
        match self.phase_writes.iter_mut().find(|(p, _)| p == phase) {
            Some((_, writes)) => *writes += total,
            None => self.phase_writes.push((phase.to_owned(), total)),
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if self.cancelled() {
            return Err(SyncError::Cancelled);
        }
        Ok(())
    }

    /// Commits the outcomes of one acknowledged batch: `on_done`'s record for each, then the
    /// checkpoint.
    fn commit_outcomes(
        &mut self,
        phase: &str,
        outcomes: Vec<(Op, Outcome)>,
        on_done: &mut impl FnMut(
            &mut Self,
            usize,
            &Op,
            &Outcome,
        ) -> Result<Option<NodeRecord>, SyncError>,
        model_of: &BTreeMap<(String, String), usize>,
        progress: &Progress,
    ) -> Result<(), SyncError> {
        let mut commits = Vec::new();
        for (op, outcome) in &outcomes {
            let m = model_of[&(op.model.clone(), op.source_id.clone())];
            if let Outcome::Failed(message) = outcome {
                self.fail(m, &op.source_id, phase, message.clone());
            }
            if let Some(record) = on_done(self, m, op, outcome)? {
                commits.push((op.model.clone(), op.source_id.clone(), record));
            }
        }
        let refs: Vec<(&str, &str, &NodeRecord)> = commits
            .iter()
            .map(|(m, id, r)| (m.as_str(), id.as_str(), r))
            .collect();
        self.store.commit_acks(&refs)?;
        self.record.destination.mutations += outcomes.len() as u64;
        self.checkpoint.batches_acked += 1;
        self.checkpoint.writes_pending = self
            .checkpoint
            .writes_pending
            .saturating_sub(outcomes.len() as u64);
        self.save_checkpoint()?;
        progress.inc(outcomes.len() as u64);
        Ok(())
    }

    /// A batch holding creates whose answer was lost (a 5xx, a timeout, a dropped answer): the
    /// creates that landed all the same are found by their pending records (see
    /// `journal::landed`) and acknowledged as if answered; the rest of the batch — creates that
    /// did not land, and its idempotent writes — is sent again. At most the destination's
    /// `max_retries` times, each send bounded by its `give_up_secs` as any request is.
    async fn retry_lost(
        &mut self,
        phase: &str,
        mut batch: Vec<Op>,
        answer_hash: AnswerHash<'_>,
        on_done: &mut impl FnMut(
            &mut Self,
            usize,
            &Op,
            &Outcome,
        ) -> Result<Option<NodeRecord>, SyncError>,
        model_of: &BTreeMap<(String, String), usize>,
        progress: &Progress,
    ) -> Result<(), SyncError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let found =
                super::journal::landed(self.dest, self.prepared, self.store, &batch).await?;
            let (landed, rest): (Vec<Op>, Vec<Op>) = batch.into_iter().partition(|op| {
                !op.idempotent() && found.contains_key(&(op.model.clone(), op.source_id.clone()))
            });
            if !landed.is_empty() {
                let outcomes = landed
                    .into_iter()
                    .map(|op| {
                        let id = found[&(op.model.clone(), op.source_id.clone())].clone();
                        (op, Outcome::Done(Some(id)))
                    })
                    .collect();
                self.commit_outcomes(phase, outcomes, on_done, model_of, progress)?;
            }
            if rest.is_empty() {
                return Ok(());
            }
            tracing::info!(
                phase,
                writes = rest.len(),
                attempt = tries,
                "writes whose answer was lost did not land: sending them again"
            );
            match execute(self.dest, rest.clone(), answer_hash).await {
                Ok(outcomes) => {
                    crash_point(phase);
                    return self.commit_outcomes(phase, outcomes, on_done, model_of, progress);
                }
                Err(e) if e.answer_lost() && tries < self.dest.max_retries() => batch = rest,
                Err(e) => return Err(e),
            }
        }
    }

    /// The synced entries (model, source id) whose own relations link to one of `entries` in
    /// the source, in any synced stage: read from the source through the reverse fields.
    async fn owners_of(
        &self,
        entries: &[(usize, String)],
    ) -> Result<BTreeMap<(usize, String), BTreeSet<String>>, SyncError> {
        let mut owners: BTreeMap<(usize, String), BTreeSet<String>> = BTreeMap::new();
        let stages: Vec<String> = std::iter::once("DRAFT".to_string())
            .chain(self.prepared.stages.iter().cloned())
            .collect();
        for (m, shape) in self.prepared.shapes.iter().enumerate() {
            let fields: Vec<&crate::model::Field> = shape
                .reverse
                .iter()
                .copied()
                .filter(|f| {
                    f.relation()
                        .is_some_and(|r| r.targets.iter().any(|t| self.model_index(t).is_some()))
                })
                .collect();
            if fields.is_empty() {
                continue;
            }
            let mut ids: Vec<&String> = entries
                .iter()
                .filter(|(mm, _)| *mm == m)
                .map(|(_, id)| id)
                .collect();
            ids.sort();
            ids.dedup();
            let selection: Vec<String> = fields
                .iter()
                .map(|f| super::shape::selection(f, self.prepared.content))
                .collect();
            for chunk in ids.chunks(super::read::PAGE_SIZE) {
                for stage in &stages {
                    let query = format!(
                        "query StagesyncOwners($ids: [ID!]) {{ list: {}(where: {{ id_in: $ids }}, stage: {stage}, first: {}) {{ id {} }} }}",
                        shape.model.plural,
                        super::read::PAGE_SIZE,
                        selection.join(" "),
                    );
                    let response = self
                        .source
                        .graphql(&query, json!({ "ids": chunk }), Idempotency::Safe)
                        .await
                        .map_err(|source| {
                            SyncError::client(self.source.name().to_owned(), source)
                        })?;
                    for node in listed(&response.data) {
                        for f in &fields {
                            let targets = match node.get(&f.name) {
                                Some(Value::Array(list)) => list.clone(),
                                Some(Value::Null) | None => Vec::new(),
                                Some(one) => vec![one.clone()],
                            };
                            for t in targets {
                                let (Some(ty), Some(id)) = (
                                    t.get("__typename").and_then(Value::as_str),
                                    t.get("id").and_then(Value::as_str),
                                ) else {
                                    continue;
                                };
                                if let (Some(owner), Some(linked)) =
                                    (self.model_index(ty), node.get("id").and_then(Value::as_str))
                                {
                                    owners
                                        .entry((owner, id.to_owned()))
                                        .or_default()
                                        .insert(format!("{}:{linked}", shape.model.name));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(owners)
    }
}
