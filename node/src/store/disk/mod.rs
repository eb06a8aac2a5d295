//! The state machine on disk (`DATA/raft/state.redb`): every finished run
//! and task, every log record and saved result, and a copy of what memory
//! holds (documents, unfinished runs and tasks) so a restart reads it back
//! instead of replaying history.
//!
//! Applied batches are not written one by one: what they leave for the
//! store (`Content::ops`, the finished runs and tasks still in memory)
//! is taken as a [`Batch`] and written by `store::committer`'s thread in
//! one redb write transaction once a second — the durable
//! flush, which also writes the unfinished records and the applied log id,
//! so the file is always a state some prefix of the log produced — or
//! sooner when [`PENDING_BYTES`] or [`PENDING_CHANGES`] is reached. A
//! transaction per batch cost the node a third more CPU per run than
//! holding the history in memory had (issue 10's engine benchmark).
//!
//! Why redb: a B-tree in one file, written by one writer, with MVCC reads —
//! a reader (an API listing, a snapshot being streamed to a follower) sees
//! one committed state without holding any lock the applier needs, which is
//! what building snapshots "without copying under a lock" asks for. It is
//! pure Rust, maintained, and checksums its pages.
//!
//! **Invariant:** commits are not synced one by one (the Raft log is the
//! durable record); a commit is made durable at least every
//! [`DURABLE_EVERY`] and always before a snapshot is taken, so the log is
//! never purged past what this file holds durably.
//!
//! **Invariant:** logs and results are written once, compressed, keyed by
//! task id; memory keeps only their sizes.

mod audit;
mod keys;
mod read;
mod recover;
mod reports;
mod snapshot;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use openraft::{LogId, StoredMembership};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

pub use audit::AuditCursor;
pub use read::{RunFilter, RunPage, RunsCursor};
pub use reports::ReportCursor;
pub use snapshot::{read_header, SnapshotMeta, Tee};
pub use write::{Batch, Due, Written};

use super::content::Content;
use super::health::StorageHealth;
use super::NodeId;

/// The file, beside the Raft log.
pub const STORE_FILE: &str = "state.redb";

/// The layout of the records in the file. Change it whenever a table, a
/// key's spelling or a record's encoding changes.
const FORMAT: &str = "isnode-store 1";

/// How long a commit may stay not durable.
const DURABLE_EVERY: Duration = Duration::from_secs(1);

/// Logs and results waiting in memory for the next commit, at most.
const PENDING_BYTES: u64 = 8 << 20;

/// Store writes and changed runs and tasks waiting, at most.
const PENDING_CHANGES: usize = 50_000;

/// Memory redb may use to cache pages.
const CACHE_BYTES: usize = 16 << 20;

/// Compact the file once this much was deleted since the last compaction.
const COMPACT_AFTER_BYTES: u64 = 16 << 20;

type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;

/// Small records: the format, the applied log id, the membership.
const META: Table = TableDefinition::new("meta");
/// The documents (steps, applications, ...), by `DocKey` spelling.
const DOCS: Table = TableDefinition::new("docs");
/// Unfinished runs and tasks, by id: what memory holds, for restarts.
const HOT_RUNS: Table = TableDefinition::new("hot_runs");
const HOT_TASKS: Table = TableDefinition::new("hot_tasks");
/// Finished runs and the tasks of finished runs or finished alone.
const RUNS: Table = TableDefinition::new("runs");
const TASKS: Table = TableDefinition::new("tasks");
/// Log chunks (`keys::log`) and saved results (by task id), LZ4-compressed.
const LOGS: Table = TableDefinition::new("logs");
const RESULT_JSON: Table = TableDefinition::new("result_json");
const RESULT_PICKLE: Table = TableDefinition::new("result_pickle");
/// Indexes of finished runs (`keys::index`): all, by application, by state,
/// by trigger. Unfinished runs are listed from memory.
const RUN_TIME: Table = TableDefinition::new("run_time");
const RUN_APP: Table = TableDefinition::new("run_app");
const RUN_STATE: Table = TableDefinition::new("run_state");
const RUN_TRIGGER: Table = TableDefinition::new("run_trigger");
/// Finished runs and lone tasks by end time, for expiry (value: b"r"/b"t").
const ENDS: Table = TableDefinition::new("ends");

/// Chunks of blobs (SyncPack wheels) by SHA-256 and chunk number
/// (`keys::blob`), as uploaded (wheels are compressed already).
const BLOBS: Table = TableDefinition::new("blobs");

