//! Metrics and traces of step attempts (issue 15): the step duration and
//! queue wait histograms and the finished counters of `GET /metrics` move
//! with a run of three steps (and read as valid histograms), a runner that
//! dies is counted as restarted; and a node configured with an OTLP
//! endpoint posts one span per step attempt there, all in the run's trace
//! under the run's root span, including when it stops before its batch
//! delay is up (the spans are flushed at exit); on three nodes, the spans
//! each node posts for its steps of one run share the run's trace.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use is_tests::cluster::LocalCluster;
use is_tests::prometheus::{self, Exposition};
use is_tests::{poll, step_source, Markers, Progress, TestNode};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::{json, Value};

const WITHIN: Duration = Duration::from_secs(60);

/// Three steps in a chain, each handing its data to the next.
fn trio() -> Value {
    json!({"name": "trio", "steps": [
        {"name": "first", "file": "Modes", "mode": "ok", "output_to": ["second"]},
        {"name": "second", "file": "Modes", "mode": "ok", "output_to": ["third"]},
        {"name": "third", "file": "Modes", "mode": "ok"}]})
}

/// Uploads the step and the application, runs it and waits for SUCCESS;
/// answers the run id.
async fn run_trio(node: &TestNode) -> String {
    node.put_step("Modes").await.unwrap();
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&trio()))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, run) = node
        .rest("POST", "/api/v1/applications/trio/run", Some(&json!({})))
        .await
        .unwrap();
    assert!(matches!(status, 200..=202), "{run}");
    let id = run["id"].as_str().unwrap().to_string();
    let done = node.wait_terminal(&id, WITHIN).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    id
}

async fn scrape(node: &TestNode) -> Exposition {
    prometheus::scrape(node, None).await
}

async fn scrape_until(node: &TestNode, what: &str, want: impl Fn(&Exposition) -> bool) -> Exposition {
    prometheus::scrape_until(node, None, WITHIN, what, want).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn histograms_and_counters_move_with_runs_and_a_dead_runner_is_counted() {
    let node = TestNode::start_with(&[("IS_WORKERS", "1")]).await.unwrap();
    let before = scrape(&node).await;
    assert_eq!(before.types["is_step_duration_seconds"], "histogram");
    assert_eq!(before.types["is_queue_wait_seconds"], "histogram");
    assert_eq!(before.types["is_runner_restarts_total"], "counter");
    assert_eq!(before.types["is_runs_finished_total"], "counter");
    let trio_ok = [("application", "trio"), ("state", "SUCCESS")];
    assert_eq!(before.get("is_step_duration_seconds_count", &trio_ok), None);
    let waits = |e: &Exposition| {
        e.get("is_queue_wait_seconds_count", &[("queue", "default")])
            .unwrap_or(0.0)
    };

    run_trio(&node).await;
    let after = scrape_until(&node, "the trio's run counted as finished", |e| {
        e.get("is_runs_finished_total", &trio_ok) == Some(1.0)
    })
    .await;
    assert_eq!(after.get("is_step_tasks_finished_total", &trio_ok), Some(3.0));
    // One observation per attempt, each in the +Inf bucket too.
    assert_eq!(after.get("is_step_duration_seconds_count", &trio_ok), Some(3.0));
    let inf = [("application", "trio"), ("state", "SUCCESS"), ("le", "+Inf")];
    assert_eq!(after.get("is_step_duration_seconds_bucket", &inf), Some(3.0));
    assert!(after.get("is_step_duration_seconds_sum", &trio_ok).unwrap() > 0.0);
    assert_eq!(waits(&after) - waits(&before), 3.0);
    assert_eq!(after.get("is_runner_restarts_total", &[("reason", "died")]), None);

    // A step that ends its runner's process: a failed attempt, a restart.
    let (status, body) = node
        .rest(
            "POST",
            "/api/v1/steps/run?wait=30",
            Some(&json!({"name": "Modes", "mode": "os_exit"})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "FAILURE", "{body}");
    let alone_failed = [("application", ""), ("state", "FAILURE")];
    let died = scrape_until(&node, "the dead runner counted", |e| {
        e.get("is_runner_restarts_total", &[("reason", "died")]) == Some(1.0)
            && e.get("is_step_tasks_finished_total", &alone_failed) == Some(1.0)
    })
    .await;
    assert_eq!(
        died.get("is_step_duration_seconds_count", &alone_failed),
        Some(1.0)
    );
    assert_eq!(waits(&died) - waits(&before), 4.0);
}

/// What the receiver got: every span posted, with its resource's attributes.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<Span>>>);

impl Received {
    fn spans(&self) -> Vec<Span> {
        self.0.lock().unwrap().clone()
    }
}

async fn accept(State(got): State<Received>, body: Bytes) -> &'static str {
    let request = ExportTraceServiceRequest::decode(body).expect("an OTLP protobuf export request");
    let mut spans = got.0.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            spans.extend(scope.spans);
        }
    }
    ""
}

