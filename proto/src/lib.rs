//! The Integration Service's gRPC contract: messages and the client/server
//! stubs generated from `proto/integration.proto`, and the few plain types
//! the node and `iscli` must agree on beyond the messages ([`LogLevel`]).

pub mod json;
mod log_level;

pub use log_level::LogLevel;
/// The well-known types the messages use (`Struct`, `Value`), for callers
/// that build requests without depending on prost-types themselves.
pub use prost_types;

/// Generated code: clippy's lints are not ours to fix there.
#[allow(clippy::all)]
pub mod v1 {
    tonic::include_proto!("integration.v1");
}

pub use v1::integration_service_client::IntegrationServiceClient;
pub use v1::integration_service_server::{IntegrationService, IntegrationServiceServer};

/// Node-to-node service (Raft RPCs, forwarded writes, joins).
#[allow(clippy::all)]
pub mod internal {
    tonic::include_proto!("integration.internal.v1");
}
