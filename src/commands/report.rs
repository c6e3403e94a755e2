//! Rendering run records: the human table (stderr) and JSON (stdout).

use serde_json::{json, Value};

use crate::store::RunRecord;

pub fn run_json(record: &RunRecord, plan: Option<&str>) -> Value {
    json!({
        "run": record.id,
        "mode": record.mode.as_str(),
        "status": record.status.describe(),
        "started_at": crate::commands::rfc3339(record.started_at),
        "finished_at": record.finished_at.map(crate::commands::rfc3339),
        "duration_ms": record.finished_at.map(|f| f - record.started_at),
        "models": record.models.iter().map(|m| json!({
            "model": m.model, "read": m.read, "created": m.created, "updated": m.updated,
            "unchanged": m.unchanged, "skipped_unparsed": m.skipped_unparsed, "deleted": m.deleted, "edges": m.edges,
            "published": m.published, "unpublished": m.unpublished, "failed": m.failed,
        })).collect::<Vec<_>>(),
        "failures": record.failures.iter().map(|f| json!({
            "model": f.model, "id": f.source_id, "phase": f.phase, "message": f.message,
        })).collect::<Vec<_>>(),
        "source": endpoint(&record.source),
        "destination": endpoint(&record.destination),
        "plan": plan,
    })
}

fn endpoint(c: &crate::store::EndpointCounts) -> Value {
    json!({
        "requests": c.requests, "mutations": c.mutations, "bytes_sent": c.bytes_sent,
        "bytes_received": c.bytes_received, "retries": c.retries, "rate_limited": c.rate_limited,
    })
}

pub fn run_table(record: &RunRecord) -> String {
    let mut out = format!(
        "run {} ({}) {} in {:.1}s\n{:<24} {:>7} {:>8} {:>8} {:>10} {:>8} {:>7} {:>10} {:>7}\n",
        record.id,
        record.mode.as_str(),
        record.status.describe(),
        record.finished_at.map_or(0, |f| f - record.started_at) as f64 / 1000.0,
        "model",
        "read",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "edges",
        "published",
        "failed"
    );
    for m in &record.models {
        out.push_str(&format!(
            "{:<24} {:>7} {:>8} {:>8} {:>10} {:>8} {:>7} {:>10} {:>7}\n",
            m.model,
            m.read,
            m.created,
            m.updated,
            m.unchanged,
            m.deleted,
            m.edges,
            m.published + m.unpublished,
            m.failed
        ));
    }
    for f in record.failures.iter().take(50) {
        out.push_str(&format!(
            "failed: {} {} ({}): {}\n",
            f.model, f.source_id, f.phase, f.message
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
