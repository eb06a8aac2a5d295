//! The Raft log, vote and commit index under `DATA/raft/`, with group commit.
//!
//! Entries live in one append-only file (`log.dat`) of checksummed records
//! and, until purged, in memory, where readers find them. Every change goes
//! through one writer thread, in order: it takes all requests that are
//! waiting, writes them, calls `fdatasync` once for the whole batch and only
//! then tells openraft the entries are flushed. Under load many entries share
//! one sync; a lone entry costs one `write` + `fdatasync`.
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
//! **Invariant:** on open, the log is read up to the first record that is
//! torn or fails its checksum, and cut there: a crash mid-write loses only
//! entries that were never acknowledged. A record that is intact but does
//! not decode stops the open instead (see `store::format`).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
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
/// Rewrite the log file without purged entries once this many are dead in it.
const COMPACT_AFTER: usize = 20_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Meta {
    vote: Option<Vote<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
}

/// What readers see: the entries not purged, by index.
#[derive(Default)]
struct Memory {
    entries: BTreeMap<u64, Entry>,
    meta: Meta,
    committed: Option<LogId<NodeId>>,
}

enum Op {
    Append {
        records: Vec<(u64, Vec<u8>)>,
        callback: LogFlushed<TypeConfig>,
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

/// Cheap to clone: the log reader handed to replication tasks is a clone.
#[derive(Clone)]
pub struct LogStore {
    memory: Arc<Mutex<Memory>>,
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

/// One record: u32 length, u32 CRC-32 of the body, the body (an encoded entry).
fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of a single framed record, if it is intact.
fn unframe(bytes: &[u8]) -> Option<Vec<u8>> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?);
    let body = bytes.get(8..8 + len)?;
    (crc32fast::hash(body) == crc).then(|| body.to_vec())
}

/// Reads records until the end or the first damaged one; answers the
/// entries with their file offsets, and the length of the intact prefix.
fn scan(file: &File) -> std::io::Result<(Vec<(u64, Entry)>, u64)> {
    let mut r = BufReader::new(file);
    let (mut entries, mut good) = (Vec::new(), 0u64);
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
        entries.push((good, entry));
        good += 8 + len as u64;
    }
    Ok((entries, good))
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
        let (entries, good) = scan(&file)?;
        if good < file.metadata()?.len() {
            tracing::warn!(
                kept_bytes = good,
                "the Raft log ends in a torn record; cutting it there"
            );
            file.set_len(good)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        let purged = meta.last_purged.map(|l| l.index);
        let committed = std::fs::read(dir.join(COMMITTED_FILE))
            .ok()
            .and_then(|b| unframe(&b))
            .and_then(|body| decode::<Option<LogId<NodeId>>>(&body).ok())
            .flatten();
        let mut memory = Memory {
            entries: BTreeMap::new(),
            meta,
            committed,
        };
        let mut offsets = BTreeMap::new();
        for (offset, entry) in entries {
            let index = entry.log_id.index;
            offsets.insert(index, offset);
            if purged.is_none_or(|p| index > p) {
                memory.entries.insert(index, entry);
            }
        }
        let memory = Arc::new(Mutex::new(memory));
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            dir: dir.to_path_buf(),
            file,
            len: good,
            offsets,
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
            writer: tx,
            _thread: Arc::new(WriterThread(Some(thread))),
        })
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
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
}

/// The thread that owns the log file.
struct Writer {
    dir: PathBuf,
    file: File,
    len: u64,
    /// File offset of each entry's record still in the file.
    offsets: BTreeMap<u64, u64>,
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
                cb.log_io_completed(r);
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
        std::os::unix::fs::FileExt::write_all_at(&self.committed_file, &record, 0)
    }

    fn append(&mut self, records: &[(u64, Vec<u8>)]) -> std::io::Result<()> {
        let mut buf = Vec::new();
        for (index, record) in records {
            self.offsets.insert(*index, self.len + buf.len() as u64);
            buf.extend_from_slice(record);
        }
        self.file.write_all(&buf)?;
        self.len += buf.len() as u64;
        Ok(())
    }

    fn truncate(&mut self, index: u64) -> std::io::Result<()> {
        if let Some(&offset) = self.offsets.get(&index) {
            self.file.set_len(offset)?;
            self.file.seek(SeekFrom::End(0))?;
            self.len = offset;
            self.offsets.retain(|i, _| *i < index);
        }
        Ok(())
    }

    /// Rewrites the file without entries up to `upto` when enough are dead.
    fn compact(&mut self, upto: u64) -> std::io::Result<()> {
        let dead = self.offsets.range(..=upto).count();
        if dead < COMPACT_AFTER {
            return Ok(());
        }
        let keep_from = match self.offsets.range(upto + 1..).next() {
            Some((_, &off)) => off,
            None => self.len,
        };
        let mut rest = Vec::new();
        let mut src = File::open(self.dir.join(LOG_FILE))?;
        src.seek(SeekFrom::Start(keep_from))?;
        src.read_to_end(&mut rest)?;
        let tmp = self.dir.join("log.tmp");
        let mut f = File::create(&tmp)?;
        f.write_all(&rest)?;
        f.sync_all()?;
        std::fs::rename(&tmp, self.dir.join(LOG_FILE))?;
        File::open(&self.dir)?.sync_all()?;
        self.file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(self.dir.join(LOG_FILE))?;
        self.offsets = self
            .offsets
            .range(upto + 1..)
            .map(|(i, off)| (*i, off - keep_from))
            .collect();
        self.len = rest.len() as u64;
        tracing::debug!(dropped = dead, "compacted the Raft log file");
        Ok(())
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(self
            .memory()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let m = self.memory();
        let last_purged = m.meta.last_purged;
        let last = m.entries.values().next_back().map(|e| e.log_id).or(last_purged);
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
        let mut records = Vec::new();
        {
            let mut m = self.memory();
            for e in entries {
                let body = encode(&e).map_err(write_err)?;
                records.push((e.log_id.index, frame(&body)));
                m.entries.insert(e.log_id.index, e);
            }
        }
        self.send(Op::Append { records, callback })
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        self.memory().entries.retain(|i, _| *i < log_id.index);
        self.send(Op::Truncate { index: log_id.index })
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError> {
        self.memory().entries.retain(|i, _| *i > log_id.index);
        self.save_meta(|m| m.last_purged = Some(log_id)).await?;
        self.send(Op::Compact { upto: log_id.index })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(index: u64) -> Entry {
        Entry {
            log_id: LogId::new(openraft::CommittedLeaderId::new(1, 1), index),
            payload: openraft::EntryPayload::Blank,
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
            store.memory().entries.keys().copied().collect::<Vec<_>>(),
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
        assert_eq!(
            store.memory().entries.keys().copied().collect::<Vec<_>>(),
            vec![1]
        );
    }
}
