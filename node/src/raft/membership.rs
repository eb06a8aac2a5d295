//! Cluster membership: adding a node (as a learner that catches up, then a
//! voter), removing one, and a new node's request to join. Changes are made
//! by the leader; other members forward them (`LeaderRequest`).

use std::collections::BTreeSet;
use std::time::Duration;

use openraft::error::RaftError as OpenRaftError;
use openraft::{BasicNode, ChangeMembers};

use super::{forward, LeaderRequest, Leadership, ProposeError, Raft};
use crate::store::NodeId;

/// How long a node about to be added has to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

fn from_raft<E>(e: OpenRaftError<NodeId, E>) -> ProposeError
where
    E: Into<ProposeError> + std::error::Error,
{
    match e {
        OpenRaftError::APIError(e) => e.into(),
        OpenRaftError::Fatal(f) => ProposeError::Stopped(f.to_string()),
    }
}

/// On the leader: `id` at `addr` becomes a learner, catches up, then votes.
/// Adding a voter that already is one only updates nothing and succeeds.
pub(super) async fn add_voter_here(raft: &Raft, id: NodeId, addr: String) -> Result<(), ProposeError> {
    let membership = raft.metrics().borrow().membership_config.membership().clone();
    if membership.voter_ids().any(|v| v == id) {
        return match membership.get_node(&id) {
            Some(n) if n.addr == addr => Ok(()),
            _ => Err(ProposeError::Membership(format!(
                "node {id} is already a member with another address; remove it first"
            ))),
        };
    }
    // A node that does not answer (a wrong address, not started, another
    // cluster secret) would become a member that can never catch up, and a
    // voter the majority then waits for: it is refused before anything changes.
    let answered: Result<super::status::ClusterView, _> = raft
        .peers
        .call(&addr, super::network::Method::Status, &(), Some(PROBE_TIMEOUT))
        .await;
    match answered {
        Ok(view) if view.answered_by != id => {
            return Err(ProposeError::Membership(format!(
                "the node at {addr} is node {}, not node {id}; give its own id",
                view.answered_by
            )))
        }
        Ok(_) => {}
        Err(e) => {
            return Err(ProposeError::Membership(format!(
                "node {id} at {addr} does not answer ({e}); check the address, that the node runs, and \
                 that it has this cluster's cluster_secret. Nothing was changed"
            )))
        }
    }
    raft.add_learner(id, BasicNode::new(addr), true)
        .await
        .map_err(from_raft)?;
    raft.change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
        .await
        .map_err(from_raft)?;
    Ok(())
}

/// On the leader: `id` stops voting and leaves the cluster.
pub(super) async fn remove_here(raft: &Raft, id: NodeId) -> Result<(), ProposeError> {
    let membership = raft.metrics().borrow().membership_config.membership().clone();
    if membership.get_node(&id).is_none() {
        return Err(ProposeError::Membership(format!(
            "node {id} is not a member of this cluster"
        )));
    }
    let voters: BTreeSet<NodeId> = membership.voter_ids().collect();
    if voters.contains(&id) {
        if voters.len() == 1 {
            return Err(ProposeError::Membership(format!(
                "node {id} is the only voter; a cluster cannot remove its last voter"
            )));
        }
        raft.change_membership(ChangeMembers::RemoveVoters(BTreeSet::from([id])), false)
            .await
            .map_err(from_raft)?;
    }
    raft.change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
        .await
        .map_err(from_raft)?;
    // It may never see the configuration without it (the leader stops
    // replicating to it): tell it directly, if it is reachable.
    if let Some(node) = membership.get_node(&id) {
        let told: Result<super::LeaderAnswer, _> = raft
            .peers
            .call(
                &node.addr,
                super::network::Method::Forward,
                &LeaderRequest::Retire,
                Some(Duration::from_secs(2)),
            )
            .await;
        if let Err(e) = told {
            tracing::info!(node = id, error = %e, "the removed node was not told (it may be down)");
        }
    }
    Ok(())
}

