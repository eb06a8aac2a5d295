//! The life of an application run, sans-IO: the step graph, which steps are
//! ready, retries, what a failure stops, and when the run is over.
//! `Run::start` and `Run::apply(event)` answer the actions the caller must
//! carry out (queue a step, schedule a retry, cancel a step, finish the run).
//!
//! Rules (DESIGN 3, 4.2, 4.5): a step is ready when every upstream step
//! succeeded; independent steps run in parallel; a step that fails for good
//! stops everything downstream of it (those steps never start) while
//! unrelated branches still finish; the run is SUCCESS when every step
//! succeeded, FAILURE when one failed, REVOKED when revoked.

use serde::{Deserialize, Serialize};

use crate::model::application::{self, AppStep};
use crate::model::retry::RetryPolicy;
use crate::model::task::TaskState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphStep {
    pub name: String,
    /// Upstream step indices, in application order (positions 0..k).
    pub upstream: Vec<usize>,
    pub downstream: Vec<usize>,
    pub retry: RetryPolicy,
}

/// Where each step of a run stands, as the run sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepStatus {
    /// Upstream steps are not done yet.
    Waiting,
    /// Ready: queued or running.
    Queued,
    /// Failed an attempt; queued again at a planned time.
    Retrying,
    Succeeded,
    Failed,
    /// Never started because an upstream step failed.
    Skipped,
    Revoked,
}

