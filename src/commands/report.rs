//! A run record as JSON (`sync --json`, `plan --json`); its table form is `render::run_table`.

use serde_json::{json, Value};

use crate::render::rfc3339;
use crate::store::RunRecord;

pub fn run_json(record: &RunRecord, plan: Option<&str>) -> Value {
    json!({
        "run": record.id,
        "mode": record.mode.as_str(),
        "status": record.status.describe(),
        "started_at": rfc3339(record.started_at),
        "finished_at": record.finished_at.map(rfc3339),
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
