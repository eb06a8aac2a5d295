//! Step tasks for people: the lines `iscli step run` prints while and after
//! following a task, the task sheet of `iscli task show`, the logs of
//! `iscli task logs` and what `iscli task revoke` says. Also which states
//! are final and which of them mean failure (the exit code follows them).

use serde_json::Value;

use super::fields::{number, or_dash, text};
use super::logs::{log_line, log_lines, logs_of};
use super::pretty;
use super::run::is_run;
use super::table::table;
use super::time::{clock, datetime, duration};

/// True for the states a task never leaves.
pub(crate) fn is_final_state(state: &str) -> bool {
    matches!(state, "SUCCESS" | "FAILURE" | "REVOKED")
}

/// True when a finished task did not do its job (the command exits 1).
pub(crate) fn is_failed_state(state: &str) -> bool {
    matches!(state, "FAILURE" | "REVOKED")
}

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
pub(crate) fn state_line(state: &str, attempt: u64, worker: Option<&str>) -> String {
    let worker = worker.filter(|w| !w.is_empty());
    match (attempt, worker) {
        (0, _) => format!("state: {state}"),
        (n, Some(w)) => format!("state: {state} (attempt {n} on {w})"),
        (n, None) => format!("state: {state} (attempt {n})"),
    }
}

/// The logs of a task status (`iscli task logs` without --follow).
pub(crate) fn task_logs(status: &Value) -> String {
    let logs = logs_of(status);
    if !logs.is_empty() {
        return log_lines(logs);
    }
    if is_final_state(&text(status, "state")) {
        "(no log lines)".to_string()
    } else {
        format!(
            "(no log lines yet; to print them as they are logged: iscli task logs {} --follow)",
            text(status, "id")
        )
    }
}

/// How a finished step came out: the final state line, then the result
/// (pretty JSON) or the error line and the traceback.
pub(crate) fn task_outcome(status: &Value) -> String {
    let mut out = format!("state: {}\n", state_summary(status));
    let state = text(status, "state");
    if state == "SUCCESS" {
        out.push_str(&labelled_json("result", status.get("result")));
    }
    push_error_and_traceback(status, "error:", "traceback:", &mut out);
    out
}

