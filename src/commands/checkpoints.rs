//! `stagesync checkpoints [list|show RUN|models|entry MODEL ID] [--json]`: the stored runs and
//! tracking state, through the daemon's socket when one runs, else from the store.

use crate::cli::{CheckpointsArgs, CheckpointsView};
use crate::daemon::control::Request;
use crate::daemon::inspect::{self, EntryView, ModelView, RunDetail, RunSummary, View, ViewOutput};
use crate::daemon::location::Reach;
use crate::render::{duration, table};

use super::Exit;

pub fn run(args: CheckpointsArgs) -> anyhow::Result<Exit> {
    let location = super::locate(&args.config)?;
    let view = match args.view {
        None | Some(CheckpointsView::List) => View::List,
        Some(CheckpointsView::Show { run }) => View::Show { run },
        Some(CheckpointsView::Models) => View::Models,
        Some(CheckpointsView::Entry { model, id }) => View::Entry { model, id },
    };
    let output = match location.reach(false)? {
        Reach::Daemon(client) => {
            let request = Request::Checkpoints { view: view.clone() };
            match &view {
                View::List => ViewOutput::Runs(client.request(&request)?),
                View::Show { .. } => ViewOutput::Run(client.request(&request)?),
                View::Models => ViewOutput::Models(client.request(&request)?),
                View::Entry { .. } => ViewOutput::Entry(client.request(&request)?),
            }
        }
        Reach::Store(store) => inspect::view(store.as_ref(), &view, None)?,
    };
    if args.json {
        super::print_json(match &output {
            ViewOutput::Runs(runs) => serde_json::json!({ "runs": runs }),
            ViewOutput::Run(run) => serde_json::to_value(run)?,
            ViewOutput::Models(models) => serde_json::json!({ "models": models }),
            ViewOutput::Entry(entry) => serde_json::to_value(entry)?,
        })?;
    } else {
        print!(
            "{}",
            match &output {
                ViewOutput::Runs(runs) => runs_text(runs),
                ViewOutput::Run(run) => run_text(run),
                ViewOutput::Models(models) => models_text(models),
                ViewOutput::Entry(entry) => entry_text(entry),
            }
        );
    }
    Ok(Exit::Ok)
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_owned(), T::to_string)
}

fn run_duration(secs: Option<f64>) -> String {
    secs.map_or_else(
        || "-".into(),
        |s| duration(std::time::Duration::from_secs_f64(s.max(0.0))),
    )
}

pub(super) fn runs_table(runs: &[RunSummary]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.started_at.clone(),
                run_duration(r.duration_secs),
                r.mode.clone(),
                r.status.clone(),
                r.counts.read.to_string(),
                r.counts.created.to_string(),
                r.counts.updated.to_string(),
                r.counts.deleted.to_string(),
                r.counts.failed.to_string(),
                r.requests.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "RUN", "STARTED", "DURATION", "MODE", "STATUS", "READ", "CREATED", "UPDATED",
            "DELETED", "FAILED", "REQUESTS",
        ],
        &rows,
    )
}

fn runs_text(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs stored yet\n".into();
    }
    runs_table(runs)
}

fn run_text(run: &RunDetail) -> String {
    let s = &run.summary;
    let mut out = format!("run {}: {}, {}\n", s.id, s.mode, s.status);
    out.push_str(&format!("started   {}\n", s.started_at));
    out.push_str(&format!("finished  {}\n", opt(&s.finished_at)));
    out.push_str(&format!("duration  {}\n", run_duration(s.duration_secs)));
    if let Some(error) = &s.error {
        out.push_str(&format!("error     {error}\n"));
    }
    for (name, c) in [("source", &run.source), ("destination", &run.destination)] {
        out.push_str(&format!(
            "{name:<11} {} requests, {} mutations, {} bytes sent, {} bytes received, {} retries, {} rate-limited\n",
            c.requests, c.mutations, c.bytes_sent, c.bytes_received, c.retries, c.rate_limited
        ));
    }
    if !run.models.is_empty() {
        out.push('\n');
        out.push_str(&crate::render::models_table(&run.models));
    }
    if !run.failures.is_empty() {
        out.push_str(&format!("\n{} failed entries:\n", run.failures.len()));
        for f in &run.failures {
            out.push_str(&format!(
                "  {} {} ({}): {}\n",
                f.model, f.source_id, f.phase, f.message
            ));
        }
    }
    if let Some(r) = &run.unfinished {
        out.push_str(&format!(
            "\nunfinished: stopped in phase `{}` at model {}: {} pages and {} entries read, {} batches acknowledged, {} writes pending, {} entries seen but not acknowledged\nnext run: {}\n",
            r.phase, r.model, r.pages_read, r.entries_read, r.batches_acked, r.writes_pending,
            r.entries_pending, r.next_run
        ));
    }
    out
}

fn models_text(models: &[ModelView]) -> String {
    if models.is_empty() {
        return "no entries tracked yet\n".into();
    }
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            vec![
                m.model.clone(),
                m.tracked.to_string(),
                m.pending.to_string(),
                opt(&m.last_acked_run),
                opt(&m.last_change_run),
                opt(&m.last_change_at),
            ]
        })
        .collect();
    table(
        &[
            "MODEL",
            "TRACKED",
            "PENDING",
            "LAST-ACKED-RUN",
            "LAST-CHANGE-RUN",
            "LAST-CHANGE",
        ],
        &rows,
    )
}

fn entry_text(e: &EntryView) -> String {
    let mut out = format!("{} {}\n", e.model, e.source_id);
    out.push_str(&format!("destination id   {}\n", opt(&e.destination_id)));
    let seen = e.seen.as_ref();
    for (part, seen, acked) in [
        (
            "content",
            seen.and_then(|h| h.content.clone()),
            &e.acknowledged.content,
        ),
        (
            "edges",
            seen.and_then(|h| h.edges.clone()),
            &e.acknowledged.edges,
        ),
        (
            "publication",
            seen.and_then(|h| h.publication.clone()),
            &e.acknowledged.publication,
        ),
    ] {
        out.push_str(&format!("{part:<12} seen   {}\n", opt(&seen)));
        out.push_str(&format!("{:<12} acked  {}\n", "", opt(acked)));
    }
    out.push_str(&format!(
        "locales          {}\n",
        if e.acknowledged_locales.is_empty() {
            "-".to_owned()
        } else {
            e.acknowledged_locales.join(", ")
        }
    ));
    out.push_str(&format!(
        "pending          {}\n",
        if e.pending { "yes" } else { "no" }
    ));
    out.push_str(&format!("last changed in  run {}\n", opt(&e.changed_run)));
    out.push_str(&format!("last written in  run {}\n", opt(&e.acked_run)));
    out
}
