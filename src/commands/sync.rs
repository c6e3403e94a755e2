//! `stagesync sync` and `stagesync plan`: one run, or its plan. The report or the plan goes to
//! stdout (a table, or JSON with `--json`); logs and progress to stderr.

use crate::cli::{ConfigArgs, PlanArgs, SyncArgs};
use crate::config::Config;
use crate::store::{RunMode, RunStatus, Store};
use crate::sync::{self, RunOptions};

use super::{report, Exit, Output};
use crate::render::{plan_table, run_table};

/// What one invocation asks for.
struct Request<'a> {
    config: &'a ConfigArgs,
    mode: RunMode,
    /// Ignore acknowledged hashes (a full pass, or the plan of one).
    full: bool,
    explain: bool,
    allow_mass_delete: bool,
    json: bool,
}

pub fn run(args: SyncArgs, output: Output) -> anyhow::Result<Exit> {
    let mode = if args.dry_run {
        RunMode::DryRun
    } else if args.full {
        RunMode::Full
    } else if args.repair {
        RunMode::Repair
    } else {
        RunMode::Incremental
    };
    execute(
        Request {
            config: &args.config,
            mode,
            full: args.full,
            explain: args.explain,
            allow_mass_delete: args.allow_mass_delete,
            json: args.json,
        },
        output,
    )
}

pub fn plan(args: PlanArgs, output: Output) -> anyhow::Result<Exit> {
    execute(
        Request {
            config: &args.config,
            mode: RunMode::DryRun,
            full: args.full,
            explain: args.explain,
            allow_mass_delete: false,
            json: args.json,
        },
        output,
    )
}

fn execute(request: Request<'_>, output: Output) -> anyhow::Result<Exit> {
    let config = Config::load(&request.config.config, request.config.state_dir.as_deref())?;
    // A damaged record surfaces as a clear error when the run reads it, before any write:
    // every tracked entry is read (or scanned for deletions) before the apply phase.
    let store = Store::open(&config.state_dir)?;
    let runtime = super::runtime()?;
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    let mut opts = RunOptions::new(request.mode);
    opts.full = request.full;
    opts.explain = request.explain;
    opts.allow_mass_delete = request.allow_mass_delete;
    opts.progress_bars = output.progress;
    opts.cancel = cancel;
    let result = runtime.block_on(async {
        // Ctrl-C / SIGTERM: stop at the next safe point; acknowledged work stays committed.
        tokio::spawn(async move {
            super::shutdown_signal().await;
            tracing::warn!("stopping after the batches in flight (signal received)");
            let _ = cancel_tx.send(true);
        });
        sync::run(&config, &store, opts).await
    });
    store.flush()?;
    let report = result?;
    if let Some(plan) = &report.plan {
        if request.json {
            super::print_json(report::run_json(&report.record, Some(plan)))?;
        } else {
            print!("{}", plan_table(plan));
        }
        return Ok(Exit::Ok);
    }
    if request.json {
        let mut value = report::run_json(&report.record, None);
        value["process"] = serde_json::json!({ "peak_rss_kb": peak_rss_kb() });
        super::print_json(value)?;
    } else {
        print!("{}", run_table(&report.record));
    }
    Ok(match report.record.status {
        RunStatus::CompletedWithFailures(_) => Exit::PartialFailure,
        _ => Exit::Ok,
    })
}

/// This process's peak resident set size (Linux), for the report and the benchmark.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
