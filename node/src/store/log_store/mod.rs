//! The Raft log, vote and commit index under `DATA/raft/`, with group commit.
//!
//! Entries live in one append-only file (`log.dat`) of checksummed records.
//! Every change goes through one writer thread, in order: it takes all
//! requests that are waiting, writes them, calls `fdatasync` once for the
//! whole batch and only then tells openraft the entries are flushed. Under
//! load many entries share one sync; a lone entry costs one `write` +
//! `fdatasync`.
//!
//! **What is in memory.** Entry bodies are not, or not all: an entry can
//! carry a step's result of a megabyte, and a log of a thousand such entries
//! held in memory made a node of gigabytes. Per entry not purged, memory
//! holds its `LogId` (what `get_log_state`, truncation and purging need) and
//! where its record is in the file (offset and length), a few dozen bytes.
//! Bodies are in a cache of the newest entries' records, as written and
//! bounded by their bytes ([`CACHE_BYTES`]): replication and openraft's
//! apply read the newest entries, so they nearly always find them there and
//! only decode; anything older is read back from the file (`pread`,
//! checksum verified, decoded). An entry whose
//! write is still queued is in the cache whatever the bound, so it can be
//! read as soon as `append` returned; the writer releases it once written.
//!
//! **Giving space back.** Purged entries stay in the file until it is
//! rewritten without them (`Writer::compact`): once [`COMPACT_AFTER`]
//! purged entries are in it, or once purged records take
//! [`COMPACT_AFTER_BYTES`] and at least half the file. The new file replaces
//! the old by rename, and the offsets readers use change with it under the
//! same lock. [`LogStore::unpurged_bytes`] tells the node how large the log
//! is by bytes, so it can snapshot (and so purge) before the log grows large.
//!
//! The vote and the last purged id are in `meta.dat`, replaced atomically
//! (temp file, sync, rename). The commit index is in `committed.dat`,
//! overwritten in place (with a checksum) at most every [`COMMITTED_EVERY`]
//! and never synced: it only shortens restart, so a missing, stale or damaged
//! one is fine.
//!
//! **Faults.** A failed write or sync (a full disk, an I/O error) does not
//! stop the writer: it notes the fault in `store::health`, puts the file
//! back to what it should hold and retries until that succeeds (see
//! `writer::Writer`); openraft waits meanwhile.
//!
//! **Invariant:** openraft learns that an entry is flushed only after the
//! `fdatasync` covering it returned.
//!
//! **Invariant:** a storage fault never stops the writer, never leaves a
//! torn record before later ones, and an append is acknowledged only after
//! a sync that succeeded after it was (re)written (`tests.rs`, the two
//! fault tests).
//!
//! **Invariant:** an entry `append` was given is readable from then on until
//! it is truncated or purged: from the cache until its record is written,
//! then from the cache or the file.
//!
//! **Invariant:** on open, the log is read up to the first record that is
//! torn or fails its checksum, and cut there: a crash mid-write loses only
//! entries that were never acknowledged. A record that is intact but does
//! not decode stops the open instead (see `store::format`).

mod cache;
mod records;
mod writer;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{LogId, OptionalSend, RaftLogReader, StorageIOError, Vote};
use serde::{Deserialize, Serialize};

use crate::util::thread::JoinOnDrop;
use cache::{At, Cache, Slot};
#[cfg(test)]
use records::entry_record;
use records::{body_of, cached_entry, read_record, scan, ReadError};
use writer::{Flushed, Op, Record, Writer};

use super::health::StorageHealth;
use super::{decode, encode, Entry, NodeId, StorageError, TypeConfig};

pub(crate) const LOG_FILE: &str = "log.dat";
const META_FILE: &str = "meta.dat";
const COMMITTED_FILE: &str = "committed.dat";
/// How often the commit index is written (it changes with every entry).
const COMMITTED_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Bytes of the newest entries' records kept in memory (entries whose write
/// is queued come on top).
const CACHE_BYTES: u64 = 8 << 20;
/// Rewrite the log file without purged entries once this many are dead in it…
const COMPACT_AFTER: usize = 20_000;
/// …or once dead records take this many bytes and at least half the file:
/// a few big entries waste more disk than many small ones. Small enough
/// that what expiry purged leaves the disk soon (a dead tail of tens of MB
/// otherwise stayed until the next big purge); a rewrite copies at most the
/// live half, so each byte is copied about once per halving of the file.
const COMPACT_AFTER_BYTES: u64 = 8 << 20;

/// The bounds above; tests open stores with small ones.
#[derive(Debug, Clone, Copy)]
struct Limits {
    cache_bytes: u64,
    compact_after: usize,
    compact_after_bytes: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            cache_bytes: CACHE_BYTES,
            compact_after: COMPACT_AFTER,
            compact_after_bytes: COMPACT_AFTER_BYTES,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    vote: Option<Vote<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
}

