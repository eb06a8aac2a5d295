//! Application runs for people: the lines `iscli app run` and `iscli task
//! replay` print, the outcome of a run, the run sheet of `iscli task show
//! isapp-...` and the run list of `iscli task list`.

use is_proto::json::from_proto_struct;
use is_proto::prost_types::Struct;
use is_proto::v1::{ChildRun, RunStatus, RunStep, TaskState, Trigger};
use serde_json::Value;

use super::fields::or_dash;
use super::states::{is_final, state_text};
use super::table::{aligned, table};
use super::task::ended;
use super::time::{clock, datetime, duration};

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
pub(crate) fn change_line(noun: &str, name: &str, state: TaskState, attempt: u32) -> String {
    let state = state_text(state);
    if attempt == 0 {
        format!("{noun} {name}: {state}")
    } else {
        format!("{noun} {name}: {state} (attempt {attempt})")
    }
}

/// A state with the attempt when the step was tried more than once:
/// `SUCCESS`, `STARTED (attempt 2)`.
pub(crate) fn state_with_attempt(state: TaskState, attempt: u32) -> String {
    let state = state_text(state);
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

/// The last line of a failed step's traceback; empty for any other step.
fn failure_note(step: &RunStep) -> String {
    if step.state() == TaskState::Failure {
        last_line(step.traceback.as_deref().unwrap_or_default())
    } else {
        String::new()
    }
}

/// How a finished (or followed) run came out: its state, then one line per
/// step with its state and, for a failed step, its traceback's last line.
pub(crate) fn run_outcome(status: &RunStatus) -> String {
    let state = super::painted_state(status.state());
    let mut out = match (status.start_time, status.end_time) {
        (Some(s), Some(e)) => format!("state: {state} (took {})\n", duration(e - s)),
        _ => format!("state: {state}\n"),
    };
    if status.steps.is_empty() {
        out.push_str("steps: (none)\n");
        return out;
    }
    out.push_str("steps:\n");
    let rows: Vec<Vec<String>> = status
        .steps
        .iter()
        .map(|step| {
            vec![
                or_dash(step.name.clone()),
                state_with_attempt(step.state(), step.attempt),
                failure_note(step),
            ]
        })
        .collect();
    out.push_str(&aligned(&rows, "  "));
    out
}

/// A run for people (`iscli task show isapp-...`, `iscli app logs`): its
/// application, state, options, times and a table of its steps (state,
/// attempt, task id, and what a step waits for or why it failed).
pub(crate) fn run_sheet(status: &RunStatus) -> String {
    let mut out = String::new();
    let mut field = |label: &str, value: String| {
        out.push_str(&format!("{:<15}{}\n", format!("{label}:"), or_dash(value)));
    };
    field("Run", status.id.clone());
    field("Application", status.app_name.clone());
    field("State", state_text(status.state()).to_string());
    field("Queue", status.queue.clone());
    field("Configuration", status.configuration.clone().unwrap_or_default());
    field("Log level", status.log_level.to_string());
    field("Variables", variables(status.app_vars.as_ref()));
    field("Triggered by", triggered_by(&status.triggered_by));
    if !status.children.is_empty() {
        field("Started runs", children(&status.children));
    }
    field("Created", datetime(status.created_time));
    field("Started", status.start_time.map(datetime).unwrap_or_default());
    field("Ended", ended(status.start_time, status.end_time));
    if status.steps.is_empty() {
        out.push_str("Steps:         (none)\n");
        return out;
    }
    out.push_str("Steps:\n");
    let rows: Vec<[String; 5]> = status
        .steps
        .iter()
        .map(|step| {
            [
                or_dash(step.name.clone()),
                state_text(step.state()).to_string(),
                step.attempt.to_string(),
                or_dash(step.id.clone()),
                step_note(step),
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
fn step_note(step: &RunStep) -> String {
    let waiting = step.waiting_for.as_deref().unwrap_or_default();
    if !waiting.is_empty() {
        format!("waiting: {waiting}")
    } else if step.state() == TaskState::Failure {
        failure_note(step)
    } else if let Some(at) = step.retry_at.filter(|_| !is_final(step.state())) {
        format!("retry at {}", clock(at))
    } else {
        String::new()
    }
}

/// One line per run: RUN, APPLICATION, STATE, STARTED (UTC).
pub(crate) fn runs_table(runs: &[RunStatus]) -> String {
    if runs.is_empty() {
        return "(no runs)".to_string();
    }
    let rows: Vec<[String; 4]> = runs
        .iter()
        .map(|run| {
            [
                or_dash(run.id.clone()),
                or_dash(run.app_name.clone()),
                state_text(run.state()).to_string(),
                run.start_time.map_or_else(|| "-".to_string(), datetime),
            ]
        })
        .collect();
    table(&["RUN", "APPLICATION", "STATE", "STARTED"], &rows)
}

/// App variables as `name=value, ...` in name order (strings bare, other
/// values as JSON); "(none)" for none.
fn variables(vars: Option<&Struct>) -> String {
    let vars = vars.map(from_proto_struct).unwrap_or_default();
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

/// Who started a run: `USER`, `SCHEDULE`, `REPLAY (replay of isapp-...)`,
/// `APPLICATION (step T of isapp-...)`.
fn triggered_by(entries: &[Trigger]) -> String {
    let mut how = "";
    let mut origin = None;
    for entry in entries {
        match entry.triggered_by.as_str() {
            "REPLAY_OF" => origin = Some(format!("replay of {}", entry.application_id)),
            "PARENT" => {
                origin = Some(format!(
                    "step {} of {}",
                    entry.step.as_deref().unwrap_or("?"),
                    entry.application_id
                ))
            }
            _ if how.is_empty() => how = &entry.triggered_by,
            _ => {}
        }
    }
    match origin {
        Some(origin) if how.is_empty() => origin,
        Some(origin) => format!("{how} ({origin})"),
        None => how.to_string(),
    }
}

/// The runs a run's Trigger Application steps started, one per line.
fn children(children: &[ChildRun]) -> String {
    children
        .iter()
        .map(|c| format!("{} ({}, started by step {})", c.id, c.app_name, c.step))
        .collect::<Vec<_>>()
        .join("\n               ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{run_status, run_step};

    #[test]
    fn a_triggered_run_names_its_parent_step_and_a_parent_its_children() {
        let child = RunStatus {
            triggered_by: vec![
                Trigger {
                    application_id: "isapp-c".into(),
                    triggered_by: "APPLICATION".into(),
                    step: None,
                    schedule_id: None,
                },
                Trigger {
                    application_id: "isapp-p".into(),
                    triggered_by: "PARENT".into(),
                    step: Some("Kick".into()),
                    schedule_id: None,
                },
            ],
            ..run_status()
        };
        let text = run_sheet(&child);
        assert!(
            text.contains("Triggered by:  APPLICATION (step Kick of isapp-p)\n"),
            "{text}"
        );
        let parent = RunStatus {
            children: vec![
                ChildRun {
                    id: "isapp-c".into(),
                    href: "/api/v1/tasks/isapp-c".into(),
                    app_name: "nightly".into(),
                    step: "Kick".into(),
                },
                ChildRun {
                    id: "isapp-d".into(),
                    href: "/api/v1/tasks/isapp-d".into(),
                    app_name: "nightly".into(),
                    step: "Kick".into(),
                },
            ],
            ..run_status()
        };
        let text = run_sheet(&parent);
        assert!(
            text.contains(
                "Started runs:  isapp-c (nightly, started by step Kick)\n               isapp-d (nightly, started by step Kick)\n"
            ),
            "{text}"
        );
    }
    use is_proto::json::to_proto_struct;
    use serde_json::Map;

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
            change_line("step", "Fetch", TaskState::Started, 1),
            "step Fetch: STARTED (attempt 1)"
        );
        assert_eq!(
            change_line("step", "Fetch", TaskState::Pending, 0),
            "step Fetch: PENDING"
        );
        assert_eq!(
            change_line("application", "hello", TaskState::Started, 0),
            "application hello: STARTED"
        );
        assert_eq!(state_with_attempt(TaskState::Success, 1), "SUCCESS");
        assert_eq!(state_with_attempt(TaskState::Pending, 0), "PENDING");
        assert_eq!(state_with_attempt(TaskState::Retry, 2), "RETRY (attempt 2)");
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

    /// The outcome as a pipe gets it, without colour codes.
    fn run_outcome(status: &RunStatus) -> String {
        crate::output::plain(&super::run_outcome(status))
    }

    #[test]
    fn run_outcome_shows_every_step_and_the_errors() {
        assert!(super::run_outcome(&run_status()).starts_with("state: \x1b[31mFAILURE\x1b[0m"));
        assert_eq!(
            run_outcome(&run_status()),
            "state: FAILURE (took 1.50 s)\n\
             steps:\n\
             \x20 Fetch   SUCCESS\n\
             \x20 Store   FAILURE (attempt 3)  ValueError: the value is wrong\n\
             \x20 Report  REVOKED\n"
        );
        let done = RunStatus {
            state: TaskState::Success as i32,
            ..Default::default()
        };
        assert_eq!(run_outcome(&done), "state: SUCCESS\nsteps: (none)\n");
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
        let pending = RunStatus {
            id: "isapp-2".into(),
            app_name: "hello".into(),
            state: TaskState::Pending as i32,
            queue: "nobody_serves".into(),
            configuration: Some("site_a".into()),
            app_vars: Some(to_proto_struct(&Map::new())),
            triggered_by: vec![
                Trigger {
                    application_id: "isapp-2".into(),
                    triggered_by: "REPLAY".into(),
                    step: None,
                    schedule_id: None,
                },
                Trigger {
                    application_id: "isapp-1".into(),
                    triggered_by: "REPLAY_OF".into(),
                    step: None,
                    schedule_id: None,
                },
            ],
            steps: vec![
                RunStep {
                    waiting_for: Some("no worker subscribed to queue nobody_serves".into()),
                    ..run_step("t-4", "Fetch", TaskState::Pending, 0)
                },
                RunStep {
                    retry_at: Some(1_700_000_010.0),
                    ..run_step("t-5", "Store", TaskState::Retry, 1)
                },
            ],
            ..Default::default()
        };
        let text = run_sheet(&pending);
        assert!(text.contains("Queue:         nobody_serves\n"), "{text}");
        assert!(text.contains("Configuration: site_a\n"), "{text}");
        assert!(text.contains("Variables:     (none)\n"), "{text}");
        assert!(
            text.contains("Triggered by:  REPLAY (replay of isapp-1)\n"),
            "{text}"
        );
        assert!(text.contains("Started:       -\nEnded:         -\n"), "{text}");
        assert!(!text.contains("Started runs"), "{text}");
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
        let bare = RunStatus {
            id: "isapp-3".into(),
            ..Default::default()
        };
        let text = run_sheet(&bare);
        assert!(text.contains("Variables:     (none)\n"), "{text}");
        assert!(text.ends_with("Steps:         (none)\n"), "{text}");
    }

    #[test]
    fn runs_table_lists_runs_newest_first() {
        let run = |id: &str, state: TaskState, start_time: Option<f64>| RunStatus {
            id: id.into(),
            app_name: "hello".into(),
            state: state as i32,
            start_time,
            ..Default::default()
        };
        let runs = [
            run("isapp-2", TaskState::Started, Some(1_700_000_000.0)),
            run("isapp-1", TaskState::Pending, None),
        ];
        assert_eq!(
            runs_table(&runs),
            "RUN      APPLICATION  STATE    STARTED\n\
             isapp-2  hello        STARTED  2023-11-14 22:13:20 UTC\n\
             isapp-1  hello        PENDING  -\n"
        );
        assert_eq!(runs_table(&[]), "(no runs)");
    }
}
