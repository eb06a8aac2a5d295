//! The REST side of schedules and reports (`/schedule`, `/reports`):
//! thin handlers over `api::schedules` and `api::reports`.

use axum::extract::State;
use axum::Json;
use is_proto::v1 as pb;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rest::{Answer, JsonBody, Path, Query};
use super::{ApiError, Service};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportListQuery {
    /// Only reports of this application.
    app: Option<String>,
    /// Only reports made at or after this time (seconds since the epoch).
    since: Option<f64>,
    /// Only reports made before this time (seconds since the epoch).
    until: Option<f64>,
    /// The `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    /// At most this many reports (default 50).
    limit: Option<usize>,
}

/// `GET /reports`: a page of reports, newest first, as a JSON array; when
/// more follow, `X-Next-Cursor` holds the cursor of the next page.
#[utoipa::path(get, path = "/reports", tag = "reports", params(ReportListQuery),
    responses((status = 200, description = "a page of reports, newest first", body = Vec<Object>,
        headers(("x-next-cursor" = String, description = "the cursor of the next page, when more follow")))))]
async fn list_reports(
    State(s): State<Service>,
    Query(q): Query<ReportListQuery>,
) -> Result<(axum::http::HeaderMap, Json<Vec<Value>>), ApiError> {
    let query = crate::api::reports::ReportQuery {
        app: q.app,
        since: q.since,
        until: q.until,
        cursor: q.cursor,
        limit: q.limit.unwrap_or(50),
    };
    let (page, next) = s.list_reports(&query)?;
    let mut headers = axum::http::HeaderMap::new();
    if let Some(next) = next.and_then(|n| axum::http::HeaderValue::from_str(&n).ok()) {
        headers.insert("x-next-cursor", next);
    }
    Ok((headers, Json(page)))
}

/// One report: its sections, each a table a step built.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "`report-<application>-<run id>`")),
    responses((status = 200, description = "the report", body = Object)))]
async fn get_report(State(s): State<Service>, Path(id): Path<String>) -> Answer<Value> {
    s.get_report(&id).map(Json)
}

/// Store a report under `id` (kept as sent).
#[utoipa::path(put, path = "/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "`report-<application>-<run id>`")),
    request_body(content = Object, description = "the report"),
    responses((status = 200, description = "the stored report", body = Object)))]
async fn put_report(State(s): State<Service>, Path(id): Path<String>, body: JsonBody) -> Answer<Value> {
    s.keep_report(&id, body.0).await.map(Json)
}

#[utoipa::path(delete, path = "/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "`report-<application>-<run id>`")),
    responses((status = 200, description = "whether the report existed", body = pb::Deleted)))]
async fn delete_report(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::Deleted> {
    s.delete_report(&id).await.map(Json)
}

/// Add a schedule entry (`run_every` or crontab with a time zone).
#[utoipa::path(post, path = "/schedule", tag = "schedules",
    request_body(content = Object, description = "the schedule document (DESIGN 4.10)"),
    responses((status = 200, description = "the stored schedule", body = Object)))]
async fn post_schedule(State(s): State<Service>, body: JsonBody) -> Answer<Value> {
    s.put_schedule(body.0).await.map(Json)
}

#[utoipa::path(get, path = "/schedule", tag = "schedules",
    responses((status = 200, description = "the schedules with their slot state", body = Value)))]
async fn list_schedules(State(s): State<Service>) -> Json<Value> {
    Json(s.list_schedules())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PreviewQuery {
    /// How many fire times to answer, from 1 to 50 (default 5).
    count: Option<u32>,
}

/// The answer of `POST /schedule/preview`.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct SchedulePreview {
    /// The next fire times from now, in seconds since the epoch, oldest first.
    next_fires: Vec<f64>,
}

/// The next times a schedule would fire, computed as the scheduler does,
/// without storing anything; 400 lists every problem, as `POST /schedule` would.
#[utoipa::path(post, path = "/schedule/preview", tag = "schedules", params(PreviewQuery),
    request_body(content = Object, description = "the `schedule` of a schedule document: \
        {\"schedule_type\": \"frequency\", \"schedule_info\": {\"run_every\": seconds}} or \
        {\"schedule_type\": \"crontab\", \"schedule_info\": {minute, hour, day_of_week, day_of_month, month_of_year, timezone}}"),
    responses((status = 200, description = "the next fire times", body = SchedulePreview)))]
async fn preview_schedule(Query(q): Query<PreviewQuery>, body: JsonBody) -> Answer<SchedulePreview> {
    let fires = crate::api::schedules::preview(&body.0, q.count, crate::util::now_ms())?;
    Ok(Json(SchedulePreview {
        next_fires: fires.into_iter().map(super::views::secs).collect(),
    }))
}

#[utoipa::path(get, path = "/schedule/{id}", tag = "schedules",
    params(("id" = String, Path, description = "the schedule's id")),
    responses((status = 200, description = "the schedule with its slot state", body = Object)))]
async fn get_schedule(State(s): State<Service>, Path(id): Path<String>) -> Answer<Value> {
    s.get_schedule(&id).map(Json)
}

/// Replace a schedule entry.
#[utoipa::path(put, path = "/schedule/{id}", tag = "schedules",
    params(("id" = String, Path, description = "the schedule's id")),
    request_body(content = Object, description = "the schedule document (DESIGN 4.10)"),
    responses((status = 200, description = "the stored schedule", body = Object)))]
async fn put_schedule(State(s): State<Service>, Path(id): Path<String>, body: JsonBody) -> Answer<Value> {
    s.update_schedule(&id, body.0).await.map(Json)
}

#[utoipa::path(delete, path = "/schedule/{id}", tag = "schedules",
    params(("id" = String, Path, description = "the schedule's id")),
    responses((status = 200, description = "whether the schedule existed", body = pb::Deleted)))]
async fn delete_schedule(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::Deleted> {
    s.delete_schedule(&id).await.map(Json)
}

pub(super) fn routes() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(post_schedule, list_schedules))
        .routes(routes!(preview_schedule))
        .routes(routes!(get_schedule, put_schedule, delete_schedule))
        .routes(routes!(list_reports))
        .routes(routes!(get_report, put_report, delete_report))
}
