//! What the run tests share: uploading applications and configurations,
//! starting runs and waiting for them, reading run and step statuses, and
//! reading a run's event stream.

use std::time::Duration;

use futures_util::StreamExt;
use is_tests::TestNode;
use serde_json::{json, Value};

/// Longest a run may take to reach its end in these tests.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// The states a run or step task ends in.
pub(crate) const TERMINAL: [&str; 3] = ["SUCCESS", "FAILURE", "REVOKED"];

/// A fresh node with the fixture steps `steps` uploaded.
pub(crate) async fn node_with_steps(steps: &[&str]) -> TestNode {
    let node = TestNode::start().await.unwrap();
    for step in steps {
        node.put_step(step).await.unwrap();
    }
    node
}

pub(crate) async fn put_app(node: &TestNode, doc: Value) {
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&doc))
        .await
        .unwrap();
    assert_eq!(status, 200, "upload of application {}: {body}", doc["name"]);
}

pub(crate) async fn put_config(node: &TestNode, doc: Value) {
    let (status, body) = node
        .rest("POST", "/api/v1/configurations", Some(&doc))
        .await
        .unwrap();
    assert_eq!(status, 200, "upload of configuration {}: {body}", doc["name"]);
}

/// `POST /applications/run?wait=N {"name", "params"}`.
pub(crate) async fn start_run(node: &TestNode, app: &str, params: Value, wait: u32) -> (u16, Value) {
    node.rest(
        "POST",
        &format!("/api/v1/applications/run?wait={wait}"),
        Some(&json!({"name": app, "params": params})),
    )
    .await
    .unwrap()
}

/// Starts a run without waiting for it; answers its first status.
pub(crate) async fn start_run_now(node: &TestNode, app: &str) -> Value {
    let (status, run) = start_run(node, app, json!({}), 0).await;
    assert_eq!(status, 200, "run of {app}: {run}");
    run
}

/// Starts a run and answers its status once it has ended.
pub(crate) async fn run_to_end(node: &TestNode, app: &str, params: Value) -> Value {
    let (status, run) = start_run(node, app, params, 30).await;
    assert_eq!(status, 200, "run of {app}: {run}");
    assert!(id_of(&run).starts_with("isapp-"), "{run}");
    node.wait_terminal(id_of(&run), DEADLINE).await.unwrap()
}

/// Polls the status of `run` until `done` holds for it; answers that status.
pub(crate) async fn run_until(node: &TestNode, run: &Value, done: impl Fn(&Value) -> bool) -> Value {
    node.poll_until(&format!("/api/v1/tasks/{}", id_of(run)), DEADLINE, |status, r| {
        status == 200 && done(r)
    })
    .await
    .unwrap()
}

pub(crate) fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}"))
}

/// The entry of step `name` in a run status.
pub(crate) fn step<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {run}"))
}

pub(crate) async fn get(node: &TestNode, path: &str) -> (u16, Value) {
    node.rest("GET", path, None).await.unwrap()
}

/// The step task status of step `name` of a run.
pub(crate) async fn step_task(node: &TestNode, run: &Value, name: &str) -> Value {
    let id = id_of(step(run, name));
    let (status, task) = get(node, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(status, 200, "{task}");
    task
}

/// A time in seconds (as the API shows it) in whole milliseconds.
pub(crate) fn ms(seconds: &Value) -> i64 {
    (seconds
        .as_f64()
        .unwrap_or_else(|| panic!("not a time: {seconds}"))
        * 1000.0)
        .round() as i64
}

pub(crate) fn log_messages(task: &Value) -> Vec<String> {
    task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect()
}

/// Reads the server-sent event stream of a run to its end: (event, data)
/// pairs. `on_first` runs once the first event has arrived: the node has
/// then learnt which tasks belong to the run, so every record logged from
/// then on is in the stream.
pub(crate) async fn read_events(node: &TestNode, id: &str, on_first: impl FnOnce()) -> Vec<(String, Value)> {
    let mut stream = node.open_events(id).await.bytes_stream();
    let mut bytes = Vec::new();
    let mut on_first = Some(on_first);
    let read = async {
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
            if let Some(f) = on_first.take() {
                f();
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the event stream did not end");
    let text = String::from_utf8(bytes).expect("the event stream is UTF-8");
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let mut kind = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(k) = line.strip_prefix("event:") {
                kind = k.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
        if !data.is_empty() {
            let value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("bad event data {data}: {e}"));
            events.push((kind, value));
        }
    }
    events
}
