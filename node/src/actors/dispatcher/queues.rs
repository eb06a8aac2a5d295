//! The dispatcher's decisions, sans-IO: named queues of ready tasks, the
//! idle workers serving them, what runs where. Each input (a task is ready,
//! a worker is idle, a worker left, leadership changed, …) changes the state
//! and answers [`Action`]s the actor carries out (send a task to a worker,
//! arm a timer, look a task up again, stop a local task). Nothing here sends
//! a message, reads a clock or the replicated state: time and the waiting
//! tasks come in with the inputs, which is what the unit tests drive.
//!
//! Rules:
//! - Only the leader hands out tasks; a dispatcher that stops leading
//!   forgets its queues and what it handed out; one that starts leading
//!   queues every waiting task of the replicated state (STARTED ones too,
//!   except at the first fill after a restart of the dispatcher alone,
//!   whose local workers still run them).
//! - A task is queued once however often it is announced (the replayed log
//!   and the start-up scan both announce it).
//! - This node's idle workers are served before other nodes' (their
//!   outcomes need no forwarding, and what follows can start ahead of the
//!   apply); a worker takes the oldest task of the first of its queues that
//!   has one.
//! - A task started ahead of the apply that makes it ready is not queued
//!   again by that apply's announcement.
//! - A task waiting in the replicated state that nobody queued or ran for
//!   two sweeps in a row is queued again (its lease ran out).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use crate::actors::messages::{Handoff, Readiness};
use crate::store::queries::WaitingTask;

/// What the actor must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send the task to the worker; if the worker is gone, report
    /// [`DispatchQueues::assign_failed`].
    Assign {
        worker: String,
        task_id: String,
        queue: String,
        handoff: Option<Handoff>,
    },
    /// Enqueue the task again at this wall-clock time.
    EnqueueLater {
        task_id: String,
        queue: String,
        at_ms: u64,
    },
    /// Enqueue the task again if it still waits in the replicated state.
    Requeue { task_id: String },
    /// Stop the task if a worker of this node runs it.
    CancelLocal { task_id: String },
    /// The queues some worker serves changed.
    Served(BTreeSet<String>),
}

struct IdleWorker {
    name: String,
    queues: Vec<String>,
    /// On this node.
    local: bool,
}

#[derive(Default)]
pub struct DispatchQueues {
    leader: bool,
    draining: bool,
    /// Whether the next fill from the replicated state takes STARTED tasks.
    include_started: bool,
    pending: HashMap<String, VecDeque<String>>,
    /// Every task pending or delayed here: a task announced twice is queued once.
    known: HashSet<String>,
    /// Tasks started ahead of the apply that makes them ready.
    ahead: HashSet<String>,
    handoffs: HashMap<String, Handoff>,
    idle: Vec<IdleWorker>,
    /// task id -> name of the worker running it (as handed out here)
    running: HashMap<String, String>,
    /// Waiting tasks nobody held at the last sweep.
    suspects: HashSet<String>,
    /// queue -> workers known to serve it (idle or busy)
    subscribed: BTreeMap<String, Vec<String>>,
    /// The served queues last announced with [`Action::Served`].
    served: BTreeSet<String>,
}

impl DispatchQueues {
    /// `include_started`: whether STARTED tasks run again at the first fill
    /// as leader (yes at node start: their runs were cut short).
    pub fn new(include_started: bool) -> DispatchQueues {
        DispatchQueues {
            include_started,
            ..Default::default()
        }
    }

    pub fn is_leader(&self) -> bool {
        self.leader
    }

    /// This node became (or stopped being) the leader; `waiting` is what the
    /// replicated state holds now.
    pub fn leadership(&mut self, leader: bool, waiting: Vec<WaitingTask>, now_ms: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        if leader && !self.leader {
            self.leader = true;
            let include_started = std::mem::replace(&mut self.include_started, true);
            if !waiting.is_empty() {
                tracing::info!(
                    tasks = waiting.len(),
                    "queueing the waiting tasks of the replicated state"
                );
            }
            for w in waiting {
                if (include_started || !w.started) && !self.running.contains_key(&w.task_id) {
                    self.enqueue_into(w.task_id, w.queue, w.not_before_ms, now_ms, &mut actions);
                }
            }
        } else if !leader && self.leader {
            self.leader = false;
            self.pending.clear();
            self.known.clear();
            self.ahead.clear();
            self.handoffs.clear();
            // Whoever leads next decides again what runs where.
            self.running.clear();
            self.suspects.clear();
        }
        self.dispatch(&mut actions);
        actions
    }