/// A task for people (`iscli task show`).
pub(crate) fn task_sheet(status: &Value) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<11}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Task", text(status, "id"));
    let name = text(status, "name");
    let class = text(status, "step");
    if class.is_empty() || class == name {
        field("Step", name);
    } else {
        field("Step", format!("{name} (class {class})"));
    }
    let state = text(status, "state");
    field("State", state.clone());
    field("Attempt", text(status, "attempt"));
    field("Worker", text(status, "worker"));
    field("Queue", text(status, "queue"));
    let start = number(status, "start_time");
    let end = number(status, "end_time");
    field("Started", start.map(datetime).unwrap_or_default());
    field("Ended", ended(start, end));
    if state == "SUCCESS" {
        out.push_str(&labelled_json("Result", status.get("result")));
    }
    push_error_and_traceback(status, "Error:    ", "Traceback:", &mut out);
    out.push_str(&attempts_section(status));

    let logs = logs_of(status);
    if logs.is_empty() {
        if is_final_state(&state) {
            out.push_str("Logs:      (none)\n");
        } else {
            out.push_str(&format!(
                "Logs:      (none yet; follow them: iscli task logs {} --follow)\n",
                text(status, "id")
            ));
        }
    } else {
        out.push_str("Logs:\n");
        for log in logs {
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
fn attempts_section(status: &Value) -> String {
    let attempts = status
        .get("attempts")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if attempts.len() <= 1 {
        return String::new();
    }
    let rows: Vec<[String; 6]> = attempts
        .iter()
        .map(|a| {
            [
                or_dash(text(a, "attempt")),
                or_dash(text(a, "worker")),
                or_dash(text(a, "state")),
                number(a, "start_time").map_or_else(|| "-".into(), clock),
                number(a, "end_time").map_or_else(|| "-".into(), clock),
                or_dash(text(a, "error")),
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

/// What `iscli task revoke` prints; `already_ended` when the task had
/// ended before the request (so revoking changed nothing).
pub(crate) fn revoked(status: &Value, already_ended: bool) -> String {
    let id = text(status, "id");
    let state = text(status, "state");
    let (noun, what) = if is_run(status) {
        (
            "run",
            format!("application {}", or_dash(text(status, "app_name"))),
        )
    } else {
        ("task", format!("step {}", or_dash(text(status, "name"))))
    };
    if already_ended {
        return format!("{noun} {id} had already ended ({state}); nothing to revoke");
    }
    match state.as_str() {
        "REVOKED" => format!("revoked {noun} {id} ({what})"),
        // It ended on its own while the request was under way.
        s if is_final_state(s) => format!("{noun} {id} ended ({s}) before it could be revoked"),
        s => format!(
            "asked to revoke {noun} {id}; its state is {}",
            or_dash(s.to_string())
        ),
    }
}

/// `SUCCESS (attempt 1 on node1/worker-0, took 0.42 s)`.
fn state_summary(status: &Value) -> String {
    let mut notes = Vec::new();
    let attempt = status.get("attempt").and_then(Value::as_u64).unwrap_or(0);
    if attempt > 0 {
        let worker = text(status, "worker");
        if worker.is_empty() {
            notes.push(format!("attempt {attempt}"));
        } else {
            notes.push(format!("attempt {attempt} on {worker}"));
        }
    }
    if let (Some(s), Some(e)) = (number(status, "start_time"), number(status, "end_time")) {
        notes.push(format!("took {}", duration(e - s)));
    }
    let state = or_dash(text(status, "state"));
    if notes.is_empty() {
        state
    } else {
        format!("{state} ({})", notes.join(", "))
    }
}

/// `label: value` when the pretty JSON is one line, else `label:` and the
/// JSON below it; `(none)` for null or missing.
fn labelled_json(label: &str, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => format!("{label}: (none)\n"),
        Some(v) => {
            let text = pretty(v);
            if text.contains('\n') {
                format!("{label}:\n{text}\n")
            } else {
                format!("{label}: {text}\n")
            }
        }
    }
}

/// The error line, then the traceback unless it only repeats the error.
fn push_error_and_traceback(status: &Value, error_label: &str, tb_label: &str, out: &mut String) {
    let error = text(status, "error");
    if !error.is_empty() {
        out.push_str(&format!("{error_label} {error}\n"));
    }
    let traceback = text(status, "traceback");
    if !traceback.trim().is_empty() && traceback.trim() != error.trim() {
        out.push_str(tb_label);
        out.push('\n');
        out.push_str(&traceback);
        if !traceback.ends_with('\n') {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{failure_status, success_status};
    use serde_json::json;

    #[test]
    fn state_lines() {
        assert_eq!(
            state_line("STARTED", 1, Some("node1/worker-0")),
            "state: STARTED (attempt 1 on node1/worker-0)"
        );
        assert_eq!(state_line("RETRY", 2, None), "state: RETRY (attempt 2)");
        assert_eq!(state_line("STARTED", 1, Some("")), "state: STARTED (attempt 1)");
        assert_eq!(state_line("PENDING", 0, Some("w")), "state: PENDING");
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
        v["result"] = json!(5);
        assert!(task_outcome(&v).ends_with("\nresult: 5\n"));
        v["result"] = Value::Null;
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
        v["traceback"] = v["error"].clone();
        assert!(!task_outcome(&v).contains("traceback"));
        // Revoked before it started: just the state.
        assert_eq!(
            task_outcome(&json!({"state": "REVOKED", "attempt": 0})),
            "state: REVOKED\n"
        );
        assert!(is_failed_state("FAILURE") && is_failed_state("REVOKED"));
        assert!(!is_failed_state("SUCCESS") && !is_final_state("RETRY"));
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
        let v = json!({"id": "t-3", "name": "job", "step": "Job", "state": "STARTED", "attempt": 2,
                       "start_time": 1_700_000_000.0, "end_time": null, "worker": "n1/w-1", "logs": [],
                       "attempts": [
                           {"attempt": 1, "worker": "n1/w-0", "start_time": 1_700_000_000.0,
                            "end_time": 1_700_000_001.0, "state": "RETRY", "error": "runner died"},
                           {"attempt": 2, "worker": "n1/w-1", "start_time": 1_700_000_002.0,
                            "end_time": null, "state": "STARTED", "error": null}]});
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
        assert!(task_logs(&json!({"id": "t", "state": "PENDING"})).contains("iscli task logs t --follow"));
        assert_eq!(
            revoked(&json!({"id": "t", "name": "Slow", "state": "REVOKED"}), false),
            "revoked task t (step Slow)"
        );
        assert_eq!(
            revoked(&json!({"id": "t", "name": "Slow", "state": "REVOKED"}), true),
            "task t had already ended (REVOKED); nothing to revoke"
        );
        assert_eq!(
            revoked(&success_status(), false),
            "task t-1 ended (SUCCESS) before it could be revoked"
        );
        assert_eq!(
            revoked(&json!({"id": "t", "name": "Slow", "state": "STARTED"}), false),
            "asked to revoke task t; its state is STARTED"
        );
    }
}