/// What readers see.
struct Memory {
    /// Every entry not purged, by index: its id and where its record is.
    slots: BTreeMap<u64, Slot>,
    /// Bodies of the newest entries, and of every entry whose write is queued.
    cache: Cache,
    /// The log file as readers see it. Compaction replaces it and shifts the
    /// offsets in `slots` under one lock, so a reader always takes an offset
    /// with the file it is an offset into.
    file: Arc<File>,
    /// Numbers appends, so the writer finds the slot of the record it wrote:
    /// an index can be truncated and appended again while its first write is
    /// still queued.
    next_seq: u64,
    meta: Meta,
    committed: Option<LogId<NodeId>>,
}

/// Encoded bytes of the entries not purged (records with their headers);
/// see [`LogStore::unpurged_bytes`]. Holding it keeps neither the store nor
/// its directory open, unlike a `LogStore` clone.
#[derive(Debug, Clone, Default)]
pub struct UnpurgedBytes(Arc<AtomicU64>);

impl UnpurgedBytes {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Changed only under the memory lock, so additions and subtractions
    /// cannot cross.
    fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
}

/// Cheap to clone: the log reader handed to replication tasks is a clone.
#[derive(Clone)]
pub struct LogStore {
    memory: Arc<Mutex<Memory>>,
    unpurged: UnpurgedBytes,
    writer: mpsc::Sender<Op>,
    /// Tells the writer, once the last handle is gone, to stop retrying a
    /// write that fails (declared before `_thread`, which waits for it).
    _closing: Arc<Closing>,
    /// Makes the writer's next file operations fail (see `Writer::inject`).
    #[cfg(test)]
    inject: Arc<writer::Inject>,
    /// Declared after `writer`: fields drop in order, so every clone lets go
    /// of its sender before its share of the thread. When the last share
    /// goes, no sender is left and the thread ends once it has done all
    /// that was queued.
    _thread: Arc<JoinOnDrop>,
}

/// Sets its flag when dropped.
struct Closing(Arc<std::sync::atomic::AtomicBool>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_logs(&e).into()
}

#[derive(Debug, thiserror::Error)]
#[error("the log writer thread has stopped")]
struct WriterGone;

impl LogStore {
    /// Opens the log in `dir`; the writer notes storage faults in `health`.
    pub fn open(dir: &Path, health: &StorageHealth) -> std::io::Result<LogStore> {
        LogStore::open_with(dir, Limits::default(), health)
    }

    fn open_with(dir: &Path, limits: Limits, health: &StorageHealth) -> std::io::Result<LogStore> {
        std::fs::create_dir_all(dir)?;
        let lock = File::create(dir.join("LOCK"))?;
        // SAFETY: flock on a file descriptor we own; released when it closes.
        if unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&lock),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        } != 0
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "the data directory is in use by another isnode process",
            ));
        }
        let has_data = [
            LOG_FILE,
            META_FILE,
            super::state_machine::SNAPSHOT_FILE,
            super::disk::STORE_FILE,
        ]
        .iter()
        .any(|f| dir.join(f).exists());
        super::format::check_or_mark(dir, has_data)?;
        let meta: Meta = match std::fs::read(dir.join(META_FILE)) {
            Ok(bytes) => decode(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Meta::default(),
            Err(e) => return Err(e),
        };
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let purged = meta.last_purged.map(|l| l.index);
        let mut offsets = BTreeMap::new();
        let mut slots = BTreeMap::new();
        // The cache starts empty: entries are read from the file until
        // new ones are appended.
        let cache = Cache::new(limits.cache_bytes);
        let unpurged = UnpurgedBytes::default();
        let good = scan(&file, |offset, len, log_id| {
            let index = log_id.index;
            offsets.insert(index, offset);
            if purged.is_none_or(|p| index > p) {
                let slot = Slot {
                    log_id,
                    len,
                    at: At::File(offset),
                };
                slots.insert(index, slot);
                unpurged.add(len);
            }
        })?;
        if good < file.metadata()?.len() {
            tracing::warn!(
                kept_bytes = good,
                "the Raft log ends in a torn record; cutting it there"
            );
            file.set_len(good)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        let committed = std::fs::read(dir.join(COMMITTED_FILE))
            .ok()
            .and_then(|b| body_of(&b).and_then(|body| decode::<Option<LogId<NodeId>>>(body).ok()))
            .flatten();
        let file = Arc::new(file);
        let memory = Arc::new(Mutex::new(Memory {
            slots,
            cache,
            file: file.clone(),
            next_seq: 0,
            meta,
            committed,
        }));
        let (tx, rx) = mpsc::channel();
        let closing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        #[cfg(test)]
        let inject = Arc::new(writer::Inject::default());
        let writer = Writer {
            dir: dir.to_path_buf(),
            file,
            len: good,
            synced_len: good,
            pending: Vec::new(),
            health: health.clone(),
            closing: closing.clone(),
            #[cfg(test)]
            inject: inject.clone(),
            offsets,
            memory: memory.clone(),
            limits,
            _lock: lock,
            committed_file: OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(dir.join(COMMITTED_FILE))?,
            committed_at: std::time::Instant::now() - COMMITTED_EVERY,
        };
        // Joined when the last handle goes: the thread holds the directory's
        // lock until it has written what was queued.
        let thread = JoinOnDrop::spawn("raft-log-writer", move || writer.run(rx))?;
        Ok(LogStore {
            memory,
            unpurged,
            writer: tx,
            _closing: Arc::new(Closing(closing)),
            #[cfg(test)]
            inject,
            _thread: Arc::new(thread),
        })
    }

    /// Encoded bytes of the entries after the last purge: what a snapshot
    /// (and the purge after it) would let go. The node snapshots when this
    /// grows large, besides openraft's count of entries.
    pub fn unpurged_bytes(&self) -> u64 {
        self.unpurged.get()
    }

    /// The same figure, readable after the store is closed (then it stays).
    pub fn unpurged_bytes_gauge(&self) -> UnpurgedBytes {
        self.unpurged.clone()
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        lock(&self.memory)
    }

    fn send(&self, op: Op) -> Result<(), StorageError> {
        self.writer.send(op).map_err(|_| write_err(WriterGone))
    }

    /// Writes the metadata with `change` applied and waits for the sync.
    async fn save_meta(&self, change: impl FnOnce(&mut Meta)) -> Result<(), StorageError> {
        let meta = {
            let mut m = self.memory();
            change(&mut m.meta);
            m.meta.clone()
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Op::Meta { meta, done: tx })?;
        rx.await.map_err(|_| write_err(WriterGone))?.map_err(write_err)
    }

    /// Makes `entries` readable and queues their write; `callback` hears
    /// when they are durable.
    fn queue_append(
        &self,
        entries: impl IntoIterator<Item = Entry>,
        callback: Flushed,
    ) -> Result<(), StorageError> {
        // Encoded before taking the lock: a big entry takes a while.
        let mut framed = Vec::new();
        for e in entries {
            let record: Arc<[u8]> = records::entry_record(&e).map_err(write_err)?.into();
            framed.push((e.log_id, record));
        }
        let mut records = Vec::with_capacity(framed.len());
        {
            let mut guard = self.memory();
            let m = &mut *guard;
            for (log_id, bytes) in framed {
                let (index, len, seq) = (log_id.index, bytes.len() as u64, m.next_seq);
                m.next_seq += 1;
                let slot = Slot {
                    log_id,
                    len,
                    at: At::Queued(seq),
                };
                if let Some(old) = m.slots.insert(index, slot) {
                    self.unpurged.sub(old.len);
                }
                self.unpurged.add(len);
                m.cache.insert(index, bytes.clone(), true);
                records.push(Record { index, seq, bytes });
            }
            m.cache.evict();
        }
        self.send(Op::Append { records, callback })
    }
}

