//! The answers of the API, built from the domain types: the typed messages
//! of `integration.proto`, which gRPC sends as they are and REST serializes
//! as JSON (their serde shape is DESIGN 4.3's). Each answer is built here,
//! once, for both transports.

use std::collections::{BTreeMap, BTreeSet};

use is_proto::json::{to_proto, to_proto_struct};
use is_proto::v1 as pb;
use serde_json::Value;

use crate::model::application::Application;
use crate::model::configuration::Configuration;
use crate::model::node::node_of_worker;
use crate::model::step::{DeclaredParameter, StepRecord};
use crate::model::task::{KeptOutcome, LogLine, StepTask, TaskState};
use crate::raft::status::ClusterView;
use crate::store::queries::WorkInFlight;
use crate::store::RunRecord;

/// Milliseconds since the epoch as the seconds the API shows.
pub fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

pub fn state(s: TaskState) -> i32 {
    s.to_proto() as i32
}

pub fn href(id: &str) -> String {
    format!("/api/v1/tasks/{id}")
}

/// Why a ready task does not start: no worker serves its queue (`served`
/// tells whether one does).
pub fn waiting_for(t: &StepTask, served: bool) -> Option<String> {
    (t.state == TaskState::Pending && t.ready && !served)
        .then(|| format!("no worker subscribed to queue {}", t.spec.queue))
}

/// What a failed task shows as its traceback: the traceback, else the error.
fn shown_traceback(t: &StepTask) -> Option<String> {
    match &t.outcome {
        Some(KeptOutcome::Failure { error, traceback, .. }) => {
            Some(traceback.clone().unwrap_or_else(|| error.clone()))
        }
        _ => None,
    }
}

/// One line of a content listing, from a document's descriptive keys.
pub fn summary(name: &str, doc: &Value) -> pb::ContentSummary {
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
    pb::ContentSummary {
        name: name.to_string(),
        friendly_name: text("friendly_name"),
        description: text("description"),
        version: text("version"),
        author: text("author"),
        ..Default::default()
    }
}

pub fn step_summary(step: &StepRecord) -> pb::ContentSummary {
    let meta = step.meta.as_ref();
    let text =
        |f: fn(&crate::model::step::StepMeta) -> &String| Some(meta.map(f).cloned().unwrap_or_default());
    pb::ContentSummary {
        name: step.name.clone(),
        friendly_name: text(|m| &m.friendly_name),
        description: text(|m| &m.description),
        version: text(|m| &m.version),
        ..Default::default()
    }
}

fn parameter(p: &DeclaredParameter) -> pb::DeclaredParameter {
    pb::DeclaredParameter {
        name: p.name.clone(),
        description: Some(to_proto(&p.description)),
        sample_value: Some(to_proto(&p.sample_value)),
        default_value: Some(to_proto(&p.default_value)),
        required: p.required,
        r#type: p.param_type.clone(),
    }
}

pub fn step_info(step: &StepRecord) -> pb::StepInfo {
    let meta = step.meta.clone().unwrap_or_default();
    pb::StepInfo {
        name: step.name.clone(),
        source: step.source.clone(),
        friendly_name: meta.friendly_name,
        description: meta.description,
        version: meta.version,
        parameters: meta.parameters.iter().map(parameter).collect(),
    }
}

pub fn application(app: &Application) -> pb::Application {
    pb::Application {
        name: app.name.clone(),
        friendly_name: app.friendly_name.clone(),
        description: app.description.clone(),
        author: app.author.clone(),
        version: app.version.clone(),
        configuration: app.configuration.clone(),
        queue: app.queue.clone(),
        generate_report: app.generate_report,
        app_variables: app
            .app_variables
            .iter()
            .map(|v| pb::AppVariable {
                name: v.name.clone(),
                value: Some(to_proto(&v.value)),
                default_value: Some(to_proto(&v.default_value)),
                required: v.required,
                description: v.description.clone(),
                sample_value: Some(to_proto(&v.sample_value)),
            })
            .collect(),
        steps: app
            .steps
            .iter()
            .map(|s| pb::AppStep {
                name: s.name.clone(),
                file: s.file.clone(),
                syncpack: s.syncpack.clone(),
                output_to: s.output_to.clone(),
                data_from: s.data_from.clone(),
                retry: Some(pb::RetryPolicy {
                    retry_max: s.retry.max,
                    retry_backoff: s.retry.backoff,
                    retry_jitter: s.retry.jitter,
                    retry_backoff_max: s.retry.backoff_max_s,
                    retry_countdown: s.retry.countdown_s,
                }),
                params: Some(to_proto_struct(&s.params)),
            })
            .collect(),
        document_json: app.doc.to_string(),
    }
}

