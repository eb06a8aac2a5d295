//! The OpenAPI document on a live node (issue 13, item 7): public, and in
//! step with the router — every documented operation reaches its handler,
//! every other method of a documented path answers 405 — and the errors
//! that axum would answer as plain text (a bad query string, an unreadable
//! path, a wrong method) answer the JSON error document.

use is_tests::{TestNode, PASSWORD};
use serde_json::Value;

/// The JSON error document of DESIGN 4.3, or why the answer is not one.
fn error_doc(status: u16, content_type: &str, body: &str) -> Result<Value, String> {
    if !content_type.starts_with("application/json") {
        return Err(format!("{status} answered {content_type:?}: {body}"));
    }
    let doc: Value = serde_json::from_str(body).map_err(|e| format!("{status}: {e}: {body}"))?;
    if doc["error"].is_string() && doc["details"].is_array() {
        Ok(doc)
    } else {
        Err(format!("{status} is not the error document: {body}"))
    }
}

async fn call(node: &TestNode, method: &str, path: &str, body: Option<&str>) -> (u16, String, String) {
    let mut req = is_tests::http_client()
        .request(method.parse().unwrap(), node.url(path))
        .basic_auth("isadmin", Some(PASSWORD));
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, resp.text().await.unwrap())
}

#[tokio::test]
async fn the_document_is_public_and_every_operation_reaches_its_handler() {
    let node = TestNode::start().await.unwrap();
    let anonymous = is_tests::http_client();
    let resp = anonymous
        .get(node.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the document needs no credentials");
    let doc: Value = resp.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    // Only the document is public.
    let resp = anonymous.get(node.url("/api/v1/about")).send().await.unwrap();
    assert_eq!(resp.status(), 401);

    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() > 35, "only {} paths", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        // A concrete path: each parameter named after itself, which names
        // nothing that exists.
        let concrete = path.replace(['{', '}'], "");
        for method in ["get", "put", "post", "delete", "patch"] {
            let (status, content_type, body) =
                call(&node, &method.to_uppercase(), &concrete, Some("null")).await;
            if item.get(method).is_none() {
                assert_eq!(status, 405, "{method} {path} is not documented: {body}");
                let doc = error_doc(status, &content_type, &body).unwrap();
                assert!(doc["error"].as_str().unwrap().contains("openapi.json"), "{doc}");
                continue;
            }
            operations += 1;
            assert_ne!(
                status, 405,
                "{method} {path} is documented but the router refuses it"
            );
            if status >= 400 {
                let doc = error_doc(status, &content_type, &body)
                    .unwrap_or_else(|e| panic!("{method} {concrete}: {e}"));
                assert!(
                    !doc["error"].as_str().unwrap().starts_with("no endpoint"),
                    "{method} {path} is documented but has no route: {doc}"
                );
            }
            assert!(
                status < 500 || status == 501,
                "{method} {concrete} answered {status}: {body}"
            );
        }
    }
    assert!(operations >= 60, "only {operations} operations");
}

#[tokio::test]
async fn malformed_requests_answer_the_error_document() {
    let node = TestNode::start_with(&[("IS_MAX_BODY_BYTES", "1048576")])
        .await
        .unwrap();
    let cases = [
        // axum's Query rejection was plain text.
        ("GET", "/api/v1/steps?limit=many", 400, "invalid query string"),
        (
            "GET",
            "/api/v1/tasks?since=yesterday",
            400,
            "invalid query string",
        ),
        // axum's Path rejection (not UTF-8 once decoded) was plain text.
        ("GET", "/api/v1/steps/%FF", 400, "invalid path"),
        // axum's 405 had an empty body.
        (
            "PATCH",
            "/api/v1/steps",
            405,
            "PATCH is not an operation of /api/v1/steps",
        ),
        (
            "PUT",
            "/api/v1/about",
            405,
            "PUT is not an operation of /api/v1/about",
        ),
        // Unknown paths already were the error document.
        ("GET", "/api/v1/nowhere", 404, "no endpoint"),
    ];
    for (method, path, want, says) in cases {
        let (status, content_type, body) = call(&node, method, path, None).await;
        assert_eq!(status, want, "{method} {path}: {body}");
        let doc = error_doc(status, &content_type, &body).unwrap();
        let text = format!("{} {}", doc["error"], doc["details"]);
        assert!(text.contains(says), "{method} {path}: {doc}");
    }
    // A body the limit refuses is 413 in the error document, also where
    // the body is optional.
    let big = format!("{{\"params\": \"{}\"}}", "x".repeat(2 << 20));
    for path in ["/api/v1/applications/a/run", "/api/v1/apikeys"] {
        let (status, content_type, body) = call(&node, "POST", path, Some(&big)).await;
        assert_eq!(status, 413, "POST {path}: {body}");
        error_doc(status, &content_type, &body).unwrap();
    }
}
