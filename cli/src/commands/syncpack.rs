//! `-A` (activate) then `-I` (install) of one syncpack, alone or after a
//! successful `-u` upload.

use super::{Context, Outcome};
use crate::args::SyncPackOps;
use crate::client::Client;
use crate::error::CliError;

/// `-A` then `-I`, each printing one result line (or the server's JSON).
pub(crate) async fn run(client: &mut Client, ops: &SyncPackOps, ctx: &Context) -> Result<Outcome, CliError> {
    let version = ops.version.as_deref();
    let shown = label(ops);
    if ops.activate {
        let v = client.activate_syncpack(&ops.name, version, ops.force).await?;
        ctx.print(&v, |_| format!("activated syncpack {shown}"))?;
    }
    if ops.install {
        let v = client.install_syncpack(&ops.name, version, ops.force).await?;
        ctx.print(&v, |_| format!("installed syncpack {shown}"))?;
    }
    Ok(Outcome::Success)
}

/// The syncpack as the result lines name it: `NAME VERSION`, or the name
/// alone when the newest uploaded version is meant.
fn label(ops: &SyncPackOps) -> String {
    match &ops.version {
        Some(v) => format!("{} {v}", ops.name),
        None => ops.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_names_the_version_only_when_one_was_given() {
        let mut ops = SyncPackOps {
            name: "pack".into(),
            version: Some("0.0.1".into()),
            activate: true,
            install: false,
            force: false,
        };
        assert_eq!(label(&ops), "pack 0.0.1");
        ops.version = None;
        assert_eq!(label(&ops), "pack");
    }
}
