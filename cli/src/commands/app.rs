//! `iscli app ...`: listing, showing and deleting applications, `app logs`
//! (the last run, shown like `task show`) and `app run`, which starts a run
//! and follows it like `runs.rs` does.

use std::time::Duration;

use tokio::time::Instant;

use super::{deleted, Context, Outcome};
use crate::args::{AppCommand, AppRun};
use crate::client::{self, Client};
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: AppCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        AppCommand::List => {
            let list = client.list_applications().await?;
            ctx.print(&list.items, |items| output::list_table(items, "applications"))?;
        }
        AppCommand::Get { name } => {
            // --json: the document as uploaded; else its summary.
            let app = client.get_application(&name).await?;
            let doc = client::document(&app.document_json);
            if ctx.json {
                output::emit(&output::pretty(&doc));
            } else {
                output::emit(&output::application_summary(&doc));
            }
        }
        AppCommand::Delete { name } => {
            let name = client.delete_application(&name).await?;
            output::emit(&deleted(ctx, "application", &name)?);
        }
        AppCommand::Run(run) => return run_app(client, &run, ctx).await,
        AppCommand::Logs { name } => {
            let last = client.application_logs(&name).await?;
            super::runs::show_run(client, &last, ctx).await?;
        }
    }
    Ok(Outcome::Success)
}

/// `iscli app run`: starts the run, follows it for up to `--wait` seconds
/// (the live view and the log lines), then prints the outcome (or that it
/// is still running).
async fn run_app(client: &mut Client, app_run: &AppRun, ctx: &Context) -> Result<Outcome, CliError> {
    let params = app_run.params()?;
    // Deadline first: the wait counts from when the command asked.
    let until = Instant::now().checked_add(Duration::from_secs(app_run.wait));
    // Started without waiting: following it is iscli's job.
    let answer = client.run_application(&app_run.name, &params, 0).await?;
    let status = answer.run.ok_or_else(|| client::incomplete("the run"))?;
    if !ctx.json {
        output::emit(&output::run_started(&app_run.name, &status.id));
    }
    super::runs::follow_new_run(client, status, answer.finished, app_run.wait, until, ctx).await
}
