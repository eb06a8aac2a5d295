//! The REST bridge (`/api/v1`): the shared extractors whose rejections use
//! the API's error document, the content handlers (steps, applications,
//! configurations), and [`routes`], which assembles every REST module's
//! routes together with their OpenAPI operations (`api::openapi`).
//! Operations of the contract that later features provide answer 501 with
//! the feature's name.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::Json;
use is_proto::v1 as pb;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::catalog::NamePage;
use super::{ApiError, Service};

/// Every answer is one of the typed messages (`api::views`) as JSON, or a
/// stored document as it was uploaded.
pub(super) type Answer<T> = Result<Json<T>, ApiError>;

/// `axum::extract::Query` answering a malformed query string, or a value of
/// the wrong type, with the API's error document (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` answering an unreadable path segment with the
/// API's error document (400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// The whole request body, read with the API's rejections: 413 past the
/// body limit, 400 when it cannot be read.
pub struct RawBody(pub axum::body::Bytes);

impl FromRequest<Service> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Service) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|r| {
                if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit: state.body_limit(),
                    }
                } else {
                    ApiError::bad_request(format!("cannot read the request body: {r}"))
                }
            })
    }
}

impl RawBody {
    /// The body as JSON, or None when it is empty or only white space.
    pub fn optional_json(&self) -> Result<Option<Value>, ApiError> {
        if self.0.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&self.0)
            .map(Some)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
    }
}

/// A JSON request body whose rejections use the API's error document:
/// 413 past the body limit, 400 naming the line and column of bad JSON.
pub struct JsonBody(pub Value);

impl FromRequest<Service> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Service) -> Result<Self, Self::Rejection> {
        RawBody::from_request(req, state)
            .await?
            .optional_json()?
            .map(JsonBody)
            .ok_or_else(|| ApiError::bad_request("the request body is empty; send a JSON document"))
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

/// The body of `POST /steps` (schema only: the handler reads the document
/// itself so that it can list every problem).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct StepUpload {
    /// The step's class name.
    name: String,
    /// The Python source defining the class.
    data: String,
}

/// Add or overwrite a step; 400 with the Python error if it does not
/// compile or defines no class `name`.
#[utoipa::path(post, path = "/steps", tag = "steps",
    request_body = StepUpload,
    responses((status = 200, description = "the step is stored", body = pb::Stored)))]
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

/// `?limit=N&cursor=C&search=TEXT` of a content listing.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// Start after this name: the `X-Next-Cursor` of the previous page.
    cursor: Option<String>,
    /// At most this many items (at least 1); the whole list without it.
    limit: Option<usize>,
    /// Only items whose name, friendly name or description holds this
    /// text, in any case; a page then holds `limit` such items.
    search: Option<String>,
}

impl PageQuery {
    fn page(self) -> Result<NamePage, ApiError> {
        if self.limit == Some(0) {
            return Err(ApiError::bad_request(
                "limit must be at least 1 (leave it out for the whole list)",
            ));
        }
        Ok(NamePage {
            after: self.cursor.filter(|c| !c.is_empty()),
            limit: self.limit,
            search: self.search,
        })
    }
}

/// A content listing answers the array of its items, in name order: the
/// whole list, or with `?limit=N` a page, the next one from `?cursor=`
/// (the `X-Next-Cursor` header of the previous page, absent on the last).
type Listing = Result<(axum::http::HeaderMap, Json<Vec<pb::ContentSummary>>), ApiError>;

fn listing(list: pb::ContentList) -> Listing {
    Ok((
        next_page_headers(list.next_cursor.as_deref(), |_| None),
        Json(list.items),
    ))
}

/// The headers of a page that more follow: `X-Next-Cursor` (percent-encoded,
/// ready for a query string) and, when `link` gives its address, `Link`.
pub(super) fn next_page_headers(
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

/// Percent-encodes a query value (everything but unreserved characters).
pub(super) fn percent(s: &str) -> String {
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

/// The steps, in name order.
#[utoipa::path(get, path = "/steps", tag = "steps", params(PageQuery),
    responses((status = 200, description = "the steps (a page of them with `limit`)",
        body = Vec<pb::ContentSummary>,
        headers(("x-next-cursor" = String, description = "the cursor of the next page, when more follow")))))]
async fn list_steps(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(s.list_steps(&q.page()?))
}

/// One step: its source, friendly name, description, version and declared parameters.
#[utoipa::path(get, path = "/steps/{name}", tag = "steps",
    params(("name" = String, Path, description = "the step's class name")),
    responses((status = 200, description = "the step", body = pb::StepInfo)))]
async fn get_step(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::StepInfo> {
    s.get_step(&name).map(Json)
}

#[utoipa::path(delete, path = "/steps/{name}", tag = "steps",
    params(("name" = String, Path, description = "the step's class name")),
    responses((status = 200, description = "whether the step existed", body = pb::Deleted)))]
async fn delete_step(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_step(&name).await.map(Json)
}

