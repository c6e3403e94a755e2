//! The sled state: a fixed set of trees with typed keys and bincode records (through `codec`).
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format`, `pair`, `model/<Model>`, `last-success` | format byte, fingerprints, time |
//! | `nodes` | `<Model>\0<source id>` | [`NodeRecord`]: hashes seen and acknowledged, destination id |
//! | `snapshots` | `<Model>\0<source id>` | canonical JSON bytes of the last read |
//! | `runs` | run id, big-endian u64 | [`RunRecord`] |
//! | `checkpoints` | `current` | [`Checkpoint`] of the unfinished run |
//!
//! It does not decide anything about syncing; `sync` does. sled allows one process per store:
//! opening a store another process holds fails with [`StoreError::Locked`].

pub mod codec;
mod records;

use std::path::{Path, PathBuf};

pub use records::*;

use codec::CodecError;

const META_FORMAT: &[u8] = b"format";
const META_PAIR: &[u8] = b"pair";
const META_LAST_SUCCESS: &[u8] = b"last-success";
const CHECKPOINT_KEY: &[u8] = b"current";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {path} is in use by another stagesync process (a running daemon?); \
         use `stagesync status`/`trigger`, or stop the other process"
    )]
    Locked { path: PathBuf },
    #[error(
        "cannot open the store at {path}: {source}; check the directory exists and is writable"
    )]
    Open { path: PathBuf, source: sled::Error },
    #[error(
        "the store at {path} is damaged ({detail}); run `stagesync reset --yes` to forget it \
         (the next sync adopts existing destination entries by identity key) or `sync --full`"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "the store at {path} was written for another source/destination pair ({stored}); \
         this config syncs {current}. Point `state_dir` at another directory, or run \
         `stagesync reset --yes` to forget the old pair"
    )]
    ForeignPair {
        path: PathBuf,
        stored: String,
        current: String,
    },
    #[error("store I/O error at {path}: {source}")]
    Io { path: PathBuf, source: sled::Error },
}

/// An open store. Cheap to clone (sled trees are reference-counted).
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    nodes: sled::Tree,
    snapshots: sled::Tree,
    runs: sled::Tree,
    checkpoints: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// `<Model>\0<id>`: models sort together, so one model is one prefix scan.
pub fn node_key(model: &str, id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(model.len() + id.len() + 1);
    key.extend_from_slice(model.as_bytes());
    key.push(0);
    key.extend_from_slice(id.as_bytes());
    key
}

fn model_prefix(model: &str) -> Vec<u8> {
    let mut key = model.as_bytes().to_vec();
    key.push(0);
    key
}

impl Store {
    /// Opens (or creates) the store in `dir/store`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.join("store");
        std::fs::create_dir_all(&path).map_err(|e| StoreError::Open {
            path: path.clone(),
            source: sled::Error::Io(e),
        })?;
        let db = sled::Config::new()
            .path(&path)
            // Bounded cache: memory must not grow with the project.
            .cache_capacity(16 * 1024 * 1024)
            .open()
            .map_err(|e| classify_open_error(&path, e))?;
        let open = |name: &str| {
            db.open_tree(name).map_err(|e| StoreError::Io {
                path: path.clone(),
                source: e,
            })
        };
        let store = Store {
            meta: open("meta")?,
            nodes: open("nodes")?,
            snapshots: open("snapshots")?,
            runs: open("runs")?,
            checkpoints: open("checkpoints")?,
            db,
            path,
        };
        store.check_format()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: sled::Error) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn damaged(&self, what: &str, err: CodecError) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: format!("{what}: {err}"),
        }
    }

    fn check_format(&self) -> Result<(), StoreError> {
        match self.meta.get(META_FORMAT).map_err(|e| self.io(e))? {
            None => {
                self.meta
                    .insert(META_FORMAT, &[codec::FORMAT_VERSION])
                    .map_err(|e| self.io(e))?;
                Ok(())
            }
            Some(v) if v.as_ref() == [codec::FORMAT_VERSION] => Ok(()),
            Some(v) => Err(StoreError::Damaged {
                path: self.path.clone(),
                detail: format!(
                    "format marker {:?}, expected [{}] (a store from another stagesync version, or not a stagesync store)",
                    v.as_ref(),
                    codec::FORMAT_VERSION
                ),
            }),
        }
    }

    /// Binds the store to one source/destination pair; refuses a store bound to another.
    pub fn bind_pair(&self, pair: &str) -> Result<(), StoreError> {
        match self.meta.get(META_PAIR).map_err(|e| self.io(e))? {
            None => {
                self.meta
                    .insert(META_PAIR, pair.as_bytes())
                    .map_err(|e| self.io(e))?;
                Ok(())
            }
            Some(stored) if stored.as_ref() == pair.as_bytes() => Ok(()),
            Some(stored) => Err(StoreError::ForeignPair {
                path: self.path.clone(),
                stored: String::from_utf8_lossy(&stored).into_owned(),
                current: pair.to_owned(),
            }),
        }
    }

    /// The fingerprint of a model's schema on both sides when it was last synced.
    pub fn model_fingerprint(&self, model: &str) -> Result<Option<[u8; 32]>, StoreError> {
        let key = format!("model/{model}");
        match self.meta.get(key.as_bytes()).map_err(|e| self.io(e))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged(&key, e)),
        }
    }

    pub fn set_model_fingerprint(&self, model: &str, fp: [u8; 32]) -> Result<(), StoreError> {
        let key = format!("model/{model}");
        self.meta
            .insert(key.as_bytes(), codec::encode(&fp))
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    pub fn last_success(&self) -> Result<Option<i64>, StoreError> {
        match self.meta.get(META_LAST_SUCCESS).map_err(|e| self.io(e))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged("last-success", e)),
        }
    }

    pub fn set_last_success(&self, unix_ms: i64) -> Result<(), StoreError> {
        self.meta
            .insert(META_LAST_SUCCESS, codec::encode(&unix_ms))
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    pub fn node(&self, model: &str, id: &str) -> Result<Option<NodeRecord>, StoreError> {
        match self
            .nodes
            .get(node_key(model, id))
            .map_err(|e| self.io(e))?
        {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged(&format!("entry {model} {id}"), e)),
        }
    }

    /// Every tracked entry of a model, in source-id order.
    pub fn nodes_of<'a>(
        &'a self,
        model: &'a str,
    ) -> impl Iterator<Item = Result<(String, NodeRecord), StoreError>> + 'a {
        let prefix = model_prefix(model);
        let skip = prefix.len();
        self.nodes.scan_prefix(prefix).map(move |item| {
            let (k, v) = item.map_err(|e| self.io(e))?;
            let id = String::from_utf8_lossy(&k[skip..]).into_owned();
            let record =
                codec::decode(&v).map_err(|e| self.damaged(&format!("entry {model} {id}"), e))?;
            Ok((id, record))
        })
    }

    /// Every model with tracked entries.
    pub fn tracked_models(&self) -> Result<Vec<String>, StoreError> {
        let mut models: Vec<String> = Vec::new();
        for item in self.nodes.iter().keys() {
            let k = item.map_err(|e| self.io(e))?;
            let model = k.split(|b| *b == 0).next().unwrap_or_default();
            let model = String::from_utf8_lossy(model).into_owned();
            if models.last() != Some(&model) {
                models.push(model);
            }
        }
        Ok(models)
    }

    pub fn snapshot(&self, model: &str, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .snapshots
            .get(node_key(model, id))
            .map_err(|e| self.io(e))?
            .map(|v| v.to_vec()))
    }

    pub fn has_snapshot(&self, model: &str, id: &str) -> Result<bool, StoreError> {
        self.snapshots
            .contains_key(node_key(model, id))
            .map_err(|e| self.io(e))
    }

    /// Writes what one page read: records and snapshots (each tree atomically), then the
    /// checkpoint. Seen hashes are not acknowledgements, so a crash in between loses nothing.
    pub fn commit_page(
        &self,
        entries: &[(String, String, NodeRecord, Option<Vec<u8>>)],
        checkpoint: &Checkpoint,
    ) -> Result<(), StoreError> {
        let mut nodes = sled::Batch::default();
        let mut snaps = sled::Batch::default();
        for (model, id, record, snapshot) in entries {
            let key = node_key(model, id);
            if let Some(snapshot) = snapshot {
                snaps.insert(key.clone(), snapshot.as_slice());
            }
            nodes.insert(key, codec::encode(record));
        }
        self.snapshots.apply_batch(snaps).map_err(|e| self.io(e))?;
        self.nodes.apply_batch(nodes).map_err(|e| self.io(e))?;
        self.put_checkpoint(checkpoint)
    }

    /// Writes acknowledged state for a batch the destination acknowledged, atomically.
    pub fn commit_acks(&self, records: &[(&str, &str, &NodeRecord)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (model, id, record) in records {
            batch.insert(node_key(model, id), codec::encode(*record));
        }
        self.nodes.apply_batch(batch).map_err(|e| self.io(e))
    }

    /// Forgets entries (deleted in the source and in the destination).
    pub fn forget(&self, model: &str, ids: &[String]) -> Result<(), StoreError> {
        let mut nodes = sled::Batch::default();
        let mut snaps = sled::Batch::default();
        for id in ids {
            nodes.remove(node_key(model, id));
            snaps.remove(node_key(model, id));
        }
        self.nodes.apply_batch(nodes).map_err(|e| self.io(e))?;
        self.snapshots.apply_batch(snaps).map_err(|e| self.io(e))
    }

    pub fn next_run_id(&self) -> Result<u64, StoreError> {
        let last = self.runs.last().map_err(|e| self.io(e))?;
        Ok(match last {
            Some((k, _)) if k.len() == 8 => {
                u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8])) + 1
            }
            _ => 1,
        })
    }

    pub fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.runs
            .insert(run.id.to_be_bytes(), codec::encode(run))
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    pub fn run(&self, id: u64) -> Result<Option<RunRecord>, StoreError> {
        match self.runs.get(id.to_be_bytes()).map_err(|e| self.io(e))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged(&format!("run {id}"), e)),
        }
    }

    /// Stored runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.runs.iter().rev().take(limit) {
            let (k, v) = item.map_err(|e| self.io(e))?;
            out.push(
                codec::decode(&v).map_err(|e| self.damaged(&format!("run {:?}", k.as_ref()), e))?,
            );
        }
        Ok(out)
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        match self
            .checkpoints
            .get(CHECKPOINT_KEY)
            .map_err(|e| self.io(e))?
        {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged("checkpoint", e)),
        }
    }

    pub fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.checkpoints
            .insert(CHECKPOINT_KEY, codec::encode(checkpoint))
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    pub fn clear_checkpoint(&self) -> Result<(), StoreError> {
        self.checkpoints
            .remove(CHECKPOINT_KEY)
            .map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Forgets everything (or one model's entries and fingerprint). Runs are kept as history
    /// only when a single model is reset.
    pub fn reset(&self, model: Option<&str>) -> Result<(), StoreError> {
        match model {
            Some(model) => {
                let prefix = model_prefix(model);
                for tree in [&self.nodes, &self.snapshots] {
                    let mut batch = sled::Batch::default();
                    for key in tree.scan_prefix(&prefix).keys() {
                        batch.remove(key.map_err(|e| self.io(e))?);
                    }
                    tree.apply_batch(batch).map_err(|e| self.io(e))?;
                }
                self.meta
                    .remove(format!("model/{model}").as_bytes())
                    .map_err(|e| self.io(e))?;
            }
            None => {
                for tree in [
                    &self.nodes,
                    &self.snapshots,
                    &self.runs,
                    &self.checkpoints,
                    &self.meta,
                ] {
                    tree.clear().map_err(|e| self.io(e))?;
                }
                self.check_format()?;
            }
        }
        self.flush()
    }

    /// Integrity check used at start: every record decodes. Cheap enough for a daemon start
    /// (a sequential scan), and it turns a damaged store into one clear error up front.
    pub fn check_records(&self) -> Result<(), StoreError> {
        for item in self.nodes.iter() {
            let (k, v) = item.map_err(|e| self.io(e))?;
            codec::decode::<NodeRecord>(&v)
                .map_err(|e| self.damaged(&format!("entry {}", String::from_utf8_lossy(&k)), e))?;
        }
        self.runs(usize::MAX)?;
        self.checkpoint()?;
        Ok(())
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(|e| self.io(e))?;
        Ok(())
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }
}

fn classify_open_error(path: &Path, err: sled::Error) -> StoreError {
    match &err {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => StoreError::Locked {
            path: path.to_owned(),
        },
        sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked {
            path: path.to_owned(),
        },
        sled::Error::Corruption { .. } => StoreError::Damaged {
            path: path.to_owned(),
            detail: err.to_string(),
        },
        sled::Error::Unsupported(_) => StoreError::Damaged {
            path: path.to_owned(),
            detail: err.to_string(),
        },
        _ => StoreError::Open {
            path: path.to_owned(),
            source: err,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopen_and_foreign_pair_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.bind_pair("a -> b").unwrap();
            let rec = NodeRecord {
                dest_id: Some("d1".into()),
                acked: Acked {
                    content: Some([3; 32]),
                    ..Default::default()
                },
                ..Default::default()
            };
            store.commit_acks(&[("Talk", "s1", &rec)]).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let rec = store.node("Talk", "s1").unwrap().unwrap();
        assert_eq!(rec.dest_id.as_deref(), Some("d1"));
        assert_eq!(rec.acked.content, Some([3; 32]));
        assert_eq!(store.nodes_of("Talk").count(), 1);
        assert_eq!(store.nodes_of("Tal").count(), 0);
        assert!(matches!(
            store.bind_pair("a -> c"),
            Err(StoreError::ForeignPair { .. })
        ));
    }

    #[test]
    fn second_open_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _store = Store::open(dir.path()).unwrap();
        // sled's lock is per process via flock on the same file; a second handle in the same
        // process shares the lock, so only the error mapping is checked here.
        let err = classify_open_error(
            dir.path(),
            sled::Error::Io(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "could not acquire lock",
            )),
        );
        assert!(matches!(err, StoreError::Locked { .. }));
    }

    #[test]
    fn damaged_record_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .nodes
            .insert(node_key("Talk", "x"), &[codec::FORMAT_VERSION, 1, 2][..])
            .unwrap();
        let err = store.node("Talk", "x").unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        assert!(err.contains("stagesync reset"), "{err}");
        assert!(store.check_records().is_err());
    }
}
