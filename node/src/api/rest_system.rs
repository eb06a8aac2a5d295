//! The REST side of the system operations: the step cache (`/cache`), the
//! node (`/about`), licensing (`/license`, not built yet: 501) and cluster
//! membership (`/cluster`).

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use is_proto::v1 as pb;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rest::{Answer, JsonBody, Path, Query};
use super::{ApiError, Service};

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CacheQuery {
    /// `true` for the stored pickle itself instead of JSON.
    raw: Option<String>,
}

/// The cache entry with its value read from the pickle as JSON; with
/// `?raw=true` the stored pickle itself.
#[utoipa::path(get, path = "/cache/{*key}", tag = "cache",
    params(("key" = String, Path, description = "the cache key (it may hold slashes)"), CacheQuery),
    responses((status = 200, description = "the entry, or its pickle with `raw=true`",
        content((pb::CacheEntry = "application/json"), (Vec<u8> = "application/octet-stream")))))]
async fn get_cache(
    State(s): State<Service>,
    Path(key): Path<String>,
    Query(q): Query<CacheQuery>,
) -> Result<axum::response::Response, ApiError> {
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

#[utoipa::path(delete, path = "/cache/{*key}", tag = "cache",
    params(("key" = String, Path, description = "the cache key (it may hold slashes)")),
    responses((status = 200, description = "whether the entry existed", body = pb::CacheDeleted)))]
async fn delete_cache(State(s): State<Service>, Path(key): Path<String>) -> Answer<pb::CacheDeleted> {
    s.cache_delete(&key).await.map(Json)
}

/// The node: name, versions, its id, the leader, the cluster, its uptime.
#[utoipa::path(get, path = "/about", tag = "system",
    responses((status = 200, description = "about this node", body = pb::About)))]
async fn about(State(s): State<Service>) -> Answer<pb::About> {
    Ok(Json(s.about()))
}

const LICENSE: &str = "licensing";

/// Licensing is not built yet: 501.
#[utoipa::path(get, path = "/license", tag = "system", responses())]
async fn get_license() -> ApiError {
    ApiError::NotImplemented(LICENSE)
}

/// Licensing is not built yet: 501.
#[utoipa::path(post, path = "/license", tag = "system", responses())]
async fn post_license() -> ApiError {
    ApiError::NotImplemented(LICENSE)
}

/// Licensing is not built yet: 501.
#[utoipa::path(delete, path = "/license", tag = "system", responses())]
async fn delete_license() -> ApiError {
    ApiError::NotImplemented(LICENSE)
}

/// Membership, the leader and each member's health.
#[utoipa::path(get, path = "/cluster", tag = "cluster",
    responses((status = 200, description = "the cluster", body = pb::ClusterStatus)))]
async fn cluster(State(s): State<Service>) -> Answer<pb::ClusterStatus> {
    Ok(Json(s.cluster_status().await))
}

/// The body of `POST /cluster/nodes` (schema only: the handler reads the
/// document itself).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct NewNode {
    /// The new node's id, a positive integer.
    id: u64,
    /// The new node's `HOST:PORT` listener.
    address: String,
}

/// Add a node: it must answer with the cluster secret before it becomes a
/// learner, then a voter.
#[utoipa::path(post, path = "/cluster/nodes", tag = "cluster", request_body = NewNode,
    responses((status = 200, description = "the cluster with the new node", body = pb::ClusterStatus)))]
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

#[utoipa::path(delete, path = "/cluster/nodes/{id}", tag = "cluster",
    params(("id" = u64, Path, description = "the node id")),
    responses((status = 200, description = "the cluster without the node", body = pb::ClusterStatus)))]
async fn remove_node(State(s): State<Service>, Path(id): Path<String>) -> Answer<pb::ClusterStatus> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("node id {id:?} is not a positive integer")))?;
    s.remove_cluster_node(id).await.map(Json)
}

pub(super) fn routes() -> OpenApiRouter<Service> {
    OpenApiRouter::new()
        .routes(routes!(get_cache, delete_cache))
        .routes(routes!(about))
        .routes(routes!(get_license, post_license, delete_license))
        .routes(routes!(cluster))
        .routes(routes!(add_node))
        .routes(routes!(remove_node))
        .routes(routes!(super::openapi::openapi_json))
}