/// Asks the leader (from any member) to do a membership change.
pub async fn change(raft: &Raft, req: LeaderRequest) -> Result<(), ProposeError> {
    match raft.leadership() {
        Leadership::Elsewhere { addr, .. } => forward(raft, &addr, req).await.map(|_| ()),
        Leadership::Here => match req {
            LeaderRequest::AddVoter { id, addr } => add_voter_here(raft, id, addr).await,
            LeaderRequest::RemoveNode { id } => remove_here(raft, id).await,
            LeaderRequest::Write(_)
            | LeaderRequest::Campaign
            | LeaderRequest::Retire
            | LeaderRequest::LeaderGone { .. } => {
                Err(ProposeError::Membership("not a membership change".into()))
            }
        },
        Leadership::Unknown => Err(ProposeError::NotLeader {
            leader_id: None,
            leader_addr: None,
        }),
    }
}

/// Hands leadership to the most up-to-date other voter, if this node leads
/// and has one: this node stops standing for election and asks that voter
/// to campaign. Answers whether another node leads within `within`.
pub async fn hand_over(raft: &Raft, within: Duration) -> bool {
    if !raft.is_leader() {
        return true;
    }
    let me = raft.node_id();
    let metrics = raft.metrics().borrow().clone();
    let membership = metrics.membership_config.membership().clone();
    let best = membership
        .voter_ids()
        .filter(|v| *v != me)
        .filter_map(|v| {
            let matched = metrics.replication.as_ref()?.get(&v)?.as_ref()?.index;
            let age = raft.peers.last_answer(&membership.get_node(&v)?.addr)?;
            (age < Duration::from_secs(2)).then_some((matched, v))
        })
        .max();
    let Some((_, target)) = best else {
        tracing::info!("no reachable voter to hand leadership to");
        return false;
    };
    let Some(addr) = membership.get_node(&target).map(|n| n.addr.clone()) else {
        return false;
    };
    raft.runtime_config().elect(false);
    let asked: Result<super::LeaderAnswer, _> = raft
        .peers
        .call(
            &addr,
            super::network::Method::Forward,
            &LeaderRequest::Campaign,
            Some(within),
        )
        .await;
    if let Err(e) = asked {
        tracing::warn!(to = target, error = %e, "cannot hand leadership over");
        raft.runtime_config().elect(true);
        return false;
    }
    let handed = raft
        .wait(Some(within))
        .metrics(
            |m| m.current_leader.is_some_and(|l| l != me),
            "another node leads",
        )
        .await
        .is_ok();
    tracing::info!(to = target, handed, "leadership handover");
    handed
}

/// Whether this node is in the membership it knows (voter or learner).
pub fn is_member(raft: &Raft) -> bool {
    let id = raft.node_id();
    let m = raft.metrics();
    let m = m.borrow();
    m.membership_config.membership().get_node(&id).is_some()
}

/// Whether this node votes in the membership it knows.
pub fn is_voter(raft: &Raft) -> bool {
    let id = raft.node_id();
    let m = raft.metrics().borrow().membership_config.membership().clone();
    m.voter_ids().any(|v| v == id)
}

/// Run by a node started on a new data directory with `join` addresses:
/// asks the members, in turn, to add it as a voter, until one does (the
/// request is forwarded to the leader). Retries with capped exponential
/// backoff while no member answers.
pub async fn join(raft: Raft, advertise: String, members: Vec<String>) {
    let id = raft.node_id();
    let backoff = crate::util::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    let mut failures = 0u32;
    loop {
        if is_voter(&raft) {
            tracing::info!(node_id = id, "this node is a voting member");
            return;
        }
        for member in &members {
            let req = LeaderRequest::AddVoter {
                id,
                addr: advertise.clone(),
            };
            match forward(&raft, member, req).await {
                Ok(_) => {
                    tracing::info!(node_id = id, via = %member, "joined the cluster");
                    return;
                }
                Err(e) => tracing::info!(node_id = id, via = %member, error = %e, "cannot join yet"),
            }
        }
        failures += 1;
        tokio::time::sleep(backoff.delay(failures)).await;
    }
}
