//! Questions the rest of the node asks of the replicated content, answered
//! in one place: what an attempt of a step needs (its code, its run's
//! variables, its upstream data, its configuration), which steps a success
//! makes ready, and which tasks wait for a worker.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::runs::RunRecord;
use super::Content;
use crate::model::application::{AppVariable, Application};
use crate::model::has_value;
use crate::model::run::{RunOptions, RunOrigin, RunSpec, MAX_TRIGGER_DEPTH};
use crate::model::task::{KeptOutcome, StepTask, TaskState};

/// Why a run cannot be created.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunRefusal {
    #[error("no application named {0:?} (list them with GET /api/v1/applications)")]
    NoApplication(String),
    #[error("application {name:?} cannot run ({} problem(s)): {}", problems.len(), problems.join("; "))]
    Problems { name: String, problems: Vec<String> },
    #[error(
        "run {parent} is already {MAX_TRIGGER_DEPTH} Trigger Application steps deep; \
         does an application trigger itself?"
    )]
    TooDeep { parent: String },
}

/// What an attempt of a step needs from the replicated state.
#[derive(Debug, Clone)]
pub struct StepInputs {
    /// The step module's source.
    pub source: String,
    /// Set for a step of an application run.
    pub run: Option<RunInputs>,
}

#[derive(Debug, Clone)]
pub struct RunInputs {
    pub run_id: String,
    pub app_name: String,
    /// The application's `generate_report` (steps read it).
    pub generate_report: bool,
    pub app_variables: Vec<AppVariable>,
    /// The run's app variable overrides.
    pub variables: Map<String, Value>,
    /// Upstream steps in application order (the positions steps see).
    pub upstream: Vec<Upstream>,
    /// Plain values of the run's configuration.
    pub config: Map<String, Value>,
    /// (variable name, ciphertext) of its encrypted values.
    pub secrets: Vec<(String, String)>,
    /// The key that opens them; empty when there are none.
    pub cluster_key: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Upstream {
    pub task_id: String,
    pub name: String,
    pub params: Map<String, Value>,
    pub data: UpstreamData,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamData {
    /// Its success is applied: what it saved (None: nothing).
    Saved(Option<Vec<u8>>),
    /// Its success is applied and its data is in the store; the handle
    /// reads it (`ContentHandle::resolve_upstream`) outside the lock.
    InStore,
    /// Its outcome is not applied (yet): a step started ahead of that apply
    /// gets the data handed over by the dispatcher.
    NotApplied,
}

impl Content {
    /// What an attempt of `task` needs; an `Err` is the reason the attempt
    /// fails without running (its step, run or configuration is gone).
    pub fn step_inputs(&self, task: &StepTask) -> Result<StepInputs, String> {
        let step = self.steps.get(&task.spec.class_name).ok_or_else(|| {
            format!(
                "the step {:?} does not exist (it was never uploaded or was deleted); upload it and replay the run",
                task.spec.class_name
            )
        })?;
        let run = match &task.spec.run {
            None => None,
            Some((run_id, index)) => Some(self.run_inputs(run_id, *index)?),
        };
        Ok(StepInputs {
            source: step.source.clone(),
            run,
        })
    }

    fn run_inputs(&self, run_id: &str, index: usize) -> Result<RunInputs, String> {
        let record = self
            .runs
            .get(run_id)
            .ok_or_else(|| format!("the run {run_id} of this step no longer exists"))?;
        let upstream = record.run.steps[index]
            .upstream
            .iter()
            .filter_map(|&u| self.tasks.get(&record.task_ids[u]))
            .map(|up| Upstream {
                task_id: up.spec.id.clone(),
                name: up.spec.step_name.clone(),
                params: up.spec.params.clone(),
                data: match &up.outcome {
                    Some(KeptOutcome::Success { pickle_bytes, .. }) if up.state == TaskState::Success => {
                        match pickle_bytes {
                            None => UpstreamData::Saved(None),
                            Some(_) => UpstreamData::InStore,
                        }
                    }
                    _ => UpstreamData::NotApplied,
                },
            })
            .collect();
        let mut inputs = RunInputs {
            run_id: run_id.to_string(),
            app_name: record.spec.app.name.clone(),
            generate_report: record.spec.app.generate_report,
            app_variables: record.spec.app.app_variables.clone(),
            variables: record.spec.variables(),
            upstream,
            config: Map::new(),
            secrets: Vec::new(),
            cluster_key: Vec::new(),
        };
        if let Some(name) = &record.spec.configuration {
            let cfg = self.configurations.get(name).ok_or_else(|| {
                format!("the configuration {name:?} of this run does not exist; upload it and replay the run")
            })?;
            for var in &cfg.data {
                match (var.encrypted, &var.value) {
                    (true, Value::String(ciphertext)) => {
                        inputs.secrets.push((var.name.clone(), ciphertext.clone()))
                    }
                    (_, value) => {
                        inputs.config.insert(var.name.clone(), value.clone());
                    }
                }
            }
            if !inputs.secrets.is_empty() {
                inputs.cluster_key = self
                    .cluster
                    .as_ref()
                    .map(|c| c.cluster_key.clone())
                    .ok_or("the cluster has no key to decrypt configuration values")?;
            }
        }
        Ok(inputs)
    }

    /// The specification of a new run `id` of application `name`, frozen
    /// from the content as it is now; or why there can be none.
    pub fn plan_run(
        &self,
        id: String,
        name: &str,
        params: Map<String, Value>,
        origin: RunOrigin,
        now_ms: u64,
    ) -> Result<RunSpec, RunRefusal> {
        let app = self
            .applications
            .get(name)
            .ok_or_else(|| RunRefusal::NoApplication(name.to_string()))?;
        let depth = match &origin.parent {
            None => 0,
            Some(parent) => {
                let depth = self.runs.get(&parent.run_id).map_or(0, |r| r.spec.depth) + 1;
                if depth > MAX_TRIGGER_DEPTH {
                    return Err(RunRefusal::TooDeep {
                        parent: parent.run_id.clone(),
                    });
                }
                depth
            }
        };
        let (options, mut problems) = match RunOptions::resolve(&params, app) {
            Ok(options) => (Some(options), Vec::new()),
            Err(problems) => (None, problems),
        };
        let configuration = options.as_ref().and_then(|o| o.configuration.as_deref());
        problems.extend(self.run_problems(app, &params, configuration));
        match options {
            Some(options) if problems.is_empty() => Ok(RunSpec {
                id,
                app: app.clone(),
                params,
                configuration: options.configuration,
                queue: options.queue,
                log_level: options.log_level,
                created_ms: now_ms,
                triggered_by: origin.triggered_by,
                replay_of: origin.replay_of,
                parent: origin.parent,
                depth,
                schedule: origin.schedule,
            }),
            _ => Err(RunRefusal::Problems {
                name: name.to_string(),
                problems,
            }),
        }
    }

    /// Every reason a run of `app` with `params` cannot start (DESIGN 3
    /// step 2), all at once: required app variables without a value, steps
    /// not uploaded, required step parameters without a value, a missing
    /// configuration.
    pub fn run_problems(
        &self,
        app: &Application,
        params: &Map<String, Value>,
        configuration: Option<&str>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for var in &app.app_variables {
            if var.required
                && !has_value(params.get(&var.name))
                && !has_value(Some(&var.value))
                && !has_value(Some(&var.default_value))
            {
                problems.push(format!(
                    "required app variable {:?} has no value (give it in params)",
                    var.name
                ));
            }
        }
        for entry in &app.steps {
            let Some(step) = self.steps.get(&entry.file) else {
                problems.push(format!(
                    "step {:?} uses step file {:?}, which is not uploaded",
                    entry.name, entry.file
                ));
                continue;
            };
            for missing in step.missing_required(&entry.params) {
                problems.push(format!(
                    "step {:?} is missing its required parameter {missing:?}",
                    entry.name
                ));
            }
        }
        if let Some(c) = configuration {
            if !self.configurations.contains_key(c) {
                problems.push(format!(
                    "configuration {c:?} does not exist (upload it or pick another)"
                ));
            }
        }
        problems
    }

    /// Steps of `task`'s run that its success makes ready, as (task id,
    /// queue): exactly what applying that success will queue
    /// (`engine::run::Run::ready_after`).
    pub fn ready_after_success(&self, task: &StepTask) -> Vec<(String, String)> {
        let Some((run_id, index)) = &task.spec.run else {
            return Vec::new();
        };
        let Some(record) = self.runs.get(run_id) else {
            return Vec::new();
        };
        record
            .run
            .ready_after(*index)
            .into_iter()
            .map(|d| (record.task_ids[d].clone(), record.spec.queue.clone()))
            .collect()
    }

    /// When `task` became ready to run, what its wait for a worker counts
    /// from: a RETRY task's retry time, a PENDING step's creation or the end
    /// of its last upstream step; `handoff_ms` stands in for the end of an
    /// upstream step whose outcome is not applied yet (the step started
    /// ahead of it). None for a STARTED task handed out again (its first
    /// start was already counted) or when the upstream end is unknown.
    pub fn ready_since_ms(&self, task: &StepTask, handoff_ms: Option<u64>) -> Option<u64> {
        match task.state {
            TaskState::Retry => task
                .retry_at_ms
                .or_else(|| task.current_attempt().and_then(|a| a.end_ms)),
            TaskState::Pending => {
                let Some((run_id, index)) = &task.spec.run else {
                    return Some(task.spec.created_ms);
                };
                let record = self.runs.get(run_id)?;
                let mut since = task.spec.created_ms;
                for &u in &record.run.steps.get(*index)?.upstream {
                    let end = record
                        .task_ids
                        .get(u)
                        .and_then(|id| self.tasks.get(id))
                        .and_then(|t| t.end_ms)
                        .or(handoff_ms)?;
                    since = since.max(end);
                }
                Some(since)
            }
            _ => None,
        }
    }

    /// Tasks that wait for a worker, oldest first: ready PENDING tasks,
    /// RETRY tasks (with the time they may run again) and STARTED ones
    /// (their worker may be gone; `started` tells them apart).
    pub fn waiting_tasks(&self) -> Vec<WaitingTask> {
        let mut tasks: Vec<(u64, WaitingTask)> = self
            .tasks
            .values()
            .filter(|t| match t.state {
                TaskState::Pending => t.ready,
                TaskState::Retry | TaskState::Started => true,
                _ => false,
            })
            .map(|t| {
                let waiting = WaitingTask {
                    task_id: t.spec.id.clone(),
                    queue: t.spec.queue.clone(),
                    not_before_ms: t.retry_at_ms,
                    started: t.state == TaskState::Started,
                };
                (t.spec.created_ms, waiting)
            })
            .collect();
        tasks.sort_by(|a, b| (a.0, &a.1.task_id).cmp(&(b.0, &b.1.task_id)));
        tasks.into_iter().map(|(_, w)| w).collect()
    }
}

/// The work going on now, as the replicated state records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkInFlight {
    /// Ready PENDING step tasks (waiting for a worker), by queue.
    pub pending_by_queue: BTreeMap<String, u64>,
    /// STARTED step tasks, by the worker running their current attempt.
    pub started_by_worker: BTreeMap<String, u64>,
}

impl Content {
    /// What waits and what runs: one pass over the unfinished tasks in
    /// memory, so the cost follows the work in flight, not the history.
    pub fn work_in_flight(&self) -> WorkInFlight {
        let mut work = WorkInFlight::default();
        for t in self.tasks.values() {
            match t.state {
                TaskState::Pending if t.ready => {
                    *work.pending_by_queue.entry(t.spec.queue.clone()).or_default() += 1;
                }
                TaskState::Started => {
                    if let Some(a) = t.current_attempt() {
                        *work.started_by_worker.entry(a.worker.clone()).or_default() += 1;
                    }
                }
                _ => {}
            }
        }
        work
    }
}

/// A task that waits for a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingTask {
    pub task_id: String,
    pub queue: String,
    /// It may not run before this wall-clock time (ms), if set.
    pub not_before_ms: Option<u64>,
    /// Recorded as running: its worker may be gone.
    pub started: bool,
}

