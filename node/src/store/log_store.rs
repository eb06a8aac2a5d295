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
//! Bodies are in a cache of the newest entries, bounded by their encoded
//! size ([`CACHE_BYTES`]): replication and openraft's apply read the newest
//! entries, so they nearly always find them there; anything older is read
//! back from the file (`pread`, checksum verified, decoded). An entry whose
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
//! **Invariant:** openraft learns that an entry is flushed only after the
//! `fdatasync` covering it returned.
//!
//! **Invariant:** an entry `append` was given is readable from then on until
//! it is truncated or purged: from the cache until its record is written,
//! then from the cache or the file.
//!
//! **Invariant:** on open, the log is read up to the first record that is
//! torn or fails its checksum, and cut there: a crash mid-write loses only
//! entries that were never acknowledged. A record that is intact but does
//! not decode stops the open instead (see `store::format`).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::ops::RangeBounds;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{LogId, OptionalSend, RaftLogReader, StorageIOError, Vote};
use serde::{Deserialize, Serialize};

use super::{decode, encode, Entry, NodeId, StorageError, TypeConfig};

const LOG_FILE: &str = "log.dat";
const META_FILE: &str = "meta.dat";
const COMMITTED_FILE: &str = "committed.dat";
/// How often the commit index is written (it changes with every entry).
const COMMITTED_EVERY: std::time::Duration = std::time::Duration::from_millis(200);
/// Encoded bytes of the newest entries kept in memory (entries whose write
/// is queued come on top).
const CACHE_BYTES: u64 = 32 << 20;
/// Rewrite the log file without purged entries once this many are dead in it…
const COMPACT_AFTER: usize = 20_000;
/// …or once dead records take this many bytes and at least half the file:
/// a few big entries waste more disk than many small ones.
const COMPACT_AFTER_BYTES: u64 = 64 << 20;

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

#[derive(Debug, Clone, Copy)]
struct Slot {
    log_id: LogId<NodeId>,
    /// Bytes of the record, its header included.
    len: u64,
    at: At,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Append number `seq` is queued for the writer; the body is in the
    /// cache, pinned there.
    Queued(u64),
    /// Written at this offset of `Memory::file`.
    File(u64),
}

struct Cached {
    entry: Entry,
    len: u64,
    /// Its write is queued: the cache is the only place it can be read.
    pinned: bool,
}

/// The newest entries by index, evicted oldest first once their encoded
/// bytes pass `limit`; pinned ones are never evicted.
struct Cache {
    entries: BTreeMap<u64, Cached>,
    bytes: u64,
    limit: u64,
}

impl Cache {
    fn new(limit: u64) -> Cache {
        Cache {
            entries: BTreeMap::new(),
            bytes: 0,
            limit,
        }
    }

    fn get(&self, index: u64) -> Option<&Entry> {
        self.entries.get(&index).map(|c| &c.entry)
    }

    fn insert(&mut self, entry: Entry, len: u64, pinned: bool) {
        let index = entry.log_id.index;
        if let Some(old) = self.entries.insert(index, Cached { entry, len, pinned }) {
            self.bytes -= old.len;
        }
        self.bytes += len;
    }

    fn unpin(&mut self, index: u64) {
        if let Some(c) = self.entries.get_mut(&index) {
            c.pinned = false;
        }
    }

    /// Drops entries from `index` on (truncation).
    fn remove_from(&mut self, index: u64) {
        let gone = self.entries.split_off(&index);
        self.bytes -= gone.values().map(|c| c.len).sum::<u64>();
    }

    /// Drops entries up to `index` (purge).
    fn remove_upto(&mut self, index: u64) {
        let kept = match index.checked_add(1) {
            Some(next) => self.entries.split_off(&next),
            None => BTreeMap::new(),
        };
        let gone = std::mem::replace(&mut self.entries, kept);
        self.bytes -= gone.values().map(|c| c.len).sum::<u64>();
    }

    /// Evicts the oldest unpinned entries until within the limit (or only
    /// pinned ones are left).
    fn evict(&mut self) {
        if self.bytes <= self.limit {
            return;
        }
        let mut over = self.bytes - self.limit;
        let mut gone = Vec::new();
        for (index, c) in &self.entries {
            if over == 0 {
                break;
            }
            if !c.pinned {
                gone.push(*index);
                over = over.saturating_sub(c.len);
            }
        }
        for index in gone {
            if let Some(c) = self.entries.remove(&index) {
                self.bytes -= c.len;
            }
        }
    }
}

