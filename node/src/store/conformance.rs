//! Conformance of our Raft storage with openraft's contract: openraft's own
//! storage test suite run against [`LogStore`] and [`StateMachineStore`], and
//! reopen tests showing that what the stores were told to keep comes back
//! from disk.
//!
//! The suite builds only blank and membership entries (it cannot make our
//! `Command`s); the state machine's reopen test applies commands too. What
//! applying each command does is tested with the content.

use std::collections::BTreeSet;

use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{
    CommittedLeaderId, EntryPayload, LogId, Membership, RaftLogReader, RaftSnapshotBuilder, Vote,
};
use tempfile::TempDir;

use super::{Command, Entry, Events, LogStore, StateMachineStore, StorageError, TypeConfig};

/// Opens both stores on one fresh temporary directory, as `raft::start` does
/// on the data directory: they must not step on each other's files. The
/// directory is the suite's guard, removed when a test is done with it.
struct FreshDir;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for FreshDir {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = tempfile::tempdir().map_err(|e| openraft::StorageIOError::read(&e))?;
        let log = LogStore::open(dir.path(), &Default::default())
            .map_err(|e| openraft::StorageIOError::read_logs(&e))?;
        let sm = StateMachineStore::open(dir.path(), Events::default(), &Default::default())?;
        Ok((dir, log, sm))
    }
}

/// The suite starts its own runtime per case, so this is a plain test.
#[test]
fn openraft_storage_suite() {
    Suite::test_all(FreshDir).expect("the openraft storage suite passes");
}

/// The suite's log ids: node 0.
fn log_id(term: u64, index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(term, 0), index)
}

type OpenraftSuite = Suite<TypeConfig, LogStore, StateMachineStore, FreshDir, TempDir>;

/// Appends entry 0 of term 0 and 1..=10 of term 1, each waited for until
/// flushed, and saves a vote. Borrowed from the suite because only openraft
/// can make the flush callback `append` takes.
async fn append_0_to_10(store: &mut LogStore) {
    OpenraftSuite::feed_10_logs_vote_self(store)
        .await
        .expect("append 0..=10 and save a vote");
}

async fn all_entries(store: &mut LogStore) -> Vec<Entry> {
    store
        .try_get_log_entries(0..)
        .await
        .expect("entries are readable")
}

fn ids(entries: &[Entry]) -> Vec<LogId<u64>> {
    entries.iter().map(|e| e.log_id).collect()
}

#[tokio::test]
async fn the_log_store_reopens_with_what_it_was_told_to_keep() {
    let dir = tempfile::tempdir().expect("temp dir");
    let vote = Vote::new_committed(3, 2);
    let expected = {
        let mut store = LogStore::open(dir.path(), &Default::default()).expect("open a fresh log store");
        append_0_to_10(&mut store).await;
        store.save_vote(&vote).await.expect("save the vote");
        store.purge(log_id(1, 4)).await.expect("purge up to 4");
        store.truncate(log_id(1, 8)).await.expect("truncate from 8");
        let kept = all_entries(&mut store).await;
        assert_eq!(ids(&kept), (5..=7).map(|i| log_id(1, i)).collect::<Vec<_>>());
        kept
    };

    let mut store = LogStore::open(dir.path(), &Default::default()).expect("reopen the same directory");
    assert_eq!(all_entries(&mut store).await, expected);
    assert_eq!(store.read_vote().await.expect("read the vote"), Some(vote));
    let state = store.get_log_state().await.expect("log state");
    assert_eq!(state.last_purged_log_id, Some(log_id(1, 4)));
    assert_eq!(state.last_log_id, Some(log_id(1, 7)));
}