impl StepStatus {
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded | StepStatus::Failed | StepStatus::Skipped | StepStatus::Revoked
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunEvent {
    StepStarted(usize),
    StepSucceeded(usize),
    /// Attempt `attempt` of a step failed; `seed` feeds the retry jitter.
    StepFailed {
        step: usize,
        attempt: u32,
        at_ms: u64,
        seed: u64,
    },
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAction {
    /// The step is ready: queue it now.
    Queue(usize),
    /// The step failed an attempt and runs again at `at_ms`.
    Retry { step: usize, at_ms: u64 },
    /// The step will never run (skipped or revoked); stop it if it runs.
    Cancel { step: usize, reason: String },
    /// The run is over.
    Finish(TaskState),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub steps: Vec<GraphStep>,
    pub status: Vec<StepStatus>,
    pub state: TaskState,
}

/// Builds the step graph of a validated application's steps, in
/// O(steps + edges): the edges come sorted and distinct from
/// [`application::edges`], so every step's upstream and downstream lists
/// are in application order without sorting.
pub fn graph(entries: &[AppStep]) -> Vec<GraphStep> {
    let mut steps: Vec<GraphStep> = entries
        .iter()
        .map(|e| GraphStep {
            name: e.name.clone(),
            upstream: Vec::new(),
            downstream: Vec::new(),
            retry: e.retry,
        })
        .collect();
    for (from, to) in application::edges(entries) {
        steps[from].downstream.push(to);
        steps[to].upstream.push(from);
    }
    steps
}

impl Run {
    /// A new run: every step waits, the roots are queued.
    pub fn start(steps: Vec<GraphStep>) -> (Run, Vec<RunAction>) {
        let mut run = Run {
            status: vec![StepStatus::Waiting; steps.len()],
            steps,
            state: TaskState::Pending,
        };
        let mut actions = Vec::new();
        for i in 0..run.steps.len() {
            if run.steps[i].upstream.is_empty() {
                run.status[i] = StepStatus::Queued;
                actions.push(RunAction::Queue(i));
            }
        }
        run.finish_if_done(&mut actions);
        (run, actions)
    }

    pub fn apply(&mut self, event: RunEvent) -> Vec<RunAction> {
        let mut actions = Vec::new();
        if self.state.is_terminal() {
            return actions;
        }
        match event {
            RunEvent::StepStarted(i) => {
                if self.status.get(i) == Some(&StepStatus::Queued) && self.state == TaskState::Pending {
                    self.state = TaskState::Started;
                }
            }
            RunEvent::StepSucceeded(i) => {
                if !self.is_running(i) {
                    return actions;
                }
                let ready = self.ready_after(i);
                self.status[i] = StepStatus::Succeeded;
                for d in ready {
                    self.status[d] = StepStatus::Queued;
                    actions.push(RunAction::Queue(d));
                }
            }
            RunEvent::StepFailed {
                step,
                attempt,
                at_ms,
                seed,
            } => {
                if !self.is_running(step) {
                    return actions;
                }
                let policy = self.steps[step].retry;
                if attempt <= policy.max {
                    self.status[step] = StepStatus::Retrying;
                    actions.push(RunAction::Retry {
                        step,
                        at_ms: at_ms + policy.delay_ms(attempt, seed),
                    });
                    return actions;
                }
                self.status[step] = StepStatus::Failed;
                self.skip_downstream(step, &mut actions);
            }
            RunEvent::Revoked => {
                for i in 0..self.steps.len() {
                    if !self.status[i].is_terminal() {
                        self.status[i] = StepStatus::Revoked;
                        actions.push(RunAction::Cancel {
                            step: i,
                            reason: "the run was revoked".into(),
                        });
                    }
                }
                self.state = TaskState::Revoked;
                actions.push(RunAction::Finish(TaskState::Revoked));
                return actions;
            }
        }
        self.finish_if_done(&mut actions);
        actions
    }

    /// Whether step `i` is queued or running (an outcome of it applies).
    pub fn is_running(&self, i: usize) -> bool {
        !self.state.is_terminal()
            && matches!(
                self.status.get(i),
                Some(StepStatus::Queued | StepStatus::Retrying)
            )
    }

    /// The steps that the success of step `i` makes ready, in order: waiting
    /// steps downstream of `i` whose other upstream steps all succeeded.
    /// Empty when the run is over or `i` has ended.
    ///
    /// `i` may still be `Waiting` here: a worker that started it ahead of
    /// the apply that makes it ready (that entry precedes `i`'s outcome in
    /// the log) asks before that apply happened. [`Run::apply`] itself
    /// never gets here for a waiting step (`is_running` comes first).
    ///
    /// **Invariant:** this is the one rule for "ready after a success":
    /// [`Run::apply`] queues exactly these on `StepSucceeded(i)`, and a worker
    /// starts exactly these ahead of that apply (`store::queries`).
    pub fn ready_after(&self, i: usize) -> Vec<usize> {
        let unfinished = matches!(
            self.status.get(i),
            Some(StepStatus::Waiting | StepStatus::Queued | StepStatus::Retrying)
        );
        if self.state.is_terminal() || !unfinished {
            return Vec::new();
        }
        self.steps[i]
            .downstream
            .iter()
            .copied()
            .filter(|&d| self.status[d] == StepStatus::Waiting)
            .filter(|&d| {
                self.steps[d]
                    .upstream
                    .iter()
                    .all(|&u| u == i || self.status[u] == StepStatus::Succeeded)
            })
            .collect()
    }

    /// Marks every step downstream of `failed` as skipped.
    fn skip_downstream(&mut self, failed: usize, actions: &mut Vec<RunAction>) {
        let mut stack = self.steps[failed].downstream.clone();
        while let Some(d) = stack.pop() {
            if self.status[d] == StepStatus::Waiting {
                self.status[d] = StepStatus::Skipped;
                actions.push(RunAction::Cancel {
                    step: d,
                    reason: format!("not started: upstream step {:?} failed", self.steps[failed].name),
                });
                stack.extend(self.steps[d].downstream.iter().copied());
            }
        }
    }

    fn finish_if_done(&mut self, actions: &mut Vec<RunAction>) {
        if self.status.iter().all(|s| s.is_terminal()) {
            self.state = if self.status.iter().all(|s| *s == StepStatus::Succeeded) {
                TaskState::Success
            } else {
                TaskState::Failure
            };
            actions.push(RunAction::Finish(self.state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::application::Application;
    use serde_json::json;

    /// The graph of an application document (named "a").
    fn graph_of(mut doc: serde_json::Value) -> Vec<GraphStep> {
        doc["name"] = json!("a");
        graph(&Application::validate(doc).unwrap().steps)
    }

    fn failed(step: usize, attempt: u32) -> RunEvent {
        RunEvent::StepFailed {
            step,
            attempt,
            at_ms: 1000,
            seed: 0,
        }
    }

    fn chain3() -> Vec<GraphStep> {
        graph_of(json!({"steps": [
            {"name": "A", "file": "F", "output_to": ["B"]},
            {"name": "B", "file": "F", "output_to": ["C"]},
            {"name": "C", "file": "F"}]}))
    }

    #[test]
    fn a_chain_runs_in_order() {
        let (mut run, actions) = Run::start(chain3());
        assert_eq!(actions, vec![RunAction::Queue(0)]);
        assert_eq!(run.apply(RunEvent::StepStarted(0)), vec![]);
        assert_eq!(run.state, TaskState::Started);
        assert_eq!(run.apply(RunEvent::StepSucceeded(0)), vec![RunAction::Queue(1)]);
        assert_eq!(run.apply(RunEvent::StepSucceeded(1)), vec![RunAction::Queue(2)]);
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(2)),
            vec![RunAction::Finish(TaskState::Success)]
        );
    }

    #[test]
    fn fan_in_waits_for_every_upstream_in_application_order() {
        let g = graph_of(json!({"steps": [
            {"name": "A", "file": "F", "output_to": ["J"]},
            {"name": "B", "file": "F", "output_to": ["J"]},
            {"name": "J", "file": "F", "data_from": ["C"]},
            {"name": "C", "file": "F"}]}));
        assert_eq!(g[2].upstream, vec![0, 1, 3], "positions follow application order");
        let (mut run, actions) = Run::start(g);
        assert_eq!(
            actions,
            vec![RunAction::Queue(0), RunAction::Queue(1), RunAction::Queue(3)]
        );
        assert_eq!(run.apply(RunEvent::StepSucceeded(3)), vec![]);
        assert_eq!(run.apply(RunEvent::StepSucceeded(0)), vec![]);
        assert_eq!(run.apply(RunEvent::StepSucceeded(1)), vec![RunAction::Queue(2)]);
    }

    #[test]
    fn failure_stops_downstream_but_not_unrelated_branches() {
        let g = graph_of(json!({"steps": [
            {"name": "A", "file": "F", "output_to": ["B"]},
            {"name": "B", "file": "F", "output_to": ["C"]},
            {"name": "C", "file": "F"},
            {"name": "X", "file": "F", "output_to": ["Y"]},
            {"name": "Y", "file": "F"}]}));
        let (mut run, _) = Run::start(g);
        let actions = run.apply(failed(0, 1));
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert!(actions.iter().all(|a| matches!(a, RunAction::Cancel { .. })));
        assert_eq!(run.status[1], StepStatus::Skipped);
        assert_eq!(run.status[2], StepStatus::Skipped);
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(3)),
            vec![RunAction::Queue(4)],
            "other branch goes on"
        );
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(4)),
            vec![RunAction::Finish(TaskState::Failure)]
        );
    }

