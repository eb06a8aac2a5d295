//! `iscli task ...`: showing, revoking, replaying and listing tasks and
//! runs, printing their logs (`--follow`: as they are logged), and
//! following one task's events, which `step run` shares.

use std::time::Duration;

use is_proto::v1::any_task::Kind;
use is_proto::v1::TaskStatus;
use tokio::time::Instant;

use super::follow::{follows_logs, stream_closed, task_event, Followed, Reaction, Show};
use super::{print_text, Context, Outcome};
use crate::args::TaskCommand;
use crate::client::{task_kind, Client};
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: TaskCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        TaskCommand::Show { id } => match task_kind(client.get_task(&id).await?)? {
            Kind::Run(run) => super::runs::show_run(client, &run, ctx).await?,
            Kind::Task(task) => ctx.print(&task, output::task_sheet)?,
        },
        TaskCommand::Logs { id, follow } => match task_kind(client.get_task(&id).await?)? {
            Kind::Run(run) => super::runs::run_logs(client, &run, follow, ctx).await?,
            Kind::Task(task) if follows_logs(follow, task.state()) => {
                task_logs_follow(client, &id, ctx).await?;
            }
            Kind::Task(task) => ctx.print(&task.logs, |_| output::task_logs(&task))?,
        },
        TaskCommand::Revoke { id } => {
            // Asked first only to say whether revoking changed anything.
            let already_ended = output::is_final(match task_kind(client.get_task(&id).await?)? {
                Kind::Run(run) => run.state(),
                Kind::Task(task) => task.state(),
            });
            let after = task_kind(client.revoke_task(&id).await?)?;
            ctx.print(&after, |status| output::revoked(status, already_ended))?;
        }
        TaskCommand::Replay { id, wait } => {
            // Deadline first: the wait counts from when the command asked.
            let until = Instant::now().checked_add(Duration::from_secs(wait));
            let status = client.replay_task(&id).await?;
            if !ctx.json {
                output::emit(&output::run_replayed(&id, &status.app_name, &status.id));
            }
            let finished = output::is_final(status.state());
            return super::runs::follow_new_run(client, status, finished, wait, until, ctx).await;
        }
        TaskCommand::List { app, state, limit } => {
            let list = client.list_tasks(app.as_deref(), state.as_deref(), limit).await?;
            ctx.print(&list.runs, |runs| output::runs_table(runs))?;
        }
    }
    Ok(Outcome::Success)
}

/// `iscli task logs ID --follow` on a task that has not ended: every
/// record from its beginning, as they come. With --json, only the final
/// list.
async fn task_logs_follow(client: &mut Client, id: &str, ctx: &Context) -> Result<(), CliError> {
    let mut seen = output::SeenLogs::default();
    // The stream starts from the task's beginning: every record comes in it.
    let show = if ctx.json { Show::Nothing } else { Show::Logs };
    let last = match follow_task(client, id, None, show, &mut seen).await? {
        Followed::Ended(last) => last,
        // Without a deadline following only ends with the task; should that
        // change, show what is known.
        Followed::StillRunning(_) => client.get_step_task(id).await?,
    };
    if ctx.json {
        output::emit(&output::json_text(&last.logs)?);
    } else {
        print_text(&output::late_logs(&mut seen, &last.logs));
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
) -> Result<Followed<TaskStatus>, CliError> {
    let mut events = client.watch_task(id).await?;
    let mut last_state = None;
    loop {
        let next = match until {
            Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next?,
                Err(_) => return Ok(Followed::StillRunning(last_state)),
            },
            None => events.next().await?,
        };
        let Some(event) = next else {
            let status = client.get_step_task(id).await?;
            return stream_closed("task", id, status.state(), status);
        };
        match task_event(event, show) {
            Reaction::State {
                state,
                attempt,
                line,
                ask_worker,
            } => {
                if line {
                    // The event does not name the worker; the status does.
                    let worker = if ask_worker {
                        client.get_step_task(id).await.ok().and_then(|s| s.worker)
                    } else {
                        None
                    };
                    output::emit(&output::state_line(state, attempt, worker.as_deref()));
                }
                last_state = Some(state);
            }
            Reaction::Log(log) => {
                seen.saw(&log);
                output::emit(&output::log_line(&log));
            }
            Reaction::End(Some(status)) => return Ok(Followed::Ended(*status)),
            // The end without the final status: ask for it.
            Reaction::End(None) => return Ok(Followed::Ended(client.get_step_task(id).await?)),
            Reaction::Ignore => {}
        }
    }
}
