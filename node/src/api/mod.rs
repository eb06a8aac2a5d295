//! The network API: the shared operations ([`Service`]), their two
//! transports (gRPC for `iscli`, the REST bridge under `/api/v1`), HTTP Basic
//! authentication and the error mapping. This is the only layer that knows
//! HTTP or gRPC.
//!
//! **Invariant:** every request passes [`auth::require_auth`] before it
//! reaches a handler of either transport, except node-to-node calls
//! (`raft::service`), which must carry the cluster secret instead,
//! `GET /api/v1/openapi.json` (the public document, [`openapi`]), the
//! web UI's files ([`web_ui`], which hold no data) and the probes
//! `/health` and `/ready` ([`ready`], a status word each). `GET /metrics`
//! ([`metrics`], Prometheus text) sits beside `/api/v1` and needs `read`.

pub mod access;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod catalog;
pub mod error;
pub mod grpc;
pub mod keys;
pub mod listen;
pub mod login_limit;
pub mod metrics;
pub mod openapi;
pub mod pack_activation;
pub mod packs;
pub mod passwords;
pub mod ready;
pub mod reports;
pub mod rest;
pub mod rest_packs;
pub mod rest_schedules;
pub mod rest_session;
pub mod rest_system;
pub mod rest_tasks;
pub mod rest_users;
pub mod runs;
pub mod runtime;
pub mod schedules;
pub mod server;
pub mod service;
pub mod session;
pub mod users;
pub mod views;
pub mod watch;
pub mod web_ui;

pub use error::ApiError;
pub use service::{Service, ServiceDeps};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use is_proto::IntegrationServiceServer;

/// One router for both transports: gRPC paths (`/integration.v1.*/...`)
/// and REST paths (`/api/v1/...`) never overlap; node-to-node calls
/// (`/integration.internal.v1.*/...`) pass user authentication untouched
/// and check the cluster secret themselves.
pub fn router(
    svc: Service,
    auth: auth::Authenticator,
    readiness: ready::Readiness,
    cluster_secret: Option<&str>,
) -> Router {
    let limit = usize::try_from(svc.body_limit()).unwrap_or(usize::MAX);
    // A SyncPack upload over gRPC is one message holding the wheel.
    let grpc_limit = usize::try_from(svc.syncpack_max_bytes().saturating_add(1 << 20))
        .unwrap_or(usize::MAX)
        .max(limit);
    let grpc = IntegrationServiceServer::new(grpc::GrpcApi::new(svc.clone()))
        .max_decoding_message_size(grpc_limit)
        .max_encoding_message_size(usize::MAX);
    let grpc = tonic::service::Routes::new(grpc)
        .add_service(crate::raft::service::server(
            svc.raft().clone(),
            svc.content().clone(),
            cluster_secret,
        ))
        .into_axum_router();
    let (rest, _) = rest::routes(svc.syncpack_max_bytes()).split_for_parts();
    // Outside /api/v1 and the OpenAPI document: the probes of load balancers.
    let probes = Router::new()
        .route(ready::HEALTH_PATH, axum::routing::get(ready::health))
        .route(ready::READY_PATH, axum::routing::get(ready::ready))
        .with_state(readiness);
    let counts = svc.request_counts().clone();
    rest.route(metrics::PATH, axum::routing::get(metrics::scrape))
        .with_state(svc)
        .layer(DefaultBodyLimit::max(limit))
        .merge(grpc)
        .merge(probes)
        .fallback(web_ui::fallback)
        .method_not_allowed_fallback(rest::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(auth, auth::require_auth))
        // Outside authentication, so refused calls are counted too; a layer
        // of the router runs once a route matched (`MatchedPath` is known).
        .layer(axum::middleware::from_fn_with_state(
            counts,
            metrics::requests::count,
        ))
        .layer(
            // Failed requests are logged where the error is made (api::error);
            // the trace layer only records request spans.
            tower_http::trace::TraceLayer::new_for_http()
                .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG)),
        )
}
