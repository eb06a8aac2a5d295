//! The Integration Service node (`isnode`).
//!
//! Layers, each depending only on those before it:
//! `util` → `model` → `engine` → `store` → `raft` → `actors` → `api` → `node`.
//! Beside them: `crypto` (keys and hashes, used from `actors` on), `python`
//! (the step runtime, used by `actors` and `api`), `syncpack` (wheels and
//! pack environments, used by `actors` and `api`) and `config` (the node's
//! settings, used by `node`). `layers.rs` checks this on every test run;
//! ARCHITECTURE.md says the same.

pub mod actors;
pub mod api;
pub mod config;
pub mod crypto;
pub mod engine;
#[cfg(test)]
mod layers;
pub mod model;
pub mod node;
pub mod python;
pub mod raft;
pub mod store;
pub mod syncpack;
pub mod util;
