//! Users of the API, their roles and API keys: who may do what.
//!
//! The built-in administrator `isadmin` is created when the cluster is
//! bootstrapped. Every operation of the API needs one [`Permission`]; a
//! [`Role`] is a fixed set of them. The rule of which operation needs which
//! permission lives in `api::access`; the rule of which role holds which
//! permission lives here, in [`Role::permits`].

use serde::{Deserialize, Serialize};

use super::ModelError;

pub const ADMIN_USER: &str = "isadmin";

/// Passwords shorter than this are refused (the generated ones are longer).
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Argon2 takes any length, but a megabyte password is an attack, not a secret.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read content, runs, logs, reports, the cluster's state.
    Read,
    /// Start, replay and revoke runs and steps.
    Run,
    /// Change content: steps, applications, configurations, schedules,
    /// SyncPacks, reports, the cache.
    Write,
    /// Users, roles, other users' API keys, cluster membership, the audit trail.
    Admin,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Read,
        Permission::Run,
        Permission::Write,
        Permission::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Run => "run",
            Permission::Write => "write",
            Permission::Admin => "admin",
        }
    }
}

/// How much of a configuration's values a role may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigView {
    /// Plain values, and encrypted ones as their ciphertext (so an export
    /// uploaded again keeps them).
    Full,
    /// Plain values; encrypted ones as `******`.
    Masked,
    /// Names only: every value is left out.
    Hidden,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Role {
    Viewer,
    Operator,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Administrator, Role::Operator, Role::Viewer];

    pub fn name(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Role::Administrator => "everything, including users, roles, cluster membership and the audit trail",
            Role::Operator => "run, replay and revoke applications and steps, and read everything; configuration secrets masked",
            Role::Viewer => "read only; configuration values hidden",
        }
    }

    /// The role of `name` (case-insensitive); `admin` is accepted for
    /// `administrator`.
    pub fn parse(name: &str) -> Result<Role, ModelError> {
        let lower = name.trim().to_ascii_lowercase();
        match lower.as_str() {
            "administrator" | "admin" => Ok(Role::Administrator),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            _ => Err(ModelError::invalid(
                "the role",
                vec![format!(
                    "unknown role {name:?}: the roles are administrator, operator and viewer"
                )],
            )),
        }
    }

    pub fn permits(self, p: Permission) -> bool {
        match self {
            Role::Administrator => true,
            Role::Operator => matches!(p, Permission::Read | Permission::Run),
            Role::Viewer => p == Permission::Read,
        }
    }

    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL.into_iter().filter(|p| self.permits(*p)).collect()
    }

    pub fn config_view(self) -> ConfigView {
        match self {
            Role::Administrator => ConfigView::Full,
            Role::Operator => ConfigView::Masked,
            Role::Viewer => ConfigView::Hidden,
        }
    }
}

/// A user as replicated: only a slow password hash (PHC string) is stored.
/// A user whose role was taken away (`role: None`) can log in but do nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub password_hash: String,
    pub role: Option<Role>,
}

/// The password rule: long enough to be worth hashing, short enough not to
/// be an attack on the hash.
pub fn check_password(password: &str) -> Result<(), ModelError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(bad_password(format!(
            "it is too short: use at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(bad_password(format!(
            "it is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(bad_password("it holds a control character".into()));
    }
    Ok(())
}

fn bad_password(problem: String) -> ModelError {
    ModelError::invalid("the password", vec![problem])
}

/// What an API key's text starts with, so it is recognisable in a leak scan.
pub const API_KEY_PREFIX: &str = "isk_";

/// An API key as replicated: the SHA-256 of its secret, never the secret.
/// Keys are long random strings, so a fast hash is enough (no dictionary
/// can guess one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Public part of the key, shown in listings.
    pub id: String,
    /// The user the key acts for; the key goes with that user.
    pub owner: String,
    pub label: String,
    /// At most the owner's role when created; the owner's current role
    /// caps it too (`effective_role`).
    pub role: Role,
    pub secret_sha256: [u8; 32],
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
}

impl ApiKey {
    /// The role the key acts with: its own, capped by its owner's now.
    pub fn effective_role(&self, owner_role: Option<Role>) -> Option<Role> {
        owner_role.map(|r| r.min(self.role))
    }
}

/// Splits a key's text `isk_<id>_<secret>` into id and secret.
pub fn split_api_key(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(API_KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (ok(id) && ok(secret)).then_some((id, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_hold_their_permissions_only() {
        use Permission::*;
        assert_eq!(Role::Administrator.permissions(), vec![Read, Run, Write, Admin]);
        assert_eq!(Role::Operator.permissions(), vec![Read, Run]);
        assert_eq!(Role::Viewer.permissions(), vec![Read]);
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Administrator);
    }

    #[test]
    fn role_names_parse_case_insensitively() {
        assert_eq!(Role::parse("Operator").unwrap(), Role::Operator);
        assert_eq!(Role::parse("admin").unwrap(), Role::Administrator);
        assert!(Role::parse("root")
            .unwrap_err()
            .to_string()
            .contains("administrator, operator and viewer"));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.name()).unwrap(), r);
        }
    }

    #[test]
    fn a_key_never_acts_above_its_owner() {
        let key = ApiKey {
            id: "a".into(),
            owner: "bob".into(),
            label: String::new(),
            role: Role::Operator,
            secret_sha256: [0; 32],
            created_ms: 0,
            expires_ms: None,
        };
        assert_eq!(
            key.effective_role(Some(Role::Administrator)),
            Some(Role::Operator)
        );
        assert_eq!(key.effective_role(Some(Role::Viewer)), Some(Role::Viewer));
        assert_eq!(key.effective_role(None), None);
    }

    #[test]
    fn password_rule() {
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(2000)).is_err());
        assert!(check_password("has\nnewline").is_err());
    }

    #[test]
    fn key_text_splits_into_id_and_secret() {
        assert_eq!(split_api_key("isk_ab12_s3cr3t"), Some(("ab12", "s3cr3t")));
        assert_eq!(split_api_key("isk_ab12"), None);
        assert_eq!(split_api_key("xsk_a_b"), None);
        assert_eq!(split_api_key("isk_a_b c"), None);
        assert_eq!(split_api_key("isk__b"), None);
    }
}
