//! Running steps and following tasks: the operations behind
//! `POST /steps/run`, `GET /tasks/{id}`, revocation, the task event stream
//! and the step cache.

use std::time::Duration;

use is_proto::v1 as pb;
use serde_json::{Map, Value};

use super::views;
use super::{ApiError, Service};
use crate::engine::TaskEvent;
use crate::model::task::{KeptOutcome, StepTask, TaskSpec, TaskState};
use crate::model::task_log;
use crate::store::Command;
use crate::util::now_ms;

/// Longest `wait` a caller may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(30);

/// Reads the `timeout` run parameter (seconds) if given.
fn timeout_param(params: &Map<String, Value>) -> Result<Option<u64>, ApiError> {
    match params.get("timeout") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64() {
            Some(s) if s > 0.0 => Ok(Some((s * 1000.0) as u64)),
            _ => Err(ApiError::BadRequest {
                message: "invalid step timeout".into(),
                details: vec![format!(
                    "\"timeout\" must be a positive number of seconds, got {v}"
                )],
            }),
        },
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no task {id:?} (it may have expired; list recent runs with GET /api/v1/tasks)"
    ))
}

/// Which records of a task's log an answer carries: `limit` records from
/// `offset` (`limit` None: all the rest). The default is the whole log.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LogPage {
    pub offset: u64,
    pub limit: Option<u64>,
}

impl LogPage {
    fn check(&self) -> Result<(), ApiError> {
        match self.limit {
            Some(l) if l > task_log::MAX_PAGE => Err(ApiError::BadRequest {
                message: format!("logs_limit {l} is too large"),
                details: vec![format!(
                    "logs_limit must be at most {}; page through the log with logs_offset",
                    task_log::MAX_PAGE
                )],
            }),
            _ => Ok(()),
        }
    }
}

/// (task id, name, state, attempt) of one task, as a watcher sees it.
type Standing = (String, String, TaskState, u32);

impl Service {
    /// A task's status with its whole log.
    pub fn task_status(&self, id: &str) -> Result<pb::TaskStatus, ApiError> {
        self.task_page(id, LogPage::default())
    }

    /// A task's status with one page of its log, read from wherever the
    /// task is (memory or the store); only that page is read.
    pub fn task_page(&self, id: &str, page: LogPage) -> Result<pb::TaskStatus, ApiError> {
        page.check()?;
        let t = self.inner.content.task(id)?.ok_or_else(|| not_found(id))?;
        let view = self.task_view(&t, page)?;
        Ok(views::task_status(
            &t,
            self.inner.served.contains(&t.spec.queue),
            &view,
        ))
    }

    /// The log page and inline result a task status shows.
    pub(super) fn task_view(&self, t: &StepTask, page: LogPage) -> Result<views::TaskView, ApiError> {
        let range = task_log::page(t.log_lines as usize, page.offset, page.limit);
        let content = &self.inner.content;
        let logs = content.log_lines(&t.spec.id, range.start as u64, range.end as u64)?;
        let inline_result = match &t.outcome {
            Some(KeptOutcome::Success { json_bytes, .. }) if *json_bytes <= self.inner.max_inline_result => {
                content.result_json(&t.spec.id)?
            }
            Some(KeptOutcome::Failure {
                saved_json_bytes: Some(bytes),
                ..
            }) if *bytes <= self.inner.max_inline_result => content.result_json(&t.spec.id)?,
            _ => None,
        };
        Ok(views::TaskView {
            logs,
            logs_offset: range.start as u64,
            inline_result,
        })
    }

    /// A finished task's whole result: its JSON text (`format` "json" or
    /// empty) or the pickle the step saved (`format` "pickle").
    pub fn task_result(&self, id: &str, format: &str) -> Result<pb::TaskResult, ApiError> {
        let pickle = match format {
            "" | "json" => false,
            "pickle" => true,
            other => {
                return Err(ApiError::BadRequest {
                    message: format!("unknown result format {other:?}"),
                    details: vec!["format must be \"json\" (the default) or \"pickle\"".into()],
                })
            }
        };
        let t = self.inner.content.task(id)?.ok_or_else(|| not_found(id))?;
        let Some(KeptOutcome::Success { pickle_bytes, .. }) = &t.outcome else {
            return Err(ApiError::NotFound(format!(
                "task {id:?} has no result: it is {} (only a successful task has one)",
                t.state.as_str()
            )));
        };
        let gone = || {
            ApiError::NotFound(format!(
                "the result of task {id:?} is no longer stored (it expired with its run)"
            ))
        };
        if !pickle {
            let json = self.inner.content.result_json(id)?.ok_or_else(gone)?;
            return Ok(pb::TaskResult {
                data: json.into_bytes(),
                content_type: "application/json".into(),
            });
        }
        if pickle_bytes.is_none() {
            return Err(ApiError::NotFound(format!(
                "task {id:?} saved no data, so it has no pickle"
            )));
        }
        let bytes = self.inner.content.result_pickle(id)?.ok_or_else(gone)?;
        Ok(pb::TaskResult {
            data: bytes,
            content_type: "application/octet-stream".into(),
        })
    }

