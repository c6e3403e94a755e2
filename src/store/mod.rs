//! The sled state: a fixed set of trees with typed keys and bincode records (through `codec`).
//!
//! | tree | key | value |
//! |---|---|---|
//! | `meta` | `format`, `pair`, `model/<Model>`, `last-success` | format byte, fingerprints, time |
//! | `nodes` | `<Model>\0<source id>` | [`NodeRecord`]: hashes seen and acknowledged, destination id |
//! | `snapshots` | `<Model>\0<source id>` | canonical JSON bytes of the last read |
//! | `runs` | run id, big-endian u64 | [`RunRecord`] |
//! | `checkpoints` | `current` | [`Checkpoint`] of the unfinished run |
//! | `pending` | `<Model>\0<source id>` | [`PendingCreate`]: a create sent, its answer not yet committed |
//!
//! It does not decide anything about syncing; `sync` does. sled allows one process per store:
//! opening a store another process holds fails with [`StoreError::Locked`].
//!
//! **Damage.** A damaged store is refused with [`StoreError::Damaged`] (the fix: `stagesync
//! reset --yes`, which removes the store's files without opening them, see [`remove`]), never a
//! panic and never a silent loss:
//! - every sled call runs through `guard`, so a panic inside sled (it panics on some damaged
//!   files) is caught and reported as damage;
//! - sled's own corruption errors (checksums of its log and snapshot) are reported as damage;
//! - a record that does not decode is damage (`codec`);
//! - sled recovers a damaged log by dropping the damaged record and everything after it, and a
//!   lost database by starting an empty one, silently: each [`Store::flush`] bumps a generation
//!   in `meta` and then writes it to the commit marker file beside the database (`marker`). A
//!   store opening with an older generation than its marker lost writes it had confirmed —
//!   acknowledgements included — and is refused as damaged, saying so. What sled loses of writes
//!   not yet flushed (a kill between two flushes) is not damage: those acknowledgements were never
//!   promised, and the next run redoes that work (writes are idempotent).

pub mod codec;
mod guard;
mod marker;
mod records;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use records::*;

use codec::CodecError;

