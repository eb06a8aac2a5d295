//! The life of one step task: PENDING → STARTED (attempt n) → SUCCESS or
//! FAILURE, or REVOKED at any point before the end.
//!
//! **Invariant:** an event about an attempt other than the current one is
//! ignored, so a late answer from a superseded attempt (a worker that was
//! presumed dead, a runner killed by revocation) can never change the outcome.

use serde::{Deserialize, Serialize};

use crate::model::task::{Attempt, LogLine, Outcome, StepTask, TaskState};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum TaskEvent {
    /// Attempt `attempt` began on `worker`. Allowed from PENDING/RETRY, and
    /// from STARTED when the previous attempt is presumed lost (re-dispatch
    /// after a restart); `attempt` must be the next number.
    Started {
        attempt: u32,
        worker: String,
        at_ms: u64,
    },
    Finished {
        attempt: u32,
        /// Set when the start of this attempt was not recorded on its own:
        /// a step that finishes quickly records start and outcome in one
        /// entry (one durable write per step on the critical path).
        started: Option<StartInfo>,
        outcome: Outcome,
        logs: Vec<LogLine>,
        at_ms: u64,
        /// Random value chosen by the proposer, for retry jitter.
        seed: u64,
    },
    Revoked {
        at_ms: u64,
        reason: Option<String>,
    },
    /// Records the running attempt `attempt` logged, shipped while it runs
    /// (its last records travel with its outcome), so every node shows them
    /// and they outlive a revocation. Appended after the records before.
    Logged {
        attempt: u32,
        lines: Vec<LogLine>,
    },
}

/// The start of an attempt, carried by its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartInfo {
    pub worker: String,
    pub at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Changed,
    /// The event did not apply; the reason says why (for logs and tests).
    Ignored(String),
}

/// Why `event` cannot apply to `task`, if it cannot.
pub fn rejection(task: &StepTask, event: &TaskEvent) -> Option<String> {
    if task.state.is_terminal() {
        return Some(format!("task is already {}", task.state.as_str()));
    }
    match event {
        TaskEvent::Started { attempt, .. } if *attempt != task.attempt + 1 => Some(format!(
            "attempt {attempt} is not the next attempt (current {})",
            task.attempt
        )),
        TaskEvent::Finished {
            attempt,
            started: Some(_),
            ..
        } if *attempt != task.attempt + 1 => Some(format!(
            "attempt {attempt} is not the next attempt (current {})",
            task.attempt
        )),
        TaskEvent::Finished {
            attempt,
            started: None,
            ..
        } if *attempt != task.attempt || task.state != TaskState::Started => Some(format!(
            "outcome of attempt {attempt} is stale (current attempt {}, {})",
            task.attempt,
            task.state.as_str()
        )),
        TaskEvent::Logged { attempt, .. } if *attempt != task.attempt || task.state != TaskState::Started => {
            Some(format!(
                "log records of attempt {attempt} are stale (current attempt {}, {})",
                task.attempt,
                task.state.as_str()
            ))
        }
        _ => None,
    }
}

pub fn apply(task: &mut StepTask, event: TaskEvent) -> Applied {
    apply_with_retry(task, &event, None)
}

/// Applies an event; a failed attempt with `retry_at_ms` set puts the task in
/// RETRY (it runs again at that time) instead of FAILURE.
///
/// The event is borrowed: the task keeps only the size of its logs and
/// result, whose data the caller stores (`store::content`).
pub fn apply_with_retry(task: &mut StepTask, event: &TaskEvent, retry_at_ms: Option<u64>) -> Applied {
    if let Some(reason) = rejection(task, event) {
        return Applied::Ignored(reason);
    }
    match *event {
        TaskEvent::Started {
            attempt,
            ref worker,
            at_ms,
        } => {
            if let Some(prev) = task.attempts.last_mut() {
                if prev.end_ms.is_none() {
                    prev.end_ms = Some(at_ms);
                    prev.state = TaskState::Failure;
                    prev.error = Some("superseded: the attempt was presumed lost and started again".into());
                }
            }
            task.attempt = attempt;
            task.state = TaskState::Started;
            task.retry_at_ms = None;
            task.attempts.push(Attempt {
                number: attempt,
                worker: worker.clone(),
                start_ms: at_ms,
                end_ms: None,
                state: TaskState::Started,
                error: None,
            });
        }
        TaskEvent::Finished {
            attempt,
            ref started,
            ref outcome,
            ref logs,
            at_ms,
            ..
        } => {
            if let Some(s) = started {
                apply_with_retry(
                    task,
                    &TaskEvent::Started {
                        attempt,
                        worker: s.worker.clone(),
                        at_ms: s.at_ms,
                    },
                    None,
                );
            }
            let (state, error) = match outcome {
                Outcome::Success { .. } => (TaskState::Success, None),
                Outcome::Failure { error, .. } => (TaskState::Failure, Some(error.clone())),
            };
            if let Some(a) = task.attempts.last_mut() {
                a.end_ms = Some(at_ms);
                a.state = state;
                a.error = error;
            }
            task.log_lines += logs.len() as u64;
            task.log_bytes += crate::model::task_log::logs_cost(logs);
            task.outcome = Some(outcome.kept());
            match (state, retry_at_ms) {
                (TaskState::Failure, Some(at)) => {
                    task.state = TaskState::Retry;
                    task.retry_at_ms = Some(at);
                }
                _ => {
                    task.state = state;
                    task.end_ms = Some(at_ms);
                }
            }
        }
        TaskEvent::Revoked { at_ms, ref reason } => {
            if let Some(a) = task.attempts.last_mut() {
                if a.end_ms.is_none() {
                    a.end_ms = Some(at_ms);
                    a.state = TaskState::Revoked;
                }
            }
            task.state = TaskState::Revoked;
            task.end_ms = Some(at_ms);
            task.retry_at_ms = None;
            task.revoke_reason = reason.clone();
        }
        TaskEvent::Logged { ref lines, .. } => {
            task.log_lines += lines.len() as u64;
            task.log_bytes += crate::model::task_log::logs_cost(lines);
        }
    }
    Applied::Changed
}

