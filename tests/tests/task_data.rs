//! How much of a task's data a node keeps and answers: the log cap
//! (`max_task_log_bytes`), pages of a task's log (`logs_offset`,
//! `logs_limit`) and results too large to show inline
//! (`max_inline_result_bytes`, `GET /tasks/{id}/result`).

use is_tests::TestNode;
use serde_json::{json, Value};

/// Runs a step alone and waits (up to 30 s) for its end; asserts success.
async fn run_step(node: &TestNode, params: Value) -> Value {
    let (status, body) = node
        .rest("POST", "/api/v1/steps/run?wait=30", Some(&params))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "SUCCESS", "{body}");
    body
}

fn messages(task: &Value) -> Vec<String> {
    task["logs"]
        .as_array()
        .unwrap_or_else(|| panic!("logs in {task}"))
        .iter()
        .map(|l| l["message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn a_log_past_the_cap_keeps_a_prefix_and_one_marker_counting_the_rest() {
    let node = TestNode::start_with(&[("IS_MAX_TASK_LOG_BYTES", "10000")])
        .await
        .unwrap();
    node.put_step("Spew").await.unwrap();
    // 2,000 records of about 110 bytes each: 220 kB against a 10 kB cap.
    let task = run_step(&node, json!({"name": "Spew", "count": 2000, "width": 100})).await;
    let logs = task["logs"].as_array().unwrap();
    let (marker, kept) = logs.split_last().expect("some records");
    assert!(!kept.is_empty());
    let kept_bytes: usize = kept.iter().map(|l| l["message"].as_str().unwrap().len()).sum();
    assert!(kept_bytes <= 10_000, "kept {kept_bytes} bytes");
    // The kept records are the first ones, in order.
    for (i, l) in kept.iter().enumerate() {
        let m = l["message"].as_str().unwrap();
        assert!(m.starts_with(&format!("record {i} ")), "{m}");
    }
    let dropped = 2000 - kept.len();
    assert_eq!(marker["level"], "WARNING", "{marker}");
    assert_eq!(marker["levelno"], 30, "{marker}");
    assert_eq!(marker["module"], "isnode", "{marker}");
    let text = marker["message"].as_str().unwrap();
    let count = if dropped >= 1000 {
        format!("{},{:03}", dropped / 1000, dropped % 1000)
    } else {
        dropped.to_string()
    };
    assert!(
        text.starts_with(&format!("{count} log records (")),
        "{text} (dropped {dropped})"
    );
    assert!(
        text.ends_with("dropped: this task's log is capped at 10,000 bytes (max_task_log_bytes)"),
        "{text}"
    );
    let markers = messages(&task).iter().filter(|m| m.contains("dropped")).count();
    assert_eq!(markers, 1);
    assert_eq!(task["logs_total"], logs.len(), "{}", task["logs_total"]);
    assert_eq!(task["result"], json!({"logged": 2000}));

    // A step under the cap logs everything and gets no marker.
    let small = run_step(&node, json!({"name": "Spew", "count": 5})).await;
    assert_eq!(messages(&small).len(), 5);
    assert!(!messages(&small).iter().any(|m| m.contains("dropped")));
}

#[tokio::test]
async fn logs_are_paged_by_offset_and_limit() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Spew").await.unwrap();
    let task = run_step(&node, json!({"name": "Spew", "count": 10})).await;
    let id = task["id"].as_str().unwrap();
    // By default, the whole log.
    assert_eq!(task["logs_total"], 10);
    assert_eq!(task["logs_offset"], 0);
    assert_eq!(messages(&task).len(), 10);

    let page = |query: &str| {
        let path = format!("/api/v1/tasks/{id}?{query}");
        let node = &node;
        async move { node.rest("GET", &path, None).await.unwrap() }
    };
    let (status, p) = page("logs_offset=3&logs_limit=4").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(
        (p["logs_offset"].clone(), p["logs_total"].clone()),
        (json!(3), json!(10))
    );
    let got = messages(&p);
    assert_eq!(got.len(), 4);
    for (i, m) in got.iter().enumerate() {
        assert!(m.starts_with(&format!("record {} ", i + 3)), "{m}");
    }
    // The last page is short; past the end is empty.
    let (_, p) = page("logs_offset=8&logs_limit=5").await;
    assert_eq!(messages(&p).len(), 2);
    let (_, p) = page("logs_offset=50").await;
    assert_eq!(
        (
            messages(&p).len(),
            p["logs_offset"].clone(),
            p["logs_total"].clone()
        ),
        (0, json!(10), json!(10))
    );
    let (_, p) = page("logs_limit=1").await;
    assert_eq!(messages(&p), ["record 0 "]);
    // Bad values answer 400 with the error document.
    for bad in ["logs_offset=-1", "logs_limit=abc", "logs_limit=100000000"] {
        let (status, body) = page(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| e.contains("logs_")),
            "{bad}: {body}"
        );
    }
}

#[tokio::test]
async fn a_large_result_is_fetched_from_its_own_href() {
    let node = TestNode::start_with(&[("IS_MAX_INLINE_RESULT_BYTES", "1000")])
        .await
        .unwrap();
    node.put_step("Emit").await.unwrap();
    let value = "r".repeat(5000);
    let task = run_step(&node, json!({"name": "Emit", "value": value})).await;
    let id = task["id"].as_str().unwrap();
    assert!(task["result"].is_null(), "{}", task["result"]);
    assert_eq!(task["result_size"], 5002, "the JSON text with its quotes");
    let href = format!("/api/v1/tasks/{id}/result");
    assert_eq!(task["result_href"], href.as_str());
    // GET /tasks/{id} says the same.
    let (_, again) = node
        .rest("GET", &format!("/api/v1/tasks/{id}"), None)
        .await
        .unwrap();
    assert_eq!(again["result_href"], href.as_str());

    let (status, content_type, body) = node.get_raw(&href).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!(value));
    let (status, content_type, pickle) = node.get_raw(&format!("{href}?format=pickle")).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/octet-stream");
    assert_eq!(pickle.first(), Some(&0x80), "a pickle starts with PROTO");
    let (status, body) = node
        .rest("GET", &format!("{href}?format=xml"), None)
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");

    // iscli fetches it and shows it whole.
    let shown = node.iscli(&["task", "show", id]);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains(&value),
        "iscli shows the whole result"
    );

    // A small result shows inline, with no size or href.
    let small = run_step(&node, json!({"name": "Emit", "value": "fits"})).await;
    assert_eq!(small["result"], "fits");
    let keys = small.as_object().unwrap();
    assert!(
        !keys.contains_key("result_size") && !keys.contains_key("result_href"),
        "{small}"
    );

    // A failed task has no result: 404 with the error document.
    node.put_step("Boom").await.unwrap();
    let (status, failed) = node
        .rest(
            "POST",
            "/api/v1/steps/run?wait=30",
            Some(&json!({"name": "Boom"})),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, failed["state"].as_str()),
        (200, Some("FAILURE")),
        "{failed}"
    );
    let path = format!("/api/v1/tasks/{}/result", failed["id"].as_str().unwrap());
    let (status, body) = node.rest("GET", &path, None).await.unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("no result")),
        "{body}"
    );

    // No task: 404 too.
    let (status, body) = node
        .rest("GET", "/api/v1/tasks/no-such-task/result", None)
        .await
        .unwrap();
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].is_string(), "{body}");
}
