//! REST routes for users, roles, API keys, the audit trail and the cluster
//! key (`/users`, `/roles`, `/apikeys`, `/audit`, `/cluster/rotate-key`):
//! decode, call [`Service`], encode.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Principal;
use super::rest::{JsonBody, Path, Query, RawBody};
use super::{ApiError, Service};

type Answer = Result<Json<Value>, ApiError>;

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn required<'a>(doc: &'a Value, key: &str, what: &str) -> Result<&'a str, ApiError> {
    text(doc, key)
        .ok_or_else(|| ApiError::bad_request(format!("\"{key}\" ({what}) is required and must be a string")))
}

/// The body of `POST /users` (schema only: the handler reads the document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NewUser {
    name: String,
    /// At least 8 characters.
    password: String,
    /// `administrator`, `operator` or `viewer` (default).
    role: Option<String>,
}

/// The body of `PUT /users/{name}/password` (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NewPassword {
    password: String,
}

/// The body of `POST /roles/owner` (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RoleGrant {
    /// The user.
    owner: String,
    /// `administrator`, `operator` or `viewer`.
    role: String,
}

/// The body of `DELETE /roles/owner` (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct RoleRevoke {
    /// The user, who keeps its name and password but may do nothing.
    owner: String,
}

/// The body of `POST /apikeys`, all optional (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NewApiKey {
    label: Option<String>,
    /// A role at most the owner's own.
    role: Option<String>,
    expires_in_days: Option<u64>,
}

/// The caller: user, role, API key used.
#[utoipa::path(get, path = "/users/me", tag = "users",
    responses((status = 200, description = "the caller", body = Object)))]
async fn whoami(State(s): State<Service>, Extension(p): Extension<Principal>) -> Json<Value> {
    Json(s.whoami(&p))
}

#[utoipa::path(get, path = "/users", tag = "users",
    responses((status = 200, description = "the users with their roles", body = Value)))]
async fn list_users(State(s): State<Service>) -> Json<Value> {
    Json(s.list_users())
}

/// `{"name", "password", "role"}`
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, description = "the new user", body = Object)))]
async fn create_user(
    State(s): State<Service>,
    JsonBody(doc): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = required(&doc, "name", "the user name")?;
    let password = required(&doc, "password", "at least 8 characters")?;
    let role = text(&doc, "role").unwrap_or("viewer");
    Ok((
        StatusCode::CREATED,
        Json(s.create_user(name, password, role).await?),
    ))
}

#[utoipa::path(delete, path = "/users/{name}", tag = "users",
    params(("name" = String, Path, description = "the user")),
    responses((status = 200, description = "whether the user existed", body = is_proto::v1::Deleted)))]
async fn delete_user(
    State(s): State<Service>,
    Path(name): Path<String>,
) -> Result<Json<is_proto::v1::Deleted>, ApiError> {
    s.delete_user(&name).await.map(Json)
}

/// `{"password"}`; the name `me` is the caller.
#[utoipa::path(put, path = "/users/{name}/password", tag = "users",
    params(("name" = String, Path, description = "the user; `me` is the caller")),
    request_body = NewPassword,
    responses((status = 200, description = "the password is changed", body = Object)))]
async fn set_password(
    State(s): State<Service>,
    Extension(p): Extension<Principal>,
    Path(name): Path<String>,
    JsonBody(doc): JsonBody,
) -> Answer {
    let password = required(&doc, "password", "the new password")?;
    let name = if name == "me" { p.user.clone() } else { name };
    s.set_password(&p, &name, password).await.map(Json)
}

#[utoipa::path(get, path = "/roles", tag = "roles",
    responses((status = 200, description = "the roles and their permissions", body = Value)))]
async fn list_roles(State(s): State<Service>) -> Json<Value> {
    Json(s.list_roles())
}

#[utoipa::path(get, path = "/roles/owner", tag = "roles",
    responses((status = 200, description = "each user's role", body = Value)))]
async fn list_role_owners(State(s): State<Service>) -> Json<Value> {
    Json(s.list_role_owners())
}

