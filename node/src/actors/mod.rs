//! The node's actors (ractor). The supervisor owns every long-lived service
//! of the node and restarts a failed one with capped exponential backoff.
//!
//! Supervision tree (see ARCHITECTURE.md):
//! ```text
//! supervisor
//! └── api-server   (the REST + gRPC listener)
//! ```

pub mod api_server;
pub mod backoff;
pub mod supervisor;

pub use supervisor::{NodeServices, Supervisor, SupervisorMsg};
