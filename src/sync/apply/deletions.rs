//! Deletions: tracked entries the source no longer has, the guard that refuses more than the
//! configured maximum before anything is written, and the deletes (or, with
//! `deletion_policy = "keep"`, forgetting them).

use std::collections::HashSet;

use crate::config::DeletionPolicy;
use crate::sync::engine::Engine;
use crate::sync::plan::Deletions;
use crate::sync::write::{Op, OpKind, Outcome};
use crate::sync::SyncError;

impl Engine<'_> {
    pub(in crate::sync) fn deletion_candidates(
        &self,
        m: usize,
        seen: &HashSet<String>,
    ) -> Result<Vec<(String, Option<String>)>, SyncError> {
        let name = &self.prepared.shapes[m].model.name;
        let mut out = Vec::new();
        for item in self.store.nodes_of(name) {
            let (id, record) = item?;
            if !seen.contains(&id) {
                out.push((id, record.dest_id));
            }
        }
        Ok(out)
    }

    pub(in crate::sync) fn guard_deletions(
        &self,
        deletions: &[Deletions],
    ) -> Result<(), SyncError> {
        if self.config.deletion_policy == DeletionPolicy::Keep || self.opts.allow_mass_delete {
            return Ok(());
        }
        for (m, list) in deletions {
            if list.is_empty() {
                continue;
            }
            let name = &self.prepared.shapes[*m].model.name;
            let tracked = self.store.nodes_of(name).count() as u64;
            let count = list.len() as u64;
            if !self.config.max_deletions.allows(count, tracked) {
                return Err(SyncError::DeletionGuard {
                    model: name.clone(),
                    count,
                    tracked,
                    limit: self.config.max_deletions.describe(),
                });
            }
        }
        Ok(())
    }

    pub(in crate::sync) async fn apply_deletions(
        &mut self,
        deletions: &[Deletions],
    ) -> Result<(), SyncError> {
        let mut ops = Vec::new();
        for (m, list) in deletions {
            let name = self.prepared.shapes[*m].model.name.clone();
            let mut forget = Vec::new();
            for (id, dest) in list {
                match (self.config.deletion_policy, dest) {
                    (DeletionPolicy::Mirror, Some(dest_id)) => ops.push((
                        *m,
                        Op {
                            model: name.clone(),
                            source_id: id.clone(),
                            kind: OpKind::Delete {
                                dest_id: dest_id.clone(),
                            },
                        },
                    )),
                    _ => forget.push(id.clone()),
                }
            }
            self.store.forget(&name, &forget)?;
        }
        let mut forgotten: Vec<(String, String)> = Vec::new();
        self.run_ops("deletions", ops, |engine, m, op, outcome| {
            if let Outcome::Done(_) = outcome {
                engine.record.models[m].deleted += 1;
                forgotten.push((op.model.clone(), op.source_id.clone()));
            }
            Ok(None)
        })
        .await?;
        for (model, id) in forgotten {
            self.store.forget(&model, &[id])?;
        }
        Ok(())
    }
}
