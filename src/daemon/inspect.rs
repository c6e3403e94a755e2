//! Read-only views of the store for `stagesync checkpoints` and `status`: stored runs, one run
//! in detail, per-model tracking, one entry. The same views answer on the control socket (while
//! a daemon holds the store) and from a directly opened store, so both print alike.

use crate::render::rfc3339;
use serde::{Deserialize, Serialize};

use crate::store::{
    EndpointCounts, EntryFailure, Hashes, ModelCounts, RunRecord, RunStatus, Store, StoreError,
};

/// Which view of the store to produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum View {
    List,
    Show { run: u64 },
    Models,
    Entry { model: String, id: String },
}

/// A view that cannot be produced.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no run {run} is stored; `stagesync checkpoints` lists the stored runs")]
    NoSuchRun { run: u64 },
    #[error(
        "no entry {model} {id} is tracked; `stagesync checkpoints models` lists tracked models \
         (ids are source ids)"
    )]
    NoSuchEntry { model: String, id: String },
}

/// The answer to a [`View`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ViewOutput {
    Runs(Vec<RunSummary>),
    Run(Box<RunDetail>),
    Models(Vec<ModelView>),
    Entry(Box<EntryView>),
}

/// Counts of a run, summed over its models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
    pub edges: u64,
    pub published: u64,
    pub unpublished: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: u64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_secs: Option<f64>,
    /// `incremental`, `full` or `dry-run`.
    pub mode: String,
    /// `running`, `interrupted`, `succeeded`, `completed-with-failures` or `failed`.
    pub status: String,
    /// Why a run failed.
    pub error: Option<String>,
    pub counts: Totals,
    /// Requests to source and destination together.
    pub requests: u64,
}