/// Add or overwrite an application (DESIGN 4.2); 400 listing every problem.
#[utoipa::path(post, path = "/applications", tag = "applications",
    request_body(content = Object, description = "the application document"),
    responses((status = 200, description = "the application is stored", body = pb::Stored)))]
async fn post_application(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::Stored> {
    s.put_application(doc).await.map(Json)
}

/// The applications, in name order, each with the SyncPack that owns it
/// (`syncpack`), its newest run (`last_run`) and its schedules.
#[utoipa::path(get, path = "/applications", tag = "applications", params(PageQuery),
    responses((status = 200, description = "the applications (a page of them with `limit`)",
        body = Vec<pb::ContentSummary>,
        headers(("x-next-cursor" = String, description = "the cursor of the next page, when more follow")))))]
async fn list_applications(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(s.list_applications(q.page()?).await?)
}

/// The document as uploaded (unknown keys included), ready to upload again.
#[utoipa::path(get, path = "/applications/{name}", tag = "applications",
    params(("name" = String, Path, description = "the application's name")),
    responses((status = 200, description = "the application document as uploaded", body = Object)))]
async fn get_application(State(s): State<Service>, Path(name): Path<String>) -> Answer<Value> {
    s.get_application(&name).map(|a| Json(a.doc))
}

#[utoipa::path(delete, path = "/applications/{name}", tag = "applications",
    params(("name" = String, Path, description = "the application's name")),
    responses((status = 200, description = "whether the application existed", body = pb::Deleted)))]
async fn delete_application(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_application(&name).await.map(Json)
}

/// Add or overwrite a configuration; values marked `encrypted` are sealed.
#[utoipa::path(post, path = "/configurations", tag = "configurations",
    request_body(content = Object, description = "the configuration document"),
    responses((status = 200, description = "the configuration is stored", body = pb::Stored)))]
async fn post_configuration(State(s): State<Service>, JsonBody(doc): JsonBody) -> Answer<pb::Stored> {
    s.put_configuration(doc).await.map(Json)
}

/// The configurations, in name order.
#[utoipa::path(get, path = "/configurations", tag = "configurations", params(PageQuery),
    responses((status = 200, description = "the configurations (a page of them with `limit`)",
        body = Vec<pb::ContentSummary>,
        headers(("x-next-cursor" = String, description = "the cursor of the next page, when more follow")))))]
async fn list_configurations(State(s): State<Service>, Query(q): Query<PageQuery>) -> Listing {
    listing(s.list_configurations(&q.page()?))
}

/// The stored document as the caller's role may see it (values masked for
/// operators, hidden for viewers).
#[utoipa::path(get, path = "/configurations/{name}", tag = "configurations",
    params(("name" = String, Path, description = "the configuration's name")),
    responses((status = 200, description = "the configuration document", body = Object)))]
async fn get_configuration(
    State(s): State<Service>,
    axum::Extension(caller): axum::Extension<super::auth::Principal>,
    Path(name): Path<String>,
) -> Answer<Value> {
    s.get_configuration(&name, &caller).map(|c| Json(c.doc))
}

#[utoipa::path(delete, path = "/configurations/{name}", tag = "configurations",
    params(("name" = String, Path, description = "the configuration's name")),
    responses((status = 200, description = "whether the configuration existed", body = pb::Deleted)))]
async fn delete_configuration(State(s): State<Service>, Path(name): Path<String>) -> Answer<pb::Deleted> {
    s.delete_configuration(&name).await.map(Json)
}

pub async fn no_route(req: Request) -> ApiError {
    ApiError::NotFound(format!(
        "no endpoint {} {}; the API lives under /api/v1 (see the README)",
        req.method(),
        req.uri().path()
    ))
}

/// A path that exists, asked with a method it does not serve.
pub async fn method_not_allowed(req: Request) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{} is not an operation of {}; /api/v1/openapi.json lists the operations",
        req.method(),
        req.uri().path()
    ))
}

/// Every REST route with its OpenAPI operation: each is registered from
/// its handler's `#[utoipa::path]` (method and path included), so no route
/// exists without its documentation. `syncpack_max` is the largest wheel upload.
pub fn routes(syncpack_max: u64) -> OpenApiRouter<Service> {
    let api = OpenApiRouter::new()
        .routes(routes!(post_step, list_steps))
        .routes(routes!(get_step, delete_step))
        .routes(routes!(post_application, list_applications))
        .routes(routes!(get_application, delete_application))
        .routes(routes!(post_configuration, list_configurations))
        .routes(routes!(get_configuration, delete_configuration))
        .merge(super::rest_tasks::routes())
        .merge(super::rest_system::routes())
        .merge(super::rest_packs::routes(syncpack_max))
        .merge(super::rest_schedules::routes())
        .merge(super::rest_users::routes())
        .merge(super::rest_session::routes());
    OpenApiRouter::new().nest("/api/v1", api)
}
