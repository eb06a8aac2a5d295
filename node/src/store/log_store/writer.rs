//! The writer thread that owns the log file: what it is sent ([`Op`]), group
//! commit (one `fdatasync` per batch before openraft hears of it),
//! truncation, compaction, `meta.dat` and the unsynced `committed.dat`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use openraft::storage::LogFlushed;
use openraft::LogId;

use super::cache::At;
use super::records::{frame, write_meta};
use crate::store::health::{retry_until_written, StorageHealth};

use super::{encode, lock, Limits, Memory, Meta, NodeId, TypeConfig, COMMITTED_EVERY, LOG_FILE};

/// How the writer tells that an append is flushed.
pub(super) enum Flushed {
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
pub(super) struct Record {
    pub(super) index: u64,
    pub(super) seq: u64,
    /// Shared with the cache.
    pub(super) bytes: std::sync::Arc<[u8]>,
}

pub(super) enum Op {
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

/// The thread that owns the log file.
///
/// **Faults.** A failed write, truncation or sync does not stop it: what
/// the file should hold is always what the last successful sync covered
/// (`synced_len` bytes, durable) followed by the records written since
/// (`pending`, kept in memory). After any failure the writer cuts the file
/// back to `synced_len`, writes the pending records again and syncs, and
/// retries that until it succeeds ([`Writer::settle`]), noting the fault
/// in [`StorageHealth`] meanwhile. So a torn record never stays in the
/// middle of the log, and a failed `fdatasync` (after which Linux may have
/// dropped the dirty pages it could not write) is never followed by a
/// sync that only seems to succeed: the pages are written again first.
/// openraft hears of an append only once it is synced, so while the disk
/// is full writes wait, and nothing is acknowledged that is not durable.
pub(super) struct Writer {
    pub(super) dir: PathBuf,
    /// The same file as `Memory::file` (writes go through `O_APPEND`, reads
    /// through `pread`, so the two never share a file position).
    pub(super) file: Arc<File>,
    /// The file's length as written (what it holds once settled).
    pub(super) len: u64,
    /// The length the last successful sync covered.
    pub(super) synced_len: u64,
    /// The records written after `synced_len`, in file order, with their
    /// offsets: what a failure makes the writer write again.
    pub(super) pending: Vec<(u64, Arc<[u8]>)>,
    /// File offset of each entry's record still in the file, purged or not.
    pub(super) offsets: BTreeMap<u64, u64>,
    pub(super) memory: Arc<Mutex<Memory>>,
    pub(super) limits: Limits,
    /// Held (with an exclusive `flock`) while the writer lives.
    pub(super) _lock: File,
    pub(super) committed_file: File,
    pub(super) committed_at: std::time::Instant,
    pub(super) health: StorageHealth,
    /// Set when the last store handle is gone: retries give up then.
    pub(super) closing: Arc<AtomicBool>,
    /// Tests make file operations fail with "no space left".
    #[cfg(test)]
    pub(super) inject: Arc<Inject>,
}

/// How many of the next writes (and retries) and of the next batch syncs
/// fail, as on a full disk: the tests' stand-in for one.
#[cfg(test)]
#[derive(Default)]
pub(super) struct Inject {
    pub(super) writes: std::sync::atomic::AtomicU32,
    pub(super) syncs: std::sync::atomic::AtomicU32,
}

#[cfg(test)]
impl Inject {
    fn take(&self, left: &std::sync::atomic::AtomicU32) -> std::io::Result<()> {
        let n = left.load(Ordering::Relaxed);
        if n > 0 {
            left.store(n - 1, Ordering::Relaxed);
            return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
        }
        Ok(())
    }
}

/// The name this writer's faults are noted under.
const WRITER: &str = "raft-log";

impl Writer {
    pub(super) fn run(mut self, rx: mpsc::Receiver<Op>) {
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
                    Op::Meta { meta, done } => {
                        let (dir, path) = (self.dir.clone(), self.dir.join(super::META_FILE));
                        let r = self.retry(&path, |_| write_meta(&dir, &meta));
                        replies.push((done, r));
                    }
                    Op::Committed(c) => committed = Some(c),
                    Op::Compact { upto } => {
                        if result.is_ok() {
                            self.compact_or_skip(upto);
                        }
                    }
                }
            }
            if result.is_ok() && !callbacks.is_empty() {
                result = self.sync();
            }
            if let Some(c) = committed {
                if let Err(e) = self.write_committed(c) {
                    if !self.health.is_faulted() {
                        tracing::warn!(error = %e, "cannot save the Raft commit index");
                    }
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
                // Only when closing: nothing waits for the log any more.
                tracing::error!(error = %e, "the Raft log writer stops on a storage fault while the node stops");
                return;
            }
        }
    }

