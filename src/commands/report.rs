//! A run record and a plan as JSON (`sync --json`, `plan --json`); their table forms are
//! `render::run_table` and `render::plan_table`.

use serde_json::{json, Value};

use crate::render::rfc3339;
use crate::store::RunRecord;
use crate::sync::Plan;

pub fn run_json(record: &RunRecord, plan: Option<&Plan>) -> Value {
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
        "plan": plan.map(plan_json),
    })
}

/// A plan as data: per model the counts a run would report, and with `--explain` each entry
/// and why.
pub fn plan_json(plan: &Plan) -> Value {
    json!({
        "models": plan.models.iter().map(|m| json!({
            "model": m.model, "created": m.created, "updated": m.updated, "unchanged": m.unchanged,
            "deleted": m.deleted, "edges": m.edges, "publication": m.publication,
            "published": m.published, "unpublished": m.unpublished, "checked": m.checked,
            "entries": m.entries.iter().map(|e| json!({
                "id": e.id, "action": e.action.as_str(), "why": e.why,
            })).collect::<Vec<_>>(),
            "skipped": m.skipped.iter().map(|s| json!({
                "field": s.field, "reason": s.reason,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn endpoint(c: &crate::store::EndpointCounts) -> Value {
    json!({
        "requests": c.requests, "mutations": c.mutations, "bytes_sent": c.bytes_sent,
        "bytes_received": c.bytes_received, "retries": c.retries, "rate_limited": c.rate_limited,
    })
}
