//! Application runs as replicated: what was asked (frozen at creation) and
//! where the run stands.

use serde::{Deserialize, Serialize};

use crate::engine::run::Run;

/// Everything a run needs, fixed when it is created: a later change of the
/// application or its configuration does not affect a run in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// `isapp-<uuid>`.
    pub id: String,
    pub app_name: String,
    /// The application document as it was when the run was created.
    pub app_json: String,
    /// The run's `params` as given (app variable overrides and options), for replay.
    pub params_json: String,
    pub configuration: Option<String>,
    pub queue: String,
    pub log_level: u32,
    pub created_ms: u64,
    /// Who started it: "USER", "SCHEDULE", or "REPLAY".
    pub triggered_by: String,
    /// The run this one replays.
    pub replay_of: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub spec: RunSpec,
    pub run: Run,
    /// Step task ids, in application order.
    pub task_ids: Vec<String>,
    pub end_ms: Option<u64>,
}

/// The id of step `index`'s task in run `run_id`: derived, so creating a run
/// stays deterministic when the log is applied again.
pub fn step_task_id(run_id: &str, index: usize) -> String {
    format!("{}-{index}", run_id.trim_start_matches("isapp-"))
}

#[cfg(test)]
impl RunSpec {
    /// A run of `app_json` on queue `q`, for tests.
    pub(crate) fn for_test(id: &str, app_json: &str, created_ms: u64) -> RunSpec {
        RunSpec {
            id: id.into(),
            app_name: "a".into(),
            app_json: app_json.into(),
            params_json: "{}".into(),
            configuration: None,
            queue: "q".into(),
            log_level: 1,
            created_ms,
            triggered_by: "USER".into(),
            replay_of: None,
        }
    }
}
