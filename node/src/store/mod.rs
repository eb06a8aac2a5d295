//! Durable storage behind Raft: the group-committed log store, the state
//! machine (hot state in memory, the rest in the disk store), and snapshots.
//!
//! The Raft type configuration lives here because both storage traits are
//! defined over it; `raft/` builds the Raft member on top of this module.

// openraft's `StorageError` (large) is the error type its storage traits
// require; boxing it in our helpers would only add conversions.
#![allow(clippy::result_large_err)]

pub mod command;
mod committer;
#[cfg(test)]
mod conformance;
pub mod content;
pub mod disk;
pub mod events;
mod format;
pub mod handle;
pub mod health;
pub mod log_store;
pub mod packs;
pub mod queries;
pub mod rotation;
pub mod runs;
pub mod schedules;
pub mod state_machine;
mod users;

#[cfg(test)]
mod apply_tests;

pub use command::{Command, CommandResult, Refusal};
pub use content::{Content, Effect};
pub use events::{Event, Events};
pub use health::StorageHealth;
pub use log_store::LogStore;
pub use runs::RunRecord;
pub use state_machine::{ContentHandle, StateMachineStore};

pub type NodeId = u64;

openraft::declare_raft_types!(
    /// Raft types of the Integration Service.
    pub TypeConfig:
        D = Command,
        R = CommandResult,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
        AsyncRuntime = openraft::TokioRuntime,
);

pub type Entry = openraft::Entry<TypeConfig>;
pub type StorageError = openraft::StorageError<NodeId>;

/// Encoding of everything this module writes to disk (the Raft log, its
/// metadata and snapshots). Messages between nodes use `util::wire`.
fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, bincode::error::EncodeError> {
    bincode::serde::encode_to_vec(v, bincode::config::standard())
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, bincode::error::DecodeError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map(|(v, _)| v)
}
