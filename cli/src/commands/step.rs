//! `iscli step ...`: listing, showing and deleting steps, and `step run`,
//! which starts a step, follows it for up to `--wait` seconds and prints
//! how it came out (or that it is still running).

use std::time::Duration;

use is_proto::v1::{TaskState, TaskStatus};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::follow::{Followed, Show};
use super::task::follow_task;
use super::{deleted, print_text, Context, Outcome};
use crate::args::{StepCommand, StepRun};
use crate::client::{self, Client};
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: StepCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        StepCommand::List => {
            let list = client.list_steps().await?;
            ctx.print(&list.items, |items| output::list_table(items, "steps"))?;
        }
        StepCommand::Get { name } => {
            let step = client.get_step(&name).await?;
            ctx.print(&step, output::step_sheet)?;
        }
        StepCommand::Delete { name } => {
            let name = client.delete_step(&name).await?;
            output::emit(&deleted(ctx, "step", &name)?);
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
    let answer = client.run_step(&run.name, &params, 0).await?;
    let task = answer.task.ok_or_else(|| client::incomplete("the task"))?;
    let mut seen = output::SeenLogs::default();
    let id = task.id.clone();
    // The task id is worth printing even when the step already ended.
    if !ctx.json {
        output::emit(&output::task_started(&run.name, &id));
    }
    let followed = if answer.finished {
        Followed::Ended(task.clone())
    } else if run.wait == 0 {
        Followed::StillRunning(None)
    } else {
        let show = if ctx.json { Show::Nothing } else { Show::Progress };
        follow_task(client, &id, until, show, &mut seen).await?
    };
    match followed {
        Followed::Ended(status) => {
            print_text(&ended(ctx.json, &status, &mut seen)?);
            Ok(Outcome::of(status.state()))
        }
        Followed::StillRunning(state) => {
            let text = if ctx.json {
                output::pretty(&still_running_doc(&task, state))
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
pub(crate) fn ended(
    json: bool,
    status: &TaskStatus,
    seen: &mut output::SeenLogs,
) -> Result<String, CliError> {
    if json {
        return output::json_text(status);
    }
    // Records logged before the watch began (or lost on the way).
    let mut text = output::late_logs(seen, &status.logs);
    text.push_str(&output::task_outcome(status));
    Ok(text)
}

/// What `step run --json` prints when the wait ran out: the task's id,
/// href and the last state seen (the one RunStep answered when no event
/// arrived in time).
fn still_running_doc(answer: &TaskStatus, last_seen: Option<TaskState>) -> Value {
    let id = &answer.id;
    let state = last_seen.unwrap_or(answer.state());
    let href = if answer.href.is_empty() {
        format!("/api/v1/tasks/{id}")
    } else {
        answer.href.clone()
    };
    json!({"id": id, "href": href, "state": output::state_text(state)})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::record;
    use is_proto::json::to_proto;

    fn finished(state: TaskState) -> TaskStatus {
        TaskStatus {
            id: "t-1".into(),
            state: state as i32,
            attempt: 1,
            logs: vec![
                record(1_700_000_000.0, "INFO", "S", "early"),
                record(1_700_000_001.0, "INFO", "S", "live"),
            ],
            result: Some(to_proto(&json!(3))),
            ..Default::default()
        }
    }

    #[test]
    fn a_finished_task_adds_the_lines_not_printed_live_then_its_outcome() {
        let status = finished(TaskState::Success);
        let mut seen = output::SeenLogs::default();
        seen.saw(&status.logs[1]);
        assert_eq!(
            output::plain(&ended(false, &status, &mut seen).unwrap()),
            "(logged before iscli started following:)\n\
             22:13:20 INFO S: early\n\
             state: SUCCESS (attempt 1)\n\
             result: 3\n"
        );
        // Nothing printed live (it had ended before following began).
        let mut seen = output::SeenLogs::default();
        assert!(ended(false, &status, &mut seen)
            .unwrap()
            .starts_with("22:13:20 INFO S: early\n22:13:21 INFO S: live\nstate:"));
    }

    #[test]
    fn with_json_a_finished_task_prints_only_its_status() {
        let status = finished(TaskState::Failure);
        let text = ended(true, &status, &mut output::SeenLogs::default()).unwrap();
        let printed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(printed, serde_json::to_value(&status).unwrap());
        assert_eq!(printed["state"], "FAILURE");
        assert_eq!(printed["logs"][1]["message"], "live");
    }

    #[test]
    fn a_task_still_running_is_named_with_its_href_and_last_state() {
        let answer = TaskStatus {
            id: "t-9".into(),
            href: "/api/v1/tasks/t-9".into(),
            state: TaskState::Pending as i32,
            ..Default::default()
        };
        assert_eq!(
            still_running_doc(&answer, Some(TaskState::Started)),
            json!({"id": "t-9", "href": "/api/v1/tasks/t-9", "state": "STARTED"})
        );
        // No event in time: the state RunStep answered; no href: made up.
        let bare = TaskStatus {
            href: String::new(),
            ..answer
        };
        assert_eq!(
            still_running_doc(&bare, None),
            json!({"id": "t-9", "href": "/api/v1/tasks/t-9", "state": "PENDING"})
        );
    }
}
