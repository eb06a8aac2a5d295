//! The REST side of schedules and reports (`/schedule`, `/reports`):
//! thin handlers over `api::schedules` and `api::reports`.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use is_proto::v1 as pb;
use serde_json::Value;

use super::rest::JsonBody;
use super::{ApiError, Service};

type Answer<T> = Result<Json<T>, ApiError>;

#[derive(serde::Deserialize)]
struct ReportListQuery {
    app: Option<String>,
    since: Option<f64>,
    until: Option<f64>,
    cursor: Option<String>,
    limit: Option<usize>,
}

/// `GET /reports`: a page of reports, newest first, as a JSON array; when
/// more follow, `X-Next-Cursor` holds the cursor of the next page.
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

async fn get_report(State(s): State<Service>, Path(id): Path<String>) -> Answer<Value> {
    s.get_report(&id).map(Json)
}

async fn put_report(State(s): State<Service>, Path(id): Path<String>, body: JsonBody) -> Answer<Value> {
    s.keep_report(&id, body.0).await.map(Json)
}

async fn delete_report(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::Deleted> {
    s.delete_report(&id).await.map(Json)
}

async fn post_schedule(State(s): State<Service>, body: JsonBody) -> Answer<Value> {
    s.put_schedule(body.0).await.map(Json)
}

async fn list_schedules(State(s): State<Service>) -> Json<Value> {
    Json(s.list_schedules())
}

async fn get_schedule(State(s): State<Service>, Path(id): Path<String>) -> Answer<Value> {
    s.get_schedule(&id).map(Json)
}

async fn put_schedule(State(s): State<Service>, Path(id): Path<String>, body: JsonBody) -> Answer<Value> {
    s.update_schedule(&id, body.0).await.map(Json)
}

async fn delete_schedule(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::Deleted> {
    s.delete_schedule(&id).await.map(Json)
}

pub fn routes() -> Router<Service> {
    Router::new()
        .route("/schedule", post(post_schedule).get(list_schedules))
        .route(
            "/schedule/{id}",
            get(get_schedule).put(put_schedule).delete(delete_schedule),
        )
        .route("/reports", get(list_reports))
        .route(
            "/reports/{id}",
            get(get_report).put(put_report).delete(delete_report),
        )
}
