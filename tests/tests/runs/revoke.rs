//! Revoking a running step or its run: the run and the steps after it are
//! revoked, the runner is stopped and the worker is free again.

use is_tests::TestNode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn revoking_a_sleeping_step_revokes_its_run_and_what_follows() {
    let node = TestNode::start_with(&[("IS_WORKERS", "1")]).await.unwrap();
    node.put_step("Emit").await.unwrap();
    put_app(
        &node,
        json!({"name": "sleepy", "steps": [
            {"name": "quick", "file": "Emit", "value": 1, "output_to": ["sleeper"]},
            {"name": "sleeper", "file": "Emit", "value": 2, "sleep": 600, "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": 3}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "probe", "steps": [{"name": "only", "file": "Emit", "value": "probe"}]}),
    )
    .await;
    // Revoke the sleeping step's task, then (second run) the run itself with DELETE.
    for by_step in [true, false] {
        let (status, run) = start_run(&node, "sleepy", json!({}), 0).await;
        assert_eq!(status, 200, "{run}");
        let run_path = format!("/api/v1/tasks/{}", id_of(&run));
        let running = node
            .poll_until(&run_path, DEADLINE, |_, r| {
                step(r, "sleeper")["state"] == "STARTED"
            })
            .await
            .unwrap();
        let (method, path) = if by_step {
            (
                "POST",
                format!("/api/v1/tasks/{}/revoke", id_of(step(&running, "sleeper"))),
            )
        } else {
            ("DELETE", run_path.clone())
        };
        let (status, answer) = node.rest(method, &path, None).await.unwrap();
        assert_eq!(status, 200, "{method} {path}: {answer}");
        assert_eq!(answer["state"], "REVOKED", "{method} {path}: {answer}");

        let revoked = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
        assert_eq!(revoked["state"], "REVOKED", "{revoked}");
        assert_eq!(step(&revoked, "quick")["state"], "SUCCESS", "{revoked}");
        assert_eq!(step(&revoked, "sleeper")["state"], "REVOKED", "{revoked}");
        assert_eq!(step(&revoked, "after")["state"], "REVOKED", "{revoked}");
        assert!(revoked["end_time"].is_number(), "{revoked}");

        // The only worker is free again, long before the sleep would end.
        let probe = run_to_end(&node, "probe", json!({})).await;
        assert_eq!(probe["state"], "SUCCESS", "{probe}");
        let (_, finished) = get(&node, &run_path).await;
        assert_eq!(finished["state"], "REVOKED", "{finished}");
        let sleeper = step_task(&node, &finished, "sleeper").await;
        assert_eq!(sleeper["state"], "REVOKED", "{sleeper}");
        assert_eq!(sleeper["attempts"].as_array().unwrap().len(), 1, "{sleeper}");
        assert_eq!(sleeper["attempts"][0]["state"], "REVOKED", "{sleeper}");
        assert!(sleeper["result"].is_null(), "{sleeper}");
        let after = step_task(&node, &finished, "after").await;
        assert_eq!(after["state"], "REVOKED", "{after}");
        assert_eq!(
            after["attempts"],
            json!([]),
            "the step after never started: {after}"
        );
    }
}
