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
use crate::model::task::{LogLine, StepTask};
use crate::model::user::User;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterIdentity {
    pub cluster_id: String,
    /// The cluster key sealed under the nodes' key-encryption key
    /// (`crypto::KeyRing`); never the key itself.
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

/// A document of the content, named for the store (`store::disk`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocKey {
    Cluster,
    User(String),
    Step(String),
    Application(String),
    Configuration(String),
    Node(u64),
    Cache(String),
    SyncPack(String),
    Schedule(String),
    ApiKey(String),
}

/// What applying an entry leaves for the disk store to write in the same
/// transaction as the entry (not replicated: every member derives it).
/// The records of changed tasks and runs are named in `Content::dirty_*`.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    /// Records `first_line..` of a task's log (one attempt's).
    Logs {
        task_id: String,
        first_line: u64,
        lines: Vec<LogLine>,
    },
    /// The data a successful attempt saved.
    Result {
        task_id: String,
        json: String,
        pickle: Option<Vec<u8>>,
    },
    /// A document changed or was deleted: the store writes what memory holds.
    Doc(DocKey),
    /// Forget finished runs and tasks that ended before `before_ms`, with
    /// their logs and results.
    Purge {
        before_ms: u64,
    },
    /// Sections for a run's report (created with the first).
    Report {
        run_id: String,
        app_name: String,
        at_ms: u64,
        sections: Vec<crate::model::report::ReportSection>,
    },
    DeleteReport {
        run_id: String,
    },
    KeepReport {
        run_id: String,
        keep: bool,
    },
    /// A chunk of a blob (a SyncPack wheel).
    Blob {
        sha256: String,
        index: u32,
        bytes: Vec<u8>,
    },
    /// Forget every chunk of a blob.
    DeleteBlob {
        sha256: String,
    },
    Audit(Vec<crate::model::audit::AuditRecord>),
    PurgeAudit {
        before_ms: u64,
    },
}

/// The replicated state that memory holds: the documents, and the runs and
/// tasks that are not finished (finished ones are in `store::disk`, once
/// the store's next commit has taken them out of memory).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub cluster: Option<ClusterIdentity>,
    pub users: BTreeMap<String, User>,
    /// API keys by id (`model::user::ApiKey`: digests, never secrets).
    pub api_keys: BTreeMap<String, crate::model::user::ApiKey>,
    pub steps: BTreeMap<String, StepRecord>,
    pub applications: BTreeMap<String, Application>,
    /// Secrets sealed.
    pub configurations: BTreeMap<String, Configuration>,
    pub tasks: BTreeMap<String, StepTask>,
    pub runs: BTreeMap<String, RunRecord>,
    pub cache: BTreeMap<String, CacheEntry>,
    /// Each node's registration, by node id.
    pub nodes: BTreeMap<u64, NodeInfo>,
    /// SyncPacks by name (wheels are blobs in the store, not here).
    pub syncpacks: BTreeMap<String, crate::model::syncpack::SyncPack>,
    /// Schedules by id.
    pub schedules: BTreeMap<String, crate::model::schedule::Schedule>,
    /// Runs and tasks finished since this node started (not replicated).
    #[serde(skip)]
    pub finished: super::queries::FinishedCounts,
    /// Effects of the entries applied since the last drain (not replicated).
    #[serde(skip)]
    pub effects: Vec<Effect>,
    /// Writes for the store since its last commit; until then readers of
    /// logs and results look here first ([`Content::pending_logs`]).
    #[serde(skip)]
    pub ops: Vec<StoreOp>,
    /// The bytes of logs and results in `ops`.
    #[serde(skip)]
    pub pending_bytes: u64,
    /// What the store is writing now, taken out of memory (finished runs
    /// and tasks, logs, results); readers look here after memory proper
    /// and before the store, until the store's commit is done.
    #[serde(skip)]
    pub committing: Option<std::sync::Arc<super::disk::Batch>>,
    /// A report or audit record changed since the last commit: the store
    /// writes it at once, as both are read from the store only.
    #[serde(skip)]
    pub reports_pending: bool,
    /// A SyncPack command was applied since the last drain.
    #[serde(skip)]
    pub packs_changed: bool,
    /// Tasks and runs changed since the last drain (ids may repeat).
    #[serde(skip)]
    pub dirty_tasks: Vec<String>,
    #[serde(skip)]
    pub dirty_runs: Vec<String>,
    /// Unfinished runs and tasks changed since the store last wrote their
    /// records (it does so at each durable commit, see `store::disk`).
    #[serde(skip)]
    pub unflushed_runs: std::collections::BTreeSet<String>,
    #[serde(skip)]
    pub unflushed_tasks: std::collections::BTreeSet<String>,
}

