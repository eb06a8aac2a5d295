//! Application runs: starting one (validated first, DESIGN 3 step 2), its
//! status, the last run of an application, listing, replay and revocation.

use std::time::Duration;

use is_proto::v1 as pb;
use serde_json::{json, Map, Value};

use super::runtime::{LogPage, MAX_WAIT};
use super::{views, ApiError, Service};
use crate::actors::trace::{self, RunInfo};
use crate::model::run::RunOrigin;
use crate::store::disk::{RunFilter, RunsCursor};
use crate::store::queries::RunRefusal;
use crate::store::{Command, CommandResult, RunRecord};
use crate::util::now_ms;

fn no_run(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no run {id:?} (it may have expired; list runs with GET /api/v1/tasks)"
    ))
}

/// What `GET /tasks` asks for.
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    pub app: Option<String>,
    pub state: Option<String>,
    pub triggered_by: Option<String>,
    /// Created at or after / before, in seconds since the epoch.
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub cursor: Option<String>,
    pub limit: usize,
}

/// The idempotency key of a request that starts a run (REST header
/// `Idempotency-Key`, gRPC metadata `idempotency-key`), checked: 1 to 200
/// visible ASCII characters.
pub fn idempotency_key(raw: Option<&[u8]>) -> Result<Option<String>, ApiError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    match std::str::from_utf8(raw) {
        Ok(k) if (1..=200).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_string()))
        }
        _ => Err(ApiError::bad_request(
            "the idempotency key must be 1 to 200 visible ASCII characters (a UUID, say)",
        )),
    }
}

