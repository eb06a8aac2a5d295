//! Step tasks for people: the lines `iscli step run` prints while and after
//! following a task, the task sheet of `iscli task show`, the logs of
//! `iscli task logs` and what `iscli task revoke` says.

use is_proto::json::from_proto;
use is_proto::v1::any_task::Kind;
use is_proto::v1::{TaskState, TaskStatus};
use serde_json::Value;

use super::fields::or_dash;
use super::logs::{log_line, log_lines};
use super::pretty;
use super::states::{is_final, state_text};
use super::table::table;
use super::time::{clock, datetime, duration};

/// The first line of `iscli step run`.
pub(crate) fn task_started(step: &str, id: &str) -> String {
    format!("started step {step} as task {id}")
}

/// What `iscli step run` prints when its wait ran out.
pub(crate) fn still_running(id: &str) -> String {
    format!("still running: task {id} (see: iscli task show {id})")
}

/// A state change as it happens: `state: STARTED (attempt 1 on node1/worker-0)`.
/// Attempt 0 (not started yet) and an unknown worker are left out.
pub(crate) fn state_line(state: TaskState, attempt: u32, worker: Option<&str>) -> String {
    let state = super::painted_state(state);
    let worker = worker.filter(|w| !w.is_empty());
    match (attempt, worker) {
        (0, _) => format!("state: {state}"),
        (n, Some(w)) => format!("state: {state} (attempt {n} on {w})"),
        (n, None) => format!("state: {state} (attempt {n})"),
    }
}

/// The logs of a task status (`iscli task logs` without --follow).
pub(crate) fn task_logs(status: &TaskStatus) -> String {
    if !status.logs.is_empty() {
        return log_lines(&status.logs);
    }
    super::logs::no_log_lines(&status.id, is_final(status.state()))
}

/// How a finished step came out: the final state line, then the result
/// (pretty JSON) or the error line and the traceback.
pub(crate) fn task_outcome(status: &TaskStatus) -> String {
    let summary = state_summary(status);
    let notes = &summary[state_text(status.state()).len()..];
    let mut out = format!("state: {}{notes}\n", super::painted_state(status.state()));
    if status.state() == TaskState::Success {
        out.push_str(&labelled_json("result", status.result.as_ref()));
    }
    push_error_and_traceback(status, "error:", "traceback:", &mut out);
    out
}

/// A task for people (`iscli task show`).
pub(crate) fn task_sheet(status: &TaskStatus) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<11}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Task", status.id.clone());
    let name = &status.name;
    let class = &status.step;
    if class.is_empty() || class == name {
        field("Step", name.clone());
    } else {
        field("Step", format!("{name} (class {class})"));
    }
    let state = status.state();
    field("State", state_text(state).to_string());
    field("Attempt", status.attempt.to_string());
    field("Worker", status.worker.clone().unwrap_or_default());
    field("Queue", status.queue.clone());
    field("Started", status.start_time.map(datetime).unwrap_or_default());
    field("Ended", ended(status.start_time, status.end_time));
    if state == TaskState::Success {
        out.push_str(&labelled_json("Result", status.result.as_ref()));
    }
    push_error_and_traceback(status, "Error:    ", "Traceback:", &mut out);
    out.push_str(&attempts_section(status));

    if status.logs.is_empty() {
        if is_final(state) {
            out.push_str("Logs:      (none)\n");
        } else {
            out.push_str(&format!(
                "Logs:      (none yet; follow them: iscli task logs {} --follow)\n",
                status.id
            ));
        }
    } else {
        out.push_str("Logs:\n");
        for log in &status.logs {
            out.push_str(&format!("  {}\n", log_line(log)));
        }
    }
    out
}

/// The `Ended:` field of a sheet: the end time and how long it took.
pub(crate) fn ended(start: Option<f64>, end: Option<f64>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => format!("{} (took {})", datetime(e), duration(e - s)),
        (None, Some(e)) => datetime(e),
        _ => String::new(),
    }
}

