//! REST routes for users, roles, API keys, the audit trail and the cluster
//! key (`/users`, `/roles`, `/apikeys`, `/audit`, `/cluster/rotate-key`):
//! decode, call [`Service`], encode.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Extension, Json, Router};
use serde_json::Value;

use super::auth::Principal;
use super::rest::JsonBody;
use super::{ApiError, Service};

type Answer = Result<Json<Value>, ApiError>;

fn text<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key).and_then(Value::as_str)
}

fn required<'a>(doc: &'a Value, key: &str, what: &str) -> Result<&'a str, ApiError> {
    text(doc, key)
        .ok_or_else(|| ApiError::bad_request(format!("\"{key}\" ({what}) is required and must be a string")))
}

async fn whoami(State(s): State<Service>, Extension(p): Extension<Principal>) -> Json<Value> {
    Json(s.whoami(&p))
}

async fn list_users(State(s): State<Service>) -> Json<Value> {
    Json(s.list_users())
}

/// `{"name", "password", "role"}`
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

async fn delete_user(
    State(s): State<Service>,
    Path(name): Path<String>,
) -> Result<Json<is_proto::v1::Deleted>, ApiError> {
    s.delete_user(&name).await.map(Json)
}

/// `{"password"}`; the name `me` is the caller.
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

async fn list_roles(State(s): State<Service>) -> Json<Value> {
    Json(s.list_roles())
}

async fn list_role_owners(State(s): State<Service>) -> Json<Value> {
    Json(s.list_role_owners())
}

async fn get_role_owner(State(s): State<Service>, Path(owner): Path<String>) -> Answer {
    s.get_role_owner(&owner).map(Json)
}

/// `{"owner", "role"}`
async fn put_role_owner(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let owner = required(&doc, "owner", "the user")?;
    let role = required(&doc, "role", "administrator, operator or viewer")?;
    s.set_role(owner, Some(role)).await.map(Json)
}

/// `{"owner"}`: the user keeps its name and password but may do nothing.
async fn delete_role_owner(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let owner = required(&doc, "owner", "the user")?;
    s.set_role(owner, None).await.map(Json)
}

/// `{"label", "role", "expires_in_days"}`, all optional.
async fn create_api_key(
    State(s): State<Service>,
    Extension(p): Extension<Principal>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let doc: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?
    };
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

async fn list_api_keys(State(s): State<Service>, Extension(p): Extension<Principal>) -> Json<Value> {
    Json(s.list_api_keys(&p))
}

async fn revoke_api_key(
    State(s): State<Service>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<is_proto::v1::Deleted>, ApiError> {
    s.revoke_api_key(&p, &id).await.map(Json)
}

/// `?limit=N&cursor=C`: a page of the audit trail, newest first.
async fn list_audit(
    State(s): State<Service>,
    axum::extract::Query(q): axum::extract::Query<super::audit::AuditQuery>,
) -> Answer {
    s.list_audit(q.cursor.as_deref(), q.limit.unwrap_or(50)).map(Json)
}

async fn rotate_key(State(s): State<Service>) -> Answer {
    s.rotate_cluster_key().await.map(Json)
}

pub fn routes() -> Router<Service> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route("/users/me", get(whoami))
        .route("/users/{name}", delete(delete_user))
        .route("/users/{name}/password", put(set_password))
        .route("/roles", get(list_roles))
        .route(
            "/roles/owner",
            get(list_role_owners)
                .post(put_role_owner)
                .delete(delete_role_owner),
        )
        .route("/roles/owner/{owner}", get(get_role_owner))
        .route("/apikeys", get(list_api_keys).post(create_api_key))
        .route("/apikeys/{id}", delete(revoke_api_key))
        .route("/audit", get(list_audit))
        .route("/cluster/rotate-key", axum::routing::post(rotate_key))
}
