//! `iscli step ...`: listing, showing and deleting steps, and `step run`,
//! which starts a step, follows it for up to `--wait` seconds and prints
//! how it came out (or that it is still running).

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::follow::{Followed, Show};
use super::task::follow_task;
use super::{deleted, print_text, Context, Outcome};
use crate::args::{StepCommand, StepRun};
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: StepCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        StepCommand::List => {
            let v = client.list_steps().await?;
            ctx.print(&v, |v| output::list_table(v, "steps"));
        }
        StepCommand::Get { name } => {
            let v = client.get_step(&name).await?;
            ctx.print(&v, output::step_sheet);
        }
        StepCommand::Delete { name } => {
            let name = client.delete_step(&name).await?;
            output::emit(&deleted(ctx, "step", &name));
        }
        StepCommand::Run(run) => return run_step(client, &run, ctx).await,
    }
    Ok(Outcome::Success)
}

/// `iscli step run`: starts the step, follows its events for up to
/// `--wait` seconds printing state changes and log lines, then prints the
/// outcome (or that it is still running).
async fn run_step(client: &mut Client, run: &StepRun, ctx: &Context) -> Result<Outcome, CliError> {
    let params = run.params()?;
    // Deadline first: the wait counts from when the command asked.
    let until = Instant::now().checked_add(Duration::from_secs(run.wait));
    let (finished, answer) = client.run_step(&run.name, &params, 0).await?;
    let mut seen = output::SeenLogs::default();
    let id = output::text(&answer, "id");
    // The task id is worth printing even when the step already ended.
    if !ctx.json {
        output::emit(&output::task_started(&run.name, &id));
    }
    let followed = if finished {
        Followed::Ended(answer.clone())
    } else if run.wait == 0 {
        Followed::StillRunning(output::text(&answer, "state"))
    } else {
        let show = if ctx.json { Show::Nothing } else { Show::Progress };
        follow_task(client, &id, until, show, &mut seen).await?
    };
    match followed {
        Followed::Ended(status) => {
            print_text(&ended(ctx.json, &status, &mut seen));
            Ok(Outcome::of(&status))
        }
        Followed::StillRunning(state) => {
            let text = if ctx.json {
                output::pretty(&still_running_doc(&answer, &state))
            } else {
                output::still_running(&id)
            };
            output::emit(&text);
            Ok(Outcome::Success)
        }
    }
}

/// What a finished task prints: its final status with --json, else the
/// log lines not printed while following, then how it came out.
pub(crate) fn ended(json: bool, status: &Value, seen: &mut output::SeenLogs) -> String {
    if json {
        return output::pretty(status);
    }
    let logs = status
        .get("logs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // Records logged before the watch began (or lost on the way).
    let mut text = output::late_logs(seen, logs);
    text.push_str(&output::task_outcome(status));
    text
}

/// What `step run --json` prints when the wait ran out: the task's id,
/// href and the last state seen (the one RunStep answered when no event
/// arrived in time).
fn still_running_doc(answer: &Value, last_seen: &str) -> Value {
    let id = output::text(answer, "id");
    let state = if last_seen.is_empty() {
        output::text(answer, "state")
    } else {
        last_seen.to_string()
    };
    let href = answer
        .get("href")
        .cloned()
        .unwrap_or_else(|| json!(format!("/api/v1/tasks/{id}")));
    json!({"id": id, "href": href, "state": state})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finished(state: &str) -> Value {
        json!({"id": "t-1", "state": state, "attempt": 1,
               "logs": [{"time": 1_700_000_000.0, "level": "INFO", "module": "S", "message": "early"},
                        {"time": 1_700_000_001.0, "level": "INFO", "module": "S", "message": "live"}],
               "result": 3})
    }

    #[test]
    fn a_finished_task_adds_the_lines_not_printed_live_then_its_outcome() {
        let status = finished("SUCCESS");
        let mut seen = output::SeenLogs::default();
        seen.saw(&status["logs"][1]);
        assert_eq!(
            ended(false, &status, &mut seen),
            "(logged before iscli started following:)\n\
             22:13:20 INFO S: early\n\
             state: SUCCESS (attempt 1)\n\
             result: 3\n"
        );
        // Nothing printed live (it had ended before following began).
        let mut seen = output::SeenLogs::default();
        assert!(ended(false, &status, &mut seen)
            .starts_with("22:13:20 INFO S: early\n22:13:21 INFO S: live\nstate:"));
    }

    #[test]
    fn with_json_a_finished_task_prints_only_its_status() {
        let status = finished("FAILURE");
        let text = ended(true, &status, &mut output::SeenLogs::default());
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), status);
    }

    #[test]
    fn a_task_still_running_is_named_with_its_href_and_last_state() {
        let answer = json!({"id": "t-9", "href": "/api/v1/tasks/t-9", "state": "PENDING"});
        assert_eq!(
            still_running_doc(&answer, "STARTED"),
            json!({"id": "t-9", "href": "/api/v1/tasks/t-9", "state": "STARTED"})
        );
        // No event in time: the state RunStep answered; no href: made up.
        assert_eq!(
            still_running_doc(&json!({"id": "t-9", "state": "PENDING"}), ""),
            json!({"id": "t-9", "href": "/api/v1/tasks/t-9", "state": "PENDING"})
        );
    }
}
