//! Secrets at rest and in use: the cluster key sealed by the node's
//! key-encryption key, its rotation, and planted secrets used by runs on a
//! 3-node cluster appearing nowhere in plaintext.

use std::time::Duration;

use is_tests::cluster::LocalCluster;
use is_tests::{files_containing, TestNode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const RUN_WITHIN: Duration = Duration::from_secs(60);

fn sha(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A configuration `vault` whose encrypted values are `secrets` (named
/// s0, s1, ...), and an application `digests` of one Digest step per secret.
fn vault_and_app(secrets: &[&str]) -> (Value, Value) {
    let data: Vec<Value> = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| json!({"name": format!("s{i}"), "value": s, "encrypted": true}))
        .collect();
    let steps: Vec<Value> = (0..secrets.len())
        .map(|i| json!({"name": format!("D{i}"), "file": "Digest", "value": format!("${{config.s{i}}}")}))
        .collect();
    (
        json!({"name": "vault", "configuration_data": data}),
        json!({"name": "digests", "configuration": "vault", "steps": steps}),
    )
}

/// The digest each step of a finished run saved, by step name.
fn digests_of(tasks: &[Value]) -> Vec<(String, String)> {
    tasks
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["result"]["sha256"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn run_and_collect(node: &TestNode) -> (Value, Vec<Value>) {
    let run = node.run_app("digests", RUN_WITHIN).await.unwrap();
    let mut tasks = Vec::new();
    for step in run["steps"].as_array().unwrap() {
        tasks.push(
            node.step_task(&run, step["name"].as_str().unwrap())
                .await
                .unwrap(),
        );
    }
    (run, tasks)
}

#[tokio::test]
async fn the_cluster_key_is_sealed_by_the_node_key_and_rotation_reseals_every_secret() {
    const A: &str = "planted-alpha-7Q2x9";
    const B: &str = "planted-bravo-K4m1Z";
    let mut node = TestNode::start().await.unwrap();
    node.put_step("Digest").await.unwrap();
    let (vault, app) = vault_and_app(&[A, B]);
    for (path, doc) in [("/api/v1/configurations", &vault), ("/api/v1/applications", &app)] {
        let (status, body) = node.rest("POST", path, Some(doc)).await.unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let (run, tasks) = run_and_collect(&node).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    assert_eq!(
        digests_of(&tasks),
        vec![("D0".into(), sha(A)), ("D1".into(), sha(B))]
    );

    let kek = node.data_dir().join("key-encryption-key");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&kek).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    // Rotation: every ciphertext changes, the runs still get the same
    // plaintext, and a ciphertext of the old key is refused from now on.
    let (_, before) = node
        .rest("GET", "/api/v1/configurations/vault", None)
        .await
        .unwrap();
    let (status, rotated) = node
        .rest("POST", "/api/v1/cluster/rotate-key", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(status, 200, "{rotated}");
    assert_eq!(
        (rotated["configurations"].as_u64(), rotated["values"].as_u64()),
        (Some(1), Some(2))
    );
    let (_, after) = node
        .rest("GET", "/api/v1/configurations/vault", None)
        .await
        .unwrap();
    for i in 0..2 {
        let (b, a) = (
            &before["configuration_data"][i]["value"],
            &after["configuration_data"][i]["value"],
        );
        assert!(a.as_str().unwrap().starts_with("enc:v1:") && a != b, "{a} vs {b}");
    }
    let (_, tasks) = run_and_collect(&node).await;
    assert_eq!(
        digests_of(&tasks),
        vec![("D0".into(), sha(A)), ("D1".into(), sha(B))]
    );
    let (status, body) = node
        .rest("POST", "/api/v1/configurations", Some(&before))
        .await
        .unwrap();
    assert_eq!(status, 400, "the old key is retired: {body}");

    // The data directory holds neither plaintext; without its
    // key-encryption key it opens no secret.
    node.terminate().unwrap();
    for s in [A, B] {
        let hits = files_containing(&node.data_dir(), s.as_bytes());
        assert!(hits.is_empty(), "{s} in {hits:?}");
    }
    let saved = node.data_dir().with_file_name("kek.saved");
    std::fs::rename(&kek, &saved).unwrap();
    node.restart().await.unwrap();
    let run = node.run_app("digests", RUN_WITHIN).await.unwrap();
    assert_eq!(run["state"], "FAILURE", "{run}");
    let task = node.step_task(&run, "D0").await.unwrap();
    let why = task["traceback"].as_str().unwrap_or_default();
    assert!(why.contains("does not open the cluster key"), "{task}");
    let (status, body) = node
        .rest("POST", "/api/v1/cluster/rotate-key", Some(&json!({})))
        .await
        .unwrap();
    assert_eq!(status, 503, "{body}");
    // With its own key back, the node opens them again.
    node.terminate().unwrap();
    std::fs::rename(&saved, &kek).unwrap();
    node.restart().await.unwrap();
    let (run, _) = run_and_collect(&node).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
}

#[tokio::test]
async fn planted_secrets_used_on_three_nodes_appear_nowhere_in_plaintext() {
    const PLANTED: [&str; 3] = ["planted-one-Xq81v", "planted-two-Lr05s", "planted-three-Wz3k"];
    let cluster = LocalCluster::up(3, &[]).await.unwrap();
    cluster.wait_healthy(Duration::from_secs(60)).await.unwrap();
    let leader = cluster.leader().unwrap();
    let source = is_tests::step_source("Digest").unwrap();
    cluster
        .post_ok(
            leader,
            "/api/v1/steps",
            &json!({"name": "Digest", "data": source}),
        )
        .await
        .unwrap();
    let (vault, app) = vault_and_app(&PLANTED);
    cluster
        .post_ok(leader, "/api/v1/configurations", &vault)
        .await
        .unwrap();
    cluster
        .post_ok(leader, "/api/v1/applications", &app)
        .await
        .unwrap();

    // Runs submitted through every node; every answer about them is read
    // from every node.
    let mut answers = String::new();
    let mut workers = std::collections::BTreeSet::new();
    for i in 1..=3 {
        let started = cluster
            .post_ok(i, "/api/v1/applications/run", &json!({"name": "digests"}))
            .await
            .unwrap();
        let id = started["id"].as_str().unwrap().to_string();
        let run = cluster.wait_terminal(i, &id, RUN_WITHIN).await.unwrap();
        assert_eq!(run["state"], "SUCCESS", "{run}");
        for j in 1..=3 {
            let (_, again) = cluster
                .rest(j, "GET", &format!("/api/v1/tasks/{id}"), None)
                .await
                .unwrap();
            answers.push_str(&again.to_string());
            for step in run["steps"].as_array().unwrap() {
                let href = step["href"].as_str().unwrap();
                let (_, task) = cluster.rest(j, "GET", href, None).await.unwrap();
                assert_eq!(
                    task["result"]["sha256"],
                    sha(PLANTED[step["name"].as_str().unwrap()[1..].parse::<usize>().unwrap()])
                );
                workers.insert(task["worker"].as_str().unwrap_or_default().to_string());
                answers.push_str(&task.to_string());
                let (_, result) = cluster
                    .rest(j, "GET", &format!("{href}/result"), None)
                    .await
                    .unwrap();
                answers.push_str(&result.to_string());
            }
        }
    }
    for path in [
        "/api/v1/configurations/vault",
        "/api/v1/audit?limit=1000",
        "/api/v1/reports",
    ] {
        let (_, body) = cluster.rest(leader, "GET", path, None).await.unwrap();
        answers.push_str(&body.to_string());
    }
    cluster.stop(1).unwrap();
    cluster.stop(2).unwrap();
    cluster.stop(3).unwrap();
    for s in PLANTED {
        assert!(!answers.contains(s), "{s} in an answer");
        let hits = files_containing(cluster.dir.path(), s.as_bytes());
        assert!(hits.is_empty(), "{s} in {hits:?}");
    }
    eprintln!("steps ran on workers {workers:?}");
}
