//! The replicated content and the pure function that applies a command to it.
//! Everything the API reads comes from here; nothing here does IO. Applying
//! may produce [`Effect`]s — tasks that became ready or must stop — which the
//! state machine hands to the node's dispatcher after the entry is applied.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Command, CommandResult};
use crate::engine::run::{self, Run, RunAction, RunEvent};
use crate::engine::{step_task, Applied, TaskEvent};
use crate::model::application::STEP_RESERVED_KEYS;
use crate::model::node::NodeInfo;
use crate::model::run::{step_task_id, RunRecord, RunSpec};
use crate::model::step::StepRecord;
use crate::model::task::{Outcome, StepTask, TaskSpec};
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
    /// Application documents as JSON text, keyed by name.
    pub applications: BTreeMap<String, String>,
    /// Configuration documents as JSON text (secrets sealed), keyed by name.
    pub configurations: BTreeMap<String, String>,
    pub tasks: BTreeMap<String, StepTask>,
    pub runs: BTreeMap<String, RunRecord>,
    pub cache: BTreeMap<String, CacheEntry>,
    /// Each node's registration, by node id.
    pub nodes: BTreeMap<u64, NodeInfo>,
    /// Effects of the entries applied since the last drain (not replicated).
    #[serde(skip)]
    pub effects: Vec<Effect>,
}

fn task_result(changed: bool, reason: Option<String>) -> CommandResult {
    CommandResult::Task { changed, reason }
}

