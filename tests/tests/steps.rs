//! The Python step runtime through REST: upload validation, running a step
//! alone, every hard failure mode followed by a successful step on the same
//! node, revocation of a hung step, task status and the shared cache.

use std::time::Duration;

use futures_util::StreamExt;
use is_tests::{poll_every, step_source, Markers, Progress, TestNode};
use serde_json::{json, Value};

/// Uploads `source` as step `name`; answers the status and body as they are.
async fn upload(node: &TestNode, name: &str, source: &str) -> (u16, Value) {
    node.rest(
        "POST",
        "/api/v1/steps",
        Some(&json!({"name": name, "data": source})),
    )
    .await
    .unwrap()
}

/// The source of the invalid step fixture `name` and the (1-based) number
/// of its first line containing `marker`, which an error must name.
fn invalid(name: &str, marker: &str) -> (String, usize) {
    let source = step_source(&format!("invalid/{name}")).unwrap();
    let line = source
        .lines()
        .position(|l| l.contains(marker))
        .unwrap_or_else(|| panic!("{marker:?} not in invalid/{name}.py"));
    (source, line + 1)
}

async fn run(node: &TestNode, params: Value, wait: u32) -> (u16, Value) {
    node.rest("POST", &format!("/api/v1/steps/run?wait={wait}"), Some(&params))
        .await
        .unwrap()
}

async fn run_ok(node: &TestNode) -> Value {
    let (status, body) = run(node, json!({"name": "Modes", "mode": "ok"}), 30).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "SUCCESS", "{body}");
    body
}

#[tokio::test]
async fn upload_records_metadata_and_rejects_broken_code() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Modes").await.unwrap();
    let (_, step) = node.rest("GET", "/api/v1/steps/Modes", None).await.unwrap();
    assert_eq!(step["friendly_name"], "Failure modes");
    assert_eq!(step["description"], "Misbehaves on request");
    assert_eq!(step["version"], "1.2.3");
    assert_eq!(step["parameters"][0]["name"], "mode");
    assert_eq!(step["parameters"][0]["required"], true);
    assert_eq!(step["parameters"][0]["sample_value"], "ok");

    // The error names the line of the syntax error.
    let (src, line) = invalid("Broken", "class Broken(");
    let (status, body) = upload(&node, "Broken", &src).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("SyntaxError") && body.to_string().contains(&format!("line {line}")),
        "{body}"
    );

    let (src, _) = invalid("Missing", "class Other");
    let (status, body) = upload(&node, "Missing", &src).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("no class named Missing"), "{body}");

    let (src, _) = invalid("NotAStep", "class NotAStep");
    let (status, body) = upload(&node, "NotAStep", &src).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("BaseStep"), "{body}");

    // The error names the line in __init__ that raised.
    let (src, line) = invalid("InitFails", "raise RuntimeError");
    let (status, body) = upload(&node, "InitFails", &src).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("no init") && body.to_string().contains(&format!("line {line}")),
        "{body}"
    );

    // Code that ends its runner at import is the code's fault: 400, and the
    // next upload is checked by a fresh runner.
    let (src, _) = invalid("ExitsAtImport", "os._exit");
    let (status, body) = upload(&node, "ExitsAtImport", &src).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("exited with status 7"), "{body}");
    let (status, body) = upload(&node, "Modes", &step_source("Modes").unwrap()).await;
    assert_eq!(status, 200, "{body}");

    let (status, _) = node.rest("GET", "/api/v1/steps/Broken", None).await.unwrap();
    assert_eq!(status, 404, "a rejected step is not stored");
}

