//! Applying the user and API key commands.
//!
//! **Invariant:** the cluster always keeps at least one user with the
//! administrator role: a role change that demotes, or a delete that removes,
//! the last one is refused when applied (so two concurrent demotions cannot both
//! pass). Checked by this file's tests.
//!
//! **Invariant:** an API key never outlives its owner: deleting a user
//! deletes its keys in the same entry, and a key for a missing owner is
//! refused.

use super::command::{CommandResult, Refusal};
use super::content::{Content, DocKey, StoreOp};
use crate::model::user::{ApiKey, Role, User};

impl Content {
    fn administrators_besides(&self, name: &str) -> usize {
        self.users
            .values()
            .filter(|u| u.name != name && u.role == Some(Role::Administrator))
            .count()
    }

    fn last_admin_refusal(name: &str) -> CommandResult {
        CommandResult::Refused {
            reason: format!(
                "{name:?} is the last administrator: give another user the administrator role first"
            ),
            why: Refusal::Conflict,
        }
    }

    fn no_user(name: &str) -> CommandResult {
        CommandResult::Refused {
            reason: format!("no user named {name:?}"),
            why: Refusal::NotFound,
        }
    }

    pub(super) fn create_user(&mut self, user: User) -> CommandResult {
        if self.users.contains_key(&user.name) {
            return CommandResult::Refused {
                reason: format!("a user named {:?} exists already", user.name),
                why: Refusal::Conflict,
            };
        }
        self.ops.push(StoreOp::Doc(DocKey::User(user.name.clone())));
        self.users.insert(user.name.clone(), user);
        CommandResult::Stored { replaced: false }
    }

    pub(super) fn set_user_password(&mut self, name: &str, password_hash: String) -> CommandResult {
        let Some(user) = self.users.get_mut(name) else {
            return Self::no_user(name);
        };
        user.password_hash = password_hash;
        self.ops.push(StoreOp::Doc(DocKey::User(name.to_string())));
        CommandResult::Stored { replaced: true }
    }

    pub(super) fn set_user_role(&mut self, name: &str, role: Option<Role>) -> CommandResult {
        let Some(user) = self.users.get(name) else {
            return Self::no_user(name);
        };
        if user.role == Some(Role::Administrator)
            && role != Some(Role::Administrator)
            && self.administrators_besides(name) == 0
        {
            return Self::last_admin_refusal(name);
        }
        if let Some(user) = self.users.get_mut(name) {
            user.role = role;
        }
        self.ops.push(StoreOp::Doc(DocKey::User(name.to_string())));
        CommandResult::Stored { replaced: true }
    }

    pub(super) fn delete_user(&mut self, name: &str) -> CommandResult {
        let Some(user) = self.users.get(name) else {
            return CommandResult::Deleted { existed: false };
        };
        if user.role == Some(Role::Administrator) && self.administrators_besides(name) == 0 {
            return Self::last_admin_refusal(name);
        }
        self.users.remove(name);
        self.ops.push(StoreOp::Doc(DocKey::User(name.to_string())));
        let keys: Vec<String> = self
            .api_keys
            .values()
            .filter(|k| k.owner == name)
            .map(|k| k.id.clone())
            .collect();
        for id in keys {
            self.api_keys.remove(&id);
            self.ops.push(StoreOp::Doc(DocKey::ApiKey(id)));
        }
        CommandResult::Deleted { existed: true }
    }

    pub(super) fn put_api_key(&mut self, key: ApiKey) -> CommandResult {
        if !self.users.contains_key(&key.owner) {
            return CommandResult::Refused {
                reason: format!("no user {:?} to own the API key", key.owner),
                why: Refusal::NotFound,
            };
        }
        self.ops.push(StoreOp::Doc(DocKey::ApiKey(key.id.clone())));
        CommandResult::Stored {
            replaced: self.api_keys.insert(key.id.clone(), key).is_some(),
        }
    }

    pub(super) fn delete_api_key(&mut self, id: &str) -> CommandResult {
        let existed = self.api_keys.remove(id).is_some();
        if existed {
            self.ops.push(StoreOp::Doc(DocKey::ApiKey(id.to_string())));
        }
        CommandResult::Deleted { existed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::command::Command;

    fn user(name: &str, role: Option<Role>) -> User {
        User {
            name: name.into(),
            password_hash: "h".into(),
            role,
        }
    }

    fn key(id: &str, owner: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            owner: owner.into(),
            label: String::new(),
            role: Role::Viewer,
            secret_sha256: [1; 32],
            created_ms: 0,
            expires_ms: None,
        }
    }

    fn refused(r: &CommandResult) -> bool {
        matches!(r, CommandResult::Refused { .. })
    }

    #[test]
    fn the_last_administrator_cannot_be_demoted_or_deleted() {
        let mut c = Content::default();
        let role = |name: &str, role| Command::SetUserRole {
            name: name.into(),
            role,
        };
        c.apply(Command::CreateUser(user("isadmin", Some(Role::Administrator))));
        assert!(refused(&c.apply(role("isadmin", Some(Role::Viewer)))));
        assert!(refused(&c.apply(Command::DeleteUser {
            name: "isadmin".into()
        })));
        assert_eq!(c.users["isadmin"].role, Some(Role::Administrator));
        assert!(refused(&c.apply(Command::CreateUser(user("isadmin", None)))));
        c.apply(Command::CreateUser(user("ann", Some(Role::Administrator))));
        assert!(!refused(&c.apply(role("isadmin", None))));
        assert_eq!(c.users["isadmin"].role, None);
        assert!(refused(&c.apply(Command::DeleteUser { name: "ann".into() })));
        assert!(refused(&c.apply(role("ghost", None))));
    }

    #[test]
    fn keys_go_with_their_owner() {
        let mut c = Content::default();
        c.apply(Command::CreateUser(user("isadmin", Some(Role::Administrator))));
        c.apply(Command::CreateUser(user("bob", Some(Role::Operator))));
        assert!(refused(&c.apply(Command::PutApiKey(key("k0", "nobody")))));
        c.apply(Command::PutApiKey(key("k1", "bob")));
        c.apply(Command::PutApiKey(key("k2", "isadmin")));
        assert_eq!(
            c.apply(Command::DeleteUser { name: "bob".into() }),
            CommandResult::Deleted { existed: true }
        );
        assert_eq!(c.api_keys.keys().collect::<Vec<_>>(), vec!["k2"]);
        assert_eq!(
            c.apply(Command::DeleteApiKey { id: "k2".into() }),
            CommandResult::Deleted { existed: true }
        );
        assert!(c.api_keys.is_empty());
    }
}