/// How the writer tells that an append is flushed.
enum Flushed {
    Raft(LogFlushed<TypeConfig>),
    /// Tests append without openraft, which alone can make a `LogFlushed`.
    #[cfg(test)]
    Test(tokio::sync::oneshot::Sender<std::io::Result<()>>),
}

impl Flushed {
    fn done(self, result: std::io::Result<()>) {
        match self {
            Flushed::Raft(cb) => cb.log_io_completed(result),
            #[cfg(test)]
            Flushed::Test(tx) => {
                let _ = tx.send(result);
            }
        }
    }
}

/// One framed entry to write; `seq` as in [`At::Queued`].
struct Record {
    index: u64,
    seq: u64,
    bytes: Vec<u8>,
}

enum Op {
    Append {
        records: Vec<Record>,
        callback: Flushed,
    },
    /// Remove entries from `index` on.
    Truncate {
        index: u64,
    },
    /// Write the metadata durably, then answer.
    Meta {
        meta: Meta,
        done: tokio::sync::oneshot::Sender<std::io::Result<()>>,
    },
    Committed(Option<LogId<NodeId>>),
    /// Drop purged entries from the file when enough are dead.
    Compact {
        upto: u64,
    },
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
    /// Declared after `writer`: fields drop in order, so every clone lets go
    /// of its sender before its share of the thread. When the last share
    /// goes, no sender is left and the thread ends once it has done all
    /// that was queued.
    _thread: Arc<WriterThread>,
}

/// Waits for the writer thread when the last handle to the store is dropped.
///
/// Without it, dropping the store returned while the thread was still
/// writing what was queued (a truncation, say) and still held the
/// directory's lock, so opening the directory again in the same process
/// failed as "in use by another isnode process" (found by the reopen test in
/// `conformance.rs`). Only what was already queued is waited for: a few
/// writes and `fdatasync`s, at shutdown.
struct WriterThread(Option<std::thread::JoinHandle<()>>);

impl Drop for WriterThread {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            if thread.join().is_err() {
                tracing::error!("the Raft log writer thread panicked");
            }
        }
    }
}

fn write_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_logs(&e).into()
}

#[derive(Debug, thiserror::Error)]
#[error("the log writer thread has stopped")]
struct WriterGone;

#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the record at byte {0} of the log file fails its checksum")]
    Damaged(u64),
    #[error("the record at byte {0} of the log file does not decode: {1}")]
    Decode(u64, bincode::error::DecodeError),
    #[error("the record at byte {offset} of the log file holds {found}, not {expected}")]
    WrongEntry {
        offset: u64,
        expected: LogId<NodeId>,
        found: LogId<NodeId>,
    },
    #[error("the entry is neither in memory nor written (a bug)")]
    Missing,
}

/// One record: u32 length, u32 CRC-32 of the body, the body (an encoded entry).
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of a single framed record, if it is intact.
fn body_of(bytes: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(8..8 + len)?;
    (crc32fast::hash(body) == crc).then_some(body)
}

/// Reads the record of `slot` from `file`. A slot read just as its index was
/// truncated may find other bytes there; the checksum and the id catch that.
fn read_record(file: &File, slot: &Slot, offset: u64) -> Result<Entry, ReadError> {
    let mut bytes = vec![0u8; slot.len as usize];
    file.read_exact_at(&mut bytes, offset)?;
    let body = body_of(&bytes).ok_or(ReadError::Damaged(offset))?;
    let entry: Entry = decode(body).map_err(|e| ReadError::Decode(offset, e))?;
    if entry.log_id != slot.log_id {
        return Err(ReadError::WrongEntry {
            offset,
            expected: slot.log_id,
            found: entry.log_id,
        });
    }
    Ok(entry)
}

