//! Group commit of proposals: commands proposed while earlier entries are
//! still being made durable are gathered into one `Command::Batch` entry.
//!
//! openraft 0.9 waits for each append to be flushed before it takes the
//! next one, so one entry per command means one `fdatasync` per command and
//! a throughput ceiling of one command per sync. The proposer keeps at most
//! [`IN_FLIGHT`] entries between submission and apply; everything proposed
//! meanwhile waits in its queue and goes into the next entry together.
//!
//! **Invariant:** commands reach the log in the order they were proposed
//! (one FIFO queue, one submitting task, batches keep their order), which
//! `enqueue` callers rely on.

use std::sync::Arc;

use openraft::error::ClientWriteError;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::{OpenRaft, ProposeError};
use crate::store::{Command, CommandResult, NodeId};

/// Entries submitted and not yet applied. Two keep the log writer busy (one
/// syncing, one waiting) while the next batch gathers.
const IN_FLIGHT: usize = 2;
/// Commands per entry at most, so one entry stays a modest write.
const MAX_BATCH: usize = 512;

type Reply = oneshot::Sender<Result<CommandResult, ProposeError>>;

struct Proposal {
    cmd: Command,
    reply: Reply,
}

/// The sending side; cheap to clone.
#[derive(Clone)]
pub(super) struct Proposer {
    tx: mpsc::UnboundedSender<Proposal>,
}

impl Proposer {
    pub(super) fn start(raft: OpenRaft) -> Proposer {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(submit_loop(raft, rx));
        Proposer { tx }
    }

    /// Queues `cmd` behind everything queued before; the receiver answers
    /// once it is applied here.
    pub(super) fn queue(&self, cmd: Command) -> oneshot::Receiver<Result<CommandResult, ProposeError>> {
        let (reply, rx) = oneshot::channel();
        if let Err(mpsc::error::SendError(p)) = self.tx.send(Proposal { cmd, reply }) {
            let _ = p.reply.send(Err(stopped()));
        }
        rx
    }
}

fn stopped() -> ProposeError {
    ProposeError::Stopped("the Raft member is shutting down".into())
}

async fn submit_loop(raft: OpenRaft, mut rx: mpsc::UnboundedReceiver<Proposal>) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        // Wait for room before gathering, so whatever arrives meanwhile
        // joins this entry.
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let (cmd, replies) = if batch.len() == 1 {
            let p = batch.pop().expect("one proposal");
            (p.cmd, vec![p.reply])
        } else {
            let (cmds, replies) = batch.into_iter().map(|p| (p.cmd, p.reply)).unzip();
            (Command::Batch(cmds), replies)
        };
        let pending = match raft.client_write_ff(cmd).await {
            Ok(pending) => pending,
            Err(e) => {
                for r in replies {
                    let _ = r.send(Err(ProposeError::Stopped(e.to_string())));
                }
                continue;
            }
        };
        tokio::spawn(async move {
            let answer = pending.await;
            drop(permit);
            deliver(answer, replies);
        });
    }
}

type Answer = Result<
    Result<
        openraft::raft::ClientWriteResponse<crate::store::TypeConfig>,
        ClientWriteError<NodeId, openraft::BasicNode>,
    >,
    oneshot::error::RecvError,
>;

fn deliver(answer: Answer, replies: Vec<Reply>) {
    let error = match answer {
        Ok(Ok(resp)) => {
            match (resp.data, replies.len()) {
                (CommandResult::Batch(results), n) if n > 1 => {
                    for (r, result) in replies.into_iter().zip(results) {
                        let _ = r.send(Ok(result));
                    }
                }
                (single, _) => {
                    for r in replies {
                        let _ = r.send(Ok(single.clone()));
                    }
                }
            }
            return;
        }
        Ok(Err(e)) => ProposeError::from(e),
        Err(_) => ProposeError::Stopped("the Raft member dropped the request".into()),
    };
    for r in replies {
        let _ = r.send(Err(error.clone()));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::raft::{self, enqueue, propose, RaftSettings};
    use crate::store::{Command, CommandResult, Events};

    fn put(i: usize) -> Command {
        let doc = serde_json::json!({"name": format!("c{i}")});
        Command::PutConfiguration(crate::model::configuration::Configuration::validate(doc).unwrap())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_proposals_share_entries_and_each_gets_its_own_answer() {
        let dir = tempfile::tempdir().unwrap();
        let settings = RaftSettings {
            snapshot_every: 100_000,
            keep_after_snapshot: 1000,
            snapshot_log_bytes: 64 << 20,
            leader_wait: Duration::from_secs(10),
        };
        let member = raft::start(
            1,
            "127.0.0.1:1",
            dir.path(),
            &settings,
            Events::default(),
            raft::network::Peers::new(None, None),
            true,
        )
        .await
        .unwrap();
        let r = member.raft;
        raft::wait_for_leader(&r, Duration::from_secs(10)).await.unwrap();
        propose(&r, put(0)).await.unwrap();
        let before = r.metrics().borrow().last_log_index.unwrap();

        // All queued before the proposer runs again: they cannot need an
        // entry each.
        let pending: Vec<_> = (0..200).map(|i| enqueue(&r, put(i % 100))).collect();
        let mut answers = Vec::new();
        for p in pending {
            answers.push(p.await.unwrap());
        }
        let after = r.metrics().borrow().last_log_index.unwrap();
        assert!(
            after - before <= 3,
            "200 proposals took {} entries",
            after - before
        );
        // Each proposal got the answer of its own command, in order: the
        // first write of c1..c99 created it (c0 existed), the second replaced it.
        for (i, a) in answers.iter().enumerate() {
            let replaced = i >= 100 || i == 0;
            assert_eq!(*a, CommandResult::Stored { replaced }, "proposal {i}");
        }
        let stored = member.content.read().content.configurations.len();
        assert_eq!(stored, 100);
        r.shutdown().await.unwrap();
    }
}
