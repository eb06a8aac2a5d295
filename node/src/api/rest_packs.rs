//! The REST handlers of `/syncpacks` (DESIGN 4.10). An upload is streamed
//! to a file as it arrives — a `multipart/form-data` field `file`, or the raw
//! wheel with `?file_name=` — so a 100 MB wheel is never held in memory.

use std::io::Write;

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::packs::UploadedFile;
use super::rest::{Path, Query};
use super::{ApiError, Service};
use crate::model::lenient::bool_of;

/// `?force=true` and the other flags, in the spellings the original took.
pub(super) fn flag(v: &Option<String>, name: &str) -> Result<bool, ApiError> {
    match v {
        None => Ok(false),
        Some(text) => bool_of(&Value::String(text.clone()))
            .ok_or_else(|| ApiError::bad_request(format!("?{name}= must be true or false, got {text:?}"))),
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The wheel's file name (`NAME-VERSION-py3-none-any.whl`), for a raw body.
    file_name: Option<String>,
    /// `true` to replace an uploaded version of the same number.
    force: Option<String>,
}

/// The multipart form of an upload (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The wheel.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Appends `bytes` to `out`, refusing more than `max` in all.
fn append(out: &mut std::fs::File, written: &mut u64, bytes: &[u8], max: u64) -> Result<(), ApiError> {
    *written += bytes.len() as u64;
    if *written > max {
        return Err(ApiError::PayloadTooLarge { limit: max });
    }
    out.write_all(bytes)
        .map_err(|e| ApiError::Internal(format!("cannot store the upload: {e}")))
}

/// Upload a SyncPack wheel: a `multipart/form-data` field `file`, or the
/// wheel as the body with `?file_name=`. Every entry is inspected first.
#[utoipa::path(post, path = "/syncpacks", tag = "syncpacks", params(UploadQuery),
    request_body(content((UploadForm = "multipart/form-data"), (Vec<u8> = "application/octet-stream"))),
    responses((status = 200, description = "the uploaded version", body = Object)))]
async fn upload(
    State(s): State<Service>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let force = flag(&q.force, "force")?;
    let max = s.syncpack_max_bytes();
    let file = s.upload_file()?;
    let mut out = std::fs::File::create(&file.path)
        .map_err(|e| ApiError::Internal(format!("cannot store the upload: {e}")))?;
    let mut written = 0u64;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let file_name = if is_multipart {
        let mut form = axum::extract::Multipart::from_request(req, &s)
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read the form: {e}")))?;
        let mut name = None;
        while let Some(mut field) = form
            .next_field()
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read the form: {e}")))?
        {
            if field.name() != Some("file") {
                continue;
            }
            name = Some(field.file_name().unwrap_or_default().to_string());
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| ApiError::bad_request(format!("cannot read the uploaded file: {e}")))?
            {
                append(&mut out, &mut written, &chunk, max)?;
            }
            break;
        }
        name.ok_or_else(|| ApiError::bad_request("the form has no field \"file\" holding the wheel"))?
    } else {
        let name = q.file_name.clone().ok_or_else(|| {
            ApiError::bad_request(
                "send the wheel as multipart/form-data field \"file\", or as the body with ?file_name=NAME-VERSION-py3-none-any.whl",
            )
        })?;
        let mut body = req.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
            append(&mut out, &mut written, &chunk, max)?;
        }
        name
    };
    out.sync_all()
        .map_err(|e| ApiError::Internal(format!("cannot store the upload: {e}")))?;
    drop(out);
    let file_name = q.file_name.filter(|_| file_name.is_empty()).unwrap_or(file_name);
    s.upload_syncpack(&file_name, file, force).await.map(Json)
}

/// Writes gRPC's in-message wheel to a file, as REST streams do.
pub fn wheel_to_file(s: &Service, bytes: &[u8]) -> Result<UploadedFile, ApiError> {
    if bytes.len() as u64 > s.syncpack_max_bytes() {
        return Err(ApiError::PayloadTooLarge {
            limit: s.syncpack_max_bytes(),
        });
    }
    let file = s.upload_file()?;
    std::fs::write(&file.path, bytes)
        .map_err(|e| ApiError::Internal(format!("cannot store the upload: {e}")))?;
    Ok(file)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `true`: only packs installed on every node.
    only_installed: Option<String>,
    /// `true`: only activated packs.
    only_activated: Option<String>,
}

/// The SyncPacks with their versions.
#[utoipa::path(get, path = "/syncpacks", tag = "syncpacks", params(ListQuery),
    responses((status = 200, description = "the SyncPacks", body = Value)))]
