//! The state one run carries through its phases (config, store, both clients, the run record
//! and checkpoint) and the small lookups every phase shares. The phases themselves are in
//! `scan` (read + plan), `apply/*` (writes) and `run` (their order and the run's bookkeeping).

use tracing::warn;

use super::canonical::Entry;
use super::{Prepared, RunOptions, SyncError};
use crate::config::Config;
use crate::hygraph::Client;
use crate::store::{Checkpoint, EntryFailure, NodeRecord, RunRecord, Store};

pub(super) struct Engine<'a> {
    pub(super) config: &'a Config,
    pub(super) store: &'a Store,
    pub(super) prepared: &'a Prepared<'a>,
    pub(super) source: &'a Client,
    pub(super) dest: &'a Client,
    pub(super) opts: &'a RunOptions,
    pub(super) record: &'a mut RunRecord,
    pub(super) checkpoint: Checkpoint,
    /// Writes per phase, in the order phases ran: logged once per phase at the end.
    pub(super) phase_writes: Vec<(String, usize)>,
    /// Entries published or unpublished in the destination since the last side-effect check.
    pub(super) touched: Vec<(usize, String)>,
}

impl Engine<'_> {
    pub(super) fn cancelled(&self) -> bool {
        *self.opts.cancel.borrow()
    }

    pub(super) fn set_phase(&mut self, phase: &str, model: &str) -> Result<(), SyncError> {
        self.checkpoint.phase = phase.to_owned();
        self.checkpoint.model = model.to_owned();
        self.save_checkpoint()
    }

    pub(super) fn save_checkpoint(&self) -> Result<(), SyncError> {
        if let Some(live) = &self.opts.live {
            if let Ok(mut guard) = live.lock() {
                *guard = Some(self.checkpoint.clone());
            }
        }
        self.store.put_checkpoint(&self.checkpoint)?;
        Ok(())
    }

    pub(super) fn fail(&mut self, model: usize, id: &str, phase: &str, message: String) {
        warn!(model = %self.prepared.shapes[model].model.name, id, phase, %message, "entry failed");
        self.record.models[model].failed += 1;
        self.record.failures.push(EntryFailure {
            model: self.prepared.shapes[model].model.name.clone(),
            source_id: id.to_owned(),
            phase: phase.to_owned(),
            message,
        });
    }

    pub(super) fn model_index(&self, name: &str) -> Option<usize> {
        self.prepared
            .shapes
            .iter()
            .position(|s| s.model.name == name)
    }

    pub(super) fn dest_id(&self, m: usize, id: &str) -> Option<String> {
        self.store
            .node(&self.prepared.shapes[m].model.name, id)
            .ok()
            .flatten()
            .and_then(|r| r.dest_id)
    }

    pub(super) fn load(&self, m: usize, id: &str) -> Result<(NodeRecord, Entry), SyncError> {
        let name = &self.prepared.shapes[m].model.name;
        let record = self.store.node(name, id)?.unwrap_or_default();
        let entry = self
            .store
            .snapshot(name, id)?
            .and_then(|b| Entry::from_bytes(&b))
            .ok_or_else(|| SyncError::MissingSnapshot {
                model: name.clone(),
                id: id.to_owned(),
            })?;
        Ok((record, entry))
    }

    pub(super) fn has_failed(&self, m: usize, id: &str) -> bool {
        let name = &self.prepared.shapes[m].model.name;
        self.record
            .failures
            .iter()
            .any(|f| f.source_id == id && &f.model == name)
    }
}