/// The id of the run of application `app` asked for with idempotency key
/// `key`: the same pair always gives the same id.
fn keyed_run_id(app: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(app.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("isapp-{}", uuid::Uuid::from_bytes(bytes))
}

impl Service {
    pub async fn run_status(&self, id: &str) -> Result<pb::RunStatus, ApiError> {
        let r = self.inner.content.run(id)?.ok_or_else(|| no_run(id))?;
        self.status_of(&r)
    }

    fn status_of(&self, r: &RunRecord) -> Result<pb::RunStatus, ApiError> {
        let served = self.inner.served.get();
        let tasks = self.inner.content.run_tasks(r)?;
        Ok(views::run_status(r, &tasks, &served))
    }

    /// Starts a run of application `name`; waits up to `wait` for it to end
    /// and answers its status (finished or not). With an idempotency key
    /// (`key`, checked by [`idempotency_key`]) the run's id follows from the
    /// application and the key, so asking again with the same key answers
    /// the run the first request started instead of starting another.
    pub async fn run_application(
        &self,
        name: &str,
        params: Map<String, Value>,
        wait: Duration,
        triggered_by: &str,
        replay_of: Option<String>,
        key: Option<&str>,
    ) -> Result<pb::RunAnswer, ApiError> {
        let id = match key {
            Some(key) => keyed_run_id(name, key),
            None => format!("isapp-{}", uuid::Uuid::new_v4()),
        };
        if key.is_some() && self.inner.content.run(&id)?.is_some() {
            return self.answer_run(&id, wait).await;
        }
        let origin = RunOrigin {
            replay_of,
            ..RunOrigin::by(triggered_by)
        };
        let spec = self
            .inner
            .content
            .read()
            .content
            .plan_run(id, name, params, origin, now_ms())
            .map_err(|e| match e {
                RunRefusal::NoApplication(_) => ApiError::NotFound(e.to_string()),
                RunRefusal::Problems { name, problems } => ApiError::BadRequest {
                    message: format!("application {name:?} cannot run ({} problem(s))", problems.len()),
                    details: problems,
                },
                RunRefusal::TooDeep { .. } => ApiError::BadRequest {
                    message: e.to_string(),
                    details: Vec::new(),
                },
            })?;
        let id = spec.id.clone();
        // Created once even if sent twice (a retried forward, or two requests
        // with the same key): applying a run whose id exists changes nothing.
        self.write(Command::create_run(spec)).await?;
        self.answer_run(&id, wait).await
    }

    async fn answer_run(&self, id: &str, wait: Duration) -> Result<pb::RunAnswer, ApiError> {
        let finished = self.wait_for_task(id, wait.min(MAX_WAIT)).await;
        Ok(pb::RunAnswer {
            finished,
            run: Some(self.run_status(id).await?),
        })
    }

    /// The last run of an application, with a `last_run` href.
    pub async fn application_logs(&self, name: &str) -> Result<pb::RunStatus, ApiError> {
        if !self.inner.content.read().content.applications.contains_key(name) {
            return Err(ApiError::NotFound(format!("no application named {name:?}")));
        }
        let filter = RunFilter {
            app: Some(name.to_string()),
            ..RunFilter::default()
        };
        let page = self.inner.content.list_runs(&filter, None, 1)?;
        let last = page
            .runs
            .first()
            .ok_or_else(|| ApiError::NotFound(format!("application {name:?} has not run yet")))?;
        let mut status = self.status_of(last)?;
        status.last_run = Some(views::href(&last.spec.id));
        Ok(status)
    }

    /// A page of runs, newest first, narrowed by application, state,
    /// trigger and creation time, from `cursor` on. Read from the store's
    /// indexes on a blocking thread: the cost follows the page, not the
    /// history, and never holds up the async threads.
    pub async fn list_runs(&self, q: RunQuery) -> Result<pb::RunList, ApiError> {
        let state = match q.state.as_deref() {
            None => None,
            Some(s) => Some(crate::model::task::TaskState::parse(s).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "state {s:?} is not a task state (PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED)"
                ))
            })?),
        };
        let after = match q.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(RunsCursor::decode(c).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "cursor {c:?} is not one this API gave out (pass the next_cursor of the previous page)"
                ))
            })?),
        };
        let ms = |name: &str, v: Option<f64>| match v {
            Some(s) if !(s.is_finite() && s >= 0.0) => Err(ApiError::bad_request(format!(
                "{name} must be a time in seconds since the epoch, got {s}"
            ))),
            Some(s) => Ok(Some((s * 1000.0) as u64)),
            None => Ok(None),
        };
        let filter = RunFilter {
            app: q.app,
            state,
            triggered_by: q.triggered_by,
            since_ms: ms("since", q.since)?,
            until_ms: ms("until", q.until)?,
        };
        let svc = self.clone();
        tokio::task::spawn_blocking(move || {
            let page = svc.inner.content.list_runs(&filter, after.as_ref(), q.limit)?;
            let runs = page
                .runs
                .iter()
                .map(|r| svc.status_of(r))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(pb::RunList {
                runs,
                next_cursor: page.next.map(|c| c.encode()),
            })
        })
        .await
        .map_err(|e| ApiError::Internal(format!("listing runs failed: {e}")))?
    }

    /// A new run with the same variables, configuration and queue.
    pub async fn replay(&self, id: &str, wait: Duration) -> Result<pb::RunAnswer, ApiError> {
        let (app, mut params, configuration, queue) = {
            let r = self
                .inner
                .content
                .run(id)?
                .ok_or_else(|| ApiError::NotFound(format!("no run {id:?} to replay")))?;
            let s = &r.spec;
            (
                s.app.name.clone(),
                s.params.clone(),
                s.configuration.clone(),
                s.queue.clone(),
            )
        };
        // Keep the original's configuration and queue even if they came from the application.
        if let Some(c) = configuration {
            params.insert("configuration".into(), json!(c));
        }
        params.insert("queue".into(), json!(queue));
        self.run_application(&app, params, wait, "REPLAY", Some(id.to_string()), None)
            .await
    }

    pub async fn revoke_run(&self, id: &str) -> Result<pb::RunStatus, ApiError> {
        let r = self
            .inner
            .content
            .run(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no run {id:?}")))?;
        if !r.run.state.is_terminal() {
            let at_ms = now_ms();
            let result = self
                .write(Command::RevokeRun {
                    id: id.to_string(),
                    at_ms,
                })
                .await?;
            self.revoked_run_span(&r.spec, &result, at_ms);
        }
        self.run_status(id).await
    }

    /// No worker's outcome ends a revoked run: the node that revoked it
    /// emits its root span (`actors::trace`), when spans are exported.
    pub(super) fn revoked_run_span(
        &self,
        run: &crate::model::run::RunSpec,
        result: &CommandResult,
        at_ms: u64,
    ) {
        if let (Some(tracer), CommandResult::Task { changed: true, .. }) = (self.telemetry().tracer(), result)
        {
            let info = RunInfo {
                run_id: &run.id,
                application: &run.app.name,
                state: "REVOKED",
                start_ms: run.created_ms,
                end_ms: at_ms,
            };
            trace::emit_run(tracer, &info);
        }
    }

    /// Revokes every unfinished run and step task.
    pub async fn revoke_all(&self) -> Result<pb::RevokedAll, ApiError> {
        let (runs, tasks): (Vec<String>, Vec<String>) = {
            let sm = self.inner.content.read();
            (
                sm.content
                    .runs
                    .values()
                    .filter(|r| !r.run.state.is_terminal())
                    .map(|r| r.spec.id.clone())
                    .collect(),
                sm.content
                    .tasks
                    .values()
                    .filter(|t| t.spec.run.is_none() && !t.state.is_terminal())
                    .map(|t| t.spec.id.clone())
                    .collect(),
            )
        };
        for id in &runs {
            self.revoke_run(id).await?;
        }
        for id in &tasks {
            self.revoke_task(id).await?;
        }
        Ok(pb::RevokedAll {
            revoked_runs: runs,
            revoked_tasks: tasks,
        })
    }

    /// `GET /tasks/{id}`: a run (`isapp-…`) or a step task, with the page
    /// `logs` of a step task's log.
    pub async fn any_task_status(&self, id: &str, logs: LogPage) -> Result<pb::AnyTask, ApiError> {
        use pb::any_task::Kind;
        let kind = if id.starts_with("isapp-") {
            Kind::Run(self.run_status(id).await?)
        } else {
            Kind::Task(self.task_page(id, logs)?)
        };
        Ok(pb::AnyTask { kind: Some(kind) })
    }

    /// `POST /tasks/{id}/revoke`: a run or a step task.
    pub async fn revoke_any(&self, id: &str) -> Result<pb::AnyTask, ApiError> {
        use pb::any_task::Kind;
        let kind = if id.starts_with("isapp-") {
            Kind::Run(self.revoke_run(id).await?)
        } else {
            Kind::Task(self.revoke_task(id).await?)
        };
        Ok(pb::AnyTask { kind: Some(kind) })
    }
}