fn ignored(reason: String) -> CommandResult {
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
            Command::PutApplication { name, json } => put(&mut self.applications, name, json),
            Command::DeleteApplication { name } => delete(&mut self.applications, &name),
            Command::PutConfiguration { name, json } => put(&mut self.configurations, name, json),
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

    fn create_run(&mut self, spec: RunSpec) -> CommandResult {
        if self.runs.contains_key(&spec.id) {
            return ignored(format!("run {} already exists", spec.id));
        }
        // The document was validated before it was proposed.
        let app: Value = serde_json::from_str(&spec.app_json).unwrap_or(Value::Null);
        let entries: Vec<serde_json::Map<String, Value>> = app
            .get("steps")
            .and_then(Value::as_array)
            .map(|s| s.iter().filter_map(|e| e.as_object().cloned()).collect())
            .unwrap_or_default();
        let (run, actions) = Run::start(run::graph(&app));
        let mut task_ids = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let id = step_task_id(&spec.id, i);
            let params: serde_json::Map<String, Value> = entry
                .iter()
                .filter(|(k, _)| !STEP_RESERVED_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let timeout_ms = params
                .get("timeout")
                .and_then(Value::as_f64)
                .map(|s| (s * 1000.0) as u64);
            let task = StepTask::new(TaskSpec {
                id: id.clone(),
                step_name: entry
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                class_name: entry
                    .get("file")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                params_json: Value::Object(params).to_string(),
                queue: spec.queue.clone(),
                timeout_ms,
                log_level: spec.log_level,
                created_ms: spec.created_ms,
                run: Some((spec.id.clone(), i)),
            });
            self.tasks.insert(id.clone(), task);
            task_ids.push(id);
        }
        let (id, at_ms) = (spec.id.clone(), spec.created_ms);
        self.runs.insert(
            id.clone(),
            RunRecord {
                spec,
                run,
                task_ids,
                end_ms: None,
            },
        );
        self.carry_out(&id, actions, at_ms);
        task_result(true, None)
    }

    fn apply_task_event(&mut self, id: &str, event: TaskEvent) -> CommandResult {
        let Some(task) = self.tasks.get(id) else {
            return ignored(format!("no task {id}"));
        };
        if let Some(reason) = step_task::rejection(task, &event) {
            return ignored(reason);
        }
        let Some((run_id, index)) = task.spec.run.clone() else {
            let task = self.tasks.get_mut(id).expect("checked above");
            if matches!(event, TaskEvent::Revoked { .. }) {
                self.effects.push(Effect::Cancel {
                    task_id: id.to_string(),
                });
            }
            return match step_task::apply(task, event) {
                Applied::Changed => task_result(true, None),
                Applied::Ignored(reason) => ignored(reason),
            };
        };
        // A step of a run: the run decides what follows.
        let (run_event, at_ms) = match &event {
            TaskEvent::Started { at_ms, .. } => (RunEvent::StepStarted(index), *at_ms),
            TaskEvent::Finished {
                outcome: Outcome::Success { .. },
                at_ms,
                ..
            } => (RunEvent::StepSucceeded(index), *at_ms),
            TaskEvent::Finished {
                attempt, at_ms, seed, ..
            } => (
                RunEvent::StepFailed {
                    step: index,
                    attempt: *attempt,
                    at_ms: *at_ms,
                    seed: *seed,
                },
                *at_ms,
            ),
            // Revoking one step of a run revokes the run.
            TaskEvent::Revoked { at_ms, .. } => {
                return self.apply(Command::RevokeRun {
                    id: run_id,
                    at_ms: *at_ms,
                })
            }
        };
        let Some(record) = self.runs.get_mut(&run_id) else {
            return ignored(format!("task {id} belongs to unknown run {run_id}"));
        };
        if matches!(event, TaskEvent::Finished { started: Some(_), .. }) {
            // The attempt's start rides on its outcome.
            record.run.apply(RunEvent::StepStarted(index));
        }
        let actions = record.run.apply(run_event);
        let retry_at = actions.iter().find_map(|a| match a {
            RunAction::Retry { step, at_ms } if *step == index => Some(*at_ms),
            _ => None,
        });
        let task = self.tasks.get_mut(id).expect("checked above");
        step_task::apply_with_retry(task, event, retry_at);
        self.carry_out(&run_id, actions, at_ms);
        task_result(true, None)
    }

    /// Carries out what the run engine asked for.
    fn carry_out(&mut self, run_id: &str, actions: Vec<RunAction>, at_ms: u64) {
        let Some(record) = self.runs.get_mut(run_id) else {
            return;
        };
        let task_ids = record.task_ids.clone();
        for action in actions {
            match action {
                RunAction::Queue(i) => {
                    if let Some(t) = self.tasks.get_mut(&task_ids[i]) {
                        t.ready = true;
                        self.effects.push(Effect::Ready {
                            task_id: t.spec.id.clone(),
                            queue: t.spec.queue.clone(),
                            not_before_ms: None,
                        });
                    }
                }
                RunAction::Retry { step, at_ms } => {
                    if let Some(t) = self.tasks.get(&task_ids[step]) {
                        self.effects.push(Effect::Ready {
                            task_id: t.spec.id.clone(),
                            queue: t.spec.queue.clone(),
                            not_before_ms: Some(at_ms),
                        });
                    }
                }
                RunAction::Cancel { step, reason } => {
                    if let Some(t) = self.tasks.get_mut(&task_ids[step]) {
                        let was_ready = t.ready;
                        let event = TaskEvent::Revoked {
                            at_ms,
                            reason: Some(reason),
                        };
                        if step_task::apply(t, event) == Applied::Changed && was_ready {
                            self.effects.push(Effect::Cancel {
                                task_id: t.spec.id.clone(),
                            });
                        }
                    }
                }
                RunAction::Finish(_) => {
                    if let Some(r) = self.runs.get_mut(run_id) {
                        r.end_ms = Some(at_ms);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::task::TaskState;

    fn admin(hash: &str) -> User {
        User {
            name: "isadmin".into(),
            password_hash: hash.into(),
            roles: vec!["admin".into()],
        }
    }

    #[test]
    fn bootstrap_happens_once() {
        let mut c = Content::default();
        let first = c.apply(Command::Bootstrap {
            cluster_id: "a".into(),
            cluster_key: vec![1; 32],
            admin: admin("h1"),
        });
        assert_eq!(first, CommandResult::Bootstrapped { already: false });
        let second = c.apply(Command::Bootstrap {
            cluster_id: "b".into(),
            cluster_key: vec![2; 32],
            admin: admin("h2"),
        });
        assert_eq!(second, CommandResult::Bootstrapped { already: true });
        assert_eq!(c.cluster.as_ref().unwrap().cluster_key, vec![1; 32]);
        assert_eq!(c.users["isadmin"].password_hash, "h1");
    }

    #[test]
    fn put_reports_replacement_and_delete_reports_existence() {
        let mut c = Content::default();
        let put = |c: &mut Content| {
            c.apply(Command::PutApplication {
                name: "a".into(),
                json: "{}".into(),
            })
        };
        assert_eq!(put(&mut c), CommandResult::Stored { replaced: false });
        assert_eq!(put(&mut c), CommandResult::Stored { replaced: true });
        let del = |c: &mut Content| c.apply(Command::DeleteApplication { name: "a".into() });
        assert_eq!(del(&mut c), CommandResult::Deleted { existed: true });
        assert_eq!(del(&mut c), CommandResult::Deleted { existed: false });
    }

    fn run_spec(app: &str) -> RunSpec {
        RunSpec::for_test("isapp-r1", app, 10)
    }

    fn finish(attempt: u32, ok: bool, at_ms: u64) -> TaskEvent {
        crate::engine::step_task::finished_for_test(attempt, ok, at_ms)
    }

    fn start(attempt: u32) -> TaskEvent {
        TaskEvent::Started {
            attempt,
            worker: "w".into(),
            at_ms: 20,
        }
    }

    #[test]
    fn a_finished_step_queues_the_next_in_the_same_entry() {
        let mut c = Content::default();
        c.apply(Command::CreateRun(run_spec(
            r#"{"name": "a", "steps": [{"name": "A", "file": "F", "x": 1, "output_to": ["B"]},
                                      {"name": "B", "file": "G", "retry_max": 1, "retry_countdown": 2}]}"#,
        )));
        assert_eq!(
            c.effects.drain(..).collect::<Vec<_>>(),
            vec![Effect::Ready {
                task_id: "r1-0".into(),
                queue: "q".into(),
                not_before_ms: None
            }]
        );
        assert_eq!(c.tasks["r1-0"].spec.params_json, r#"{"x":1}"#);
        assert_eq!(c.tasks["r1-1"].spec.class_name, "G");
        assert!(!c.tasks["r1-1"].ready);

        c.apply(Command::Task {
            id: "r1-0".into(),
            event: start(1),
        });
        assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Started);
        c.apply(Command::Task {
            id: "r1-0".into(),
            event: finish(1, true, 30),
        });
        assert!(c.tasks["r1-1"].ready);
        assert_eq!(c.effects.len(), 1);
        c.effects.clear();

        // B fails once: RETRY at 30 + 2 s, then succeeds; the run is done.
        c.apply(Command::Task {
            id: "r1-1".into(),
            event: start(1),
        });
        c.apply(Command::Task {
            id: "r1-1".into(),
            event: finish(1, false, 40),
        });
        assert_eq!(c.tasks["r1-1"].state, TaskState::Retry);
        assert_eq!(
            c.effects.drain(..).collect::<Vec<_>>(),
            vec![Effect::Ready {
                task_id: "r1-1".into(),
                queue: "q".into(),
                not_before_ms: Some(2040)
            }]
        );
        c.apply(Command::Task {
            id: "r1-1".into(),
            event: start(2),
        });
        c.apply(Command::Task {
            id: "r1-1".into(),
            event: finish(2, true, 50),
        });
        assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Success);
        assert_eq!(c.runs["isapp-r1"].end_ms, Some(50));
    }

    #[test]
    fn a_batch_applies_in_order_and_notes_every_changed_task_and_run() {
        let mut c = Content::default();
        let mut changed = Vec::new();
        let result = c.apply_noting(
            Command::Batch(vec![
                Command::CreateRun(run_spec(
                    r#"{"name": "a", "steps": [{"name": "A", "file": "F"}]}"#,
                )),
                Command::Task {
                    id: "r1-0".into(),
                    event: start(1),
                },
                Command::Task {
                    id: "r1-0".into(),
                    event: finish(1, true, 30),
                },
                Command::Task {
                    id: "r1-0".into(),
                    event: finish(1, true, 31),
                },
            ]),
            &mut changed,
        );
        let CommandResult::Batch(results) = result else {
            panic!("a batch answers a batch: {result:?}");
        };
        assert_eq!(results.len(), 4);
        assert!(matches!(results[2], CommandResult::Task { changed: true, .. }));
        assert!(
            matches!(results[3], CommandResult::Task { changed: false, .. }),
            "the second outcome of attempt 1 comes after the first: {:?}",
            results[3]
        );
        assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Success);
        // The task command was looked at after the run existed, so the run's
        // watchers are woken by its outcome.
        assert_eq!(changed.iter().filter(|id| *id == "isapp-r1").count(), 5);
        assert!(changed.iter().any(|id| id == "r1-0"));
    }

    #[test]
    fn revoking_a_run_cancels_its_ready_steps_and_purge_forgets_it() {
        let mut c = Content::default();
        c.apply(Command::CreateRun(run_spec(
            r#"{"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["B"]}, {"name": "B", "file": "F"}]}"#,
        )));
        c.effects.clear();
        c.apply(Command::RevokeRun {
            id: "isapp-r1".into(),
            at_ms: 99,
        });
        assert_eq!(
            c.effects,
            vec![Effect::Cancel {
                task_id: "r1-0".into()
            }]
        );
        assert_eq!(c.tasks["r1-1"].state, TaskState::Revoked);
        assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Revoked);
        c.apply(Command::Purge { before_ms: 99 });
        assert!(c.runs.contains_key("isapp-r1"), "ended at 99, not before");
        c.apply(Command::Purge { before_ms: 100 });
        assert!(c.runs.is_empty() && c.tasks.is_empty());
    }
}
