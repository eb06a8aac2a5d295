//! The Integration Service's gRPC contract: messages and the client/server
//! stubs generated from `proto/integration.proto`.

#![allow(clippy::all)]

pub mod v1 {
    tonic::include_proto!("integration.v1");
}

pub use v1::integration_service_client::IntegrationServiceClient;
pub use v1::integration_service_server::{IntegrationService, IntegrationServiceServer};

/// Node-to-node service (Raft RPCs, forwarded writes, joins).
pub mod internal {
    tonic::include_proto!("integration.internal.v1");
}
