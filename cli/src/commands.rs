//! Carrying out an `Action`: resolving the connection settings, connecting,
//! calling the RPCs and printing the answers (pretty JSON with `--json`,
//! else the readable forms from `output.rs`). One handler per noun; a new
//! subcommand is a new match arm in `run_command` plus its handler here.
//! Following a task (`step run`, `task logs -f`) and following a run
//! (`app run`, `task replay`, the live view of `live.rs`) live here too.

use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::args::{
    Action, AppCommand, AppRun, ClusterCommand, Command, ConfigCommand, StepCommand, StepRun, SyncPackOps,
    TaskCommand,
};
use crate::client::Client;
use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::live;
use crate::output;
use crate::settings::{self, ConnectionFlags};
use crate::upload;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked: exit 0.
    Success,
    /// Some parts failed and were already reported: exit 1.
    Failed,
}

/// Options shared by every command.
#[derive(Debug, Clone)]
pub struct Context {
    pub connection: ConnectionFlags,
    pub json: bool,
}

impl Context {
    async fn connect(&self) -> Result<Client, CliError> {
        let settings = settings::load(&self.connection)?;
        Client::connect(&settings).await
    }

    fn print(&self, value: &Value, readable: impl FnOnce(&Value) -> String) {
        if self.json {
            output::emit(&output::pretty(value));
        } else {
            output::emit(&readable(value));
        }
    }
}

/// Runs one action.
pub async fn run(action: Action, ctx: &Context) -> Result<Outcome, CliError> {
    match action {
        Action::CliVersion => {
            output::emit(&format!("iscli {}", env!("CARGO_PKG_VERSION")));
            Ok(Outcome::Success)
        }
        Action::Upload(req) => {
            // Local checks (paths, extensions) before touching the network.
            let plan = upload::plan(&req)?;
            let mut client = ctx.connect().await?;
            let outcome = upload::run(&mut client, &plan, req.overwrite, ctx.json).await?;
            match (&req.then, outcome) {
                (Some(ops), Outcome::Success) => syncpack_ops(&mut client, ops, ctx).await,
                _ => Ok(outcome),
            }
        }
        Action::SyncPack(ops) => {
            let mut client = ctx.connect().await?;
            syncpack_ops(&mut client, &ops, ctx).await
        }
        Action::Command(command) => run_command(command, ctx).await,
    }
}

async fn run_command(command: Command, ctx: &Context) -> Result<Outcome, CliError> {
    let mut client = ctx.connect().await?;
    match command {
        Command::Step(cmd) => step(&mut client, cmd, ctx).await,
        Command::App(cmd) => app(&mut client, cmd, ctx).await,
        Command::Config(cmd) => config(&mut client, cmd, ctx).await,
        Command::About => {
            let v = client.about().await?;
            ctx.print(&v, output::summary);
            Ok(Outcome::Success)
        }
        Command::Cluster(cmd) => {
            let v = match cmd {
                ClusterCommand::Status => client.cluster_status().await?,
                ClusterCommand::Add { id, address } => client.add_cluster_node(id, address).await?,
                ClusterCommand::Remove { id } => client.remove_cluster_node(id).await?,
            };
            ctx.print(&v, output::summary);
            Ok(Outcome::Success)
        }
        Command::Task(cmd) => task(&mut client, cmd, ctx).await,
    }
}

async fn step(client: &mut Client, cmd: StepCommand, ctx: &Context) -> Result<Outcome, CliError> {
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
            let deleted = client.delete_step(&name).await?;
            print_deleted(ctx, "step", &deleted);
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
    if finished {
        return Ok(finish(ctx, &answer, &mut seen));
    }
    let followed = if run.wait == 0 {
        Followed::StillRunning(output::text(&answer, "state"))
    } else {
        let show = if ctx.json { Show::Nothing } else { Show::Progress };
        follow_task(client, &id, until, show, &mut seen).await?
    };
    match followed {
        Followed::Ended(status) => Ok(finish(ctx, &status, &mut seen)),
        Followed::StillRunning(mut state) => {
            if state.is_empty() {
                // No event arrived in time: the state RunStep answered.
                state = output::text(&answer, "state");
            }
            if ctx.json {
                let href = answer
                    .get("href")
                    .cloned()
                    .unwrap_or_else(|| json!(format!("/api/v1/tasks/{id}")));
                let v = json!({"id": id, "href": href, "state": state});
                output::emit(&output::pretty(&v));
            } else {
                output::emit(&output::still_running(&id));
            }
            Ok(Outcome::Success)
        }
    }
}

