//! Application runs: starting one (validated first, DESIGN 3 step 2), its
//! status, the last run of an application, listing, replay and revocation.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::runtime::{secs, task_json, MAX_WAIT};
use super::{ApiError, Service};
use crate::model::run::{RunOptions, RunSpec};
use crate::model::task::TaskState;
use crate::store::{Command, Content, RunRecord};
use crate::util::now_ms;

/// The run status document of DESIGN 4.3.
/// `served` is the set of queues some worker serves: a ready step on any
/// other queue shows `waiting_for`.
pub fn run_json(content: &Content, r: &RunRecord, served: &BTreeSet<String>) -> Value {
    let steps: Vec<Value> = r
        .task_ids
        .iter()
        .filter_map(|id| content.tasks.get(id))
        .map(|t| {
            let mut s = json!({
                "href": format!("/api/v1/tasks/{}", t.spec.id),
                "id": t.spec.id,
                "name": t.spec.step_name,
                "state": t.state.as_str(),
                "attempt": t.attempt,
                "traceback": task_json(t)["traceback"],
                "retry_at": t.retry_at_ms.map(secs),
            });
            if t.state == TaskState::Pending && t.ready && !served.contains(&t.spec.queue) {
                s["waiting_for"] = json!(format!("no worker subscribed to queue {}", t.spec.queue));
            }
            s
        })
        .collect();
    let params = r.spec.variables();
    let start = r
        .task_ids
        .iter()
        .filter_map(|id| content.tasks.get(id))
        .filter_map(|t| t.attempts.first().map(|a| a.start_ms))
        .min();
    let mut triggered_by = vec![json!({"application_id": r.spec.id, "triggered_by": r.spec.triggered_by})];
    if let Some(of) = &r.spec.replay_of {
        triggered_by.push(json!({"application_id": of, "triggered_by": "REPLAY_OF"}));
    }
    json!({
        "app_name": r.spec.app.name,
        "app_vars": params,
        "href": format!("/api/v1/tasks/{}", r.spec.id),
        "id": r.spec.id,
        "created_time": secs(r.spec.created_ms),
        "start_time": start.map(secs),
        "end_time": r.end_ms.map(secs),
        "state": r.run.state.as_str(),
        "queue": r.spec.queue,
        "configuration": r.spec.configuration,
        "log_level": r.spec.log_level.number(),
        "steps": steps,
        "triggered_by": triggered_by,
    })
}

impl Service {
    pub async fn run_status(&self, id: &str) -> Result<Value, ApiError> {
        let served = self.inner.served.get();
        let sm = self.inner.content.read();
        let r = sm.content.runs.get(id).ok_or_else(|| {
            ApiError::NotFound(format!(
                "no run {id:?} (it may have expired; list runs with GET /api/v1/tasks)"
            ))
        })?;
        Ok(run_json(&sm.content, r, &served))
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
    ) -> Result<Value, ApiError> {
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
        self.wait_for_task(&id, wait.min(MAX_WAIT)).await;
        self.run_status(&id).await
    }

    /// The last run of an application, with a `last_run` href.
    pub async fn application_logs(&self, name: &str) -> Result<Value, ApiError> {
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
        status["last_run"] = json!(format!("/api/v1/tasks/{id}"));
        Ok(status)
    }

    /// Recent runs, newest first, optionally of one application and in one state.
    pub async fn list_runs(
        &self,
        app: Option<&str>,
        state: Option<&str>,
        limit: usize,
    ) -> Result<Value, ApiError> {
        if let Some(s) = state {
            if !["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"].contains(&s) {
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
        Ok(Value::Array(
            runs.into_iter()
                .take(limit)
                .map(|r| run_json(&sm.content, r, &served))
                .collect(),
        ))
    }

    /// A new run with the same variables, configuration and queue.
    pub async fn replay(&self, id: &str, wait: Duration) -> Result<Value, ApiError> {
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

    pub async fn revoke_run(&self, id: &str) -> Result<Value, ApiError> {
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
    pub async fn revoke_all(&self) -> Result<Value, ApiError> {
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
        Ok(json!({"revoked_runs": runs, "revoked_tasks": tasks}))
    }

    /// `GET /tasks/{id}`: a run (`isapp-…`) or a step task.
    pub async fn any_task_status(&self, id: &str) -> Result<Value, ApiError> {
        if id.starts_with("isapp-") {
            self.run_status(id).await
        } else {
            let mut status = self.task_status(id)?;
            let ready = self
                .inner
                .content
                .read()
                .content
                .tasks
                .get(id)
                .is_some_and(|t| t.ready);
            if status["state"] == "PENDING" && ready {
                let queue = status["queue"].as_str().unwrap_or_default().to_string();
                if !self.inner.served.contains(&queue) {
                    status["waiting_for"] = json!(format!("no worker subscribed to queue {queue}"));
                }
            }
            Ok(status)
        }
    }

    /// `POST /tasks/{id}/revoke`: a run or a step task.
    pub async fn revoke_any(&self, id: &str) -> Result<Value, ApiError> {
        if id.starts_with("isapp-") {
            self.revoke_run(id).await
        } else {
            self.revoke_task(id).await
        }
    }
}
