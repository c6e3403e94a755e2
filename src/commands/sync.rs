//! `stagesync sync` and `stagesync plan`: one run, or its plan.

use std::io::IsTerminal;

use crate::cli::{PlanArgs, SyncArgs};
use crate::config::Config;
use crate::store::{RunMode, RunStatus, Store};
use crate::sync::{self, RunOptions};

use super::{report, Exit};

pub fn run(args: SyncArgs) -> anyhow::Result<Exit> {
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
        &args.config,
        mode,
        args.explain,
        args.allow_mass_delete,
        args.json,
    )
}

pub fn plan(args: PlanArgs) -> anyhow::Result<Exit> {
    execute(
        &args.config,
        RunMode::DryRun,
        args.explain,
        false,
        args.json,
    )
}

fn execute(
    config_args: &crate::cli::ConfigArgs,
    mode: RunMode,
    explain: bool,
    allow_mass_delete: bool,
    json: bool,
) -> anyhow::Result<Exit> {
    let config = Config::load(&config_args.config, config_args.state_dir.as_deref())?;
    // A damaged record surfaces as a clear error when the run reads it, before any write:
    // every tracked entry is read (or scanned for deletions) before the apply phase.
    let store = Store::open(&config.state_dir)?;
    let runtime = super::runtime()?;
    let (cancel_tx, cancel) = tokio::sync::watch::channel(false);
    let mut opts = RunOptions::new(mode);
    opts.explain = explain;
    opts.allow_mass_delete = allow_mass_delete;
    opts.progress_bars = std::io::stderr().is_terminal();
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
    if let Some(plan) = &report.plan_text {
        if json {
            println!(
                "{}",
                serde_json::to_string_pretty(&report::run_json(&report.record, Some(plan)))?
            );
        } else {
            eprint!("{plan}");
        }
        return Ok(Exit::Ok);
    }
    if json {
        let mut value = report::run_json(&report.record, None);
        value["process"] = serde_json::json!({ "peak_rss_kb": peak_rss_kb() });
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    eprint!("{}", report::run_table(&report.record));
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
