//! The Base Steps pack on a fresh node: its steps and template application
//! are there, the template runs, and QueryREST (and a step subclassing it
//! the way published packs do) queries an HTTP server this test starts.

use std::time::Duration;

use is_tests::TestNode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const RUN_WITHIN: Duration = Duration::from_secs(60);

/// A loopback HTTP server answering `GET /devices` with a list of devices
/// and `GET /device/{id}` with one, and 404 otherwise; one request per
/// connection. Answers its base URL.
async fn device_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match path.as_str() {
                    "/devices" => ("200 OK", json!([{"id": 1}, {"id": 2}])),
                    p if p.starts_with("/device/") => {
                        let id = &p["/device/".len()..];
                        ("200 OK", json!({"id": id, "name": format!("sw{id}")}))
                    }
                    _ => ("404 Not Found", json!({"error": "no such path"})),
                };
                let body = body.to_string();
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

/// Runs `app` and waits for it to end; answers the run status.
async fn run(node: &TestNode, app: &str) -> Value {
    node.run_app(app, RUN_WITHIN).await.unwrap()
}

/// What the step task `name` of a finished run saved (its JSON rendering).
async fn result_of(node: &TestNode, run: &Value, name: &str) -> Value {
    let task = node.step_task(run, name).await.unwrap();
    assert_eq!(task["state"], "SUCCESS", "{task}");
    task["result"].clone()
}

