//! Carrying out an `Action`: resolving the connection settings, connecting,
//! calling the RPCs and printing the answers (pretty JSON with `--json`,
//! else the readable forms from `output.rs`). One handler per noun; a new
//! subcommand is a new match arm in `run_command` plus its handler here.

use serde_json::{json, Value};

use crate::args::{
    Action, AppCommand, ClusterCommand, Command, ConfigCommand, StepCommand, SyncPackOps,
};
use crate::client::Client;
use crate::error::CliError;
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
    }
    Ok(Outcome::Success)
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

async fn config(
    client: &mut Client,
    cmd: ConfigCommand,
    ctx: &Context,
) -> Result<Outcome, CliError> {
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
async fn syncpack_ops(
    client: &mut Client,
    ops: &SyncPackOps,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    let version = ops.version.as_deref();
    let shown = match version {
        Some(v) => format!("{} {v}", ops.name),
        None => ops.name.clone(),
    };
    if ops.activate {
        let v = client
            .activate_syncpack(&ops.name, version, ops.force)
            .await?;
        ctx.print(&v, |_| format!("activated syncpack {shown}"));
    }
    if ops.install {
        let v = client
            .install_syncpack(&ops.name, version, ops.force)
            .await?;
        ctx.print(&v, |_| format!("installed syncpack {shown}"));
    }
    Ok(Outcome::Success)
}

fn print_deleted(ctx: &Context, noun: &str, name: &str) {
    ctx.print(&json!({ "deleted": noun, "name": name }), |_| {
        format!("deleted {noun} {name}")
    });
}