/// Reads records until the end or the first damaged one, handing each
/// entry to `each` with its file offset and record length; answers the
/// length of the intact prefix. Entries are decoded one at a time and not
/// kept here: the file can be far larger than memory should hold.
fn scan(file: &File, mut each: impl FnMut(u64, u64, Entry)) -> std::io::Result<u64> {
    let mut r = BufReader::new(file);
    let mut good = 0u64;
    loop {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let mut body = vec![0u8; len];
        if r.read_exact(&mut body).is_err() || crc32fast::hash(&body) != crc {
            break;
        }
        // An intact record that does not decode is not a torn tail: cutting
        // it would drop acknowledged entries, so refuse instead.
        let entry = decode::<Entry>(&body).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("the Raft log record at byte {good} is intact but does not decode ({e}); the log is left as it is"),
            )
        })?;
        let record = 8 + len as u64;
        each(good, record, entry);
        good += record;
    }
    Ok(good)
}

fn write_meta(dir: &Path, meta: &Meta) -> std::io::Result<()> {
    let bytes = encode(meta).map_err(std::io::Error::other)?;
    let tmp = dir.join("meta.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_data()?;
    std::fs::rename(&tmp, dir.join(META_FILE))?;
    File::open(dir)?.sync_all()
}

impl LogStore {
    pub fn open(dir: &Path) -> std::io::Result<LogStore> {
        LogStore::open_with(dir, Limits::default())
    }

    fn open_with(dir: &Path, limits: Limits) -> std::io::Result<LogStore> {
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
        let mut cache = Cache::new(limits.cache_bytes);
        let unpurged = UnpurgedBytes::default();
        let good = scan(&file, |offset, len, entry| {
            let index = entry.log_id.index;
            offsets.insert(index, offset);
            if purged.is_none_or(|p| index > p) {
                let slot = Slot {
                    log_id: entry.log_id,
                    len,
                    at: At::File(offset),
                };
                slots.insert(index, slot);
                unpurged.add(len);
                cache.insert(entry, len, false);
                cache.evict();
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
        let writer = Writer {
            dir: dir.to_path_buf(),
            file,
            len: good,
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
        let thread = std::thread::Builder::new()
            .name("raft-log-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(LogStore {
            memory,
            unpurged,
            writer: tx,
            _thread: Arc::new(WriterThread(Some(thread))),
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
            let record = frame(&encode(&e).map_err(write_err)?);
            framed.push((e, record));
        }
        let mut records = Vec::with_capacity(framed.len());
        {
            let mut guard = self.memory();
            let m = &mut *guard;
            for (entry, bytes) in framed {
                let (index, len, seq) = (entry.log_id.index, bytes.len() as u64, m.next_seq);
                m.next_seq += 1;
                let slot = Slot {
                    log_id: entry.log_id,
                    len,
                    at: At::Queued(seq),
                };
                if let Some(old) = m.slots.insert(index, slot) {
                    self.unpurged.sub(old.len);
                }
                self.unpurged.add(len);
                m.cache.insert(entry, len, true);
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

/// The thread that owns the log file.
struct Writer {
    dir: PathBuf,
    /// The same file as `Memory::file` (writes go through `O_APPEND`, reads
    /// through `pread`, so the two never share a file position).
    file: Arc<File>,
    len: u64,
    /// File offset of each entry's record still in the file, purged or not.
    offsets: BTreeMap<u64, u64>,
    memory: Arc<Mutex<Memory>>,
    limits: Limits,
    /// Held (with an exclusive `flock`) while the writer lives.
    _lock: File,
    committed_file: File,
    committed_at: std::time::Instant,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Op>) {
        while let Ok(first) = rx.recv() {
            // Group commit: everything already waiting goes into this batch.
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            let mut callbacks = Vec::new();
            let mut replies = Vec::new();
            let mut committed = None;
            let mut result: std::io::Result<()> = Ok(());
            for op in batch {
                match op {
                    Op::Append { records, callback } => {
                        if result.is_ok() {
                            result = self.append(&records);
                        }
                        callbacks.push(callback);
                    }
                    Op::Truncate { index } => {
                        if result.is_ok() {
                            result = self.truncate(index);
                        }
                    }
                    Op::Meta { meta, done } => replies.push((done, write_meta(&self.dir, &meta))),
                    Op::Committed(c) => committed = Some(c),
                    Op::Compact { upto } => {
                        if result.is_ok() {
                            result = self.compact(upto);
                        }
                    }
                }
            }
            if result.is_ok() && !callbacks.is_empty() {
                result = self.file.sync_data();
            }
            if let Some(c) = committed {
                if let Err(e) = self.write_committed(c) {
                    tracing::warn!(error = %e, "cannot save the Raft commit index");
                }
            }
            for cb in callbacks {
                let r = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
                };
                cb.done(r);
            }
            for (tx, r) in replies {
                let _ = tx.send(r);
            }
            if let Err(e) = result {
                tracing::error!(error = %e, "writing the Raft log failed; the log writer stops");
                return;
            }
        }
    }

    /// Best effort and unsynced (see the module header).
    fn write_committed(&mut self, committed: Option<LogId<NodeId>>) -> std::io::Result<()> {
        if self.committed_at.elapsed() < COMMITTED_EVERY {
            return Ok(());
        }
        self.committed_at = std::time::Instant::now();
        let record = frame(&encode(&committed).map_err(std::io::Error::other)?);
        self.committed_file.write_all_at(&record, 0)
    }

    /// Writes the records, then tells readers where they are and lets the
    /// cache evict them: from here on they can be read from the file (the
    /// page cache), synced or not.
    fn append(&mut self, records: &[Record]) -> std::io::Result<()> {
        let mut buf = Vec::new();
        let mut written = Vec::with_capacity(records.len());
        for r in records {
            let offset = self.len + buf.len() as u64;
            self.offsets.insert(r.index, offset);
            written.push((r.index, r.seq, offset));
            buf.extend_from_slice(&r.bytes);
        }
        (&*self.file).write_all(&buf)?;
        self.len += buf.len() as u64;
        let mut guard = lock(&self.memory);
        let m = &mut *guard;
        for (index, seq, offset) in written {
            // Not so if the index was truncated (and maybe appended again)
            // while this write was queued.
            if let Some(slot) = m.slots.get_mut(&index).filter(|s| s.at == At::Queued(seq)) {
                slot.at = At::File(offset);
                m.cache.unpin(index);
            }
        }
        m.cache.evict();
        Ok(())
    }

    fn truncate(&mut self, index: u64) -> std::io::Result<()> {
        if let Some((_, &offset)) = self.offsets.range(index..).next() {
            self.file.set_len(offset)?;
            (&*self.file).seek(SeekFrom::End(0))?;
            self.len = offset;
            drop(self.offsets.split_off(&index));
        }
        Ok(())
    }

    /// Rewrites the file without entries up to `upto` when enough of it is
    /// dead, by count or by bytes.
    fn compact(&mut self, upto: u64) -> std::io::Result<()> {
        let dead = self.offsets.range(..=upto).count();
        // Records are in the file in index order, so the dead ones are the
        // front of it, up to the first one kept.
        let keep_from = match self.offsets.range(upto + 1..).next() {
            Some((_, &off)) => off,
            None => self.len,
        };
        let by_count = dead >= self.limits.compact_after;
        let by_bytes = keep_from >= self.limits.compact_after_bytes && keep_from * 2 >= self.len;
        if dead == 0 || !(by_count || by_bytes) {
            return Ok(());
        }
        let path = self.dir.join(LOG_FILE);
        let tmp = self.dir.join("log.tmp");
        let mut src = File::open(&path)?;
        src.seek(SeekFrom::Start(keep_from))?;
        let mut out = File::create(&tmp)?;
        // Copied file to file (the kernel's copy_file_range where it can),
        // not through a buffer as large as what is kept.
        let kept = std::io::copy(&mut src.take(self.len - keep_from), &mut out)?;
        if kept != self.len - keep_from {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the Raft log file is shorter than written",
            ));
        }
        out.sync_all()?;
        drop(out);
        std::fs::rename(&tmp, &path)?;
        File::open(&self.dir)?.sync_all()?;
        let file = Arc::new(OpenOptions::new().read(true).append(true).open(&path)?);
        let live = self.offsets.split_off(&(upto + 1));
        self.offsets = live.into_iter().map(|(i, off)| (i, off - keep_from)).collect();
        self.len = kept;
        {
            // Readers that took the old file and an old offset before this
            // still read the old file (open, though unlinked): both stay
            // right together.
            let mut m = lock(&self.memory);
            m.file = file.clone();
            for slot in m.slots.values_mut() {
                if let At::File(off) = &mut slot.at {
                    // Slots are all after the purge, so at or past
                    // `keep_from`; were one not, the id check on reading
                    // would refuse what it finds.
                    *off = off.saturating_sub(keep_from);
                }
            }
        }
        self.file = file;
        tracing::debug!(
            dropped = dead,
            dropped_bytes = keep_from,
            kept_bytes = kept,
            "compacted the Raft log file"
        );
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    /// Entries in the cache are cloned under the lock; the others are read
    /// from the file after it, with a blocking `pread` on this task's thread
    /// (rare: only readers far behind the newest entries miss the cache).
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        let (file, found) = {
            let m = self.memory();
            let found: Vec<Result<Entry, (Slot, Option<u64>)>> = m
                .slots
                .range(range)
                .map(|(&index, slot)| match (m.cache.get(index), slot.at) {
                    (Some(e), _) => Ok(e.clone()),
                    (None, At::File(offset)) => Err((*slot, Some(offset))),
                    (None, At::Queued(_)) => Err((*slot, None)),
                })
                .collect();
            (m.file.clone(), found)
        };
        found
            .into_iter()
            .map(|f| match f {
                Ok(entry) => Ok(entry),
                Err((slot, offset)) => offset
                    .ok_or(ReadError::Missing)
                    .and_then(|offset| read_record(&file, &slot, offset))
                    .map_err(|e| StorageIOError::read_log_at_index(slot.log_id.index, &e).into()),
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
mod tests {
    use super::*;
    use crate::store::Command;
    use openraft::{CommittedLeaderId, EntryPayload};

    fn entry(index: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Blank,
        }
    }

    /// About 16 KiB, with contents that tell the term and index apart.
    fn big(term: u64, index: u64) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
            payload: EntryPayload::Normal(Command::CacheSet {
                key: format!("k{term}-{index}"),
                value: vec![(index * 7 + term) as u8; 16 << 10],
                expires_at_ms: None,
            }),
        }
    }

    fn bigs(term: u64, indexes: std::ops::RangeInclusive<u64>) -> Vec<Entry> {
        indexes.map(|i| big(term, i)).collect()
    }

    /// A cache of four big entries; compaction by bytes from 256 KiB dead.
    fn small() -> Limits {
        Limits {
            cache_bytes: 64 << 10,
            compact_after: COMPACT_AFTER,
            compact_after_bytes: 256 << 10,
        }
    }

    fn record_bytes(entries: &[Entry]) -> u64 {
        entries
            .iter()
            .map(|e| frame(&encode(e).unwrap()).len() as u64)
            .sum()
    }

    fn file_len(dir: &Path) -> u64 {
        std::fs::metadata(dir.join(LOG_FILE)).unwrap().len()
    }

    impl LogStore {
        /// Appends and waits until the entries are durable.
        async fn append_flushed(&self, entries: Vec<Entry>) {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.queue_append(entries, Flushed::Test(tx)).unwrap();
            rx.await.unwrap().unwrap();
        }

        /// Waits until the writer has done everything queued before (a
        /// metadata write is queued behind it and answered after).
        async fn settle(&self) {
            self.save_meta(|_| {}).await.unwrap();
        }
    }

    #[test]
    fn a_torn_tail_is_cut_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for i in 1..=3 {
            bytes.extend(frame(&encode(&entry(i)).unwrap()));
        }
        let full = bytes.len();
        bytes.extend(&frame(&encode(&entry(4)).unwrap())[..5]);
        super::super::format::check_or_mark(dir.path(), false).unwrap();
        std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(
            store.memory().slots.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            std::fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(),
            full as u64
        );
    }

    #[test]
    fn a_corrupted_record_ends_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        for i in 1..=3 {
            bytes.extend(frame(&encode(&entry(i)).unwrap()));
        }
        let second = frame(&encode(&entry(1)).unwrap()).len();
        bytes[second + 9] ^= 0xff; // flip a byte in the second record's body
        super::super::format::check_or_mark(dir.path(), false).unwrap();
        std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
        let store = LogStore::open(dir.path()).unwrap();
        assert_eq!(store.memory().slots.keys().copied().collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn the_cache_evicts_oldest_first_but_never_an_entry_waiting_for_its_write() {
        let mut cache = Cache::new(100);
        cache.insert(entry(1), 80, false);
        cache.insert(entry(2), 80, true);
        cache.insert(entry(3), 80, true);
        cache.evict();
        assert_eq!(cache.entries.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(cache.bytes, 160);
        cache.unpin(2);
        cache.evict();
        assert_eq!(cache.entries.keys().copied().collect::<Vec<_>>(), vec![3]);
        assert_eq!(cache.bytes, 80);
    }

    #[tokio::test]
    async fn an_entry_out_of_the_cache_is_read_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LogStore::open_with(dir.path(), small()).unwrap();
        let entries = bigs(1, 1..=20);
        store.append_flushed(entries.clone()).await;
        {
            let m = store.memory();
            assert!(m.cache.get(1).is_none(), "the oldest entry left the cache");
            assert!(m.cache.get(20).is_some(), "the newest is still there");
            assert!(m.cache.bytes <= small().cache_bytes);
        }
        assert_eq!(
            store.try_get_log_entries(1..=1).await.unwrap(),
            vec![entries[0].clone()]
        );
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), entries);
        assert_eq!(store.unpurged_bytes(), record_bytes(&entries));
        assert_eq!(store.unpurged_bytes(), file_len(dir.path()));
    }

    /// No cache at all: every read of a written entry is a file read. An
    /// append is queued, and the index truncated and appended again while
    /// the first write may still be waiting.
    #[tokio::test]
    async fn a_truncated_and_rewritten_tail_reads_back_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            cache_bytes: 0,
            ..small()
        };
        let expected = [bigs(1, 1..=5), bigs(2, 6..=8)].concat();
        {
            let mut store = LogStore::open_with(dir.path(), limits).unwrap();
            let (tx, first) = tokio::sync::oneshot::channel();
            store.queue_append(bigs(1, 1..=10), Flushed::Test(tx)).unwrap();
            // Readable at once, written or not (the cache holds nothing
            // else: these are pinned there until written).
            assert_eq!(store.try_get_log_entries(..).await.unwrap(), bigs(1, 1..=10));
            store.truncate(big(1, 6).log_id).await.unwrap();
            store.append_flushed(bigs(2, 6..=8)).await;
            first.await.unwrap().unwrap();
            assert_eq!(store.try_get_log_entries(..).await.unwrap(), expected);
            assert_eq!(store.memory().cache.bytes, 0);
            assert_eq!(store.unpurged_bytes(), record_bytes(&expected));
            assert_eq!(file_len(dir.path()), record_bytes(&expected));
        }
        let mut store = LogStore::open_with(dir.path(), limits).unwrap();
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), expected);
        assert_eq!(store.unpurged_bytes(), record_bytes(&expected));
    }

    /// Appends 40 big entries and purges them up to 30: 30 dead records of
    /// 16 KiB pass 256 KiB and half the file. Answers the entries kept.
    async fn compact_by_bytes(dir: &Path) -> Vec<Entry> {
        let mut store = LogStore::open_with(dir, small()).unwrap();
        let entries = bigs(1, 1..=40);
        store.append_flushed(entries.clone()).await;
        let full = file_len(dir);
        assert_eq!(full, record_bytes(&entries));

        // 5 dead entries are too few bytes: the file stays.
        store.purge(entries[4].log_id).await.unwrap();
        store.settle().await;
        assert_eq!(file_len(dir), full);
        assert_eq!(store.unpurged_bytes(), record_bytes(&entries[5..]));

        store.purge(entries[29].log_id).await.unwrap();
        store.settle().await;
        let kept = &entries[30..];
        assert_eq!(
            file_len(dir),
            record_bytes(kept),
            "the file holds only what is kept"
        );
        assert_eq!(store.unpurged_bytes(), record_bytes(kept));
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);

        // Appends after the compaction land at the right offsets of the
        // new file.
        let more = bigs(1, 41..=45);
        store.append_flushed(more.clone()).await;
        let kept = [kept, &more].concat();
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);
        assert_eq!(file_len(dir), record_bytes(&kept));
        kept
    }

    #[tokio::test]
    async fn purging_big_entries_compacts_the_file_by_bytes() {
        let dir = tempfile::tempdir().unwrap();
        compact_by_bytes(dir.path()).await;
    }

    #[tokio::test]
    async fn a_compacted_log_reopens_with_the_same_entries() {
        let dir = tempfile::tempdir().unwrap();
        let kept = compact_by_bytes(dir.path()).await;
        let mut store = LogStore::open_with(dir.path(), small()).unwrap();
        assert_eq!(store.try_get_log_entries(..).await.unwrap(), kept);
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(big(1, 30).log_id));
        assert_eq!(state.last_log_id, Some(big(1, 45).log_id));
        assert_eq!(store.unpurged_bytes(), record_bytes(&kept));
    }
}
