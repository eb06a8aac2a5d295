//! Application runs: following one (`app run`, `task replay`, `task logs
//! isapp-... --follow`) with the live view or lines from its event stream
//! (which holds every record, in order, from the run's beginning), and
//! showing one
//! (`task show isapp-...`, `app logs`) with its steps' log lines. What to
//! print is decided in `follow_run`; this file does the calls and writes.

use std::io::IsTerminal;

use is_proto::v1::any_task::Kind;
use is_proto::v1::task_event::Event;
use is_proto::v1::{LogRecord, RunStatus};
use tokio::time::Instant;

use super::follow::{follows_logs, stream_closed, Followed};
use super::follow_run::{run_change, run_show, RunPrinter, RunShow, Terminal};
use super::{print_text, Context, Outcome};
use crate::client::Client;
use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::live;
use crate::output;

/// Follows a run just started (by `app run` or `task replay`; `status` is
/// what starting it answered) until it ends or `until` passes, then prints
/// its outcome, or that it is still running. `wait` 0 does not follow.
pub(crate) async fn follow_new_run(
    client: &mut Client,
    status: RunStatus,
    finished: bool,
    wait: u64,
    until: Option<Instant>,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    let mut printed = output::RunLogs::default();
    let followed = if finished {
        Followed::Ended(status.clone())
    } else if wait == 0 {
        Followed::StillRunning(Some(status.state()))
    } else {
        let show = run_show(ctx.json, &terminal());
        let mut view = live::RunView::from_status(&status);
        if matches!(show, RunShow::Graph { .. }) {
            // Only for the arrows of the graph, which does without them.
            if let Ok(app) = client.get_application(&view.app).await {
                view.add_edges(&app);
            }
        }
        follow_run(client, &mut view, until, show, &mut printed).await?
    };
    match followed {
        Followed::Ended(last) => finish_run(client, ctx, &last, &mut printed).await,
        Followed::StillRunning(_) => {
            if ctx.json {
                let now = if wait == 0 {
                    status
                } else {
                    client.get_run(&status.id).await?
                };
                output::emit(&output::json_text(&now)?);
            } else {
                output::emit(&output::run_still_running(&status.id));
            }
            Ok(Outcome::Success)
        }
    }
}

/// What stdout is, as `run_show` needs to know it.
fn terminal() -> Terminal {
    Terminal {
        is_terminal: std::io::stdout().is_terminal(),
        term: std::env::var("TERM").ok(),
        colors: output::colors_wanted(),
        columns: std::env::var("COLUMNS").ok(),
    }
}

/// Prints an ended run (its JSON, or the log lines not printed yet and the
/// outcome) and says how the command ends: failed when the run did.
async fn finish_run(
    client: &mut Client,
    ctx: &Context,
    status: &RunStatus,
    printed: &mut output::RunLogs,
) -> Result<Outcome, CliError> {
    if ctx.json {
        output::emit(&output::json_text(status)?);
    } else {
        // The records of the steps not followed to their end (the run had
        // ended before it was followed). Not being able to read them must
        // not hide the outcome.
        let unsettled = |id: &str| !printed.is_settled(id);
        if let Ok(steps) = step_logs(client, status, unsettled).await {
            print_text(&printed.late(&steps));
        }
        output::emit(&output::run_outcome(status));
    }
    Ok(Outcome::of(status.state()))
}

