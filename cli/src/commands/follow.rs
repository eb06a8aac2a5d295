//! The decisions of following a task's events, without the IO: what an
//! event means for what is printed, when following is over, and what the
//! node's closing the stream early means. `task.rs` and `runs.rs` carry
//! them out.

use serde_json::Value;

use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::output;

/// How following a task or a run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Followed {
    /// It finished; its final status.
    Ended(Value),
    /// The deadline passed first; the last state seen.
    StillRunning(String),
}

/// The node closed the event stream without the end event (it is shutting
/// down, or the task expired), and `status` is what asking once more
/// answered: ended when the status is final, else an error that says where
/// to look (`noun` is "task" or "run").
pub(crate) fn stream_closed(noun: &str, id: &str, status: Value) -> Result<Followed, CliError> {
    if output::is_final_state(&output::text(&status, "state")) {
        return Ok(Followed::Ended(status));
    }
    Err(CliError::Api(ApiError {
        kind: ApiErrorKind::Unavailable,
        error: format!(
            "the node stopped sending the events of {noun} {id} before it ended; \
             see: iscli task show {id}"
        ),
        details: Vec::new(),
    }))
}

/// What to print while following a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    /// State changes and log lines (`step run`).
    Progress,
    /// Log lines only (`task logs --follow`).
    Logs,
    /// Nothing (`--json` prints only the final document).
    Nothing,
}

/// What one event of a followed task calls for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TaskEvent {
    /// The task is in a new state. `line` is whether to print it (the
    /// final state is part of the outcome printed at the end, so it is
    /// not); `ask_worker` whether its line needs the worker, which only the
    /// task's status names.
    State {
        state: String,
        attempt: u64,
        line: bool,
        ask_worker: bool,
    },
    /// A log record to print (and note as printed).
    Log(Value),
    /// The task ended; its final status (null when the event lacks it).
    End(Value),
    /// Nothing to do: a log line not shown, or an event type this iscli
    /// does not know.
    Ignore,
}

/// What `event` calls for when following a task shown as `show` says.
pub(crate) fn task_event(event: Value, show: Show) -> TaskEvent {
    match event.get("type").and_then(Value::as_str) {
        Some("state") => {
            let state = output::text(&event, "state");
            let line = show == Show::Progress && !output::is_final_state(&state);
            TaskEvent::State {
                ask_worker: line && state == "STARTED",
                attempt: attempt_of(&event),
                line,
                state,
            }
        }
        Some("log") if show != Show::Nothing => TaskEvent::Log(event),
        Some("end") => TaskEvent::End(event.get("status").cloned().unwrap_or(Value::Null)),
        _ => TaskEvent::Ignore,
    }
}

/// The attempt an event or a status names (0: not started yet).
pub(crate) fn attempt_of(v: &Value) -> u64 {
    v.get("attempt").and_then(Value::as_u64).unwrap_or(0)
}

/// Whether `task logs --follow` follows at all: only a task that has not
/// ended has anything left to log.
pub(crate) fn follows_logs(follow: bool, status: &Value) -> bool {
    follow && !output::is_final_state(&output::text(status, "state"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(state: &str, attempt: u64) -> Value {
        json!({"type": "state", "id": "t-1", "state": state, "attempt": attempt})
    }

    #[test]
    fn progress_prints_every_state_but_the_final_one() {
        assert_eq!(
            task_event(state("STARTED", 1), Show::Progress),
            TaskEvent::State {
                state: "STARTED".into(),
                attempt: 1,
                line: true,
                ask_worker: true
            }
        );
        assert_eq!(
            task_event(state("RETRY", 1), Show::Progress),
            TaskEvent::State {
                state: "RETRY".into(),
                attempt: 1,
                line: true,
                ask_worker: false
            }
        );
        // The outcome says how it ended.
        for last in ["SUCCESS", "FAILURE", "REVOKED"] {
            assert!(
                matches!(
                    task_event(state(last, 1), Show::Progress),
                    TaskEvent::State { line: false, .. }
                ),
                "{last}"
            );
        }
        // Following only the logs (or nothing) prints no state line, but
        // still learns the state.
        for show in [Show::Logs, Show::Nothing] {
            assert_eq!(
                task_event(state("STARTED", 2), show),
                TaskEvent::State {
                    state: "STARTED".into(),
                    attempt: 2,
                    line: false,
                    ask_worker: false
                }
            );
        }
    }

    #[test]
    fn log_lines_are_printed_unless_nothing_is_shown() {
        let log = json!({"type": "log", "time": 1.0, "message": "m"});
        assert_eq!(
            task_event(log.clone(), Show::Progress),
            TaskEvent::Log(log.clone())
        );
        assert_eq!(task_event(log.clone(), Show::Logs), TaskEvent::Log(log.clone()));
        assert_eq!(task_event(log, Show::Nothing), TaskEvent::Ignore);
    }

    #[test]
    fn the_end_event_carries_the_final_status() {
        let end = json!({"type": "end", "status": {"id": "t-1", "state": "SUCCESS"}});
        assert_eq!(
            task_event(end, Show::Nothing),
            TaskEvent::End(json!({"id": "t-1", "state": "SUCCESS"}))
        );
        assert_eq!(
            task_event(json!({"type": "end"}), Show::Logs),
            TaskEvent::End(Value::Null)
        );
        assert_eq!(
            task_event(json!({"type": "new-kind"}), Show::Progress),
            TaskEvent::Ignore
        );
    }

    #[test]
    fn a_stream_closed_early_is_an_error_unless_the_task_ended() {
        let done = json!({"id": "t-1", "state": "FAILURE"});
        assert_eq!(
            stream_closed("task", "t-1", done.clone()).unwrap(),
            Followed::Ended(done)
        );
        let err = stream_closed("run", "isapp-1", json!({"state": "STARTED"})).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.is_fatal_for_batch());
        assert_eq!(
            err.headline(),
            "the node stopped sending the events of run isapp-1 before it ended; \
             see: iscli task show isapp-1"
        );
    }

    #[test]
    fn only_a_task_that_has_not_ended_is_followed() {
        assert!(follows_logs(true, &json!({"state": "STARTED"})));
        assert!(follows_logs(true, &json!({"state": "PENDING"})));
        assert!(!follows_logs(true, &json!({"state": "SUCCESS"})));
        assert!(!follows_logs(false, &json!({"state": "STARTED"})));
    }
}
