//! The REST bridge (`/api/v1`): thin handlers that decode JSON, call the
//! shared [`Service`] and encode its answer. Operations of the contract that
//! later features provide answer 501 with the feature's name.

use std::time::Duration;

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{Map, Value};

use super::{ApiError, Service};

type Answer = Result<Json<Value>, ApiError>;

/// A JSON request body whose rejections use the API's error document:
/// 413 past the body limit, 400 naming the line and column of bad JSON.
pub struct JsonBody(pub Value);

impl FromRequest<Service> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Service) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| {
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

#[derive(serde::Deserialize)]
struct WaitQuery {
    wait: Option<f64>,
}

fn wait_of(q: &WaitQuery, default: f64) -> Result<Duration, ApiError> {
    let w = q.wait.unwrap_or(default);
    if !(0.0..=super::runtime::MAX_WAIT.as_secs_f64()).contains(&w) {
        return Err(ApiError::bad_request(format!(
            "wait must be between 0 and {} seconds, got {w}",
            super::runtime::MAX_WAIT.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(w))
}

/// `POST /steps/run?wait=5 {"name": step, ...params}`: 200 with the task
/// status if it finished within `wait`, else 202 with its id.
async fn run_step(
    State(s): State<Service>,
    Query(q): Query<WaitQuery>,
    JsonBody(doc): JsonBody,
) -> Result<axum::response::Response, ApiError> {
    let Value::Object(mut params) = doc else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object: {\"name\": step, ...parameters}",
        ));
    };
    let name = match params.remove("name") {
        Some(Value::String(n)) if !n.is_empty() => n,
        _ => {
            return Err(ApiError::BadRequest {
                message: "which step? the body needs \"name\"".into(),
                details: vec!["\"name\" is required and must be the step's name".into()],
            })
        }
    };
    let (finished, status) = s.run_step(&name, params, wait_of(&q, 5.0)?).await?;
    let code = if finished {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(status)).into_response())
}

/// `GET /tasks/{id}?wait=N`: with `wait`, answers once the task or run is
/// finished or after N seconds (a long poll), whichever comes first.
async fn get_task(State(s): State<Service>, Path(id): Path<String>, Query(q): Query<WaitQuery>) -> Answer {
    let wait = wait_of(&q, 0.0)?;
    if !wait.is_zero() {
        s.wait_for_task(&id, wait).await;
    }
    s.any_task_status(&id).await.map(Json)
}

async fn revoke_task(State(s): State<Service>, Path(id): Path<String>) -> Answer {
    s.revoke_any(&id).await.map(Json)
}

async fn revoke_all(State(s): State<Service>) -> Answer {
    s.revoke_all().await.map(Json)
}

#[derive(serde::Deserialize)]
struct ListQuery {
    app: Option<String>,
    state: Option<String>,
    limit: Option<usize>,
}

async fn list_tasks(State(s): State<Service>, Query(q): Query<ListQuery>) -> Answer {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    s.list_runs(q.app.as_deref(), q.state.as_deref(), limit)
        .await
        .map(Json)
}

/// The run parameters of a request body: `{"params": {...}}`, or the body
/// itself when it has no `params` key; none when the body is empty.
fn run_params(body: Option<Value>) -> Result<Map<String, Value>, ApiError> {
    match body {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(mut m)) => match m.remove("params") {
            Some(Value::Object(p)) => Ok(p),
            Some(Value::Null) | None => Ok(m),
            Some(other) => Err(ApiError::bad_request(format!(
                "\"params\" must be an object, got {other}"
            ))),
        },
        Some(other) => Err(ApiError::bad_request(format!(
            "the body must be a JSON object, got {other}"
        ))),
    }
}

/// `POST /applications/run?wait=N {"name", "params"}`: 200 with the run status.
async fn run_application(
    State(s): State<Service>,
    Query(q): Query<WaitQuery>,
    JsonBody(doc): JsonBody,
) -> Answer {
    let Some(name) = doc.get("name").and_then(Value::as_str).map(str::to_string) else {
        return Err(ApiError::BadRequest {
            message: "which application? the body needs \"name\"".into(),
            details: vec!["\"name\" is required and must be the application's name".into()],
        });
    };
    let mut doc = doc;
    if let Some(m) = doc.as_object_mut() {
        m.remove("name");
    }
    let params = run_params(Some(doc))?;
    s.run_application(&name, params, wait_of(&q, 0.0)?, "USER", None)
        .await
        .map(Json)
}

