//! `iscli whoami`, `iscli user ...`, `iscli role ...` and `iscli key ...`:
//! who the caller is, managing users and their roles, and API keys.
//!
//! A user command is prepared first (`prepare_user`: a new password is read
//! from the flag, stdin or the terminal) so that nothing is asked for after
//! a connection was opened, and a bad line fails before any network call.
//! `key create` prints the key alone on stdout (so a script can capture it)
//! and its warning on stderr; nothing else ever prints a key or password.

use serde_json::{json, Value};

use super::syncpack::unexpected;
use super::{deleted, Context, Outcome};
use crate::args::{KeyCommand, RoleCommand, UserCommand};
use crate::client::{self, Client, NewKey};
use crate::error::CliError;
use crate::output;
use crate::password::new_password;
use crate::settings::api_key_id;

/// A user command with its new password, if it sets one, already read.
pub(crate) enum UserAction {
    List,
    Add {
        name: String,
        role: &'static str,
        password: String,
    },
    Delete {
        name: String,
    },
    Passwd {
        name: Option<String>,
        password: String,
    },
}

/// Reads the new password a command needs (the flag, stdin, or asked for
/// on the terminal).
pub(crate) fn prepare_user(cmd: UserCommand) -> Result<UserAction, CliError> {
    Ok(match cmd {
        UserCommand::List => UserAction::List,
        UserCommand::Add(add) => UserAction::Add {
            password: new_password(add.new_password, &add.name)?,
            role: add.role.as_str(),
            name: add.name,
        },
        UserCommand::Delete { name } => UserAction::Delete { name },
        UserCommand::Passwd(passwd) => {
            let whose = passwd.name.as_deref().unwrap_or("your account");
            UserAction::Passwd {
                password: new_password(passwd.new_password, whose)?,
                name: passwd.name,
            }
        }
    })
}

/// `iscli whoami`.
pub(crate) async fn whoami(client: &mut Client, ctx: &Context) -> Result<Outcome, CliError> {
    let me = client.whoami().await?;
    ctx.print(&me, output::whoami_sheet)?;
    Ok(Outcome::Success)
}

pub(crate) async fn user(
    client: &mut Client,
    action: UserAction,
    ctx: &Context,
) -> Result<Outcome, CliError> {
    match action {
        UserAction::List => {
            let users = client.list_users().await?;
            ctx.print(list(&users, "a list of users")?, output::user_table)?;
        }
        UserAction::Add { name, role, password } => {
            let created = client.create_user(&name, password, role).await?;
            ctx.print(&created, output::user_created)?;
        }
        UserAction::Delete { name } => {
            let name = client.delete_user(&name).await?;
            output::emit(&deleted(ctx, "user", &name)?);
        }
        UserAction::Passwd { name, password } => {
            let changed = client.set_password(name.as_deref(), password).await?;
            ctx.print(&changed, output::password_changed)?;
        }
    }
    Ok(Outcome::Success)
}

pub(crate) async fn role(client: &mut Client, cmd: RoleCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        RoleCommand::List => {
            let roles = client.list_roles().await?;
            ctx.print(list(&roles, "a list of roles")?, output::role_table)?;
        }
        RoleCommand::Show { owner } => {
            let owner = client.get_role_owner(&owner).await?;
            ctx.print(&owner, output::role_owner_line)?;
        }
        RoleCommand::Assign { owner, role } => {
            let owner = client.put_role_owner(&owner, role.as_str()).await?;
            ctx.print(&owner, output::role_changed)?;
        }
        RoleCommand::Unassign { owner } => {
            let owner = client.delete_role_owner(&owner).await?;
            ctx.print(&owner, output::role_changed)?;
        }
    }
    Ok(Outcome::Success)
}

pub(crate) async fn key(client: &mut Client, cmd: KeyCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        KeyCommand::Create(create) => {
            let request = NewKey {
                label: create.label.unwrap_or_default(),
                role: create.role.map(|r| r.as_str().to_string()),
                expires_in_days: create.expires_days,
            };
            let created = client.create_api_key(&request).await?;
            let text = created
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| client::incomplete("the new key's text"))?;
            // The key alone on stdout, or the whole answer with --json.
            output::emit(&ctx.render(&created, |_| text.to_string())?);
            output::warn(&output::key_warning(&created));
        }
        KeyCommand::List => {
            let keys = client.list_api_keys().await?;
            ctx.print(list(&keys, "a list of API keys")?, output::key_table)?;
        }
        KeyCommand::Revoke { id } => {
            let id = client.revoke_api_key(key_id_of(&id)).await?;
            let line = ctx.render(&json!({ "revoked": "api key", "id": id }), |_| {
                format!("revoked API key {id}: calls made with it now fail")
            })?;
            output::emit(&line);
        }
    }
    Ok(Outcome::Success)
}

/// The id to revoke: `key revoke` takes the id `key list` shows, or the
/// key's whole text (whose id is its public part).
fn key_id_of(given: &str) -> &str {
    api_key_id(given.trim()).unwrap_or(given)
}

/// The answer's items when it is a JSON array.
fn list<'a>(answer: &'a Value, what: &str) -> Result<&'a [Value], CliError> {
    answer
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| unexpected(what, answer))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{RoleName, UserAdd, UserPasswd};

    #[test]
    fn a_key_is_revoked_by_its_id_or_by_its_whole_text() {
        assert_eq!(key_id_of("1a2b3c"), "1a2b3c");
        assert_eq!(key_id_of("isk_1a2b3c_s3cr3t\n"), "1a2b3c");
    }

    #[test]
    fn a_new_password_from_the_flag_goes_with_the_command() {
        let add = UserCommand::Add(UserAdd {
            name: "olga".into(),
            role: RoleName::Operator,
            new_password: Some("olga-password".into()),
        });
        match prepare_user(add).unwrap() {
            UserAction::Add { name, role, password } => {
                assert_eq!(
                    (name.as_str(), role, password.as_str()),
                    ("olga", "operator", "olga-password")
                );
            }
            _ => panic!("user add prepared as another action"),
        }
        let own = UserCommand::Passwd(UserPasswd {
            name: None,
            new_password: Some("new-password".into()),
        });
        match prepare_user(own).unwrap() {
            UserAction::Passwd { name, password } => {
                assert_eq!((name, password.as_str()), (None, "new-password"));
            }
            _ => panic!("user passwd prepared as another action"),
        }
    }

    #[test]
    fn lists_must_be_arrays() {
        let items = json!([{"name": "viewer"}]);
        assert_eq!(list(&items, "a list of roles").unwrap().len(), 1);
        let err = list(&json!({"error": "x"}), "a list of roles").unwrap_err();
        assert!(
            err.render().contains("a list of roles was expected"),
            "{}",
            err.render()
        );
    }
}
