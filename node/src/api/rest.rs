//! The REST bridge (`/api/v1`): thin handlers that decode JSON, call the
//! shared [`Service`] and encode its answer. Operations of the contract that
//! later features provide answer 501 with the feature's name.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::{ApiError, Service};

type Answer = Result<Json<Value>, ApiError>;

/// A JSON request body whose rejections use the API's error document:
/// 413 past the body limit, 400 naming the line and column of bad JSON.
pub struct JsonBody(pub Value);

impl FromRequest<Service> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Service) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit: state.body_limit(),
                    }
                } else {
                    ApiError::bad_request(format!("cannot read the request body: {r}"))
                }
            })?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(
                "the request body is empty; send a JSON document",
            ));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
    }
}

fn required_str<'a>(doc: &'a Value, key: &str, problems: &mut Vec<String>) -> &'a str {
    match doc.get(key) {
        Some(Value::String(s)) => s,
        _ => {
            problems.push(format!("\"{key}\" is required and must be a string"));
            ""
        }
    }
}

async fn post_step(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let mut problems = Vec::new();
    let name = required_str(&doc, "name", &mut problems);
    let data = required_str(&doc, "data", &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::BadRequest {
            message: "a step upload needs {\"name\": class name, \"data\": Python source}".into(),
            details: problems,
        });
    }
    s.put_step(name, data).await.map(Json)
}

async fn list_steps(State(s): State<Service>) -> Answer {
    Ok(Json(s.list_steps()))
}

async fn get_step(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.get_step(&name).map(Json)
}

async fn delete_step(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.delete_step(&name).await.map(Json)
}

async fn post_application(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    s.put_application(doc).await.map(Json)
}

async fn list_applications(State(s): State<Service>) -> Answer {
    s.list_applications().map(Json)
}

async fn get_application(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.get_application(&name).map(Json)
}

async fn delete_application(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.delete_application(&name).await.map(Json)
}

async fn post_configuration(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    s.put_configuration(doc).await.map(Json)
}

async fn list_configurations(State(s): State<Service>) -> Answer {
    s.list_configurations().map(Json)
}

async fn get_configuration(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.get_configuration(&name).map(Json)
}

async fn delete_configuration(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.delete_configuration(&name).await.map(Json)
}

async fn about(State(s): State<Service>) -> Answer {
    Ok(Json(s.about()))
}

async fn cluster(State(s): State<Service>) -> Answer {
    Ok(Json(s.cluster_status()))
}

/// A handler for an operation a later feature provides.
fn later(
    feature: &'static str,
) -> impl Fn() -> std::future::Ready<ApiError> + Clone + Send + 'static {
    move || std::future::ready(ApiError::NotImplemented(feature))
}

pub async fn no_route(req: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no endpoint {} {}; the API lives under /api/v1 (see the README)",
        req.method(),
        req.uri().path()
    ))
}

pub fn routes() -> Router<Service> {
    const RUN_STEP: &str = "running a single step (POST /steps/run)";
    const RUNS: &str = "running applications";
    const TASKS: &str = "tasks";
    const SCHEDULES: &str = "schedules";
    const SYNCPACKS: &str = "SyncPacks";
    const REPORTS: &str = "reports";
    const CACHE: &str = "the step cache";
    const LICENSE: &str = "licensing";
    const ROLES: &str = "roles";
    const MEMBERSHIP: &str = "cluster membership changes";
    let api = Router::new()
        .route("/steps", post(post_step).get(list_steps))
        .route("/steps/run", post(later(RUN_STEP)))
        .route("/steps/{name}", get(get_step).delete(delete_step))
        .route(
            "/applications",
            post(post_application).get(list_applications),
        )
        .route("/applications/run", post(later(RUNS)))
        .route(
            "/applications/{name}",
            get(get_application).delete(delete_application),
        )
        .route("/applications/{name}/run", post(later(RUNS)))
        .route("/applications/{name}/logs", get(later(RUNS)))
        .route("/tasks", get(later(TASKS)).delete(later(TASKS)))
        .route("/tasks/{id}", get(later(TASKS)).delete(later(TASKS)))
        .route("/tasks/{id}/replay", post(later(TASKS)))
        .route("/tasks/{id}/revoke", post(later(TASKS)))
        .route("/tasks/{id}/events", get(later(TASKS)))
        .route(
            "/configurations",
            post(post_configuration).get(list_configurations),
        )
        .route(
            "/configurations/{name}",
            get(get_configuration).delete(delete_configuration),
        )
        .route("/schedule", post(later(SCHEDULES)).get(later(SCHEDULES)))
        .route("/schedule/{id}", delete(later(SCHEDULES)))
        .route("/syncpacks", post(later(SYNCPACKS)).get(later(SYNCPACKS)))
        .route(
            "/syncpacks/{name}",
            get(later(SYNCPACKS)).delete(later(SYNCPACKS)),
        )
        .route("/syncpacks/{name}/activate", post(later(SYNCPACKS)))
        .route("/syncpacks/{name}/install", post(later(SYNCPACKS)))
        .route("/reports", get(later(REPORTS)))
        .route("/reports/{id}", get(later(REPORTS)).delete(later(REPORTS)))
        .route("/cache/{key}", get(later(CACHE)).delete(later(CACHE)))
        .route("/about", get(about))
        .route(
            "/license",
            get(later(LICENSE))
                .post(later(LICENSE))
                .delete(later(LICENSE)),
        )
        .route("/roles", get(later(ROLES)))
        .route(
            "/roles/owner",
            get(later(ROLES)).post(later(ROLES)).delete(later(ROLES)),
        )
        .route("/roles/owner/{owner}", get(later(ROLES)))
        .route("/cluster", get(cluster))
        .route("/cluster/nodes", post(later(MEMBERSHIP)))
        .route("/cluster/nodes/{id}", delete(later(MEMBERSHIP)));
    Router::new().nest("/api/v1", api)
}
