//! Server answers the rendering tests share: a finished, a failed step task
//! and a failed run, as isnode sends them, and a log record maker.

use is_proto::json::{to_proto, to_proto_struct};
use is_proto::v1::{Attempt, LogRecord, RunStatus, RunStep, TaskState, TaskStatus, Trigger};
use serde_json::json;

/// A log record at `time` (epoch seconds).
pub(crate) fn record(time: f64, level: &str, module: &str, message: &str) -> LogRecord {
    LogRecord {
        time,
        level: level.into(),
        module: module.into(),
        message: message.into(),
        ..Default::default()
    }
}

pub(crate) fn success_status() -> TaskStatus {
    TaskStatus {
        id: "t-1".into(),
        href: "/api/v1/tasks/t-1".into(),
        name: "Greet".into(),
        step: "Greet".into(),
        state: TaskState::Success as i32,
        queue: "default".into(),
        attempt: 1,
        start_time: Some(1_700_000_000.25),
        end_time: Some(1_700_000_000.75),
        worker: Some("node1/worker-0".into()),
        logs: vec![record(1_700_000_000.5, "INFO", "Greet", "hello world")],
        result: Some(to_proto(&json!({"greeting": "hello world"}))),
        attempts: vec![Attempt {
            attempt: 1,
            worker: "node1/worker-0".into(),
            start_time: 1_700_000_000.25,
            end_time: Some(1_700_000_000.75),
            state: TaskState::Success as i32,
            error: None,
        }],
        ..Default::default()
    }
}

pub(crate) fn failure_status() -> TaskStatus {
    TaskStatus {
        id: "t-2".into(),
        name: "Boom".into(),
        step: "Boom".into(),
        state: TaskState::Failure as i32,
        attempt: 1,
        start_time: Some(1_700_000_000.0),
        end_time: Some(1_700_000_001.0),
        worker: Some("node1/worker-1".into()),
        error: Some("ValueError: the value is wrong".into()),
        traceback: Some(
            "Traceback (most recent call last):\n  File \"Boom.py\", line 9, in execute\nValueError: the value is wrong\n"
                .into(),
        ),
        ..Default::default()
    }
}

/// A step of a run.
pub(crate) fn run_step(id: &str, name: &str, state: TaskState, attempt: u32) -> RunStep {
    RunStep {
        id: id.into(),
        name: name.into(),
        state: state as i32,
        attempt,
        ..Default::default()
    }
}

pub(crate) fn run_status() -> RunStatus {
    let vars = json!({"who": "x", "n": 3});
    RunStatus {
        id: "isapp-1".into(),
        app_name: "hello".into(),
        state: TaskState::Failure as i32,
        queue: "default".into(),
        configuration: None,
        log_level: 1,
        app_vars: vars.as_object().map(to_proto_struct),
        created_time: 1_700_000_000.0,
        start_time: Some(1_700_000_000.25),
        end_time: Some(1_700_000_001.75),
        triggered_by: vec![Trigger {
            application_id: "isapp-1".into(),
            triggered_by: "USER".into(),
            step: None,
            schedule_id: None,
        }],
        steps: vec![
            run_step("t-1", "Fetch", TaskState::Success, 1),
            RunStep {
                traceback: Some(
                    "Traceback (most recent call last):\n  File \"Store.py\", line 9, in execute\nValueError: the value is wrong\n\n"
                        .into(),
                ),
                ..run_step("t-2", "Store", TaskState::Failure, 3)
            },
            run_step("t-3", "Report", TaskState::Revoked, 0),
        ],
        ..Default::default()
    }
}
