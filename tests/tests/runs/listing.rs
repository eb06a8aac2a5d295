//! What the node keeps of past runs: the last run of an application, the
//! run list (newest first, filtered, limited), and the expiry of finished
//! runs with their step tasks.

use std::time::Duration;

use is_tests::TestNode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn last_run_and_run_listing_newest_first() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    for name in ["listed", "other"] {
        put_app(
            &node,
            json!({"name": name, "steps": [{"name": "s", "file": "Emit", "value": name}]}),
        )
        .await;
    }
    let (status, body) = get(&node, "/api/v1/applications/listed/logs").await;
    assert_eq!(status, 404, "no run yet: {body}");

    let older = run_to_end(&node, "listed", json!({})).await;
    let other = run_to_end(&node, "other", json!({})).await;
    let newer = run_to_end(&node, "listed", json!({})).await;
    for r in [&older, &other, &newer] {
        assert_eq!(r["state"], "SUCCESS", "{r}");
    }

    let (status, last) = get(&node, "/api/v1/applications/listed/logs").await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["id"], newer["id"], "{last}");
    assert_eq!(
        last["last_run"],
        json!(format!("/api/v1/tasks/{}", id_of(&newer)))
    );
    assert_eq!(last["state"], "SUCCESS");
    assert_eq!(step(&last, "s")["state"], "SUCCESS");
    let (status, followed) = get(&node, last["last_run"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(followed["id"], newer["id"]);

    let (status, runs) = get(&node, "/api/v1/tasks?app=listed").await;
    assert_eq!(status, 200, "{runs}");
    let ids: Vec<&str> = runs.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, vec![id_of(&newer), id_of(&older)], "{runs}");
    let (_, limited) = get(&node, "/api/v1/tasks?app=listed&limit=1").await;
    assert_eq!(limited.as_array().unwrap().len(), 1);
    assert_eq!(limited[0]["id"], newer["id"]);
    let (_, all) = get(&node, "/api/v1/tasks").await;
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, vec![id_of(&newer), id_of(&other), id_of(&older)]);
    let (_, failed) = get(&node, "/api/v1/tasks?app=listed&state=FAILURE").await;
    assert_eq!(failed, json!([]));
    let (_, succeeded) = get(&node, "/api/v1/tasks?app=listed&state=SUCCESS").await;
    assert_eq!(succeeded.as_array().unwrap().len(), 2);
    let (status, _) = get(&node, "/api/v1/tasks?state=DONE").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn finished_runs_expire() {
    let node = TestNode::start_with(&[("IS_RESULT_EXPIRES_SECONDS", "2")])
        .await
        .unwrap();
    node.put_step("Emit").await.unwrap();
    put_app(
        &node,
        json!({"name": "fleeting", "steps": [{"name": "s", "file": "Emit", "value": 1}]}),
    )
    .await;
    let run = run_to_end(&node, "fleeting", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let step_path = format!("/api/v1/tasks/{}", id_of(step(&run, "s")));
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    node.poll_until(&run_path, Duration::from_secs(15), |status, _| status == 404)
        .await
        .unwrap();
    let (status, body) = get(&node, &step_path).await;
    assert_eq!(status, 404, "the step task expires with its run: {body}");
    let (_, runs) = get(&node, "/api/v1/tasks?app=fleeting").await;
    assert_eq!(runs, json!([]));
    // The application itself stays.
    assert_eq!(get(&node, "/api/v1/applications/fleeting").await.0, 200);
}
