//! Application runs in the replicated state: the record of a run (its
//! frozen specification, the engine's view of it, its step tasks) and how
//! applying a command drives the run engine and carries out what it asks
//! for: queue a step, plan a retry, cancel a step, finish the run.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::content::{ignored, task_result, Content, Effect, StoreOp};
use super::{Command, CommandResult};
use crate::engine::run::{self, Run, RunAction, RunEvent};
use crate::engine::{step_task, Applied, TaskEvent};
use crate::model::run::{step_task_id, ChildLink, RunSpec};
use crate::model::task::{Outcome, StepTask, TaskSpec};

/// A run as replicated: what was asked and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub spec: RunSpec,
    pub run: Run,
    /// Step task ids, in application order.
    pub task_ids: Vec<String>,
    pub end_ms: Option<u64>,
    /// Runs its Trigger Application steps started, oldest first.
    pub children: Vec<ChildLink>,
}

impl Content {
    pub(super) fn create_run(&mut self, spec: RunSpec) -> CommandResult {
        if self.runs.contains_key(&spec.id) {
            return ignored(format!("run {} already exists", spec.id));
        }
        let (run, actions) = Run::start(run::graph(&spec.app.steps));
        let mut task_ids = Vec::with_capacity(spec.app.steps.len());
        for (i, step) in spec.app.steps.iter().enumerate() {
            let id = step_task_id(&spec.id, i);
            // The document was validated before it was proposed; a timeout
            // that is not a number is the runner's to report.
            let timeout_ms = step
                .params
                .get("timeout")
                .and_then(Value::as_f64)
                .map(|s| (s * 1000.0) as u64);
            let task = StepTask::new(TaskSpec {
                id: id.clone(),
                step_name: step.name.clone(),
                class_name: step.file.clone(),
                params: step.params.clone(),
                queue: spec.queue.clone(),
                timeout_ms,
                log_level: spec.log_level,
                created_ms: spec.created_ms,
                run: Some((spec.id.clone(), i)),
            });
            self.tasks.insert(id.clone(), task);
            self.dirty_tasks.push(id.clone());
            task_ids.push(id);
        }
        let (id, at_ms) = (spec.id.clone(), spec.created_ms);
        if let Some(parent) = &spec.parent {
            // The parent is running (its step asked for this run); should it
            // have ended meanwhile, the child still names it.
            if let Some(record) = self.runs.get_mut(&parent.run_id) {
                record.children.push(ChildLink {
                    run_id: id.clone(),
                    app_name: spec.app.name.clone(),
                    step_name: parent.step_name.clone(),
                });
                self.dirty_runs.push(parent.run_id.clone());
            }
        }
        self.dirty_runs.push(id.clone());
        self.runs.insert(
            id.clone(),
            RunRecord {
                spec,
                run,
                task_ids,
                end_ms: None,
                children: Vec::new(),
            },
        );
        self.carry_out(&id, actions, at_ms);
        task_result(true, None)
    }

    /// The runs revoking run `id` revokes: it, and the unfinished runs its
    /// steps wait for (Trigger Application, blocking), theirs in turn.
    pub(super) fn revocation_of(&self, id: &str) -> Vec<String> {
        let mut runs = vec![id.to_string()];
        let mut next = 0;
        while let Some(run_id) = runs.get(next).cloned() {
            next += 1;
            let Some(record) = self.runs.get(&run_id) else {
                continue;
            };
            for child in &record.children {
                let waited_for = self.runs.get(&child.run_id).is_some_and(|c| {
                    !c.run.state.is_terminal() && c.spec.parent.as_ref().is_some_and(|p| p.blocking)
                });
                if waited_for && !runs.contains(&child.run_id) {
                    runs.push(child.run_id.clone());
                }
            }
        }
        runs
    }

