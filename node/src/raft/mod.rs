//! The Raft member: openraft configured over the log store and the
//! content state machine, plus the network to peers.
//!
//! The embedded default is a single-member cluster: [`start`] initializes the
//! membership with this node alone the first time a data directory is used.

pub mod network;
mod proposer;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use openraft::{BasicNode, SnapshotPolicy};

use openraft::error::ClientWriteError;

use crate::store::{
    Command, CommandResult, ContentHandle, Events, LogStore, NodeId, StateMachineStore, TypeConfig,
};

pub type OpenRaft = openraft::Raft<TypeConfig>;

/// The Raft member and its proposal queue; derefs to openraft's handle for
/// metrics, membership and shutdown. Commands go through [`propose`] and
/// [`enqueue`], which batch them (see `proposer`).
#[derive(Clone)]
pub struct Raft {
    inner: OpenRaft,
    proposer: proposer::Proposer,
}

impl Raft {
    fn new(inner: OpenRaft) -> Raft {
        let proposer = proposer::Proposer::start(inner.clone());
        Raft { inner, proposer }
    }
}

impl std::ops::Deref for Raft {
    type Target = OpenRaft;

    fn deref(&self) -> &OpenRaft {
        &self.inner
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    #[error("cannot open the Raft log in {path}: {source}")]
    OpenLog { path: String, source: std::io::Error },
    #[error("cannot open the state machine: {0}")]
    OpenStateMachine(String),
    #[error("invalid Raft settings: {0}")]
    Config(String),
    #[error("Raft failed to start: {0}")]
    Start(String),
    #[error("no leader was elected within {0:?}")]
    NoLeader(Duration),
}

/// Tunables of the Raft member, from the node configuration.
#[derive(Debug, Clone)]
pub struct RaftSettings {
    /// Take a snapshot (and allow log compaction) after this many applied entries.
    pub snapshot_every: u64,
    /// Entries kept in the log after a snapshot, for slow followers.
    pub keep_after_snapshot: u64,
}

pub struct RaftMember {
    pub raft: Raft,
    pub content: ContentHandle,
}

/// Opens storage under `raft_dir`, starts openraft, and on a new data
/// directory initializes a one-member cluster of this node.
pub async fn start(
    node_id: NodeId,
    advertise_addr: &str,
    raft_dir: &Path,
    settings: &RaftSettings,
    events: Events,
) -> Result<RaftMember, RaftError> {
    std::fs::create_dir_all(raft_dir)
        .map_err(|e| RaftError::OpenStateMachine(format!("cannot create {}: {e}", raft_dir.display())))?;
    let log_store = LogStore::open(raft_dir).map_err(|source| RaftError::OpenLog {
        path: raft_dir.display().to_string(),
        source,
    })?;
    let sm =
        StateMachineStore::open(raft_dir, events).map_err(|e| RaftError::OpenStateMachine(e.to_string()))?;
    let content = sm.handle();

    let config = openraft::Config {
        cluster_name: "integration-service".to_string(),
        heartbeat_interval: 250,
        election_timeout_min: 500,
        election_timeout_max: 1000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(settings.snapshot_every),
        max_in_snapshot_log_to_keep: settings.keep_after_snapshot,
        ..Default::default()
    }
    .validate()
    .map_err(|e| RaftError::Config(e.to_string()))?;

    let raft = OpenRaft::new(node_id, Arc::new(config), network::PeerNetwork, log_store, sm)
        .await
        .map_err(|e| RaftError::Start(e.to_string()))?;

    if !raft
        .is_initialized()
        .await
        .map_err(|e| RaftError::Start(e.to_string()))?
    {
        let members = BTreeMap::from([(node_id, BasicNode::new(advertise_addr))]);
        raft.initialize(members)
            .await
            .map_err(|e| RaftError::Start(e.to_string()))?;
    }
    Ok(RaftMember {
        raft: Raft::new(raft),
        content,
    })
}

/// Waits until some node is leader and returns its id.
pub async fn wait_for_leader(raft: &Raft, timeout: Duration) -> Result<NodeId, RaftError> {
    let metrics = raft
        .wait(Some(timeout))
        .metrics(|m| m.current_leader.is_some(), "a leader is elected")
        .await
        .map_err(|_| RaftError::NoLeader(timeout))?;
    metrics.current_leader.ok_or(RaftError::NoLeader(timeout))
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProposeError {
    #[error("this node is not the Raft leader{}", match (.leader_id, .leader_addr) {
        (Some(id), Some(addr)) => format!(" (the leader is node {id} at {addr})"),
        _ => " and no leader is known right now".to_string(),
    })]
    NotLeader {
        leader_id: Option<NodeId>,
        leader_addr: Option<String>,
    },
    #[error("membership change refused: {0}")]
    Membership(String),
    #[error("the Raft member of this node has stopped ({0}); restart the node")]
    Stopped(String),
}

impl From<ClientWriteError<NodeId, BasicNode>> for ProposeError {
    fn from(e: ClientWriteError<NodeId, BasicNode>) -> ProposeError {
        match e {
            ClientWriteError::ForwardToLeader(f) => ProposeError::NotLeader {
                leader_id: f.leader_id,
                leader_addr: f.leader_node.map(|n| n.addr),
            },
            ClientWriteError::ChangeMembershipError(e) => ProposeError::Membership(e.to_string()),
        }
    }
}

/// Proposes a command and waits until it is committed and applied here.
pub async fn propose(raft: &Raft, cmd: Command) -> Result<CommandResult, ProposeError> {
    raft.proposer.queue(cmd).await.unwrap_or_else(|_| {
        Err(ProposeError::Stopped(
            "the Raft member dropped the request".into(),
        ))
    })
}

/// Queues a command behind every command queued before this returns, and
/// answers a future of its result: for writers that need log order but need
/// not wait for the commit.
pub fn enqueue(
    raft: &Raft,
    cmd: Command,
) -> impl std::future::Future<Output = Result<CommandResult, ProposeError>> + Send + 'static {
    let rx = raft.proposer.queue(cmd);
    async move {
        rx.await.unwrap_or_else(|_| {
            Err(ProposeError::Stopped(
                "the Raft member dropped the request".into(),
            ))
        })
    }
}

/// Wall-clock time in ms since the epoch, for timestamps fixed by a proposer.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
