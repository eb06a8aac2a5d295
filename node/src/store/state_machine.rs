//! The Raft state machine: memory holds the documents and the unfinished
//! runs and tasks ([`Content`]); everything else — finished runs and tasks,
//! logs, results — is in the disk store (`store::disk`), which also keeps a
//! copy of what memory holds. Applying a batch changes memory; what batches
//! leave for the store is taken out of memory now and then as one batch and
//! written by the commit thread (`store::committer`); until it is written,
//! readers find it in memory.
//!
//! Snapshots are files written from a store read transaction and sent to
//! followers in chunks by openraft; a restart reads the store, not the
//! snapshot.
//!
//! **Invariant:** the content is only changed by applying committed log
//! entries or installing a snapshot; a finished run or task, a log record
//! or a result leaves memory (`Content::committing`) only under the write
//! lock and once the store has committed it, so a reader that misses it in
//! memory finds it in the store.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, StorageIOError, StoredMembership};
use tokio::io::AsyncSeekExt;

use super::committer::Committer;
use super::disk::{self, Disk, DiskError, Membership};
use super::health::StorageHealth;
use super::{CommandResult, Content, Entry, Event, Events, NodeId, StorageError, TypeConfig};
use crate::store::content::ignored;
use crate::store::Command;

/// The latest snapshot of the state machine, beside the log.
pub(crate) const SNAPSHOT_FILE: &str = "snapshot.bin";
/// The name snapshot faults are noted under (`store::health`).
const SNAPSHOT_WRITER: &str = "snapshot";
/// Where a snapshot from the leader is received.
const RECEIVING_FILE: &str = "snapshot.recv";

type Meta = disk::SnapshotMeta;

/// The state memory holds.
#[derive(Debug, Default)]
pub struct StateMachineData {
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: Membership,
    pub content: Content,
}

impl From<disk::Loaded> for StateMachineData {
    fn from(l: disk::Loaded) -> Self {
        StateMachineData {
            last_applied: l.last_applied,
            membership: l.membership,
            content: l.content,
        }
    }
}

/// Read access to the replicated state for the rest of the node: memory
/// through [`ContentHandle::read`], the disk store through the methods in
/// `store::handle`.
#[derive(Clone)]
pub struct ContentHandle {
    pub(super) data: Arc<RwLock<StateMachineData>>,
    pub(super) disk: Disk,
    pub(super) health: StorageHealth,
}

impl ContentHandle {
    pub fn read(&self) -> RwLockReadGuard<'_, StateMachineData> {
        // A panic while holding the lock would leave it poisoned; the data is
        // still the last fully applied state, so reading on is sound.
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The sizes in bytes of the Raft member's files, read from the file
/// system when asked (a missing file counts 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSizes {
    /// The log, `raft/log.dat` (purged records stay until it is rewritten).
    pub log: u64,
    /// The newest snapshot, `raft/snapshot.bin`.
    pub snapshot: u64,
    /// The state machine's store, `raft/state.redb`.
    pub store: u64,
}

impl ContentHandle {
    /// Whether the data directory takes writes now (see `store::health`).
    pub fn storage_health(&self) -> &StorageHealth {
        &self.health
    }

    pub fn file_sizes(&self) -> FileSizes {
        let store = self.disk.path();
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let dir = store.parent().unwrap_or(Path::new("."));
        FileSizes {
            log: size(&dir.join(super::log_store::LOG_FILE)),
            snapshot: size(&dir.join(SNAPSHOT_FILE)),
            store: size(store),
        }
    }
}

#[derive(Clone)]
pub struct StateMachineStore {
    data: Arc<RwLock<StateMachineData>>,
    disk: Disk,
    committer: Committer,
    dir: PathBuf,
    events: Events,
    health: StorageHealth,
    /// The last log id of the snapshot file. openraft builds snapshots in a
    /// task of their own while it installs received ones inline, so two
    /// writers can race: this lock makes them take turns on the file, and a
    /// snapshot older than the one there is never moved over it.
    written: Arc<std::sync::Mutex<Option<LogId<NodeId>>>>,
}

fn sm_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_state_machine(&e).into()
}

fn snap_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_snapshot(None, &e).into()
}

