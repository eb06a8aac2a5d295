//! The API layer's error and its mapping to HTTP and gRPC status codes — the
//! only place that knows both. Every message says what was wrong and, where
//! it can, what to do about it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::model::ModelError;

/// The `Retry-After` of an [`ApiError::Starting`] answer.
pub const RETRY_STARTING_SECONDS: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input; `details` lists every problem found.
    #[error("{message}")]
    BadRequest { message: String, details: Vec<String> },
    #[error("authentication required: send HTTP Basic credentials of a user (e.g. isadmin) or `Authorization: Bearer` with an API key")]
    Unauthorized,
    /// Authenticated, but the caller's role lacks the permission; the
    /// message names it.
    #[error("{0}")]
    Forbidden(String),
    #[error(
        "too many failed logins from this address or for this user: try again in {retry_after_seconds} s"
    )]
    TooManyAttempts { retry_after_seconds: u64 },
    #[error("{0}")]
    NotFound(String),
    /// A path of the API asked with a method it does not serve.
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is larger than the limit of {limit} bytes (raise max_body_bytes in the node config)")]
    PayloadTooLarge { limit: u64 },
    /// An operation of the contract that a later feature will provide.
    #[error("{0} is not implemented yet in this version of the Integration Service")]
    NotImplemented(&'static str),
    #[error("{0}")]
    Unavailable(String),
    /// The node cannot serve requests yet (the cluster is being set up, or
    /// its state has not reached this node): `api::auth` answers this
    /// instead of judging credentials it cannot check yet.
    #[error("starting: this node cannot serve requests yet (the cluster is being set up or its state has not reached this node); try again in {RETRY_STARTING_SECONDS} s, or wait until GET /ready answers 200")]
    Starting,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            message: message.into(),
            details: Vec::new(),
        }
    }

    fn details(&self) -> Vec<String> {
        match self {
            ApiError::BadRequest { details, .. } => details.clone(),
            _ => Vec::new(),
        }
    }

    fn http_status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::Unavailable(_) | ApiError::Starting => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn grpc_code(&self) -> tonic::Code {
        match self {
            ApiError::BadRequest { .. } => tonic::Code::InvalidArgument,
            ApiError::Unauthorized => tonic::Code::Unauthenticated,
            ApiError::Forbidden(_) => tonic::Code::PermissionDenied,
            ApiError::TooManyAttempts { .. } => tonic::Code::ResourceExhausted,
            ApiError::NotFound(_) => tonic::Code::NotFound,
            ApiError::MethodNotAllowed(_) => tonic::Code::Unimplemented,
            ApiError::Conflict(_) => tonic::Code::AlreadyExists,
            ApiError::PayloadTooLarge { .. } => tonic::Code::ResourceExhausted,
            ApiError::NotImplemented(_) => tonic::Code::Unimplemented,
            ApiError::Unavailable(_) | ApiError::Starting => tonic::Code::Unavailable,
            ApiError::Internal(_) => tonic::Code::Internal,
        }
    }

    /// The error document of DESIGN 4.3: `{"error": "...", "details": [...]}`.
    pub fn body(&self) -> serde_json::Value {
        json!(ErrorDoc {
            error: self.to_string(),
            details: self.details(),
        })
    }
}

/// The error document every failed REST call answers (DESIGN 4.3); also the
/// schema the OpenAPI document gives for error answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDoc {
    /// What went wrong, in one line.
    pub error: String,
    /// Every problem found, for bad input; empty otherwise.
    pub details: Vec<String>,
}

/// A query string that does not fit its operation (a malformed string, a
/// value of the wrong type) is bad input, answered in the error document.
impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::BadRequest {
            message: "invalid query string".into(),
            details: vec![r.body_text()],
        }
    }
}

