//! The probes of load balancers, Kubernetes and scripts, at the root of the
//! listener and outside `/api/v1` (so not in the OpenAPI document, which
//! describes the REST bridge): `GET /health` answers 200 `{"status":"ok"}`
//! while the process serves HTTP; `GET /ready` answers 200
//! `{"status":"ready"}` when this node can serve the API, else 503 with one
//! status word (`decide`). Both need no credentials and say nothing more
//! than that word: they are public, and answered to every client (the web
//! UI never takes these paths, `api::web_ui`).
//!
//! **Invariant:** `/ready` answers 200 only when the node is bootstrapped,
//! so a request with correct credentials is never refused as unknown then
//! (`api::auth` answers 503 `starting` before that). Checked by
//! `tests/tests/readiness.rs`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::actors::shared::NodeShared;
use crate::raft::{membership, Leadership, Raft};
use crate::store::ContentHandle;

/// Where the liveness probe is answered.
pub const HEALTH_PATH: &str = "/health";
/// Where the readiness probe is answered.
pub const READY_PATH: &str = "/ready";

/// How long one check that the data directory takes a write holds: the
/// probe is public, so a flood of probes writes at most once per period.
const STORAGE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Whether a request is for one of the probes (passed before
/// authentication, `api::auth`).
pub fn is_probe(path: &str) -> bool {
    path == HEALTH_PATH || path == READY_PATH
}

/// What `/ready` answers, from the first reason this node cannot serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ready,
    /// The data directory takes no writes, or Raft stopped on a storage error.
    StorageFailed,
    /// SIGTERM: the node finishes its steps and takes no new work.
    Draining,
    /// The cluster's state (its key and administrator) is not here yet.
    Starting,
    /// The node is not in the membership it knows (removed, or not yet added).
    NotMember,
    /// No leader is known: writes would fail.
    NoLeader,
    /// Fewer of the node's configured workers run than it has.
    WorkersDown,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::StorageFailed => "storage-failed",
            Status::Draining => "draining",
            Status::Starting => "starting",
            Status::NotMember => "not-member",
            Status::NoLeader => "no-leader",
            Status::WorkersDown => "workers-down",
        }
    }
}

/// What readiness is decided from.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub storage_ok: bool,
    pub draining: bool,
    pub bootstrapped: bool,
    pub member: bool,
    pub leader_known: bool,
    pub workers_up: usize,
    pub workers_configured: usize,
}

/// The first reason the node cannot serve, in the order an operator should
/// fix them, or `Ready`.
pub fn decide(f: &Facts) -> Status {
    if !f.storage_ok {
        Status::StorageFailed
    } else if f.draining {
        Status::Draining
    } else if !f.bootstrapped {
        Status::Starting
    } else if !f.member {
        Status::NotMember
    } else if !f.leader_known {
        Status::NoLeader
    } else if f.workers_up < f.workers_configured {
        Status::WorkersDown
    } else {
        Status::Ready
    }
}

