//! The commands replicated through the Raft log and what applying one
//! answers. Documents travel typed; free-form JSON inside them is encoded as
//! text (`model::json_text`) because the log's encoding (bincode) cannot
//! hold free-form JSON values.

use serde::{Deserialize, Serialize};

use crate::engine::TaskEvent;
use crate::model::application::Application;
use crate::model::configuration::Configuration;
use crate::model::node::NodeInfo;
use crate::model::run::RunSpec;
use crate::model::step::StepRecord;
use crate::model::task::TaskSpec;
use crate::model::user::User;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// First entry of a new cluster: its identity, the AEAD key for
    /// configuration secrets and the administrator. Ignored when the cluster
    /// is already bootstrapped, so a retried bootstrap cannot replace the key.
    Bootstrap {
        cluster_id: String,
        cluster_key: Vec<u8>,
        admin: User,
    },
    PutStep(StepRecord),
    DeleteStep {
        name: String,
    },
    PutApplication(Application),
    DeleteApplication {
        name: String,
    },
    /// Encrypted values are ciphertext only.
    PutConfiguration(Configuration),
    DeleteConfiguration {
        name: String,
    },
    /// A new step task, PENDING.
    CreateTask(TaskSpec),
    /// A new application run; its root steps are queued in the same entry.
    CreateRun(RunSpec),
    /// Revoke a run: pending steps never start, running ones are stopped.
    RevokeRun {
        id: String,
        at_ms: u64,
    },
    /// Forget finished runs and tasks that ended before `before_ms`
    /// (results and logs expire after `result_expires`).
    Purge {
        before_ms: u64,
    },
    /// An event in a task's life (see `engine::step_task`).
    Task {
        id: String,
        event: TaskEvent,
    },
    /// A value of the step cache shared by all runs; `expires_at_ms` is
    /// wall-clock time in ms since the epoch, fixed by the proposer.
    CacheSet {
        key: String,
        value: Vec<u8>,
        expires_at_ms: Option<u64>,
    },
    CacheDelete {
        key: String,
    },
    /// A node announces its addresses and worker pools (at every start).
    RegisterNode(NodeInfo),
    /// Commands proposed together (group commit, see `raft::proposer`),
    /// applied in order; never nested.
    Batch(Vec<Command>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CommandResult {
    /// Membership changes and blank entries answer this.
    None,
    Bootstrapped {
        already: bool,
    },
    /// A put: whether an item of that name existed and was replaced.
    Stored {
        replaced: bool,
    },
    /// A delete: whether the item existed.
    Deleted {
        existed: bool,
    },
    /// A task event: whether it changed the task, else why not.
    Task {
        changed: bool,
        reason: Option<String>,
    },
    /// One result per command of a `Batch`, in order.
    Batch(Vec<CommandResult>),
}
