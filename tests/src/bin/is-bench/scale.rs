//! The scale benchmark's measurements (driven by `tests/bench/scale.sh`,
//! which also reads memory, disk and restart times):
//!
//! - `scale-setup`: uploads the one-step applications `scale_one` (a no-op)
//!   and `scale_big` (a step saving 1 MB).
//! - `scale-runs --app A --count N --clients C`: N runs of A from C
//!   concurrent clients, each waiting for its run to end before the next.
//! - `list-latency --app A --count N`: N sequential
//!   `GET /tasks?app=A&limit=50`; p50/p99/max in ms.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::{chain_app, get, post, summary, Opts};

const STEPS: [(&str, &str); 2] = [
    (
        "BenchNoop",
        include_str!("../../../fixtures/steps/bench/BenchNoop.py"),
    ),
    (
        "BenchBig",
        include_str!("../../../fixtures/steps/bench/BenchBig.py"),
    ),
];

pub(super) async fn setup(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    for (name, source) in STEPS {
        post(&http, o, "/api/v1/steps", &json!({"name": name, "data": source})).await?;
    }
    for app in [
        chain_app("scale_one", "BenchNoop", 1),
        chain_app("scale_big", "BenchBig", 1),
    ] {
        post(&http, o, "/api/v1/applications", &app).await?;
    }
    Ok(json!({"applications": ["scale_one", "scale_big"]}))
}

pub(super) async fn runs(o: &Opts) -> Result<Value> {
    let app = o.app.clone().context("--app is required")?;
    let start = Instant::now();
    let mut clients = Vec::new();
    for c in 0..o.clients {
        let share = o.count / o.clients + usize::from(c < o.count % o.clients);
        let (o, app) = (o.clone(), app.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let path = "/api/v1/applications/run?wait=30";
            let mut failed = 0usize;
            for _ in 0..share {
                let status = post(&http, &o, path, &json!({"name": app})).await?;
                if status["state"] != "SUCCESS" {
                    failed += 1;
                }
            }
            anyhow::Ok(failed)
        }));
    }
    let mut failed = 0;
    for c in clients {
        failed += c.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    if failed > 0 {
        bail!("{failed} of {} runs of {app} did not succeed", o.count);
    }
    Ok(json!({
        "runs": o.count,
        "secs": (secs * 1000.0).round() / 1000.0,
        "runs_per_s": (o.count as f64 / secs).round(),
    }))
}

pub(super) async fn list_latency(o: &Opts) -> Result<Value> {
    let app = o.app.clone().context("--app is required")?;
    let http = reqwest::Client::new();
    let path = format!("/api/v1/tasks?app={app}&limit=50");
    let mut lat = Vec::with_capacity(o.count);
    for _ in 0..o.count.max(1) {
        let t = Instant::now();
        let page = get(&http, o, &path).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        if page.as_array().is_none_or(|runs| runs.is_empty()) {
            bail!("GET {path} answered no runs: {page}");
        }
    }
    Ok(summary(lat))
}
