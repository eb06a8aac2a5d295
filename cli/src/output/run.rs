//! Application runs for people: the lines `iscli app run` and `iscli task
//! replay` print, the outcome of a run, the run sheet of `iscli task show
//! isapp-...` and the run list of `iscli task list`.

use serde_json::Value;

use super::fields::{items, number, or_dash, text};
use super::table::{aligned, table};
use super::task::{ended, is_final_state};
use super::time::{clock, datetime, duration};

/// True for the status of an application run (rather than of a step task).
pub(crate) fn is_run(status: &Value) -> bool {
    text(status, "id").starts_with("isapp-") || status.get("app_name").is_some()
}

/// The first line of `iscli app run`.
pub(crate) fn run_started(app: &str, id: &str) -> String {
    format!("started application {app} as run {id}")
}

/// The first line of `iscli task replay`.
pub(crate) fn run_replayed(of: &str, app: &str, id: &str) -> String {
    format!("replaying run {of}: started application {app} as run {id}")
}

/// What `iscli app run` prints when its wait ran out.
pub(crate) fn run_still_running(id: &str) -> String {
    format!("still running: {id} (see: iscli task show {id})")
}

/// A state change as it happens, when stdout is not a terminal: `noun`
/// is "step" or "application" (`step Fetch: STARTED (attempt 1)`). Attempt
/// 0 (not started yet) is left out.
pub(crate) fn change_line(noun: &str, name: &str, state: &str, attempt: u64) -> String {
    if attempt == 0 {
        format!("{noun} {name}: {state}")
    } else {
        format!("{noun} {name}: {state} (attempt {attempt})")
    }
}

/// A state with the attempt when the step was tried more than once:
/// `SUCCESS`, `STARTED (attempt 2)`.
pub(crate) fn state_with_attempt(state: &str, attempt: u64) -> String {
    if attempt > 1 {
        format!("{state} (attempt {attempt})")
    } else {
        state.to_string()
    }
}