/// Follows a run's events until it ends or `until` passes (None: no
/// limit), keeping `view` up to date and showing it as `show` says. Printed
/// log lines are noted in `printed`.
async fn follow_run(
    client: &mut Client,
    view: &mut live::RunView,
    until: Option<Instant>,
    show: RunShow,
    printed: &mut output::RunLogs,
) -> Result<Followed<RunStatus>, CliError> {
    let id = view.id.clone();
    let mut printer = RunPrinter::new(show);
    let draws = printer.draws();
    let put = |text: String| {
        if draws {
            output::draw(&text);
        } else {
            print_text(&text);
        }
    };
    put(printer.start(view));
    let mut events = client.watch_task(&id).await?;
    loop {
        let next = match until {
            Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next?,
                Err(_) => return Ok(Followed::StillRunning(Some(view.state))),
            },
            None => events.next().await?,
        };
        let Some(event) = next else {
            let status = client.get_run(&id).await?;
            let followed = stream_closed("run", &id, status.state(), status)?;
            if let Followed::Ended(status) = &followed {
                if view.update(status) {
                    put(printer.redraw(view));
                }
            }
            return Ok(followed);
        };
        match event.event {
            Some(Event::State(change)) => {
                if !view.apply(&change) {
                    continue;
                }
                let change = run_change(view, &change, show);
                put(printer.changed(view, change));
            }
            Some(Event::Log(log)) if show != RunShow::Nothing && log.record.is_some() => {
                let line = printed.live(&log);
                put(printer.log(view, line));
            }
            Some(Event::End(end)) => {
                let status = match end.status.and_then(|s| s.kind) {
                    Some(Kind::Run(status)) => status,
                    _ => client.get_run(&id).await?,
                };
                if view.update(&status) {
                    put(printer.redraw(view));
                }
                // The stream held every record of every step.
                for step in &status.steps {
                    printed.settle(&step.id);
                }
                return Ok(Followed::Ended(status));
            }
            // Log lines not shown, and events this iscli does not know.
            _ => {}
        }
    }
}

/// The log records of the steps of a run that `wanted` picks by task id,
/// read from each step's task status; a step whose status is gone
/// (expired) has none.
async fn step_logs(
    client: &mut Client,
    status: &RunStatus,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<output::StepLogs>, CliError> {
    let mut all = Vec::new();
    for step in &status.steps {
        if step.id.is_empty() || !wanted(&step.id) {
            continue;
        }
        let logs: Vec<LogRecord> = match client.get_step_task(&step.id).await {
            Ok(task) => task.logs,
            Err(CliError::Api(ApiError {
                kind: ApiErrorKind::NotFound,
                ..
            })) => Vec::new(),
            Err(e) => return Err(e),
        };
        all.push(output::StepLogs {
            id: step.id.clone(),
            name: step.name.clone(),
            logs,
        });
    }
    Ok(all)
}

/// A run for people (`task show isapp-...`, `app logs`): the run sheet and
/// its steps' log lines; with --json, the status as the server sent it.
pub(crate) async fn show_run(client: &mut Client, status: &RunStatus, ctx: &Context) -> Result<(), CliError> {
    if ctx.json {
        output::emit(&output::json_text(status)?);
        return Ok(());
    }
    let logs = output::run_logs(&step_logs(client, status, |_| true).await?);
    let mut text = output::run_sheet(status);
    text.push_str(&output::run_logs_section(status, &logs));
    output::emit(&text);
    Ok(())
}

/// `iscli task logs isapp-...`: the log lines of every step of the run in
/// time order; with --follow on a run that has not ended, every record in
/// the order logged, from the run's beginning, as they come. With --json,
/// only the final list.
pub(crate) async fn run_logs(
    client: &mut Client,
    status: &RunStatus,
    follow: bool,
    ctx: &Context,
) -> Result<(), CliError> {
    let steps = step_logs(client, status, |_| true).await?;
    if !follows_logs(follow, status.state()) {
        let logs = output::run_logs(&steps);
        return ctx.print(&logs, |logs| output::run_logs_text(status, logs));
    }
    let mut printed = output::RunLogs::default();
    // The stream starts from the run's beginning: every record comes in it.
    let show = if ctx.json { RunShow::Nothing } else { RunShow::Logs };
    let mut view = live::RunView::from_status(status);
    let last = match follow_run(client, &mut view, None, show, &mut printed).await? {
        Followed::Ended(last) => last,
        // Without a deadline following only ends with the run; should that
        // change, show what is known.
        Followed::StillRunning(_) => client.get_run(&view.id).await?,
    };
    if ctx.json {
        let steps = step_logs(client, &last, |_| true).await?;
        output::emit(&output::json_text(&output::run_logs(&steps))?);
    } else {
        let unsettled = |id: &str| !printed.is_settled(id);
        print_text(&printed.late(&step_logs(client, &last, unsettled).await?));
    }
    Ok(())
}
