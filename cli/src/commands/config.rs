//! `iscli config ...`: listing, showing and deleting configurations.

use super::{deleted, Context, Outcome};
use crate::args::ConfigCommand;
use crate::client::{self, Client};
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: ConfigCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        ConfigCommand::List => {
            let list = client.list_configurations().await?;
            ctx.print(&list.items, |items| output::list_table(items, "configurations"))?;
        }
        ConfigCommand::Get { name } => {
            // --json: the document as stored; else its summary.
            let config = client.get_configuration(&name).await?;
            let doc = client::document(&config.document_json);
            if ctx.json {
                output::emit(&output::pretty(&doc));
            } else {
                output::emit(&output::configuration_summary(&doc));
            }
        }
        ConfigCommand::Delete { name } => {
            let name = client.delete_configuration(&name).await?;
            output::emit(&deleted(ctx, "configuration", &name)?);
        }
    }
    Ok(Outcome::Success)
}
