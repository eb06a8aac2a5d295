//! The Raft member: openraft configured over the log store and the
//! content state machine, plus the network to peers.
//!
//! The embedded default is a single-member cluster: [`start`] initializes the
//! membership with this node alone the first time a data directory is used,
//! unless the node is to join an existing cluster (`membership`).
//!
//! Writes can be proposed on any member: a follower forwards them to the
//! leader and answers once the write is applied locally too, so a client
//! reads its own writes from the node it wrote to.

pub mod dead_leader;
pub mod membership;
pub mod network;
mod proposer;
pub mod service;
pub mod status;
mod write;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use openraft::{BasicNode, SnapshotPolicy};

use openraft::error::ClientWriteError;

use network::Peers;
pub use write::{enqueue, forward, propose, serve_leader_request, LeaderAnswer, LeaderRequest};

use crate::store::log_store::UnpurgedBytes;
use crate::store::{ContentHandle, Events, LogStore, NodeId, StateMachineStore, StorageHealth, TypeConfig};

pub type OpenRaft = openraft::Raft<TypeConfig>;

/// Who leads the cluster, as one node knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    Here,
    /// Another node, with its listener address (where writes go).
    Elsewhere {
        id: NodeId,
        addr: String,
    },
    Unknown,
}

/// The Raft member and its proposal queue; derefs to openraft's handle for
/// metrics, membership and shutdown. Commands go through [`propose`] and
/// [`enqueue`], which batch them (see `proposer`).
#[derive(Clone)]
pub struct Raft {
    /// In an `Arc` of its own so background tasks can hold it weakly and
    /// end when the last handle to the member is gone.
    inner: Arc<OpenRaft>,
    proposer: proposer::Proposer,
    pub peers: Peers,
    /// The state machine's data, for its exact applied index (openraft's
    /// metrics report an apply a moment after it happened).
    content: ContentHandle,
    /// How long a write waits for a leader it can reach (`write`).
    leader_wait: Duration,
    /// When a leader was last heard from (`dead_leader`).
    pub heard: dead_leader::Heard,
}

impl Raft {
    fn new(inner: OpenRaft, peers: Peers, content: ContentHandle, leader_wait: Duration) -> Raft {
        let proposer = proposer::Proposer::start(inner.clone());
        Raft {
            inner: Arc::new(inner),
            proposer,
            peers,
            content,
            leader_wait,
            heard: dead_leader::Heard::default(),
        }
    }

    pub fn node_id(&self) -> NodeId {
        self.inner.metrics().borrow().id
    }

    /// Who leads, as this node knows it. Cheap when this node leads: it
    /// runs on every proposal.
    pub fn leadership(&self) -> Leadership {
        let metrics = self.inner.metrics();
        let m = metrics.borrow();
        match m.current_leader {
            None => Leadership::Unknown,
            Some(id) if id == m.id => Leadership::Here,
            Some(id) => match m.membership_config.membership().get_node(&id) {
                Some(node) => Leadership::Elsewhere {
                    id,
                    addr: node.addr.clone(),
                },
                None => Leadership::Unknown,
            },
        }
    }

    pub fn is_leader(&self) -> bool {
        let m = self.inner.metrics();
        let m = m.borrow();
        m.current_leader == Some(m.id) && m.state.is_leader()
    }

