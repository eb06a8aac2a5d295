//! Application runs: starting one (validated first, DESIGN 3 step 2), its
//! status, the last run of an application, listing, replay and revocation.

use std::time::Duration;

use is_proto::v1 as pb;
use serde_json::{json, Map, Value};

use super::runtime::{LogPage, MAX_WAIT};
use super::{views, ApiError, Service};
use crate::model::run::{RunOptions, RunSpec};
use crate::store::{Command, RunRecord};
use crate::util::now_ms;

impl Service {
    pub async fn run_status(&self, id: &str) -> Result<pb::RunStatus, ApiError> {
        let served = self.inner.served.get();
        let sm = self.inner.content.read();
        let r = sm.content.runs.get(id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "no run {id:?} (it may have expired; list runs with GET /api/v1/tasks)"
            ))
        })?;
        Ok(views::run_status(&sm.content, r, &served))
    }

    /// Starts a run of application `name`; waits up to `wait` for it to end
    /// and answers its status (finished or not).
    pub async fn run_application(
        &self,
        name: &str,
        params: Map<String, Value>,
        wait: Duration,
        triggered_by: &str,
        replay_of: Option<String>,
    ) -> Result<pb::RunAnswer, ApiError> {
        let spec = {
            let sm = self.inner.content.read();
            let app = sm.content.applications.get(name).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no application named {name:?} (list them with GET /api/v1/applications)"
                ))
            })?;
            let (options, mut bad) = match RunOptions::resolve(&params, app) {
                Ok(options) => (Some(options), Vec::new()),
                Err(problems) => (None, problems),
            };
            let configuration = options.as_ref().and_then(|o| o.configuration.as_deref());
            bad.extend(sm.content.run_problems(app, &params, configuration));
            let options = match options {
                Some(options) if bad.is_empty() => options,
                _ => {
                    return Err(ApiError::BadRequest {
                        message: format!("application {name:?} cannot run ({} problem(s))", bad.len()),
                        details: bad,
                    })
                }
            };
            RunSpec {
                id: format!("isapp-{}", uuid::Uuid::new_v4()),
                app: app.clone(),
                params,
                configuration: options.configuration,
                queue: options.queue,
                log_level: options.log_level,
                created_ms: now_ms(),
                triggered_by: triggered_by.to_string(),
                replay_of,
            }
        };
        let id = spec.id.clone();
        self.write(Command::CreateRun(spec)).await?;
        let finished = self.wait_for_task(&id, wait.min(MAX_WAIT)).await;
        Ok(pb::RunAnswer {
            finished,
            run: Some(self.run_status(&id).await?),
        })
    }

    /// The last run of an application, with a `last_run` href.
    pub async fn application_logs(&self, name: &str) -> Result<pb::RunStatus, ApiError> {
        let last = {
            let sm = self.inner.content.read();
            if !sm.content.applications.contains_key(name) {
                return Err(ApiError::NotFound(format!("no application named {name:?}")));
            }
            sm.content
                .runs
                .values()
                .filter(|r| r.spec.app.name == name)
                .max_by_key(|r| r.spec.created_ms)
                .map(|r| r.spec.id.clone())
        };
        let id = last.ok_or_else(|| ApiError::NotFound(format!("application {name:?} has not run yet")))?;
        let mut status = self.run_status(&id).await?;
        status.last_run = Some(views::href(&id));
        Ok(status)
    }

    /// Recent runs, newest first, optionally of one application and in one state.
    pub async fn list_runs(
        &self,
        app: Option<&str>,
        state: Option<&str>,
        limit: usize,
    ) -> Result<pb::RunList, ApiError> {
        if let Some(s) = state {
            if is_proto::json::state_of(s).is_none() {
                return Err(ApiError::bad_request(format!(
                    "state {s:?} is not a task state (PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED)"
                )));
            }
        }
        let served = self.inner.served.get();
        let sm = self.inner.content.read();
        let mut runs: Vec<&RunRecord> = sm
            .content
            .runs
            .values()
            .filter(|r| app.is_none_or(|a| r.spec.app.name == a))
            .filter(|r| state.is_none_or(|s| r.run.state.as_str() == s))
            .collect();
        runs.sort_by(|a, b| {
            b.spec
                .created_ms
                .cmp(&a.spec.created_ms)
                .then(b.spec.id.cmp(&a.spec.id))
        });
        Ok(pb::RunList {
            runs: runs
                .into_iter()
                .take(limit)
                .map(|r| views::run_status(&sm.content, r, &served))
                .collect(),
        })
    }

    /// A new run with the same variables, configuration and queue.
    pub async fn replay(&self, id: &str, wait: Duration) -> Result<pb::RunAnswer, ApiError> {
        let (app, mut params, configuration, queue) = {
            let sm = self.inner.content.read();
            let r = sm
                .content
                .runs
                .get(id)
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
        self.run_application(&app, params, wait, "REPLAY", Some(id.to_string()))
            .await
    }

    pub async fn revoke_run(&self, id: &str) -> Result<pb::RunStatus, ApiError> {
        let finished = {
            let sm = self.inner.content.read();
            let r = sm
                .content
                .runs
                .get(id)
                .ok_or_else(|| ApiError::NotFound(format!("no run {id:?}")))?;
            r.run.state.is_terminal()
        };
        if !finished {
            self.write(Command::RevokeRun {
                id: id.to_string(),
                at_ms: now_ms(),
            })
            .await?;
        }
        self.run_status(id).await
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
