//! Bad input gets a 400 (or 413) whose message names every problem
//! (DESIGN 4.2, 4.3).

use is_tests::{step_source, TestNode};
use serde_json::{json, Value};

async fn problems(node: &TestNode, path: &str, doc: Value) -> Vec<String> {
    let (status, body) = node.rest("POST", path, Some(&doc)).await.unwrap();
    assert_eq!(status, 400, "{doc} gave {body}");
    assert!(body["error"].is_string());
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect()
}

fn mentions(problems: &[String], words: &[&str]) -> bool {
    problems.iter().any(|p| words.iter().all(|w| p.contains(w)))
}

#[tokio::test]
async fn application_rules_of_design_4_2() {
    let node = TestNode::start().await.unwrap();
    let path = "/api/v1/applications";

    let p = problems(&node, path, json!({"steps": [{"name": "A", "file": "F"}]})).await;
    assert!(mentions(&p, &["name", "required"]), "{p:?}");

    let p = problems(&node, path, json!({"name": "app"})).await;
    assert!(mentions(&p, &["steps", "required"]), "{p:?}");

    let p = problems(&node, path, json!({"name": "app", "steps": []})).await;
    assert!(mentions(&p, &["steps", "empty"]), "{p:?}");

    let p = problems(
        &node,
        path,
        json!({"name": "my app", "steps": [{"name": "A", "file": "F"}]}),
    )
    .await;
    assert!(mentions(&p, &["spaces", "my app"]), "{p:?}");

    let p = problems(
        &node,
        path,
        json!({"name": "app", "steps": [{"name": "A", "file": "F"}, {"name": "A", "file": "G"}]}),
    )
    .await;
    assert!(mentions(&p, &["duplicate", "A"]), "{p:?}");

    let p = problems(
        &node,
        path,
        json!({"name": "app", "steps": [{"name": "A", "file": "F", "output_to": ["Ghost"]}]}),
    )
    .await;
    assert!(mentions(&p, &["unknown step", "Ghost"]), "{p:?}");

    let p = problems(
        &node,
        path,
        json!({"name": "app", "steps": [{"name": "A", "file": "F", "data_from": ["Phantom"]}]}),
    )
    .await;
    assert!(mentions(&p, &["unknown step", "Phantom"]), "{p:?}");

    let p = problems(
        &node,
        path,
        json!({"name": "app", "steps": [
            {"name": "A", "file": "F", "output_to": ["B"]},
            {"name": "B", "file": "F", "output_to": ["A"]}]}),
    )
    .await;
    assert!(mentions(&p, &["cycle", "A", "B"]), "{p:?}");

    // Everything wrong at once: every problem is listed in one answer.
    let p = problems(
        &node,
        path,
        json!({"name": "bad name", "steps": [
            {"name": "A", "file": "F", "output_to": ["A", "Nope"]},
            {"name": "A", "file": "F"}]}),
    )
    .await;
    assert_eq!(p.len(), 4, "{p:?}");

    // An unknown step file is fine at upload (it is checked at run).
    let (status, _) = node
        .rest(
            "POST",
            path,
            Some(&json!({"name": "ok", "steps": [{"name": "A", "file": "NotUploaded"}]})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn malformed_and_mistyped_bodies() {
    let node = TestNode::start().await.unwrap();
    let resp = node
        .http
        .post(node.url("/api/v1/applications"))
        .basic_auth("isadmin", Some(is_tests::PASSWORD))
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );

    let p = problems(&node, "/api/v1/steps", json!({"name": 5})).await;
    assert_eq!(p.len(), 2, "name and data both reported: {p:?}");
    let p = problems(
        &node,
        "/api/v1/steps",
        json!({"name": "Hello", "data": step_source("invalid/Hello").unwrap()}),
    )
    .await;
    assert!(mentions(&p, &["no class named Hello"]), "{p:?}");
    let p = problems(
        &node,
        "/api/v1/configurations",
        json!({"configuration_data": [{"value": 1, "encrypted": "yes"}]}),
    )
    .await;
    assert_eq!(p.len(), 3, "{p:?}");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let node = TestNode::start_with(&[("IS_MAX_BODY_BYTES", "4096")])
        .await
        .unwrap();
    let big = json!({"name": "big", "description": "x".repeat(8192), "steps": [{"name": "A", "file": "F"}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&big))
        .await
        .unwrap();
    assert_eq!(status, 413, "{body}");
    assert!(body["error"].as_str().unwrap().contains("4096"), "{body}");
    // The node keeps serving.
    let (status, _) = node.rest("GET", "/api/v1/applications", None).await.unwrap();
    assert_eq!(status, 200);
}

/// An application of `steps` steps A0, A1, ..., chained A0 -> A1 -> ...
/// (steps - 1 edges) or with no edges.
fn app_of(name: &str, steps: usize, chained: bool) -> Value {
    let entries: Vec<Value> = (0..steps)
        .map(|i| {
            let next: Vec<String> = (chained && i + 1 < steps)
                .then(|| format!("A{}", i + 1))
                .into_iter()
                .collect();
            json!({"name": format!("A{i}"), "file": "F", "output_to": next})
        })
        .collect();
    json!({"name": name, "steps": entries})
}

#[tokio::test]
async fn applications_over_the_node_limits_get_400_naming_the_setting() {
    let node = TestNode::start_with(&[("IS_MAX_APP_STEPS", "3"), ("IS_MAX_APP_EDGES", "2")])
        .await
        .unwrap();
    let path = "/api/v1/applications";

    let (status, body) = node
        .rest("POST", path, Some(&app_of("four", 4, false)))
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
    let expected = "application \"four\" has 4 steps; this node accepts at most 3 (max_app_steps)";
    assert_eq!(body["error"], json!(expected), "{body}");
    assert_eq!(body["details"], json!([expected]), "{body}");
    let (status, _) = node.rest("GET", "/api/v1/applications/four", None).await.unwrap();
    assert_eq!(status, 404, "a refused application is not stored");

    let (status, body) = node
        .rest("POST", path, Some(&app_of("three", 3, true)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    // Three steps, three edges (A0 -> A2 as well; the repeat counts once).
    let mut doc = app_of("dense", 3, true);
    doc["steps"][0]["output_to"] = json!(["A1", "A2"]);
    doc["steps"][2]["data_from"] = json!(["A0"]);
    let p = problems(&node, path, doc).await;
    assert_eq!(
        p,
        vec!["application \"dense\" has 3 edges; this node accepts at most 2 (max_app_edges)".to_string()]
    );
}

/// One name rule for steps, applications, configurations and schedules:
/// printable, at most 200 characters, no path parts or control characters.
#[tokio::test]
async fn names_with_control_characters_path_parts_or_no_end_are_refused() {
    let node = TestNode::start().await.unwrap();
    let long = "n".repeat(10_000);
    for (name, says) in [
        ("nul\u{0}byte", "control"),
        ("two\nlines", "control"),
        ("..", "\"..\""),
        ("a/b", "'/'"),
        (long.as_str(), "more than 200"),
    ] {
        let app = json!({"name": name, "steps": [{"name": "S", "file": "F"}]});
        let cfg = json!({"name": name, "configuration_data": []});
        let schedule = json!({"application_id": "integration_template", "entry_id": name,
            "schedule": {"schedule_type": "frequency", "schedule_info": {"run_every": 60}}});
        for (path, doc) in [
            ("/api/v1/applications", app),
            ("/api/v1/configurations", cfg),
            ("/api/v1/schedule", schedule),
        ] {
            let found = problems(&node, path, doc).await;
            assert!(
                mentions(&found, &[says]),
                "{path} {:?}: {found:?}",
                name.chars().take(20).collect::<String>()
            );
        }
        let (status, body) = node
            .rest(
                "POST",
                "/api/v1/steps",
                Some(&json!({"name": name, "data": "class X: pass"})),
            )
            .await
            .unwrap();
        assert_eq!(status, 400, "{body}");
    }
    // Nothing of those was stored.
    let (_, apps) = node.rest("GET", "/api/v1/applications", None).await.unwrap();
    assert_eq!(apps.as_array().unwrap().len(), 1, "only the template: {apps}");
}
