//! The REST side of runs and tasks: running a step alone or an
//! application, a task's or run's status, its result, its live events
//! (SSE), listing, replaying and revoking runs.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::IntoResponse;
use axum::Json;
use futures::StreamExt;
use is_proto::v1 as pb;
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rest::{next_page_headers, percent, Answer, JsonBody, Path, Query, RawBody};
use super::runtime::LogPage;
use super::{ApiError, Service};

/// `?wait=N`: how long to wait for the end, in seconds.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WaitQuery {
    /// Seconds to wait for the end (from 0; more than 30 waits 30).
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

/// The answer of a step run that has not finished within `wait`.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct StartedTask {
    id: String,
    /// Where to follow it (`GET`).
    href: String,
    #[schema(value_type = is_proto::json::StateName)]
    state: &'static str,
}

/// `POST /steps/run?wait=5 {"name": step, ...params}`: 200 with the task
/// status if it finished within `wait`, else 202 with its id.
#[utoipa::path(post, path = "/steps/run", tag = "tasks", params(WaitQuery),
    request_body(content = Object, description = "`{\"name\": step, ...parameters}`"),
    responses(
        (status = 200, description = "the step finished within `wait`", body = pb::TaskStatus),
        (status = 202, description = "the step is still going", body = StartedTask)))]
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
    let short = StartedTask {
        state: is_proto::json::state_name(task.state),
        id: task.id,
        href: task.href,
    };
    Ok((StatusCode::ACCEPTED, Json(short)).into_response())
}

/// The query of `GET /tasks/{id}`, read as text so that a bad number gets
/// the API's error document.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct TaskQuery {
    /// Seconds to wait for the end (a long poll; more than 30 waits 30).
    #[param(value_type = Option<f64>)]
    wait: Option<String>,
    /// The first log record to answer (a step task's log).
    #[param(value_type = Option<u64>)]
    logs_offset: Option<String>,
    /// At most this many log records (default: the rest of the log).
    #[param(value_type = Option<u64>)]
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

/// A run's status or a step task's status. With `wait`, answers once the
/// task or run is finished or after N seconds (a long poll), whichever
/// comes first; a step task's log is paged by `logs_offset` and `logs_limit`.
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "a run id (`isapp-…`) or a step task id"), TaskQuery),
    responses((status = 200, description = "the run's or the step task's status", body = pb::any_task::Kind)))]
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

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ResultQuery {
    /// `pickle` for the pickle the step saved; JSON text otherwise.
    format: Option<String>,
}

/// The whole result of a step task, as JSON text or as the pickle the step saved.
#[utoipa::path(get, path = "/tasks/{id}/result", tag = "tasks",
    params(("id" = String, Path, description = "a step task id"), ResultQuery),
    responses((status = 200, description = "the result",
        content((Value = "application/json"), (Vec<u8> = "application/octet-stream")))))]
async fn get_task_result(
    State(s): State<Service>,
    Path(id): Path<String>,
    Query(q): Query<ResultQuery>,
) -> Result<axum::response::Response, ApiError> {
    let r = s.task_result(&id, q.format.as_deref().unwrap_or(""))?;
    Ok(([(axum::http::header::CONTENT_TYPE, r.content_type)], r.data).into_response())
}

/// Revoke a run or step task: pending steps never start, running steps are terminated.
#[utoipa::path(post, path = "/tasks/{id}/revoke", tag = "tasks",
    params(("id" = String, Path, description = "a run id or a step task id")),
    responses((status = 200, description = "the status after the revocation", body = pb::any_task::Kind)))]
async fn revoke_task(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::AnyTask> {
    s.revoke_any(&id).await.map(Json)
}

/// The same as `POST /tasks/{id}/revoke`.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks",
    params(("id" = String, Path, description = "a run id or a step task id")),
    responses((status = 200, description = "the status after the revocation", body = pb::any_task::Kind)))]
async fn delete_task(state: State<Service>, id: Path<String>) -> Answer<pb::AnyTask> {
    revoke_task(state, id).await
}

/// Revoke every unfinished run and step task.
#[utoipa::path(delete, path = "/tasks", tag = "tasks",
    responses((status = 200, description = "what was revoked", body = pb::RevokedAll)))]
async fn revoke_all(State(s): State<Service>) -> Answer<pb::RevokedAll> {
    s.revoke_all().await.map(Json)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only runs of this application.
    app: Option<String>,
    /// Only runs in this state (`PENDING`, `STARTED`, `SUCCESS`, …).
    state: Option<String>,
    /// Only runs started so (`USER`, `SCHEDULE`, `TRIGGER`, …).
    triggered_by: Option<String>,
    /// Only runs created at or after this time (seconds since the epoch).
    since: Option<f64>,
    /// Only runs created before this time (seconds since the epoch).
    until: Option<f64>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    /// At most this many runs (1 to 1000, default 50).
    limit: Option<usize>,
}

/// A page of runs, newest first. When more follow, `X-Next-Cursor` holds
/// the cursor of the next page and `Link` its address (`rel="next"`).
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, description = "a page of runs, newest first", body = Vec<pb::RunStatus>,
        headers(("x-next-cursor" = String, description = "the cursor of the next page, when more follow"),
            ("link" = String, description = "the address of the next page (`rel=\"next\"`)")))))]
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