    /// The last log index applied to this node's state.
    pub fn applied_index(&self) -> u64 {
        self.content.read().last_applied.map_or(0, |l| l.index)
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
    /// Also take a snapshot once the log not yet purged holds this many
    /// encoded bytes (and has grown by as many since the last such
    /// snapshot): a few big entries can outweigh `snapshot_every` small
    /// ones. 0: never.
    pub snapshot_log_bytes: u64,
    /// How long a write proposed while no leader can be reached waits for
    /// one before it fails (an election takes well under a second).
    pub leader_wait: Duration,
}

pub struct RaftMember {
    pub raft: Raft,
    pub content: ContentHandle,
}

/// Opens storage under `raft_dir` and starts openraft. With `initialize`, a
/// new data directory forms a one-member cluster of this node; without it
/// the node waits to be added by a member.
pub async fn start(
    node_id: NodeId,
    advertise_addr: &str,
    raft_dir: &Path,
    settings: &RaftSettings,
    events: Events,
    peers: Peers,
    initialize: bool,
) -> Result<RaftMember, RaftError> {
    std::fs::create_dir_all(raft_dir)
        .map_err(|e| RaftError::OpenStateMachine(format!("cannot create {}: {e}", raft_dir.display())))?;
    // One for the directory: its writers note faults, the node reads them.
    let health = StorageHealth::default();
    let log_store = LogStore::open(raft_dir, &health).map_err(|source| RaftError::OpenLog {
        path: raft_dir.display().to_string(),
        source,
    })?;
    let log_bytes = log_store.unpurged_bytes_gauge();
    let sm = StateMachineStore::open(raft_dir, events, &health)
        .map_err(|e| RaftError::OpenStateMachine(e.to_string()))?;
    let content = sm.handle();

    // A follower stands for election once it has heard nothing from the
    // leader for its lease (openraft: election_timeout_max) plus a random
    // election timeout (drawn once per process), looked at every 150 ms
    // tick: 0.9–1.35 s after a leader dies, with heartbeats every 100 ms
    // leaving ample slack on a loaded machine. A leader whose process died
    // (its address refuses connections) is replaced sooner: `dead_leader`.
    let config = openraft::Config {
        cluster_name: "integration-service".to_string(),
        heartbeat_interval: 100,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(settings.snapshot_every),
        max_in_snapshot_log_to_keep: settings.keep_after_snapshot,
        // Each chunk of a snapshot sent to a follower must be answered in
        // this time; the last one is answered after the follower loaded the
        // whole snapshot into its store, which takes seconds for a big one.
        install_snapshot_timeout: 60_000,
        ..Default::default()
    }
    .validate()
    .map_err(|e| RaftError::Config(e.to_string()))?;

    let network = network::PeerNetwork { peers: peers.clone() };
    let raft = OpenRaft::new(node_id, Arc::new(config), network, log_store, sm)
        .await
        .map_err(|e| RaftError::Start(e.to_string()))?;

    if initialize
        && !raft
            .is_initialized()
            .await
            .map_err(|e| RaftError::Start(e.to_string()))?
    {
        let members = BTreeMap::from([(node_id, BasicNode::new(advertise_addr))]);
        raft.initialize(members)
            .await
            .map_err(|e| RaftError::Start(e.to_string()))?;
    }
    let raft = Raft::new(raft, peers, content.clone(), settings.leader_wait);
    tokio::spawn(dead_leader::watch(
        Arc::downgrade(&raft.inner),
        raft.peers.clone(),
        raft.heard.clone(),
    ));
    if settings.snapshot_log_bytes > 0 {
        tokio::spawn(snapshot_when_log_is_large(
            Arc::downgrade(&raft.inner),
            log_bytes,
            settings.snapshot_log_bytes,
        ));
    }
    Ok(RaftMember { raft, content })
}

/// How often the log's size is looked at.
const LOG_BYTES_CHECK_EVERY: Duration = Duration::from_millis(500);
/// Snapshots asked for by size are at least this far apart.
const LOG_BYTES_SNAPSHOT_GAP: Duration = Duration::from_secs(1);

/// Asks openraft for a snapshot whenever [`LogBytesRule`] says so, and to
/// purge the entries a snapshot holds when they alone pass the limit (see
/// [`purge_by_bytes`]). Ends when the member stops (openraft reports it in
/// its metrics) or the last handle to it is dropped; holds neither the
/// member nor the log store meanwhile.
async fn snapshot_when_log_is_large(raft: Weak<OpenRaft>, log_bytes: UnpurgedBytes, limit: u64) {
    let mut rule = LogBytesRule::new(limit);
    let mut tick = tokio::time::interval(LOG_BYTES_CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(raft) = raft.upgrade() else {
            return;
        };
        if raft.metrics().borrow().running_state.is_err() {
            return;
        }
        let bytes = log_bytes.get();
        let (snapshot, purged) = {
            let metrics = raft.metrics();
            let m = metrics.borrow();
            (m.snapshot.map(|l| l.index), m.purged.map(|l| l.index))
        };
        if let Some(upto) = purge_by_bytes(bytes, limit, snapshot, purged) {
            tracing::debug!(
                log_bytes = bytes,
                upto,
                "the Raft log is large; purging what the snapshot holds"
            );
            if raft.trigger().purge_log(upto).await.is_err() {
                return; // the member has stopped
            }
        }
        if !rule.due(bytes, Instant::now()) {
            continue;
        }
        tracing::debug!(log_bytes = bytes, "the Raft log is large; taking a snapshot");
        if let Err(e) = raft.trigger().snapshot().await {
            // Fatal: the member has stopped.
            tracing::debug!(error = %e, "cannot trigger a snapshot; the Raft member has stopped");
            return;
        }
    }
}

/// Up to which index to purge past openraft's `keep_after_snapshot`: the
/// entries kept after a snapshot are counted, not weighed, and a thousand
/// entries that each carry a step's result of a megabyte that does not
/// compress keep a gigabyte of log. Once the log passes `limit` and a
/// snapshot holds entries not purged yet, they go (a follower that still
/// needed them is sent the snapshot instead).
fn purge_by_bytes(bytes: u64, limit: u64, snapshot: Option<u64>, purged: Option<u64>) -> Option<u64> {
    let snapshot = snapshot?;
    (bytes >= limit && purged.is_none_or(|p| p < snapshot)).then_some(snapshot)
}

/// When a snapshot is due because of the log's size in bytes.
///
/// Past `limit` alone is not enough: openraft purges only up to
/// `keep_after_snapshot` entries before the snapshot, and (on a leader) not
/// what a replication is still sending, so the log can stay past `limit`
/// after the snapshot, and asking again every second would rebuild the
/// snapshot every second for nothing. So the log must also have grown by
/// `limit` since its low point after the last snapshot asked for here.
struct LogBytesRule {
    limit: u64,
    /// The least size seen since the last snapshot asked for (0 before any).
    floor: u64,
    last: Option<Instant>,
}

impl LogBytesRule {
    fn new(limit: u64) -> LogBytesRule {
        LogBytesRule {
            limit,
            floor: 0,
            last: None,
        }
    }

