//! Application runs: starting one (validated first, DESIGN 3 step 2), its
//! status, the last run of an application, listing, replay and revocation.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::runtime::{secs, task_json, MAX_WAIT};
use super::{ApiError, Service};
use crate::actors::dispatcher::served_queues;
use crate::model::run::{RunRecord, RunSpec};
use crate::model::task::TaskState;
use crate::raft::now_ms;
use crate::store::{Command, Content};

/// The original's plain "Run": every record is logged.
pub const DEFAULT_LOG_LEVEL: u32 = 1;

fn has_value(v: Option<&Value>) -> bool {
    v.is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

/// Reads `log_level` from run params: a number, or a level name.
fn log_level(params: &Map<String, Value>) -> Result<u32, String> {
    match params.get("log_level") {
        None | Some(Value::Null) => Ok(DEFAULT_LOG_LEVEL),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| format!("\"log_level\" must be a non-negative integer, got {n}")),
        Some(Value::String(s)) => match s.to_ascii_uppercase().as_str() {
            "DEBUG" => Ok(10),
            "INFO" => Ok(20),
            "FLOW" => Ok(25),
            "WARNING" => Ok(30),
            "ERROR" => Ok(40),
            "CRITICAL" => Ok(50),
            other => other.parse().map_err(|_| {
                format!(
                    "\"log_level\" {s:?} is not a level (a number or DEBUG/INFO/FLOW/WARNING/ERROR/CRITICAL)"
                )
            }),
        },
        Some(other) => Err(format!(
            "\"log_level\" must be a number or a level name, got {other}"
        )),
    }
}

fn option_str(params: &Map<String, Value>, app: &Value, key: &str) -> Result<Option<String>, String> {
    let v = match params.get(key) {
        Some(v) if !v.is_null() => v,
        _ => app.get(key).unwrap_or(&Value::Null),
    };
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!("\"{key}\" must be a string, got {other}")),
    }
}

/// Every reason the run cannot start (DESIGN 3 step 2), all at once.
fn problems(
    content: &Content,
    app: &Value,
    params: &Map<String, Value>,
    configuration: &Option<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for var in app
        .get("app_variables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = var.get("name").and_then(Value::as_str) else {
            continue;
        };
        let required = var.get("required").and_then(Value::as_bool).unwrap_or(false);
        if required
            && !has_value(params.get(name))
            && !has_value(var.get("value"))
            && !has_value(var.get("default_value"))
        {
            problems.push(format!(
                "required app variable {name:?} has no value (give it in params)"
            ));
        }
    }
    for entry in app.get("steps").and_then(Value::as_array).into_iter().flatten() {
        let name = entry.get("name").and_then(Value::as_str).unwrap_or_default();
        let file = entry.get("file").and_then(Value::as_str).unwrap_or_default();
        let Some(step) = content.steps.get(file) else {
            problems.push(format!(
                "step {name:?} uses step file {file:?}, which is not uploaded"
            ));
            continue;
        };
        let given = entry.as_object().cloned().unwrap_or_default();
        for missing in step.missing_required(&given) {
            problems.push(format!(
                "step {name:?} is missing its required parameter {missing:?}"
            ));
        }
    }
    if let Some(c) = configuration {
        if !content.configurations.contains_key(c) {
            problems.push(format!(
                "configuration {c:?} does not exist (upload it or pick another)"
            ));
        }
    }
    problems
}

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
    // The variables of the run: its params without the run options.
    let params: Map<String, Value> = serde_json::from_str::<Map<String, Value>>(&r.spec.params_json)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| !crate::actors::exec_input::RUN_OPTIONS.contains(&k.as_str()))
        .collect();
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
        "app_name": r.spec.app_name,
        "app_vars": params,
        "href": format!("/api/v1/tasks/{}", r.spec.id),
        "id": r.spec.id,
        "created_time": secs(r.spec.created_ms),
        "start_time": start.map(secs),
        "end_time": r.end_ms.map(secs),
        "state": r.run.state.as_str(),
        "queue": r.spec.queue,
        "configuration": r.spec.configuration,
        "log_level": r.spec.log_level,
        "steps": steps,
        "triggered_by": triggered_by,
    })
}

impl Service {
    pub async fn run_status(&self, id: &str) -> Result<Value, ApiError> {
        let served = served_queues();
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
            let app_json = sm.content.applications.get(name).ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no application named {name:?} (list them with GET /api/v1/applications)"
                ))
            })?;
            let app: Value = serde_json::from_str(app_json)
                .map_err(|e| ApiError::Internal(format!("stored application is not JSON: {e}")))?;
            let mut bad = Vec::new();
            let configuration = option_str(&params, &app, "configuration").unwrap_or_else(|e| {
                bad.push(e);
                None
            });
            let queue = option_str(&params, &app, "queue")
                .unwrap_or_else(|e| {
                    bad.push(e);
                    None
                })
                .unwrap_or_else(|| "default".to_string());
            let log_level = log_level(&params).unwrap_or_else(|e| {
                bad.push(e);
                DEFAULT_LOG_LEVEL
            });
            bad.extend(problems(&sm.content, &app, &params, &configuration));
            if !bad.is_empty() {
                return Err(ApiError::BadRequest {
                    message: format!("application {name:?} cannot run ({} problem(s))", bad.len()),
                    details: bad,
                });
            }
            RunSpec {
                id: format!("isapp-{}", uuid::Uuid::new_v4()),
                app_name: name.to_string(),
                app_json: app_json.clone(),
                params_json: Value::Object(params).to_string(),
                configuration,
                queue,
                log_level,
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
                .filter(|r| r.spec.app_name == name)
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
        let served = served_queues();
        let sm = self.inner.content.read();
        let mut runs: Vec<&RunRecord> = sm
            .content
            .runs
            .values()
            .filter(|r| app.is_none_or(|a| r.spec.app_name == a))
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
        let (app, params) = {
            let sm = self.inner.content.read();
            let r = sm
                .content
                .runs
                .get(id)
                .ok_or_else(|| ApiError::NotFound(format!("no run {id:?} to replay")))?;
            (r.spec.app_name.clone(), r.spec.params_json.clone())
        };
        let mut params: Map<String, Value> = serde_json::from_str(&params).unwrap_or_default();
        // Keep the original's configuration and queue even if they came from the application.
        let sm_cfg = {
            let sm = self.inner.content.read();
            let r = &sm.content.runs[id];
            (r.spec.configuration.clone(), r.spec.queue.clone())
        };
        if let Some(c) = sm_cfg.0 {
            params.insert("configuration".into(), json!(c));
        }
        params.insert("queue".into(), json!(sm_cfg.1));
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
                if !served_queues().contains(&queue) {
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