/// Prints a finished task (its JSON, or the log lines not printed yet and
/// the outcome) and says how the command ends: failed when the task did.
fn finish(ctx: &Context, status: &Value, seen: &mut output::SeenLogs) -> Outcome {
    if ctx.json {
        output::emit(&output::pretty(status));
    } else {
        let logs = status
            .get("logs")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        // Records logged before the watch began (or lost on the way).
        print_text(&output::late_logs(seen, logs));
        output::emit(&output::task_outcome(status));
    }
    if output::is_failed_state(&output::text(status, "state")) {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// What to print while following a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    /// State changes and log lines (`step run`).
    Progress,
    /// Log lines only (`task logs --follow`).
    Logs,
    /// Nothing (`--json` prints only the final document).
    Nothing,
}

/// How following a task ended.
enum Followed {
    /// The task finished; its final status.
    Ended(Value),
    /// The deadline passed first; the last state seen.
    StillRunning(String),
}

/// Follows the task's events until it ends or `until` passes (None: no
/// limit). Printed log lines are noted in `seen`.
async fn follow_task(
    client: &mut Client,
    id: &str,
    until: Option<Instant>,
    show: Show,
    seen: &mut output::SeenLogs,
) -> Result<Followed, CliError> {
    let mut events = client.watch_task(id).await?;
    let mut state = String::new();
    loop {
        let next = match until {
            Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next?,
                Err(_) => return Ok(Followed::StillRunning(state)),
            },
            None => events.next().await?,
        };
        let Some(event) = next else {
            // The node closed the stream without the end event (it is
            // shutting down, or the task expired): ask once more.
            let status = client.get_task(id).await?;
            if output::is_final_state(&output::text(&status, "state")) {
                return Ok(Followed::Ended(status));
            }
            return Err(CliError::Api(ApiError {
                kind: ApiErrorKind::Unavailable,
                error: format!(
                    "the node stopped sending the events of task {id} before it ended; \
                     see: iscli task show {id}"
                ),
                details: Vec::new(),
            }));
        };
        match event.get("type").and_then(Value::as_str) {
            Some("state") => {
                state = output::text(&event, "state");
                // The final state is part of the outcome printed at the end.
                if show == Show::Progress && !output::is_final_state(&state) {
                    let attempt = event.get("attempt").and_then(Value::as_u64).unwrap_or(0);
                    // The event does not name the worker; the status does.
                    let worker = if state == "STARTED" {
                        client.get_task(id).await.ok().map(|s| output::text(&s, "worker"))
                    } else {
                        None
                    };
                    output::emit(&output::state_line(&state, attempt, worker.as_deref()));
                }
            }
            Some("log") if show != Show::Nothing => {
                seen.saw(&event);
                output::emit(&output::log_line(&event));
            }
            Some("end") => {
                let status = event.get("status").cloned().unwrap_or(Value::Null);
                return Ok(Followed::Ended(status));
            }
            // Log lines not shown, and event types this iscli does not know.
            _ => {}
        }
    }
}