pub fn configuration(cfg: &Configuration) -> pb::Configuration {
    // The descriptive keys are read as a listing reads them.
    let about = summary(&cfg.name, &cfg.doc);
    pb::Configuration {
        name: about.name,
        friendly_name: about.friendly_name,
        description: about.description,
        author: about.author,
        version: about.version,
        configuration_data: cfg
            .data
            .iter()
            .map(|v| pb::ConfigVariable {
                name: v.name.clone(),
                value: Some(to_proto(&v.value)),
                encrypted: v.encrypted,
            })
            .collect(),
        document_json: cfg.doc.to_string(),
    }
}

pub fn log_record(l: &LogLine) -> pb::LogRecord {
    pb::LogRecord {
        time: l.time,
        level: l.level.clone(),
        levelno: l.levelno,
        module: l.module.clone(),
        message: l.message.clone(),
    }
}

/// What a task status shows of the task's log and result.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// The page of the log to include (see `model::task_log::page`), and
    /// the number of its first record.
    pub logs: Vec<LogLine>,
    pub logs_offset: u64,
    /// The saved result's JSON text when it is small enough to show
    /// (`max_inline_result_bytes`); a larger one is left out, with its
    /// size and where to fetch it.
    pub inline_result: Option<String>,
}

/// Where a task's whole result is fetched.
pub fn result_href(id: &str) -> String {
    format!("{}/result", href(id))
}

/// The step task status of DESIGN 4.3. `served`: whether some worker
/// serves the task's queue (a ready task on another shows `waiting_for`).
pub fn task_status(t: &StepTask, served: bool, view: &TaskView) -> pb::TaskStatus {
    let mut result_size = None;
    let (result, traceback, error) = match (&t.outcome, &view.inline_result) {
        (Some(KeptOutcome::Success { .. }), Some(json)) => (
            serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.clone())),
            None,
            None,
        ),
        (Some(KeptOutcome::Success { json_bytes, .. }), None) => {
            result_size = Some(*json_bytes);
            (Value::Null, None, None)
        }
        // What the step saved before it failed, if anything.
        (Some(KeptOutcome::Failure { error, .. }), Some(json)) => (
            serde_json::from_str(json).unwrap_or_else(|_| Value::String(json.clone())),
            shown_traceback(t),
            Some(error.clone()),
        ),
        (
            Some(KeptOutcome::Failure {
                error,
                saved_json_bytes,
                ..
            }),
            None,
        ) => {
            result_size = *saved_json_bytes;
            (Value::Null, shown_traceback(t), Some(error.clone()))
        }
        (None, _) => (Value::Null, None, None),
    };
    let current = t.current_attempt();
    pb::TaskStatus {
        id: t.spec.id.clone(),
        href: href(&t.spec.id),
        name: t.spec.step_name.clone(),
        step: t.spec.class_name.clone(),
        application_id: t.spec.run.as_ref().map(|(run, _)| run.clone()),
        state: state(t.state),
        queue: t.spec.queue.clone(),
        attempt: t.attempt,
        start_time: current.map(|a| secs(a.start_ms)),
        end_time: t.end_ms.map(secs),
        worker: current.map(|a| a.worker.clone()),
        logs: view.logs.iter().map(log_record).collect(),
        logs_total: t.log_lines,
        logs_offset: view.logs_offset,
        result_size,
        result_href: result_size.map(|_| result_href(&t.spec.id)),
        result: Some(to_proto(&result)),
        error,
        traceback,
        retry_at: t.retry_at_ms.map(secs),
        attempts: t
            .attempts
            .iter()
            .map(|a| pb::Attempt {
                attempt: a.number,
                worker: a.worker.clone(),
                start_time: secs(a.start_ms),
                end_time: a.end_ms.map(secs),
                state: state(a.state),
                error: a.error.clone(),
            })
            .collect(),
        waiting_for: waiting_for(t, served),
    }
}

