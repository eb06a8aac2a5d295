//! Data between steps: a fan-in sees every upstream step in application
//! order, `data_from` joins merge in position order, a join of mixed types
//! fails only its own branch, independent branches run in parallel, and
//! output over the limit fails its step.

use is_tests::{Markers, TestNode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn fan_in_sees_every_upstream_in_application_order() {
    let node = node_with_steps(&["Emit", "Inspect"]).await;
    let markers = Markers::new().unwrap();
    // The joining step comes second in the list; its upstream steps are
    // named out of alphabetical order and the first one finishes last (it
    // waits until the test has seen the others finish).
    put_app(
        &node,
        json!({"name": "fan_in", "steps": [
            {"name": "zeta", "file": "Emit", "value": {"from": "zeta"}, "wait_for": markers.path("zeta"),
             "output_to": ["gather"]},
            {"name": "gather", "file": "Inspect", "data_from": ["mid"]},
            {"name": "alpha", "file": "Emit", "value": [1, 2], "output_to": ["gather"]},
            {"name": "mid", "file": "Emit", "value": "text"}]}),
    )
    .await;
    let run = start_run_now(&node, "fan_in").await;
    run_until(&node, &run, |r| {
        step(r, "alpha")["state"] == "SUCCESS" && step(r, "mid")["state"] == "SUCCESS"
    })
    .await;
    markers.set("zeta").unwrap();
    let run = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let gather = step_task(&node, &run, "gather").await;
    let seen = &gather["result"];
    assert_eq!(
        seen["positions"],
        json!([["zeta", 0], ["alpha", 1], ["mid", 2]]),
        "{seen}"
    );
    assert_eq!(
        seen["by_order"],
        json!([{"from": "zeta"}, [1, 2], "text"]),
        "{seen}"
    );
    assert_eq!(
        seen["by_name"],
        json!({"zeta": {"from": "zeta"}, "alpha": [1, 2], "mid": "text"}),
        "{seen}"
    );
    let beyond = seen["beyond"].as_str().unwrap();
    assert!(
        beyond.starts_with("DataNotAvailableException") && beyond.contains("3 previous steps"),
        "{beyond}"
    );
    assert_eq!(seen["me"], "gather");
    assert_eq!(seen["application_id"], run["id"]);
    assert_eq!(seen["application_name"], "fan_in");
    assert_eq!(gather["application_id"], run["id"]);
    // The join started only after all three upstream steps had finished.
    let started = ms(&gather["attempts"][0]["start_time"]);
    for name in ["zeta", "alpha", "mid"] {
        let up = step_task(&node, &run, name).await;
        assert_eq!(up["state"], "SUCCESS", "{up}");
        assert!(
            ms(&up["end_time"]) <= started,
            "{name} ended after gather started: {up} {gather}"
        );
    }
}

#[tokio::test]
async fn data_from_joins_dicts_merged_in_position_order() {
    let node = node_with_steps(&["Emit", "Join"]).await;
    let markers = Markers::new().unwrap();
    // `data_from` lists the steps out of order and the first finishes last
    // (released once the others are done): the merge still follows
    // positions, so the later position wins.
    put_app(
        &node,
        json!({"name": "merge", "steps": [
            {"name": "first", "file": "Emit", "value": {"a": 1, "shared": "first"},
             "wait_for": markers.path("first")},
            {"name": "second", "file": "Emit", "value": {"b": 2, "shared": "second"}},
            {"name": "third", "file": "Emit", "value": {"c": 3}},
            {"name": "merged", "file": "Join", "data_from": ["third", "second", "first"],
             "only": ["second", "first"]}]}),
    )
    .await;
    let run = start_run_now(&node, "merge").await;
    run_until(&node, &run, |r| {
        step(r, "second")["state"] == "SUCCESS" && step(r, "third")["state"] == "SUCCESS"
    })
    .await;
    markers.set("first").unwrap();
    let run = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let merged = step_task(&node, &run, "merged").await;
    assert_eq!(
        merged["result"]["joined"],
        json!({"a": 1, "b": 2, "c": 3, "shared": "second"}),
        "{merged}"
    );
    assert_eq!(
        merged["result"]["only"],
        json!({"a": 1, "b": 2, "shared": "second"}),
        "join_previous_step_data(data_from=...) keeps position order: {merged}"
    );
}

#[tokio::test]
async fn a_mixed_type_join_fails_its_branch_only() {
    let node = node_with_steps(&["Emit", "Join"]).await;
    let markers = Markers::new().unwrap();
    put_app(
        &node,
        json!({"name": "mixed", "steps": [
            {"name": "listy", "file": "Emit", "value": [1, 2, 3], "output_to": ["combine"]},
            {"name": "dicty", "file": "Emit", "value": {"k": "v"}, "output_to": ["combine"]},
            {"name": "combine", "file": "Join", "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": "never"},
            {"name": "side", "file": "Emit", "value": "side", "wait_for": markers.path("side"),
             "output_to": ["side_end"]},
            {"name": "side_end", "file": "Emit", "value": "side end"}]}),
    )
    .await;
    let run = start_run_now(&node, "mixed").await;
    // The failed branch does not end the run while the side branch runs.
    let failed = run_until(&node, &run, |r| step(r, "combine")["state"] == "FAILURE").await;
    assert!(
        !TERMINAL.contains(&failed["state"].as_str().unwrap()),
        "the run ended while its side branch still ran: {failed}"
    );
    markers.set("side").unwrap();
    let run = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(run["state"], "FAILURE", "{run}");

    let combine = step_task(&node, &run, "combine").await;
    assert_eq!(combine["state"], "FAILURE", "{combine}");
    let error = combine["error"].as_str().unwrap();
    assert!(error.contains("StepFailedException"), "{error}");
    assert!(
        error.contains("'listy' saved list") && error.contains("'dicty' saved dict"),
        "the error names the steps and their types: {error}"
    );
    assert!(
        combine["traceback"]
            .as_str()
            .unwrap()
            .contains("join_previous_step_data"),
        "{combine}"
    );

    let after = step_task(&node, &run, "after").await;
    assert_eq!(after["state"], "REVOKED", "{after}");
    assert_eq!(after["attempt"], 0, "{after}");
    assert_eq!(
        after["attempts"],
        json!([]),
        "the downstream step never started: {after}"
    );
    assert!(after["start_time"].is_null(), "{after}");
    assert_eq!(step(&run, "after")["state"], "REVOKED");

    for name in ["listy", "dicty", "side", "side_end"] {
        assert_eq!(step(&run, name)["state"], "SUCCESS", "{name}: {run}");
    }
    let side_end = step_task(&node, &run, "side_end").await;
    assert_eq!(side_end["result"], "side end");
    assert!(run["end_time"].as_f64().unwrap() >= side_end["end_time"].as_f64().unwrap());
}

#[tokio::test]
async fn independent_branches_run_in_parallel() {
    let node = TestNode::start_with(&[("IS_WORKERS", "2")]).await.unwrap();
    node.put_step("Rendezvous").await.unwrap();
    let markers = Markers::new().unwrap();
    // Each branch waits for the other to have started: both succeed only if
    // they run at the same time.
    put_app(
        &node,
        json!({"name": "parallel", "steps": [
            {"name": "left", "file": "Rendezvous", "arrive": markers.path("left"),
             "partner": markers.path("right")},
            {"name": "right", "file": "Rendezvous", "arrive": markers.path("right"),
             "partner": markers.path("left")}]}),
    )
    .await;
    let run = run_to_end(&node, "parallel", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let left = step_task(&node, &run, "left").await["result"].clone();
    let right = step_task(&node, &run, "right").await["result"].clone();
    let latest_start = left["start"]
        .as_f64()
        .unwrap()
        .max(right["start"].as_f64().unwrap());
    let earliest_end = left["end"].as_f64().unwrap().min(right["end"].as_f64().unwrap());
    assert!(
        latest_start < earliest_end,
        "the two steps did not overlap: left {left}, right {right}"
    );
    assert_ne!(left["pid"], right["pid"], "two runners served them");
}

#[tokio::test]
async fn output_over_the_limit_fails_the_step() {
    let node = TestNode::start_with(&[("IS_MAX_OUTPUT_BYTES", "1000")])
        .await
        .unwrap();
    node.put_step("Emit").await.unwrap();
    put_app(
        &node,
        json!({"name": "big", "steps": [
            {"name": "large", "file": "Emit", "value": "x".repeat(10_000)},
            {"name": "small", "file": "Emit", "value": "fits"}]}),
    )
    .await;
    let run = run_to_end(&node, "big", json!({})).await;
    assert_eq!(run["state"], "FAILURE", "{run}");
    let large = step_task(&node, &run, "large").await;
    assert_eq!(large["state"], "FAILURE", "{large}");
    let error = large["error"].as_str().unwrap();
    assert!(
        error.contains("limit of 1000 bytes") && error.contains("max_output_bytes"),
        "{error}"
    );
    assert!(large["result"].is_null(), "{large}");
    let small = step_task(&node, &run, "small").await;
    assert_eq!(small["state"], "SUCCESS", "{small}");
    assert_eq!(small["result"], "fits");
}