fn lock(memory: &Mutex<Memory>) -> MutexGuard<'_, Memory> {
    memory.lock().unwrap_or_else(|p| p.into_inner())
}

impl RaftLogReader<TypeConfig> for LogStore {
    /// Records in the cache are taken under the lock and decoded after it;
    /// the others are read from the file, with a blocking `pread` on this
    /// task's thread (rare: only readers far behind the newest entries miss
    /// the cache).
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (file, found) = {
            let m = self.memory();
            let found: Vec<(Slot, Option<Arc<[u8]>>)> = m
                .slots
                .range(range)
                .map(|(&index, slot)| (*slot, m.cache.get(index).cloned()))
                .collect();
            (m.file.clone(), found)
        };
        found
            .into_iter()
            .map(|(slot, cached)| {
                match (cached, slot.at) {
                    (Some(record), _) => cached_entry(&record),
                    (None, At::File(offset)) => read_record(&file, &slot, offset),
                    (None, At::Queued(_)) => Err(ReadError::Missing),
                }
                .map_err(|e| StorageIOError::read_log_at_index(slot.log_id.index, &e).into())
            })
            .collect()
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let m = self.memory();
        let last_purged = m.meta.last_purged;
        let last = m.slots.values().next_back().map(|s| s.log_id).or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError> {
        let vote = *vote;
        self.save_meta(|m| m.vote = Some(vote)).await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError> {
        Ok(self.memory().meta.vote)
    }

    /// The commit index only shortens restart (entries up to it are applied
    /// again at once); it is written without waiting for the sync.
    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> Result<(), StorageError> {
        self.memory().committed = committed;
        self.send(Op::Committed(committed))
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError> {
        Ok(self.memory().committed)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        self.queue_append(entries, Flushed::Raft(callback))
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        {
            let mut m = self.memory();
            let gone = m.slots.split_off(&log_id.index);
            self.unpurged.sub(gone.values().map(|s| s.len).sum());
            m.cache.remove_from(log_id.index);
        }
        self.send(Op::Truncate { index: log_id.index })
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        {
            let mut m = self.memory();
            let kept = match log_id.index.checked_add(1) {
                Some(next) => m.slots.split_off(&next),
                None => BTreeMap::new(),
            };
            let gone = std::mem::replace(&mut m.slots, kept);
            self.unpurged.sub(gone.values().map(|s| s.len).sum());
            m.cache.remove_upto(log_id.index);
        }
        self.save_meta(|m| m.last_purged = Some(log_id)).await?;
        self.send(Op::Compact { upto: log_id.index })
    }
}

#[cfg(test)]
mod tests;