    /// Runs `op` until it succeeds, or until the store is closing.
    fn retry<T>(
        &mut self,
        path: &std::path::Path,
        mut op: impl FnMut(&mut Writer) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        let (health, closing) = (self.health.clone(), self.closing.clone());
        retry_until_written(&health, WRITER, path, &|| closing.load(Ordering::Relaxed), || {
            self.injected()?;
            op(self)
        })
    }

    #[cfg(test)]
    fn injected(&self) -> std::io::Result<()> {
        self.inject.take(&self.inject.writes)
    }

    #[cfg(not(test))]
    fn injected(&self) -> std::io::Result<()> {
        Ok(())
    }

    #[cfg(test)]
    fn injected_sync(&self) -> std::io::Result<()> {
        self.inject.take(&self.inject.syncs)
    }

    #[cfg(not(test))]
    fn injected_sync(&self) -> std::io::Result<()> {
        Ok(())
    }

    /// After `error`, makes the file what it should hold and durable:
    /// cut back to what the last sync covered, the pending records written
    /// again, synced; retried until that succeeds.
    fn settle(&mut self, error: std::io::Error) -> std::io::Result<()> {
        let path = self.dir.join(LOG_FILE);
        self.health.fault(WRITER, &path, &error);
        self.retry(&path, |w| {
            w.file.set_len(w.synced_len)?;
            let mut buf = Vec::with_capacity((w.len - w.synced_len) as usize);
            for (_, bytes) in &w.pending {
                buf.extend_from_slice(bytes);
            }
            (&*w.file).write_all(&buf)?;
            w.file.sync_data()?;
            w.synced_len = w.len;
            w.pending.clear();
            Ok(())
        })?;
        self.health.clear(WRITER);
        Ok(())
    }

    /// One `fdatasync` for the batch; after a failure the records are
    /// written again before syncing again (see the type's header).
    fn sync(&mut self) -> std::io::Result<()> {
        match self.injected_sync().and_then(|()| self.file.sync_data()) {
            Ok(()) => {
                self.synced_len = self.len;
                self.pending.clear();
                Ok(())
            }
            Err(e) => self.settle(e),
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
            self.pending.push((offset, r.bytes.clone()));
            written.push((r.index, r.seq, offset));
            buf.extend_from_slice(&r.bytes);
        }
        self.len += buf.len() as u64;
        if let Err(e) = self.injected().and_then(|()| (&*self.file).write_all(&buf)) {
            self.settle(e)?;
        }
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
            self.len = offset;
            drop(self.offsets.split_off(&index));
            self.pending.retain(|&(at, _)| at < offset);
            self.synced_len = self.synced_len.min(offset);
            if let Err(e) = self.injected().and_then(|()| self.file.set_len(offset)) {
                self.settle(e)?;
            }
        }
        Ok(())
    }

    /// Compaction only gives space back: when it fails (the disk is full,
    /// say) the log stays as it is, and the next purge tries again.
    fn compact_or_skip(&mut self, upto: u64) {
        if let Err(e) = self.compact(upto) {
            let _ = std::fs::remove_file(self.dir.join("log.tmp"));
            tracing::warn!(error = %e, "compacting the Raft log file failed; it is tried again at the next purge");
        }
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
        // Opened before the rename, so once the new file is in place this
        // writer has it (a failure after the rename cannot leave it
        // appending to the old, unlinked one).
        let file = Arc::new(OpenOptions::new().read(true).append(true).open(&tmp)?);
        std::fs::rename(&tmp, &path)?;
        // The new file holds every record, synced or not before: it was
        // synced whole above.
        self.synced_len = kept;
        self.pending.clear();
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
        // The rename is durable only once the directory is synced; until
        // then a crash brings back the old file, which may lack what was
        // appended (and acknowledged) after this.
        let dir = self.dir.clone();
        self.retry(&dir, |w| File::open(&w.dir)?.sync_all())?;
        tracing::debug!(
            dropped = dead,
            dropped_bytes = keep_from,
            kept_bytes = kept,
            "compacted the Raft log file"
        );
        Ok(())
    }
}
