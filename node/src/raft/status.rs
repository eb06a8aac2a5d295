//! What a node can say about its cluster: members, leader, each member's
//! health and replication lag, and the queues and workers each registered.
//! Health is known on the leader, which calls every member at least once per
//! heartbeat; a follower asks the leader for its view (the `Status` call of
//! the internal service) and falls back to its own.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::network::Method;
use super::{Leadership, Raft};
use crate::store::{ContentHandle, NodeId};

/// How long a follower waits for the leader's view of the cluster.
const LEADER_VIEW_TIMEOUT: Duration = Duration::from_secs(2);

/// A member that has not answered the leader for this long is down.
const PEER_DOWN_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Health {
    Up,
    Down,
    /// Only the leader knows; this view is not the leader's.
    Unknown,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Down => "down",
            Health::Unknown => "unknown (ask the leader)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub id: NodeId,
    pub address: String,
    pub voter: bool,
    pub leader: bool,
    pub this_node: bool,
    /// From the node's registration, once it registered.
    pub served_queues: Option<Vec<String>>,
    pub workers: Option<u64>,
    pub health: Health,
    /// Known on the leader, for the other members.
    pub last_contact_ms: Option<u64>,
    pub replication_lag: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterView {
    /// The node that answered the caller.
    pub answered_by: NodeId,
    /// The node whose view of health this is (the leader, when reachable).
    pub health_seen_by: NodeId,
    pub leader: Option<NodeId>,
    pub term: u64,
    pub last_log_index: Option<u64>,
    pub last_applied: Option<u64>,
    pub snapshot_index: Option<u64>,
    pub purged_index: Option<u64>,
    pub members: Vec<MemberView>,
}

/// The cluster as this node answers a caller: the leader's view if another
/// node leads and answers, else its own.
pub async fn cluster_view(raft: &Raft, content: &ContentHandle) -> ClusterView {
    if let Leadership::Elsewhere { id: leader, addr } = raft.leadership() {
        let asked: Result<ClusterView, _> = raft
            .peers
            .call(&addr, Method::Status, &(), Some(LEADER_VIEW_TIMEOUT))
            .await;
        match asked {
            Ok(mut view) => {
                let me = raft.node_id();
                for m in &mut view.members {
                    m.this_node = m.id == me;
                }
                view.answered_by = me;
                view.health_seen_by = leader;
                return view;
            }
            Err(e) => tracing::debug!(error = %e, "cannot ask the leader for its cluster view"),
        }
    }
    local_view(raft, content)
}

/// Members, leader and health as this node sees them: every member's health
/// on the leader, only its own elsewhere.
pub fn local_view(raft: &Raft, content: &ContentHandle) -> ClusterView {
    let metrics = raft.metrics().borrow().clone();
    let me = metrics.id;
    let is_leader = raft.is_leader();
    let membership = metrics.membership_config.membership();
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    let last_log = metrics.last_log_index.unwrap_or(0);
    let nodes = content.read().content.nodes.clone();
    let members = membership
        .nodes()
        .map(|(id, node)| {
            let info = nodes.get(id);
            let mut m = MemberView {
                id: *id,
                address: node.addr.clone(),
                voter: voters.contains(id),
                leader: metrics.current_leader == Some(*id),
                this_node: *id == me,
                served_queues: info.map(|i| i.queues()),
                workers: info.map(|i| i.workers() as u64),
                health: Health::Unknown,
                last_contact_ms: None,
                replication_lag: None,
            };
            if *id == me {
                m.health = Health::Up;
            } else if is_leader {
                let age = raft.peers.last_answer(&node.addr);
                m.health = if age.is_some_and(|a| a < PEER_DOWN_AFTER) {
                    Health::Up
                } else {
                    Health::Down
                };
                m.last_contact_ms = age.map(|a| a.as_millis() as u64);
                let matched = metrics
                    .replication
                    .as_ref()
                    .and_then(|r| r.get(id).cloned().flatten())
                    .map_or(0, |l| l.index);
                m.replication_lag = Some(last_log.saturating_sub(matched));
            }
            m
        })
        .collect();
    ClusterView {
        answered_by: me,
        health_seen_by: me,
        leader: metrics.current_leader,
        term: metrics.current_term,
        last_log_index: metrics.last_log_index,
        last_applied: metrics.last_applied.map(|l| l.index),
        snapshot_index: metrics.snapshot.map(|l| l.index),
        purged_index: metrics.purged.map(|l| l.index),
        members,
    }
}