const META_FORMAT: &[u8] = b"format";
const META_PAIR: &[u8] = b"pair";
const META_LAST_SUCCESS: &[u8] = b"last-success";
/// How many flushes completed; the commit marker holds the same number (see `marker`).
const META_GENERATION: &[u8] = b"generation";
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
        "the store at {path} is damaged ({detail}); run `stagesync reset --yes` to remove it \
         (the next sync adopts the destination's existing entries by identity key)"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "cannot remove the store at {path}: {source}; check the permissions of the state directory"
    )]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
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
    pending: sled::Tree,
    /// One flush (and marker write) at a time.
    flushing: Arc<Mutex<()>>,
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
        let config = sled::Config::new()
            .path(&path)
            // Bounded cache: memory must not grow with the project.
            .cache_capacity(16 * 1024 * 1024);
        let db = match guard::call(|| config.open()) {
            guard::Outcome::Done(db) => db,
            guard::Outcome::Failed(e) => return Err(classify_open_error(&path, e)),
            guard::Outcome::Panicked(text) => return Err(panicked(&path, &text)),
        };
        let open = |name: &str| sled_call(&path, || db.open_tree(name));
        let store = Store {
            meta: open("meta")?,
            nodes: open("nodes")?,
            snapshots: open("snapshots")?,
            runs: open("runs")?,
            checkpoints: open("checkpoints")?,
            pending: open("pending")?,
            db,
            path,
            flushing: Arc::new(Mutex::new(())),
        };
        store.check_commits()?;
        store.check_format()?;
        Ok(store)
    }

    /// Compares the generation sled recovered with the commit marker's (see `marker`).
    fn check_commits(&self) -> Result<(), StoreError> {
        let stored = self.generation()?;
        match marker::read(&self.path) {
            Err(why) => Err(StoreError::Damaged {
                path: self.path.clone(),
                detail: format!("its commit marker {}: {why}", marker::FILE_NAME),
            }),
            // A store from before markers, or one created and never flushed: start one.
            Ok(None) => marker::write(&self.path, stored).map_err(|e| self.io(sled::Error::Io(e))),
            Ok(Some(committed)) if stored < committed => Err(StoreError::Damaged {
                path: self.path.clone(),
                detail: format!(
                    "its database recovered the state of flush {stored}, but flush {committed} \
                     had completed: the storage engine dropped confirmed writes, so \
                     acknowledgements of the destination's writes were lost"
                ),
            }),
            Ok(Some(_)) => Ok(()),
        }
    }

    /// Plain big-endian bytes rather than a `codec` record: it must read the same across format
    /// versions, so that a store of another format is refused for its format, not as damaged.
    fn generation(&self) -> Result<u64, StoreError> {
        match self.call(|| self.meta.get(META_GENERATION))? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(v.as_ref())
                .map(u64::from_be_bytes)
                .map_err(|_| StoreError::Damaged {
                    path: self.path.clone(),
                    detail: format!("its flush generation is {} bytes long, not 8", v.len()),
                }),
        }
    }

    /// Runs one sled call (see `guard`).
    fn call<T>(&self, f: impl FnOnce() -> sled::Result<T>) -> Result<T, StoreError> {
        sled_call(&self.path, f)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: sled::Error) -> StoreError {
        sled_error(&self.path, source)
    }

    fn damaged(&self, what: &str, err: CodecError) -> StoreError {
        StoreError::Damaged {
            path: self.path.clone(),
            detail: format!("{what}: {err}"),
        }
    }

    fn check_format(&self) -> Result<(), StoreError> {
        match self.call(|| self.meta.get(META_FORMAT))? {
            None => {
                self.call(|| self.meta.insert(META_FORMAT, &[codec::FORMAT_VERSION]))?;
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
        match self.call(|| self.meta.get(META_PAIR))? {
            None => {
                self.call(|| self.meta.insert(META_PAIR, pair.as_bytes()))?;
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
        match self.call(|| self.meta.get(key.as_bytes()))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged(&key, e)),
        }
    }

    pub fn set_model_fingerprint(&self, model: &str, fp: [u8; 32]) -> Result<(), StoreError> {
        let key = format!("model/{model}");
        self.call(|| self.meta.insert(key.as_bytes(), codec::encode(&fp)))?;
        Ok(())
    }

    pub fn last_success(&self) -> Result<Option<i64>, StoreError> {
        match self.call(|| self.meta.get(META_LAST_SUCCESS))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged("last-success", e)),
        }
    }

    pub fn set_last_success(&self, unix_ms: i64) -> Result<(), StoreError> {
        self.call(|| self.meta.insert(META_LAST_SUCCESS, codec::encode(&unix_ms)))?;
        Ok(())
    }

    pub fn node(&self, model: &str, id: &str) -> Result<Option<NodeRecord>, StoreError> {
        match self.call(|| self.nodes.get(node_key(model, id)))? {
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
        self.guarded_iter(self.nodes.scan_prefix(prefix), false)
            .map(move |item| {
                let (k, v) = item?;
                let id = String::from_utf8_lossy(&k[skip..]).into_owned();
                let record = codec::decode(&v)
                    .map_err(|e| self.damaged(&format!("entry {model} {id}"), e))?;
                Ok((id, record))
            })
    }

    /// `iter` (backwards if `rev`), each step run through `guard`; a failed step is the last.
    fn guarded_iter<'a>(
        &'a self,
        mut iter: sled::Iter,
        rev: bool,
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + 'a {
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            let step = sled_call(&self.path, || {
                if rev { iter.next_back() } else { iter.next() }.transpose()
            })
            .transpose();
            failed = matches!(step, Some(Err(_)));
            step
        })
    }

    /// Every model with tracked entries.
    pub fn tracked_models(&self) -> Result<Vec<String>, StoreError> {
        let mut models: Vec<String> = Vec::new();
        for item in self.guarded_iter(self.nodes.iter(), false) {
            let (k, _) = item?;
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
            .call(|| self.snapshots.get(node_key(model, id)))?
            .map(|v| v.to_vec()))
    }

    pub fn has_snapshot(&self, model: &str, id: &str) -> Result<bool, StoreError> {
        self.call(|| self.snapshots.contains_key(node_key(model, id)))
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
        self.call(|| self.snapshots.apply_batch(snaps))?;
        self.call(|| self.nodes.apply_batch(nodes))?;
        self.put_checkpoint(checkpoint)
    }

    /// Writes acknowledged state for a batch the destination acknowledged, atomically.
    pub fn commit_acks(&self, records: &[(&str, &str, &NodeRecord)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (model, id, record) in records {
            batch.insert(node_key(model, id), codec::encode(*record));
        }
        self.call(|| self.nodes.apply_batch(batch))
    }

    /// Forgets entries (deleted in the source and in the destination).
    pub fn forget(&self, model: &str, ids: &[String]) -> Result<(), StoreError> {
        let mut nodes = sled::Batch::default();
        let mut snaps = sled::Batch::default();
        for id in ids {
            nodes.remove(node_key(model, id));
            snaps.remove(node_key(model, id));
        }
        self.call(|| self.nodes.apply_batch(nodes))?;
        self.call(|| self.snapshots.apply_batch(snaps))
    }

    pub fn next_run_id(&self) -> Result<u64, StoreError> {
        let last = self.call(|| self.runs.last())?;
        Ok(match last {
            Some((k, _)) if k.len() == 8 => {
                u64::from_be_bytes(k.as_ref().try_into().unwrap_or([0; 8])) + 1
            }
            _ => 1,
        })
    }

    pub fn put_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        self.call(|| self.runs.insert(run.id.to_be_bytes(), codec::encode(run)))?;
        Ok(())
    }

    pub fn run(&self, id: u64) -> Result<Option<RunRecord>, StoreError> {
        match self.call(|| self.runs.get(id.to_be_bytes()))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged(&format!("run {id}"), e)),
        }
    }

    /// Stored runs, newest first.
    pub fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.guarded_iter(self.runs.iter(), true).take(limit) {
            let (k, v) = item?;
            out.push(
                codec::decode(&v).map_err(|e| self.damaged(&format!("run {:?}", k.as_ref()), e))?,
            );
        }
        Ok(out)
    }

    pub fn checkpoint(&self) -> Result<Option<Checkpoint>, StoreError> {
        match self.call(|| self.checkpoints.get(CHECKPOINT_KEY))? {
            None => Ok(None),
            Some(v) => codec::decode(&v)
                .map(Some)
                .map_err(|e| self.damaged("checkpoint", e)),
        }
    }

    pub fn put_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.call(|| {
            self.checkpoints
                .insert(CHECKPOINT_KEY, codec::encode(checkpoint))
        })?;
        Ok(())
    }

    pub fn clear_checkpoint(&self) -> Result<(), StoreError> {
        self.call(|| self.checkpoints.remove(CHECKPOINT_KEY))?;
        Ok(())
    }

    /// Records creates about to be sent (see `sync::journal`), durably: flushed before it
    /// returns, so that a kill right after sending still finds them.
    pub fn put_pending(&self, items: &[(&str, &str, &PendingCreate)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (model, id, pending) in items {
            batch.insert(node_key(model, id), codec::encode(*pending));
        }
        self.call(|| self.pending.apply_batch(batch))?;
        self.flush()
    }

    /// Every pending create: model, source id, record. The creates of one chunk of one run at
    /// most (a few thousand), so read whole.
    pub fn pending(&self) -> Result<Vec<(String, String, PendingCreate)>, StoreError> {
        let mut out = Vec::new();
        for item in self.guarded_iter(self.pending.iter(), false) {
            let (k, v) = item?;
            let mut parts = k.splitn(2, |b| *b == 0);
            let model = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let id = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
            let record = codec::decode(&v)
                .map_err(|e| self.damaged(&format!("pending create {model} {id}"), e))?;
            out.push((model, id, record));
        }
        Ok(out)
    }

    /// Removes pending creates: resolved, or replaced by their acknowledgement.
    pub fn clear_pending(&self, items: &[(&str, &str)]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (model, id) in items {
            batch.remove(node_key(model, id));
        }
        self.call(|| self.pending.apply_batch(batch))
    }

    /// Forgets everything (or one model's entries and fingerprint). Runs are kept as history
    /// only when a single model is reset. The flush generation is kept (see `marker`).
    pub fn reset(&self, model: Option<&str>) -> Result<(), StoreError> {
        match model {
            Some(model) => {
                let prefix = model_prefix(model);
                for tree in [&self.nodes, &self.snapshots, &self.pending] {
                    let mut batch = sled::Batch::default();
                    for item in self.guarded_iter(tree.scan_prefix(&prefix), false) {
                        batch.remove(item?.0);
                    }
                    self.call(|| tree.apply_batch(batch))?;
                }
                self.call(|| self.meta.remove(format!("model/{model}").as_bytes()))?;
            }
            None => {
                let generation = self.generation()?;
                for tree in [
                    &self.nodes,
                    &self.snapshots,
                    &self.runs,
                    &self.checkpoints,
                    &self.pending,
                    &self.meta,
                ] {
                    self.call(|| tree.clear())?;
                }
                self.call(|| self.meta.insert(META_GENERATION, &generation.to_be_bytes()))?;
                self.check_format()?;
            }
        }
        self.flush()
    }

    /// Integrity check used at start: every record decodes. Cheap enough for a daemon start
    /// (a sequential scan), and it turns a damaged store into one clear error up front.
    pub fn check_records(&self) -> Result<(), StoreError> {
        for item in self.guarded_iter(self.nodes.iter(), false) {
            let (k, v) = item?;
            codec::decode::<NodeRecord>(&v)
                .map_err(|e| self.damaged(&format!("entry {}", String::from_utf8_lossy(&k)), e))?;
        }
        self.runs(usize::MAX)?;
        self.checkpoint()?;
        self.pending()?;
        Ok(())
    }

    /// Makes everything written so far durable, then records it in the commit marker.
    pub fn flush(&self) -> Result<(), StoreError> {
        let _one = self
            .flushing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let next = self.generation()? + 1;
        self.call(|| self.meta.insert(META_GENERATION, &next.to_be_bytes()))?;
        self.call(|| self.db.flush())?;
        marker::write(&self.path, next).map_err(|e| self.io(sled::Error::Io(e)))
    }

    /// Bytes on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.call(|| self.db.size_on_disk()).unwrap_or(0)
    }
}

