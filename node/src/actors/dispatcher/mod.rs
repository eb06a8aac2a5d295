//! The dispatcher actor: the node's named queues of ready step tasks and the
//! idle workers subscribed to them. The decisions are made by the pure
//! [`queues::DispatchQueues`]; this actor feeds it (messages, the clock,
//! the replicated state) and carries out its actions: it sends task orders
//! to workers of any node, arms timers for tasks that may run later and
//! flips the cancel switch of a local task that must stop.
//!
//! Only the Raft leader's dispatcher hands out tasks: every member applies
//! the same entries and sees the same ready tasks, and one of them must
//! decide. The queues live in memory; the tasks themselves are in the
//! replicated state, so a dispatcher that becomes leader is refilled from
//! there (tasks another node was running run again: steps are
//! at-least-once, and attempt numbers fence late outcomes).

pub mod queues;

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Duration;

use ractor::pg::GroupChangeMessage;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use self::queues::{Action, DispatchQueues};
use super::inbox::Inbox;
use super::messages::{Handoff, Readiness, RunOrder};
use super::shared::NodeShared;
use super::worker::{WorkerMsg, WORKERS};
use crate::raft::Raft;
use crate::store::ContentHandle;
use crate::util::now_ms;

pub const DISPATCHER: &str = "dispatcher";

#[derive(ractor_cluster::RactorMessage)]
pub enum DispatchMsg {
    /// A task is ready to run on `queue`, at once or from `not_before_ms`.
    Enqueue {
        task_id: String,
        queue: String,
        not_before_ms: Option<u64>,
    },
    /// A step that becomes ready when an outcome already queued in the log
    /// is applied: start it now, with that outcome's data (see ARCHITECTURE,
    /// "Steps start ahead of the apply"). The Ready effect that follows the
    /// apply is then ignored once.
    EnqueueAhead {
        task_id: String,
        queue: String,
        handoff: Handoff,
    },
    /// A worker (of any node) is idle, through this node's inbox.
    WorkerReady(Readiness),
    /// Take the task out of its queue, or kill it if it runs.
    Cancel { task_id: String },
    /// This node became (true) or stopped being (false) the Raft leader.
    Leadership(bool),
    /// The node is stopping: hand out no more tasks.
    Drain,
    /// Look for waiting tasks that nobody holds (see [`SWEEP_EVERY`]).
    Sweep,
}

/// How often the leader looks for tasks that wait in the replicated state
/// but are neither queued nor running here (say, an outcome that was lost
/// with the node that forwarded it). A task found so twice in a row, a
/// sweep apart, is queued again: that is its lease.
const SWEEP_EVERY: Duration = Duration::from_secs(3);

pub struct DispatcherArgs {
    pub raft: Raft,
    pub content: ContentHandle,
    pub shared: NodeShared,
    /// Whether STARTED tasks are run again when this dispatcher starts as
    /// leader: yes at node start (their runs were cut short), no after a
    /// restart of the dispatcher alone (local workers still run them).
    pub include_started: bool,
}

pub struct DispatchState {
    queues: DispatchQueues,
    content: ContentHandle,
    raft: Raft,
    shared: NodeShared,
    /// Workers seen, by name (local or remote references).
    workers: HashMap<String, ActorRef<WorkerMsg>>,
}

impl DispatchState {
    /// Carries out `actions` and whatever carrying them out leads to.
    fn carry_out(&mut self, myself: &ActorRef<DispatchMsg>, actions: Vec<Action>) {
        let mut actions: VecDeque<Action> = actions.into();
        while let Some(action) = actions.pop_front() {
            let more = match action {
                Action::Assign {
                    worker,
                    task_id,
                    queue,
                    handoff,
                } => {
                    let order = RunOrder {
                        task_id: task_id.clone(),
                        handoff,
                        applied_index: self.raft.applied_index(),
                    };
                    let sent = match (self.workers.get(&worker), crate::util::wire::encode(&order)) {
                        (Some(w), Ok(bytes)) => w.cast(WorkerMsg::Run(bytes)).is_ok(),
                        _ => false,
                    };
                    if sent {
                        continue;
                    }
                    self.workers.remove(&worker);
                    self.queues.assign_failed(task_id, queue)
                }
                Action::EnqueueLater {
                    task_id,
                    queue,
                    at_ms,
                } => {
                    let wait = Duration::from_millis(at_ms.saturating_sub(now_ms()));
                    myself.send_after(wait, move || DispatchMsg::Enqueue {
                        task_id,
                        queue,
                        not_before_ms: None,
                    });
                    continue;
                }
                Action::Requeue { task_id } => {
                    // Queued again only if it still waits in the replicated state.
                    let queue = self
                        .content
                        .read()
                        .content
                        .tasks
                        .get(&task_id)
                        .filter(|t| !t.state.is_terminal())
                        .map(|t| t.spec.queue.clone());
                    match queue {
                        Some(queue) => self.queues.enqueue(task_id, queue, None, now_ms()),
                        None => continue,
                    }
                }
                Action::CancelLocal { task_id } => {
                    self.shared.switches.cancel(&task_id);
                    continue;
                }
                Action::Served(queues) => {
                    self.shared.served.set(queues);
                    continue;
                }
            };
            actions.extend(more);
        }
    }