/// A purge past the last entry leaves no entry, yet the log must still end
/// at the purged id after a restart (openraft takes it as the last log id).
#[tokio::test]
async fn a_log_purged_entirely_reopens_at_the_purged_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let mut store = LogStore::open(dir.path(), &Default::default()).expect("open a fresh log store");
        append_0_to_10(&mut store).await;
        store.purge(log_id(2, 20)).await.expect("purge up to 20");
    }
    let mut store = LogStore::open(dir.path(), &Default::default()).expect("reopen the same directory");
    assert!(all_entries(&mut store).await.is_empty());
    let state = store.get_log_state().await.expect("log state");
    assert_eq!(state.last_purged_log_id, Some(log_id(2, 20)));
    assert_eq!(state.last_log_id, Some(log_id(2, 20)));
}

/// Entry `index` of term 1: a membership at 2, a configuration named after
/// the index at 4 and 5, blank otherwise.
fn entry(index: u64) -> Entry {
    let payload = match index {
        2 => EntryPayload::Membership(Membership::new(vec![BTreeSet::from([1, 2, 3])], None)),
        4 | 5 => {
            let doc = serde_json::json!({"name": format!("conf-{index}")});
            let cfg =
                crate::model::configuration::Configuration::validate(doc).expect("a valid configuration");
            EntryPayload::Normal(Command::PutConfiguration(cfg))
        }
        _ => EntryPayload::Blank,
    };
    Entry {
        log_id: log_id(1, index),
        payload,
    }
}

fn configurations(sm: &StateMachineStore) -> Vec<String> {
    sm.handle()
        .read()
        .content
        .configurations
        .keys()
        .cloned()
        .collect()
}

/// The state machine comes back at the store's last flush (here the
/// snapshot's), with what later entries wrote (openraft applies them again
/// from the log), and its snapshot file is the last one it built.
#[tokio::test]
async fn the_state_machine_reopens_at_its_last_snapshot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let built = {
        let mut sm =
            StateMachineStore::open(dir.path(), Events::default(), &Default::default()).expect("open");
        sm.apply((1..=4).map(entry)).await.expect("apply 1..=4");
        let snap = sm
            .get_snapshot_builder()
            .await
            .build_snapshot()
            .await
            .expect("build a snapshot");
        // Applied after the store's last flush: in memory only.
        sm.apply([entry(5)]).await.expect("apply 5");
        assert_eq!(configurations(&sm), ["conf-4", "conf-5"]);
        snap.meta
    };
    let mut sm = StateMachineStore::open(dir.path(), Events::default(), &Default::default()).expect("reopen");
    assert_eq!(configurations(&sm), ["conf-4"], "the state of the last flush");
    let (applied, membership) = sm.applied_state().await.expect("applied state");
    assert_eq!(
        applied,
        Some(log_id(1, 4)),
        "entry 5 is applied again from the log"
    );
    assert_eq!(membership.log_id(), &Some(log_id(1, 2)));
    assert_eq!(membership, built.last_membership);
    let current = sm
        .get_current_snapshot()
        .await
        .expect("read the snapshot")
        .expect("a snapshot exists");
    assert_eq!(current.meta, built);
    sm.apply([entry(5)]).await.expect("apply 5 again");
    assert_eq!(configurations(&sm), ["conf-4", "conf-5"]);
}

/// A snapshot received the way a follower receives it — written chunk by
/// chunk into the file `begin_receiving_snapshot` opened — is installed.
#[tokio::test]
async fn a_snapshot_written_into_the_receiving_file_is_installed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (leader_dir, follower_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut leader =
        StateMachineStore::open(leader_dir.path(), Events::default(), &Default::default()).unwrap();
    leader.apply((1..=4).map(entry)).await.unwrap();
    let mut snap = leader
        .get_snapshot_builder()
        .await
        .build_snapshot()
        .await
        .unwrap();
    let mut bytes = Vec::new();
    snap.snapshot.read_to_end(&mut bytes).await.unwrap();

    let mut follower =
        StateMachineStore::open(follower_dir.path(), Events::default(), &Default::default()).unwrap();
    let mut receiving = follower.begin_receiving_snapshot().await.unwrap();
    for chunk in bytes.chunks(7) {
        receiving.write_all(chunk).await.unwrap();
    }
    follower.install_snapshot(&snap.meta, receiving).await.unwrap();
    assert_eq!(configurations(&follower), ["conf-4"]);
    let current = follower.get_current_snapshot().await.unwrap().expect("kept");
    assert_eq!(current.meta, snap.meta);
}