    /// Whether the task or run is over (false if it does not exist).
    fn is_over(&self, id: &str) -> bool {
        {
            let sm = self.inner.content.read();
            if let Some(r) = sm.content.runs.get(id) {
                return r.run.state.is_terminal();
            }
            if let Some(t) = sm.content.tasks.get(id) {
                return t.state.is_terminal();
            }
        }
        // Not in memory: finished (in the store) or unknown.
        let content = &self.inner.content;
        matches!(content.run(id), Ok(Some(_))) || matches!(content.task(id), Ok(Some(_)))
    }

    /// Waits until the task or run is finished or `wait` passed; answers
    /// whether it finished.
    pub async fn wait_for_task(&self, id: &str, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        if self.standing(id).is_none() {
            return false; // nothing to wait for: the caller reports it missing
        }
        loop {
            let change = self.inner.events.next_change(id);
            if self.is_over(id) {
                return true;
            }
            if tokio::time::timeout_at(deadline, change).await.is_err() {
                // Timed out. (A dropped wake-up cannot happen while the hub lives.)
                return self.is_over(id);
            }
        }
    }

    /// Runs one step alone (`POST /steps/run`). Answers whether it finished
    /// within `wait`, and its status.
    pub async fn run_step(
        &self,
        name: &str,
        params: Map<String, Value>,
        wait: Duration,
    ) -> Result<pb::StepRunAnswer, ApiError> {
        let missing = {
            let sm = self.inner.content.read();
            let step = sm.content.steps.get(name).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no step named {name:?} (upload it first; list steps with GET /api/v1/steps)"
                ))
            })?;
            step.missing_required(&params)
        };
        if !missing.is_empty() {
            return Err(ApiError::BadRequest {
                message: format!("step {name:?} is missing {} required parameter(s)", missing.len()),
                details: missing
                    .iter()
                    .map(|m| format!("required parameter {m:?} has no value"))
                    .collect(),
            });
        }
        let timeout_ms = timeout_param(&params)?;
        let spec = TaskSpec {
            id: uuid::Uuid::new_v4().to_string(),
            step_name: name.to_string(),
            class_name: name.to_string(),
            params,
            queue: "default".to_string(),
            timeout_ms,
            log_level: is_proto::LogLevel::RUN_DEFAULT,
            created_ms: now_ms(),
            run: None,
        };
        let id = spec.id.clone();
        // Applying the creation queues the task (see store::content::Effect).
        self.write(Command::CreateTask(spec)).await?;
        let finished = self.wait_for_task(&id, wait.min(MAX_WAIT)).await;
        Ok(pb::StepRunAnswer {
            finished,
            task: Some(self.task_status(&id)?),
        })
    }

    /// Revokes a task: a pending one never starts, a running one's runner is
    /// killed (the dispatcher acts on the revocation once it is applied).
    /// Revoking a step of an application run revokes the run. Revoking a
    /// finished task changes nothing.
    pub async fn revoke_task(&self, id: &str) -> Result<pb::TaskStatus, ApiError> {
        let (finished, run) = {
            let sm = self.inner.content.read();
            match sm.content.tasks.get(id) {
                Some(task) => (
                    task.state.is_terminal(),
                    // Its run, whose root span this revocation ends (only
                    // looked up when spans are exported).
                    task.spec
                        .run
                        .as_ref()
                        .filter(|_| self.telemetry().tracer().is_some())
                        .and_then(|(run, _)| sm.content.runs.get(run))
                        .filter(|r| !r.run.state.is_terminal())
                        .map(|r| r.spec.clone()),
                ),
                // Not in memory: finished, or unknown.
                None => (true, None),
            }
        };
        if finished && self.inner.content.task(id)?.is_none() {
            return Err(not_found(id));
        }
        if !finished {
            let at_ms = now_ms();
            let result = self
                .write(Command::Task {
                    id: id.to_string(),
                    event: TaskEvent::Revoked {
                        at_ms,
                        reason: Some("revoked by a user".into()),
                    },
                })
                .await?;
            if let Some(run) = run {
                self.revoked_run_span(&run, &result, at_ms);
            }
        }
        self.task_status(id)
    }

    /// Where a task or run stands: (id, name, state, attempt) of each task
    /// (for a run: the run first, then its steps), and whether it is over.
    fn standing(&self, id: &str) -> Option<(Vec<Standing>, bool)> {
        let content = &self.inner.content;
        if let Some(r) = content.run(id).ok().flatten() {
            let mut all = vec![(id.to_string(), r.spec.app.name.clone(), r.run.state, 0)];
            for t in content.run_tasks(&r).ok()? {
                all.push((t.spec.id.clone(), t.spec.step_name.clone(), t.state, t.attempt));
            }
            return Some((all, r.run.state.is_terminal()));
        }
        let t = content.task(id).ok().flatten()?;
        Some((
            vec![(id.to_string(), t.spec.step_name.clone(), t.state, t.attempt)],
            t.state.is_terminal(),
        ))
    }
}