/// Reports by run id (LZ4-compressed), and their indexes by creation time:
/// all, and by application (`keys::index`).
const REPORTS: Table = TableDefinition::new("reports");
const REPORT_TIME: Table = TableDefinition::new("report_time");
const REPORT_APP: Table = TableDefinition::new("report_app");
/// The audit trail, by time then record id (`disk::audit`).
const AUDIT: Table = TableDefinition::new("audit");

/// Every table, in the order snapshots carry them (a table's number in a
/// snapshot is its position here; new tables go last).
const TABLES: [Table; 19] = [
    META,
    DOCS,
    HOT_RUNS,
    HOT_TASKS,
    RUNS,
    TASKS,
    LOGS,
    RESULT_JSON,
    RESULT_PICKLE,
    RUN_TIME,
    RUN_APP,
    RUN_STATE,
    RUN_TRIGGER,
    ENDS,
    BLOBS,
    REPORTS,
    REPORT_TIME,
    REPORT_APP,
    AUDIT,
];

const META_FORMAT: &[u8] = b"format";
const META_APPLIED: &[u8] = b"last_applied";
const META_MEMBERSHIP: &[u8] = b"membership";

pub type Membership = StoredMembership<NodeId, openraft::BasicNode>;

#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    #[error("the state store: {0}")]
    Redb(#[from] redb::Error),
    #[error("the state store holds a record that does not decode ({what}): {reason}")]
    Decode { what: String, reason: String },
    #[error("{path} was written in {found}, which this build ({current}) cannot read; nothing was changed. Start this build with an empty --data-dir, or keep running the build that wrote it")]
    Format {
        path: String,
        found: String,
        current: &'static str,
    },
    #[error("the snapshot file: {0}")]
    Io(#[from] std::io::Error),
    #[error("the snapshot is damaged: {0}")]
    Snapshot(String),
    #[error("the state store is closed while this node's disk takes no writes (see GET /ready and the node's log); finished runs, logs and results can be read again once it does")]
    Reopening,
    #[error("writing to the state store failed ({0}); the node stops applying entries. Fix the cause, then restart the node: it re-applies what was not written")]
    Committer(String),
}

/// Converts any redb error into ours.
fn rerr<E: Into<redb::Error>>(e: E) -> DiskError {
    DiskError::Redb(e.into())
}

fn encode<T: serde::Serialize>(what: &str, v: &T) -> Result<Vec<u8>, DiskError> {
    super::encode(v).map_err(|e| DiskError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, DiskError> {
    super::decode(bytes).map_err(|e| DiskError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn compress(bytes: &[u8]) -> Vec<u8> {
    lz4_flex::compress_prepend_size(bytes)
}

fn decompress(what: &str, bytes: &[u8]) -> Result<Vec<u8>, DiskError> {
    lz4_flex::decompress_size_prepended(bytes).map_err(|e| DiskError::Decode {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

/// What the file holds for memory: the state as of `last_applied`.
#[derive(Debug, Default)]
pub struct Loaded {
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: Membership,
    pub content: Content,
}

/// Cheap to clone; one per state machine.
#[derive(Clone)]
pub struct Disk {
    inner: Arc<Inner>,
}

struct Inner {
    /// Write-locked only to compact (redb needs `&mut` for it) and to
    /// open the file again after an I/O error (`recover`); `None` while
    /// that does not succeed, so readers get an error rather than wait.
    db: RwLock<Option<Arc<Database>>>,
    path: PathBuf,
    last_durable: Mutex<Instant>,
    /// Bytes deleted since the last compaction.
    deleted: Mutex<u64>,
    /// Where faults are noted (`recover`).
    health: StorageHealth,
    /// Batches committed since the last durable commit (`recover`).
    since_durable: Mutex<Vec<Arc<Batch>>>,
}

impl Disk {
    /// Opens (or creates) the store in `dir`, refusing one of another format.
    /// The store's file, `raft/state.redb`.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Writes that fail on I/O errors are retried, the fault noted in `health`.
    pub fn open(dir: &Path, health: &StorageHealth) -> Result<Disk, DiskError> {
        let path = dir.join(STORE_FILE);
        let database = recover::open_database(&path)?;
        let disk = Disk {
            inner: Arc::new(Inner {
                db: RwLock::new(Some(Arc::new(database))),
                path,
                last_durable: Mutex::new(Instant::now()),
                deleted: Mutex::new(0),
                health: health.clone(),
                since_durable: Mutex::default(),
            }),
        };
        disk.check_format()?;
        Ok(disk)
    }

    fn check_format(&self) -> Result<(), DiskError> {
        let db = self.db()?;
        let w = db.begin_write().map_err(rerr)?;
        {
            for t in TABLES {
                w.open_table(t).map_err(rerr)?;
            }
            let mut meta = w.open_table(META).map_err(rerr)?;
            let found = meta
                .get(META_FORMAT)
                .map_err(rerr)?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned());
            match found {
                Some(f) if f == FORMAT => {}
                Some(f) => {
                    return Err(DiskError::Format {
                        path: self.inner.path.display().to_string(),
                        found: format!("format {f:?}"),
                        current: FORMAT,
                    })
                }
                None => {
                    meta.insert(META_FORMAT, FORMAT.as_bytes()).map_err(rerr)?;
                }
            }
        }
        w.commit().map_err(rerr)?;
        Ok(())
    }

    fn db(&self) -> Result<Arc<Database>, DiskError> {
        self.inner
            .db
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(DiskError::Reopening)
    }

    fn begin_read(&self) -> Result<redb::ReadTransaction, DiskError> {
        self.db()?.begin_read().map_err(rerr)
    }

    /// The state the file holds: the applied log id, the membership, the
    /// documents and the unfinished runs and tasks.
    pub fn load(&self) -> Result<Loaded, DiskError> {
        let r = self.begin_read()?;
        let meta = r.open_table(META).map_err(rerr)?;
        let mut loaded = Loaded::default();
        if let Some(v) = meta.get(META_APPLIED).map_err(rerr)? {
            loaded.last_applied = decode("the applied log id", v.value())?;
        }
        if let Some(v) = meta.get(META_MEMBERSHIP).map_err(rerr)? {
            loaded.membership = decode("the membership", v.value())?;
        }
        let docs = r.open_table(DOCS).map_err(rerr)?;
        for item in docs.iter().map_err(rerr)? {
            let (k, v) = item.map_err(rerr)?;
            write::load_doc(&mut loaded.content, k.value(), v.value())?;
        }
        for item in r.open_table(HOT_RUNS).map_err(rerr)?.iter().map_err(rerr)? {
            let (k, v) = item.map_err(rerr)?;
            let run: super::RunRecord = decode("an unfinished run", v.value())?;
            loaded
                .content
                .runs
                .insert(String::from_utf8_lossy(k.value()).into_owned(), run);
        }
        for item in r.open_table(HOT_TASKS).map_err(rerr)?.iter().map_err(rerr)? {
            let (k, v) = item.map_err(rerr)?;
            let task = decode("an unfinished task", v.value())?;
            loaded
                .content
                .tasks
                .insert(String::from_utf8_lossy(k.value()).into_owned(), task);
        }
        Ok(loaded)
    }

    /// Makes every commit so far durable.
    pub fn make_durable(&self) -> Result<(), DiskError> {
        let db = self.db()?;
        let mut w = db.begin_write().map_err(rerr)?;
        w.set_durability(redb::Durability::Immediate).map_err(rerr)?;
        w.commit().map_err(rerr)?;
        *self.inner.last_durable.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        self.forget_replay();
        Ok(())
    }

    /// Gives space back after expiry: compacts the file once enough was
    /// deleted. Skipped (and tried again after the next expiry) while a
    /// reader holds an old state.
    pub fn compact_if_worth_it(&self) -> Result<bool, DiskError> {
        {
            let deleted = self.inner.deleted.lock().unwrap_or_else(|p| p.into_inner());
            if *deleted < COMPACT_AFTER_BYTES {
                return Ok(false);
            }
        }
        self.make_durable()?;
        let mut db = self.inner.db.write().unwrap_or_else(|p| p.into_inner());
        // Not now if the store is being opened again, or a reader holds it.
        let Some(db) = db.as_mut().and_then(Arc::get_mut) else {
            return Ok(false);
        };
        match db.compact(redb::CompactionMode::Balanced) {
            Ok(_) => {
                *self.inner.deleted.lock().unwrap_or_else(|p| p.into_inner()) = 0;
                Ok(true)
            }
            Err(redb::CompactionError::TransactionInProgress) => Ok(false),
            Err(e) => Err(rerr(e)),
        }
    }

    /// Size of the file in bytes.
    pub fn file_bytes(&self) -> u64 {
        std::fs::metadata(&self.inner.path).map_or(0, |m| m.len())
    }
}

#[cfg(test)]
pub(super) mod tests;
