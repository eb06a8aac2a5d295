//! The Integration Service node (`isnode`).
//!
//! Layers, each depending only on those before it:
//! `model` → `store` → `raft` → `actors` → `api` → `node` (start-up).
//! `crypto` and `config` are leaves used where needed. See ARCHITECTURE.md.

pub mod actors;
pub mod api;
pub mod config;
pub mod crypto;
pub mod engine;
pub mod model;
pub mod node;
pub mod python;
pub mod raft;
pub mod store;
pub mod util;
