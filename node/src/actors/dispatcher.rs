//! The dispatcher: the node's named queues of ready step tasks and the idle
//! workers subscribed to them. It hands the oldest ready task of a queue to
//! an idle worker serving that queue, and can cancel a running task (the
//! worker's runner is killed through the task's cancel switch).
//!
//! The queues live in memory; the tasks themselves are in the replicated
//! state, so a restarted dispatcher is refilled from there.
//!
//! Only the Raft leader's dispatcher hands out tasks: every member applies
//! the same entries and sees the same ready tasks, and one of them must
//! decide. A dispatcher that becomes leader fills its queues from the
//! replicated state (tasks another node was running are run again: steps
//! are at-least-once, and attempt numbers fence late outcomes); one that
//! loses leadership empties them.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use ractor::pg::GroupChangeMessage;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::inbox::Inbox;

use super::worker::{Readiness, RunOrder, WorkerMsg, WORKERS};
use crate::model::task::TaskState;

pub const DISPATCHER: &str = "dispatcher";

/// A task to queue: (id, queue, not before this wall-clock time in ms).
pub type Waiting = (String, String, Option<u64>);

/// The saved data of an upstream step whose outcome is queued in the log
/// but not applied yet, handed to a step started ahead of that apply.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Handoff {
    pub from_task: String,
    pub pickle: Option<Vec<u8>>,
}

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
    pub raft: crate::raft::Raft,
    pub content: crate::store::ContentHandle,
    /// Whether STARTED tasks are run again when this dispatcher starts as
    /// leader: yes at node start (their runs were cut short), no after a
    /// restart of the dispatcher alone (local workers still run them).
    pub include_started: bool,
}

struct IdleWorker {
    worker: ActorRef<WorkerMsg>,
    name: String,
    queues: Vec<String>,
}

pub struct DispatchState {
    content: crate::store::ContentHandle,
    raft: crate::raft::Raft,
    leader: bool,
    draining: bool,
    /// Whether the next fill from the replicated state takes STARTED tasks.
    include_started: bool,
    pending: HashMap<String, VecDeque<String>>,
    /// Every task id pending, delayed or running here: a task announced twice
    /// (say, by the replayed log and by the start-up scan) is queued once.
    known: HashSet<String>,
    /// Tasks started ahead of the apply that makes them ready, with the data
    /// they need; their Ready effect is ignored once.
    ahead: HashSet<String>,
    handoffs: HashMap<String, Handoff>,
    idle: Vec<IdleWorker>,
    /// task id -> (worker name, cancel switch)
    /// task id -> name of the worker running it (as handed out here)
    running: HashMap<String, String>,
    /// Workers seen, by name (local or remote references).
    workers: HashMap<String, ActorRef<WorkerMsg>>,
    /// Waiting tasks nobody held at the last sweep.
    suspects: HashSet<String>,
    /// queue -> workers known to serve it (idle or busy)
    subscribed: HashMap<String, Vec<String>>,
}

impl DispatchState {
    fn new(args: DispatcherArgs) -> DispatchState {
        let DispatcherArgs {
            raft,
            content,
            include_started,
        } = args;
        DispatchState {
            content,
            raft,
            leader: false,
            draining: false,
            include_started,
            pending: HashMap::new(),
            known: HashSet::new(),
            ahead: HashSet::new(),
            handoffs: HashMap::new(),
            idle: Vec::new(),
            running: HashMap::new(),
            workers: HashMap::new(),
            suspects: HashSet::new(),
            subscribed: HashMap::new(),
        }
    }

    fn dispatch(&mut self) {
        if self.draining {
            return;
        }
        // This node's workers first: their outcomes need no forwarding and
        // the steps after them can start ahead of the apply. Other nodes'
        // workers take what is left.
        self.dispatch_to(true);
        self.dispatch_to(false);
    }