/// An outcome event for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn finished_for_test(attempt: u32, ok: bool, at_ms: u64) -> TaskEvent {
    TaskEvent::Finished {
        attempt,
        started: None,
        outcome: if ok {
            Outcome::Success {
                json: "1".into(),
                pickle: None,
            }
        } else {
            Outcome::Failure {
                error: "boom".into(),
                traceback: None,
                saved: None,
            }
        },
        logs: vec![],
        at_ms,
        seed: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::task::TaskSpec;

    fn task() -> StepTask {
        StepTask::new(TaskSpec {
            id: "t".into(),
            step_name: "S".into(),
            class_name: "S".into(),
            params: Default::default(),
            queue: "default".into(),
            timeout_ms: None,
            log_level: is_proto::LogLevel::RUN_DEFAULT,
            created_ms: 0,
            run: None,
        })
    }

    fn start(n: u32) -> TaskEvent {
        TaskEvent::Started {
            attempt: n,
            worker: format!("w{n}"),
            at_ms: n as u64 * 10,
        }
    }

    fn finish(n: u32, ok: bool) -> TaskEvent {
        finished_for_test(n, ok, 99)
    }

    #[test]
    fn runs_to_success() {
        let mut t = task();
        assert_eq!(apply(&mut t, start(1)), Applied::Changed);
        assert_eq!(t.state, TaskState::Started);
        assert_eq!(apply(&mut t, finish(1, true)), Applied::Changed);
        assert_eq!(t.state, TaskState::Success);
        assert_eq!(t.attempts[0].state, TaskState::Success);
        assert_eq!(t.end_ms, Some(99));
    }

    #[test]
    fn outcome_of_a_superseded_attempt_is_ignored() {
        let mut t = task();
        apply(&mut t, start(1));
        // The node restarted and dispatched again: attempt 2 supersedes 1.
        assert_eq!(apply(&mut t, start(2)), Applied::Changed);
        assert_eq!(t.attempts[0].state, TaskState::Failure);
        assert!(matches!(apply(&mut t, finish(1, true)), Applied::Ignored(_)));
        assert_eq!(t.state, TaskState::Started);
        assert_eq!(apply(&mut t, finish(2, false)), Applied::Changed);
        assert_eq!(t.state, TaskState::Failure);
    }

    #[test]
    fn attempts_must_be_consecutive() {
        let mut t = task();
        assert!(matches!(apply(&mut t, start(2)), Applied::Ignored(_)));
        assert!(
            matches!(apply(&mut t, finish(1, true)), Applied::Ignored(_)),
            "not started"
        );
    }

    #[test]
    fn a_failed_attempt_with_a_retry_time_waits_in_retry() {
        let mut t = task();
        apply(&mut t, start(1));
        assert_eq!(
            apply_with_retry(&mut t, &finish(1, false), Some(500)),
            Applied::Changed
        );
        assert_eq!(t.state, TaskState::Retry);
        assert_eq!(t.retry_at_ms, Some(500));
        assert_eq!(t.attempts[0].error.as_deref(), Some("boom"));
        assert_eq!(apply(&mut t, start(2)), Applied::Changed);
        assert_eq!(apply(&mut t, finish(2, true)), Applied::Changed);
        assert_eq!(t.state, TaskState::Success);
        assert_eq!(t.attempts.len(), 2);
    }

    #[test]
    fn an_outcome_can_carry_its_start() {
        let mut t = task();
        let mut ev = finish(1, true);
        if let TaskEvent::Finished { started, .. } = &mut ev {
            *started = Some(StartInfo {
                worker: "w".into(),
                at_ms: 7,
            });
        }
        assert_eq!(apply(&mut t, ev.clone()), Applied::Changed);
        assert_eq!(t.state, TaskState::Success);
        assert_eq!((t.attempt, t.attempts[0].start_ms), (1, 7));
        assert!(matches!(apply(&mut t, ev), Applied::Ignored(_)), "applies once");
    }

    #[test]
    fn revoke_is_final() {
        let mut t = task();
        apply(&mut t, start(1));
        assert_eq!(
            apply(
                &mut t,
                TaskEvent::Revoked {
                    at_ms: 5,
                    reason: None
                }
            ),
            Applied::Changed
        );
        assert_eq!(t.state, TaskState::Revoked);
        assert_eq!(t.attempts[0].state, TaskState::Revoked);
        assert!(matches!(apply(&mut t, finish(1, true)), Applied::Ignored(_)));
        assert!(matches!(apply(&mut t, start(2)), Applied::Ignored(_)));
        assert!(matches!(
            apply(
                &mut t,
                TaskEvent::Revoked {
                    at_ms: 6,
                    reason: None
                }
            ),
            Applied::Ignored(_)
        ));
    }
}