    fn due(&mut self, bytes: u64, now: Instant) -> bool {
        self.floor = self.floor.min(bytes);
        let recent = self
            .last
            .is_some_and(|t| now.saturating_duration_since(t) < LOG_BYTES_SNAPSHOT_GAP);
        if bytes < self.limit || bytes - self.floor < self.limit || recent {
            return false;
        }
        self.floor = bytes;
        self.last = Some(now);
        true
    }
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

#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
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
    /// The leader did not answer (the request may have been carried out).
    #[error(
        "cannot reach the leader: {0}; the write may or may not have been made, so check before retrying"
    )]
    LeaderUnreachable(String),
    #[error(
        "the write was not committed within {0:?}: this node cannot reach a majority of the cluster; \
         it takes effect only if the majority accepts it later, so check before retrying"
    )]
    NotCommitted(Duration),
    // New variants go last: the enum crosses between nodes (bincode
    // numbers variants by position).
    /// The leader's address refused the connection: the request never
    /// reached it (its process is gone), so it can be sent again.
    #[error("the leader is gone: {0}")]
    LeaderGone(String),
    /// No leader could be reached for the member's whole leader wait.
    #[error(
        "no leader could be reached for {waited:?} (last: {last}): the cluster has no majority up; \
         start the stopped nodes, then retry"
    )]
    NoLeader { waited: Duration, last: String },
    #[error("the leader made the write but this node has not applied it yet ({0}); read it from the leader")]
    NotAppliedHere(String),
    /// This node's disk takes no writes (full, or failing): `problem` names
    /// the file, the disk and the OS error (`store::health::Fault`).
    #[error("{problem}; {}", if *.queued {
        "the write waits in the log and takes effect once the disk takes writes again, so check before retrying"
    } else {
        "the write was not made, retry once the disk takes writes again"
    })]
    Storage { problem: String, queued: bool },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_due_by_bytes_once_per_growth_of_the_limit() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut rule = LogBytesRule::new(100);
        assert!(!rule.due(99, at(0)));
        assert!(rule.due(100, at(1)));
        // Not again within the gap, nor while the log has not grown by the
        // limit (a snapshot that purged little, or nothing yet).
        assert!(!rule.due(150, at(1)));
        assert!(!rule.due(199, at(5)));
        assert!(rule.due(200, at(6)));
        // Purged down to 120 (entries kept after the snapshot): due again
        // from 220, not before.
        assert!(!rule.due(120, at(7)));
        assert!(!rule.due(219, at(8)));
        assert!(rule.due(220, at(9)));
        // Purged to nothing: due again at the limit.
        assert!(!rule.due(0, at(10)));
        assert!(rule.due(100, at(11)));
    }

    #[test]
    fn entries_a_snapshot_holds_are_purged_once_the_log_passes_its_limit() {
        // Under the limit: openraft's count of entries to keep stands.
        assert_eq!(purge_by_bytes(99, 100, Some(50), Some(10)), None);
        // Past it: everything the snapshot holds goes.
        assert_eq!(purge_by_bytes(100, 100, Some(50), Some(10)), Some(50));
        assert_eq!(purge_by_bytes(500, 100, Some(50), None), Some(50));
        // Nothing to purge: no snapshot yet, or already purged up to it.
        assert_eq!(purge_by_bytes(500, 100, None, None), None);
        assert_eq!(purge_by_bytes(500, 100, Some(50), Some(50)), None);
    }
}