/// The run status document of DESIGN 4.3. `served` is the set of queues
/// some worker serves.
pub fn run_status(r: &RunRecord, tasks: &[StepTask], served: &BTreeSet<String>) -> pb::RunStatus {
    let steps = tasks
        .iter()
        .map(|t| pb::RunStep {
            href: href(&t.spec.id),
            id: t.spec.id.clone(),
            name: t.spec.step_name.clone(),
            state: state(t.state),
            attempt: t.attempt,
            traceback: shown_traceback(t),
            retry_at: t.retry_at_ms.map(secs),
            waiting_for: waiting_for(t, served.contains(&t.spec.queue)),
        })
        .collect();
    let start = tasks
        .iter()
        .filter_map(|t| t.attempts.first().map(|a| a.start_ms))
        .min();
    let mut triggered_by = vec![pb::Trigger {
        application_id: r.spec.id.clone(),
        triggered_by: r.spec.triggered_by.clone(),
        step: None,
        schedule_id: r.spec.schedule.clone(),
    }];
    if let Some(parent) = &r.spec.parent {
        triggered_by.push(pb::Trigger {
            application_id: parent.run_id.clone(),
            triggered_by: "PARENT".into(),
            step: Some(parent.step_name.clone()),
            schedule_id: None,
        });
    }
    if let Some(of) = &r.spec.replay_of {
        triggered_by.push(pb::Trigger {
            application_id: of.clone(),
            triggered_by: "REPLAY_OF".into(),
            step: None,
            schedule_id: None,
        });
    }
    pb::RunStatus {
        app_name: r.spec.app.name.clone(),
        app_vars: Some(to_proto_struct(&r.spec.variables())),
        href: href(&r.spec.id),
        id: r.spec.id.clone(),
        created_time: secs(r.spec.created_ms),
        start_time: start.map(secs),
        end_time: r.end_ms.map(secs),
        state: state(r.run.state),
        queue: r.spec.queue.clone(),
        configuration: r.spec.configuration.clone(),
        log_level: r.spec.log_level.number(),
        steps,
        triggered_by,
        last_run: None,
        children: r
            .children
            .iter()
            .map(|c| pb::ChildRun {
                id: c.run_id.clone(),
                href: href(&c.run_id),
                app_name: c.app_name.clone(),
                step: c.step_name.clone(),
            })
            .collect(),
    }
}

/// The cluster, with each member's busy workers (its STARTED tasks) and
/// every queue some member serves or some task waits on, from `work`.
pub fn cluster(view: ClusterView, work: &WorkInFlight) -> pb::ClusterStatus {
    let mut busy: BTreeMap<u64, u64> = BTreeMap::new();
    for (worker, n) in &work.started_by_worker {
        if let Some(node) = node_of_worker(worker) {
            *busy.entry(node).or_default() += n;
        }
    }
    let mut queues = work.pending_by_queue.clone();
    for m in &view.members {
        for q in m.served_queues.iter().flatten() {
            queues.entry(q.clone()).or_default();
        }
    }
    pb::ClusterStatus {
        answered_by: view.answered_by,
        health_seen_by: view.health_seen_by,
        leader: view.leader,
        term: view.term,
        last_log_index: view.last_log_index,
        last_applied: view.last_applied,
        snapshot_index: view.snapshot_index,
        purged_index: view.purged_index,
        members: view
            .members
            .into_iter()
            .map(|m| pb::ClusterMember {
                id: m.id,
                address: m.address,
                voter: m.voter,
                leader: m.leader,
                this_node: m.this_node,
                served_queues: m.served_queues.unwrap_or_default(),
                busy_workers: m.workers.map(|_| busy.get(&m.id).copied().unwrap_or(0)),
                workers: m.workers,
                health: m.health.as_str().to_string(),
                last_contact_ms: m.last_contact_ms,
                replication_lag: m.replication_lag,
            })
            .collect(),
        queues: queues
            .into_iter()
            .map(|(queue, pending)| pb::QueueDepth { queue, pending })
            .collect(),
    }
}
