//! The RPCs of users, roles, API keys and the audit trail. Their answers
//! are JSON documents (the caller, lists, a user, a key, a page of audit
//! records); they come back as values for `output` to read tolerantly, and
//! unchanged for `--json`. Passwords go out in requests only; nothing here
//! keeps or logs them.

use is_proto::v1::{
    CreateApiKeyRequest, CreateUserRequest, Empty, Json, ListAuditRequest, RoleOwner, SetPasswordRequest,
};
use serde_json::Value;
use tonic::Response;

use super::{deleted_name, document, id_req, name_req, Client, DeletedName};
use crate::error::CliError;

/// What `key create` asks for; `None` leaves the choice to the node (the
/// caller's role, the longest lifetime).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NewKey {
    pub(crate) label: String,
    pub(crate) role: Option<String>,
    pub(crate) expires_in_days: Option<u64>,
}

fn json_of(answer: Response<Json>) -> Value {
    document(&answer.into_inner().json)
}

impl Client {
    /// The caller: `{"name", "role", "permissions", "api_key"}`.
    pub(crate) async fn whoami(&mut self) -> Result<Value, CliError> {
        match self.rpc.who_am_i(Empty {}).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Every user, `[{"name", "role"}]`.
    pub(crate) async fn list_users(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_users(Empty {}).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn create_user(
        &mut self,
        name: &str,
        password: String,
        role: &str,
    ) -> Result<Value, CliError> {
        let req = CreateUserRequest {
            name: name.to_string(),
            password,
            role: role.to_string(),
        };
        match self.rpc.create_user(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_user(&mut self, name: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_user(name_req(name)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, name)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Sets `name`'s password (None: the caller's own).
    pub(crate) async fn set_password(
        &mut self,
        name: Option<&str>,
        password: String,
    ) -> Result<Value, CliError> {
        let req = SetPasswordRequest {
            name: name.unwrap_or_default().to_string(),
            password,
        };
        match self.rpc.set_password(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The roles, `[{"name", "description", "permissions"}]`.
    pub(crate) async fn list_roles(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_roles(Empty {}).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The role of one user, `{"owner", "role"}` (role null: none).
    pub(crate) async fn get_role_owner(&mut self, owner: &str) -> Result<Value, CliError> {
        match self.rpc.get_role_owner(name_req(owner)).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Gives `owner` the role `role`; answers `{"owner", "role"}`.
    pub(crate) async fn put_role_owner(&mut self, owner: &str, role: &str) -> Result<Value, CliError> {
        let req = RoleOwner {
            owner: owner.to_string(),
            role: role.to_string(),
        };
        match self.rpc.put_role_owner(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Takes `owner`'s role away; answers `{"owner", "role": null}`.
    pub(crate) async fn delete_role_owner(&mut self, owner: &str) -> Result<Value, CliError> {
        let req = RoleOwner {
            owner: owner.to_string(),
            role: String::new(),
        };
        match self.rpc.delete_role_owner(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// A new key acting as the caller; the answer holds its text (`key`),
    /// which the node never shows again.
    pub(crate) async fn create_api_key(&mut self, key: &NewKey) -> Result<Value, CliError> {
        let req = CreateApiKeyRequest {
            label: key.label.clone(),
            role: key.role.clone().unwrap_or_default(),
            expires_in_days: key.expires_in_days.unwrap_or(0),
        };
        match self.rpc.create_api_key(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// The caller's keys (every key for an administrator), without secrets.
    pub(crate) async fn list_api_keys(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_api_keys(Empty {}).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn revoke_api_key(&mut self, id: &str) -> Result<DeletedName, CliError> {
        match self.rpc.revoke_api_key(id_req(id)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, id)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// One page of the audit trail, newest first: `{"records": [...],
    /// "next_cursor": ...}`. `cursor`: the previous page's `next_cursor`
    /// (None: the newest records); `limit`: None for the node's 50.
    pub(crate) async fn list_audit(
        &mut self,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Value, CliError> {
        let req = ListAuditRequest {
            cursor: cursor.unwrap_or_default().to_string(),
            limit: limit.unwrap_or(0),
        };
        match self.rpc.list_audit(req).await {
            Ok(r) => Ok(json_of(r)),
            Err(s) => Err(self.fail(s)),
        }
    }
}
