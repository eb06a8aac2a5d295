//! `GET /metrics`: this node's figures in the Prometheus text format,
//! most computed when scraped from what the node already holds. Each figure
//! has one owner, read here:
//!
//! - runs and step tasks not finished, by application and state:
//!   `Content::active_counts` (memory holds exactly the unfinished ones);
//! - queue depth and busy/idle workers per node: `Service::cluster_status`,
//!   the same figures `GET /cluster` answers (with each member's health
//!   and replication lag as the leader sees them);
//! - Raft: this node's openraft metrics, its exact applied index
//!   (`Raft::applied_index`) and the sizes of its files
//!   (`ContentHandle::file_sizes`), and whether its storage is faulted
//!   (`store::health`);
//! - requests: [`requests::RequestCounts`], fed by the router's middleware;
//! - finished runs and tasks, step durations, queue waits and runner
//!   restarts: counted as they happen ([`observed`], which says which node
//!   counts what).
//!
//! The endpoint sits at the root, where Prometheus looks by default, and
//! needs the `read` permission like any other call (`api::access`): scrape
//! it with a viewer's API key as a Bearer token.

pub mod observed;
pub mod requests;
pub mod text;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use is_proto::v1 as pb;

use super::Service;
use text::{Kind, Text};

/// Where the endpoint is served.
pub const PATH: &str = "/metrics";

/// The handler.
pub async fn scrape(State(s): State<Service>) -> Response {
    let cluster = s.cluster_status().await;
    let text = render(&s, &cluster);
    ([(header::CONTENT_TYPE, text::CONTENT_TYPE)], text).into_response()
}

fn render(s: &Service, cluster: &pb::ClusterStatus) -> String {
    let mut t = Text::default();
    work(&mut t, s);
    observed::finished(&mut t, &s.content().read().content.finished);
    observed::workers(&mut t, &s.telemetry().snapshot());
    workers(&mut t, cluster);
    raft(&mut t, s, cluster);
    requests(&mut t, &s.request_counts().snapshot());
    t.finish()
}

fn work(t: &mut Text, s: &Service) {
    let counts = s.content().read().content.active_counts();
    for (name, help, map) in [
        (
            "is_runs_active",
            "Application runs not finished, by application and state.",
            &counts.runs,
        ),
        (
            "is_step_tasks_active",
            "Step tasks not finished, by application (\"\" for a step run alone) and state.",
            &counts.tasks,
        ),
    ] {
        t.family(name, Kind::Gauge, help);
        for ((app, state), n) in map {
            t.sample(name, &[("application", app), ("state", state)], *n as f64);
        }
    }
}

fn workers(t: &mut Text, c: &pb::ClusterStatus) {
    let name = "is_queue_pending_tasks";
    t.family(
        name,
        Kind::Gauge,
        "Step tasks ready and waiting for a worker, by queue.",
    );
    for q in &c.queues {
        t.sample(name, &[("queue", &q.queue)], q.pending as f64);
    }
    let name = "is_workers";
    t.family(
        name,
        Kind::Gauge,
        "Workers of each node, busy (running a step task) or idle.",
    );
    for m in &c.members {
        let (Some(all), Some(busy)) = (m.workers, m.busy_workers) else {
            continue;
        };
        let node = m.id.to_string();
        t.sample(name, &[("node", &node), ("state", "busy")], busy as f64);
        t.sample(
            name,
            &[("node", &node), ("state", "idle")],
            all.saturating_sub(busy) as f64,
        );
    }
    let name = "is_cluster_member_up";
    t.family(
        name,
        Kind::Gauge,
        "1 when a member answers the leader, 0 when it does not; absent while unknown.",
    );
    for m in &c.members {
        let up = match m.health.as_str() {
            "up" => 1.0,
            "down" => 0.0,
            _ => continue,
        };
        t.sample(name, &[("node", &m.id.to_string())], up);
    }
    let name = "is_cluster_member_replication_lag";
    t.family(
        name,
        Kind::Gauge,
        "Log entries a member is behind the leader (as the leader sees it).",
    );
    for m in &c.members {
        if let Some(lag) = m.replication_lag {
            t.sample(name, &[("node", &m.id.to_string())], lag as f64);
        }
    }
}

