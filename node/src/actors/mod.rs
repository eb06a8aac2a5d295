//! The node's actors (ractor). The supervisor owns every long-lived service
//! of the node and restarts a failed one with capped exponential backoff.
//!
//! Supervision tree (see ARCHITECTURE.md):
//! ```text
//! supervisor
//! ├── dispatcher   (named queues of ready tasks, idle workers)
//! ├── worker-N     (one per pool slot; each owns a Python runner process)
//! └── api-server   (the REST + gRPC listener, from `api::server`)
//! ```

pub mod dispatcher;
pub mod exec_input;
pub mod inbox;
pub mod installer;
mod log_shipper;
pub mod mesh;
pub mod messages;
mod pack_runners;
pub mod scheduler;
pub mod shared;
mod step_host;
pub mod supervisor;
pub mod telemetry;
pub mod trace;
pub mod worker;

pub use supervisor::{NodeServices, Supervisor, SupervisorMsg};