#[tokio::test]
async fn a_fresh_node_has_the_base_steps_and_the_template_application() {
    let node = TestNode::start().await.unwrap();
    for step in [
        "stepTemplate",
        "CountRecords",
        "QueryREST",
        "QueryGQL",
        "CacheSave",
        "CacheRead",
        "CacheDelete",
        "DirectCacheRead",
        "MySqlSelect",
        "MySqlInsert",
        "MySqlDescribe",
        "MsSqlSelect",
        "MsSqlInsert",
        "MsSqlDescribe",
        "SSHCommand",
        "TriggerApplication",
    ] {
        let (status, body) = node
            .rest("GET", &format!("/api/v1/steps/{step}"), None)
            .await
            .unwrap();
        assert_eq!(status, 200, "{step}: {body}");
    }
    let (_, rest) = node.rest("GET", "/api/v1/steps/QueryREST", None).await.unwrap();
    assert_eq!(rest["friendly_name"], "Query REST");
    let required: Vec<&str> = rest["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["required"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(required, vec!["method", "prefix_url"], "{rest}");

    let (status, app) = node
        .rest("GET", "/api/v1/applications/integration_template", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{app}");
    let done = run(&node, "integration_template").await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    // One record from "Say Hello" plus the offset ${stepfunc.double 2}.
    assert_eq!(result_of(&node, &done, "Count").await, json!({"count": 5}));
}

#[tokio::test]
async fn query_rest_and_a_subclass_of_it_query_a_local_server() {
    let node = TestNode::start().await.unwrap();
    let url = device_server().await;
    node.put_step("GetFirstDevice").await.unwrap();
    let app = json!({
        "name": "devices",
        "steps": [
            {"name": "List", "file": "QueryREST", "method": "GET", "prefix_url": url,
             "relative_url": "/devices", "output_to": ["Each"]},
            {"name": "Each", "file": "QueryREST", "method": "GET", "prefix_url": url,
             "relative_url": "/device/${id}"},
            {"name": "First", "file": "GetFirstDevice", "method": "GET", "prefix_url": url},
            {"name": "Missing", "file": "QueryREST", "method": "GET", "prefix_url": url,
             "relative_url": "/nothing", "expected_status": 200}
        ]
    });
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let done = run(&node, "devices").await;
    assert_eq!(done["state"], "FAILURE", "Missing fails: {done}");
    assert_eq!(
        result_of(&node, &done, "List").await,
        json!([{"id": 1}, {"id": 2}])
    );
    assert_eq!(
        result_of(&node, &done, "Each").await,
        json!([{"id": "1", "name": "sw1"}, {"id": "2", "name": "sw2"}])
    );
    assert_eq!(result_of(&node, &done, "First").await, json!("SW1"));
    let missing = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Missing")
        .unwrap();
    assert_eq!(missing["state"], "FAILURE");
    let traceback = missing["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.contains(&format!(
            "HTTP(s) Response Actual: 404 Expected: 200, does NOT match for: {url}/nothing"
        )),
        "{missing}"
    );
    // What it saved before failing stays visible in its task.
    let (_, task) = node
        .rest("GET", missing["href"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(task["result"]["http_code"], 404, "{task}");
    assert_eq!(task["result"]["body"], json!({"error": "no such path"}), "{task}");
}

/// The step API calls real packs make beyond the core: the stored
/// application document, `self.generate_report`, and options written as
/// strings the way documents of the original product write them.
#[tokio::test]
async fn a_step_reads_its_application_document_and_report_flag() {
    let node = TestNode::start().await.unwrap();
    node.put_step("ReadApp").await.unwrap();
    let app = json!({
        "name": "reads_itself",
        "generate_report": "True",
        "app_variables": [{"name": "region", "value": "eu", "required": "false"}],
        "steps": [{"name": "Read", "file": "ReadApp", "retry_max": "2", "retry_backoff": "false"}]
    });
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "options as strings are accepted: {body}");
    // A wait above 30 s waits 30 s rather than failing.
    let (status, done) = node
        .rest(
            "POST",
            "/api/v1/applications/run?wait=120",
            Some(&json!({"name": "reads_itself"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["state"], "SUCCESS", "{done}");
    assert_eq!(result_of(&node, &done, "Read").await, json!(["eu", true, null]));
}

/// `base_pack = false` gives a cluster without the pack, for operators who
/// bring their own copies of its content.
#[tokio::test]
async fn a_cluster_started_without_the_base_pack_has_none_of_its_content() {
    let node = TestNode::without_base_pack().await.unwrap();
    for path in [
        "/api/v1/steps/QueryREST",
        "/api/v1/applications/integration_template",
    ] {
        let (code, body) = node.rest("GET", path, None).await.unwrap();
        assert_eq!(code, 404, "{path}: {body}");
    }
    let (code, packs) = node.rest("GET", "/api/v1/syncpacks", None).await.unwrap();
    assert_eq!((code, packs), (200, json!([])));
}

/// Runs of `app`, oldest first.
async fn runs_of(node: &TestNode, app: &str) -> Vec<Value> {
    let (status, list) = node
        .rest("GET", &format!("/api/v1/tasks?app={app}&limit=100"), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{list}");
    let mut runs = list.as_array().unwrap().clone();
    runs.reverse();
    runs
}

#[tokio::test]
async fn trigger_application_runs_a_child_saves_its_output_and_fails_with_it() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Echo").await.unwrap();
    node.put_step("Boom").await.unwrap();
    let child = json!({
        "name": "child",
        "app_variables": [{"name": "who", "value": "nobody"}],
        "steps": [{"name": "E", "file": "Echo", "n": 1, "tags": [], "who": "${appvar.who}"}]
    });
    let failing = json!({"name": "failing", "steps": [{"name": "B", "file": "Boom"}]});
    let parent = |name: &str, target: &str, blocking: bool| {
        json!({"name": name, "steps": [{"name": "T", "file": "TriggerApplication",
            "application_name": target, "params": {"who": "the parent"}, "blocking": blocking}]})
    };
    for app in [
        child,
        failing,
        parent("parent", "child", true),
        parent("parent_of_failing", "failing", true),
    ] {
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&app))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }

    // Blocking: the child's one terminal step's data is the step's output,
    // and the child names its parent.
    let done = run(&node, "parent").await;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    assert_eq!(
        result_of(&node, &done, "T").await,
        json!({"n": 1, "tags": [], "who": "the parent"})
    );
    let children = runs_of(&node, "child").await;
    assert_eq!(children.len(), 1, "{children:?}");
    assert_eq!(children[0]["state"], "SUCCESS");
    assert_eq!(
        children[0]["triggered_by"],
        json!([{"application_id": children[0]["id"], "triggered_by": "APPLICATION"},
               {"application_id": done["id"], "triggered_by": "PARENT", "step": "T"}])
    );
    let (_, parent_status) = node
        .rest("GET", done["href"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        parent_status["children"],
        json!([{"id": children[0]["id"], "href": children[0]["href"], "app_name": "child", "step": "T"}])
    );

    // A failing child fails the step, saying which of its steps failed.
    let done = run(&node, "parent_of_failing").await;
    assert_eq!(done["state"], "FAILURE", "{done}");
    let (_, task) = node
        .rest("GET", done["steps"][0]["href"].as_str().unwrap(), None)
        .await
        .unwrap();
    let traceback = task["traceback"].as_str().unwrap_or_default();
    assert!(
        traceback.contains("ended in FAILURE")
            && traceback.contains("B: ")
            && traceback.contains("the value is wrong"),
        "{task}"
    );
}

#[tokio::test]
async fn an_application_that_triggers_itself_stops_at_the_nesting_limit() {
    let node = TestNode::start().await.unwrap();
    let looping = json!({"name": "looping", "steps": [{"name": "T", "file": "TriggerApplication",
        "application_name": "looping", "blocking": false}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&looping))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    run(&node, "looping").await;
    // The runs started by the runs before them: ten levels below the first.
    let last = is_tests::poll(RUN_WITHIN, async || {
        let runs = runs_of(&node, "looping").await;
        Ok(match runs.last() {
            Some(r) if runs.len() == 11 && r["state"] == "FAILURE" => is_tests::Progress::Done(r.clone()),
            _ => is_tests::Progress::NotYet(format!("{} runs: {runs:?}", runs.len())),
        })
    })
    .await
    .unwrap();
    let (_, task) = node
        .rest("GET", last["steps"][0]["href"].as_str().unwrap(), None)
        .await
        .unwrap();
    assert!(
        task["traceback"]
            .as_str()
            .unwrap_or_default()
            .contains("Trigger Application steps deep"),
        "{task}"
    );
    let runs = runs_of(&node, "looping").await;
    assert_eq!(runs.len(), 11, "no run after the refused one");
    assert!(runs[..10].iter().all(|r| r["state"] == "SUCCESS"), "{runs:?}");
}

#[tokio::test]
async fn revoking_a_run_revokes_the_child_its_step_waits_for() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Nap").await.unwrap();
    let markers = is_tests::Markers::new().unwrap();
    let child = json!({"name": "slow_child", "steps": [{"name": "N", "file": "Nap", "wait_for": markers.path("never")}]});
    let parent = json!({"name": "waiting_parent", "steps": [{"name": "T", "file": "TriggerApplication",
        "application_name": "slow_child"}]});
    for app in [child, parent] {
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&app))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
    }
    let (status, started) = node
        .rest(
            "POST",
            "/api/v1/applications/waiting_parent/run?wait=0",
            Some(&json!({})),
        )
        .await
        .unwrap();
    assert!(status == 200 || status == 202, "{started}");
    let parent_id = started["id"].as_str().unwrap().to_string();
    // Once the child's step runs, revoke the parent.
    let child = is_tests::poll(RUN_WITHIN, async || {
        let runs = runs_of(&node, "slow_child").await;
        Ok(match runs.first() {
            Some(r) if r["steps"][0]["state"] == "STARTED" => is_tests::Progress::Done(r.clone()),
            _ => is_tests::Progress::NotYet(format!("the child's step is not running: {runs:?}")),
        })
    })
    .await
    .unwrap();
    let (status, body) = node
        .rest("POST", &format!("/api/v1/tasks/{parent_id}/revoke"), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let child_done = node
        .wait_terminal(child["id"].as_str().unwrap(), RUN_WITHIN)
        .await
        .unwrap();
    assert_eq!(child_done["state"], "REVOKED", "{child_done}");
    let parent_done = node.wait_terminal(&parent_id, RUN_WITHIN).await.unwrap();
    assert_eq!(parent_done["state"], "REVOKED", "{parent_done}");
}