fn raft(t: &mut Text, s: &Service, c: &pb::ClusterStatus) {
    let m = s.raft().metrics().borrow().clone();
    let applied = s.raft().applied_index();
    let last_log = m.last_log_index.unwrap_or(0);
    let files = s.content().file_sizes();
    let index = |l: Option<openraft::LogId<crate::store::NodeId>>| l.map_or(0, |l| l.index) as f64;
    let is_leader = m.current_leader == Some(m.id) && m.state.is_leader();
    let gauges = [
        ("is_node_id", "This node's id.", m.id as f64),
        (
            "is_cluster_members",
            "Members of the cluster (voters and learners).",
            c.members.len() as f64,
        ),
        (
            "is_raft_term",
            "The Raft term this node is in.",
            m.current_term as f64,
        ),
        (
            "is_raft_has_leader",
            "1 when this node knows a leader, else 0.",
            f64::from(u8::from(m.current_leader.is_some())),
        ),
        (
            "is_raft_leader_id",
            "The leader this node knows (0: none).",
            m.current_leader.unwrap_or(0) as f64,
        ),
        (
            "is_raft_is_leader",
            "1 when this node is the leader, else 0.",
            f64::from(u8::from(is_leader)),
        ),
        (
            "is_raft_last_log_index",
            "The index of the last entry in this node's log.",
            last_log as f64,
        ),
        (
            "is_raft_applied_index",
            "The index of the last entry applied to this node's state.",
            applied as f64,
        ),
        (
            "is_raft_apply_lag",
            "Entries in this node's log not applied yet (last log index minus applied index).",
            last_log.saturating_sub(applied) as f64,
        ),
        (
            "is_raft_snapshot_index",
            "The last index this node's snapshot holds.",
            index(m.snapshot),
        ),
        (
            "is_raft_purged_index",
            "The last index purged from this node's log.",
            index(m.purged),
        ),
        (
            "is_raft_log_bytes",
            "Size of this node's Raft log file (raft/log.dat).",
            files.log as f64,
        ),
        (
            "is_raft_snapshot_bytes",
            "Size of this node's snapshot file (raft/snapshot.bin).",
            files.snapshot as f64,
        ),
        (
            "is_store_bytes",
            "Size of this node's state machine store (raft/state.redb).",
            files.store as f64,
        ),
        (
            "is_storage_fault",
            "1 while this node's disk takes no writes (full or failing: writes wait, /ready says storage-failed), else 0.",
            f64::from(u8::from(s.content().storage_health().is_faulted())),
        ),
        (
            "is_node_uptime_seconds",
            "Seconds since this node started.",
            s.about().uptime_seconds as f64,
        ),
    ];
    for (name, help, value) in gauges {
        t.single(name, Kind::Gauge, help, value);
    }
}

fn requests(t: &mut Text, counts: &[(requests::Key, u64)]) {
    use requests::Key;
    let http = "is_http_requests_total";
    t.family(
        http,
        Kind::Counter,
        "HTTP requests answered by this node, by method, route template (fallback: no route) and status.",
    );
    for (key, n) in counts {
        if let Key::Http {
            method,
            route,
            status,
        } = key
        {
            let status = status.to_string();
            t.sample(
                http,
                &[("method", method), ("route", route), ("status", &status)],
                *n as f64,
            );
        }
    }
    let grpc = "is_grpc_requests_total";
    t.family(
        grpc,
        Kind::Counter,
        "gRPC calls answered by this node, by service, method and status code.",
    );
    for (key, n) in counts {
        if let Key::Grpc {
            service,
            method,
            code,
        } = key
        {
            t.sample(
                grpc,
                &[("service", service), ("method", method), ("code", code)],
                *n as f64,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    /// The `is_…` metric names a text uses (a name ends at the first
    /// character that cannot be part of one).
    fn names_in(text: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("is_") {
            let starts_a_name = rest[..at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            if starts_a_name {
                names.push(tail[..end].to_string());
            }
            rest = &tail[end..];
        }
        names
    }

    /// The alert rules and the dashboard under `deploy/` use only names
    /// this module writes.
    #[test]
    fn metric_names_in_deploy_are_written_by_the_node() {
        let deploy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy");
        let source = [include_str!("mod.rs"), include_str!("observed.rs")].concat();
        let mut checked = 0;
        for file in ["prometheus/alerts.yml", "grafana/integration-service.json"] {
            let text = std::fs::read_to_string(deploy.join(file)).unwrap();
            for name in names_in(&text) {
                // A histogram's series are its name and a suffix.
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s))
                    .filter(|base| source.contains(&format!("\"{base}\"")))
                    .unwrap_or(&name);
                assert!(
                    source.contains(&format!("\"{family}\"")),
                    "{file} uses {name}, which GET /metrics does not write"
                );
                checked += 1;
            }
        }
        assert!(checked > 20, "found only {checked} metric names");
    }

    #[test]
    fn names_are_found_whole() {
        assert_eq!(
            names_in("rate(is_http_requests_total[5m]) this_is_not max(is_raft_term)"),
            vec!["is_http_requests_total", "is_raft_term"]
        );
    }
}