#[cfg(test)]
#[path = "ahead_tests.rs"]
mod ahead_tests;

/// Runs and step tasks not finished yet, counted by application and state
/// (a step run alone counts under the application `""`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActiveCounts {
    /// By (application, state name as `TaskState::as_str` spells it).
    pub runs: BTreeMap<(String, &'static str), u64>,
    pub tasks: BTreeMap<(String, &'static str), u64>,
}

/// Runs and step tasks that finished since this node started, by
/// (application, end state), counted when the entry that ends each is
/// applied (`Content::carry_out`, `apply_task_event`): every node applies
/// every entry, so every node counts every run once, and the counts agree
/// across the cluster (take `max`, not `sum`, over the nodes). Not
/// replicated, started from zero with the node; entries applied again after
/// a restart (those after the last durable flush) are counted again.
#[derive(Debug, Clone, Default)]
pub struct FinishedCounts {
    pub runs: BTreeMap<(String, &'static str), u64>,
    pub tasks: BTreeMap<(String, &'static str), u64>,
}

impl PartialEq for FinishedCounts {
    /// Counts are this node's history, not part of the replicated state
    /// that `Content`'s equality compares: always equal.
    fn eq(&self, _: &FinishedCounts) -> bool {
        true
    }
}

impl FinishedCounts {
    /// A finished run, with its step tasks that finished (a step the run
    /// never started is not counted).
    pub fn run<'t>(&mut self, run: &RunRecord, tasks: impl Iterator<Item = &'t StepTask>) {
        let app = &run.spec.app.name;
        *self
            .runs
            .entry((app.clone(), run.run.state.as_str()))
            .or_default() += 1;
        for t in tasks.filter(|t| t.state.is_terminal()) {
            *self.tasks.entry((app.clone(), t.state.as_str())).or_default() += 1;
        }
    }

    /// A finished step run alone.
    pub fn lone_task(&mut self, task: &StepTask) {
        *self
            .tasks
            .entry((String::new(), task.state.as_str()))
            .or_default() += 1;
    }
}

impl Content {
    /// One pass over the runs and tasks in memory that are not finished
    /// (finished ones leave memory once the store has them).
    pub fn active_counts(&self) -> ActiveCounts {
        let mut counts = ActiveCounts::default();
        for r in self.runs.values().filter(|r| !r.run.state.is_terminal()) {
            *counts
                .runs
                .entry((r.spec.app.name.clone(), r.run.state.as_str()))
                .or_default() += 1;
        }
        for t in self.tasks.values().filter(|t| !t.state.is_terminal()) {
            let app = t
                .spec
                .run
                .as_ref()
                .and_then(|(run, _)| self.runs.get(run))
                .map_or_else(String::new, |r| r.spec.app.name.clone());
            *counts.tasks.entry((app, t.state.as_str())).or_default() += 1;
        }
        counts
    }
}
