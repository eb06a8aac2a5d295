//! `iscli task ...`: showing, revoking, replaying and listing tasks and
//! runs, printing their logs (`--follow`: as they are logged), and
//! following one task's events, which `step run` shares.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use super::follow::{follows_logs, stream_closed, task_event, Followed, Show, TaskEvent};
use super::{print_text, Context, Outcome};
use crate::args::TaskCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: TaskCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        TaskCommand::Show { id } => {
            let v = client.get_task(&id).await?;
            if output::is_run(&v) {
                super::runs::show_run(client, &v, ctx).await?;
            } else {
                ctx.print(&v, output::task_sheet);
            }
        }
        TaskCommand::Logs { id, follow } => {
            let status = client.get_task(&id).await?;
            if output::is_run(&status) {
                super::runs::run_logs(client, &status, follow, ctx).await?;
            } else if follows_logs(follow, &status) {
                task_logs_follow(client, &id, &status, ctx).await?;
            } else {
                let logs = status.get("logs").cloned().unwrap_or_else(|| json!([]));
                ctx.print(&logs, |_| output::task_logs(&status));
            }
        }
        TaskCommand::Revoke { id } => {
            // Asked first only to say whether revoking changed anything.
            let before = client.get_task(&id).await?;
            let already_ended = output::is_final_state(&output::text(&before, "state"));
            let after = client.revoke_task(&id).await?;
            ctx.print(&after, |v| output::revoked(v, already_ended));
        }
        TaskCommand::Replay { id, wait } => {
            // Deadline first: the wait counts from when the command asked.
            let until = Instant::now().checked_add(Duration::from_secs(wait));
            let status = client.replay_task(&id).await?;
            if !ctx.json {
                let app = output::text(&status, "app_name");
                output::emit(&output::run_replayed(&id, &app, &output::text(&status, "id")));
            }
            let finished = output::is_final_state(&output::text(&status, "state"));
            return super::runs::follow_new_run(client, status, finished, wait, until, ctx).await;
        }
        TaskCommand::List { app, state, limit } => {
            let v = client.list_tasks(app.as_deref(), state.as_deref(), limit).await?;
            ctx.print(&v, output::runs_table);
        }
    }
    Ok(Outcome::Success)
}

/// `iscli task logs ID --follow` on a task that has not ended: the lines
/// known now, then each new one as it is logged, then the ones only the
/// final status holds. With --json, only the final list.
async fn task_logs_follow(
    client: &mut Client,
    id: &str,
    status: &Value,
    ctx: &Context,
) -> Result<(), CliError> {
    fn logs_of(status: &Value) -> Vec<Value> {
        status
            .get("logs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
    let mut seen = output::SeenLogs::default();
    let show = if ctx.json {
        Show::Nothing
    } else {
        print_text(&output::log_lines(seen.unseen(&logs_of(status))));
        Show::Logs
    };
    let last = match follow_task(client, id, None, show, &mut seen).await? {
        Followed::Ended(last) => last,
        // Without a deadline following only ends with the task; should that
        // change, show what is known.
        Followed::StillRunning(_) => client.get_task(id).await?,
    };
    let all = logs_of(&last);
    if ctx.json {
        output::emit(&output::pretty(&Value::Array(all)));
    } else {
        print_text(&output::late_logs(&mut seen, &all));
    }
    Ok(())
}

/// Follows the task's events until it ends or `until` passes (None: no
/// limit), printing what `show` asks for. Printed log lines are noted in
/// `seen`.
pub(crate) async fn follow_task(
    client: &mut Client,
    id: &str,
    until: Option<Instant>,
    show: Show,
    seen: &mut output::SeenLogs,
) -> Result<Followed, CliError> {
    let mut events = client.watch_task(id).await?;
    let mut last_state = String::new();
    loop {
        let next = match until {
            Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next?,
                Err(_) => return Ok(Followed::StillRunning(last_state)),
            },
            None => events.next().await?,
        };
        let Some(event) = next else {
            return stream_closed("task", id, client.get_task(id).await?);
        };
        match task_event(event, show) {
            TaskEvent::State {
                state,
                attempt,
                line,
                ask_worker,
            } => {
                if line {
                    // The event does not name the worker; the status does.
                    let worker = if ask_worker {
                        client.get_task(id).await.ok().map(|s| output::text(&s, "worker"))
                    } else {
                        None
                    };
                    output::emit(&output::state_line(&state, attempt, worker.as_deref()));
                }
                last_state = state;
            }
            TaskEvent::Log(log) => {
                seen.saw(&log);
                output::emit(&output::log_line(&log));
            }
            TaskEvent::End(status) => return Ok(Followed::Ended(status)),
            TaskEvent::Ignore => {}
        }
    }
}