async fn list(State(s): State<Service>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let installed = flag(&q.only_installed, "only_installed")?;
    let activated = flag(&q.only_activated, "only_activated")?;
    Ok(Json(s.list_syncpacks(installed, activated)))
}

/// One SyncPack: its versions, content and install state per node.
#[utoipa::path(get, path = "/syncpacks/{name}", tag = "syncpacks",
    params(("name" = String, Path, description = "the pack's name")),
    responses((status = 200, description = "the SyncPack", body = Object)))]
async fn show(State(s): State<Service>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    s.get_syncpack(&name).map(Json)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct VersionQuery {
    /// The version (default: the newest, or for a delete every version).
    version: Option<String>,
    /// `true` to go ahead despite what would refuse it.
    force: Option<String>,
}

/// The optional body of activate and install (schema only).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct VersionBody {
    version: Option<String>,
    #[schema(value_type = Option<bool>)]
    force: Option<Value>,
}

/// `?version=&force=`, or the same as a JSON body `{"version", "force"}`.
async fn version_and_force(
    s: &Service,
    q: VersionQuery,
    req: Request,
) -> Result<(Option<String>, bool), ApiError> {
    let mut version = q.version.filter(|v| !v.is_empty());
    let mut force = flag(&q.force, "force")?;
    let bytes = axum::body::Bytes::from_request(req, s)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))?;
    if !bytes.iter().all(u8::is_ascii_whitespace) {
        let doc: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))?;
        match doc.get("version") {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) => version = Some(v.clone()),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "\"version\" must be a string, got {other}"
                )))
            }
        }
        if let Some(f) = doc.get("force") {
            force = bool_of(f)
                .ok_or_else(|| ApiError::bad_request(format!("\"force\" must be true or false, got {f}")))?;
        }
    }
    Ok((version, force))
}

/// Delete a SyncPack, or one version of it.
#[utoipa::path(delete, path = "/syncpacks/{name}", tag = "syncpacks",
    params(("name" = String, Path, description = "the pack's name"), VersionQuery),
    responses((status = 200, description = "what was deleted", body = Object)))]
async fn delete(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Json<Value>, ApiError> {
    let force = flag(&q.force, "force")?;
    s.delete_syncpack(&name, q.version.as_deref().filter(|v| !v.is_empty()), force)
        .await
        .map(Json)
}

/// Activate a version: its steps, applications and configurations
/// replace the previous version's in one step.
#[utoipa::path(post, path = "/syncpacks/{name}/activate", tag = "syncpacks",
    params(("name" = String, Path, description = "the pack's name"), VersionQuery),
    request_body(content = Option<VersionBody>, description = "the version and force, instead of the query (optional)"),
    responses((status = 200, description = "the activation", body = Object)))]
async fn activate(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
    req: Request,
) -> Result<Json<Value>, ApiError> {
    let (version, force) = version_and_force(&s, q, req).await?;
    s.activate_syncpack(&name, version.as_deref(), force)
        .await
        .map(Json)
}

/// Install a version on every node: 202 with `{"href"}` to follow while
/// some node still installs, else 200.
#[utoipa::path(post, path = "/syncpacks/{name}/install", tag = "syncpacks",
    params(("name" = String, Path, description = "the pack's name"), VersionQuery),
    request_body(content = Option<VersionBody>, description = "the version, instead of the query (optional)"),
    responses((status = 200, description = "installed on every node", body = Object),
        (status = 202, description = "some node still installs; follow `href`", body = Object)))]
async fn install(
    State(s): State<Service>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
    req: Request,
) -> Result<Response, ApiError> {
    let (version, _force) = version_and_force(&s, q, req).await?;
    let (mut status, installing) = s.install_syncpack(&name, version.as_deref()).await?;
    if !installing {
        return Ok(Json(status).into_response());
    }
    if let Some(obj) = status.as_object_mut() {
        obj.insert("href".into(), json!(format!("/api/v1/syncpacks/{name}")));
    }
    Ok((StatusCode::ACCEPTED, Json(status)).into_response())
}

/// The `/syncpacks` routes, with the upload's own body limit.
pub(super) fn routes(max_upload: u64) -> OpenApiRouter<Service> {
    let limit = usize::try_from(max_upload.saturating_add(1 << 20)).unwrap_or(usize::MAX);
    let upload = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(axum::extract::DefaultBodyLimit::max(limit));
    OpenApiRouter::new()
        .routes(routes!(list))
        .merge(upload)
        .routes(routes!(show, delete))
        .routes(routes!(activate))
        .routes(routes!(install))
}
