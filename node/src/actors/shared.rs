//! State a node's actors share with each other and with the rest of the
//! node: cheap-to-clone handles created once by the node and passed in, so
//! two nodes in one process (tests) never share them and nothing lives in a
//! process global.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tokio::sync::watch;

/// Cancel switches of the tasks this node's workers are running, by task
/// id: a revocation is applied on every node, and the node running the task
/// flips its switch, which kills the runner.
#[derive(Clone, Default)]
pub struct CancelSwitches(Arc<Mutex<HashMap<String, watch::Sender<bool>>>>);

impl CancelSwitches {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<bool>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a running task; the receiver turns true when it is cancelled.
    pub fn register(&self, task_id: &str) -> watch::Receiver<bool> {
        let (switch, cancelled) = watch::channel(false);
        self.lock().insert(task_id.to_string(), switch);
        cancelled
    }

    /// The attempt ended, however it ended.
    pub fn unregister(&self, task_id: &str) {
        self.lock().remove(task_id);
    }

    /// Stops `task_id` if one of this node's workers runs it.
    pub fn cancel(&self, task_id: &str) {
        if let Some(switch) = self.lock().get(task_id) {
            let _ = switch.send(true);
        }
    }

    /// Tasks this node's workers are running right now.
    pub fn running(&self) -> usize {
        self.lock().len()
    }
}

/// Set when the node drains (SIGTERM): its workers take no more tasks.
#[derive(Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Queues that some worker of the cluster serves, as this node's dispatcher
/// last saw them: the dispatcher writes, status answers read (a ready step
/// on another queue shows `waiting_for`) without a round trip to the actor.
#[derive(Clone, Default)]
pub struct ServedQueues(Arc<RwLock<BTreeSet<String>>>);

impl ServedQueues {
    pub fn set(&self, queues: BTreeSet<String>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = queues;
    }

    pub fn contains(&self, queue: &str) -> bool {
        self.0.read().unwrap_or_else(|p| p.into_inner()).contains(queue)
    }

    pub fn get(&self) -> BTreeSet<String> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// How many of this node's worker actors are running: the supervisor counts
/// them up when it starts one and down when one stops; `GET /ready` reads it.
#[derive(Clone, Default)]
pub struct WorkersUp(Arc<AtomicUsize>);

impl WorkersUp {
    pub fn started(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    pub fn stopped(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Everything above, as the node hands it to its actors.
#[derive(Clone, Default)]
pub struct NodeShared {
    pub switches: CancelSwitches,
    pub draining: Draining,
    pub served: ServedQueues,
    pub workers_up: WorkersUp,
    /// What the workers observe for `GET /metrics`, and the tracer.
    pub telemetry: super::telemetry::Telemetry,
}
