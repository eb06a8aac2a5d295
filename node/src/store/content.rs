//! The replicated content and the pure function that applies a command to it.
//! Everything the API reads comes from here; nothing here does IO. Applying
//! may produce [`Effect`]s — tasks that became ready or must stop — which the
//! state machine hands to the node's dispatcher after the entry is applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::runs::RunRecord;
use super::{Command, CommandResult};
use crate::engine::run::RunEvent;
use crate::model::application::Application;
use crate::model::configuration::Configuration;
use crate::model::node::NodeInfo;
use crate::model::step::StepRecord;
use crate::model::task::StepTask;
use crate::model::user::User;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterIdentity {
    pub cluster_id: String,
    pub cluster_key: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub value: Vec<u8>,
    pub expires_at_ms: Option<u64>,
}

impl CacheEntry {
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|t| t > now_ms)
    }
}

/// Work for the node that applying an entry created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The task can run on `queue` (not before `not_before_ms`, if set).
    Ready {
        task_id: String,
        queue: String,
        not_before_ms: Option<u64>,
    },
    /// The task must not run (any more): drop it from its queue, kill it if it runs.
    Cancel { task_id: String },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub cluster: Option<ClusterIdentity>,
    pub users: BTreeMap<String, User>,
    pub steps: BTreeMap<String, StepRecord>,
    pub applications: BTreeMap<String, Application>,
    /// Secrets sealed.
    pub configurations: BTreeMap<String, Configuration>,
    pub tasks: BTreeMap<String, StepTask>,
    pub runs: BTreeMap<String, RunRecord>,
    pub cache: BTreeMap<String, CacheEntry>,
    /// Each node's registration, by node id.
    pub nodes: BTreeMap<u64, NodeInfo>,
    /// Effects of the entries applied since the last drain (not replicated).
    #[serde(skip)]
    pub effects: Vec<Effect>,
}

pub(super) fn task_result(changed: bool, reason: Option<String>) -> CommandResult {
    CommandResult::Task { changed, reason }
}

pub(super) fn ignored(reason: String) -> CommandResult {
    task_result(false, Some(reason))
}

impl Content {
    /// The ids of the tasks a command concerns, for change notifications.
    fn tasks_of(&self, cmd: &Command) -> Vec<String> {
        match cmd {
            Command::CreateTask(spec) => vec![spec.id.clone()],
            Command::Task { id, .. } => match self.tasks.get(id).and_then(|t| t.spec.run.as_ref()) {
                // Watchers of a run follow the run's id; siblings that were
                // skipped or queued change with it.
                Some((run_id, _)) => vec![id.clone(), run_id.clone()],
                None => vec![id.clone()],
            },
            Command::CreateRun(spec) => {
                let mut ids = vec![spec.id.clone()];
                ids.extend(self.run_task_ids(&spec.id));
                ids
            }
            Command::RevokeRun { id, .. } => self.run_task_ids(id),
            _ => Vec::new(),
        }
    }

    fn run_task_ids(&self, run_id: &str) -> Vec<String> {
        let mut ids = vec![run_id.to_string()];
        if let Some(r) = self.runs.get(run_id) {
            ids.extend(r.task_ids.iter().cloned());
        }
        ids
    }

    /// Applies `cmd` and adds the ids of the tasks and runs it changes to
    /// `changed` (each command of a batch is looked at just before it is
    /// applied, so it sees what the commands before it did).
    pub fn apply_noting(&mut self, cmd: Command, changed: &mut Vec<String>) -> CommandResult {
        if let Command::Batch(cmds) = cmd {
            return CommandResult::Batch(cmds.into_iter().map(|c| self.apply_noting(c, changed)).collect());
        }
        changed.extend(self.tasks_of(&cmd));
        self.apply(cmd)
    }

    pub fn apply(&mut self, cmd: Command) -> CommandResult {
        fn put<K: Ord, V>(map: &mut BTreeMap<K, V>, k: K, v: V) -> CommandResult {
            CommandResult::Stored {
                replaced: map.insert(k, v).is_some(),
            }
        }
        fn delete<V>(map: &mut BTreeMap<String, V>, k: &str) -> CommandResult {
            CommandResult::Deleted {
                existed: map.remove(k).is_some(),
            }
        }
        match cmd {
            Command::Bootstrap {
                cluster_id,
                cluster_key,
                admin,
            } => {
                if self.cluster.is_some() {
                    return CommandResult::Bootstrapped { already: true };
                }
                self.cluster = Some(ClusterIdentity {
                    cluster_id,
                    cluster_key,
                });
                self.users.insert(admin.name.clone(), admin);
                CommandResult::Bootstrapped { already: false }
            }
            batch @ Command::Batch(_) => self.apply_noting(batch, &mut Vec::new()),
            Command::RegisterNode(info) => put(&mut self.nodes, info.id, info),
            Command::PutStep(step) => put(&mut self.steps, step.name.clone(), step),
            Command::DeleteStep { name } => delete(&mut self.steps, &name),
            Command::PutApplication(app) => put(&mut self.applications, app.name.clone(), app),
            Command::DeleteApplication { name } => delete(&mut self.applications, &name),
            Command::PutConfiguration(cfg) => put(&mut self.configurations, cfg.name.clone(), cfg),
            Command::DeleteConfiguration { name } => delete(&mut self.configurations, &name),
            Command::CreateTask(spec) => {
                let id = spec.id.clone();
                if self.tasks.contains_key(&id) {
                    return ignored(format!("task {id} already exists"));
                }
                let queue = spec.queue.clone();
                let mut task = StepTask::new(spec);
                task.ready = true;
                self.tasks.insert(id.clone(), task);
                self.effects.push(Effect::Ready {
                    task_id: id,
                    queue,
                    not_before_ms: None,
                });
                task_result(true, None)
            }
            Command::Task { id, event } => self.apply_task_event(&id, event),
            Command::CreateRun(spec) => self.create_run(spec),
            Command::RevokeRun { id, at_ms } => {
                let Some(record) = self.runs.get_mut(&id) else {
                    return ignored(format!("no run {id}"));
                };
                let actions = record.run.apply(RunEvent::Revoked);
                if actions.is_empty() {
                    return ignored(format!("run {id} is already {}", record.run.state.as_str()));
                }
                self.carry_out(&id, actions, at_ms);
                task_result(true, None)
            }
            Command::Purge { before_ms } => {
                let old_runs: Vec<String> = self
                    .runs
                    .iter()
                    .filter(|(_, r)| r.end_ms.is_some_and(|e| e < before_ms))
                    .map(|(id, _)| id.clone())
                    .collect();
                for id in &old_runs {
                    if let Some(r) = self.runs.remove(id) {
                        for t in r.task_ids {
                            self.tasks.remove(&t);
                        }
                    }
                }
                let before = self.tasks.len();
                self.tasks
                    .retain(|_, t| t.spec.run.is_some() || t.end_ms.is_none_or(|e| e >= before_ms));
                self.cache.retain(|_, e| e.is_live(before_ms));
                CommandResult::Deleted {
                    existed: !old_runs.is_empty() || before != self.tasks.len(),
                }
            }
            Command::CacheSet {
                key,
                value,
                expires_at_ms,
            } => put(&mut self.cache, key, CacheEntry { value, expires_at_ms }),
            Command::CacheDelete { key } => delete(&mut self.cache, &key),
        }
    }
}
