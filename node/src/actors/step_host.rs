//! The node services a running step asks for over its runner's pipe: its
//! log records (kept within the task's log budget and shipped into Raft as
//! the step runs, `log_shipper`), the shared cache, application documents, and runs of other
//! applications started by Trigger Application steps (and waited for).

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;

use super::log_shipper::LogShipper;
use super::worker::WorkerContext;
use crate::model::application::edges;
use crate::model::run::{ParentLink, RunOrigin};
use crate::model::task::{LogLine, TaskSpec, TaskState};
use crate::model::task_log::LogBudget;
use crate::python::process::RunnerHost;
use crate::python::protocol::{LogRecord, RunEnd};
use crate::raft::propose;
use crate::store::Command;
use crate::util::now_ms;

/// The node services of one running step.
pub(super) struct StepHost {
    task_id: String,
    step_name: String,
    /// The run the step belongs to (none for a step run alone).
    run_id: Option<String>,
    ctx: WorkerContext,
    logs: LogShipper,
    /// What the task's log may still keep; records past it are only counted.
    budget: LogBudget,
}

impl StepHost {
    pub(super) fn new(spec: &TaskSpec, ctx: WorkerContext, budget: LogBudget, logs: LogShipper) -> StepHost {
        StepHost {
            task_id: spec.id.clone(),
            step_name: spec.step_name.clone(),
            run_id: spec.run.as_ref().map(|(run, _)| run.clone()),
            ctx,
            logs,
            budget,
        }
    }

    /// Where run `run_id` stands; with its terminal steps' data and its
    /// failures once it has finished.
    fn run_end(&self, run_id: &str) -> Result<RunEnd, String> {
        let content = &self.ctx.content;
        let run = content
            .run(run_id)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("no run {run_id} (it may have expired)"))?;
        let finished = run.run.state.is_terminal();
        let mut end = RunEnd {
            state: run.run.state.as_str().to_string(),
            finished,
            outputs: Vec::new(),
            failures: Vec::new(),
        };
        if !finished {
            return Ok(end);
        }
        let feeds: HashSet<usize> = edges(&run.spec.app.steps)
            .into_iter()
            .map(|(from, _)| from)
            .collect();
        for task in content.run_tasks(&run).map_err(|e| e.to_string())? {
            let index = task.spec.run.as_ref().map(|(_, i)| *i);
            if task.state == TaskState::Failure {
                let error = task
                    .attempts
                    .last()
                    .and_then(|a| a.error.clone())
                    .unwrap_or_default();
                end.failures.push(format!("{}: {error}", task.spec.step_name));
            }
            if index.is_some_and(|i| !feeds.contains(&i)) {
                let data = content.result_pickle(&task.spec.id).map_err(|e| e.to_string())?;
                end.outputs.push((task.spec.step_name.clone(), data));
            }
        }
        Ok(end)
    }

    /// Adds the reports the step built (JSON text of a list) to its run's
    /// report. A failure to record them is logged, not the step's failure.
    pub(super) async fn save_reports(&self, sections: String) {
        let Some(run_id) = self.run_id.clone() else {
            return;
        };
        let app_name = {
            let sm = self.ctx.content.read();
            sm.content.runs.get(&run_id).map(|r| r.spec.app.name.clone())
        };
        let Some(app_name) = app_name else {
            return;
        };
        let cmd = Command::AddReport {
            run_id,
            app_name,
            step_name: self.step_name.clone(),
            at_ms: now_ms(),
            sections,
        };
        if let Err(e) = propose(&self.ctx.raft, cmd).await {
            tracing::warn!(task = %self.task_id, error = %e, "cannot record the step's report");
        }
    }

    /// The attempt's log records not shipped yet, ending with the marker
    /// that counts the dropped ones if any were; returns once no shipment
    /// is under way, so the outcome carrying them is recorded after.
    pub(super) async fn finish(mut self) -> Vec<LogLine> {
        if let Some(marker) = self.budget.marker(now_ms() as f64 / 1000.0) {
            self.logs.push(marker);
        }
        self.logs.finish().await
    }
}

impl RunnerHost for StepHost {
    async fn log(&mut self, r: LogRecord) {
        if !self.budget.admit(&r.message) {
            return;
        }
        self.logs.push(LogLine {
            time: r.time,
            level: r.level,
            levelno: r.levelno,
            module: r.module,
            message: r.message,
        });
    }

    async fn application(&mut self, name: String) -> Option<String> {
        let sm = self.ctx.content.read();
        sm.content.applications.get(&name).map(|a| a.doc.to_string())
    }

    async fn cache_get(&mut self, key: String) -> Option<Vec<u8>> {
        let sm = self.ctx.content.read();
        sm.content
            .cache
            .get(&key)
            .filter(|e| e.is_live(now_ms()))
            .map(|e| e.value.clone())
    }

    async fn cache_set(
        &mut self,
        key: String,
        value: Vec<u8>,
        expiry_seconds: Option<f64>,
    ) -> Result<(), String> {
        let expires_at_ms = expiry_seconds.map(|s| now_ms() + (s.max(0.0) * 1000.0) as u64);
        propose(
            &self.ctx.raft,
            Command::CacheSet {
                key,
                value,
                expires_at_ms,
            },
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    async fn run_application(
        &mut self,
        name: String,
        params: String,
        blocking: bool,
    ) -> Result<String, String> {
        let Some(run_id) = self.run_id.clone() else {
            return Err(
                "a step run alone cannot trigger an application; run it inside an application".into(),
            );
        };
        let params = match serde_json::from_str(&params) {
            Ok(Value::Object(params)) => params,
            Ok(other) => return Err(format!("the run's params must be a dict, got {other}")),
            Err(e) => return Err(format!("the run's params are not JSON: {e}")),
        };
        let origin = RunOrigin::child_of(ParentLink {
            run_id,
            task_id: self.task_id.clone(),
            step_name: self.step_name.clone(),
            blocking,
        });
        let id = format!("isapp-{}", uuid::Uuid::new_v4());
        let spec = self
            .ctx
            .content
            .read()
            .content
            .plan_run(id.clone(), &name, params, origin, now_ms())
            .map_err(|e| e.to_string())?;
        propose(&self.ctx.raft, Command::create_run(spec))
            .await
            .map_err(|e| format!("the run of {name:?} was not created: {e}"))?;
        Ok(id)
    }

    async fn await_run(&mut self, run_id: String, timeout: Duration) -> Result<RunEnd, String> {
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        loop {
            // Registered before the state is read, so a change in between
            // still wakes this wait.
            let change = self.ctx.events.next_change(&run_id);
            let end = self.run_end(&run_id)?;
            if end.finished {
                return Ok(end);
            }
            let woke = match deadline {
                Some(d) => tokio::time::timeout_at(d, change).await.is_ok(),
                None => {
                    change.await;
                    true
                }
            };
            if !woke {
                return self.run_end(&run_id);
            }
        }
    }

    async fn cache_delete(&mut self, key: String) -> Result<(), String> {
        propose(&self.ctx.raft, Command::CacheDelete { key })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
