//! What a run hands its steps: application variables (run values over
//! declared ones over defaults), substituted parameters and configuration
//! values, secrets masked everywhere they could leak; and the run's log
//! level.

use std::collections::BTreeSet;

use is_tests::{files_containing, TestNode};
use serde_json::json;

use crate::support::*;

const SECRET: &str = "pl41n-S3cret-runs-7c1e";

#[tokio::test]
async fn variables_configuration_and_masked_secrets_reach_the_step() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Vars").await.unwrap();
    put_config(
        &node,
        json!({"name": "vault", "configuration_data": [
            {"name": "host", "value": "db.example.com", "encrypted": false},
            {"name": "port", "value": 8443},
            {"name": "password", "value": SECRET, "encrypted": true}]}),
    )
    .await;
    let reversed: String = SECRET.chars().rev().collect();
    put_app(
        &node,
        json!({"name": "vars",
               "app_variables": [
                   {"name": "greeting", "value": "hello", "required": true},
                   {"name": "target", "value": "app-value"},
                   {"name": "fallback", "default_value": "from-default"},
                   {"name": "count", "value": 1}],
               "steps": [{"name": "use_vars", "file": "Vars",
                          "text": "${appvar.greeting}, ${appvar.target}!",
                          "count": "${appvar.count}",
                          "endpoint": "https://${config.host}:${config.port}/api",
                          "password": "${config.password}",
                          "password_reversed": reversed}]}),
    )
    .await;
    let run = run_to_end(
        &node,
        "vars",
        json!({"target": "run-value", "count": 7, "configuration": "vault"}),
    )
    .await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    assert_eq!(run["configuration"], "vault");
    assert_eq!(run["app_vars"]["target"], "run-value", "{run}");
    let task = step_task(&node, &run, "use_vars").await;
    assert_eq!(
        task["result"],
        json!({"greeting": "hello", "target": "run-value", "fallback": "from-default",
               "undeclared": null, "text": "hello, run-value!", "count": 7, "count_type": "int",
               "endpoint": "https://db.example.com:8443/api",
               "password_matches": true, "password_length": SECRET.len()}),
        "{task}"
    );
    // The secret is masked in every log line that carried it.
    let messages = log_messages(&task);
    for expected in [
        "logging in to https://db.example.com:8443/api with password ******",
        "password again: ******",
        "printed: ******",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "{expected:?} not in {messages:?}"
        );
    }
    // The plaintext never leaves: not in any API answer, not on disk.
    let events = read_events(&node, id_of(&run), || {}).await;
    let mut answers = vec![
        get(&node, &format!("/api/v1/tasks/{}", id_of(&run))).await.1,
        task.clone(),
        get(&node, "/api/v1/tasks?app=vars").await.1,
        get(&node, "/api/v1/applications/vars/logs").await.1,
        get(&node, "/api/v1/configurations/vault").await.1,
    ];
    answers.extend(events.into_iter().map(|(_, v)| v));
    for answer in &answers {
        assert!(!answer.to_string().contains(SECRET), "plaintext in {answer}");
    }
    let hits = files_containing(node.dir.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "plaintext secret in {hits:?}");
}

#[tokio::test]
async fn the_run_log_level_drops_lower_records() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Levels").await.unwrap();
    put_app(
        &node,
        json!({"name": "levels", "steps": [{"name": "noisy", "file": "Levels"}]}),
    )
    .await;
    let quiet = run_to_end(&node, "levels", json!({"log_level": 30})).await;
    assert_eq!(quiet["state"], "SUCCESS", "{quiet}");
    assert_eq!(quiet["log_level"], 30, "{quiet}");
    let task = step_task(&node, &quiet, "noisy").await;
    let levels: BTreeSet<&str> = task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, BTreeSet::from(["WARNING", "ERROR", "CRITICAL"]), "{task}");
    let messages = log_messages(&task);
    assert_eq!(
        messages,
        vec!["warning-record", "error-record", "critical-record"],
        "{task}"
    );

    // A level name works as well.
    let named = run_to_end(&node, "levels", json!({"log_level": "warning"})).await;
    assert_eq!(named["log_level"], 30, "{named}");
    let task = step_task(&node, &named, "noisy").await;
    assert_eq!(
        log_messages(&task),
        vec!["warning-record", "error-record", "critical-record"],
        "{task}"
    );

    // Without a level every record is kept.
    let loud = run_to_end(&node, "levels", json!({})).await;
    let task = step_task(&node, &loud, "noisy").await;
    assert_eq!(
        log_messages(&task),
        vec![
            "debug-record",
            "info-record",
            "flow-record",
            "warning-record",
            "error-record",
            "critical-record"
        ],
        "{task}"
    );
    assert!(task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["level"] == "INFO"));
}

#[tokio::test]
async fn a_secret_a_step_saves_is_stored_and_shown_masked() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Echo").await.unwrap();
    put_config(
        &node,
        json!({"name": "vault", "configuration_data": [
            {"name": "password", "value": SECRET, "encrypted": true}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "leaky", "configuration": "vault",
               "steps": [{"name": "echo", "file": "Echo", "n": 1, "tags": ["${config.password}"],
                          "who": "token ${config.password}", "output_to": ["again"]},
                         {"name": "again", "file": "Echo", "n": 2, "tags": [], "who": "${config.password}"}]}),
    )
    .await;
    let run = run_to_end(&node, "leaky", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let task = step_task(&node, &run, "echo").await;
    assert_eq!(
        task["result"],
        json!({"n": 1, "tags": ["******"], "who": "token ******"}),
        "{task}"
    );
    let task = step_task(&node, &run, "again").await;
    assert_eq!(task["result"]["who"], "******", "{task}");
    let hits = files_containing(node.dir.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "plaintext secret in {hits:?}");
}
