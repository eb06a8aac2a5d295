//! Messages between the actors of different nodes: what the leader's
//! dispatcher orders a worker to run, and what an idle worker reports to
//! every node's dispatcher. They travel encoded with `util::wire` inside
//! ractor_cluster messages (whose payloads are plain bytes), so a frame that
//! does not decode is an error the receiver logs, never a panic.

use serde::{Deserialize, Serialize};

/// The saved data of an upstream step whose outcome is queued in the log
/// but not applied yet, handed to a step started ahead of that apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub from_task: String,
    pub pickle: Option<Vec<u8>>,
    /// When that step finished (ms since the epoch): the step started
    /// ahead became ready then, which its queue wait counts from.
    pub finished_ms: u64,
}

/// What the leader's dispatcher sends a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOrder {
    pub task_id: String,
    /// Upstream data not applied yet (the step starts ahead of the apply).
    pub handoff: Option<Handoff>,
    /// The leader's applied log index when it dispatched: the worker's node
    /// must have applied as much before it reads the task.
    pub applied_index: u64,
}

/// What a worker tells the dispatchers when it is idle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    pub name: String,
    pub queues: Vec<String>,
    /// The task it just finished, if any.
    pub finished: Option<String>,
    /// A task it was handed but did not run (its node is draining, or lags
    /// the leader): to be queued again.
    pub refused: Option<String>,
    /// Its node is stopping: hand it nothing more.
    pub draining: bool,
}
