//! `iscli cluster ...`: the members (status, adding and removing a node),
//! answered as the cluster's status, and rotating the cluster key,
//! answered as how much was sealed again.

use super::syncpack::unexpected;
use super::{Context, Outcome};
use crate::args::ClusterCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(
    client: &mut Client,
    cmd: ClusterCommand,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    let status = match cmd {
        ClusterCommand::Status => client.cluster_status().await?,
        ClusterCommand::Add { id, address } => client.add_cluster_node(id, address).await?,
        ClusterCommand::Remove { id } => client.remove_cluster_node(id).await?,
        ClusterCommand::RotateKey => {
            let answer = client.rotate_cluster_key().await?;
            if !answer.is_object() {
                return Err(unexpected("the counts of a key rotation", &answer));
            }
            ctx.print(&answer, output::key_rotated)?;
            return Ok(Outcome::Success);
        }
    };
    ctx.print(&status, output::cluster_sheet)?;
    Ok(Outcome::Success)
}
