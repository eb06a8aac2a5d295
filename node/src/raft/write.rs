//! Writes proposed on any member: on the leader they go into the log here;
//! on a follower they are forwarded to the leader and answered once applied
//! here too. A write that finds no leader it can reach — none elected yet,
//! or the leader it knows has died — waits for one (up to the member's
//! `leader_wait`) and is tried again, rather than failing while an election
//! that takes a fraction of a second is under way.
//!
//! **Invariant:** a write is sent again only when the first attempt cannot
//! have been applied (the leader refused it, or the connection to it was
//! refused before anything was sent), or when applying it twice is the same
//! as applying it once ([`Command::repeatable`]: a run or task created under
//! an id that exists is not created again, a put stores the same value).
//! So a retried forward never creates a second run (tests: this file's,
//! `tests/tests/failover.rs`).

use std::time::{Duration, Instant};

use super::{membership, network, Leadership, ProposeError, Raft};
use crate::store::{Command, CommandResult, NodeId};

/// Proposes a command and waits until it is committed and applied here
/// (on a follower: forwarded to the leader, then awaited locally). While no
/// leader can be reached it waits for one, up to the member's leader wait.
pub async fn propose(raft: &Raft, cmd: Command) -> Result<CommandResult, ProposeError> {
    let deadline = Instant::now() + raft.leader_wait;
    loop {
        let tried = raft.leadership();
        let attempt = match &tried {
            Leadership::Here => propose_here(raft, cmd.clone()).await,
            Leadership::Elsewhere { addr, .. } => {
                forward(raft, addr, LeaderRequest::Write(Box::new(cmd.clone()))).await
            }
            Leadership::Unknown => Err(ProposeError::NotLeader {
                leader_id: None,
                leader_addr: None,
            }),
        };
        let error = match attempt {
            Ok(result) => return Ok(result),
            Err(e) => e,
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if !worth_another_attempt(&error, &cmd) {
            return Err(error);
        }
        if left.is_zero() {
            return Err(ProposeError::NoLeader {
                waited: raft.leader_wait,
                last: error.to_string(),
            });
        }
        let leader = match tried {
            Leadership::Elsewhere { id, .. } => Some(id),
            Leadership::Here => Some(raft.node_id()),
            Leadership::Unknown => None,
        };
        wait_for_another_leader(raft, leader, left.min(LEADER_POLL)).await;
    }
}

/// Whether a write that failed with `error` may be sent again: when it
/// cannot have been applied (refused by a member that does not lead, or
/// never sent: the leader's address refused the connection), or when its
/// outcome is unknown but applying it twice equals applying it once.
/// Nothing else: a leader that could not commit (`NotCommitted`) may still
/// commit it later.
fn worth_another_attempt(error: &ProposeError, cmd: &Command) -> bool {
    match error {
        ProposeError::NotLeader { .. } | ProposeError::LeaderGone(_) => true,
        ProposeError::LeaderUnreachable(_) => cmd.repeatable(),
        _ => false,
    }
}

/// While the leader a write was sent to seems gone, the write is tried again
/// at least this often (sooner when another leader is known).
const LEADER_POLL: Duration = Duration::from_millis(100);

/// Waits up to `within` until a leader other than `tried` is known (or,
/// with `tried` None, any leader).
async fn wait_for_another_leader(raft: &Raft, tried: Option<NodeId>, within: Duration) {
    let _ = raft
        .wait(Some(within))
        .metrics(
            |m| m.current_leader.is_some() && m.current_leader != tried,
            "another leader is known",
        )
        .await;
}

fn dropped() -> ProposeError {
    ProposeError::Stopped("the Raft member dropped the request".into())
}

/// A leader cut off from its majority cannot commit; writers get an answer
/// after this long instead of waiting for the partition to heal.
const COMMIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Proposes on this node only: fails with `NotLeader` on a follower.
///
/// While this node's storage is faulted (`store::health`) a write is
/// refused at once, naming the disk: its log could not take the entry.
/// One that was proposed before the fault and times out says the same.
async fn propose_here(raft: &Raft, cmd: Command) -> Result<CommandResult, ProposeError> {
    let fault = || raft.content.storage_health().current();
    if let Some(f) = fault() {
        return Err(ProposeError::Storage {
            problem: f.describe(),
            queued: false,
        });
    }
    match tokio::time::timeout(COMMIT_TIMEOUT, raft.proposer.queue(cmd)).await {
        Ok(answer) => answer.unwrap_or_else(|_| Err(dropped())),
        Err(_) => Err(match fault() {
            Some(f) => ProposeError::Storage {
                problem: f.describe(),
                queued: true,
            },
            None => ProposeError::NotCommitted(COMMIT_TIMEOUT),
        }),
    }
}

/// What a member asks of another over `ClusterInternal.Forward`: of the
/// leader, a write or a membership change; of a follower, during a
/// leadership handover, to campaign.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum LeaderRequest {
    Write(Box<Command>),
    AddVoter {
        id: NodeId,
        addr: String,
    },
    RemoveNode {
        id: NodeId,
    },
    /// Start an election now (sent by a leader that is stopping to its most
    /// up-to-date follower).
    Campaign,
    /// You were removed from the cluster: stop standing for election (a
    /// removed node that keeps running would otherwise disrupt the cluster
    /// with elections it cannot win).
    Retire,
    /// Of a voter, from a follower: the leader `leader` of `term` seems
    /// gone (its address refuses connections); agree and give up your
    /// lease if you find so too and `candidate`'s log (`last_index`) is not
    /// shorter than yours (`dead_leader`). The answer's index is the
    /// voter's last log index.
    LeaderGone {
        leader: NodeId,
        term: u64,
        candidate: NodeId,
        last_index: u64,
    },
}