fn read_snapshot_meta(path: &Path) -> Result<Option<Meta>, DiskError> {
    match std::fs::File::open(path) {
        Ok(f) => disk::read_header(&mut std::io::BufReader::new(f)).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl StateMachineStore {
    /// Opens the state machine in `dir`: the store's state is memory's.
    /// Storage faults are noted in `health`.
    pub fn open(
        dir: &Path,
        events: Events,
        health: &StorageHealth,
    ) -> Result<StateMachineStore, StorageError> {
        let disk = Disk::open(dir, health).map_err(sm_err)?;
        let loaded = disk.load().map_err(sm_err)?;
        let committer = Committer::spawn(disk.clone()).map_err(sm_err)?;
        let written = read_snapshot_meta(&dir.join(SNAPSHOT_FILE))
            .map_err(snap_err)?
            .and_then(|m| m.last_log_id);
        Ok(StateMachineStore {
            data: Arc::new(RwLock::new(loaded.into())),
            disk,
            committer,
            dir: dir.to_path_buf(),
            events,
            health: health.clone(),
            written: Arc::new(std::sync::Mutex::new(written)),
        })
    }

    pub fn handle(&self) -> ContentHandle {
        ContentHandle {
            data: self.data.clone(),
            disk: self.disk.clone(),
            health: self.health.clone(),
        }
    }

    /// The disk store (for expiry's compaction).
    pub fn disk(&self) -> Disk {
        self.disk.clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, StateMachineData> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves a fully written snapshot file to `SNAPSHOT_FILE`, unless a newer
    /// one is there already.
    fn keep_snapshot(&self, from: &Path, meta: &Meta) -> Result<bool, DiskError> {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if *written > meta.last_log_id {
            tracing::debug!(
                on_disk = ?*written,
                built = ?meta.last_log_id,
                "a newer snapshot is on disk already; this one is not kept"
            );
            std::fs::remove_file(from)?;
            return Ok(false);
        }
        std::fs::rename(from, self.dir.join(SNAPSHOT_FILE))?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        *written = meta.last_log_id;
        Ok(true)
    }

    /// Lets go of the batch the committer has written, if it has.
    fn settle_written(&self, content: &mut Content) -> Result<(), DiskError> {
        if let Some(b) = &content.committing {
            if self.committer.written(b.generation)? {
                content.committing = None;
            }
        }
        Ok(())
    }

    /// Writes everything memory holds for the store and waits for it (for
    /// an expiry, whose answer is what it deleted, and for snapshots).
    ///
    /// Called under the memory lock, so it does not wait out a storage
    /// fault: a write that fails on an I/O error goes to the committer,
    /// which retries it, and readers find its records in memory meanwhile
    /// (`Content::committing`); the answer then counts nothing written.
    ///
    /// `None`: not written, nor taken out of memory — the committer is
    /// waiting out a storage fault with an earlier batch.
    fn commit_now(&self, sm: &mut StateMachineData, flush: bool) -> Result<Option<disk::Written>, DiskError> {
        if !self.committer.wait_unless(&|| self.store_faulted())? {
            return Ok(None);
        }
        let StateMachineData {
            last_applied,
            membership,
            content,
        } = sm;
        content.committing = None;
        let batch = Arc::new(self.disk.prepare(*last_applied, membership, content, flush)?);
        match self.disk.write_retrying(&batch, &|| true) {
            Err(e) if e.is_storage_fault() => {
                content.committing = Some(self.committer.send_shared(batch)?);
                Ok(Some(disk::Written::default()))
            }
            written => written.map(Some),
        }
    }

    /// Whether the store's writer is waiting out a fault: then nothing
    /// waits for it under the memory lock (readers would wait too).
    fn store_faulted(&self) -> bool {
        self.health.is_faulted()
    }

    /// Applies one command: a run or task that already finished (and so is
    /// only on disk) is not created again by a repeated proposal.
    fn apply_command(&self, content: &mut Content, cmd: Command, changed: &mut Vec<String>) -> CommandResult {
        match cmd {
            Command::Batch(cmds) => CommandResult::Batch(
                cmds.into_iter()
                    .map(|c| self.apply_command(content, c, changed))
                    .collect(),
            ),
            Command::CreateRun(spec)
                if !content.runs.contains_key(&spec.id)
                    && (content.any_run(&spec.id).is_some() || self.finished_run(&spec.id)) =>
            {
                ignored(format!("run {} already exists (it finished)", spec.id))
            }
            Command::CreateTask(spec)
                if !content.tasks.contains_key(&spec.id)
                    && (content.any_task(&spec.id).is_some() || self.finished_task(&spec.id)) =>
            {
                ignored(format!("task {} already exists (it finished)", spec.id))
            }
            cmd => content.apply_noting(cmd, changed),
        }
    }

    fn finished_run(&self, id: &str) -> bool {
        let found = self.disk.reader().and_then(|r| self.disk.run(&r, id));
        matches!(found, Ok(Some(_)))
    }

    fn finished_task(&self, id: &str) -> bool {
        let found = self.disk.reader().and_then(|r| self.disk.task(&r, id));
        matches!(found, Ok(Some(_)))
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // The flush below waits for the committer under the memory lock:
        // not while a storage fault lasts, which readers would wait out too.
        let mut attempt = 0;
        while self.store_faulted() {
            attempt += 1;
            tokio::time::sleep(super::health::RETRY.delay(attempt)).await;
        }
        let this = self.clone();
        let meta = tokio::task::spawn_blocking(move || {
            // A flush under the memory lock makes the store's log id and
            // records agree; the read transaction begun right after it is
            // the snapshot's state, read while entries keep being applied.
            let mut reader = Some(loop {
                let mut sm = this.write();
                if this.commit_now(&mut sm, true)?.is_some() {
                    break this.disk.reader()?;
                }
                // A storage fault began: waited out without the lock.
                drop(sm);
                std::thread::sleep(super::health::RETRY.max);
            });
            // A full disk or an I/O error is waited out, not a reason to
            // stop the member: tried again (from the store's state then,
            // as sound a snapshot) until the file is written.
            let mut attempt = 0;
            loop {
                let tmp = this.dir.join(format!("snapshot.{}.tmp", uuid::Uuid::new_v4()));
                let written = match reader.take() {
                    Some(r) => Ok(r),
                    None => this.disk.reader(),
                }
                .and_then(|r| {
                    let meta = this.disk.dump(r, &tmp, |applied| match applied {
                        Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, uuid::Uuid::new_v4()),
                        None => format!("empty-{}", uuid::Uuid::new_v4()),
                    })?;
                    this.keep_snapshot(&tmp, &meta)?;
                    Ok(meta)
                });
                match written {
                    Ok(meta) => {
                        if attempt > 0 {
                            this.health.clear(SNAPSHOT_WRITER);
                        }
                        break Ok::<_, DiskError>(meta);
                    }
                    Err(DiskError::Io(e)) => {
                        let _ = std::fs::remove_file(&tmp);
                        this.health
                            .fault(SNAPSHOT_WRITER, &this.dir.join(SNAPSHOT_FILE), &e);
                        attempt += 1;
                        std::thread::sleep(super::health::RETRY.delay(attempt));
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(&tmp);
                        break Err(e);
                    }
                }
            }
        })
        .await
        .map_err(snap_err)?
        .map_err(snap_err)?;
        // The file holds this snapshot or a newer one; either is sound to send.
        let current = self.get_current_snapshot().await?;
        current.ok_or_else(|| {
            snap_err(std::io::Error::other(format!(
                "snapshot {} was written but its file is gone",
                meta.snapshot_id
            )))
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = StateMachineStore;

    async fn applied_state(&mut self) -> Result<(Option<LogId<NodeId>>, Membership), StorageError> {
        let sm = self.data.read().unwrap_or_else(|p| p.into_inner());
        Ok((sm.last_applied, sm.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<CommandResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut sm = self.write();
        let mut results = Vec::new();
        let mut purges = Vec::new();
        let mut changed_tasks = Vec::new();
        for entry in entries {
            sm.last_applied = Some(entry.log_id);
            let result = match entry.payload {
                EntryPayload::Blank => CommandResult::None,
                EntryPayload::Normal(cmd) => {
                    if matches!(cmd, Command::Purge { .. }) {
                        purges.push(results.len());
                    }
                    self.apply_command(&mut sm.content, cmd, &mut changed_tasks)
                }
                EntryPayload::Membership(m) => {
                    sm.membership = StoredMembership::new(Some(entry.log_id), m);
                    CommandResult::None
                }
            };
            results.push(result);
        }
        self.settle_written(&mut sm.content).map_err(sm_err)?;
        // An expiry's answer is what it deleted, and reports are read from
        // the store only: both are written now.
        let mut write_now = !purges.is_empty() || std::mem::take(&mut sm.content.reports_pending);
        let faulted = self.store_faulted();
        if write_now && faulted {
            // Written with a later batch once the disk takes writes.
            sm.content.reports_pending = true;
            write_now = false;
        }
        let due = self.disk.due(&sm.content, write_now);
        let written = match due {
            disk::Due::Wait => disk::Written::default(),
            _ if write_now => match self
                .commit_now(&mut sm, due == disk::Due::Flush)
                .map_err(sm_err)?
            {
                Some(written) => written,
                None => {
                    // Written with a later batch once the disk takes writes.
                    sm.content.reports_pending = true;
                    disk::Written::default()
                }
            },
            // One batch is written at a time; the next waits in memory.
            _ if sm.content.committing.is_some() && (faulted || !self.disk.over_limits(&sm.content)) => {
                disk::Written::default()
            }
            due => {
                // Over the limits, memory waits for the batch being
                // written, unless a storage fault holds it up.
                if self
                    .committer
                    .wait_unless(&|| self.store_faulted())
                    .map_err(sm_err)?
                {
                    let StateMachineData {
                        last_applied,
                        membership,
                        content,
                    } = &mut *sm;
                    let batch = self
                        .disk
                        .prepare(*last_applied, membership, content, due == disk::Due::Flush)
                        .map_err(sm_err)?;
                    content.committing = Some(self.committer.send(batch).map_err(sm_err)?);
                }
                disk::Written::default()
            }
        };
        if written.purged > 0 {
            for &i in &purges {
                results[i] = CommandResult::Deleted { existed: true };
            }
        }
        if !purges.is_empty() {
            // Give the space back once enough was deleted, off this task.
            // Tried at every expiry, so one skipped while a reader held an
            // old state is done at the next.
            let disk = self.disk.clone();
            tokio::task::spawn_blocking(move || match disk.compact_if_worth_it() {
                Ok(true) => tracing::info!(
                    bytes = disk.file_bytes(),
                    "compacted the state store after expiry"
                ),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "compacting the state store failed; it is tried again at the next expiry")
                }
            });
        }
        let effects = std::mem::take(&mut sm.content.effects);
        let packs_changed = std::mem::take(&mut sm.content.packs_changed);
        drop(sm);
        for effect in effects {
            self.events.effect(effect);
        }
        if packs_changed {
            self.events.packs_changed();
        }
        for id in changed_tasks {
            self.events.send(Event::TaskChanged(id));
        }
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, StorageError> {
        // Read back by `install_snapshot`, so opened for both.
        let f = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.dir.join(RECEIVING_FILE))
            .await
            .map_err(snap_err)?;
        Ok(Box::new(f))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), StorageError> {
        let mut received = snapshot.into_std().await;
        let this = self.clone();
        let meta = meta.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::{Seek, Write};
            received.seek(SeekFrom::Start(0))?;
            // Loaded and copied to this node's snapshot file in one pass.
            let tmp = this.dir.join(format!("snapshot.{}.tmp", uuid::Uuid::new_v4()));
            let mut tee = disk::Tee {
                inner: received,
                copy: std::io::BufWriter::new(std::fs::File::create(&tmp)?),
            };
            // Readers wait while the state is replaced, then see the new one.
            let mut sm = this.write();
            // What is being written belongs to the state being replaced.
            this.committer.wait()?;
            let loaded_meta = this.disk.load_snapshot(&mut tee)?;
            if loaded_meta.last_log_id != meta.last_log_id {
                return Err(DiskError::Snapshot(format!(
                    "the received file holds the state at {:?}, the leader announced {:?}",
                    loaded_meta.last_log_id, meta.last_log_id
                )));
            }
            // This node's counts of finished work outlive the state.
            let finished = std::mem::take(&mut sm.content.finished);
            *sm = this.disk.load()?.into();
            sm.content.finished = finished;
            drop(sm);
            tee.copy.flush()?;
            let copy = tee.copy.into_inner().map_err(|e| e.into_error())?;
            copy.sync_all()?;
            this.keep_snapshot(&tmp, &loaded_meta)?;
            match std::fs::remove_file(this.dir.join(RECEIVING_FILE)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            }
        })
        .await
        .map_err(snap_err)?
        .map_err(sm_err)?;
        // The installed state came whole: the installer looks again.
        self.events.packs_changed();
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let path = self.dir.join(SNAPSHOT_FILE);
        // Taken under the lock, so the meta and the file opened agree.
        let opened = {
            let _turn = self.written.lock().unwrap_or_else(|p| p.into_inner());
            let meta = read_snapshot_meta(&path).map_err(snap_err)?;
            match meta {
                None => None,
                Some(meta) => Some((meta, std::fs::File::open(&path).map_err(snap_err)?)),
            }
        };
        let Some((meta, file)) = opened else {
            return Ok(None);
        };
        let mut file = tokio::fs::File::from_std(file);
        file.seek(SeekFrom::Start(0)).await.map_err(snap_err)?;
        Ok(Some(Snapshot {
            meta,
            snapshot: Box::new(file),
        }))
    }
}
