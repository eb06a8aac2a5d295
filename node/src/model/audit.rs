//! The audit trail's record: who did what, when, from where, and how it
//! ended. Records are made by the API layer for every change, every refused
//! call and every failed login, and replicated like everything else.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Unique, chosen by the node that made the record.
    pub id: String,
    pub at_ms: u64,
    /// The user the call acted as; None when it did not authenticate.
    pub user: Option<String>,
    /// The API key used, if one was (its id, never its secret).
    pub api_key: Option<String>,
    /// The client's address.
    pub address: Option<String>,
    /// The operation: `POST /api/v1/steps` or `gRPC PutStep`.
    pub action: String,
    /// What it acted on when the request names it (a document's name, a
    /// run id), else empty.
    pub target: String,
    /// The answer's HTTP status (gRPC codes as their HTTP equivalent).
    pub status: u16,
}
