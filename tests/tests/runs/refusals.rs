//! A run that cannot start is refused before anything runs, with every
//! problem listed; unknown applications are 404.

use is_tests::TestNode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_run_that_cannot_start_lists_every_problem() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Needs").await.unwrap();
    put_app(
        &node,
        json!({"name": "broken",
               "app_variables": [{"name": "tenant", "required": true},
                                 {"name": "region", "required": true, "default_value": "eu"}],
               "steps": [
                   {"name": "needy", "file": "Needs", "output_to": ["ghostly"]},
                   {"name": "ghostly", "file": "NoSuchStep"}]}),
    )
    .await;
    let (status, body) = start_run(&node, "broken", json!({"configuration": "no_such_config"}), 5).await;
    assert_eq!(status, 400, "{body}");
    let details: Vec<String> = body["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {body}"))
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(details.len(), 4, "{details:?}");
    let has = |words: &[&str]| details.iter().any(|d| words.iter().all(|w| d.contains(w)));
    assert!(has(&["tenant"]), "missing app variable: {details:?}");
    assert!(
        has(&["needy", "must_have"]),
        "missing step parameter: {details:?}"
    );
    assert!(has(&["ghostly", "NoSuchStep"]), "missing step file: {details:?}");
    assert!(has(&["no_such_config"]), "unknown configuration: {details:?}");
    assert!(!has(&["region"]), "a default value counts: {details:?}");
    assert!(body["error"].is_string(), "{body}");
    // Nothing ran.
    let (_, runs) = get(&node, "/api/v1/tasks?app=broken").await;
    assert_eq!(runs, json!([]));

    let (status, body) = start_run(&node, "no_such_app", json!({}), 0).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no_such_app"), "{body}");
    let (status, body) = node
        .rest("POST", "/api/v1/applications/no_such_app/run", None)
        .await
        .unwrap();
    assert_eq!(status, 404, "{body}");
}