    /// A task can run on `queue` from `not_before_ms` (at once if unset).
    pub fn enqueue(
        &mut self,
        task_id: String,
        queue: String,
        not_before_ms: Option<u64>,
        now_ms: u64,
    ) -> Vec<Action> {
        let mut actions = Vec::new();
        self.enqueue_into(task_id, queue, not_before_ms, now_ms, &mut actions);
        self.dispatch(&mut actions);
        actions
    }

    fn enqueue_into(
        &mut self,
        task_id: String,
        queue: String,
        not_before_ms: Option<u64>,
        now_ms: u64,
        actions: &mut Vec<Action>,
    ) {
        if !self.leader {
            return; // the leader's dispatcher runs it
        }
        match not_before_ms {
            Some(at_ms) if at_ms > now_ms => actions.push(Action::EnqueueLater {
                task_id,
                queue,
                at_ms,
            }),
            _ if self.ahead.remove(&task_id) => {} // started ahead of this apply
            _ => {
                if !self.running.contains_key(&task_id) && self.known.insert(task_id.clone()) {
                    self.pending.entry(queue).or_default().push_back(task_id);
                }
            }
        }
    }

    /// A task that becomes ready when an outcome already queued in the log
    /// is applied: it starts now, with that outcome's data.
    pub fn enqueue_ahead(&mut self, task_id: String, queue: String, handoff: Handoff) -> Vec<Action> {
        let mut actions = Vec::new();
        if self.leader && !self.running.contains_key(&task_id) && self.known.insert(task_id.clone()) {
            self.ahead.insert(task_id.clone());
            self.handoffs.insert(task_id.clone(), handoff);
            self.pending.entry(queue).or_default().push_back(task_id);
        }
        self.dispatch(&mut actions);
        actions
    }

