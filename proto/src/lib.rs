//! The Integration Service's gRPC contract: messages and the client/server
//! stubs generated from `proto/integration.proto`, and the few plain types
//! the node and `iscli` must agree on beyond the messages ([`LogLevel`]).

mod log_level;

pub use log_level::LogLevel;

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