async fn task(client: &mut Client, cmd: TaskCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        TaskCommand::Show { id } => {
            let v = client.get_task(&id).await?;
            if output::is_run(&v) {
                show_run(client, &v, ctx).await?;
            } else {
                ctx.print(&v, output::task_sheet);
            }
        }
        TaskCommand::Logs { id, follow } => {
            let status = client.get_task(&id).await?;
            if output::is_run(&status) {
                run_logs(client, &status, follow, ctx).await?;
                return Ok(Outcome::Success);
            }
            let running = !output::is_final_state(&output::text(&status, "state"));
            if !(follow && running) {
                let logs = status.get("logs").cloned().unwrap_or_else(|| json!([]));
                ctx.print(&logs, |_| output::task_logs(&status));
                return Ok(Outcome::Success);
            }
            task_logs_follow(client, &id, &status, ctx).await?;
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
            return follow_new_run(client, status, finished, wait, until, ctx).await;
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

/// Prints text unless it is empty (no blank line for nothing).
fn print_text(text: &str) {
    if !text.is_empty() {
        output::emit(text);
    }
}

async fn app(client: &mut Client, cmd: AppCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        AppCommand::List => {
            let v = client.list_applications().await?;
            ctx.print(&v, |v| output::list_table(v, "applications"));
        }
        AppCommand::Get { name } => {
            let v = client.get_application(&name).await?;
            ctx.print(&v, output::pretty);
        }
        AppCommand::Delete { name } => {
            let deleted = client.delete_application(&name).await?;
            print_deleted(ctx, "application", &deleted);
        }
        AppCommand::Run(run) => return run_app(client, &run, ctx).await,
        AppCommand::Logs { name } => {
            let last = client.application_logs(&name).await?;
            show_run(client, &last, ctx).await?;
        }
    }
    Ok(Outcome::Success)
}

/// `iscli app run`: starts the run, follows it for up to `--wait` seconds
/// (the live view and the log lines), then prints the outcome (or that it
/// is still running).
async fn run_app(client: &mut Client, run: &AppRun, ctx: &Context) -> Result<Outcome, CliError> {
    let params = run.params()?;
    // Deadline first: the wait counts from when the command asked.
    let until = Instant::now().checked_add(Duration::from_secs(run.wait));
    // Started without waiting: following it is iscli's job.
    let (finished, status) = client.run_application(&run.name, &params, 0).await?;
    if !ctx.json {
        output::emit(&output::run_started(&run.name, &output::text(&status, "id")));
    }
    follow_new_run(client, status, finished, run.wait, until, ctx).await
}

/// Follows a run just started (by `app run` or `task replay`; `status` is
/// what starting it answered) until it ends or `until` passes, then prints
/// its outcome, or that it is still running. `wait` 0 does not follow.
async fn follow_new_run(
    client: &mut Client,
    status: Value,
    finished: bool,
    wait: u64,
    until: Option<Instant>,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    let id = output::text(&status, "id");
    let mut printed = output::RunLogs::default();
    let followed = if finished {
        Followed::Ended(status.clone())
    } else if wait == 0 {
        Followed::StillRunning(output::text(&status, "state"))
    } else {
        let show = run_show(ctx);
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
        Followed::Ended(last) => Ok(finish_run(client, ctx, &last, &mut printed).await),
        Followed::StillRunning(_) => {
            if ctx.json {
                let now = if wait == 0 {
                    status
                } else {
                    client.get_task(&id).await?
                };
                output::emit(&output::pretty(&now));
            } else {
                output::emit(&output::run_still_running(&id));
            }
            Ok(Outcome::Success)
        }
    }
}

/// Prints an ended run (its JSON, or the log lines not printed yet and the
/// outcome) and says how the command ends: failed when the run did.
async fn finish_run(
    client: &mut Client,
    ctx: &Context,
    status: &Value,
    printed: &mut output::RunLogs,
) -> Outcome {
    if ctx.json {
        output::emit(&output::pretty(status));
    } else {
        // Records logged before the watch began (or lost on the way) of
        // the steps not settled while following. Not being able to read
        // them must not hide the outcome.
        let unsettled = |id: &str| !printed.is_settled(id);
        if let Ok(steps) = step_logs(client, status, unsettled).await {
            print_text(&printed.late(&steps));
        }
        output::emit(&output::run_outcome(status));
    }
    if output::is_failed_state(&output::text(status, "state")) {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}

/// What to print while following a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunShow {
    /// stdout is a terminal: the graph, redrawn in place, with the log
    /// lines scrolling above it.
    Graph { color: bool, max_width: usize },
    /// stdout is not a terminal: one line per state change and per log
    /// record.
    Lines,
    /// Log lines only (`task logs isapp-... --follow`).
    Logs,
    /// Nothing (`--json` prints only the final document).
    Nothing,
}

/// How to show a followed run on this stdout: the live graph on a terminal
/// that can move its cursor (colored when the terminal shows colours and
/// NO_COLOR is not set), else lines.
fn run_show(ctx: &Context) -> RunShow {
    if ctx.json {
        return RunShow::Nothing;
    }
    let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
    if !std::io::stdout().is_terminal() || dumb {
        return RunShow::Lines;
    }
    RunShow::Graph {
        color: output::colors_wanted(),
        max_width: live::max_width(std::env::var("COLUMNS").ok().as_deref()),
    }
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
) -> Result<Followed, CliError> {
    let id = view.id.clone();
    let mut screen = live::Screen::default();
    let redraw = |screen: &mut live::Screen, view: &live::RunView, above: &[String]| {
        if let RunShow::Graph { color, max_width } = show {
            output::draw(&screen.frame(above, &view.lines(color, max_width)));
        }
    };
    match show {
        RunShow::Graph { .. } => redraw(&mut screen, view, &[]),
        RunShow::Lines => {
            // Where everything stands before the first change.
            output::emit(&output::change_line("application", &view.app, &view.state, 0));
            for step in &view.steps {
                output::emit(&output::change_line(
                    "step",
                    &step.name,
                    &step.state,
                    step.attempt,
                ));
            }
        }
        RunShow::Logs | RunShow::Nothing => {}
    }
    let mut events = client.watch_task(&id).await?;
    loop {
        let next = match until {
            Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                Ok(next) => next?,
                Err(_) => return Ok(Followed::StillRunning(view.state.clone())),
            },
            None => events.next().await?,
        };
        let Some(event) = next else {
            // The node closed the stream without the end event (it is
            // shutting down, or the run expired): ask once more.
            let status = client.get_task(&id).await?;
            if output::is_final_state(&output::text(&status, "state")) {
                if view.update(&status) {
                    redraw(&mut screen, view, &[]);
                }
                return Ok(Followed::Ended(status));
            }
            return Err(CliError::Api(ApiError {
                kind: ApiErrorKind::Unavailable,
                error: format!(
                    "the node stopped sending the events of run {id} before it ended; \
                     see: iscli task show {id}"
                ),
                details: Vec::new(),
            }));
        };
        let step_id = output::text(&event, "id");
        let is_step = step_id != id;
        match event.get("type").and_then(Value::as_str) {
            Some("state") => {
                if !view.apply(&event) {
                    continue;
                }
                // An attempt that ended has its records in the step's
                // status, also those logged before iscli subscribed.
                let state = output::text(&event, "state");
                let attempt = event.get("attempt").and_then(Value::as_u64).unwrap_or(0);
                let attempt_ended = state == "RETRY" || output::is_final_state(&state);
                let caught_up = if is_step && attempt > 0 && attempt_ended && show != RunShow::Nothing {
                    let name = output::text(&event, "name");
                    catch_up(client, printed, &step_id, &name, output::is_final_state(&state)).await
                } else {
                    Vec::new()
                };
                if show == RunShow::Lines {
                    if is_step {
                        let name = output::text(&event, "name");
                        output::emit(&output::change_line("step", &name, &state, attempt));
                    } else if !output::is_final_state(&state) {
                        // The run's final state is part of the outcome.
                        output::emit(&output::change_line("application", &view.app, &state, 0));
                    }
                }
                if matches!(show, RunShow::Graph { .. }) {
                    redraw(&mut screen, view, &caught_up);
                } else {
                    print_lines(&caught_up);
                }
            }
            Some("log") if show != RunShow::Nothing => {
                let line = printed.live(&event);
                if matches!(show, RunShow::Graph { .. }) {
                    redraw(&mut screen, view, &[line]);
                } else {
                    output::emit(&line);
                }
            }
            Some("end") => {
                let status = match event.get("status") {
                    Some(status) if status.is_object() => status.clone(),
                    _ => client.get_task(&id).await?,
                };
                if view.update(&status) {
                    redraw(&mut screen, view, &[]);
                }
                return Ok(Followed::Ended(status));
            }
            // Log lines not shown, and event types this iscli does not know.
            _ => {}
        }
    }
}