/// `POST /applications/{name}/run?wait=N`, body optional.
async fn run_named_application(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<WaitQuery>,
    body: axum::body::Bytes,
) -> Answer {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?,
        )
    };
    s.run_application(&name, run_params(body)?, wait_of(&q, 0.0)?, "USER", None)
        .await
        .map(Json)
}

async fn application_logs(State(s): State<Service>, Path(name): Path<String>) -> Answer {
    s.application_logs(&name).await.map(Json)
}

async fn replay(State(s): State<Service>, Path(id): Path<String>, Query(q): Query<WaitQuery>) -> Answer {
    s.replay(&id, wait_of(&q, 0.0)?).await.map(Json)
}

async fn task_events(
    State(s): State<Service>,
    Path(id): Path<String>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>>, ApiError> {
    let stream = s.watch_task(&id)?.map(|v| {
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message")
            .to_string();
        Ok(SseEvent::default().event(kind).data(v.to_string()))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

async fn get_cache(State(s): State<Service>, Path(key): Path<String>) -> Answer {
    s.cache_get(&key).map(Json)
}

async fn delete_cache(State(s): State<Service>, Path(key): Path<String>) -> Answer {
    s.cache_delete(&key).await.map(Json)
}

async fn about(State(s): State<Service>) -> Answer {
    Ok(Json(s.about()))
}

async fn cluster(State(s): State<Service>) -> Answer {
    Ok(Json(s.cluster_status().await))
}

/// `{"id": 2, "address": "host:port"}`
async fn add_node(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer {
    let id = doc
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| ApiError::bad_request("\"id\" (the node id, a positive integer) is required"))?;
    let address = doc
        .get("address")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("\"address\" (the node's HOST:PORT listener) is required"))?;
    s.add_cluster_node(id, address).await.map(Json)
}

async fn remove_node(State(s): State<Service>, Path(id): Path<String>) -> Answer {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("node id {id:?} is not a positive integer")))?;
    s.remove_cluster_node(id).await.map(Json)
}

/// A handler for an operation a later feature provides.
fn later(feature: &'static str) -> impl Fn() -> std::future::Ready<ApiError> + Clone + Send + 'static {
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
    const SCHEDULES: &str = "schedules";
    const SYNCPACKS: &str = "SyncPacks";
    const REPORTS: &str = "reports";
    const LICENSE: &str = "licensing";
    const ROLES: &str = "roles";
    let api = Router::new()
        .route("/steps", post(post_step).get(list_steps))
        .route("/steps/run", post(run_step))
        .route("/steps/{name}", get(get_step).delete(delete_step))
        .route("/applications", post(post_application).get(list_applications))
        .route("/applications/run", post(run_application))
        .route(
            "/applications/{name}",
            get(get_application).delete(delete_application),
        )
        .route("/applications/{name}/run", post(run_named_application))
        .route("/applications/{name}/logs", get(application_logs))
        .route("/tasks", get(list_tasks).delete(revoke_all))
        .route("/tasks/{id}", get(get_task).delete(revoke_task))
        .route("/tasks/{id}/replay", post(replay))
        .route("/tasks/{id}/revoke", post(revoke_task))
        .route("/tasks/{id}/events", get(task_events))
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
        .route("/cache/{key}", get(get_cache).delete(delete_cache))
        .route("/about", get(about))
        .route(
            "/license",
            get(later(LICENSE)).post(later(LICENSE)).delete(later(LICENSE)),
        )
        .route("/roles", get(later(ROLES)))
        .route(
            "/roles/owner",
            get(later(ROLES)).post(later(ROLES)).delete(later(ROLES)),
        )
        .route("/roles/owner/{owner}", get(later(ROLES)))
        .route("/cluster", get(cluster))
        .route("/cluster/nodes", post(add_node))
        .route("/cluster/nodes/{id}", delete(remove_node));
    Router::new().nest("/api/v1", api)
}