/// A path segment that cannot be read (bad percent-encoding, not UTF-8).
impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::BadRequest {
            message: "invalid path".into(),
            details: vec![r.body_text()],
        }
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> ApiError {
        match e {
            ModelError::Invalid { what, problems } => ApiError::BadRequest {
                message: format!(
                    "{what} is invalid ({} problem{})",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                ),
                details: problems,
            },
            ModelError::OverLimit { problems } => ApiError::BadRequest {
                message: problems.join("; "),
                details: problems,
            },
        }
    }
}

/// The store failing to read is the node's fault, not the caller's.
impl From<crate::store::disk::DiskError> for ApiError {
    fn from(e: crate::store::disk::DiskError) -> Self {
        ApiError::Internal(format!("reading the state store failed: {e}"))
    }
}

impl From<crate::raft::ProposeError> for ApiError {
    fn from(e: crate::raft::ProposeError) -> ApiError {
        use crate::raft::ProposeError;
        match e {
            ProposeError::NotLeader { .. } => {
                ApiError::Unavailable(format!("{e}; send writes to the leader"))
            }
            ProposeError::Membership(_) => ApiError::Conflict(e.to_string()),
            ProposeError::Stopped(_)
            | ProposeError::LeaderUnreachable(_)
            | ProposeError::LeaderGone(_)
            | ProposeError::NoLeader { .. }
            | ProposeError::NotAppliedHere(_)
            | ProposeError::NotCommitted(_)
            | ProposeError::Storage { .. } => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Internal(_)) {
            tracing::error!(error = %self, "request failed");
        }
        let mut resp = (self.http_status(), axum::Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Integration Service\""),
            );
        }
        let retry_after = match self {
            ApiError::TooManyAttempts { retry_after_seconds } => Some(retry_after_seconds),
            ApiError::Starting => Some(RETRY_STARTING_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        resp
    }
}

/// gRPC carries the same error document in the status details, so clients
/// can show every listed problem.
impl From<ApiError> for tonic::Status {
    fn from(e: ApiError) -> tonic::Status {
        if matches!(e, ApiError::Internal(_)) {
            tracing::error!(error = %e, "request failed");
        }
        let details = serde_json::to_vec(&e.body()).unwrap_or_default();
        tonic::Status::with_details(e.grpc_code(), e.to_string(), details.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_errors_become_400_with_every_problem() {
        let e: ApiError = ModelError::invalid("application \"a\"", vec!["x".into(), "y".into()]).into();
        assert_eq!(e.http_status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.body()["details"], json!(["x", "y"]));
        assert_eq!(e.body()["error"], "application \"a\" is invalid (2 problems)");
        let status: tonic::Status = e.into();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        let doc: serde_json::Value = serde_json::from_slice(status.details()).unwrap();
        assert_eq!(doc["details"], json!(["x", "y"]));
    }

    #[test]
    fn an_application_over_the_limits_is_400_naming_each_limit() {
        let problems = vec![
            "application \"a\" has 3 steps; this node accepts at most 2 (max_app_steps)".to_string(),
            "application \"a\" has 9 edges; this node accepts at most 8 (max_app_edges)".to_string(),
        ];
        let e: ApiError = ModelError::OverLimit {
            problems: problems.clone(),
        }
        .into();
        assert_eq!(e.http_status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.body()["details"], json!(problems));
        assert_eq!(e.body()["error"], json!(problems.join("; ")));
        let status: tonic::Status = e.into();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status.message().contains("(max_app_edges)"),
            "{}",
            status.message()
        );
    }

    #[test]
    fn starting_is_503_with_retry_after_and_unavailable() {
        let resp = ApiError::Starting.into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert!(resp.headers().get(header::WWW_AUTHENTICATE).is_none());
        assert!(ApiError::Starting.to_string().starts_with("starting: "));
        let status: tonic::Status = ApiError::Starting.into();
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }

    #[test]
    fn not_implemented_is_501_and_unimplemented() {
        let e = ApiError::NotImplemented("running applications");
        assert_eq!(e.http_status(), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(e.grpc_code(), tonic::Code::Unimplemented);
        assert!(e.to_string().contains("running applications"));
    }
}