/// What applied batches leave for the store waits in memory until the
/// store's next commit: a finished run's result and log are read from
/// there, and from the store once the commit took them out of memory.
#[tokio::test]
async fn results_and_logs_waiting_for_the_store_are_read_from_memory() {
    use crate::engine::TaskEvent;
    use crate::model::run::RunSpec;
    use crate::model::task::{LogLine, Outcome, TaskState};

    let dir = tempfile::tempdir().expect("temp dir");
    let mut sm = StateMachineStore::open(dir.path(), Events::default(), &Default::default()).expect("open");
    let normal = |index: u64, cmd: Command| Entry {
        log_id: log_id(1, index),
        payload: EntryPayload::Normal(cmd),
    };
    let app = r#"{"name": "a", "steps": [{"name": "s", "file": "F"}]}"#;
    sm.apply([normal(
        1,
        Command::create_run(RunSpec::for_test("isapp-r1", app, 10)),
    )])
    .await
    .expect("create the run");
    let h = sm.handle();
    let task_id = h.run("isapp-r1").unwrap().expect("the run").task_ids[0].clone();
    let line = LogLine {
        time: 1.0,
        level: "INFO".into(),
        levelno: 20,
        module: "s".into(),
        message: "hello".into(),
    };
    let events = [
        TaskEvent::Started {
            attempt: 1,
            worker: "w".into(),
            at_ms: 20,
        },
        TaskEvent::Finished {
            attempt: 1,
            started: None,
            outcome: Outcome::Success {
                json: "[1]".into(),
                pickle: Some(vec![9, 9]),
            },
            logs: vec![line.clone()],
            at_ms: 30,
            seed: 0,
        },
    ];
    let entries = events.into_iter().zip(2..).map(|(event, i)| {
        normal(
            i,
            Command::Task {
                id: task_id.clone(),
                event,
            },
        )
    });
    sm.apply(entries).await.expect("run the step");

    let read = |h: &super::ContentHandle| {
        (
            h.run("isapp-r1").unwrap().expect("the run").run.state,
            h.task(&task_id).unwrap().expect("the task").state,
            h.result_json(&task_id).unwrap(),
            h.result_pickle(&task_id).unwrap(),
            h.log_lines(&task_id, 0, 10).unwrap(),
        )
    };
    let expected = (
        TaskState::Success,
        TaskState::Success,
        Some("[1]".to_string()),
        Some(vec![9, 9]),
        vec![line],
    );
    assert!(
        h.read().content.tasks.contains_key(&task_id),
        "not committed yet: the finished task is still in memory"
    );
    assert_eq!(read(&h), expected, "read from memory");

    // Taken out of memory for a commit that is under way: read from the
    // batch being written.
    let disk = sm.disk();
    let batch = {
        let mut data = h.data.write().unwrap();
        let super::state_machine::StateMachineData {
            last_applied,
            membership,
            content,
        } = &mut *data;
        let batch = std::sync::Arc::new(disk.prepare(*last_applied, membership, content, true).unwrap());
        content.committing = Some(batch.clone());
        batch
    };
    assert!(!h.read().content.tasks.contains_key(&task_id));
    assert!(h.read().content.ops.is_empty());
    assert_eq!(read(&h), expected, "read from the batch being written");

    // Written, and let go of: read from the store.
    disk.write(&batch).unwrap();
    h.data.write().unwrap().content.committing = None;
    assert_eq!(read(&h), expected, "read from the store");
}
