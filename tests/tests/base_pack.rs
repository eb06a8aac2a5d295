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
    let (status, body) = node
        .rest(
            "POST",
            &format!("/api/v1/applications/{app}/run"),
            Some(&json!({})),
        )
        .await
        .unwrap();
    assert!(status == 200 || status == 202, "{status} {body}");
    let id = body["id"].as_str().unwrap().to_string();
    node.wait_terminal(&id, RUN_WITHIN).await.unwrap()
}

/// What the step task `name` of a finished run saved (its JSON rendering).
async fn result_of(node: &TestNode, run: &Value, name: &str) -> Value {
    let step = run["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name} in {run}"));
    let (status, task) = node
        .rest(
            "GET",
            &format!("/api/v1/tasks/{}", step["id"].as_str().unwrap()),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{task}");
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