/// Removes the store in `dir/store` by path, without opening it, so that it works on a store
/// too damaged to open. Refused while another process holds the store (sled's lock on its `db`
/// file). Returns the number of files removed, or `None` when there was no store.
pub fn remove(dir: &Path) -> Result<Option<u64>, StoreError> {
    let path = dir.join("store");
    let fail = |source| StoreError::Remove {
        path: path.clone(),
        source,
    };
    // What a removal interrupted half-way left (see below).
    let doomed = dir.join("store.removing");
    if doomed.exists() {
        std::fs::remove_dir_all(&doomed).map_err(fail)?;
    }
    if !path.exists() {
        return Ok(None);
    }
    // sled holds an exclusive flock on `db` while open: take it, and keep it until the end.
    let _lock = match std::fs::File::open(path.join("db")) {
        // std's lock is the same `flock` sled takes (through fs2), so the two exclude each other.
        Ok(file) => match file.try_lock() {
            Ok(()) => Some(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked { path: path.clone() })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(fail(e)),
    };
    let files = count_files(&path);
    // Renamed first, so that a removal interrupted half-way never leaves half a store in place.
    std::fs::rename(&path, &doomed).map_err(fail)?;
    std::fs::remove_dir_all(&doomed).map_err(fail)?;
    Ok(Some(files))
}

fn count_files(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => count_files(&entry.path()),
            _ => 1,
        })
        .sum()
}

