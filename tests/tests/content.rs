//! Content round trips through both transports, authentication on both.

use is_proto::v1::{Empty, Json, ListContentRequest, NameRequest, PutStepRequest};
use is_tests::{examples_dir, grpc_client, TestNode, PASSWORD};
use serde_json::Value;

fn example(path: &str) -> Value {
    let text = std::fs::read_to_string(examples_dir().join(path)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn rest_upload_is_readable_over_rest_and_grpc() {
    let node = TestNode::start().await.unwrap();
    // The template under a new name (a new node already has the template).
    let mut app = example("apps/integration_template.json");
    app["name"] = "a_template".into();
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"], "created");

    let (status, got) = node
        .rest("GET", "/api/v1/applications/a_template", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(got, app, "the document comes back as uploaded");

    let mut grpc = node.grpc().await.unwrap();
    let got = grpc
        .get_application(NameRequest {
            name: "a_template".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(serde_json::from_str::<Value>(&got.document_json).unwrap(), app);
    // The typed fields are read from the same document.
    assert_eq!(got.name, "a_template");
    let steps: Vec<&str> = got.steps.iter().map(|s| s.name.as_str()).collect();
    let doc_steps: Vec<&str> = app["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(steps, doc_steps);

    let list = grpc
        .list_applications(ListContentRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.items[0].name, "a_template");
    assert_eq!(list.items[0].friendly_name.as_deref(), Some("Template App"));

    // Uploading again replaces.
    let (_, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(body["result"], "updated");
}

#[tokio::test]
async fn grpc_upload_is_readable_over_rest_and_deletes_work() {
    let node = TestNode::without_base_pack().await.unwrap();
    let mut grpc = node.grpc().await.unwrap();
    let source = std::fs::read_to_string(examples_dir().join("steps/CountRecords.py")).unwrap();
    grpc.put_step(PutStepRequest {
        name: "CountRecords".into(),
        source: source.clone(),
    })
    .await
    .unwrap();
    let (status, step) = node
        .rest("GET", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(step["source"], source);

    let cfg = example("configs/demo-settings.json");
    grpc.put_configuration(Json {
        json: cfg.to_string(),
    })
    .await
    .unwrap();
    let (status, list) = node.rest("GET", "/api/v1/configurations", None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(list[0]["name"], "demo-settings");

    let (status, _) = node
        .rest("DELETE", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, err) = node
        .rest("GET", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().contains("CountRecords"), "{err}");
    let (status, _) = node
        .rest("DELETE", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(status, 404, "deleting twice reports the item is gone");

    let status = grpc
        .delete_configuration(NameRequest { name: "nope".into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn every_call_needs_valid_credentials() {
    let node = TestNode::start().await.unwrap();
    let resp = node
        .http
        .get(node.url("/api/v1/applications"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert!(resp.headers().contains_key("www-authenticate"));
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("authentication"),
        "{body}"
    );

    let resp = node
        .http
        .get(node.url("/api/v1/about"))
        .basic_auth("isadmin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let resp = node
        .http
        .get(node.url("/api/v1/no-such-thing"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        401,
        "unknown paths are not revealed before authentication"
    );

    let mut bad = grpc_client(node.port, "isadmin", "wrong").await.unwrap();
    let err = bad.about(Empty {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut nobody = grpc_client(node.port, "nobody", PASSWORD).await.unwrap();
    assert_eq!(
        nobody.about(Empty {}).await.unwrap_err().code(),
        tonic::Code::Unauthenticated
    );
}

#[tokio::test]
async fn about_and_cluster_describe_the_single_node() {
    let node = TestNode::start().await.unwrap();
    let (status, about) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(about["node_id"], 1);
    assert_eq!(about["leader"], 1);
    assert!(about["version"].is_string());
    let (_, cluster) = node.rest("GET", "/api/v1/cluster", None).await.unwrap();
    assert_eq!(cluster["members"].as_array().unwrap().len(), 1);
    assert_eq!(cluster["members"][0]["voter"], true);
    assert_eq!(
        cluster["members"][0]["address"],
        format!("127.0.0.1:{}", node.port)
    );
}

#[tokio::test]
async fn unimplemented_operations_say_so_on_both_transports() {
    let node = TestNode::start().await.unwrap();
    let (status, body) = node.rest("GET", "/api/v1/license", None).await.unwrap();
    assert_eq!(status, 501, "{body}");
    assert!(body["error"].as_str().unwrap().contains("licens"), "{body}");
    let (status, body) = node.rest("GET", "/api/v1/nothing", None).await.unwrap();
    assert_eq!(status, 404, "{body}");

    let mut grpc = node.grpc().await.unwrap();
    let err = grpc.get_license(Empty {}).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    assert!(err.message().contains("licensing"), "{}", err.message());
}

#[tokio::test]
async fn the_auth_scheme_is_case_insensitive_and_user_names_cannot_forge_log_lines() {
    use base64::Engine;
    let node = TestNode::start().await.unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for scheme in ["BASIC", "basic", "Basic"] {
        let resp = node
            .http
            .get(node.url("/api/v1/about"))
            .header(
                "authorization",
                format!("{scheme} {}", b64(&format!("isadmin:{PASSWORD}"))),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{scheme}");
    }
    let forged = "evil\n2026-01-01T00:00:00Z  INFO is_node: FORGED admin login\u{1b}[2J";
    let resp = node
        .http
        .get(node.url("/api/v1/about"))
        .header("authorization", format!("Basic {}", b64(&format!("{forged}:x"))))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    node.wait_for_log("authentication failed", std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let log = node.log();
    assert!(
        !log.lines().any(|l| l.starts_with("2026-01-01T00:00:00Z")),
        "a forged line: {log}"
    );
    assert!(!log.contains('\u{1b}'), "an escape sequence reached the log");
    assert!(log.contains("evil\\n2026"), "the name is logged escaped: {log}");
}

/// The one bad membership call that once bricked a single node: adding a
/// member that does not answer is refused at once and changes nothing.
#[tokio::test]
async fn adding_a_member_that_does_not_answer_is_refused_and_the_node_keeps_writing() {
    let node = TestNode::start().await.unwrap();
    let closed = is_tests::ClosedPort::new().unwrap();
    let doc = serde_json::json!({"id": 2, "address": format!("127.0.0.1:{}", closed.port)});
    let (status, body) = node
        .rest("POST", "/api/v1/cluster/nodes", Some(&doc))
        .await
        .unwrap();
    assert!((400..500).contains(&status), "{status} {body}");
    assert!(
        body["error"].as_str().unwrap().contains("does not answer"),
        "{body}"
    );
    let (_, cluster) = node.rest("GET", "/api/v1/cluster", None).await.unwrap();
    assert_eq!(cluster["members"].as_array().map(Vec::len), Some(1), "{cluster}");
    let cfg = serde_json::json!({"name": "still-writable", "configuration_data": []});
    let (status, body) = node
        .rest("POST", "/api/v1/configurations", Some(&cfg))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
}
