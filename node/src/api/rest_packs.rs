//! The REST handlers of `/syncpacks` (DESIGN 4.10). An upload is streamed
//! to a file as it arrives — a `multipart/form-data` field `file`, or the raw
//! wheel with `?file_name=` — so a 100 MB wheel is never held in memory.

use std::io::Write;

use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::{json, Value};

use super::packs::UploadedFile;
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

#[derive(serde::Deserialize)]
struct UploadQuery {
    file_name: Option<String>,
    force: Option<String>,
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

#[derive(serde::Deserialize)]
struct ListQuery {
    only_installed: Option<String>,
    only_activated: Option<String>,
}

async fn list(State(s): State<Service>, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    let installed = flag(&q.only_installed, "only_installed")?;
    let activated = flag(&q.only_activated, "only_activated")?;
    Ok(Json(s.list_syncpacks(installed, activated)))
}

async fn show(State(s): State<Service>, Path(name): Path<String>) -> Result<Json<Value>, ApiError> {
    s.get_syncpack(&name).map(Json)
}

#[derive(serde::Deserialize)]
struct VersionQuery {
    version: Option<String>,
    force: Option<String>,
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

/// 202 with `{"href"}` to follow while some node still installs, else 200.
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
pub fn routes(max_upload: u64) -> Router<Service> {
    let limit = usize::try_from(max_upload.saturating_add(1 << 20)).unwrap_or(usize::MAX);
    Router::new()
        .route(
            "/syncpacks",
            post(upload)
                .layer(axum::extract::DefaultBodyLimit::max(limit))
                .get(list),
        )
        .route("/syncpacks/{name}", get(show).delete(delete))
        .route("/syncpacks/{name}/activate", post(activate))
        .route("/syncpacks/{name}/install", post(install))
}
