//! `GET /metrics` (issue 15): the Prometheus text exposition of a node,
//! read by a strict parser (every line a `# HELP`, a `# TYPE` or a sample of
//! a declared family; no series twice), needing credentials like any other
//! call (a viewer's API key as a Bearer token, as Prometheus sends it), and
//! its figures moving with a run: the run and its step task appear as
//! STARTED under their application while the step waits, the worker counts
//! busy, and both go once the run ends; requests are counted by route
//! template and gRPC method.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use is_proto::v1::Empty;
use is_tests::{poll, Auth, Markers, Progress, TestNode};
use serde_json::json;

const RUN_WITHIN: Duration = Duration::from_secs(60);

/// A parsed exposition: each series (`name{a="x",b="y"}`, labels sorted)
/// and its value, and each family's type.
#[derive(Debug, Default)]
struct Exposition {
    series: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
}

impl Exposition {
    /// The value of a series given by name and labels, if present.
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.series.get(&series_key(name, labels)).copied()
    }

    /// The value of the single unlabelled sample of `name`; panics without one.
    fn one(&self, name: &str) -> f64 {
        self.get(name, &[])
            .unwrap_or_else(|| panic!("no sample of {name}"))
    }
}

fn series_key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<_> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    labels.sort();
    if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", labels.join(","))
    }
}

fn is_name(s: &str, colon: bool) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':'));
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Parses the text format strictly; any line that does not fit is an error.
fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut helped = BTreeSet::new();
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("line {}: {why}: {line:?}", n + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            if !is_name(name, true) || !helped.insert(name.to_string()) {
                return Err(bad("a HELP of a bad or repeated name"));
            }
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').ok_or_else(|| bad("a TYPE without a type"))?;
            let known = ["counter", "gauge", "histogram", "summary", "untyped"];
            if !is_name(name, true) || !known.contains(&kind) {
                return Err(bad("a bad TYPE"));
            }
            if out.types.insert(name.to_string(), kind.to_string()).is_some() {
                return Err(bad("a second TYPE for one family"));
            }
        } else if line.starts_with('#') || line.is_empty() {
            return Err(bad("a comment or blank line the endpoint should not write"));
        } else {
            let (key, name, value) = sample(line).map_err(|why| bad(&why))?;
            if !out.types.contains_key(&name) {
                return Err(bad("a sample before its family's TYPE"));
            }
            if out.series.insert(key, value).is_some() {
                return Err(bad("a series given twice"));
            }
        }
    }
    Ok(out)
}

/// One sample line: its series key (labels sorted), its name and value.
fn sample(line: &str) -> Result<(String, String, f64), String> {
    let name_end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err("a bad metric name".into());
    }
    let mut rest = &line[name_end..];
    let mut labels: Vec<(String, String)> = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        rest = inner;
        loop {
            let (label, after) = rest.split_once("=\"").ok_or("a label without =\"")?;
            if !is_name(label, false) || labels.iter().any(|(l, _)| l == label) {
                return Err(format!("a bad or repeated label name {label:?}"));
            }
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().ok_or("an unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("a dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("an unknown escape \\{c}")),
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_string(), value));
            rest = &after[end + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            } else {
                return Err("labels not separated by , or closed by }".into());
            }
        }
    }
    let value = rest.strip_prefix(' ').ok_or("no space before the value")?;
    let value: f64 = match value {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().map_err(|_| format!("a bad value {v:?}"))?,
    };
    let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ok((series_key(name, &pairs), name.to_string(), value))
}

/// Scrapes `/metrics` with a Bearer token; checks the answer's type.
async fn scrape(node: &TestNode, key: &str) -> Exposition {
    let resp = node
        .http
        .get(node.url("/metrics"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Scrapes until `want` holds of the exposition.
async fn scrape_until(
    node: &TestNode,
    key: &str,
    what: &str,
    want: impl Fn(&Exposition) -> bool,
) -> Exposition {
    poll(RUN_WITHIN, async || {
        let e = scrape(node, key).await;
        Ok(if want(&e) {
            Progress::Done(e)
        } else {
            Progress::NotYet(format!("{what}: {:?}", e.series))
        })
    })
    .await
    .unwrap()
}

#[test]
fn the_parser_is_strict() {
    let good = "# HELP a_b x\n# TYPE a_b gauge\na_b{q=\"x\\\"y\",r=\"\"} 2\na_b 1.5\n";
    let e = parse(good).unwrap();
    assert_eq!(e.get("a_b", &[("r", ""), ("q", "x\"y")]), Some(2.0));
    assert_eq!(e.one("a_b"), 1.5);
    for bad in [
        "a_b 1\n",                                    // no TYPE
        "# TYPE a_b gauge\na_b 1",                    // no final newline
        "# TYPE a_b gauge\na_b{q=\"x} 1\n",           // unterminated
        "# TYPE a_b gauge\na_b{q=\"x\"} one\n",       // not a number
        "# TYPE a_b gauge\na_b 1\na_b 2\n",           // twice
        "# TYPE a_b gauge\n\na_b 1\n",                // blank line
        "# TYPE a_b gauge\na_b{1q=\"x\"} 1\n",        // bad label name
        "# TYPE a_b gauge\na_b{q=\"x\",q=\"y\"} 1\n", // repeated label
        "# TYPE a-b gauge\n",                         // bad name
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
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
        e.series.keys().all(|k| !k.contains("application=\"napper\""))
            && e.get("is_workers", &busy) == Some(0.0)
    })
    .await;
    assert!(after.one("is_raft_applied_index") > before.one("is_raft_applied_index"));

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

/// The parser and `series_key` agree on how a series is named.
#[test]
fn series_keys_sort_labels() {
    assert_eq!(series_key("m", &[("b", "2"), ("a", "1")]), "m{a=\"1\",b=\"2\"}");
}
