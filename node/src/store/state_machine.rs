//! The Raft state machine: the replicated [`Content`] in memory, made durable
//! by snapshots written under the data directory plus the log entries after
//! the snapshot, which openraft re-applies on restart (the commit index is
//! saved by the log store).
//!
//! **Invariant:** the content is only changed by applying committed log
//! entries or installing a snapshot; API reads take the read lock only.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard};

use openraft::storage::{RaftStateMachine, Snapshot, SnapshotMeta};
use openraft::{EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, StorageIOError, StoredMembership};
use serde::{Deserialize, Serialize};

use super::{decode, encode, CommandResult, Content, Entry, Event, Events, NodeId, StorageError, TypeConfig};

/// The latest snapshot of the state machine, beside the log.
pub(crate) const SNAPSHOT_FILE: &str = "snapshot.bin";

type Membership = StoredMembership<NodeId, openraft::BasicNode>;
type Meta = SnapshotMeta<NodeId, openraft::BasicNode>;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StateMachineData {
    pub last_applied: Option<LogId<NodeId>>,
    pub membership: Membership,
    pub content: Content,
}

/// A snapshot as written to disk: its metadata and the encoded state.
#[derive(Serialize, Deserialize)]
struct StoredSnapshot {
    meta: Meta,
    data: Vec<u8>,
}

/// Read access to the replicated content for the API layer.
#[derive(Clone)]
pub struct ContentHandle(Arc<RwLock<StateMachineData>>);

impl ContentHandle {
    pub fn read(&self) -> RwLockReadGuard<'_, StateMachineData> {
        // A panic while holding the lock would leave it poisoned; the data is
        // still the last fully applied state, so reading on is sound.
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Clone)]
pub struct StateMachineStore {
    data: Arc<RwLock<StateMachineData>>,
    snapshot_path: PathBuf,
    events: Events,
    /// The last log id of the snapshot on disk. openraft builds snapshots
    /// in a task of their own while it installs received ones inline, so two
    /// writers can race: this lock makes them take turns on the file, and a
    /// snapshot older than the one on disk is never written over it (a
    /// restart must not go back behind a log that was purged past it).
    written: Arc<std::sync::Mutex<Option<LogId<NodeId>>>>,
}

fn sm_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_state_machine(&e).into()
}

fn snap_err(e: impl std::error::Error + 'static) -> StorageError {
    StorageIOError::write_snapshot(None, &e).into()
}

impl StateMachineStore {
    /// Opens the state machine, restoring the latest snapshot in `dir` if any.
    pub fn open(dir: &Path, events: Events) -> Result<StateMachineStore, StorageError> {
        let snapshot_path = dir.join(SNAPSHOT_FILE);
        let store = StateMachineStore {
            data: Arc::default(),
            snapshot_path,
            events,
            written: Arc::default(),
        };
        if let Some(snap) = store.read_snapshot_file()? {
            *store.written.lock().unwrap_or_else(|p| p.into_inner()) = snap.meta.last_log_id;
            let restored: StateMachineData = decode(&snap.data).map_err(snap_err)?;
            *store.write() = restored;
        }
        Ok(store)
    }

