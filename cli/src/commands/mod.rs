//! Carrying out an `Action`: resolving the connection settings,
//! connecting, calling the RPCs (`client`) and printing the answers (pretty
//! JSON with `--json`, else the readable forms of `output`).
//!
//! One file per noun: `step`, `task`, `app`, `config`, `cache`, `pack`
//! (list, show, delete), `syncpack` (`-A`/`-I`, following an install),
//! `cluster` (members, rotating the cluster key), `schedule` (add, list,
//! show, enable, disable, delete), `report` (list, following the pages
//! with --all; show, delete), `users` (whoami, users, roles, API keys; a
//! new password is read before connecting), `audit` (the audit trail,
//! following the pages with --all; `pages` gathers them for both);
//! following a run (`app run`, `task replay`, `task logs isapp-... -f`,
//! the live view of `live`) is `runs`. The decisions of following (what an
//! event calls for, when it is over, how to show a run on this stdout) are
//! pure and live apart, in `follow` and `follow_run`; `completions` prints
//! its script without connecting. A new subcommand is a
//! new match arm in `run_command` plus its handler in its noun's file.

use is_proto::v1::TaskState;
use serde::Serialize;
use serde_json::json;

use crate::args::{self, Action, Command, ScheduleCommand};
use crate::client::Client;
use crate::error::CliError;
use crate::output;
use crate::settings::{self, ConnectionFlags};
use crate::upload;

mod app;
mod audit;
mod cache;
mod cluster;
mod config;
mod follow;
mod follow_run;
mod pack;
mod pages;
mod report;
mod runs;
mod schedule;
mod step;
mod syncpack;
mod task;
mod users;

/// How a command ended when it did not fail outright.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything worked: exit 0.
    Success,
    /// Some parts failed and were already reported: exit 1.
    Failed,
}

impl Outcome {
    /// How a command that followed a task or a run to its end (in `state`)
    /// ends: failed when the task or run failed or was revoked.
    pub(crate) fn of(state: TaskState) -> Outcome {
        if output::is_failed(state) {
            Outcome::Failed
        } else {
            Outcome::Success
        }
    }
}

/// Options shared by every command.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub(crate) connection: ConnectionFlags,
    pub(crate) json: bool,
}

impl Context {
    async fn connect(&self) -> Result<Client, CliError> {
        let settings = settings::load(&self.connection)?;
        Client::connect(&settings).await
    }

    /// What to print for an answer: its JSON with --json (see
    /// `output::json_text`), else its readable form.
    fn render<T: Serialize + ?Sized>(
        &self,
        answer: &T,
        readable: impl FnOnce(&T) -> String,
    ) -> Result<String, CliError> {
        if self.json {
            output::json_text(answer)
        } else {
            Ok(readable(answer))
        }
    }

    fn print<T: Serialize + ?Sized>(
        &self,
        answer: &T,
        readable: impl FnOnce(&T) -> String,
    ) -> Result<(), CliError> {
        output::emit(&self.render(answer, readable)?);
        Ok(())
    }
}

/// Runs one action.
pub(crate) async fn run(action: Action, ctx: &Context) -> Result<Outcome, CliError> {
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
                (Some(ops), Outcome::Success) => syncpack::run(&mut client, ops, ctx).await,
                _ => Ok(outcome),
            }
        }
        Action::SyncPack(ops) => {
            let mut client = ctx.connect().await?;
            syncpack::run(&mut client, &ops, ctx).await
        }
        Action::Command(Command::Schedule(ScheduleCommand::Add(what))) => {
            // The --file is read and checked before touching the network.
            let body = schedule::body(&what)?;
            let mut client = ctx.connect().await?;
            schedule::add(&mut client, body, ctx).await
        }
        Action::Command(Command::User(cmd)) => {
            // A new password is read (or asked for) before touching the network.
            let action = users::prepare_user(cmd)?;
            let mut client = ctx.connect().await?;
            users::user(&mut client, action, ctx).await
        }
        Action::Command(Command::Completions { shell }) => completions(shell),
        Action::Command(command) => run_command(command, ctx).await,
    }
}