/// Catches up with a step of a followed run whose attempt has just ended
/// (see `output::RunLogs`): the lines of its records not printed yet.
/// `ended`: the step is over, so that nothing of it is missing afterwards.
/// Should its status not be readable now, what is missing comes with the
/// outcome.
async fn catch_up(
    client: &mut Client,
    printed: &mut output::RunLogs,
    id: &str,
    name: &str,
    ended: bool,
) -> Vec<String> {
    let Ok(task) = client.get_task(id).await else {
        return Vec::new();
    };
    let step = output::StepLogs {
        id: id.to_string(),
        name: name.to_string(),
        logs: task
            .get("logs")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let missed = printed.missed(&step);
    if ended {
        printed.settle(id);
    }
    missed
}

/// Prints lines, one by one.
fn print_lines(lines: &[String]) {
    for line in lines {
        output::emit(line);
    }
}

/// The log records of the steps of a run that `wanted` picks by task id,
/// read from each step's task status; a step whose status is gone
/// (expired) has none.
async fn step_logs(
    client: &mut Client,
    status: &Value,
    wanted: impl Fn(&str) -> bool,
) -> Result<Vec<output::StepLogs>, CliError> {
    let mut all = Vec::new();
    let steps = status.get("steps").and_then(Value::as_array);
    for step in steps.into_iter().flatten() {
        let id = output::text(step, "id");
        if id.is_empty() || !wanted(&id) {
            continue;
        }
        let logs = match client.get_task(&id).await {
            Ok(task) => task
                .get("logs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            Err(CliError::Api(ApiError {
                kind: ApiErrorKind::NotFound,
                ..
            })) => Vec::new(),
            Err(e) => return Err(e),
        };
        all.push(output::StepLogs {
            id,
            name: output::text(step, "name"),
            logs,
        });
    }
    Ok(all)
}