pub(super) fn task_result(changed: bool, reason: Option<String>) -> CommandResult {
    CommandResult::Task { changed, reason }
}

pub(crate) fn ignored(reason: String) -> CommandResult {
    task_result(false, Some(reason))
}

impl Content {
    /// The ops waiting for the store: those of the commit under way, then
    /// those applied since.
    pub(super) fn waiting_ops(&self) -> impl DoubleEndedIterator<Item = &StoreOp> {
        self.committing
            .iter()
            .flat_map(|b| b.ops.iter())
            .chain(self.ops.iter())
    }

    /// The records of a task's log that are not in the store yet, as
    /// (first line, lines) in the order they were applied.
    pub fn pending_logs<'a>(&'a self, task_id: &'a str) -> impl Iterator<Item = (u64, &'a [LogLine])> + 'a {
        self.waiting_ops().filter_map(move |op| match op {
            StoreOp::Logs {
                task_id: t,
                first_line,
                lines,
            } if t == task_id => Some((*first_line, lines.as_slice())),
            _ => None,
        })
    }

    /// What a task saved, if it is not in the store yet: its JSON rendering
    /// and its pickle.
    pub fn pending_result(&self, task_id: &str) -> Option<(&str, Option<&[u8]>)> {
        self.waiting_ops().rev().find_map(|op| match op {
            StoreOp::Result {
                task_id: t,
                json,
                pickle,
            } if t == task_id => Some((json.as_str(), pickle.as_deref())),
            _ => None,
        })
    }

    /// A task memory holds: unfinished, or finished and not in the store yet.
    pub fn any_task(&self, id: &str) -> Option<&StepTask> {
        self.tasks
            .get(id)
            .or_else(|| self.committing.as_ref()?.tasks.get(id))
    }

    /// A run memory holds: unfinished, or finished and not in the store yet.
    pub fn any_run(&self, id: &str) -> Option<&RunRecord> {
        self.runs
            .get(id)
            .or_else(|| self.committing.as_ref()?.runs.get(id))
    }

    /// Every run memory holds (see [`Content::any_run`]).
    pub fn all_runs(&self) -> impl Iterator<Item = &RunRecord> {
        self.runs
            .values()
            .chain(self.committing.iter().flat_map(|b| b.runs.values()))
    }

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
                // The parent lists its children.
                ids.extend(spec.parent.as_ref().map(|p| p.run_id.clone()));
                ids
            }
            Command::RevokeRun { id, .. } => self
                .revocation_of(id)
                .iter()
                .flat_map(|run| self.run_task_ids(run))
                .collect(),
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
                self.ops.push(StoreOp::Doc(DocKey::Cluster));
                self.ops.push(StoreOp::Doc(DocKey::User(admin.name.clone())));
                self.users.insert(admin.name.clone(), admin);
                CommandResult::Bootstrapped { already: false }
            }
            batch @ Command::Batch(_) => self.apply_noting(batch, &mut Vec::new()),
            Command::RegisterNode(info) => {
                self.ops.push(StoreOp::Doc(DocKey::Node(info.id)));
                put(&mut self.nodes, info.id, info)
            }
            Command::PutStep(step) => {
                self.ops.push(StoreOp::Doc(DocKey::Step(step.name.clone())));
                put(&mut self.steps, step.name.clone(), step)
            }
            Command::DeleteStep { name } => {
                self.ops.push(StoreOp::Doc(DocKey::Step(name.clone())));
                delete(&mut self.steps, &name)
            }
            Command::PutApplication(app) => {
                self.ops.push(StoreOp::Doc(DocKey::Application(app.name.clone())));
                put(&mut self.applications, app.name.clone(), app)
            }
            Command::DeleteApplication { name } => {
                self.ops.push(StoreOp::Doc(DocKey::Application(name.clone())));
                delete(&mut self.applications, &name)
            }
            Command::PutConfiguration(cfg) => {
                self.ops
                    .push(StoreOp::Doc(DocKey::Configuration(cfg.name.clone())));
                put(&mut self.configurations, cfg.name.clone(), cfg)
            }
            Command::DeleteConfiguration { name } => {
                self.ops.push(StoreOp::Doc(DocKey::Configuration(name.clone())));
                delete(&mut self.configurations, &name)
            }
            Command::CreateTask(spec) => {
                let id = spec.id.clone();
                if self.tasks.contains_key(&id) {
                    return ignored(format!("task {id} already exists"));
                }
                let queue = spec.queue.clone();
                let mut task = StepTask::new(spec);
                task.ready = true;
                self.tasks.insert(id.clone(), task);
                self.dirty_tasks.push(id.clone());
                self.effects.push(Effect::Ready {
                    task_id: id,
                    queue,
                    not_before_ms: None,
                });
                task_result(true, None)
            }
            Command::Task { id, event } => self.apply_task_event(&id, event),
            Command::CreateRun(spec) => self.create_run(*spec),
            Command::RevokeRun { id, at_ms } => {
                let Some(record) = self.runs.get(&id) else {
                    return ignored(format!("no run {id}"));
                };
                if record.run.state.is_terminal() {
                    return ignored(format!("run {id} is already {}", record.run.state.as_str()));
                }
                for run_id in self.revocation_of(&id) {
                    let Some(record) = self.runs.get_mut(&run_id) else {
                        continue;
                    };
                    let actions = record.run.apply(RunEvent::Revoked);
                    self.carry_out(&run_id, actions, at_ms);
                }
                task_result(true, None)
            }
            Command::Purge { before_ms } => {
                // Finished runs and tasks are on disk: the store forgets
                // those (and answers for them, see `state_machine`); memory
                // holds only the cache's expired entries.
                let expired: Vec<String> = self
                    .cache
                    .iter()
                    .filter(|(_, e)| !e.is_live(before_ms))
                    .map(|(k, _)| k.clone())
                    .collect();
                for key in &expired {
                    self.cache.remove(key);
                    self.ops.push(StoreOp::Doc(DocKey::Cache(key.clone())));
                }
                self.ops.push(StoreOp::Purge { before_ms });
                CommandResult::Deleted {
                    existed: !expired.is_empty(),
                }
            }
            Command::CacheSet {
                key,
                value,
                expires_at_ms,
            } => {
                self.ops.push(StoreOp::Doc(DocKey::Cache(key.clone())));
                put(&mut self.cache, key, CacheEntry { value, expires_at_ms })
            }
            Command::CacheDelete { key } => {
                self.ops.push(StoreOp::Doc(DocKey::Cache(key.clone())));
                delete(&mut self.cache, &key)
            }
            Command::PutBlobChunk { sha256, index, bytes } => self.put_blob_chunk(sha256, index, bytes),
            Command::AddReport {
                run_id,
                app_name,
                step_name,
                at_ms,
                sections,
            } => {
                // The runner wrote the text: a list of documents, else nothing usable.
                let docs: Vec<serde_json::Value> = serde_json::from_str(&sections).unwrap_or_default();
                let sections: Vec<_> = docs
                    .into_iter()
                    .map(|doc| crate::model::report::ReportSection {
                        step: step_name.clone(),
                        doc,
                    })
                    .collect();
                if sections.is_empty() {
                    return ignored(format!(
                        "the report sections of run {run_id} are not a list of documents"
                    ));
                }
                self.ops.push(StoreOp::Report {
                    run_id,
                    app_name,
                    at_ms,
                    sections,
                });
                self.reports_pending = true;
                task_result(true, None)
            }
            Command::DeleteReport { run_id } => {
                self.ops.push(StoreOp::DeleteReport { run_id });
                self.reports_pending = true;
                task_result(true, None)
            }
            Command::KeepReport { run_id, keep } => {
                self.ops.push(StoreOp::KeepReport { run_id, keep });
                self.reports_pending = true;
                task_result(true, None)
            }
            Command::PutSchedule {
                schedule,
                reset_slots,
            } => self.put_schedule(schedule, reset_slots),
            Command::DeleteSchedule { id } => self.delete_schedule(&id),
            Command::CreateUser(user) => self.create_user(user),
            Command::SetUserPassword { name, password_hash } => self.set_user_password(&name, password_hash),
            Command::SetUserRole { name, role } => self.set_user_role(&name, role),
            Command::DeleteUser { name } => self.delete_user(&name),
            Command::PutApiKey(key) => self.put_api_key(key),
            Command::DeleteApiKey { id } => self.delete_api_key(&id),
            Command::RotateClusterKey {
                sealed_key,
                configurations,
                previous,
            } => self.rotate_cluster_key(sealed_key, configurations, previous),
            Command::Audit(records) => {
                self.reports_pending = true;
                self.ops.push(StoreOp::Audit(records));
                CommandResult::None
            }
            Command::PurgeAudit { before_ms } => {
                self.ops.push(StoreOp::PurgeAudit { before_ms });
                CommandResult::None
            }
            Command::ScheduleSlot {
                id,
                slot_ms,
                decision,
            } => self.decide_slot(&id, slot_ms, decision),
            cmd @ (Command::PutSyncPack { .. }
            | Command::DeleteSyncPack { .. }
            | Command::ActivateSyncPack { .. }
            | Command::RequestPackInstall { .. }
            | Command::PackInstallState { .. }) => {
                self.packs_changed = true;
                self.apply_pack(cmd)
            }
        }
    }
}