async fn run_command(command: Command, ctx: &Context) -> Result<Outcome, CliError> {
    let mut client = ctx.connect().await?;
    match command {
        Command::Step(cmd) => step::run(&mut client, cmd, ctx).await,
        Command::App(cmd) => app::run(&mut client, cmd, ctx).await,
        Command::Config(cmd) => config::run(&mut client, cmd, ctx).await,
        Command::About => {
            let about = client.about().await?;
            ctx.print(&about, output::about_sheet)?;
            Ok(Outcome::Success)
        }
        Command::Cluster(cmd) => cluster::run(&mut client, cmd, ctx).await,
        Command::Task(cmd) => task::run(&mut client, cmd, ctx).await,
        Command::Pack(cmd) => pack::run(&mut client, cmd, ctx).await,
        Command::Cache(cmd) => cache::run(&mut client, cmd, ctx).await,
        Command::Schedule(cmd) => schedule::run(&mut client, cmd, ctx).await,
        Command::Report(cmd) => report::run(&mut client, cmd, ctx).await,
        Command::WhoAmI => users::whoami(&mut client, ctx).await,
        Command::User(cmd) => {
            let action = users::prepare_user(cmd)?;
            users::user(&mut client, action, ctx).await
        }
        Command::Role(cmd) => users::role(&mut client, cmd, ctx).await,
        Command::Key(cmd) => users::key(&mut client, cmd, ctx).await,
        Command::Audit(list) => audit::list(&mut client, list, ctx).await,
        // Answered in `run`, before connecting; here for completeness.
        Command::Completions { shell } => completions(shell),
    }
}

/// `iscli completions SHELL`: the script, which needs no node.
fn completions(shell: args::CompletionShell) -> Result<Outcome, CliError> {
    output::emit(&args::completion_script(shell));
    Ok(Outcome::Success)
}

/// Prints text unless it is empty (no blank line for nothing).
fn print_text(text: &str) {
    if !text.is_empty() {
        output::emit(text);
    }
}

/// What a delete prints: `deleted step NAME`, or with --json the document
/// `{"deleted": "step", "name": NAME}`.
fn deleted(ctx: &Context, noun: &str, name: &str) -> Result<String, CliError> {
    ctx.render(&json!({ "deleted": noun, "name": name }), |_| {
        format!("deleted {noun} {name}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(json: bool) -> Context {
        Context {
            connection: ConnectionFlags::default(),
            json,
        }
    }

    #[test]
    fn a_failed_or_revoked_task_makes_the_command_fail() {
        assert_eq!(Outcome::of(TaskState::Failure), Outcome::Failed);
        assert_eq!(Outcome::of(TaskState::Revoked), Outcome::Failed);
        assert_eq!(Outcome::of(TaskState::Success), Outcome::Success);
    }

    #[test]
    fn json_prints_the_answer_itself_else_its_readable_form() {
        let stored = is_proto::v1::Stored {
            name: "x".into(),
            kind: "step".into(),
            result: "created".into(),
        };
        assert_eq!(
            ctx(true).render(&stored, |_| "readable".into()).unwrap(),
            "{\n  \"kind\": \"step\",\n  \"name\": \"x\",\n  \"result\": \"created\"\n}"
        );
        assert_eq!(
            ctx(false)
                .render(&stored, |s| format!("stored {}", s.name))
                .unwrap(),
            "stored x"
        );
    }

    #[test]
    fn deletes_say_what_was_deleted() {
        assert_eq!(
            deleted(&ctx(false), "step", "Greet").unwrap(),
            "deleted step Greet"
        );
        let text = deleted(&ctx(true), "application", "hello").unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc, json!({"deleted": "application", "name": "hello"}));
    }
}