/// What the probes read: the node's Raft member, its state, its actors'
/// shared flags and its data directory.
#[derive(Clone)]
pub struct Readiness {
    raft: Raft,
    content: ContentHandle,
    shared: NodeShared,
    workers_configured: usize,
    probe_file: PathBuf,
    /// When the data directory last took a write, and whether it did.
    last_write: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl Readiness {
    pub fn new(
        raft: Raft,
        content: ContentHandle,
        shared: NodeShared,
        workers_configured: usize,
        data_dir: PathBuf,
    ) -> Readiness {
        Readiness {
            raft,
            content,
            shared,
            workers_configured,
            probe_file: data_dir.join("ready-probe"),
            last_write: Arc::default(),
        }
    }

    /// Raft is running, no writer of its storage is retrying a failed
    /// write (`store::health`), and the data directory took a write within
    /// the last [`STORAGE_CHECK_EVERY`].
    async fn storage_ok(&self) -> bool {
        if self.raft.metrics().borrow().running_state.is_err() {
            return false;
        }
        if self.content.storage_health().is_faulted() {
            return false;
        }
        let now = Instant::now();
        let last = *self.last_write.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, ok)) = last {
            if now.duration_since(at) < STORAGE_CHECK_EVERY {
                return ok;
            }
        }
        let written = tokio::fs::write(&self.probe_file, b"ok\n").await;
        if let Err(e) = &written {
            tracing::warn!(file = %self.probe_file.display(), error = %e, "the data directory takes no writes: not ready");
        }
        let ok = written.is_ok();
        *self.last_write.lock().unwrap_or_else(|p| p.into_inner()) = Some((now, ok));
        ok
    }

    pub async fn status(&self) -> Status {
        let storage_ok = self.storage_ok().await;
        let bootstrapped = {
            let sm = self.content.read();
            sm.content.cluster.is_some() && !sm.content.users.is_empty()
        };
        decide(&Facts {
            storage_ok,
            draining: self.shared.draining.is_set(),
            bootstrapped,
            member: membership::is_member(&self.raft),
            leader_known: self.raft.leadership() != Leadership::Unknown,
            workers_up: self.shared.workers_up.count(),
            workers_configured: self.workers_configured,
        })
    }
}

fn answer(status: StatusCode, word: &'static str) -> Response {
    let mut resp = (status, axum::Json(serde_json::json!({ "status": word }))).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `GET /health`: the process serves HTTP.
pub async fn health() -> Response {
    answer(StatusCode::OK, "ok")
}

/// `GET /ready`: 200 when this node can serve the API, else 503 and why.
pub async fn ready(State(readiness): State<Readiness>) -> Response {
    match readiness.status().await {
        Status::Ready => answer(StatusCode::OK, Status::Ready.word()),
        not => answer(StatusCode::SERVICE_UNAVAILABLE, not.word()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_facts() -> Facts {
        Facts {
            storage_ok: true,
            draining: false,
            bootstrapped: true,
            member: true,
            leader_known: true,
            workers_up: 2,
            workers_configured: 2,
        }
    }

    #[test]
    fn ready_only_when_every_fact_holds() {
        assert_eq!(decide(&ready_facts()), Status::Ready);
        type Change = fn(&mut Facts);
        let cases: [(Change, Status); 6] = [
            (|f| f.storage_ok = false, Status::StorageFailed),
            (|f| f.draining = true, Status::Draining),
            (|f| f.bootstrapped = false, Status::Starting),
            (|f| f.member = false, Status::NotMember),
            (|f| f.leader_known = false, Status::NoLeader),
            (|f| f.workers_up = 1, Status::WorkersDown),
        ];
        for (change, want) in cases {
            let mut f = ready_facts();
            change(&mut f);
            assert_eq!(decide(&f), want, "{f:?}");
        }
    }

    #[test]
    fn a_fresh_node_is_starting_whatever_else_it_lacks() {
        let f = Facts {
            bootstrapped: false,
            member: false,
            leader_known: false,
            workers_up: 0,
            ..ready_facts()
        };
        assert_eq!(decide(&f), Status::Starting);
        // A node with no workers configured (API only) needs none running.
        let f = Facts {
            workers_up: 0,
            workers_configured: 0,
            ..ready_facts()
        };
        assert_eq!(decide(&f), Status::Ready);
    }

    #[test]
    fn probes_are_exactly_two_paths() {
        assert!(is_probe("/health") && is_probe("/ready"));
        for other in ["/ready/", "/api/v1/ready", "/healthz", "/"] {
            assert!(!is_probe(other), "{other}");
        }
    }

    #[tokio::test]
    async fn health_answers_ok_and_is_not_cached() {
        let resp = health().await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.unwrap();
        assert_eq!(body.as_ref(), br#"{"status":"ok"}"#);
    }
}
