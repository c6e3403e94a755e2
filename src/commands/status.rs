//! `stagesync status [--json]`: the daemon's state, its current run with progress, the last runs
//! and the next scheduled time; from the store when no daemon runs.

use crate::cli::StatusArgs;
use crate::daemon::control::Request;
use crate::daemon::location::Reach;
use crate::daemon::status::{self, StatusView};

use super::Exit;

pub fn run(args: StatusArgs) -> anyhow::Result<Exit> {
    let location = super::locate(&args.config)?;
    let view: StatusView = match location.reach(false)? {
        Reach::Daemon(client) => client.request(&Request::Status)?,
        Reach::Store(store) => status::offline_view(store.as_ref(), location.schedule.as_ref())?,
    };
    if args.json {
        super::print_json(&view)?;
    } else {
        print!("{}", text(&view));
    }
    Ok(Exit::Ok)
}

fn text(v: &StatusView) -> String {
    let mut out = format!("daemon          {}", v.daemon.as_str());
    if let (Some(pid), Some(since)) = (v.pid, &v.since) {
        out.push_str(&format!(" (pid {pid}, since {since})"));
    }
    out.push('\n');
    let line = |out: &mut String, key: &str, value: &Option<String>| {
        if let Some(value) = value {
            out.push_str(&format!("{key:<15} {value}\n"));
        }
    };
    line(&mut out, "schedule", &v.schedule);
    line(&mut out, "next scheduled", &v.next_scheduled);
    if let Some(c) = &v.current_run {
        let run = c.run.map_or_else(String::new, |id| format!("run {id}, "));
        out.push_str(&format!(
            "current run     {run}{} ({}), started {}\n",
            c.mode, c.reason, c.started_at
        ));
        if let Some(phase) = &c.phase {
            out.push_str(&format!(
                "progress        phase {phase}, model {}: {} pages, {} entries read, {} batches acknowledged, {} writes pending\n",
                c.model.as_deref().unwrap_or("-"),
                c.pages_read,
                c.entries_read,
                c.batches_acked,
                c.writes_pending
            ));
        }
    }
    line(&mut out, "queued", &v.queued);
    line(&mut out, "last result", &v.last_result);
    if v.consecutive_failures > 0 {
        out.push_str(&format!(
            "failures        {} in a row\n",
            v.consecutive_failures
        ));
    }
    line(&mut out, "next retry", &v.next_retry);
    if v.skipped_ticks > 0 {
        out.push_str(&format!(
            "skipped ticks   {} (a run was still in progress)\n",
            v.skipped_ticks
        ));
    }
    out.push_str(&format!(
        "last success    {}\n",
        v.last_success.as_deref().unwrap_or("never")
    ));
    if v.last_runs.is_empty() {
        out.push_str("\nno runs stored yet\n");
    } else {
        out.push('\n');
        out.push_str(&super::checkpoints::runs_table(&v.last_runs));
    }
    out
}
