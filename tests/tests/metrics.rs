//! `GET /metrics` (issue 15): the Prometheus text exposition of a node,
//! read by a strict parser (every line a `# HELP`, a `# TYPE` or a sample of
//! a declared family; no series twice), needing credentials like any other
//! call (a viewer's API key as a Bearer token, as Prometheus sends it), and
//! its figures moving with a run: the run and its step task appear as
//! STARTED under their application while the step waits, the worker counts
//! busy, and both go once the run ends; requests are counted by route
//! template and gRPC method.

use std::time::Duration;

use is_proto::v1::Empty;
use is_tests::prometheus::{self, Exposition};
use is_tests::{Auth, Markers, TestNode};
use serde_json::json;

const RUN_WITHIN: Duration = Duration::from_secs(60);

async fn scrape(node: &TestNode, key: &str) -> Exposition {
    prometheus::scrape(node, Some(key)).await
}

async fn scrape_until(
    node: &TestNode,
    key: &str,
    what: &str,
    want: impl Fn(&Exposition) -> bool,
) -> Exposition {
    prometheus::scrape_until(node, Some(key), RUN_WITHIN, what, want).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_need_credentials_and_move_with_a_run() {
    let node = TestNode::start().await.unwrap();

    // Without credentials, a browser or not: 401, never the web UI's page.
    for accept in ["text/plain", "text/html,application/xhtml+xml"] {
        let resp = node
            .http
            .get(node.url("/metrics"))
            .header("accept", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "Accept: {accept}");
    }

    // A viewer's API key is enough (what a Prometheus scrape config holds).
    let viewer = json!({"name": "prom", "password": "a long scraper password", "role": "viewer"});
    let (status, body) = node.rest("POST", "/api/v1/users", Some(&viewer)).await.unwrap();
    assert!(matches!(status, 200 | 201), "{body}");
    let as_viewer = Auth::Basic("prom", "a long scraper password");
    let (status, created) = node
        .call_as(
            as_viewer,
            "POST",
            "/api/v1/apikeys",
            Some(&json!({"label": "prometheus"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_string();

    node.put_step("Emit").await.unwrap();
    let markers = Markers::new().unwrap();
    let napper = json!({"name": "napper",
        "steps": [{"name": "nap", "file": "Emit", "wait_for": markers.path("wake")}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&napper))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    let before = scrape(&node, &key).await;
    let started = [("application", "napper"), ("state", "STARTED")];
    assert_eq!(before.get("is_runs_active", &started), None);
    assert_eq!(before.types["is_runs_active"], "gauge");
    assert_eq!(before.types["is_http_requests_total"], "counter");
    assert_eq!(before.one("is_raft_has_leader"), 1.0);
    assert_eq!(before.one("is_raft_is_leader"), 1.0);
    assert_eq!(before.one("is_raft_leader_id"), before.one("is_node_id"));
    assert!(before.one("is_raft_term") >= 1.0);
    assert!(before.one("is_raft_applied_index") >= 1.0);
    assert!(before.one("is_raft_last_log_index") >= before.one("is_raft_applied_index"));
    assert!(before.one("is_raft_log_bytes") > 0.0);
    assert!(before.one("is_store_bytes") > 0.0);
    assert_eq!(before.one("is_storage_fault"), 0.0);
    assert_eq!(before.one("is_cluster_members"), 1.0);
    let node_id = before.one("is_node_id").to_string();
    let busy = [("node", node_id.as_str()), ("state", "busy")];
    assert_eq!(before.get("is_workers", &busy), Some(0.0));
    let idle = before
        .get("is_workers", &[("node", &node_id), ("state", "idle")])
        .unwrap();
    assert!(idle >= 1.0);
    assert_eq!(
        before.get("is_cluster_member_up", &[("node", &node_id)]),
        Some(1.0)
    );

    let (status, run) = node
        .rest("POST", "/api/v1/applications/napper/run", Some(&json!({})))
        .await
        .unwrap();
    assert!(matches!(status, 200..=202), "{run}");
    let during = scrape_until(&node, &key, "napper's run STARTED", |e| {
        e.get("is_runs_active", &started) == Some(1.0)
            && e.get("is_step_tasks_active", &started) == Some(1.0)
            && e.get("is_workers", &busy) == Some(1.0)
    })
    .await;
    assert_eq!(
        during.get("is_workers", &[("node", &node_id), ("state", "idle")]),
        Some(idle - 1.0)
    );

    markers.set("wake").unwrap();
    let done = node
        .wait_terminal(run["id"].as_str().unwrap(), RUN_WITHIN)
        .await
        .unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let after = scrape_until(&node, &key, "napper's run gone from the active ones", |e| {
        e.series
            .keys()
            .filter(|k| k.contains("_active{"))
            .all(|k| !k.contains("application=\"napper\""))
            && e.get("is_workers", &busy) == Some(0.0)
    })
    .await;
    assert!(after.one("is_raft_applied_index") > before.one("is_raft_applied_index"));
    let succeeded = [("application", "napper"), ("state", "SUCCESS")];
    assert_eq!(after.get("is_runs_finished_total", &succeeded), Some(1.0));

    // Requests by route template, never by raw path; refused ones too.
    let run_route = [
        ("method", "POST"),
        ("route", "/api/v1/applications/{name}/run"),
        ("status", &status.to_string()),
    ];
    assert_eq!(after.get("is_http_requests_total", &run_route), Some(1.0));
    let refused = [("method", "GET"), ("route", "/metrics"), ("status", "401")];
    assert_eq!(after.get("is_http_requests_total", &refused), Some(2.0));
    assert!(
        after
            .series
            .keys()
            .all(|k| !k.contains("/api/v1/applications/napper")),
        "a raw path became a label"
    );

    // gRPC calls by method and status code.
    let mut grpc = node.grpc().await.unwrap();
    grpc.about(Empty {}).await.unwrap();
    let about = [
        ("service", "integration.v1.IntegrationService"),
        ("method", "About"),
        ("code", "Ok"),
    ];
    let counted = scrape(&node, &key).await;
    assert_eq!(counted.get("is_grpc_requests_total", &about), Some(1.0));
}