/// Start a run of the application `name`: `{"name", "params": {app
/// variable overrides, "queue", "configuration", "log_level"}}`; waits up
/// to `wait` seconds for its end.
#[utoipa::path(post, path = "/applications/run", tag = "applications", params(WaitQuery, IdempotencyHeader),
    request_body(content = Object, description = "`{\"name\": application, \"params\": {...}}`"),
    responses((status = 200, description = "the run's status, finished or not", body = pb::RunStatus)))]
async fn run_application(
    State(s): State<Service>,
    Query(q): Query<WaitQuery>,
    headers: HeaderMap,
    JsonBody(doc): JsonBody,
) -> Answer<pb::RunStatus> {
    let key = idempotency_key(&headers)?;
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
        s.run_application(&name, params, wait_of(&q, 0.0)?, "USER", None, key.as_deref())
            .await?,
    )
}

/// Start a run of the application; the body (optional) holds its
/// parameters, as `{"params": {...}}` or the object itself.
#[utoipa::path(post, path = "/applications/{name}/run", tag = "applications",
    params(("name" = String, Path, description = "the application's name"), WaitQuery, IdempotencyHeader),
    request_body(content = Option<Object>, description = "the run's parameters (optional)"),
    responses((status = 200, description = "the run's status, finished or not", body = pb::RunStatus)))]
async fn run_named_application(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<WaitQuery>,
    headers: HeaderMap,
    body: RawBody,
) -> Answer<pb::RunStatus> {
    let key = idempotency_key(&headers)?;
    let params = run_params(body.optional_json()?)?;
    run_answer(
        s.run_application(&name, params, wait_of(&q, 0.0)?, "USER", None, key.as_deref())
            .await?,
    )
}

/// The `Idempotency-Key` header of a request that starts a run: a request
/// sent again with the same key (after a lost answer, to another node)
/// answers the run the first one started.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // read from the HeaderMap; here for the OpenAPI document
struct IdempotencyHeader {
    /// Any 1 to 200 visible ASCII characters (a UUID, say); the same key
    /// for the same application names the same run.
    #[param(rename = "Idempotency-Key")]
    idempotency_key: Option<String>,
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    super::runs::idempotency_key(headers.get("idempotency-key").map(|v| v.as_bytes()))
}

/// The status of the application's last run, with `last_run`.
#[utoipa::path(get, path = "/applications/{name}/logs", tag = "applications",
    params(("name" = String, Path, description = "the application's name")),
    responses((status = 200, description = "the last run's status", body = pb::RunStatus)))]
async fn application_logs(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::RunStatus> {
    s.application_logs(&name).await.map(Json)
}

/// A new run with the same variables, configuration and queue.
#[utoipa::path(post, path = "/tasks/{id}/replay", tag = "tasks",
    params(("id" = String, Path, description = "the run id"), WaitQuery),
    responses((status = 200, description = "the new run's status", body = pb::RunStatus)))]
async fn replay(
    State(s): State<Service>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> Answer<pb::RunStatus> {
    run_answer(s.replay(&id, wait_of(&q, 0.0)?).await?)
}

/// One server-sent event of `GET /tasks/{id}/events` (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct TaskEventFrame {
    event: EventName,
    /// The event as JSON: `{"type": state|log|end, ...}`; an `end` event
    /// holds the final status.
    data: String,
}

/// The name of a server-sent event: the `type` its data carries.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum EventName {
    State,
    Log,
    End,
}

/// Server-sent events: every log record and state change of a run or task,
/// in the order they happened, from its beginning (events `state`, `log`,
/// `end`; each `data` is JSON with the same `type`), ending with the final
/// status. Each event's `id` is the stream's position after it: a client
/// that lost the connection sends it back as `Last-Event-ID` and the stream
/// goes on from the next event.
#[utoipa::path(get, path = "/tasks/{id}/events", tag = "tasks",
    params(("id" = String, Path, description = "a run id or a step task id"),
        ("Last-Event-ID" = Option<String>, Header, description = "resume after this event (its id)")),
    responses((status = 200, description = "the event stream", content_type = "text/event-stream", body = TaskEventFrame)))]
async fn task_events(
    State(s): State<Service>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>>, ApiError> {
    use pb::task_event::Event as E;
    let after = match headers.get("last-event-id").map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.to_string()),
        Some(Err(_)) => {
            return Err(ApiError::BadRequest {
                message: "cannot resume the event stream".into(),
                details: vec!["Last-Event-ID must be the id of an event this stream sent".into()],
            })
        }
    };
    let stream = s.watch_task(&id, after.as_deref())?.map(|e| {
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
        Ok(SseEvent::default().event(kind).id(e.cursor).data(data))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

pub(super) fn routes() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(run_step))
        .routes(routes!(run_application))
        .routes(routes!(run_named_application))
        .routes(routes!(application_logs))
        .routes(routes!(list_tasks, revoke_all))
        .routes(routes!(get_task, delete_task))
        .routes(routes!(get_task_result))
        .routes(routes!(replay))
        .routes(routes!(revoke_task))
        .routes(routes!(task_events))
}
