//! Users of the API. The built-in administrator `isadmin` is created when the
//! cluster is bootstrapped; roles arrive with the roles issue.

use serde::{Deserialize, Serialize};

pub const ADMIN_USER: &str = "isadmin";

/// A user as replicated: only a slow password hash (PHC string) is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub password_hash: String,
    pub roles: Vec<String>,
}
