//! The records kept in the store. Plain data; every change of shape bumps
//! `codec::FORMAT_VERSION`. JSON is never stored inside a record (snapshots are their own tree).

use serde::{Deserialize, Serialize};

pub type Hash = [u8; 32];

/// The three hashes of one entry (see `sync::canonical`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    /// Fields and localizations of the draft version, relations excluded.
    pub content: Hash,
    /// Ordered relation targets of the fields this side writes, draft version.
    pub edges: Hash,
    /// Which other stages hold which version (content and edges of each).
    pub publication: Hash,
    /// Which other stages hold which content (edges left out): when only this stays the same,
    /// a publication change may be the side effect of publishing a related entry.
    pub publication_content: Hash,
}

/// What the destination acknowledged holding for one entry. Each part is set only after the
/// destination acknowledged the write that put it there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acked {
    pub content: Option<Hash>,
    pub edges: Option<Hash>,
    pub publication: Option<Hash>,
    pub publication_content: Option<Hash>,
    /// Locales the destination's draft holds for this entry (so stale ones can be deleted).
    pub locales: Vec<String>,
    /// Non-draft stages the destination holds this entry in; `None` when unknown.
    pub stages: Option<Vec<String>>,
    /// The version the destination acknowledged in each non-draft stage of `stages`; a stage
    /// held without one holds an unknown version. Kept per stage so that an interrupted run
    /// resumes with the stages it had not published yet, and a change of one stage's version
    /// republishes that stage only.
    pub published: Vec<StageAck>,
    /// For assets: the source file (url) the destination's asset holds.
    pub file: Option<String>,
}

/// What the destination acknowledged holding in one non-draft stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageAck {
    pub stage: String,
    /// Content hash of the version published there.
    pub content: Hash,
    /// Edges hash of the version published there.
    pub edges: Hash,
}

/// One tracked entry: `nodes` tree, key `<Model>\0<source id>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Hashes of the last read of the source.
    pub seen: Option<Hashes>,
    /// The run that last read a change of this entry.
    pub changed_run: u64,
    pub acked: Acked,
    /// The destination's id for this entry, once known.
    pub dest_id: Option<String>,
    /// The run that last wrote this entry to the destination.
    pub acked_run: u64,
    /// Digest of the node's bytes as last read (see `sync::read::RawNode`): the same bytes
    /// again, with nothing pending, need no parsing.
    pub seen_raw: Option<Hash>,
}

impl NodeRecord {
    /// Seen but not (fully) acknowledged.
    pub fn is_pending(&self) -> bool {
        match &self.seen {
            None => false,
            Some(seen) => {
                self.dest_id.is_none()
                    || self.acked.content != Some(seen.content)
                    || self.acked.edges != Some(seen.edges)
                    || self.acked.publication != Some(seen.publication)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunMode {
    Incremental,
    Full,
    DryRun,
    /// `sync --repair`: acknowledgements rewritten from the destination, then what differs.
    Repair,
}

impl RunMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunMode::Incremental => "incremental",
            RunMode::Full => "full",
            RunMode::DryRun => "dry-run",
            RunMode::Repair => "repair",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunStatus {
    Running,
    Succeeded,
    CompletedWithFailures(u64),
    Failed(String),
}

impl RunStatus {
    pub fn describe(&self) -> String {
        match self {
            RunStatus::Running => "running (or interrupted)".into(),
            RunStatus::Succeeded => "succeeded".into(),
            RunStatus::CompletedWithFailures(n) => format!("completed with {n} failed entries"),
            RunStatus::Failed(why) => format!("failed: {why}"),
        }
    }
}

/// Counts of one model in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelCounts {
    pub model: String,
    pub read: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Of `unchanged`: read byte for byte as last time and acknowledged, so not even parsed.
    pub skipped_unparsed: u64,
    pub deleted: u64,
    pub edges: u64,
    pub published: u64,
    pub unpublished: u64,
    pub failed: u64,
}

/// An entry the destination rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFailure {
    pub model: String,
    pub source_id: String,
    pub phase: String,
    pub message: String,
}

/// Requests and bytes sent to one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointCounts {
    pub requests: u64,
    pub mutations: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub retries: u64,
    pub rate_limited: u64,
}

/// One run: `runs` tree, key = id (big-endian u64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    /// Unix milliseconds.
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub mode: RunMode,
    pub status: RunStatus,
    pub models: Vec<ModelCounts>,
    pub failures: Vec<EntryFailure>,
    pub source: EndpointCounts,
    pub destination: EndpointCounts,
}

/// Where an unfinished run is: `checkpoints` tree, key `current`. Written after every page read
/// and every acknowledged batch; cleared when the run ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub run: u64,
    /// `read`, `assets`, `content`, `edges`, `publication`, `drafts`, `deletions`.
    pub phase: String,
    pub model: String,
    pub pages_read: u64,
    pub entries_read: u64,
    pub batches_acked: u64,
    pub writes_pending: u64,
}

/// A write that creates an entry and cannot be repeated safely, recorded before it is sent and
/// removed once its acknowledgement is committed: `pending` tree, key `<Model>\0<source id>`
/// (see `sync::journal`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCreate {
    /// Unix milliseconds (this machine's clock) just before the write was sent.
    pub at: i64,
    pub write: PendingWrite,
}

/// What a pending create sent: enough to recognise the entry it created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingWrite {
    /// `create<Model>` of a model without a unique field: the content hash of what was sent,
    /// without the fields the edges phase writes (`skip`).
    Create { content: Hash, skip: Vec<String> },
    /// `upsert<Model>` by a unique field: the key field and its value (JSON text).
    Upsert { key: String, value: String },
    /// An asset upload (a legacy form post or `createAsset(uploadUrl)`): the file url sent.
    Asset { url: String },
    /// The carrier of a changed legacy asset file: a new asset uploaded from `url` whose handle
    /// is then moved onto the entry's own asset, and which is then deleted.
    Carrier { url: String },
}