#[utoipa::path(get, path = "/roles/owner/{owner}", tag = "roles",
    params(("owner" = String, Path, description = "the user")),
    responses((status = 200, description = "the user's role", body = Object)))]
async fn get_role_owner(State(s): State<Service>, Path(owner): Path<String>) -> Answer {
    s.get_role_owner(&owner).map(Json)
}

/// `{"owner", "role"}`
#[utoipa::path(post, path = "/roles/owner", tag = "roles", request_body = RoleGrant,
    responses((status = 200, description = "the user's new role", body = Object)))]
async fn put_role_owner(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let owner = required(&doc, "owner", "the user")?;
    let role = required(&doc, "role", "administrator, operator or viewer")?;
    s.set_role(owner, Some(role)).await.map(Json)
}

/// `{"owner"}`: the user keeps its name and password but may do nothing.
#[utoipa::path(delete, path = "/roles/owner", tag = "roles", request_body = RoleRevoke,
    responses((status = 200, description = "the user has no role", body = Object)))]
async fn delete_role_owner(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let owner = required(&doc, "owner", "the user")?;
    s.set_role(owner, None).await.map(Json)
}

/// `{"label", "role", "expires_in_days"}`, all optional.
#[utoipa::path(post, path = "/apikeys", tag = "apikeys",
    request_body(content = Option<NewApiKey>, description = "optional"),
    responses((status = 201, description = "the new key; its secret is shown this once", body = Object)))]
async fn create_api_key(
    State(s): State<Service>,
    Extension(p): Extension<Principal>,
    body: RawBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let doc = body.optional_json()?.unwrap_or(Value::Null);
    let days = match doc.get("expires_in_days") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .ok_or_else(|| ApiError::bad_request("\"expires_in_days\" must be a whole number of days"))?,
        ),
    };
    let key = s
        .create_api_key(&p, text(&doc, "label").unwrap_or(""), text(&doc, "role"), days)
        .await?;
    Ok((StatusCode::CREATED, Json(key)))
}

/// The caller's API keys (every key for an administrator), without secrets.
#[utoipa::path(get, path = "/apikeys", tag = "apikeys",
    responses((status = 200, description = "the API keys", body = Value)))]
async fn list_api_keys(State(s): State<Service>, Extension(p): Extension<Principal>) -> Json<Value> {
    Json(s.list_api_keys(&p))
}

#[utoipa::path(delete, path = "/apikeys/{id}", tag = "apikeys",
    params(("id" = String, Path, description = "the key's id")),
    responses((status = 200, description = "whether the key existed", body = is_proto::v1::Deleted)))]
async fn revoke_api_key(
    State(s): State<Service>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<is_proto::v1::Deleted>, ApiError> {
    s.revoke_api_key(&p, &id).await.map(Json)
}

/// `?limit=N&cursor=C`: a page of the audit trail, newest first.
#[utoipa::path(get, path = "/audit", tag = "audit", params(super::audit::AuditQuery),
    responses((status = 200, description = "a page of the audit trail, newest first", body = Object)))]
async fn list_audit(State(s): State<Service>, Query(q): Query<super::audit::AuditQuery>) -> Answer {
    s.list_audit(q.cursor.as_deref(), q.limit.unwrap_or(50)).map(Json)
}

/// A new cluster key; every configuration secret sealed again under it.
#[utoipa::path(post, path = "/cluster/rotate-key", tag = "cluster",
    responses((status = 200, description = "how many configurations and values were sealed again", body = Object)))]
async fn rotate_key(State(s): State<Service>) -> Answer {
    s.rotate_cluster_key().await.map(Json)
}

pub(super) fn routes() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(whoami))
        .routes(routes!(delete_user))
        .routes(routes!(set_password))
        .routes(routes!(list_roles))
        .routes(routes!(list_role_owners, put_role_owner, delete_role_owner))
        .routes(routes!(get_role_owner))
        .routes(routes!(list_api_keys, create_api_key))
        .routes(routes!(revoke_api_key))
        .routes(routes!(list_audit))
        .routes(routes!(rotate_key))
}