/// Starts the OTLP/HTTP receiver on a free port; answers its base URL.
async fn receiver(got: Received) -> String {
    let app = axum::Router::new()
        .route("/v1/traces", post(accept))
        .with_state(got);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
        .map(|v| match v {
            AnyValue::StringValue(s) => s.clone(),
            AnyValue::IntValue(i) => i.to_string(),
            other => format!("{other:?}"),
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_is_one_trace_with_a_span_per_step_attempt_flushed_at_exit() {
    let got = Received::default();
    let endpoint = receiver(got.clone()).await;
    // A batch delay far longer than the test: the spans can only arrive
    // through the flush when the node stops.
    let mut node = TestNode::start_with(&[
        ("IS_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "3600000"),
    ])
    .await
    .unwrap();
    let run_id = run_trio(&node).await;
    node.send_term().unwrap();
    let status = node.wait_exit(WITHIN).await.unwrap();
    assert!(status.success(), "{status}");

    let spans = poll(WITHIN, async || {
        let spans = got.spans();
        Ok(if spans.len() >= 4 {
            Progress::Done(spans)
        } else {
            Progress::NotYet(format!("{} spans", spans.len()))
        })
    })
    .await
    .unwrap();
    let (roots, attempts): (Vec<_>, Vec<_>) = spans.iter().partition(|s| s.parent_span_id.is_empty());
    assert_eq!(roots.len(), 1, "one root span: {roots:?}");
    let root = roots[0];
    assert_eq!(root.name, "run trio");
    assert_eq!(attribute(root, "run_id").as_deref(), Some(run_id.as_str()));
    assert_eq!(attribute(root, "state").as_deref(), Some("SUCCESS"));
    // The trace id is the run id's UUID.
    let uuid = run_id.trim_start_matches("isapp-").replace('-', "");
    let mut steps = Vec::new();
    for span in &attempts {
        assert_eq!(hex(&span.trace_id), uuid, "{span:?}");
        assert_eq!(span.parent_span_id, root.span_id, "{span:?}");
        assert_eq!(attribute(span, "run_id").as_deref(), Some(run_id.as_str()));
        assert_eq!(attribute(span, "application").as_deref(), Some("trio"));
        assert_eq!(attribute(span, "state").as_deref(), Some("SUCCESS"));
        assert_eq!(attribute(span, "attempt").as_deref(), Some("1"));
        assert_eq!(attribute(span, "queue").as_deref(), Some("default"));
        assert!(attribute(span, "task_id").is_some_and(|t| t.starts_with(&uuid[..8])));
        assert!(attribute(span, "worker").is_some_and(|w| w.starts_with("node1/")));
        assert_eq!(span.name, format!("step {}", attribute(span, "step").unwrap()));
        steps.push(attribute(span, "step").unwrap());
    }
    assert_eq!(hex(&root.trace_id), uuid);
    steps.sort();
    assert_eq!(steps, ["first", "second", "third"], "one span per attempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spans_of_a_run_on_three_nodes_share_its_trace() {
    let got = Received::default();
    let endpoint = receiver(got.clone()).await;
    // One worker per node: three steps running at once run on three nodes.
    let c = LocalCluster::up(
        3,
        &[
            ("IS_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("IS_WORKERS", "1"),
        ],
    )
    .await
    .unwrap();
    c.wait_healthy(WITHIN).await.unwrap();
    let markers = Markers::new().unwrap();
    let go = markers.path("go");
    c.post_ok(
        1,
        "/api/v1/steps",
        &json!({"name": "Emit", "data": step_source("Emit").unwrap()}),
    )
    .await
    .unwrap();
    let wide = json!({"name": "wide", "steps": [
        {"name": "a", "file": "Emit", "wait_for": go, "output_to": ["d"]},
        {"name": "b", "file": "Emit", "wait_for": go, "output_to": ["d"]},
        {"name": "c", "file": "Emit", "wait_for": go, "output_to": ["d"]},
        {"name": "d", "file": "Emit"}]});
    c.post_ok(1, "/api/v1/applications", &wide).await.unwrap();
    let run = c
        .post_ok(1, "/api/v1/applications/wide/run", &json!({}))
        .await
        .unwrap();
    let run_id = run["id"].as_str().unwrap().to_string();
    c.poll_until(1, &format!("/api/v1/tasks/{run_id}"), WITHIN, |_, run| {
        run["steps"]
            .as_array()
            .is_some_and(|s| s.iter().filter(|s| s["state"] == "STARTED").count() == 3)
    })
    .await
    .unwrap();
    markers.set("go").unwrap();
    let done = c.wait_terminal(1, &run_id, WITHIN).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");

    let spans = poll(WITHIN, async || {
        let spans = got.spans();
        Ok(if spans.len() >= 5 {
            Progress::Done(spans)
        } else {
            Progress::NotYet(format!("{} spans", spans.len()))
        })
    })
    .await
    .unwrap();
    assert_eq!(spans.len(), 5, "four attempts and the run: {spans:?}");
    let uuid = run_id.trim_start_matches("isapp-").replace('-', "");
    assert!(spans.iter().all(|s| hex(&s.trace_id) == uuid), "{spans:?}");
    let root = spans.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.name, "run wide");
    let mut nodes = std::collections::BTreeSet::new();
    for span in spans.iter().filter(|s| !s.parent_span_id.is_empty()) {
        assert_eq!(span.parent_span_id, root.span_id, "{span:?}");
        let step = attribute(span, "step").unwrap();
        if step != "d" {
            nodes.insert(attribute(span, "node").unwrap());
        }
    }
    assert_eq!(nodes.len(), 3, "the three parallel steps ran on three nodes");

    // A run revoked while its step runs: the attempt's span ends REVOKED
    // with an error status, and the node that revoked it emits the root.
    let held = json!({"name": "held", "steps": [
        {"name": "waits", "file": "Emit", "wait_for": markers.path("never")}]});
    c.post_ok(1, "/api/v1/applications", &held).await.unwrap();
    let run = c
        .post_ok(1, "/api/v1/applications/held/run", &json!({}))
        .await
        .unwrap();
    let held_id = run["id"].as_str().unwrap().to_string();
    let held_path = format!("/api/v1/tasks/{held_id}");
    c.poll_until(2, &held_path, WITHIN, |_, run| {
        run["steps"][0]["state"] == "STARTED"
    })
    .await
    .unwrap();
    let (status, answer) = c.rest(2, "DELETE", &held_path, None).await.unwrap();
    assert_eq!(status, 200, "{answer}");
    let held_trace = held_id.trim_start_matches("isapp-").replace('-', "");
    let spans = poll(WITHIN, async || {
        let spans: Vec<Span> = got
            .spans()
            .into_iter()
            .filter(|s| hex(&s.trace_id) == held_trace)
            .collect();
        Ok(if spans.len() >= 2 {
            Progress::Done(spans)
        } else {
            Progress::NotYet(format!("{spans:?}"))
        })
    })
    .await
    .unwrap();
    assert_eq!(spans.len(), 2, "{spans:?}");
    let root = spans.iter().find(|s| s.parent_span_id.is_empty()).unwrap();
    let attempt = spans.iter().find(|s| !s.parent_span_id.is_empty()).unwrap();
    assert_eq!(root.name, "run held");
    assert_eq!(attribute(root, "state").as_deref(), Some("REVOKED"));
    assert_eq!(attempt.parent_span_id, root.span_id);
    assert_eq!(attribute(attempt, "state").as_deref(), Some("REVOKED"));
    let status = attempt.status.as_ref().unwrap();
    assert_eq!(status.code, 2, "an error status: {status:?}");
}
