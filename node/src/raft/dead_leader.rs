//! An early election when the leader's process is gone.
//!
//! openraft makes a follower wait out the leader's lease (its
//! `election_timeout_max`) plus its own election timeout before it stands,
//! and a voter refuses every candidate while the lease it granted the
//! leader runs. That protects a live leader from a follower that merely
//! missed a few heartbeats, and it makes a failover take 0.9–1.35 s at best;
//! worse when the first candidate has a shorter log than the other
//! follower, which then refuses it and makes it wait out
//! `2 × election_timeout_max` more (trials of 3–4 s).
//!
//! When the leader's address refuses connections, its process is not
//! running, and there is nothing to protect. A follower that has not heard
//! from the leader for [`SUSPECT_AFTER`] probes it; if nothing listens
//! there, it asks the other voters (`LeaderRequest::LeaderGone`). Each
//! checks for itself that it has not heard from the leader either and that
//! the leader refuses connections, and agrees only if the asker's log is at
//! least as long as its own (ties: the lower node id), so exactly the
//! follower with the longest log goes on. An agreeing voter gives up its
//! lease by standing for election itself (a candidate's vote is not a
//! lease); once a majority agreed, the asker stands twice in a row, the
//! second time in a term above theirs, and is elected. Votes stay Raft
//! votes: this only skips the wait, never a voter's log check.
//!
//! **Invariant:** a member starts an early election only when a majority of
//! the voters (itself included) found the leader's address refusing
//! connections and none of them heard from it for `SUSPECT_AFTER`; every
//! other case keeps openraft's timers (tests: `tests/tests/failover.rs`;
//! the time it saves is measured by `tests/bench/cluster.sh`).

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use openraft::ServerState;

use super::network::{Method, PeerError, Peers};
use super::{LeaderAnswer, LeaderRequest, OpenRaft, ProposeError, Raft};
use crate::store::NodeId;

/// A follower that has not heard from the leader for this long (three
/// heartbeats) looks at whether it is still there.
pub const SUSPECT_AFTER: Duration = Duration::from_millis(300);
/// How often a follower looks.
const CHECK_EVERY: Duration = Duration::from_millis(50);
/// The probes and requests of a check answer within this.
const ASK_TIMEOUT: Duration = Duration::from_millis(300);

/// When this member last heard from a leader (an `AppendEntries` or a
/// snapshot chunk): set by the internal service, read by the checks.
#[derive(Clone, Default)]
pub struct Heard(Arc<Mutex<Option<Instant>>>);

impl Heard {
    pub fn now(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    /// How long since; None before the first message.
    fn silent_for(&self) -> Option<Duration> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed())
    }
}

/// The leader this follower knows and still grants a lease to, with its
/// address and term, once it has been silent for `SUSPECT_AFTER`.
fn suspect(
    m: &openraft::RaftMetrics<NodeId, openraft::BasicNode>,
    heard: &Heard,
) -> Option<(NodeId, String, u64)> {
    let leader = m.current_leader.filter(|l| *l != m.id)?;
    let membership = m.membership_config.membership();
    let voter = membership.voter_ids().any(|v| v == m.id);
    if m.state != ServerState::Follower || !m.vote.committed || !voter {
        return None;
    }
    if heard.silent_for()? < SUSPECT_AFTER {
        return None;
    }
    let addr = membership.get_node(&leader)?.addr.clone();
    Some((leader, addr, m.vote.leader_id().term))
}

/// Whether nothing listens at `addr` (its connection is refused).
async fn gone(peers: &Peers, addr: &str) -> bool {
    let probe: Result<super::status::ClusterView, PeerError> =
        peers.call(addr, Method::Status, &(), Some(ASK_TIMEOUT)).await;
    matches!(probe, Err(PeerError::NotListening { .. }))
}

/// Runs beside the member until it stops: the follower's side of the early
/// election (see the module's documentation).
pub(super) async fn watch(raft: Weak<OpenRaft>, peers: Peers, heard: Heard) {
    let mut tick = tokio::time::interval(CHECK_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The term whose leader this member already stood against.
    let mut stood_in: Option<u64> = None;
    loop {
        tick.tick().await;
        let Some(raft) = raft.upgrade() else {
            return;
        };
        let m = raft.metrics().borrow().clone();
        if m.running_state.is_err() {
            return;
        }
        let Some((leader, addr, term)) = suspect(&m, &heard) else {
            continue;
        };
        if stood_in == Some(term) || !gone(&peers, &addr).await {
            continue;
        }
        let membership = m.membership_config.membership();
        let voters: Vec<NodeId> = membership.voter_ids().collect();
        let request = LeaderRequest::LeaderGone {
            leader,
            term,
            candidate: m.id,
            last_index: m.last_log_index.unwrap_or(0),
        };
        let mut agreed = 1; // this member
        for v in voters.iter().filter(|v| **v != m.id && **v != leader) {
            let Some(node) = membership.get_node(v) else {
                continue;
            };
            let answer: Result<LeaderAnswer, PeerError> = peers
                .call(&node.addr, Method::Forward, &request, Some(ASK_TIMEOUT))
                .await;
            if matches!(answer, Ok(Ok(_))) {
                agreed += 1;
            }
        }
        if agreed * 2 <= voters.len() {
            continue;
        }
        stood_in = Some(term);
        tracing::info!(
            leader,
            term,
            "the leader's address refuses connections and a majority agrees it is gone; standing for election now"
        );
        // The agreeing voters stand in term + 1 (giving up their lease);
        // the second election here is in term + 2, which they grant.
        for _ in 0..2 {
            if raft.trigger().elect().await.is_err() {
                return;
            }
        }
    }
}

/// A voter's answer to `LeaderGone` from `candidate`: agrees (and gives up
/// the lease it granted the leader, by standing itself) when it has not
/// heard from the leader either, finds its address refusing connections,
/// and its own log is not longer than the candidate's. Answers its last log
/// index.
pub(super) async fn agree(
    raft: &Raft,
    leader: NodeId,
    term: u64,
    candidate: NodeId,
    last_index: u64,
) -> Result<u64, ProposeError> {
    let refuse = |why: &str| Err(ProposeError::Membership(format!("not an early election: {why}")));
    let m = raft.metrics().borrow().clone();
    let mine = m.last_log_index.unwrap_or(0);
    if let Some(other) = m.current_leader.filter(|l| *l != leader) {
        // Standing now would unseat a live leader.
        return refuse(&format!("node {other} leads now"));
    }
    if m.vote.leader_id().term > term + 1 {
        return refuse("this node has moved past that term");
    }
    if !m.vote.committed {
        // Already a candidate, or voted in an election: no lease to give up.
        return Ok(mine);
    }
    if (mine, std::cmp::Reverse(m.id)) > (last_index, std::cmp::Reverse(candidate)) {
        return refuse("this node's log is longer; it stands itself");
    }
    if raft.heard.silent_for().is_none_or(|s| s < SUSPECT_AFTER) {
        return refuse("this node still hears from the leader");
    }
    let addr = match m.membership_config.membership().get_node(&leader) {
        Some(node) => node.addr.clone(),
        None => return refuse("the leader is not a member"),
    };
    if !gone(&raft.peers, &addr).await {
        return refuse("the leader's address still takes connections");
    }
    tracing::info!(
        leader,
        candidate,
        "the leader is gone; giving up its lease for node {candidate}'s election"
    );
    raft.trigger()
        .elect()
        .await
        .map_err(|e| ProposeError::Stopped(e.to_string()))?;
    Ok(mine)
}
