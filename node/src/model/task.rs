//! Tasks: one execution of a step (alone, or inside an application run),
//! with its attempts, logs and outcome, as replicated.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskState {
    Pending,
    Started,
    Retry,
    Success,
    Failure,
    Revoked,
}

impl TaskState {
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Success | TaskState::Failure | TaskState::Revoked)
    }

    /// The state as the API's enum, whose names (`is_proto::json`) are the
    /// ones every answer and screen shows.
    pub fn to_proto(self) -> is_proto::v1::TaskState {
        use is_proto::v1::TaskState as P;
        match self {
            TaskState::Pending => P::Pending,
            TaskState::Started => P::Started,
            TaskState::Retry => P::Retry,
            TaskState::Success => P::Success,
            TaskState::Failure => P::Failure,
            TaskState::Revoked => P::Revoked,
        }
    }

    pub fn as_str(self) -> &'static str {
        is_proto::json::state_name(self.to_proto() as i32)
    }

    /// The state a name (as `as_str` spells it) stands for.
    pub fn parse(name: &str) -> Option<TaskState> {
        [
            TaskState::Pending,
            TaskState::Started,
            TaskState::Retry,
            TaskState::Success,
            TaskState::Failure,
            TaskState::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// One log record of a step, as shown by `GET /tasks/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// Seconds since the Unix epoch.
    pub time: f64,
    pub level: String,
    pub levelno: u32,
    pub module: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Success {
        /// JSON rendering of the saved data, for display.
        json: String,
        /// Pickle of the saved data (None: the step saved nothing).
        pickle: Option<Vec<u8>>,
    },
    Failure {
        /// One line: the exception type and message, or why the runner failed.
        error: String,
        traceback: Option<String>,
        /// What the step saved before it failed: (JSON rendering, pickle).
        saved: Option<(String, Option<Vec<u8>>)>,
    },
}

impl Outcome {
    /// What the task record keeps of an outcome: a success's data lives in
    /// the store (`store::disk`), read when asked for; only its size stays.
    pub fn kept(&self) -> KeptOutcome {
        match self {
            Outcome::Success { json, pickle } => KeptOutcome::Success {
                json_bytes: json.len() as u64,
                pickle_bytes: pickle.as_ref().map(|p| p.len() as u64),
            },
            Outcome::Failure {
                error,
                traceback,
                saved,
            } => KeptOutcome::Failure {
                error: error.clone(),
                traceback: traceback.clone(),
                saved_json_bytes: saved.as_ref().map(|(json, _)| json.len() as u64),
            },
        }
    }
}

/// A task's outcome as its record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum KeptOutcome {
    Success {
        /// Size of the JSON rendering of the saved data.
        json_bytes: u64,
        /// Size of its pickle (None: the step saved nothing).
        pickle_bytes: Option<u64>,
    },
    Failure {
        error: String,
        traceback: Option<String>,
        /// Size of the JSON rendering of what the step saved before it
        /// failed (kept in the store like a success's data).
        saved_json_bytes: Option<u64>,
    },
}

/// What happened to one attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    pub worker: String,
    pub start_ms: u64,
    pub end_ms: Option<u64>,
    pub state: TaskState,
    pub error: Option<String>,
}

/// What the task runs: fixed when it is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub id: String,
    /// The step's name in its application (the class name for a step run alone).
    pub step_name: String,
    /// The step class, i.e. the uploaded step.
    pub class_name: String,
    /// Parameter values.
    #[serde(with = "super::json_text")]
    pub params: serde_json::Map<String, serde_json::Value>,
    pub queue: String,
    /// Kill the attempt after this long (None: no limit).
    pub timeout_ms: Option<u64>,
    /// Emit only log records at or above this level.
    pub log_level: is_proto::LogLevel,
    pub created_ms: u64,
    /// The application run this step belongs to, and its index there.
    pub run: Option<(String, usize)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTask {
    pub spec: TaskSpec,
    pub state: TaskState,
    /// The current attempt (0 before the first start).
    pub attempt: u32,
    pub attempts: Vec<Attempt>,
    /// Records in the task's log; the records themselves are in the store.
    pub log_lines: u64,
    /// What they cost against the log cap (`model::task_log`).
    pub log_bytes: u64,
    pub outcome: Option<KeptOutcome>,
    pub end_ms: Option<u64>,
    /// Queued for a worker (a step of a run waits for its upstream first).
    pub ready: bool,
    /// When a RETRY task runs again.
    pub retry_at_ms: Option<u64>,
    /// Why a task was revoked or never started.
    pub revoke_reason: Option<String>,
}

impl StepTask {
    pub fn new(spec: TaskSpec) -> StepTask {
        StepTask {
            spec,
            state: TaskState::Pending,
            attempt: 0,
            attempts: Vec::new(),
            log_lines: 0,
            log_bytes: 0,
            outcome: None,
            end_ms: None,
            ready: false,
            retry_at_ms: None,
            revoke_reason: None,
        }
    }

    pub fn current_attempt(&self) -> Option<&Attempt> {
        self.attempts.last()
    }
}