/// A run for people (`task show isapp-...`, `app logs`): the run sheet and
/// its steps' log lines; with --json, the status as the server sent it.
async fn show_run(client: &mut Client, status: &Value, ctx: &Context) -> Result<(), CliError> {
    if ctx.json {
        output::emit(&output::pretty(status));
        return Ok(());
    }
    let logs = output::run_logs(&step_logs(client, status, |_| true).await?);
    let mut text = output::run_sheet(status);
    text.push_str(&output::run_logs_section(status, &logs));
    output::emit(&text);
    Ok(())
}

/// `iscli task logs isapp-...`: the log lines of every step of the run in
/// time order; with --follow on a run that has not ended, then each new one
/// as it is logged, then the ones only the steps' final statuses hold. With
/// --json, only the final list.
async fn run_logs(client: &mut Client, status: &Value, follow: bool, ctx: &Context) -> Result<(), CliError> {
    let steps = step_logs(client, status, |_| true).await?;
    let running = !output::is_final_state(&output::text(status, "state"));
    if !(follow && running) {
        let logs = output::run_logs(&steps);
        let text = output::run_logs_text(status, &logs);
        ctx.print(&Value::Array(logs), |_| text);
        return Ok(());
    }
    let mut printed = output::RunLogs::default();
    let show = if ctx.json {
        RunShow::Nothing
    } else {
        // Everything logged so far, in time order, noted as printed.
        print_text(&printed.late(&steps));
        RunShow::Logs
    };
    let mut view = live::RunView::from_status(status);
    let last = match follow_run(client, &mut view, None, show, &mut printed).await? {
        Followed::Ended(last) => last,
        // Without a deadline following only ends with the run; should that
        // change, show what is known.
        Followed::StillRunning(_) => client.get_task(&view.id).await?,
    };
    let unsettled = |id: &str| !printed.is_settled(id);
    let steps = step_logs(client, &last, unsettled).await?;
    if ctx.json {
        output::emit(&output::pretty(&Value::Array(output::run_logs(&steps))));
    } else {
        print_text(&printed.late(&steps));
    }
    Ok(())
}

async fn config(client: &mut Client, cmd: ConfigCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        ConfigCommand::List => {
            let v = client.list_configurations().await?;
            ctx.print(&v, |v| output::list_table(v, "configurations"));
        }
        ConfigCommand::Get { name } => {
            let v = client.get_configuration(&name).await?;
            ctx.print(&v, output::pretty);
        }
        ConfigCommand::Delete { name } => {
            let deleted = client.delete_configuration(&name).await?;
            print_deleted(ctx, "configuration", &deleted);
        }
    }
    Ok(Outcome::Success)
}

/// `-A` then `-I`, each printing one result line (or the server's JSON).
async fn syncpack_ops(client: &mut Client, ops: &SyncPackOps, ctx: &Context) -> Result<Outcome, CliError> {
    let version = ops.version.as_deref();
    let shown = match version {
        Some(v) => format!("{} {v}", ops.name),
        None => ops.name.clone(),
    };
    if ops.activate {
        let v = client.activate_syncpack(&ops.name, version, ops.force).await?;
        ctx.print(&v, |_| format!("activated syncpack {shown}"));
    }
    if ops.install {
        let v = client.install_syncpack(&ops.name, version, ops.force).await?;
        ctx.print(&v, |_| format!("installed syncpack {shown}"));
    }
    Ok(Outcome::Success)
}

fn print_deleted(ctx: &Context, noun: &str, name: &str) {
    ctx.print(&json!({ "deleted": noun, "name": name }), |_| {
        format!("deleted {noun} {name}")
    });
}