    pub fn handle(&self) -> ContentHandle {
        ContentHandle(self.data.clone())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, StateMachineData> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    fn read_snapshot_file(&self) -> Result<Option<StoredSnapshot>, StorageError> {
        match std::fs::read(&self.snapshot_path) {
            Ok(bytes) => decode(&bytes).map(Some).map_err(snap_err),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(snap_err(e)),
        }
    }

    /// Writes the snapshot beside the old one and renames it into place, so a
    /// crash leaves either the old or the new snapshot, never a torn one.
    fn write_snapshot_file(&self, snap: &StoredSnapshot) -> Result<(), StorageError> {
        use std::io::Write;
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        if *written > snap.meta.last_log_id {
            tracing::debug!(
                on_disk = ?*written,
                built = ?snap.meta.last_log_id,
                "a newer snapshot is on disk already; this one is not written"
            );
            return Ok(());
        }
        let bytes = encode(snap).map_err(snap_err)?;
        let tmp = self.snapshot_path.with_extension("tmp");
        let mut f = std::fs::File::create(&tmp).map_err(snap_err)?;
        f.write_all(&bytes).map_err(snap_err)?;
        f.sync_all().map_err(snap_err)?;
        std::fs::rename(&tmp, &self.snapshot_path).map_err(snap_err)?;
        if let Some(dir) = self.snapshot_path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(snap_err)?;
        }
        *written = snap.meta.last_log_id;
        Ok(())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachineStore {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        // Copy under the lock and encode outside it: applying waits for the
        // copy only, not for the (slower) encoding.
        let copy = {
            let sm = self.data.read().unwrap_or_else(|p| p.into_inner());
            StateMachineData {
                last_applied: sm.last_applied,
                membership: sm.membership.clone(),
                content: sm.content.clone(),
            }
        };
        let (data, meta) = {
            let sm = &copy;
            let data = encode(sm).map_err(snap_err)?;
            let snapshot_id = match &sm.last_applied {
                Some(l) => format!("{}-{}-{}", l.leader_id.term, l.index, uuid::Uuid::new_v4()),
                None => format!("empty-{}", uuid::Uuid::new_v4()),
            };
            let meta = Meta {
                last_log_id: sm.last_applied,
                last_membership: sm.membership.clone(),
                snapshot_id,
            };
            (data, meta)
        };
        let stored = StoredSnapshot { meta, data };
        let this = self.clone();
        let stored = tokio::task::spawn_blocking(move || this.write_snapshot_file(&stored).map(|_| stored))
            .await
            .map_err(snap_err)??;
        Ok(Snapshot {
            meta: stored.meta,
            snapshot: Box::new(Cursor::new(stored.data)),
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
        let mut changed_tasks = Vec::new();
        for entry in entries {
            sm.last_applied = Some(entry.log_id);
            let result = match entry.payload {
                EntryPayload::Blank => CommandResult::None,
                EntryPayload::Normal(cmd) => sm.content.apply_noting(cmd, &mut changed_tasks),
                EntryPayload::Membership(m) => {
                    sm.membership = StoredMembership::new(Some(entry.log_id), m);
                    CommandResult::None
                }
            };
            results.push(result);
        }
        let effects = std::mem::take(&mut sm.content.effects);
        drop(sm);
        for effect in effects {
            self.events.effect(effect);
        }
        for id in changed_tasks {
            self.events.send(Event::TaskChanged(id));
        }
        Ok(results)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let restored: StateMachineData = decode(&data).map_err(sm_err)?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            data,
        };
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.write_snapshot_file(&stored))
            .await
            .map_err(snap_err)??;
        *self.write() = restored;
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let this = self.clone();
        let snap = tokio::task::spawn_blocking(move || this.read_snapshot_file())
            .await
            .map_err(snap_err)??;
        Ok(snap.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(s.data)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(index: u64) -> StoredSnapshot {
        StoredSnapshot {
            meta: Meta {
                last_log_id: Some(LogId::new(openraft::CommittedLeaderId::new(1, 1), index)),
                last_membership: Membership::default(),
                snapshot_id: format!("s{index}"),
            },
            data: vec![index as u8],
        }
    }

    #[test]
    fn an_older_snapshot_never_replaces_a_newer_one_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateMachineStore::open(dir.path(), Events::default()).unwrap();
        store.write_snapshot_file(&snapshot(10)).unwrap();
        // A build that started before the install of snapshot 10 ends after it.
        store.write_snapshot_file(&snapshot(5)).unwrap();
        let on_disk = store.read_snapshot_file().unwrap().unwrap();
        assert_eq!(on_disk.meta.snapshot_id, "s10");
        store.write_snapshot_file(&snapshot(12)).unwrap();
        assert_eq!(
            store.read_snapshot_file().unwrap().unwrap().meta.snapshot_id,
            "s12"
        );
    }
}