/// One sled call on the store at `path`, its panics and corruption errors reported as damage.
fn sled_call<T>(path: &Path, f: impl FnOnce() -> sled::Result<T>) -> Result<T, StoreError> {
    match guard::call(f) {
        guard::Outcome::Done(value) => Ok(value),
        guard::Outcome::Failed(e) => Err(sled_error(path, e)),
        guard::Outcome::Panicked(text) => Err(panicked(path, &text)),
    }
}

fn sled_error(path: &Path, source: sled::Error) -> StoreError {
    match source {
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => StoreError::Damaged {
            path: path.to_owned(),
            detail: source.to_string(),
        },
        source => StoreError::Io {
            path: path.to_owned(),
            source,
        },
    }
}

fn panicked(path: &Path, text: &str) -> StoreError {
    StoreError::Damaged {
        path: path.to_owned(),
        detail: format!("its storage engine failed reading it: {text}"),
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
        sled::Error::Corruption { .. } | sled::Error::ReportableBug(_) => StoreError::Damaged {
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
    fn a_store_older_than_its_commit_marker_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            store.flush().unwrap();
            store.flush().unwrap();
        }
        let path = dir.path().join("store");
        assert_eq!(marker::read(&path), Ok(Some(2)));
        // Reopening and flushing again is fine: the store is as new as its marker.
        Store::open(dir.path()).unwrap().flush().unwrap();
        assert_eq!(marker::read(&path), Ok(Some(3)));
        // As if sled had come back with an older state than the last completed flush.
        marker::write(&path, 9).unwrap();
        let err = Store::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("acknowledgements") && err.contains("were lost"),
            "{err}"
        );
        assert!(err.contains("stagesync reset --yes"), "{err}");
        // No marker (a store from before markers): one is started from the store's generation.
        std::fs::remove_file(marker::path(&path)).unwrap();
        Store::open(dir.path()).unwrap();
        assert_eq!(marker::read(&path), Ok(Some(3)));
    }

    #[test]
    fn remove_takes_the_store_away_unless_it_is_held() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(remove(dir.path()).unwrap(), None);
        // A removal interrupted after its rename: the leftover goes next time.
        std::fs::create_dir_all(dir.path().join("store.removing/blobs")).unwrap();
        assert_eq!(remove(dir.path()).unwrap(), None);
        assert!(!dir.path().join("store.removing").exists());
        let store = Store::open(dir.path()).unwrap();
        store.flush().unwrap();
        // sled's lock is an flock on `db`: a second open file description conflicts with it.
        assert!(matches!(remove(dir.path()), Err(StoreError::Locked { .. })));
        drop(store);
        assert!(remove(dir.path()).unwrap().unwrap() >= 3);
        assert!(!dir.path().join("store").exists());
        Store::open(dir.path()).unwrap();
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
