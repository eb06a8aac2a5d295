//! Carrying out an `Action`: resolving the connection settings, connecting,
//! calling the RPCs and printing the answers (pretty JSON with `--json`,
//! else the readable forms from `output.rs`). One handler per noun; a new
//! subcommand is a new match arm in `run_command` plus its handler here.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

use crate::args::{
    Action, AppCommand, ClusterCommand, Command, ConfigCommand, StepCommand, StepRun, SyncPackOps,
    TaskCommand,
};
use crate::client::Client;
use crate::error::{ApiError, ApiErrorKind, CliError};
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
        Command::Cluster(ClusterCommand::Status) => {
            let v = client.cluster_status().await?;
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
    if finished {
        return Ok(finish(ctx, &answer, &mut seen));
    }
    let id = output::text(&answer, "id");
    if !ctx.json {
        output::emit(&output::task_started(&run.name, &id));
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
            ctx.print(&v, output::task_sheet);
        }
        TaskCommand::Logs { id, follow } => {
            let status = client.get_task(&id).await?;
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
    }
    Ok(Outcome::Success)
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