    #[test]
    fn retries_until_the_limit_with_backoff() {
        let g =
            graph_of(json!({"steps": [{"name": "A", "file": "F", "retry_max": 2, "retry_backoff": true}]}));
        let (mut run, _) = Run::start(g);
        assert_eq!(
            run.apply(failed(0, 1)),
            vec![RunAction::Retry { step: 0, at_ms: 2000 }]
        );
        assert_eq!(
            run.apply(failed(0, 2)),
            vec![RunAction::Retry { step: 0, at_ms: 3000 }]
        );
        assert_eq!(
            run.apply(failed(0, 3)),
            vec![RunAction::Finish(TaskState::Failure)]
        );
    }

    #[test]
    fn success_after_a_retry_finishes_the_run() {
        let g =
            graph_of(json!({"steps": [{"name": "A", "file": "F", "retry_max": 1, "retry_countdown": 5}]}));
        let (mut run, _) = Run::start(g);
        assert_eq!(
            run.apply(failed(0, 1)),
            vec![RunAction::Retry { step: 0, at_ms: 6000 }]
        );
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(0)),
            vec![RunAction::Finish(TaskState::Success)]
        );
    }

    #[test]
    fn revoke_cancels_what_is_left_and_is_final() {
        let (mut run, _) = Run::start(chain3());
        run.apply(RunEvent::StepSucceeded(0));
        let actions = run.apply(RunEvent::Revoked);
        assert_eq!(actions.len(), 3, "{actions:?}");
        assert_eq!(actions[2], RunAction::Finish(TaskState::Revoked));
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(1)),
            vec![],
            "late outcomes change nothing"
        );
        assert_eq!(run.state, TaskState::Revoked);
    }

    #[test]
    fn a_graph_at_the_default_limits_starts_with_every_edge_in_place() {
        use crate::model::application::{fixtures, AppLimits};
        use std::collections::BTreeSet;
        let limits = AppLimits::default();
        let (doc, edges) = fixtures::big_app(limits.max_steps, limits.max_edges);
        let app = Application::validate(doc).unwrap();
        let g = graph(&app.steps);
        assert_eq!(g.len(), 2000);
        let mut upstream = vec![BTreeSet::new(); g.len()];
        let mut downstream = vec![BTreeSet::new(); g.len()];
        for (from, to) in edges {
            downstream[from].insert(to);
            upstream[to].insert(from);
        }
        for (i, step) in g.iter().enumerate() {
            assert_eq!(step.name, format!("S{i}"));
            let up: Vec<usize> = upstream[i].iter().copied().collect();
            let down: Vec<usize> = downstream[i].iter().copied().collect();
            assert_eq!(step.upstream, up, "upstream of S{i}");
            assert_eq!(step.downstream, down, "downstream of S{i}");
        }
        let (run, actions) = Run::start(g);
        // Only S0 has no upstream step: every other step has one at gap 1.
        assert_eq!(actions, vec![RunAction::Queue(0)]);
        assert_eq!(run.status[0], StepStatus::Queued);
        assert!(run.status[1..].iter().all(|s| *s == StepStatus::Waiting));
        assert_eq!(run.state, TaskState::Pending);
        assert_eq!(run.ready_after(0), vec![1]);
    }

    #[test]
    fn duplicate_outcomes_are_ignored() {
        let (mut run, _) = Run::start(chain3());
        assert_eq!(run.apply(RunEvent::StepSucceeded(0)), vec![RunAction::Queue(1)]);
        assert_eq!(run.apply(RunEvent::StepSucceeded(0)), vec![]);
        assert_eq!(
            run.apply(RunEvent::StepSucceeded(2)),
            vec![],
            "C is not ready yet"
        );
    }
}