/// The table of a task's attempts, only when it was tried more than once
/// (one attempt says nothing the sheet does not).
fn attempts_section(status: &TaskStatus) -> String {
    if status.attempts.len() <= 1 {
        return String::new();
    }
    let rows: Vec<[String; 6]> = status
        .attempts
        .iter()
        .map(|a| {
            [
                a.attempt.to_string(),
                or_dash(a.worker.clone()),
                state_text(a.state()).to_string(),
                clock(a.start_time),
                a.end_time.map_or_else(|| "-".into(), clock),
                or_dash(a.error.clone().unwrap_or_default()),
            ]
        })
        .collect();
    let headers = ["ATTEMPT", "WORKER", "STATE", "STARTED", "ENDED", "ERROR"];
    let mut out = "Attempts:\n".to_string();
    for line in table(&headers, &rows).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// What `iscli task revoke` prints for the task or run as revoking it left
/// it; `already_ended` when it had ended before the request (so revoking
/// changed nothing).
pub(crate) fn revoked(status: &Kind, already_ended: bool) -> String {
    let (noun, id, state, what) = match status {
        Kind::Run(run) => (
            "run",
            &run.id,
            run.state(),
            format!("application {}", or_dash(run.app_name.clone())),
        ),
        Kind::Task(task) => (
            "task",
            &task.id,
            task.state(),
            format!("step {}", or_dash(task.name.clone())),
        ),
    };
    let shown = state_text(state);
    if already_ended {
        return format!("{noun} {id} had already ended ({shown}); nothing to revoke");
    }
    match state {
        TaskState::Revoked => format!("revoked {noun} {id} ({what})"),
        // It ended on its own while the request was under way.
        s if is_final(s) => format!("{noun} {id} ended ({shown}) before it could be revoked"),
        _ => format!("asked to revoke {noun} {id}; its state is {shown}"),
    }
}

/// `SUCCESS (attempt 1 on node1/worker-0, took 0.42 s)`.
fn state_summary(status: &TaskStatus) -> String {
    let mut notes = Vec::new();
    let attempt = status.attempt;
    if attempt > 0 {
        match status.worker.as_deref().filter(|w| !w.is_empty()) {
            Some(worker) => notes.push(format!("attempt {attempt} on {worker}")),
            None => notes.push(format!("attempt {attempt}")),
        }
    }
    if let (Some(s), Some(e)) = (status.start_time, status.end_time) {
        notes.push(format!("took {}", duration(e - s)));
    }
    let state = state_text(status.state());
    if notes.is_empty() {
        state.to_string()
    } else {
        format!("{state} ({})", notes.join(", "))
    }
}

/// `label: value` when the pretty JSON is one line, else `label:` and the
/// JSON below it; `(none)` for null or missing.
fn labelled_json(label: &str, value: Option<&is_proto::prost_types::Value>) -> String {
    match value.map(from_proto) {
        None | Some(Value::Null) => format!("{label}: (none)\n"),
        Some(v) => {
            let text = pretty(&v);
            if text.contains('\n') {
                format!("{label}:\n{text}\n")
            } else {
                format!("{label}: {text}\n")
            }
        }
    }
}

/// The error line, then the traceback unless it only repeats the error.
fn push_error_and_traceback(status: &TaskStatus, error_label: &str, tb_label: &str, out: &mut String) {
    let error = status.error.as_deref().unwrap_or_default();
    if !error.is_empty() {
        out.push_str(&format!("{error_label} {error}\n"));
    }
    let traceback = status.traceback.as_deref().unwrap_or_default();
    if !traceback.trim().is_empty() && traceback.trim() != error.trim() {
        out.push_str(tb_label);
        out.push('\n');
        out.push_str(traceback);
        if !traceback.ends_with('\n') {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{failure_status, success_status};
    use is_proto::json::to_proto;
    use is_proto::v1::{Attempt, RunStatus};
    use serde_json::json;

    // The renderers as a pipe gets them, without colour codes (the state's
    // colour is tested in `state_lines`).
    fn state_line(state: TaskState, attempt: u32, worker: Option<&str>) -> String {
        crate::output::plain(&super::state_line(state, attempt, worker))
    }

    fn task_outcome(status: &TaskStatus) -> String {
        crate::output::plain(&super::task_outcome(status))
    }

    #[test]
    fn state_lines() {
        assert_eq!(
            super::state_line(TaskState::Success, 0, None),
            "state: \x1b[32mSUCCESS\x1b[0m"
        );
        assert_eq!(
            state_line(TaskState::Started, 1, Some("node1/worker-0")),
            "state: STARTED (attempt 1 on node1/worker-0)"
        );
        assert_eq!(state_line(TaskState::Retry, 2, None), "state: RETRY (attempt 2)");
        assert_eq!(
            state_line(TaskState::Started, 1, Some("")),
            "state: STARTED (attempt 1)"
        );
        assert_eq!(state_line(TaskState::Pending, 0, Some("w")), "state: PENDING");
        assert_eq!(
            still_running("t-9"),
            "still running: task t-9 (see: iscli task show t-9)"
        );
        assert_eq!(task_started("Greet", "t-1"), "started step Greet as task t-1");
    }

    #[test]
    fn outcome_of_a_success_shows_the_result() {
        assert_eq!(
            task_outcome(&success_status()),
            "state: SUCCESS (attempt 1 on node1/worker-0, took 0.50 s)\n\
             result:\n{\n  \"greeting\": \"hello world\"\n}\n"
        );
        let mut v = success_status();
        v.result = Some(to_proto(&json!(5)));
        assert!(task_outcome(&v).ends_with("\nresult: 5\n"));
        v.result = Some(to_proto(&Value::Null));
        assert!(task_outcome(&v).ends_with("\nresult: (none)\n"));
        v.result = None;
        assert!(task_outcome(&v).ends_with("\nresult: (none)\n"));
    }

    #[test]
    fn outcome_of_a_failure_shows_error_and_traceback() {
        let text = task_outcome(&failure_status());
        assert_eq!(
            text,
            "state: FAILURE (attempt 1 on node1/worker-1, took 1.00 s)\n\
             error: ValueError: the value is wrong\n\
             traceback:\n\
             Traceback (most recent call last):\n  File \"Boom.py\", line 9, in execute\n\
             ValueError: the value is wrong\n"
        );
        // A traceback that only repeats the error is not printed twice.
        let mut v = failure_status();
        v.traceback = v.error.clone();
        assert!(!task_outcome(&v).contains("traceback"));
        // Revoked before it started: just the state.
        let revoked = TaskStatus {
            state: TaskState::Revoked as i32,
            ..Default::default()
        };
        assert_eq!(task_outcome(&revoked), "state: REVOKED\n");
    }

    #[test]
    fn task_sheet_shows_everything() {
        let text = task_sheet(&success_status());
        assert_eq!(
            text,
            "Task:      t-1\n\
             Step:      Greet\n\
             State:     SUCCESS\n\
             Attempt:   1\n\
             Worker:    node1/worker-0\n\
             Queue:     default\n\
             Started:   2023-11-14 22:13:20 UTC\n\
             Ended:     2023-11-14 22:13:20 UTC (took 0.50 s)\n\
             Result:\n{\n  \"greeting\": \"hello world\"\n}\n\
             Logs:\n  22:13:20 INFO Greet: hello world\n"
        );
        let text = task_sheet(&failure_status());
        assert!(
            text.contains("Error:     ValueError: the value is wrong\nTraceback:\nTraceback (most recent"),
            "{text}"
        );
        assert!(text.contains("Logs:      (none)\n"), "{text}");
        assert!(!text.contains("Result"), "{text}");

        // Running, retried once, class differs from name.
        let v = TaskStatus {
            id: "t-3".into(),
            name: "job".into(),
            step: "Job".into(),
            state: TaskState::Started as i32,
            attempt: 2,
            start_time: Some(1_700_000_000.0),
            worker: Some("n1/w-1".into()),
            attempts: vec![
                Attempt {
                    attempt: 1,
                    worker: "n1/w-0".into(),
                    start_time: 1_700_000_000.0,
                    end_time: Some(1_700_000_001.0),
                    state: TaskState::Retry as i32,
                    error: Some("runner died".into()),
                },
                Attempt {
                    attempt: 2,
                    worker: "n1/w-1".into(),
                    start_time: 1_700_000_002.0,
                    end_time: None,
                    state: TaskState::Started as i32,
                    error: None,
                },
            ],
            ..Default::default()
        };
        let text = task_sheet(&v);
        assert!(text.contains("Step:      job (class Job)\n"), "{text}");
        assert!(text.contains("Ended:     -\n"), "{text}");
        assert!(
            text.contains("Attempts:\n  ATTEMPT  WORKER  STATE    STARTED   ENDED     ERROR\n  1        n1/w-0  RETRY    22:13:20  22:13:21  runner died\n  2        n1/w-1  STARTED  22:13:22  -         -\n"),
            "{text}"
        );
        assert!(
            text.contains("(none yet; follow them: iscli task logs t-3 --follow)"),
            "{text}"
        );
    }

    #[test]
    fn task_logs_and_revoke_lines() {
        assert_eq!(task_logs(&success_status()), "22:13:20 INFO Greet: hello world\n");
        assert_eq!(task_logs(&failure_status()), "(no log lines)");
        let task = |state: TaskState| TaskStatus {
            id: "t".into(),
            name: "Slow".into(),
            state: state as i32,
            ..Default::default()
        };
        assert!(task_logs(&task(TaskState::Pending)).contains("iscli task logs t --follow"));
        let revoked_task = Kind::Task(task(TaskState::Revoked));
        assert_eq!(revoked(&revoked_task, false), "revoked task t (step Slow)");
        assert_eq!(
            revoked(&revoked_task, true),
            "task t had already ended (REVOKED); nothing to revoke"
        );
        assert_eq!(
            revoked(&Kind::Task(success_status()), false),
            "task t-1 ended (SUCCESS) before it could be revoked"
        );
        assert_eq!(
            revoked(&Kind::Task(task(TaskState::Started)), false),
            "asked to revoke task t; its state is STARTED"
        );
        let run = Kind::Run(RunStatus {
            id: "isapp-1".into(),
            app_name: "hello".into(),
            state: TaskState::Revoked as i32,
            ..Default::default()
        });
        assert_eq!(revoked(&run, false), "revoked run isapp-1 (application hello)");
        assert_eq!(
            revoked(&run, true),
            "run isapp-1 had already ended (REVOKED); nothing to revoke"
        );
    }
}