    fn dispatch_to(&mut self, local_only: bool) {
        let mut i = 0;
        while i < self.idle.len() {
            if local_only && !self.idle[i].worker.get_id().is_local() {
                i += 1;
                continue;
            }
            let next = self.idle[i]
                .queues
                .iter()
                .find_map(|q| self.pending.get_mut(q).and_then(VecDeque::pop_front));
            match next {
                Some(task_id) => {
                    let w = self.idle.swap_remove(i);
                    let order = RunOrder {
                        task_id: task_id.clone(),
                        handoff: self.handoffs.remove(&task_id),
                        applied_index: self.raft.applied_index(),
                    };
                    if w.worker.cast(WorkerMsg::Run(order.encode())).is_ok() {
                        self.known.remove(&task_id);
                        self.running.insert(task_id, w.name);
                    } else {
                        // The worker is gone; the task goes back to the front.
                        self.known.insert(task_id.clone());
                        tracing::warn!(worker = %w.name, "worker vanished; task re-queued");
                        self.pending
                            .entry(w.queues[0].clone())
                            .or_default()
                            .push_front(task_id);
                    }
                }
                None => i += 1,
            }
        }
    }
}

pub struct Dispatcher;

impl Dispatcher {
    /// Queues a task again if it still waits in the replicated state.
    fn requeue(myself: &ActorRef<DispatchMsg>, state: &DispatchState, task_id: String) {
        let queue = state
            .content
            .read()
            .content
            .tasks
            .get(&task_id)
            .filter(|t| !t.state.is_terminal())
            .map(|t| t.spec.queue.clone());
        if let Some(queue) = queue {
            let _ = myself.cast(DispatchMsg::Enqueue {
                task_id,
                queue,
                not_before_ms: None,
            });
        }
    }

    fn sweep(myself: &ActorRef<DispatchMsg>, state: &mut DispatchState) {
        let now = crate::util::now_ms();
        let unclaimed: HashSet<String> = waiting_tasks(&state.content, true)
            .into_iter()
            .filter(|(id, _, at)| {
                at.is_none_or(|t| t <= now)
                    && !state.known.contains(id)
                    && !state.running.contains_key(id)
                    && !state.ahead.contains(id)
            })
            .map(|(id, _, _)| id)
            .collect();
        for task_id in unclaimed.intersection(&state.suspects) {
            tracing::warn!(task = %task_id, "a waiting task was held by nobody for a whole sweep; it runs again");
            Self::requeue(myself, state, task_id.clone());
        }
        state.suspects = unclaimed;
    }

    /// Queues every task waiting in the replicated state (as leader).
    fn fill(myself: &ActorRef<DispatchMsg>, state: &mut DispatchState) {
        let waiting = waiting_tasks(&state.content, state.include_started);
        // Later fills follow a change of leader: whatever was running
        // elsewhere must run again.
        state.include_started = true;
        if !waiting.is_empty() {
            tracing::info!(
                tasks = waiting.len(),
                "queueing the waiting tasks of the replicated state"
            );
        }
        for (task_id, queue, not_before_ms) in waiting {
            if !state.running.contains_key(&task_id) {
                let _ = myself.cast(DispatchMsg::Enqueue {
                    task_id,
                    queue,
                    not_before_ms,
                });
            }
        }
    }
}

/// Tasks waiting in the replicated state, oldest first.
fn waiting_tasks(content: &crate::store::ContentHandle, include_started: bool) -> Vec<Waiting> {
    let sm = content.read();
    let mut tasks: Vec<_> = sm
        .content
        .tasks
        .values()
        .filter(|t| match t.state {
            TaskState::Pending => t.ready,
            TaskState::Retry => true,
            TaskState::Started => include_started,
            _ => false,
        })
        .map(|t| {
            (
                t.spec.created_ms,
                t.spec.id.clone(),
                t.spec.queue.clone(),
                t.retry_at_ms,
            )
        })
        .collect();
    tasks.sort();
    tasks.into_iter().map(|(_, id, q, at)| (id, q, at)).collect()
}