    pub(super) fn apply_task_event(&mut self, id: &str, event: TaskEvent) -> CommandResult {
        let Some(task) = self.tasks.get(id) else {
            return ignored(format!("no task {id}"));
        };
        if let Some(reason) = step_task::rejection(task, &event) {
            return ignored(reason);
        }
        if let TaskEvent::Logged { .. } = event {
            // Records of a running attempt: the task alone changes, the
            // run's progress does not.
            let task = self.tasks.get_mut(id).expect("checked above");
            step_task::apply_with_retry(task, &event, None);
            let lines_after = task.log_lines;
            self.dirty_tasks.push(id.to_string());
            self.spill(id, lines_after, event);
            return task_result(true, None);
        }
        let Some((run_id, index)) = task.spec.run.clone() else {
            let task = self.tasks.get_mut(id).expect("checked above");
            if matches!(event, TaskEvent::Revoked { .. }) {
                self.effects.push(Effect::Cancel {
                    task_id: id.to_string(),
                });
            }
            return match step_task::apply_with_retry(task, &event, None) {
                Applied::Changed => {
                    if task.state.is_terminal() {
                        self.finished.lone_task(task);
                    }
                    let first_line = task.log_lines;
                    self.dirty_tasks.push(id.to_string());
                    self.spill(id, first_line, event);
                    task_result(true, None)
                }
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
            // Applied above; never reaches here.
            TaskEvent::Logged { .. } => return ignored("log records are not a step's progress".into()),
        };
        let Some(record) = self.runs.get_mut(&run_id) else {
            return ignored(format!("task {id} belongs to unknown run {run_id}"));
        };
        // The run and the task must agree on what happened: an attempt of a
        // step the run does not consider queued (it waits for its upstream,
        // or it ended) changes neither.
        if !record.run.is_running(index) {
            return ignored(format!(
                "step {:?} is not queued in run {run_id} (it waits for upstream steps or has ended)",
                record.run.steps[index].name
            ));
        }
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
        step_task::apply_with_retry(task, &event, retry_at);
        let first_line = task.log_lines;
        self.dirty_tasks.push(id.to_string());
        self.dirty_runs.push(run_id.clone());
        self.spill(id, first_line, event);
        self.carry_out(&run_id, actions, at_ms);
        task_result(true, None)
    }

    /// Hands an applied outcome's logs and data to the store: the task
    /// record keeps only their size (`log_lines` is already counted, so
    /// this attempt's records start at `lines_after` minus their number).
    fn spill(&mut self, id: &str, lines_after: u64, event: TaskEvent) {
        let (outcome, logs) = match event {
            TaskEvent::Finished { outcome, logs, .. } => (Some(outcome), logs),
            TaskEvent::Logged { lines, .. } => (None, lines),
            _ => return,
        };
        // What a record costs in memory beside its message, roughly.
        const LINE_OVERHEAD: u64 = 96;
        if !logs.is_empty() {
            self.pending_bytes += logs
                .iter()
                .map(|l| l.message.len() as u64 + l.module.len() as u64 + LINE_OVERHEAD)
                .sum::<u64>();
            self.ops.push(StoreOp::Logs {
                task_id: id.to_string(),
                first_line: lines_after - logs.len() as u64,
                lines: logs,
            });
        }
        let saved = match outcome {
            Some(Outcome::Success { json, pickle }) => Some((json, pickle)),
            Some(Outcome::Failure { saved, .. }) => saved,
            None => None,
        };
        if let Some((json, pickle)) = saved {
            self.pending_bytes += json.len() as u64 + pickle.as_ref().map_or(0, |p| p.len() as u64);
            self.ops.push(StoreOp::Result {
                task_id: id.to_string(),
                json,
                pickle,
            });
        }
    }

    /// Carries out what the run engine asked for. Costs O(actions): the
    /// run's task ids are borrowed, not copied.
    pub(super) fn carry_out(&mut self, run_id: &str, actions: Vec<RunAction>, at_ms: u64) {
        let Content {
            runs,
            tasks,
            effects,
            dirty_tasks,
            dirty_runs,
            finished,
            ..
        } = self;
        let Some(record) = runs.get_mut(run_id) else {
            return;
        };
        let task_ids = &record.task_ids;
        dirty_runs.push(run_id.to_string());
        let ends = actions.iter().any(|a| matches!(a, RunAction::Finish(_)));
        for action in actions {
            match action {
                RunAction::Queue(i) => {
                    if let Some(t) = tasks.get_mut(&task_ids[i]) {
                        t.ready = true;
                        dirty_tasks.push(t.spec.id.clone());
                        effects.push(Effect::Ready {
                            task_id: t.spec.id.clone(),
                            queue: t.spec.queue.clone(),
                            not_before_ms: None,
                        });
                    }
                }
                RunAction::Retry { step, at_ms } => {
                    if let Some(t) = tasks.get(&task_ids[step]) {
                        effects.push(Effect::Ready {
                            task_id: t.spec.id.clone(),
                            queue: t.spec.queue.clone(),
                            not_before_ms: Some(at_ms),
                        });
                    }
                }
                RunAction::Cancel { step, reason } => {
                    if let Some(t) = tasks.get_mut(&task_ids[step]) {
                        let was_ready = t.ready;
                        let event = TaskEvent::Revoked {
                            at_ms,
                            reason: Some(reason),
                        };
                        if step_task::apply(t, event) == Applied::Changed {
                            dirty_tasks.push(t.spec.id.clone());
                            if was_ready {
                                effects.push(Effect::Cancel {
                                    task_id: t.spec.id.clone(),
                                });
                            }
                        }
                    }
                }
                RunAction::Finish(_) => record.end_ms = Some(at_ms),
            }
        }
        if ends {
            // Counted once the actions ran: the steps it cancelled are final too.
            finished.run(record, record.task_ids.iter().filter_map(|t| tasks.get(t)));
        }
    }
}