/// Where an unfinished run stopped, and what the next run does about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeView {
    pub phase: String,
    pub model: String,
    pub pages_read: u64,
    pub entries_read: u64,
    pub batches_acked: u64,
    pub writes_pending: u64,
    /// Entries seen but not acknowledged, across models: what the next run still writes.
    pub entries_pending: u64,
    pub next_run: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    pub models: Vec<ModelCounts>,
    pub failures: Vec<EntryFailure>,
    pub source: EndpointCounts,
    pub destination: EndpointCounts,
    pub unfinished: Option<ResumeView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelView {
    pub model: String,
    /// Entries the store tracks.
    pub tracked: u64,
    /// Seen in the source but not (fully) acknowledged by the destination.
    pub pending: u64,
    pub last_acked_run: Option<u64>,
    /// The last run that read a change of one of its entries.
    pub last_change_run: Option<u64>,
    pub last_change_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashesView {
    pub content: Option<String>,
    pub edges: Option<String>,
    pub publication: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryView {
    pub model: String,
    pub source_id: String,
    pub destination_id: Option<String>,
    pub seen: Option<HashesView>,
    pub acknowledged: HashesView,
    pub acknowledged_locales: Vec<String>,
    pub pending: bool,
    /// The last run that read a change of it.
    pub changed_run: Option<u64>,
    /// The last run that wrote it to the destination.
    pub acked_run: Option<u64>,
}

/// Produces a view. `active_run` is the run a live daemon is performing (not "interrupted").
/// `store` is `None` when no store exists yet: lists are empty, lookups fail.
pub fn view(
    store: Option<&Store>,
    view: &View,
    active_run: Option<u64>,
) -> Result<ViewOutput, InspectError> {
    Ok(match view {
        View::List => ViewOutput::Runs(match store {
            Some(store) => runs(store, usize::MAX, active_run)?,
            None => Vec::new(),
        }),
        View::Show { run } => {
            let store = store.ok_or(InspectError::NoSuchRun { run: *run })?;
            ViewOutput::Run(Box::new(run_detail(store, *run, active_run)?))
        }
        View::Models => ViewOutput::Models(match store {
            Some(store) => models(store)?,
            None => Vec::new(),
        }),
        View::Entry { model, id } => {
            let no_entry = || InspectError::NoSuchEntry {
                model: model.clone(),
                id: id.clone(),
            };
            let store = store.ok_or_else(no_entry)?;
            ViewOutput::Entry(Box::new(entry(store, model, id)?.ok_or_else(no_entry)?))
        }
    })
}

/// Stored runs, newest first.
pub fn runs(
    store: &Store,
    limit: usize,
    active_run: Option<u64>,
) -> Result<Vec<RunSummary>, StoreError> {
    Ok(store
        .runs(limit)?
        .iter()
        .map(|r| summary(r, active_run))
        .collect())
}

pub fn summary(run: &RunRecord, active_run: Option<u64>) -> RunSummary {
    let mut counts = Totals::default();
    for m in &run.models {
        counts.read += m.read;
        counts.created += m.created;
        counts.updated += m.updated;
        counts.unchanged += m.unchanged;
        counts.deleted += m.deleted;
        counts.edges += m.edges;
        counts.published += m.published;
        counts.unpublished += m.unpublished;
        counts.failed += m.failed;
    }
    let (status, error) = match &run.status {
        RunStatus::Running if active_run == Some(run.id) => ("running", None),
        RunStatus::Running => ("interrupted", None),
        RunStatus::Succeeded => ("succeeded", None),
        RunStatus::CompletedWithFailures(_) => ("completed-with-failures", None),
        RunStatus::Failed(why) => ("failed", Some(why.clone())),
    };
    RunSummary {
        id: run.id,
        started_at: rfc3339(run.started_at),
        finished_at: run.finished_at.map(rfc3339),
        duration_secs: run
            .finished_at
            .map(|end| end.saturating_sub(run.started_at) as f64 / 1000.0),
        mode: run.mode.as_str().to_owned(),
        status: status.to_owned(),
        error,
        counts,
        requests: run.source.requests + run.destination.requests,
    }
}

pub fn run_detail(
    store: &Store,
    id: u64,
    active_run: Option<u64>,
) -> Result<RunDetail, InspectError> {
    let run = store.run(id)?.ok_or(InspectError::NoSuchRun { run: id })?;
    let unfinished = match (&run.status, store.checkpoint()?) {
        (RunStatus::Running, Some(cp)) if cp.run == id => {
            let mut entries_pending = 0;
            for model in store.tracked_models()? {
                for item in store.nodes_of(&model) {
                    if item?.1.is_pending() {
                        entries_pending += 1;
                    }
                }
            }
            let next_run = if active_run == Some(id) {
                "in progress".to_owned()
            } else {
                format!(
                    "the next run reads the source again and compares it with what the \
                     destination acknowledged: the {} acknowledged batches are not written again; \
                     the {entries_pending} entries seen but not acknowledged are written",
                    cp.batches_acked
                )
            };
            Some(ResumeView {
                phase: cp.phase,
                model: cp.model,
                pages_read: cp.pages_read,
                entries_read: cp.entries_read,
                batches_acked: cp.batches_acked,
                writes_pending: cp.writes_pending,
                entries_pending,
                next_run,
            })
        }
        _ => None,
    };
    Ok(RunDetail {
        summary: summary(&run, active_run),
        models: run.models,
        failures: run.failures,
        source: run.source,
        destination: run.destination,
        unfinished,
    })
}

pub fn models(store: &Store) -> Result<Vec<ModelView>, StoreError> {
    let mut out = Vec::new();
    for model in store.tracked_models()? {
        let mut view = ModelView {
            model: model.clone(),
            tracked: 0,
            pending: 0,
            last_acked_run: None,
            last_change_run: None,
            last_change_at: None,
        };
        for item in store.nodes_of(&model) {
            let (_, record) = item?;
            view.tracked += 1;
            view.pending += u64::from(record.is_pending());
            if record.acked_run > 0 {
                view.last_acked_run = view.last_acked_run.max(Some(record.acked_run));
            }
            if record.changed_run > 0 {
                view.last_change_run = view.last_change_run.max(Some(record.changed_run));
            }
        }
        if let Some(run) = view.last_change_run {
            view.last_change_at = store.run(run)?.map(|r| rfc3339(r.started_at));
        }
        out.push(view);
    }
    Ok(out)
}

pub fn entry(store: &Store, model: &str, id: &str) -> Result<Option<EntryView>, StoreError> {
    let Some(record) = store.node(model, id)? else {
        return Ok(None);
    };
    let nonzero = |run: u64| (run > 0).then_some(run);
    Ok(Some(EntryView {
        model: model.to_owned(),
        source_id: id.to_owned(),
        destination_id: record.dest_id.clone(),
        seen: record.seen.as_ref().map(hashes_view),
        acknowledged: HashesView {
            content: record.acked.content.as_ref().map(hex),
            edges: record.acked.edges.as_ref().map(hex),
            publication: record.acked.publication.as_ref().map(hex),
        },
        acknowledged_locales: record.acked.locales.clone(),
        pending: record.is_pending(),
        changed_run: nonzero(record.changed_run),
        acked_run: nonzero(record.acked_run),
    }))
}

fn hashes_view(h: &Hashes) -> HashesView {
    HashesView {
        content: Some(hex(&h.content)),
        edges: Some(hex(&h.edges)),
        publication: Some(hex(&h.publication)),
    }
}

fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Checkpoint, NodeRecord, RunMode};

    fn record(id: u64, status: RunStatus) -> RunRecord {
        RunRecord {
            id,
            started_at: 1_700_000_000_000 + id as i64 * 60_000,
            finished_at: Some(1_700_000_000_000 + id as i64 * 60_000 + 2_500),
            mode: RunMode::Incremental,
            status,
            models: vec![ModelCounts {
                model: "Talk".into(),
                read: 10,
                created: 3,
                ..Default::default()
            }],
            failures: vec![],
            source: EndpointCounts {
                requests: 4,
                ..Default::default()
            },
            destination: EndpointCounts {
                requests: 2,
                ..Default::default()
            },
        }
    }

    #[test]
    fn views_follow_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.put_run(&record(1, RunStatus::Succeeded)).unwrap();
        store.put_run(&record(2, RunStatus::Running)).unwrap();
        store
            .put_checkpoint(&Checkpoint {
                run: 2,
                phase: "content".into(),
                model: "Talk".into(),
                batches_acked: 3,
                ..Default::default()
            })
            .unwrap();
        let mut pending = NodeRecord {
            changed_run: 2,
            acked_run: 1,
            ..Default::default()
        };
        pending.seen = Some(Hashes::default());
        store.commit_acks(&[("Talk", "a", &pending)]).unwrap();

        let list = runs(&store, 10, None).unwrap();
        assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(list[0].status, "interrupted");
        assert_eq!(list[1].requests, 6);
        assert_eq!(list[1].duration_secs, Some(2.5));
        assert_eq!(list[1].counts.created, 3);

        let detail = run_detail(&store, 2, None).unwrap();
        let resume = detail.unfinished.unwrap();
        assert_eq!(
            (resume.phase.as_str(), resume.entries_pending),
            ("content", 1)
        );
        assert!(run_detail(&store, 1, None).unwrap().unfinished.is_none());
        assert!(matches!(
            run_detail(&store, 9, None),
            Err(InspectError::NoSuchRun { run: 9 })
        ));

        let m = models(&store).unwrap();
        assert_eq!((m[0].tracked, m[0].pending), (1, 1));
        assert_eq!(m[0].last_change_run, Some(2));
        assert_eq!(m[0].last_acked_run, Some(1));

        let e = entry(&store, "Talk", "a").unwrap().unwrap();
        assert!(e.pending);
        assert_eq!(e.seen.unwrap().content.unwrap().len(), 64);
        assert!(entry(&store, "Talk", "b").unwrap().is_none());
    }
}
