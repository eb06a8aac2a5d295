//! The decisions of following a task's events, without the IO: what an
//! event means for what is printed, when following is over, and what the
//! node's closing the stream early means. `task.rs` and `runs.rs` carry
//! them out.

use is_proto::v1::any_task::Kind;
use is_proto::v1::task_event::Event;
use is_proto::v1::{LogEvent, LogRecord, TaskEvent, TaskState, TaskStatus};

use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::output;

/// How following a task (`S` = `TaskStatus`) or a run (`RunStatus`) ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Followed<S> {
    /// It finished; its final status.
    Ended(S),
    /// The deadline passed first; the last state seen, if any was.
    StillRunning(Option<TaskState>),
}

/// The node closed the event stream without the end event (it is shutting
/// down, or the task expired), and `status`, in `state`, is what asking
/// once more answered: ended when the state is final, else an error that
/// says where to look (`noun` is "task" or "run").
pub(crate) fn stream_closed<S>(
    noun: &str,
    id: &str,
    state: TaskState,
    status: S,
) -> Result<Followed<S>, CliError> {
    if output::is_final(state) {
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
pub(crate) enum Reaction {
    /// The task is in a new state. `line` is whether to print it (the
    /// final state is part of the outcome printed at the end, so it is
    /// not); `ask_worker` whether its line needs the worker, which only the
    /// task's status names.
    State {
        state: TaskState,
        attempt: u32,
        line: bool,
        ask_worker: bool,
    },
    /// A log record to print (and note as printed).
    Log(LogRecord),
    /// The task ended; its final status (None when the event lacks it).
    End(Option<Box<TaskStatus>>),
    /// Nothing to do: a log line not shown, or an event this iscli does
    /// not know.
    Ignore,
}

/// What `event` calls for when following a task shown as `show` says.
pub(crate) fn task_event(event: TaskEvent, show: Show) -> Reaction {
    match event.event {
        Some(Event::State(change)) => {
            let state = change.state();
            // A task is PENDING until it starts: nothing to tell.
            let line = show == Show::Progress && !output::is_final(state) && state != TaskState::Pending;
            Reaction::State {
                ask_worker: line && state == TaskState::Started,
                attempt: change.attempt,
                line,
                state,
            }
        }
        Some(Event::Log(LogEvent {
            record: Some(record), ..
        })) if show != Show::Nothing => Reaction::Log(record),
        Some(Event::End(end)) => Reaction::End(match end.status.and_then(|s| s.kind) {
            Some(Kind::Task(status)) => Some(Box::new(status)),
            _ => None,
        }),
        _ => Reaction::Ignore,
    }
}

/// Whether `task logs --follow` follows at all: only a task that has not
/// ended (is in `state`) has anything left to log.
pub(crate) fn follows_logs(follow: bool, state: TaskState) -> bool {
    follow && !output::is_final(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use is_proto::json::state_of;
    use is_proto::v1::{AnyTask, EndEvent, StateChange};

    fn state(name: &str, attempt: u32) -> TaskEvent {
        TaskEvent {
            event: Some(Event::State(StateChange {
                id: "t-1".into(),
                name: "S".into(),
                state: state_of(name).map_or(0, |s| s as i32),
                attempt,
                ..Default::default()
            })),
            ..Default::default()
        }
    }

    fn log(record: Option<LogRecord>) -> TaskEvent {
        TaskEvent {
            event: Some(Event::Log(LogEvent {
                id: "t-1".into(),
                name: "S".into(),
                record,
            })),
            ..Default::default()
        }
    }

    fn end(status: Option<AnyTask>) -> TaskEvent {
        TaskEvent {
            event: Some(Event::End(EndEvent { status })),
            ..Default::default()
        }
    }

    fn status(state: TaskState) -> TaskStatus {
        TaskStatus {
            id: "t-1".into(),
            state: state as i32,
            ..Default::default()
        }
    }

    #[test]
    fn progress_prints_every_state_but_the_final_one() {
        assert_eq!(
            task_event(state("STARTED", 1), Show::Progress),
            Reaction::State {
                state: TaskState::Started,
                attempt: 1,
                line: true,
                ask_worker: true
            }
        );
        assert_eq!(
            task_event(state("RETRY", 1), Show::Progress),
            Reaction::State {
                state: TaskState::Retry,
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
                    Reaction::State { line: false, .. }
                ),
                "{last}"
            );
        }
        // Following only the logs (or nothing) prints no state line, but
        // still learns the state.
        for show in [Show::Logs, Show::Nothing] {
            assert_eq!(
                task_event(state("STARTED", 2), show),
                Reaction::State {
                    state: TaskState::Started,
                    attempt: 2,
                    line: false,
                    ask_worker: false
                }
            );
        }
    }

    #[test]
    fn log_lines_are_printed_unless_nothing_is_shown() {
        let record = LogRecord {
            time: 1.0,
            message: "m".into(),
            ..Default::default()
        };
        assert_eq!(
            task_event(log(Some(record.clone())), Show::Progress),
            Reaction::Log(record.clone())
        );
        assert_eq!(
            task_event(log(Some(record.clone())), Show::Logs),
            Reaction::Log(record.clone())
        );
        assert_eq!(task_event(log(Some(record)), Show::Nothing), Reaction::Ignore);
        // An event without its record has nothing to print.
        assert_eq!(task_event(log(None), Show::Logs), Reaction::Ignore);
    }

    #[test]
    fn the_end_event_carries_the_final_status() {
        let done = status(TaskState::Success);
        let any = AnyTask {
            kind: Some(Kind::Task(done.clone())),
        };
        assert_eq!(
            task_event(end(Some(any)), Show::Nothing),
            Reaction::End(Some(Box::new(done)))
        );
        assert_eq!(task_event(end(None), Show::Logs), Reaction::End(None));
        assert_eq!(
            task_event(
                TaskEvent {
                    event: None,
                    ..Default::default()
                },
                Show::Progress
            ),
            Reaction::Ignore
        );
    }

    #[test]
    fn a_stream_closed_early_is_an_error_unless_the_task_ended() {
        let done = status(TaskState::Failure);
        assert_eq!(
            stream_closed("task", "t-1", TaskState::Failure, done.clone()).unwrap(),
            Followed::Ended(done)
        );
        let running = status(TaskState::Started);
        let err = stream_closed("run", "isapp-1", TaskState::Started, running).unwrap_err();
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
        assert!(follows_logs(true, TaskState::Started));
        assert!(follows_logs(true, TaskState::Pending));
        assert!(!follows_logs(true, TaskState::Success));
        assert!(!follows_logs(false, TaskState::Started));
    }
}
