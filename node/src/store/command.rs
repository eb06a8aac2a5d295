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
use crate::model::syncpack::{InstallState, PackVersion};
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
    CreateRun(Box<RunSpec>),
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
    /// A piece of a blob (a SyncPack's wheel), named by the SHA-256 of the
    /// whole; the store keeps it on disk only. Chunks precede the
    /// `PutSyncPack` that refers to them.
    PutBlobChunk {
        sha256: String,
        index: u32,
        bytes: Vec<u8>,
    },
    /// An uploaded version of a SyncPack; `replace` allows replacing the
    /// same version (its installs then start over).
    PutSyncPack {
        name: String,
        version: PackVersion,
        replace: bool,
    },
    /// Forget one version (or every version) of a pack; refused while the
    /// version is activated unless `force`, which removes its content too.
    DeleteSyncPack {
        name: String,
        version: Option<String>,
        force: bool,
    },
    /// Register a version's content, replacing what the pack's previous
    /// activation registered, in one entry. Names another pack or a user
    /// upload holds are refused unless `force`.
    ActivateSyncPack {
        name: String,
        version: String,
        steps: Vec<StepRecord>,
        applications: Vec<Application>,
        configurations: Vec<Configuration>,
        force: bool,
    },
    /// Create or replace a schedule. `reset_slots`: count its slots from
    /// its new anchor (its timing changed, or it was enabled again);
    /// otherwise the replicated slot state is kept.
    PutSchedule {
        schedule: crate::model::schedule::Schedule,
        reset_slots: bool,
    },
    DeleteSchedule {
        id: String,
    },
    /// The leader's decision for one due slot of a schedule.
    ScheduleSlot {
        id: String,
        slot_ms: u64,
        decision: super::schedules::SlotDecision,
    },
    /// Tables a step of run `run_id` built (`sections`: the JSON text of a
    /// list of report documents), added to the run's report.
    AddReport {
        run_id: String,
        app_name: String,
        step_name: String,
        at_ms: u64,
        sections: String,
    },
    DeleteReport {
        run_id: String,
    },
    /// Keep a report when its run expires, or let it go with the run again.
    KeepReport {
        run_id: String,
        keep: bool,
    },
    /// Ask every node to build the version's environment.
    RequestPackInstall {
        name: String,
        version: String,
    },
    /// A node reports its install of a version.
    PackInstallState {
        name: String,
        version: String,
        node: u64,
        state: InstallState,
    },
    /// Commands proposed together (group commit, see `raft::proposer`),
    /// applied in order; never nested.
    Batch(Vec<Command>),
    /// Create a user; refused if the name is taken.
    CreateUser(User),
    SetUserPassword {
        name: String,
        password_hash: String,
    },
    /// Give a user a role, or take it away (None). Refused if it would
    /// leave the cluster without an administrator.
    SetUserRole {
        name: String,
        role: Option<crate::model::user::Role>,
    },
    /// Delete a user and its API keys; refused for the last administrator.
    DeleteUser {
        name: String,
    },
    /// Create an API key; refused if its owner does not exist.
    PutApiKey(crate::model::user::ApiKey),
    DeleteApiKey {
        id: String,
    },
    /// Records of the audit trail (batched by the node that made them).
    Audit(Vec<crate::model::audit::AuditRecord>),
    /// Forget audit records made before `before_ms`.
    PurgeAudit {
        before_ms: u64,
    },
    /// A new cluster key (sealed) and every configuration re-sealed under
    /// it; `previous` names each configuration it replaces with the
    /// SHA-256 of the document it was made from. Refused if the set of
    /// configurations or any of them changed meanwhile.
    RotateClusterKey {
        sealed_key: Vec<u8>,
        configurations: Vec<crate::model::configuration::Configuration>,
        previous: Vec<(String, [u8; 32])>,
    },
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
    /// The command was refused; nothing changed.
    Refused {
        reason: String,
        why: Refusal,
    },
    /// One result per command of a `Batch`, in order.
    Batch(Vec<CommandResult>),
}

/// Why a command was refused (the API maps it to a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    NotFound,
    Conflict,
}

impl Command {
    /// `CreateRun` of `spec` (boxed: a run's specification is the largest
    /// command, and a batch should not pay its size for every entry).
    pub fn create_run(spec: RunSpec) -> Command {
        Command::CreateRun(Box::new(spec))
    }

    /// Whether applying this command a second time changes nothing the
    /// first did not: a run or task is created under an id chosen before
    /// it is proposed (one that exists is not created again), and a put
    /// stores the same value again. Such a command may be sent again after
    /// an attempt whose outcome is unknown (`raft::write`).
    pub fn repeatable(&self) -> bool {
        match self {
            Command::CreateRun(_)
            | Command::CreateTask(_)
            | Command::PutStep(_)
            | Command::PutApplication(_)
            | Command::PutConfiguration(_)
            | Command::PutSchedule { .. }
            | Command::PutBlobChunk { .. }
            | Command::CacheSet { .. }
            | Command::RegisterNode(_) => true,
            Command::Batch(cmds) => cmds.iter().all(Command::repeatable),
            _ => false,
        }
    }
}
