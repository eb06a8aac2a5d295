//! `iscli pack ...` (alias `syncpack`): listing, showing and deleting
//! uploaded syncpacks. Activating and installing are `syncpack`'s.

use serde_json::{json, Value};

use super::syncpack::{pack_label, unexpected};
use super::{Context, Outcome};
use crate::args::PackCommand;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: PackCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        PackCommand::List { installed, activated } => {
            let answer = client.list_syncpacks(installed, activated).await?;
            let Some(packs) = answer.as_array() else {
                return Err(unexpected("a list of syncpacks", &answer));
            };
            ctx.print(packs.as_slice(), output::pack_table)?;
        }
        PackCommand::Show { name } => {
            let doc = client.get_syncpack(&name).await?;
            if !doc.is_object() {
                return Err(unexpected("the syncpack's document", &doc));
            }
            ctx.print(&doc, output::pack_sheet)?;
        }
        PackCommand::Delete { name, version, force } => {
            let name = client.delete_syncpack(&name, version.as_deref(), force).await?;
            output::emit(&deleted(ctx, &name, version.as_deref())?);
        }
    }
    Ok(Outcome::Success)
}

/// What `pack delete` prints: `deleted syncpack NAME VERSION`, or with
/// --json `{"deleted": "syncpack", "name", "version"}`. Without -V the node
/// deleted its newest upload, which the line says, not knowing its number.
fn deleted(ctx: &Context, name: &str, version: Option<&str>) -> Result<String, CliError> {
    let mut doc = json!({"deleted": "syncpack", "name": name});
    if let Some(v) = version {
        doc["version"] = Value::from(v);
    }
    ctx.render(&doc, |_| match version {
        Some(_) => format!("deleted syncpack {}", pack_label(name, version)),
        None => format!("deleted syncpack {name} (its newest uploaded version)"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::ConnectionFlags;

    fn ctx(json: bool) -> Context {
        Context {
            connection: ConnectionFlags::default(),
            json,
        }
    }

    #[test]
    fn deletes_name_the_version_when_one_was_given() {
        assert_eq!(
            deleted(&ctx(false), "p", Some("0.0.1")).unwrap(),
            "deleted syncpack p 0.0.1"
        );
        assert_eq!(
            deleted(&ctx(false), "p", None).unwrap(),
            "deleted syncpack p (its newest uploaded version)"
        );
        let doc: Value = serde_json::from_str(&deleted(&ctx(true), "p", Some("2")).unwrap()).unwrap();
        assert_eq!(doc, json!({"deleted": "syncpack", "name": "p", "version": "2"}));
        let doc: Value = serde_json::from_str(&deleted(&ctx(true), "p", None).unwrap()).unwrap();
        assert_eq!(doc, json!({"deleted": "syncpack", "name": "p"}));
    }
}
