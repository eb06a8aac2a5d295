//! Replaying a run: the new run keeps the original's variables,
//! configuration and queue, whether the run was given them or took them
//! from the application document.

use is_tests::TestNode;
use serde_json::{json, Value};

use crate::support::*;

const TWO_POOLS: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1

[[worker_pools]]
queues = ["side_queue"]
concurrency = 1
"#;

#[tokio::test]
async fn replay_keeps_variables_configuration_and_queue() {
    let node = TestNode::start_with_config(TWO_POOLS, &[]).await.unwrap();
    node.put_step("Show").await.unwrap();
    put_config(
        &node,
        json!({"name": "site_a", "configuration_data": [{"name": "host", "value": "a.example.com"}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "replayable", "app_variables": [{"name": "who", "value": "declared"}],
               "steps": [{"name": "show", "file": "Show"}]}),
    )
    .await;
    let first = run_to_end(
        &node,
        "replayable",
        json!({"who": "from-run", "configuration": "site_a", "queue": "side_queue"}),
    )
    .await;
    assert_eq!(first["state"], "SUCCESS", "{first}");
    assert_eq!(first["queue"], "side_queue");
    let first_task = step_task(&node, &first, "show").await;
    assert_eq!(
        first_task["result"],
        json!({"who": "from-run", "host": "a.example.com"})
    );
    assert_eq!(first_task["queue"], "side_queue");

    let replay = replay_to_end(&node, &first).await;
    assert_ne!(replay["id"], first["id"]);
    assert!(id_of(&replay).starts_with("isapp-"));
    assert_eq!(replay["state"], "SUCCESS", "{replay}");
    assert_eq!(replay["app_name"], "replayable");
    assert_eq!(replay["app_vars"], first["app_vars"], "{replay}");
    assert_eq!(replay["configuration"], "site_a");
    assert_eq!(replay["queue"], "side_queue");
    let triggers = replay["triggered_by"].as_array().unwrap();
    assert!(
        triggers
            .iter()
            .any(|t| t["triggered_by"] == "REPLAY" && t["application_id"] == replay["id"]),
        "{replay}"
    );
    assert!(
        triggers
            .iter()
            .any(|t| t["triggered_by"] == "REPLAY_OF" && t["application_id"] == first["id"]),
        "{replay}"
    );
    let replay_task = step_task(&node, &replay, "show").await;
    assert_ne!(replay_task["id"], first_task["id"]);
    assert_eq!(replay_task["result"], first_task["result"]);
    assert_eq!(replay_task["queue"], "side_queue");
    assert_eq!(replay_task["application_id"], replay["id"]);
}

/// A replay keeps the queue and configuration the original run took from
/// the application document, and shows the same variables as the original.
#[tokio::test]
async fn replay_of_a_run_using_the_applications_queue_and_configuration() {
    let node = TestNode::start_with_config(TWO_POOLS, &[]).await.unwrap();
    node.put_step("Show").await.unwrap();
    put_config(
        &node,
        json!({"name": "site_b", "configuration_data": [{"name": "host", "value": "b.example.com"}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "from_doc", "queue": "side_queue", "configuration": "site_b",
               "app_variables": [{"name": "who", "value": "declared"}],
               "steps": [{"name": "show", "file": "Show"}]}),
    )
    .await;
    let first = run_to_end(&node, "from_doc", json!({"who": "from-run"})).await;
    assert_eq!(first["state"], "SUCCESS", "{first}");
    assert_eq!(first["queue"], "side_queue");
    assert_eq!(first["configuration"], "site_b");
    let replay = replay_to_end(&node, &first).await;
    assert_eq!(replay["state"], "SUCCESS", "{replay}");
    assert_eq!(replay["queue"], "side_queue");
    assert_eq!(replay["configuration"], "site_b");
    assert_eq!(
        step_task(&node, &replay, "show").await["result"],
        json!({"who": "from-run", "host": "b.example.com"})
    );
    assert_eq!(
        replay["app_vars"], first["app_vars"],
        "original {first}\nreplay {replay}"
    );
}

/// `POST /tasks/{id}/replay` of `run`; answers the new run's status once it
/// has ended.
async fn replay_to_end(node: &TestNode, run: &Value) -> Value {
    let (status, replay) = node
        .rest(
            "POST",
            &format!("/api/v1/tasks/{}/replay?wait=30", id_of(run)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{replay}");
    node.wait_terminal(id_of(&replay), DEADLINE).await.unwrap()
}