    fn waiting(&self) -> Vec<crate::store::queries::WaitingTask> {
        self.content.read().content.waiting_tasks()
    }
}

pub struct Dispatcher;

/// Tells the dispatcher whenever this node's leadership changes, until the
/// dispatcher is gone.
async fn watch_leadership(myself: ActorRef<DispatchMsg>, raft: Raft) {
    let mut metrics = raft.metrics();
    let mut last = None;
    loop {
        let leader = raft.is_leader();
        if last != Some(leader) {
            if myself.cast(DispatchMsg::Leadership(leader)).is_err() {
                return;
            }
            last = Some(leader);
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// Name of the dispatch inbox, a child of the dispatcher.
const INBOX: &str = "dispatch-inbox";

/// The worker of that name, on any node, if it is subscribed to `queue`.
fn worker_named(name: &str, queue: &str) -> Option<ActorRef<WorkerMsg>> {
    ractor::pg::get_members(&super::worker::queue_group(queue))
        .into_iter()
        .find(|c| c.get_name().as_deref() == Some(name))
        .map(ActorRef::from)
}

impl Actor for Dispatcher {
    type Msg = DispatchMsg;
    type State = DispatchState;
    type Arguments = DispatcherArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: DispatcherArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        tokio::spawn(watch_leadership(myself.clone(), args.raft.clone()));
        // Workers anywhere that leave (their node died or disconnected)
        // are noticed here; their tasks run again elsewhere.
        ractor::pg::monitor(WORKERS.to_string(), myself.get_cell());
        myself.send_after(SWEEP_EVERY, || DispatchMsg::Sweep);
        Actor::spawn_linked(Some(INBOX.to_string()), Inbox, (), myself.get_cell()).await?;
        // Idle workers report to a dispatcher only when something changes
        // for them: ask them all now.
        for cell in ractor::pg::get_members(&WORKERS.to_string()) {
            let _ = ActorRef::<WorkerMsg>::from(cell).cast(WorkerMsg::Announce);
        }
        Ok(DispatchState {
            queues: DispatchQueues::new(args.include_started),
            content: args.content,
            raft: args.raft,
            shared: args.shared,
            workers: HashMap::new(),
        })
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ProcessGroupChanged(GroupChangeMessage::Leave(_, _, cells)) => {
                let gone: HashSet<String> = cells.iter().filter_map(|c| c.get_name()).collect();
                state.workers.retain(|n, _| !gone.contains(n));
                let actions = state.queues.workers_left(&gone);
                state.carry_out(&myself, actions);
            }
            SupervisionEvent::ProcessGroupChanged(GroupChangeMessage::Join(_, _, cells)) => {
                // Workers of a node that just connected: they reported
                // before this inbox could hear them.
                for cell in cells {
                    let _ = ActorRef::<WorkerMsg>::from(cell).cast(WorkerMsg::Announce);
                }
            }
            SupervisionEvent::ActorFailed(cell, e) if cell.get_name().as_deref() == Some(INBOX) => {
                return Err(format!("the dispatch inbox failed: {e}").into());
            }
            _ => {}
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let actions = match msg {
            DispatchMsg::Leadership(leader) => {
                let waiting = if leader && !state.queues.is_leader() {
                    state.waiting()
                } else {
                    Vec::new()
                };
                state.queues.leadership(leader, waiting, now_ms())
            }
            DispatchMsg::Drain => {
                state.queues.drain();
                Vec::new()
            }
            DispatchMsg::Sweep => {
                myself.send_after(SWEEP_EVERY, || DispatchMsg::Sweep);
                if state.queues.is_leader() {
                    let waiting = state.waiting();
                    state.queues.sweep(waiting, now_ms())
                } else {
                    Vec::new()
                }
            }
            DispatchMsg::Enqueue {
                task_id,
                queue,
                not_before_ms,
            } => state.queues.enqueue(task_id, queue, not_before_ms, now_ms()),
            DispatchMsg::EnqueueAhead {
                task_id,
                queue,
                handoff,
            } => state.queues.enqueue_ahead(task_id, queue, handoff),
            DispatchMsg::WorkerReady(r) => {
                let worker = match state.workers.get(&r.name) {
                    Some(w) => Some(w.clone()),
                    None => r.queues.first().and_then(|q| worker_named(&r.name, q)),
                };
                let local = worker.map(|w| {
                    let local = w.get_id().is_local();
                    state.workers.insert(r.name.clone(), w);
                    local
                });
                state.queues.worker_ready(r, local)
            }
            DispatchMsg::Cancel { task_id } => state.queues.cancel(&task_id),
        };
        state.carry_out(&myself, actions);
        Ok(())
    }
}

/// The node's dispatcher, if it is running.
pub fn dispatcher() -> Option<ActorRef<DispatchMsg>> {
    ractor::registry::where_is(DISPATCHER).map(ActorRef::from)
}