/// The leader's answer: the result and the log index applied when it was
/// given, which the asking member waits for before answering its client.
pub type LeaderAnswer = Result<(CommandResult, u64), ProposeError>;

/// How long a follower waits to apply a forwarded write the leader applied.
const FORWARDED_APPLY_WAIT: Duration = Duration::from_secs(30);

/// Asks the leader at `leader_addr` (following up to two redirections if the
/// leadership moved), then waits until this node has applied what the
/// leader had applied when it answered. A leader that is not listening any
/// more (its process died) answers `LeaderGone`: the request never reached
/// it. Any other failure to get an answer is `LeaderUnreachable`: the
/// request may have been carried out.
pub async fn forward(
    raft: &Raft,
    leader_addr: &str,
    req: LeaderRequest,
) -> Result<CommandResult, ProposeError> {
    let mut addr = leader_addr.to_string();
    let mut hops = 0;
    let (result, index) = loop {
        let answer: LeaderAnswer = raft
            .peers
            .call(&addr, network::Method::Forward, &req, None)
            .await
            .map_err(|e| match e {
                network::PeerError::NotListening { .. } => ProposeError::LeaderGone(e.to_string()),
                e => ProposeError::LeaderUnreachable(e.to_string()),
            })?;
        match answer {
            Err(ProposeError::NotLeader {
                leader_addr: Some(next),
                ..
            }) if hops < 2 && next != addr => {
                hops += 1;
                addr = next;
            }
            other => break other?,
        }
    };
    raft.inner
        .wait(Some(FORWARDED_APPLY_WAIT))
        .applied_index_at_least(Some(index), "a forwarded write is applied here")
        .await
        .map_err(|e| {
            // This node's own disk may be why (its log cannot take the entry).
            let why = match raft.content.storage_health().current() {
                Some(f) => format!("; {}", f.describe()),
                None => String::new(),
            };
            ProposeError::NotAppliedHere(format!("{e}{why}"))
        })?;
    Ok(result)
}

/// Serves a request forwarded by another member; this node must be the
/// leader (requests are forwarded once, never onwards).
pub async fn serve_leader_request(raft: &Raft, req: LeaderRequest) -> LeaderAnswer {
    let result = match req {
        LeaderRequest::Write(cmd) => propose_here(raft, *cmd).await?,
        LeaderRequest::AddVoter { id, addr } => {
            membership::add_voter_here(raft, id, addr).await?;
            CommandResult::None
        }
        LeaderRequest::RemoveNode { id } => {
            membership::remove_here(raft, id).await?;
            CommandResult::None
        }
        LeaderRequest::Campaign => {
            raft.trigger()
                .elect()
                .await
                .map_err(|e| ProposeError::Stopped(e.to_string()))?;
            CommandResult::None
        }
        LeaderRequest::LeaderGone {
            leader,
            term,
            candidate,
            last_index,
        } => {
            let mine = super::dead_leader::agree(raft, leader, term, candidate, last_index).await?;
            return Ok((CommandResult::None, mine));
        }
        LeaderRequest::Retire => {
            raft.runtime_config().elect(false);
            tracing::warn!(
                "this node was removed from the cluster; it stands for no election until it is restarted \
                 (stop it, or add it again and restart it)"
            );
            CommandResult::None
        }
    };
    Ok((result, raft.applied_index()))
}

/// Queues a command behind every command queued before this returns, and
/// answers a future of its result: for writers that need log order but need
/// not wait for the commit. On a follower (or while no leader is known) the
/// command goes through [`propose`]; the order then holds only among this
/// node's own writes that were answered before the next was sent.
pub fn enqueue(
    raft: &Raft,
    cmd: Command,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<CommandResult, ProposeError>> + Send + 'static>>
{
    match raft.leadership() {
        Leadership::Here => {
            let rx = raft.proposer.queue(cmd);
            Box::pin(async move { rx.await.unwrap_or_else(|_| Err(dropped())) })
        }
        Leadership::Elsewhere { .. } | Leadership::Unknown => {
            let raft = raft.clone();
            Box::pin(async move { propose(&raft, cmd).await })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_is_sent_again_only_if_it_cannot_apply_twice() {
        let put = Command::CacheSet {
            key: "k".into(),
            value: vec![1],
            expires_at_ms: None,
        };
        let delete = Command::CacheDelete { key: "k".into() };
        let not_leader = ProposeError::NotLeader {
            leader_id: None,
            leader_addr: None,
        };
        let gone = ProposeError::LeaderGone("refused".into());
        let unknown = ProposeError::LeaderUnreachable("reset".into());
        // Never applied: any command.
        for cmd in [&put, &delete] {
            assert!(worth_another_attempt(&not_leader, cmd));
            assert!(worth_another_attempt(&gone, cmd));
        }
        // Perhaps applied: only what applying twice leaves as once did.
        assert!(worth_another_attempt(&unknown, &put));
        assert!(!worth_another_attempt(&unknown, &delete));
        assert!(worth_another_attempt(
            &unknown,
            &Command::Batch(vec![put.clone()])
        ));
        assert!(!worth_another_attempt(
            &unknown,
            &Command::Batch(vec![put, delete])
        ));
        // A leader that could not commit may commit later.
        let cmd = Command::Batch(Vec::new());
        assert!(!worth_another_attempt(
            &ProposeError::NotCommitted(COMMIT_TIMEOUT),
            &cmd
        ));
        assert!(!worth_another_attempt(&ProposeError::Stopped("x".into()), &cmd));
    }
}