/// The last non-blank line of a traceback (the exception and its message).
pub(crate) fn last_line(traceback: &str) -> String {
    traceback
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

/// The steps of a run status.
fn steps_of(status: &Value) -> &[Value] {
    status
        .get("steps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// How a finished (or followed) run came out: its state, then one line per
/// step with its state and, for a failed step, its traceback's last line.
pub(crate) fn run_outcome(status: &Value) -> String {
    let state = or_dash(text(status, "state"));
    let mut out = match (number(status, "start_time"), number(status, "end_time")) {
        (Some(s), Some(e)) => format!("state: {state} (took {})\n", duration(e - s)),
        _ => format!("state: {state}\n"),
    };
    let steps = steps_of(status);
    if steps.is_empty() {
        out.push_str("steps: (none)\n");
        return out;
    }
    out.push_str("steps:\n");
    let rows: Vec<Vec<String>> = steps
        .iter()
        .map(|step| {
            let state = text(step, "state");
            let attempt = step.get("attempt").and_then(Value::as_u64).unwrap_or(0);
            let note = if state == "FAILURE" {
                last_line(&text(step, "traceback"))
            } else {
                String::new()
            };
            vec![
                or_dash(text(step, "name")),
                or_dash(state_with_attempt(&state, attempt)),
                note,
            ]
        })
        .collect();
    out.push_str(&aligned(&rows, "  "));
    out
}

/// A run for people (`iscli task show isapp-...`, `iscli app logs`): its
/// application, state, options, times and a table of its steps (state,
/// attempt, task id, and what a step waits for or why it failed).
pub(crate) fn run_sheet(status: &Value) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<15}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Run", text(status, "id"));
    field("Application", text(status, "app_name"));
    field("State", text(status, "state"));
    field("Queue", text(status, "queue"));
    field("Configuration", text(status, "configuration"));
    field("Log level", text(status, "log_level"));
    field("Variables", variables(status.get("app_vars")));
    field("Triggered by", triggered_by(status.get("triggered_by")));
    field(
        "Created",
        number(status, "created_time").map(datetime).unwrap_or_default(),
    );
    let start = number(status, "start_time");
    let end = number(status, "end_time");
    field("Started", start.map(datetime).unwrap_or_default());
    field("Ended", ended(start, end));
    let steps = steps_of(status);
    if steps.is_empty() {
        out.push_str("Steps:         (none)\n");
        return out;
    }
    out.push_str("Steps:\n");
    let rows: Vec<[String; 5]> = steps
        .iter()
        .map(|step| {
            let state = text(step, "state");
            let note = step_note(step, &state);
            [
                or_dash(text(step, "name")),
                or_dash(state),
                or_dash(text(step, "attempt")),
                or_dash(text(step, "id")),
                note,
            ]
        })
        .collect();
    for line in table(&["STEP", "STATE", "ATTEMPT", "TASK", "NOTE"], &rows).lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// What a step of the run sheet waits for, why it failed, or when it is
/// tried again; empty when there is nothing to say.
fn step_note(step: &Value, state: &str) -> String {
    let waiting = text(step, "waiting_for");
    if !waiting.is_empty() {
        format!("waiting: {waiting}")
    } else if state == "FAILURE" {
        last_line(&text(step, "traceback"))
    } else if let Some(at) = number(step, "retry_at").filter(|_| !is_final_state(state)) {
        format!("retry at {}", clock(at))
    } else {
        String::new()
    }
}

/// One line per run: RUN, APPLICATION, STATE, STARTED (UTC).
pub(crate) fn runs_table(value: &Value) -> String {
    let rows: Vec<[String; 4]> = items(value)
        .iter()
        .map(|run| {
            [
                or_dash(text(run, "id")),
                or_dash(text(run, "app_name")),
                or_dash(text(run, "state")),
                number(run, "start_time").map_or_else(|| "-".to_string(), datetime),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "(no runs)".to_string();
    }
    table(&["RUN", "APPLICATION", "STATE", "STARTED"], &rows)
}

/// App variables as `name=value, ...` (strings bare, other values as
/// JSON); "(none)" for none.
fn variables(vars: Option<&Value>) -> String {
    let Some(Value::Object(vars)) = vars else {
        return "(none)".to_string();
    };
    if vars.is_empty() {
        return "(none)".to_string();
    }
    vars.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who started a run: `USER`, `SCHEDULE`, `REPLAY (replay of isapp-...)`.
fn triggered_by(entries: Option<&Value>) -> String {
    let entries = entries
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut how = String::new();
    let mut replay_of = None;
    for entry in entries {
        let what = text(entry, "triggered_by");
        if what == "REPLAY_OF" {
            replay_of = Some(text(entry, "application_id"));
        } else if how.is_empty() {
            how = what;
        }
    }
    match replay_of {
        Some(of) if how.is_empty() => format!("replay of {of}"),
        Some(of) => format!("{how} (replay of {of})"),
        None => how,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{run_status, success_status};
    use crate::output::revoked;
    use serde_json::json;

    #[test]
    fn run_lines() {
        assert_eq!(
            run_started("hello", "isapp-1"),
            "started application hello as run isapp-1"
        );
        assert_eq!(
            run_still_running("isapp-1"),
            "still running: isapp-1 (see: iscli task show isapp-1)"
        );
        assert_eq!(
            run_replayed("isapp-1", "hello", "isapp-2"),
            "replaying run isapp-1: started application hello as run isapp-2"
        );
        assert_eq!(
            change_line("step", "Fetch", "STARTED", 1),
            "step Fetch: STARTED (attempt 1)"
        );
        assert_eq!(change_line("step", "Fetch", "PENDING", 0), "step Fetch: PENDING");
        assert_eq!(
            change_line("application", "hello", "STARTED", 0),
            "application hello: STARTED"
        );
        assert_eq!(state_with_attempt("SUCCESS", 1), "SUCCESS");
        assert_eq!(state_with_attempt("PENDING", 0), "PENDING");
        assert_eq!(state_with_attempt("RETRY", 2), "RETRY (attempt 2)");
        assert!(is_run(&run_status()));
        assert!(is_run(&json!({"id": "isapp-9"})));
        assert!(!is_run(&success_status()));
    }

    #[test]
    fn last_line_of_a_traceback() {
        assert_eq!(
            last_line("Traceback:\n  File x\nValueError: bad\n\n  "),
            "ValueError: bad"
        );
        assert_eq!(last_line("  just one  "), "just one");
        assert_eq!(last_line(""), "");
    }

    #[test]
    fn run_outcome_shows_every_step_and_the_errors() {
        assert_eq!(
            run_outcome(&run_status()),
            "state: FAILURE (took 1.50 s)\n\
             steps:\n\
             \x20 Fetch   SUCCESS\n\
             \x20 Store   FAILURE (attempt 3)  ValueError: the value is wrong\n\
             \x20 Report  REVOKED\n"
        );
        assert_eq!(
            run_outcome(&json!({"state": "SUCCESS", "steps": []})),
            "state: SUCCESS\nsteps: (none)\n"
        );
    }

    #[test]
    fn run_sheet_shows_the_run_and_its_steps() {
        assert_eq!(
            run_sheet(&run_status()),
            "Run:           isapp-1\n\
             Application:   hello\n\
             State:         FAILURE\n\
             Queue:         default\n\
             Configuration: -\n\
             Log level:     1\n\
             Variables:     n=3, who=x\n\
             Triggered by:  USER\n\
             Created:       2023-11-14 22:13:20 UTC\n\
             Started:       2023-11-14 22:13:20 UTC\n\
             Ended:         2023-11-14 22:13:21 UTC (took 1.50 s)\n\
             Steps:\n\
             \x20 STEP    STATE    ATTEMPT  TASK  NOTE\n\
             \x20 Fetch   SUCCESS  1        t-1\n\
             \x20 Store   FAILURE  3        t-2   ValueError: the value is wrong\n\
             \x20 Report  REVOKED  0        t-3\n"
        );
        // Waiting for a worker, a planned retry, a replay, no variables.
        let pending = json!({
            "id": "isapp-2", "app_name": "hello", "state": "PENDING", "queue": "nobody_serves",
            "configuration": "site_a", "app_vars": {},
            "triggered_by": [{"application_id": "isapp-2", "triggered_by": "REPLAY"},
                             {"application_id": "isapp-1", "triggered_by": "REPLAY_OF"}],
            "steps": [
                {"id": "t-4", "name": "Fetch", "state": "PENDING", "attempt": 0,
                 "waiting_for": "no worker subscribed to queue nobody_serves"},
                {"id": "t-5", "name": "Store", "state": "RETRY", "attempt": 1,
                 "retry_at": 1_700_000_010.0}
            ]
        });
        let text = run_sheet(&pending);
        assert!(text.contains("Queue:         nobody_serves\n"), "{text}");
        assert!(text.contains("Configuration: site_a\n"), "{text}");
        assert!(text.contains("Variables:     (none)\n"), "{text}");
        assert!(
            text.contains("Triggered by:  REPLAY (replay of isapp-1)\n"),
            "{text}"
        );
        assert!(text.contains("Started:       -\nEnded:         -\n"), "{text}");
        assert!(
            text.contains(
                "  Fetch  PENDING  0        t-4   waiting: no worker subscribed to queue nobody_serves\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("  Store  RETRY    1        t-5   retry at 22:13:30\n"),
            "{text}"
        );
        assert!(run_sheet(&json!({"id": "isapp-3"})).ends_with("Steps:         (none)\n"));
    }

    #[test]
    fn runs_table_and_revoked_runs() {
        let runs = json!([
            {"id": "isapp-2", "app_name": "hello", "state": "STARTED", "start_time": 1_700_000_000.0},
            {"id": "isapp-1", "app_name": "hello", "state": "PENDING", "start_time": null}
        ]);
        assert_eq!(
            runs_table(&runs),
            "RUN      APPLICATION  STATE    STARTED\n\
             isapp-2  hello        STARTED  2023-11-14 22:13:20 UTC\n\
             isapp-1  hello        PENDING  -\n"
        );
        assert_eq!(runs_table(&json!([])), "(no runs)");
        let run = json!({"id": "isapp-1", "app_name": "hello", "state": "REVOKED"});
        assert_eq!(revoked(&run, false), "revoked run isapp-1 (application hello)");
        assert_eq!(
            revoked(&run, true),
            "run isapp-1 had already ended (REVOKED); nothing to revoke"
        );
    }
}
