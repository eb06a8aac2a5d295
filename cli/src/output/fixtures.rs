//! Server answers the rendering tests share: a finished, a failed step task
//! and a failed run, shaped as isnode sends them.

use serde_json::{json, Value};

pub(crate) fn success_status() -> Value {
    json!({
        "id": "t-1", "href": "/api/v1/tasks/t-1", "name": "Greet", "step": "Greet",
        "state": "SUCCESS", "queue": "default", "attempt": 1,
        "start_time": 1_700_000_000.25, "end_time": 1_700_000_000.75,
        "worker": "node1/worker-0",
        "logs": [
            {"time": 1_700_000_000.5, "level": "INFO", "module": "Greet", "message": "hello world"}
        ],
        "result": {"greeting": "hello world"},
        "error": null, "traceback": null,
        "attempts": [{"attempt": 1, "worker": "node1/worker-0", "start_time": 1_700_000_000.25,
                      "end_time": 1_700_000_000.75, "state": "SUCCESS", "error": null}]
    })
}

pub(crate) fn failure_status() -> Value {
    json!({
        "id": "t-2", "name": "Boom", "step": "Boom", "state": "FAILURE", "attempt": 1,
        "start_time": 1_700_000_000.0, "end_time": 1_700_000_001.0, "worker": "node1/worker-1",
        "logs": [], "result": null,
        "error": "ValueError: the value is wrong",
        "traceback": "Traceback (most recent call last):\n  File \"Boom.py\", line 9, in execute\nValueError: the value is wrong\n",
    })
}

pub(crate) fn run_status() -> Value {
    json!({
        "id": "isapp-1", "app_name": "hello", "state": "FAILURE", "queue": "default",
        "configuration": null, "log_level": 1, "app_vars": {"who": "x", "n": 3},
        "created_time": 1_700_000_000.0, "start_time": 1_700_000_000.25,
        "end_time": 1_700_000_001.75,
        "triggered_by": [{"application_id": "isapp-1", "triggered_by": "USER"}],
        "steps": [
            {"id": "t-1", "name": "Fetch", "state": "SUCCESS", "attempt": 1,
             "traceback": null, "retry_at": null},
            {"id": "t-2", "name": "Store", "state": "FAILURE", "attempt": 3,
             "traceback": "Traceback (most recent call last):\n  File \"Store.py\", line 9, in execute\nValueError: the value is wrong\n\n",
             "retry_at": null},
            {"id": "t-3", "name": "Report", "state": "REVOKED", "attempt": 0,
             "traceback": null, "retry_at": null}
        ]
    })
}