/// Tells the dispatcher whenever this node's leadership changes, until the
/// dispatcher is gone.
async fn watch_leadership(myself: ActorRef<DispatchMsg>, raft: crate::raft::Raft) {
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
        Ok(DispatchState::new(args))
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
                state.idle.retain(|w| !gone.contains(&w.name));
                for subs in state.subscribed.values_mut() {
                    subs.retain(|n| !gone.contains(n));
                }
                state.subscribed.retain(|_, subs| !subs.is_empty());
                publish_served(state);
                let orphaned: Vec<String> = state
                    .running
                    .iter()
                    .filter(|(_, w)| gone.contains(*w))
                    .map(|(t, _)| t.clone())
                    .collect();
                for task_id in orphaned {
                    state.running.remove(&task_id);
                    if state.leader {
                        tracing::warn!(task = %task_id, "the worker running this task is gone; it runs again");
                        Self::requeue(&myself, state, task_id);
                    }
                }
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
        match msg {
            DispatchMsg::Leadership(true) if !state.leader => {
                state.leader = true;
                Self::fill(&myself, state);
            }
            DispatchMsg::Leadership(false) if state.leader => {
                state.leader = false;
                state.pending.clear();
                state.known.clear();
                state.ahead.clear();
                state.handoffs.clear();
                // Whoever leads next decides again what runs where.
                state.running.clear();
                state.suspects.clear();
            }
            DispatchMsg::Leadership(_) => {}
            DispatchMsg::Drain => state.draining = true,
            DispatchMsg::Sweep => {
                myself.send_after(SWEEP_EVERY, || DispatchMsg::Sweep);
                if state.leader && !state.draining {
                    Self::sweep(&myself, state);
                }
            }
            DispatchMsg::Enqueue { .. } | DispatchMsg::EnqueueAhead { .. } if !state.leader => {
                // The leader's dispatcher runs it.
            }
            DispatchMsg::Enqueue {
                task_id,
                queue,
                not_before_ms,
            } => {
                let wait_ms = not_before_ms.map_or(0, |t| t.saturating_sub(crate::util::now_ms()));
                if wait_ms > 0 {
                    myself.send_after(Duration::from_millis(wait_ms), move || DispatchMsg::Enqueue {
                        task_id,
                        queue,
                        not_before_ms: None,
                    });
                } else if state.ahead.remove(&task_id) {
                    // Already started ahead of this apply.
                } else if !state.running.contains_key(&task_id) && state.known.insert(task_id.clone()) {
                    state.pending.entry(queue).or_default().push_back(task_id);
                }
            }
            DispatchMsg::EnqueueAhead {
                task_id,
                queue,
                handoff,
            } => {
                if !state.running.contains_key(&task_id) && state.known.insert(task_id.clone()) {
                    state.ahead.insert(task_id.clone());
                    state.handoffs.insert(task_id.clone(), handoff);
                    state.pending.entry(queue).or_default().push_back(task_id);
                }
            }
            DispatchMsg::WorkerReady(Readiness {
                name,
                queues,
                finished,
                refused,
                draining,
            }) => {
                if let Some(task_id) = finished {
                    if state.running.get(&task_id) == Some(&name) {
                        state.running.remove(&task_id);
                    }
                }
                if let Some(task_id) = refused {
                    if state.running.remove(&task_id).is_some() {
                        Self::requeue(&myself, state, task_id);
                    }
                }
                if draining {
                    state.idle.retain(|w| w.name != name);
                    state.dispatch();
                    return Ok(());
                }
                let worker = match state.workers.get(&name) {
                    Some(w) => w.clone(),
                    None => match queues.first().and_then(|q| worker_named(&name, q)) {
                        Some(w) => {
                            state.workers.insert(name.clone(), w.clone());
                            w
                        }
                        // Reported, then left before the report arrived.
                        None => return Ok(()),
                    },
                };
                for q in &queues {
                    let subs = state.subscribed.entry(q.clone()).or_default();
                    if !subs.contains(&name) {
                        subs.push(name.clone());
                    }
                }
                publish_served(state);
                state.idle.retain(|w| w.name != name);
                state.idle.push(IdleWorker { worker, name, queues });
            }
            DispatchMsg::Cancel { task_id } => {
                for q in state.pending.values_mut() {
                    q.retain(|t| *t != task_id);
                }
                state.known.remove(&task_id);
                state.handoffs.remove(&task_id);
                state.running.remove(&task_id);
                // Every node applies the revocation; the one running the
                // task stops it.
                super::worker::cancel_local(&task_id);
            }
        }
        state.dispatch();
        Ok(())
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

fn publish_served(state: &DispatchState) {
    let served: BTreeSet<String> = state.subscribed.keys().cloned().collect();
    *SERVED.write().unwrap_or_else(|p| p.into_inner()) = served;
}

/// Queues that some worker of the cluster serves, as this node's
/// dispatcher last saw them (kept outside the actor so status answers need
/// no round trip).
static SERVED: std::sync::RwLock<BTreeSet<String>> = std::sync::RwLock::new(BTreeSet::new());

pub fn served_queues() -> BTreeSet<String> {
    SERVED.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The node's dispatcher, if it is running.
pub fn dispatcher() -> Option<ActorRef<DispatchMsg>> {
    ractor::registry::where_is(DISPATCHER).map(ActorRef::from)
}
