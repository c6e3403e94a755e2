//! The text forms every command shares: one table style, one way to write a duration, one way to
//! write a time. Pure formatting; what goes into a table is decided by its caller.

use std::time::Duration;

use crate::store::{ModelCounts, RunRecord};
use crate::sync::Plan;

/// The columns of a run report and of a plan, in this order and with these names in both: a
/// plan's counts are what the run would report.
pub const COUNT_COLUMNS: [&str; 6] = [
    "created",
    "updated",
    "unchanged",
    "deleted",
    "edges",
    "published",
];

/// Columns sized to their widest cell, two spaces apart, headers in upper case; a column whose
/// cells are all numbers (or `-`) is right-aligned.
pub fn table<H: AsRef<str>>(headers: &[H], rows: &[Vec<String>]) -> String {
    let headers: Vec<String> = headers.iter().map(|h| h.as_ref().to_uppercase()).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let mut numeric = vec![true; headers.len()];
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(headers.len()) {
            widths[i] = widths[i].max(cell.chars().count());
            numeric[i] &= cell == "-" || cell.chars().all(|c| c.is_ascii_digit());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths[i];
            if numeric[i] && i > 0 {
                text.push_str(&format!("{cell:>w$}  "));
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().map(String::as_str));
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

/// A run's report: a heading line, one row per model, failures, request counts.
/// `published` counts publication changes (publish and unpublish).
pub fn run_table(record: &RunRecord) -> String {
    let mut out = format!(
        "run {} ({}): {} in {}\n",
        record.id,
        record.mode.as_str(),
        record.status.describe(),
        duration_ms(
            record.started_at,
            record.finished_at.unwrap_or(record.started_at)
        ),
    );
    out.push_str(&models_table(&record.models));
    for f in record.failures.iter().take(50) {
        out.push_str(&format!(
            "failed: {} {} ({}): {}\n",
            f.model, f.source_id, f.phase, f.message
        ));
    }
    if record.failures.len() > 50 {
        out.push_str(&format!(
            "... and {} more failed entries (`stagesync checkpoints show {}` lists them all)\n",
            record.failures.len() - 50,
            record.id
        ));
    }
    out.push_str(&format!(
        "requests: source {} ({} bytes received), destination {} ({} mutations, {} bytes sent, {} retries, {} rate-limited)\n",
        record.source.requests, record.source.bytes_received, record.destination.requests,
        record.destination.mutations, record.destination.bytes_sent, record.destination.retries,
        record.destination.rate_limited
    ));
    out
}

/// A plan: one row per model in the columns of a run's report, then one line per entry and why
/// (with `--explain`), then the fields not synced.
pub fn plan_table(plan: &Plan) -> String {
    let headers: Vec<&str> = std::iter::once("model").chain(COUNT_COLUMNS).collect();
    let rows: Vec<Vec<String>> = plan
        .models
        .iter()
        .map(|m| {
            std::iter::once(m.model.clone())
                .chain(
                    [
                        m.created,
                        m.updated,
                        m.unchanged,
                        m.deleted,
                        m.edges,
                        m.publication,
                    ]
                    .iter()
                    .map(u64::to_string),
                )
                .collect()
        })
        .collect();
    let mut out = table(&headers, &rows);
    for m in &plan.models {
        for e in &m.entries {
            out.push_str(&format!("  {} {}: {}\n", m.model, e.id, e.why.join(", ")));
        }
        for s in &m.skipped {
            out.push_str(&format!(
                "  skipped {}.{}: {}\n",
                m.model, s.field, s.reason
            ));
        }
    }
    out
}

/// Per model counts of a run, in the columns of [`COUNT_COLUMNS`] between `read` and `failed`.
pub fn models_table(models: &[ModelCounts]) -> String {
    let headers: Vec<&str> = std::iter::once("model")
        .chain(std::iter::once("read"))
        .chain(COUNT_COLUMNS)
        .chain(std::iter::once("failed"))
        .collect();
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|m| {
            std::iter::once(m.model.clone())
                .chain(
                    [
                        m.read,
                        m.created,
                        m.updated,
                        m.unchanged,
                        m.deleted,
                        m.edges,
                        m.published + m.unpublished,
                        m.failed,
                    ]
                    .iter()
                    .map(u64::to_string),
                )
                .collect()
        })
        .collect();
    table(&headers, &rows)
}

/// Entries per model on both sides (`verify`).
pub fn sides_table(models: &[(String, usize, usize)]) -> String {
    let rows: Vec<Vec<String>> = models
        .iter()
        .map(|(model, source, dest)| vec![model.clone(), source.to_string(), dest.to_string()])
        .collect();
    table(&["model", "source", "destination"], &rows)
}

/// A duration as a person reads it: `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 07 min`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{} min {:02} s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{} h {:02} min", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// The time between two Unix-millisecond instants, written by [`duration`].
pub fn duration_ms(start_ms: i64, end_ms: i64) -> String {
    duration(Duration::from_millis(
        end_ms.saturating_sub(start_ms).max(0) as u64,
    ))
}

/// Unix milliseconds as RFC 3339 UTC, to the second.
pub fn rfc3339(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| format!("@{unix_ms}ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_columns_and_right_aligns_numbers() {
        let t = table(
            &["model", "read"],
            &[
                vec!["AVeryLongModelNameIndeed".into(), "1".into()],
                vec!["x".into(), "220".into()],
            ],
        );
        assert_eq!(
            t,
            "MODEL                     READ\nAVeryLongModelNameIndeed     1\nx                          220\n"
        );
    }

    #[test]
    fn durations_read_the_same_everywhere() {
        assert_eq!(duration(Duration::from_millis(87)), "87 ms");
        assert_eq!(duration(Duration::from_millis(12_449)), "12.4 s");
        assert_eq!(duration(Duration::from_secs(185)), "3 min 05 s");
        assert_eq!(duration(Duration::from_secs(7_620)), "2 h 07 min");
        assert_eq!(duration_ms(1_000, 1_087), "87 ms");
        assert_eq!(duration_ms(5, 1), "0 ms");
    }

    #[test]
    fn a_plan_is_a_count_table_then_one_line_per_entry_and_skipped_field() {
        use crate::sync::{Action, EntryPlan, ModelPlan, Plan, SkippedField};
        let plan = Plan {
            models: vec![ModelPlan {
                model: "Talk".into(),
                created: 1,
                updated: 2,
                unchanged: 30,
                publication: 1,
                published: 1,
                entries: vec![EntryPlan {
                    id: "t1".into(),
                    action: Action::Write,
                    why: vec!["title".into(), "stage PUBLISHED".into()],
                }],
                skipped: vec![SkippedField {
                    field: "rating".into(),
                    reason: "the destination has no such field".into(),
                }],
                ..Default::default()
            }],
        };
        assert_eq!(
            plan_table(&plan),
            "MODEL  CREATED  UPDATED  UNCHANGED  DELETED  EDGES  PUBLISHED\n\
             Talk         1        2         30        0      0          1\n  \
             Talk t1: title, stage PUBLISHED\n  \
             skipped Talk.rating: the destination has no such field\n"
        );
    }
}
