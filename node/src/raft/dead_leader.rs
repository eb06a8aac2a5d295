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
//! other case keeps openraft's timers (tests: the voter's [`verdict`] here,
//! `tests/tests/failover.rs`; the time it saves is measured by
//! `tests/bench/cluster.sh`).

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

/// What a voter knows when asked to agree that the leader is gone.
#[derive(Debug, Clone, Copy)]
struct VoterView {
    me: NodeId,
    /// The leader it knows, if any.
    leader: Option<NodeId>,
    /// The term of its vote, and whether that vote is a leader's lease.
    term: u64,
    committed: bool,
    last_index: u64,
    /// Since it last heard from a leader (None: never since it started).
    silent_for: Option<Duration>,
}

/// The request: `candidate`, whose log ends at `last_index`, says the
/// leader `leader` of `term` is gone.
#[derive(Debug, Clone, Copy)]
struct Ask {
    leader: NodeId,
    term: u64,
    candidate: NodeId,
    last_index: u64,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Refuse(String),
    /// Agree; it holds no lease to give up.
    Agree,
    /// Agree once the leader's address is found refusing connections,
    /// then give up the lease by standing.
    ProbeThenStand,
}

/// The decision of [`agree`] before any probe.
fn verdict(v: VoterView, ask: Ask) -> Verdict {
    let refuse = |why: String| Verdict::Refuse(format!("not an early election: {why}"));
    if let Some(other) = v.leader.filter(|l| *l != ask.leader) {
        // Standing now would unseat a live leader.
        return refuse(format!("node {other} leads now"));
    }
    if v.term > ask.term + 1 {
        return refuse("this node has moved past that term".into());
    }
    if (v.last_index, std::cmp::Reverse(v.me)) > (ask.last_index, std::cmp::Reverse(ask.candidate)) {
        return refuse("this node's log is longer; it stands itself".into());
    }
    if !v.committed {
        // Already a candidate, or voted in an election: no lease to give up.
        return Verdict::Agree;
    }
    if v.silent_for.is_none_or(|s| s < SUSPECT_AFTER) {
        return refuse("this node still hears from the leader".into());
    }
    Verdict::ProbeThenStand
}

/// A voter's answer to `LeaderGone` from `candidate` ([`verdict`]): agrees
/// (giving up the lease it granted the leader, by standing itself) when it
/// has not heard from the leader either, finds its address refusing
/// connections, and its own log is not longer than the candidate's.
/// Answers its last log index.
pub(super) async fn agree(
    raft: &Raft,
    leader: NodeId,
    term: u64,
    candidate: NodeId,
    last_index: u64,
) -> Result<u64, ProposeError> {
    let m = raft.metrics().borrow().clone();
    let mine = m.last_log_index.unwrap_or(0);
    let view = VoterView {
        me: m.id,
        leader: m.current_leader,
        term: m.vote.leader_id().term,
        committed: m.vote.committed,
        last_index: mine,
        silent_for: raft.heard.silent_for(),
    };
    let ask = Ask {
        leader,
        term,
        candidate,
        last_index,
    };
    let refuse = |why: String| Err(ProposeError::Membership(why));
    match verdict(view, ask) {
        Verdict::Refuse(why) => return refuse(why),
        Verdict::Agree => return Ok(mine),
        Verdict::ProbeThenStand => {}
    }
    let addr = match m.membership_config.membership().get_node(&leader) {
        Some(node) => node.addr.clone(),
        None => return refuse("not an early election: the leader is not a member".into()),
    };
    if !gone(&raft.peers, &addr).await {
        return refuse("not an early election: the leader's address still takes connections".into());
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Node 3, follower of node 1 in term 5, log at 100, silent for 400 ms.
    fn follower() -> VoterView {
        VoterView {
            me: 3,
            leader: Some(1),
            term: 5,
            committed: true,
            last_index: 100,
            silent_for: Some(Duration::from_millis(400)),
        }
    }

    /// From node `candidate` with its log at `last_index`: leader 1 of term 5 is gone.
    fn ask(candidate: NodeId, last_index: u64) -> Ask {
        Ask {
            leader: 1,
            term: 5,
            candidate,
            last_index,
        }
    }

    #[test]
    fn a_silent_follower_gives_up_its_lease_to_a_candidate_whose_log_is_not_shorter() {
        assert_eq!(verdict(follower(), ask(2, 100)), Verdict::ProbeThenStand);
        assert_eq!(verdict(follower(), ask(4, 120)), Verdict::ProbeThenStand);
    }

    #[test]
    fn the_longest_log_stands_and_a_tie_goes_to_the_lower_id() {
        assert!(matches!(verdict(follower(), ask(2, 99)), Verdict::Refuse(_)));
        // Equal logs: node 2 outranks node 3, node 3 outranks node 4.
        assert_eq!(verdict(follower(), ask(2, 100)), Verdict::ProbeThenStand);
        assert!(matches!(verdict(follower(), ask(4, 100)), Verdict::Refuse(_)));
    }

    #[test]
    fn a_voter_that_still_hears_the_leader_or_knows_another_refuses() {
        let hearing = VoterView {
            silent_for: Some(Duration::from_millis(100)),
            ..follower()
        };
        assert!(matches!(verdict(hearing, ask(2, 100)), Verdict::Refuse(_)));
        let fresh = VoterView {
            silent_for: None,
            ..follower()
        };
        assert!(matches!(verdict(fresh, ask(2, 100)), Verdict::Refuse(_)));
        let other = VoterView {
            leader: Some(4),
            ..follower()
        };
        assert!(matches!(verdict(other, ask(2, 100)), Verdict::Refuse(_)));
        let later = VoterView {
            term: 7,
            ..follower()
        };
        assert!(matches!(verdict(later, ask(2, 100)), Verdict::Refuse(_)));
    }

    #[test]
    fn a_voter_without_a_lease_agrees_without_standing_again() {
        // Already a candidate in term 6 (it gave up its lease when first asked).
        let candidate = VoterView {
            leader: None,
            term: 6,
            committed: false,
            silent_for: Some(Duration::from_millis(10)),
            ..follower()
        };
        assert_eq!(verdict(candidate, ask(2, 100)), Verdict::Agree);
        // But not to a candidate with a shorter log.
        assert!(matches!(verdict(candidate, ask(2, 50)), Verdict::Refuse(_)));
    }
}
