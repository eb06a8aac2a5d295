//! Running one attempt's step in a runner process: picks the runner (the
//! platform's or a SyncPack environment's), runs the job and turns what the
//! runner answered into the attempt's outcome. A runner that cannot be
//! trusted afterwards (it died, timed out, was revoked or ran out of
//! memory) is discarded here, and counted (`actors::telemetry`); the worker
//! starts a new one.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;

use super::{Worker, WorkerState};
use crate::actors::exec_input::ExecInput;
use crate::actors::step_host::StepHost;
use crate::actors::telemetry::{RestartReason, Telemetry};
use crate::model::task::{Outcome, TaskSpec};
use crate::python::process::{Job, RunnerError, RunnerProcess};
use crate::python::protocol::ExecResult;

impl Worker {
    /// The runner slot for `env` (None: the platform runner).
    pub(super) async fn runner_for(
        state: &mut WorkerState,
        env: Option<Vec<PathBuf>>,
    ) -> Result<&mut Option<RunnerProcess>, RunnerError> {
        match env {
            None => Ok(&mut state.runner),
            Some(sites) => state.pack_runners.slot(&state.args.ctx.runner, sites).await,
        }
    }

    /// Runs the step in the runner; `None` means there is nothing to record
    /// (the task was revoked, which is already recorded).
    pub(super) async fn execute(
        state: &mut WorkerState,
        spec: &TaskSpec,
        input: ExecInput,
        env: Option<Vec<PathBuf>>,
        host: &mut StepHost,
        cancel: &mut watch::Receiver<bool>,
    ) -> Option<Outcome> {
        let timeout = spec
            .timeout_ms
            .map(Duration::from_millis)
            .or(state.args.ctx.default_timeout);
        let max_output = state.args.ctx.max_output_bytes;
        let telemetry = state.args.ctx.shared.telemetry.clone();
        let limit_mb = state
            .args
            .ctx
            .runner
            .memory_limit_bytes
            .map(|b| b / (1024 * 1024));
        let slot = match Self::runner_for(state, env).await {
            Ok(slot) => slot,
            Err(e) => {
                return Some(Outcome::Failure {
                    error: format!("{e} (for the step's SyncPack environment)"),
                    traceback: None,
                    saved: None,
                })
            }
        };
        let Some(runner) = slot.as_mut() else {
            return Some(Outcome::Failure {
                error: "no Python runner is available on this worker".into(),
                traceback: None,
                saved: None,
            });
        };
        let job = Job {
            request_json: input.request.to_string(),
            upstream_data: input.upstream_data,
            secrets: input.secrets,
        };
        let result = runner.execute(job, host, timeout, cancel).await;
        match result {
            Ok(ExecResult::Success {
                pickle,
                json,
                reports,
            }) => {
                if let Some(sections) = reports {
                    host.save_reports(sections).await;
                }
                let size = pickle.as_ref().map_or(0, Vec::len);
                let max = max_output;
                if size as u64 > max {
                    return Some(Outcome::Failure {
                        error: format!(
                            "the step saved {size} bytes of data, more than the limit of {max} bytes \
                             (max_output_bytes in the node config); save less or raise the limit"
                        ),
                        traceback: None,
                        saved: None,
                    });
                }
                Some(Outcome::Success { json, pickle })
            }
            Ok(ExecResult::Failure {
                error_type,
                message,
                traceback,
                saved,
                reports,
            }) => {
                if let Some(sections) = reports {
                    host.save_reports(sections).await;
                }
                // What it saved before failing is shown, within the same limit.
                let saved =
                    saved.filter(|(_, pickle)| pickle.as_ref().map_or(0, Vec::len) as u64 <= max_output);
                let error = if error_type == "MemoryError" {
                    // The interpreter may be in a poor state after running out
                    // of memory: replace it.
                    discard(slot, &telemetry, RestartReason::MemoryError);
                    match limit_mb {
                        Some(mb) => {
                            format!("MemoryError: the step exceeded the runner memory limit of {mb} MiB")
                        }
                        None => "MemoryError: the step ran out of memory".to_string(),
                    }
                } else if message.is_empty() {
                    error_type
                } else {
                    format!("{error_type}: {message}")
                };
                Some(Outcome::Failure {
                    error,
                    traceback: Some(traceback),
                    saved,
                })
            }
            Err(RunnerError::Revoked) => {
                discard(slot, &telemetry, RestartReason::Revoked);
                None
            }
            Err(e) => {
                let reason = match e {
                    RunnerError::Timeout(_) => RestartReason::Timeout,
                    RunnerError::Died(_) => RestartReason::Died,
                    _ => RestartReason::Internal,
                };
                discard(slot, &telemetry, reason);
                let error = match (&e, limit_mb) {
                    (RunnerError::Died(why), Some(mb)) if why.contains("SIGKILL") => {
                        format!("{e} (the runner memory limit is {mb} MiB)")
                    }
                    _ => e.to_string(),
                };
                Some(Outcome::Failure {
                    error,
                    traceback: None,
                    saved: None,
                })
            }
        }
    }
}

/// Drops a runner that cannot run another step, counting why.
fn discard(slot: &mut Option<RunnerProcess>, telemetry: &Telemetry, reason: RestartReason) {
    if slot.take().is_some() {
        telemetry.runner_restarted(reason);
    }
}
