//! REST routes of web UI sessions (`/session`): sign in (a token for the
//! credentials the request carried, or a renewed one for a session token)
//! and sign out. The tokens themselves are `api::session`'s.

use axum::http::StatusCode;
use axum::{Extension, Json};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Principal;
use super::session::Sessions;
use super::{ApiError, Service};

/// The answer of a sign-in (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct SessionAnswer {
    /// Send it as `Authorization: Bearer <token>`.
    token: String,
    /// When it expires unless renewed (seconds since the epoch).
    expires_at: u64,
    name: String,
    role: Option<String>,
    permissions: Vec<String>,
}

/// Signs in: answers a session token for the user the request
/// authenticated as (password or API key). Called with a session token, it
/// renews that session (up to 24 hours after the sign-in).
#[utoipa::path(post, path = "/session", tag = "users",
    responses((status = 201, description = "the session", body = SessionAnswer)))]
async fn sign_in(
    Extension(p): Extension<Principal>,
    Extension(sessions): Extension<Sessions>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let now = crate::util::now_ms();
    let started = p.session.as_ref().map_or(now, |s| s.started_ms);
    let (token, expires_ms) = sessions
        .issue(&p.user, p.api_key.as_deref(), started, now)
        .ok_or_else(|| ApiError::Unavailable("the cluster has no key yet; retry in a moment".into()))?;
    let permissions: Vec<&str> = p
        .role
        .map(|r| r.permissions().iter().map(|x| x.name()).collect())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": token,
            "expires_at": expires_ms / 1000,
            "name": p.user,
            "role": p.role.map(|r| r.name()),
            "permissions": permissions,
        })),
    ))
}

/// Signs out the session token the request carries (on this node; it
/// stays refused until it would have expired).
#[utoipa::path(delete, path = "/session", tag = "users",
    responses((status = 200, description = "whether a session was signed out", body = Object)))]
async fn sign_out(
    Extension(p): Extension<Principal>,
    Extension(sessions): Extension<Sessions>,
) -> Json<Value> {
    if let Some(mark) = &p.session {
        sessions.revoke(mark, crate::util::now_ms());
    }
    Json(json!({"signed_out": p.session.is_some()}))
}

pub(super) fn routes() -> OpenApiRouter<Service> {
    OpenApiRouter::new().routes(routes!(sign_in, sign_out))
}