#[tokio::test]
async fn a_step_runs_alone_with_logs_and_result() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Modes").await.unwrap();
    let body = run_ok(&node).await;
    assert_eq!(body["result"]["mode"], "ok");
    assert_eq!(body["attempt"], 1);
    assert!(body["worker"].as_str().unwrap().starts_with("node1/worker-"));
    let log = &body["logs"][0];
    assert!(log["message"].as_str().unwrap().contains("mode ok"), "{body}");
    assert_eq!(log["level"], "INFO");
    assert!(log["time"].as_f64().unwrap() > 1.6e9);
    assert!(log["module"].is_string());

    // The task stays readable.
    let id = body["id"].as_str().unwrap();
    let (status, again) = node
        .rest("GET", &format!("/api/v1/tasks/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(again["result"], body["result"]);

    // 400 for a missing required parameter (nothing runs), 404 for an unknown step.
    let (status, body) = run(&node, json!({"name": "Modes"}), 5).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["details"][0].as_str().unwrap().contains("mode"), "{body}");
    let (status, _) = run(&node, json!({"name": "Nope"}), 5).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn every_hard_failure_fails_the_attempt_and_the_node_heals() {
    // One worker, so the success after each failure runs on the healed worker.
    let node = TestNode::start_with(&[("IS_WORKERS", "1"), ("IS_RUNNER_MEMORY_MB", "512")])
        .await
        .unwrap();
    node.put_step("Modes").await.unwrap();
    let cases = [
        ("raise", "ValueError: the value is wrong"),
        ("exit", "sys.exit(3)"),
        ("os_exit", "exited with status 4"),
        ("segfault", "SIGSEGV"),
        ("memory", "memory limit of 512 MiB"),
    ];
    for (mode, reason) in cases {
        let (status, body) = run(&node, json!({"name": "Modes", "mode": mode}), 30).await;
        assert_eq!(status, 200, "{mode}: {body}");
        assert_eq!(body["state"], "FAILURE", "{mode}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(reason), "{mode}: expected {reason:?} in {error:?}");
        assert!(body["traceback"].is_string(), "{mode}: {body}");
        run_ok(&node).await;
    }
    // A timeout from the step's own parameter.
    let (_, body) = run(
        &node,
        json!({"name": "Modes", "mode": "hang", "timeout": 0.5}),
        30,
    )
    .await;
    assert_eq!(body["state"], "FAILURE", "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("timeout of 0.5 s"),
        "{body}"
    );
    run_ok(&node).await;
    // The node itself never went down.
    assert_eq!(node.rest("GET", "/api/v1/about", None).await.unwrap().0, 200);
}

#[tokio::test]
async fn revoking_a_hung_step_kills_its_runner() {
    let node = TestNode::start_with(&[("IS_WORKERS", "1")]).await.unwrap();
    node.put_step("Modes").await.unwrap();
    let (status, accepted) = run(&node, json!({"name": "Modes", "mode": "hang"}), 0).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();

    // Follow the task's events until the step logs its runner's pid.
    let mut stream = node.open_events(&id).await.bytes_stream();
    let mut text = String::new();
    let pid: u32 = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("no event within 30 s")
            .expect("event stream ended early")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(pos) = text.find("pid ") {
            let digits: String = text[pos + 4..].chars().take_while(char::is_ascii_digit).collect();
            if text[pos + 4 + digits.len()..].starts_with(' ') {
                break digits.parse().unwrap();
            }
        }
    };
    assert!(text.contains("event: state"), "{text}");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());

    let (status, revoked) = node
        .rest("POST", &format!("/api/v1/tasks/{id}/revoke"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(revoked["state"], "REVOKED", "{revoked}");
    // The contract: the runner is gone within a second of the revocation
    // (looked at every 10 ms: the deadline is short). A zombie counts as gone.
    poll_every(Duration::from_millis(10), Duration::from_secs(1), async || {
        let alive = std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
            && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "));
        Ok(if alive {
            Progress::NotYet(format!("runner {pid} still alive 1 s after revoke"))
        } else {
            Progress::Done(())
        })
    })
    .await
    .unwrap();
    // The stream reports the end, and the worker takes the next task.
    let mut rest = String::new();
    while let Ok(Some(chunk)) = tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
        rest.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(rest.contains("event: end") && rest.contains("REVOKED"), "{rest}");
    let body = run_ok(&node).await;
    assert_ne!(
        body["result"]["pid"],
        json!(pid),
        "a new runner serves the next step"
    );
    let (_, status_now) = node
        .rest("GET", &format!("/api/v1/tasks/{id}"), None)
        .await
        .unwrap();
    assert_eq!(
        status_now["state"], "REVOKED",
        "the killed attempt never reports an outcome"
    );
}

#[tokio::test]
async fn the_cache_is_shared_between_runs() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Modes").await.unwrap();
    let (_, body) = run(&node, json!({"name": "Modes", "mode": "cache_put"}), 30).await;
    assert_eq!(body["state"], "SUCCESS", "{body}");
    let (_, body) = run(&node, json!({"name": "Modes", "mode": "cache_get"}), 30).await;
    assert_eq!(body["result"], json!({"n": 42}), "{body}");
    let (status, entry) = node.rest("GET", "/api/v1/cache/shared-key", None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(entry["value"], json!({"n": 42}), "{entry}");
    assert_eq!(entry["expires_at"], Value::Null, "{entry}");
    // The pickle itself only on request.
    let raw = node
        .http
        .get(node.url("/api/v1/cache/shared-key?raw=true"))
        .basic_auth("isadmin", Some(is_tests::PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/octet-stream");
    let pickle = raw.bytes().await.unwrap();
    assert_eq!(pickle.len() as u64, entry["size"].as_u64().unwrap());
    assert_eq!(pickle[0], 0x80, "a pickle starts with the PROTO opcode");
    // iscli shows the same, and saves the pickle.
    let shown = is_tests::iscli_ok(&node, &["cache", "get", "shared-key"]);
    assert!(shown.contains("Value:\n  {\n    \"n\": 42\n  }"), "{shown}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("entry.pickle");
    is_tests::iscli_ok(
        &node,
        &["cache", "get", "shared-key", "--raw", file.to_str().unwrap()],
    );
    assert_eq!(std::fs::read(&file).unwrap(), pickle.to_vec());

    // A Python object has no JSON rendering; keys may hold slashes.
    let (_, body) = run(&node, json!({"name": "Modes", "mode": "cache_put_object"}), 30).await;
    assert_eq!(body["state"], "SUCCESS", "{body}");
    let (status, entry) = node
        .rest("GET", "/api/v1/cache/some%20app/when", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["value"], Value::Null, "{entry}");
    assert!(entry["note"].as_str().unwrap().contains("?raw=true"), "{entry}");
    let (status, _) = node.rest("GET", "/api/v1/cache/no-such-key", None).await.unwrap();
    assert_eq!(status, 404);
    let out = is_tests::iscli_ok(&node, &["cache", "delete", "some app/when"]);
    assert!(out.contains("deleted cache entry some app/when"), "{out}");
    let (status, _) = node
        .rest("DELETE", "/api/v1/cache/shared-key", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (_, body) = run(&node, json!({"name": "Modes", "mode": "cache_get"}), 30).await;
    assert_eq!(body["result"], Value::Null, "{body}");
}

#[tokio::test]
async fn a_task_interrupted_by_a_crash_runs_again_after_restart() {
    let mut node = TestNode::start_with(&[("IS_WORKERS", "1")]).await.unwrap();
    node.put_step("Nap").await.unwrap();
    // The step cannot finish before the test lets it, so the kill always
    // cuts its first attempt short.
    let markers = Markers::new().unwrap();
    let (status, accepted) = run(&node, json!({"name": "Nap", "wait_for": markers.path("nap")}), 0).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["id"].as_str().unwrap().to_string();
    let task_path = format!("/api/v1/tasks/{id}");
    // Wait until it runs, then kill the node mid-step.
    node.poll_until(&task_path, Duration::from_secs(20), |_, t| {
        t["state"] == "STARTED"
    })
    .await
    .unwrap();
    node.restart().await.unwrap();
    markers.set("nap").unwrap();
    let done = node
        .poll_until(&task_path, Duration::from_secs(30), |_, t| {
            t["state"] == "SUCCESS"
        })
        .await
        .unwrap();
    assert_eq!(done["attempt"], 2, "{done}");
    assert_eq!(done["attempts"][0]["state"], "FAILURE", "{done}");
    assert_eq!(done["result"], "rested");
}
