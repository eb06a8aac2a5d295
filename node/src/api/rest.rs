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
use is_proto::v1 as pb;
use serde_json::{json, Map, Value};

use super::runtime::LogPage;
use super::{ApiError, Service};

/// Every answer is one of the typed messages (`api::views`) as JSON, or a
/// stored document as it was uploaded.
type Answer<T> = Result<Json<T>, ApiError>;

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

async fn post_step(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::Stored> {
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

#[derive(serde::Deserialize)]
struct PageQuery {
    cursor: Option<String>,
    limit: Option<usize>,
}

/// A content listing answers the array of its items, in name order: the
/// whole list, or with `?limit=N` a page, the next one from `?cursor=`
/// (the `X-Next-Cursor` header of the previous page, absent on the last).
type Listing = Result<(axum::http::HeaderMap, Json<Vec<pb::ContentSummary>>), ApiError>;

fn listing(q: PageQuery, list: impl FnOnce(&crate::api::service::NamePage) -> pb::ContentList) -> Listing {
    if q.limit == Some(0) {
        return Err(ApiError::bad_request(
            "limit must be at least 1 (leave it out for the whole list)",
        ));
    }
    let page = crate::api::service::NamePage {
        after: q.cursor.filter(|c| !c.is_empty()),
        limit: q.limit,
    };
    let list = list(&page);
    Ok((
        next_page_headers(list.next_cursor.as_deref(), |_| None),
        Json(list.items),
    ))
}

/// The headers of a page that more follow: `X-Next-Cursor` (percent-encoded,
/// ready for a query string) and, when `link` gives its address, `Link`.
fn next_page_headers(
    cursor: Option<&str>,
    link: impl FnOnce(&str) -> Option<String>,
) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    let Some(cursor) = cursor.map(percent) else {
        return headers;
    };
    let link = link(&cursor).map(|url| format!("<{url}>; rel=\"next\""));
    for (name, value) in [("x-next-cursor", Some(cursor)), ("link", link)] {
        if let Some(v) = value.and_then(|v| axum::http::HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers
}

async fn list_steps(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(q, |p| s.list_steps(p))
}

async fn get_step(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::StepInfo> {
    s.get_step(&name).map(Json)
}

async fn delete_step(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_step(&name).await.map(Json)
}

async fn post_application(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::Stored> {
    s.put_application(doc).await.map(Json)
}

async fn list_applications(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(q, |p| s.list_applications(p))
}

/// The document as uploaded (unknown keys included), ready to upload again.
async fn get_application(State(s): State<Service>, Path(name): Path<String>) -> Answer<Value> {
    s.get_application(&name).map(|a| Json(a.doc))
}

async fn delete_application(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_application(&name).await.map(Json)
}

async fn post_configuration(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::Stored> {
    s.put_configuration(doc).await.map(Json)
}

async fn list_configurations(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(q, |p| s.list_configurations(p))
}

/// The stored document as the caller's role may see it.
async fn get_configuration(
    State(s): State<Service>,
    axum::Extension(caller): axum::Extension<super::auth::Principal>,
    Path(name): Path<String>,
) -> Answer<Value> {
    s.get_configuration(&name, &caller).map(|c| Json(c.doc))
}

async fn delete_configuration(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_configuration(&name).await.map(Json)
}

#[derive(serde::Deserialize)]
struct WaitQuery {
    wait: Option<f64>,
}

/// A wait of more than [`MAX_WAIT`](super::runtime::MAX_WAIT) waits that
/// long (the original product capped it so, and clients written for it ask
/// for more); a negative one is refused.
fn wait_of(q: &WaitQuery, default: f64) -> Result<Duration, ApiError> {
    let w = q.wait.unwrap_or(default);
    if w.is_nan() || w < 0.0 {
        return Err(ApiError::bad_request(format!(
            "wait must be a number of seconds from 0 (longer than {} waits {0}), got {w}",
            super::runtime::MAX_WAIT.as_secs()
        )));
    }
    Ok(Duration::from_secs_f64(
        w.min(super::runtime::MAX_WAIT.as_secs_f64()),
    ))
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
    let ran = s.run_step(&name, params, wait_of(&q, 5.0)?).await?;
    let Some(task) = ran.task else {
        return Err(ApiError::Internal(
            "the step started but its status is missing".into(),
        ));
    };
    if ran.finished {
        return Ok((StatusCode::OK, Json(task)).into_response());
    }
    // Still going: where to follow it.
    let short = json!({"id": task.id, "href": task.href, "state": is_proto::json::state_name(task.state)});
    Ok((StatusCode::ACCEPTED, Json(short)).into_response())
}

/// The query of `GET /tasks/{id}`, read as text so that a bad number gets
/// the API's error document.
#[derive(serde::Deserialize)]
struct TaskQuery {
    wait: Option<String>,
    logs_offset: Option<String>,
    logs_limit: Option<String>,
}

/// A non-negative integer query parameter, if given.
fn count_param(name: &str, value: Option<&str>) -> Result<Option<u64>, ApiError> {
    value
        .map(|v| {
            v.parse::<u64>().map_err(|_| ApiError::BadRequest {
                message: format!("invalid {name}"),
                details: vec![format!("{name} must be a non-negative integer, got {v:?}")],
            })
        })
        .transpose()
}

/// `GET /tasks/{id}?wait=N&logs_offset=O&logs_limit=L`: with `wait`,
/// answers once the task or run is finished or after N seconds (a long
/// poll), whichever comes first; a step task's log is paged by
/// `logs_offset` and `logs_limit` (default: the whole log).
async fn get_task(
    State(s): State<Service>,
    Path(id): Path<String>,
    Query(q): Query<TaskQuery>,
) -> Answer<pb::AnyTask> {
    let wait = match q.wait.as_deref() {
        None => None,
        Some(w) => Some(
            w.parse::<f64>()
                .map_err(|_| ApiError::bad_request(format!("wait must be a number of seconds, got {w:?}")))?,
        ),
    };
    let wait = wait_of(&WaitQuery { wait }, 0.0)?;
    let logs = LogPage {
        offset: count_param("logs_offset", q.logs_offset.as_deref())?.unwrap_or(0),
        limit: count_param("logs_limit", q.logs_limit.as_deref())?,
    };
    if !wait.is_zero() {
        s.wait_for_task(&id, wait).await;
    }
    s.any_task_status(&id, logs).await.map(Json)
}

#[derive(serde::Deserialize)]
struct ResultQuery {
    format: Option<String>,
}

/// `GET /tasks/{id}/result[?format=pickle]`: the whole result, as JSON text
/// or as the pickle the step saved.
async fn get_task_result(
    State(s): State<Service>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
) -> Result<axum::response::Response, ApiError> {
    let r = s.task_result(&id, q.format.as_deref().unwrap_or(""))?;
    Ok(([(axum::http::header::CONTENT_TYPE, r.content_type)], r.data).into_response())
}

async fn revoke_task(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::AnyTask> {
    s.revoke_any(&id).await.map(Json)
}

async fn revoke_all(State(s): State<Service>) -> Answer<pb::RevokedAll> {
    s.revoke_all().await.map(Json)
}

#[derive(serde::Deserialize)]
struct ListQuery {
    app: Option<String>,
    state: Option<String>,
    triggered_by: Option<String>,
    since: Option<f64>,
    until: Option<f64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /tasks`: a page of runs, newest first, as a JSON array. When more
/// follow, `X-Next-Cursor` holds the cursor of the next page and `Link`
/// its address (`rel="next"`).
async fn list_tasks(
    State(s): State<Service>,
    Query(q): Query<ListQuery>,
) -> Result<(axum::http::HeaderMap, Json<Vec<pb::RunStatus>>), ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 1000);
    let query = crate::api::runs::RunQuery {
        app: q.app,
        state: q.state,
        triggered_by: q.triggered_by,
        since: q.since,
        until: q.until,
        cursor: q.cursor,
        limit,
    };
    let next_page = |cursor: &str| {
        let mut url = format!("/api/v1/tasks?limit={limit}&cursor={cursor}");
        for (k, v) in [
            ("app", &query.app),
            ("state", &query.state),
            ("triggered_by", &query.triggered_by),
        ] {
            if let Some(v) = v {
                url.push_str(&format!("&{k}={}", percent(v)));
            }
        }
        for (k, v) in [("since", query.since), ("until", query.until)] {
            if let Some(v) = v {
                url.push_str(&format!("&{k}={v}"));
            }
        }
        url
    };
    let list = s.list_runs(query.clone()).await?;
    let headers = next_page_headers(list.next_cursor.as_deref(), |c| Some(next_page(c)));
    Ok((headers, Json(list.runs)))
}

/// Percent-encodes a query value (everything but unreserved characters).
fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A started run answers its status, finished or not.
fn run_answer(answer: pb::RunAnswer) -> Answer<pb::RunStatus> {
    answer
        .run
        .map(Json)
        .ok_or_else(|| ApiError::Internal("the run started but its status is missing".into()))
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
) -> Answer<pb::RunStatus> {
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
    run_answer(
        s.run_application(&name, params, wait_of(&q, 0.0)?, "USER", None)
            .await?,
    )
}

/// `POST /applications/{name}/run?wait=N`, body optional.
async fn run_named_application(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<WaitQuery>,
    body: axum::body::Bytes,
) -> Answer<pb::RunStatus> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?,
        )
    };
    run_answer(
        s.run_application(&name, run_params(body)?, wait_of(&q, 0.0)?, "USER", None)
            .await?,
    )
}

async fn application_logs(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::RunStatus> {
    s.application_logs(&name).await.map(Json)
}

async fn replay(
    State(s): State<Service>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Answer<pb::RunStatus> {
    run_answer(s.replay(&id, wait_of(&q, 0.0)?).await?)
}

async fn task_events(
    State(s): State<Service>,
    Path(id): Path<String>,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>>, ApiError> {
    use pb::task_event::Event as E;
    let stream = s.watch_task(&id)?.map(|e| {
        // The SSE event name is the `type` the JSON carries.
        let kind = match &e.event {
            Some(E::State(_)) => "state",
            Some(E::Log(_)) => "log",
            Some(E::End(_)) => "end",
            None => "message",
        };
        let data = serde_json::to_string(&e).unwrap_or_else(|err| {
            json!({"type": "error", "message": format!("cannot encode the event: {err}")}).to_string()
        });
        Ok(SseEvent::default().event(kind).data(data))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(serde::Deserialize)]
struct CacheQuery {
    raw: Option<String>,
}

/// `GET /cache/{key}`: the entry with its value as JSON; with `?raw=true`
/// the stored pickle itself (`application/octet-stream`).
async fn get_cache(
    State(s): State<Service>,
    Path(key): Path<String>,
    Query(q): Query<CacheQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let raw = super::rest_packs::flag(&q.raw, "raw")?;
    let entry = s.cache_get(&key, raw)?;
    match entry.pickle {
        Some(pickle) if raw => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            pickle,
        )
            .into_response()),
        _ => Ok(Json(entry).into_response()),
    }
}

async fn delete_cache(State(s): State<Service>, Path(key): Path<String>) -> Answer<pb::CacheDeleted> {
    s.cache_delete(&key).await.map(Json)
}

async fn about(State(s): State<Service>) -> Answer<pb::About> {
    Ok(Json(s.about()))
}

async fn cluster(State(s): State<Service>) -> Answer<pb::ClusterStatus> {
    Ok(Json(s.cluster_status().await))
}

/// `{"id": 2, "address": "host:port"}`
async fn add_node(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::ClusterStatus> {
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

async fn remove_node(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::ClusterStatus> {
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

/// Every REST route; `syncpack_max` is the largest wheel upload.
pub fn routes(syncpack_max: u64) -> Router<Service> {
    const LICENSE: &str = "licensing";
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
        .route("/tasks/{id}/result", get(get_task_result))
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
        .route("/cache/{*key}", get(get_cache).delete(delete_cache))
        .route("/about", get(about))
        .route(
            "/license",
            get(later(LICENSE)).post(later(LICENSE)).delete(later(LICENSE)),
        )
        .route("/cluster", get(cluster))
        .route("/cluster/nodes", post(add_node))
        .route("/cluster/nodes/{id}", delete(remove_node))
        .merge(super::rest_packs::routes(syncpack_max))
        .merge(super::rest_schedules::routes())
        .merge(super::rest_users::routes());
    Router::new().nest("/api/v1", api)
}
