//! The codec of messages between nodes: Raft RPC payloads on the internal
//! gRPC service and the actor messages of the ractor_cluster network
//! (task orders, worker reports). Both ends run the same build, so a compact
//! bincode encoding of the Rust types is enough; a frame that does not decode
//! is an error the receiver reports, never a panic.
//!
//! The on-disk encoding of the Raft log and snapshots is the store's own
//! (the private `encode`/`decode` of `store`), guarded by the directory's
//! format marker (`store::format`); this one has no version.

pub type EncodeError = bincode::error::EncodeError;
pub type DecodeError = bincode::error::DecodeError;

pub fn encode<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, EncodeError> {
    bincode::serde::encode_to_vec(v, bincode::config::standard())
}

pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard()).map(|(v, _)| v)
}
