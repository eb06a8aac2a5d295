//! Runs outlive their node's process: a step cut off by `kill -9` runs
//! again after the restart and the run finishes; on SIGTERM a running step
//! finishes before the node exits, and is not run again.

use is_tests::{Markers, TestNode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_run_interrupted_by_kill_9_finishes_after_restart() {
    let mut node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    node.put_step("Join").await.unwrap();
    let markers = Markers::new().unwrap();
    // "two" cannot finish before the test lets it, so the kill always cuts
    // its first attempt short.
    put_app(
        &node,
        json!({"name": "chain", "steps": [
            {"name": "one", "file": "Emit", "value": {"one": 1}, "output_to": ["two"]},
            {"name": "two", "file": "Emit", "value": {"two": 2}, "wait_for": markers.path("two"),
             "output_to": ["three"]},
            {"name": "three", "file": "Join"}]}),
    )
    .await;
    let run = start_run_now(&node, "chain").await;
    run_until(&node, &run, |r| step(r, "two")["state"] == "STARTED").await;
    node.restart().await.unwrap();
    markers.set("two").unwrap();

    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let one = step_task(&node, &done, "one").await;
    assert_eq!(one["attempt"], 1, "{one}");
    let two = step_task(&node, &done, "two").await;
    assert_eq!(two["state"], "SUCCESS", "{two}");
    assert_eq!(two["attempt"], 2, "{two}");
    assert_eq!(two["attempts"][0]["state"], "FAILURE", "{two}");
    assert_eq!(two["attempts"][1]["state"], "SUCCESS", "{two}");
    let three = step_task(&node, &done, "three").await;
    assert_eq!(three["attempt"], 1, "{three}");
    assert_eq!(three["result"], json!({"joined": {"two": 2}}), "{three}");
}

#[tokio::test]
async fn sigterm_lets_a_running_step_finish_before_the_node_exits() {
    let mut node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    let markers = Markers::new().unwrap();
    put_app(
        &node,
        json!({"name": "slow", "steps": [
            {"name": "nap", "file": "Emit", "value": "rested", "wait_for": markers.path("nap"),
             "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": "never yet"}]}),
    )
    .await;
    let run = start_run_now(&node, "slow").await;
    run_until(&node, &run, |r| step(r, "nap")["state"] == "STARTED").await;
    // The step is still held when the node starts draining; it may finish
    // only once the node says it waits for it.
    node.send_term().unwrap();
    node.wait_for_log("draining: waiting for running steps", DEADLINE)
        .await
        .unwrap();
    markers.set("nap").unwrap();
    let exit = node.wait_exit(DEADLINE).await.unwrap();
    assert!(exit.success(), "a drained node exits 0: {exit:?}\n{}", node.log());

    // The step finished during the drain and its outcome is durable: after
    // the restart it is not run again; the step after it runs then.
    node.restart().await.unwrap();
    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let nap = step_task(&node, &done, "nap").await;
    assert_eq!(nap["attempt"], 1, "ran once, finished while draining: {nap}");
    assert_eq!(nap["result"], "rested", "{nap}");
}
