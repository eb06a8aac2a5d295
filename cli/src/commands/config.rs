//! `iscli config ...`: listing, showing and deleting configurations.

use super::{deleted, Context, Outcome};
use crate::args::ConfigCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: ConfigCommand, ctx: &Context) -> Result<Outcome, CliError> {
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
            let name = client.delete_configuration(&name).await?;
            output::emit(&deleted(ctx, "configuration", &name));
        }
    }
    Ok(Outcome::Success)
}
