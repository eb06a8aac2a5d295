//! The operations on users, roles and API keys, shared by both transports.
//! Which operations a role may call is decided before these run
//! (`api::access`); what is decided here is what depends on the thing
//! acted on: one's own password and keys need no `admin`, other users'
//! do, and a key never gets more than its creator's role.

use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::auth::Principal;
use super::packs::refusal;
use super::{ApiError, Service};
use crate::model::names::name_problem;
use crate::model::user::{check_password, ApiKey, Permission, Role, User, API_KEY_PREFIX};
use crate::store::{Command, CommandResult};

/// The longest an API key may live.
const MAX_KEY_DAYS: u64 = 3650;
const DAY_MS: u64 = 86_400_000;

fn role_name(role: Option<Role>) -> Value {
    role.map_or(Value::Null, |r| json!(r.name()))
}

fn key_view(k: &ApiKey) -> Value {
    json!({
        "id": k.id,
        "owner": k.owner,
        "label": k.label,
        "role": k.role.name(),
        "created_ms": k.created_ms,
        "expires_ms": k.expires_ms,
    })
}

fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Service {
    fn no_user(name: &str) -> ApiError {
        ApiError::NotFound(format!(
            "no user named {name:?} (list them with GET /api/v1/users or `iscli user list`)"
        ))
    }

    /// The caller: name, role and what it may do.
    pub fn whoami(&self, p: &Principal) -> Value {
        json!({
            "name": p.user,
            "role": role_name(p.role),
            "permissions": p.role.map(Role::permissions).unwrap_or_default().iter().map(|x| x.name()).collect::<Vec<_>>(),
            "api_key": p.api_key,
        })
    }

    pub fn list_users(&self) -> Value {
        let sm = self.inner.content.read();
        Value::Array(
            sm.content
                .users
                .values()
                .map(|u| json!({"name": u.name, "role": role_name(u.role)}))
                .collect(),
        )
    }

    pub async fn create_user(&self, name: &str, password: &str, role: &str) -> Result<Value, ApiError> {
        let mut problems = Vec::new();
        problems.extend(name_problem(name).map(|p| format!("user name: {p}")));
        let role = Role::parse(role).map_err(ApiError::from);
        if let Err(e) = check_password(password) {
            problems.push(e.to_string());
        }
        if let Err(ApiError::BadRequest { details, .. }) = &role {
            problems.extend(details.iter().cloned());
        }
        let (true, Ok(role)) = (problems.is_empty(), role) else {
            return Err(ApiError::BadRequest {
                message: format!("cannot create user {name:?}"),
                details: problems,
            });
        };
        let password_hash = self.hash(password).await?;
        let user = User {
            name: name.to_string(),
            password_hash,
            role: Some(role),
        };
        refusal(self.write(Command::CreateUser(user)).await?)?;
        Ok(json!({"name": name, "role": role.name(), "result": "created"}))
    }

    async fn hash(&self, password: &str) -> Result<String, ApiError> {
        self.inner
            .passwords
            .hash(password)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    pub async fn delete_user(&self, name: &str) -> Result<is_proto::v1::Deleted, ApiError> {
        match refusal(
            self.write(Command::DeleteUser {
                name: name.to_string(),
            })
            .await?,
        )? {
            CommandResult::Deleted { existed: true } => Ok(is_proto::v1::Deleted {
                name: name.to_string(),
                deleted: true,
            }),
            _ => Err(Self::no_user(name)),
        }
    }

    /// Sets `name`'s password: one's own, or anyone's with `admin`.
    pub async fn set_password(&self, p: &Principal, name: &str, password: &str) -> Result<Value, ApiError> {
        if p.user != name {
            p.require(Permission::Admin, &format!("change the password of {name:?}"))?;
        }
        check_password(password)?;
        if !self.inner.content.read().content.users.contains_key(name) {
            return Err(Self::no_user(name));
        }
        let password_hash = self.hash(password).await?;
        refusal(
            self.write(Command::SetUserPassword {
                name: name.to_string(),
                password_hash,
            })
            .await?,
        )?;
        Ok(json!({"name": name, "result": "password changed"}))
    }

    pub fn list_roles(&self) -> Value {
        Value::Array(
            Role::ALL
                .iter()
                .map(|r| {
                    json!({
                        "name": r.name(),
                        "description": r.description(),
                        "permissions": r.permissions().iter().map(|p| p.name()).collect::<Vec<_>>(),
                    })
                })
                .collect(),
        )
    }

    pub fn list_role_owners(&self) -> Value {
        let sm = self.inner.content.read();
        Value::Array(
            sm.content
                .users
                .values()
                .filter(|u| u.role.is_some())
                .map(|u| json!({"owner": u.name, "role": role_name(u.role)}))
                .collect(),
        )
    }

    pub fn get_role_owner(&self, owner: &str) -> Result<Value, ApiError> {
        let sm = self.inner.content.read();
        let user = sm.content.users.get(owner).ok_or_else(|| Self::no_user(owner))?;
        Ok(json!({"owner": owner, "role": role_name(user.role)}))
    }

    /// Gives `owner` a role (None takes it away).
    pub async fn set_role(&self, owner: &str, role: Option<&str>) -> Result<Value, ApiError> {
        let role = role.map(Role::parse).transpose()?;
        refusal(
            self.write(Command::SetUserRole {
                name: owner.to_string(),
                role,
            })
            .await?,
        )
        .map_err(|e| match e {
            ApiError::NotFound(_) => Self::no_user(owner),
            other => other,
        })?;
        Ok(json!({"owner": owner, "role": role_name(role)}))
    }

    /// A new API key for the caller; its text is in this answer only.
    pub async fn create_api_key(
        &self,
        p: &Principal,
        label: &str,
        role: Option<&str>,
        expires_in_days: Option<u64>,
    ) -> Result<Value, ApiError> {
        let Some(own) = p.role else {
            return Err(p.forbidden(Permission::Read, "create an API key"));
        };
        let role = role.map(Role::parse).transpose()?.unwrap_or(own);
        if role > own {
            return Err(ApiError::Forbidden(format!(
                "{} ({}) cannot create a key with the {} role: a key gets at most its creator's role",
                p.user,
                own.name(),
                role.name()
            )));
        }
        if label.chars().count() > 200 || label.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "the key's label must be at most 200 printable characters",
            ));
        }
        let days = expires_in_days.unwrap_or(MAX_KEY_DAYS);
        if days == 0 || days > MAX_KEY_DAYS {
            return Err(ApiError::bad_request(format!(
                "expires_in_days must be from 1 to {MAX_KEY_DAYS}, got {days}"
            )));
        }
        let (id, secret) = (random_token(8), random_token(24));
        let now = crate::util::now_ms();
        let key = ApiKey {
            id: id.clone(),
            owner: p.user.clone(),
            label: label.to_string(),
            role,
            secret_sha256: Sha256::digest(secret.as_bytes()).into(),
            created_ms: now,
            expires_ms: Some(now + days * DAY_MS),
        };
        let mut view = key_view(&key);
        refusal(self.write(Command::PutApiKey(key)).await?)?;
        view["key"] = json!(format!("{API_KEY_PREFIX}{id}_{secret}"));
        view["note"] = json!("this is the only time the key is shown; store it now");
        Ok(view)
    }

    /// The caller's keys; every key for an administrator.
    pub fn list_api_keys(&self, p: &Principal) -> Value {
        let all = p.may(Permission::Admin);
        let sm = self.inner.content.read();
        Value::Array(
            sm.content
                .api_keys
                .values()
                .filter(|k| all || k.owner == p.user)
                .map(key_view)
                .collect(),
        )
    }

    /// Revokes one of the caller's keys, or anyone's with `admin`.
    pub async fn revoke_api_key(&self, p: &Principal, id: &str) -> Result<is_proto::v1::Deleted, ApiError> {
        let not_found = || {
            ApiError::NotFound(format!(
                "no API key {id:?} of yours (list them with GET /api/v1/apikeys or `iscli key list`)"
            ))
        };
        let owner = self
            .inner
            .content
            .read()
            .content
            .api_keys
            .get(id)
            .map(|k| k.owner.clone());
        match owner {
            Some(o) if o == p.user || p.may(Permission::Admin) => {}
            _ => return Err(not_found()),
        }
        match self.write(Command::DeleteApiKey { id: id.to_string() }).await? {
            CommandResult::Deleted { existed: true } => Ok(is_proto::v1::Deleted {
                name: id.to_string(),
                deleted: true,
            }),
            _ => Err(not_found()),
        }
    }
}
