//! Queues (DESIGN 4.6): a run on a queue no worker serves waits, saying
//! why, until a worker pool subscribes to it.

use std::time::Duration;

use is_tests::{stays, TestNode};
use serde_json::{json, Value};

use crate::support::*;

const DEFAULT_POOL_ONLY: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1
"#;

const WITH_CRITICAL_POOL: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1

[[worker_pools]]
queues = ["critical_queue"]
concurrency = 1
"#;

#[tokio::test]
async fn a_queue_nobody_serves_waits_until_a_worker_subscribes() {
    let mut node = TestNode::start_with_config(DEFAULT_POOL_ONLY, &[]).await.unwrap();
    node.put_step("Emit").await.unwrap();
    put_app(
        &node,
        json!({"name": "critical", "queue": "critical_queue", "steps": [
            {"name": "first", "file": "Emit", "value": 1, "output_to": ["second"]},
            {"name": "second", "file": "Emit", "value": 2}]}),
    )
    .await;
    let (status, run) = start_run(&node, "critical", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["queue"], "critical_queue");
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    let pending = node
        .poll_until(&run_path, DEADLINE, |_, r| {
            step(r, "first")["waiting_for"].is_string()
        })
        .await
        .unwrap();
    let first = step(&pending, "first");
    assert_eq!(first["state"], "PENDING", "{pending}");
    assert!(
        first["waiting_for"].as_str().unwrap().contains("critical_queue"),
        "{pending}"
    );
    let task_path = format!("/api/v1/tasks/{}", id_of(first));
    // It stays so for a second: nothing picks it up.
    stays(Duration::from_secs(1), async || {
        let (_, task) = get(&node, &task_path).await;
        assert_eq!(task["state"], "PENDING", "{task}");
        assert!(
            task["waiting_for"]
                .as_str()
                .unwrap_or_default()
                .contains("critical_queue"),
            "{task}"
        );
        assert_eq!(task["attempts"], json!([]), "{task}");
        Ok(())
    })
    .await
    .unwrap();

    node.restart_with_config(WITH_CRITICAL_POOL).await.unwrap();
    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    for name in ["first", "second"] {
        let task = step_task(&node, &done, name).await;
        assert_eq!(task["state"], "SUCCESS", "{task}");
        assert_eq!(task["attempt"], 1, "{task}");
        assert_eq!(task["queue"], "critical_queue", "{task}");
        assert!(task.get("waiting_for").is_none_or(Value::is_null), "{task}");
    }
}
