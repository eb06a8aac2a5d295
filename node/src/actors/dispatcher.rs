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

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::watch;

use super::worker::WorkerMsg;
use crate::model::task::TaskState;

pub const DISPATCHER: &str = "dispatcher";

/// A task to queue: (id, queue, not before this wall-clock time in ms).
pub type Waiting = (String, String, Option<u64>);

/// The saved data of an upstream step whose outcome is queued in the log
/// but not applied yet, handed to a step started ahead of that apply.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub from_task: String,
    pub pickle: Option<Vec<u8>>,
}

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
    /// A worker is idle and serves `queues`.
    WorkerReady {
        worker: ActorRef<WorkerMsg>,
        name: String,
        queues: Vec<String>,
    },
    /// Take the task out of its queue, or kill it if it runs.
    Cancel { task_id: String },
    /// This node became (true) or stopped being (false) the Raft leader.
    Leadership(bool),
    /// The node is stopping: hand out no more tasks; answers how many still
    /// run here.
    Drain(ractor::RpcReplyPort<usize>),
}

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
    running: HashMap<String, (String, watch::Sender<bool>)>,
    /// queue -> workers known to serve it (idle or busy)
    subscribed: HashMap<String, Vec<String>>,
}

impl DispatchState {
    fn new(content: crate::store::ContentHandle, include_started: bool) -> DispatchState {
        DispatchState {
            content,
            leader: false,
            draining: false,
            include_started,
            pending: HashMap::new(),
            known: HashSet::new(),
            ahead: HashSet::new(),
            handoffs: HashMap::new(),
            idle: Vec::new(),
            running: HashMap::new(),
            subscribed: HashMap::new(),
        }
    }

    fn dispatch(&mut self) {
        if self.draining {
            return;
        }
        let mut i = 0;
        while i < self.idle.len() {
            let next = self.idle[i]
                .queues
                .iter()
                .find_map(|q| self.pending.get_mut(q).and_then(VecDeque::pop_front));
            match next {
                Some(task_id) => {
                    let w = self.idle.swap_remove(i);
                    let (tx, rx) = watch::channel(false);
                    let handoff = self.handoffs.remove(&task_id);
                    if w.worker
                        .cast(WorkerMsg::Run {
                            task_id: task_id.clone(),
                            cancel: rx,
                            handoff,
                        })
                        .is_ok()
                    {
                        self.known.remove(&task_id);
                        self.running.insert(task_id, (w.name, tx));
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
        tokio::spawn(watch_leadership(myself, args.raft));
        Ok(DispatchState::new(args.content, args.include_started))
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
            }
            DispatchMsg::Leadership(_) => {}
            DispatchMsg::Drain(reply) => {
                state.draining = true;
                let _ = reply.send(state.running.len());
            }
            DispatchMsg::Enqueue { .. } | DispatchMsg::EnqueueAhead { .. } if !state.leader => {
                // The leader's dispatcher runs it.
            }
            DispatchMsg::Enqueue {
                task_id,
                queue,
                not_before_ms,
            } => {
                let wait_ms = not_before_ms.map_or(0, |t| t.saturating_sub(crate::raft::now_ms()));
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
            DispatchMsg::WorkerReady { worker, name, queues } => {
                state.running.retain(|_, (w, _)| *w != name);
                for q in &queues {
                    let subs = state.subscribed.entry(q.clone()).or_default();
                    if !subs.contains(&name) {
                        subs.push(name.clone());
                        SERVED
                            .write()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(q.clone());
                    }
                }
                state.idle.retain(|w| w.name != name);
                state.idle.push(IdleWorker { worker, name, queues });
            }
            DispatchMsg::Cancel { task_id } => {
                for q in state.pending.values_mut() {
                    q.retain(|t| *t != task_id);
                }
                state.known.remove(&task_id);
                state.handoffs.remove(&task_id);
                if let Some((_, switch)) = state.running.remove(&task_id) {
                    let _ = switch.send(true);
                }
            }
        }
        state.dispatch();
        Ok(())
    }
}

/// Queues that some worker of this node serves, as the dispatcher last saw
/// them (kept outside the actor so status answers need no round trip).
static SERVED: std::sync::RwLock<BTreeSet<String>> = std::sync::RwLock::new(BTreeSet::new());

pub fn served_queues() -> BTreeSet<String> {
    SERVED.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// The node's dispatcher, if it is running.
pub fn dispatcher() -> Option<ActorRef<DispatchMsg>> {
    ractor::registry::where_is(DISPATCHER).map(ActorRef::from)
}