    /// A worker reported; `local`: whether it runs on this node, None if the
    /// actor could not find it (it reported, then left).
    pub fn worker_ready(&mut self, r: Readiness, local: Option<bool>) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(task_id) = r.finished {
            if self.running.get(&task_id) == Some(&r.name) {
                self.running.remove(&task_id);
            }
        }
        if let Some(task_id) = r.refused {
            if self.running.remove(&task_id).is_some() {
                actions.push(Action::Requeue { task_id });
            }
        }
        if r.draining {
            self.idle.retain(|w| w.name != r.name);
        } else if let Some(local) = local {
            for q in &r.queues {
                let subs = self.subscribed.entry(q.clone()).or_default();
                if !subs.contains(&r.name) {
                    subs.push(r.name.clone());
                }
            }
            self.publish_served(&mut actions);
            self.idle.retain(|w| w.name != r.name);
            self.idle.push(IdleWorker {
                name: r.name,
                queues: r.queues,
                local,
            });
        }
        self.dispatch(&mut actions);
        actions
    }

    /// Workers left the cluster (their node died or disconnected): what they
    /// ran runs again.
    pub fn workers_left(&mut self, gone: &HashSet<String>) -> Vec<Action> {
        let mut actions = Vec::new();
        self.idle.retain(|w| !gone.contains(&w.name));
        for subs in self.subscribed.values_mut() {
            subs.retain(|n| !gone.contains(n));
        }
        self.subscribed.retain(|_, subs| !subs.is_empty());
        self.publish_served(&mut actions);
        let orphaned: Vec<String> = self
            .running
            .iter()
            .filter(|(_, w)| gone.contains(*w))
            .map(|(t, _)| t.clone())
            .collect();
        for task_id in orphaned {
            self.running.remove(&task_id);
            if self.leader {
                tracing::warn!(task = %task_id, "the worker running this task is gone; it runs again");
                actions.push(Action::Requeue { task_id });
            }
        }
        self.dispatch(&mut actions);
        actions
    }

    /// The task must not run (any more).
    pub fn cancel(&mut self, task_id: &str) -> Vec<Action> {
        let mut actions = Vec::new();
        for q in self.pending.values_mut() {
            q.retain(|t| t != task_id);
        }
        self.known.remove(task_id);
        self.handoffs.remove(task_id);
        self.running.remove(task_id);
        // Every node applies the revocation; the one running the task stops it.
        actions.push(Action::CancelLocal {
            task_id: task_id.to_string(),
        });
        self.dispatch(&mut actions);
        actions
    }

    /// The node is stopping: hand out no more tasks.
    pub fn drain(&mut self) {
        self.draining = true;
    }

    /// The periodic look for waiting tasks nobody holds; `waiting` is what
    /// the replicated state holds now.
    pub fn sweep(&mut self, waiting: Vec<WaitingTask>, now_ms: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        if !self.leader || self.draining {
            return actions;
        }
        let unclaimed: HashMap<String, String> = waiting
            .into_iter()
            .filter(|w| {
                w.not_before_ms.is_none_or(|t| t <= now_ms)
                    && !self.known.contains(&w.task_id)
                    && !self.running.contains_key(&w.task_id)
                    && !self.ahead.contains(&w.task_id)
            })
            .map(|w| (w.task_id, w.queue))
            .collect();
        let mut lapsed: Vec<(&String, &String)> = unclaimed
            .iter()
            .filter(|(id, _)| self.suspects.contains(*id))
            .collect();
        lapsed.sort();
        let lapsed: Vec<(String, String)> = lapsed.into_iter().map(|(t, q)| (t.clone(), q.clone())).collect();
        for (task_id, queue) in lapsed {
            tracing::warn!(task = %task_id, "a waiting task was held by nobody for a whole sweep; it runs again");
            self.enqueue_into(task_id, queue, None, now_ms, &mut actions);
        }
        self.suspects = unclaimed.into_keys().collect();
        self.dispatch(&mut actions);
        actions
    }

    /// Sending an assigned task failed: the worker is gone. The task goes
    /// back to the front of its queue.
    pub fn assign_failed(&mut self, task_id: String, queue: String) -> Vec<Action> {
        let mut actions = Vec::new();
        tracing::warn!(task = %task_id, "the worker vanished; the task is queued again");
        self.running.remove(&task_id);
        if self.leader && self.known.insert(task_id.clone()) {
            self.pending.entry(queue).or_default().push_front(task_id);
        }
        self.dispatch(&mut actions);
        actions
    }

    fn publish_served(&mut self, actions: &mut Vec<Action>) {
        let served: BTreeSet<String> = self.subscribed.keys().cloned().collect();
        if served != self.served {
            self.served = served.clone();
            actions.push(Action::Served(served));
        }
    }

    fn dispatch(&mut self, actions: &mut Vec<Action>) {
        if self.draining {
            return;
        }
        self.dispatch_to(true, actions);
        self.dispatch_to(false, actions);
    }

    fn dispatch_to(&mut self, local_only: bool, actions: &mut Vec<Action>) {
        let mut i = 0;
        while i < self.idle.len() {
            if local_only && !self.idle[i].local {
                i += 1;
                continue;
            }
            let next = self.idle[i].queues.iter().find_map(|q| {
                let task = self.pending.get_mut(q).and_then(VecDeque::pop_front)?;
                Some((task, q.clone()))
            });
            let Some((task_id, queue)) = next else {
                i += 1;
                continue;
            };
            let w = self.idle.swap_remove(i);
            self.known.remove(&task_id);
            self.running.insert(task_id.clone(), w.name.clone());
            actions.push(Action::Assign {
                worker: w.name,
                handoff: self.handoffs.remove(&task_id),
                task_id,
                queue,
            });
        }
    }
}

#[cfg(test)]
#[path = "queues_tests.rs"]
mod tests;
