//! Benchmark driver (not a test): measures a running node (or the runner
//! binary) and prints one JSON object. Used by the scripts in `tests/bench/`.
//!
//! - `content-writes --port P --password PW [--count N]`: N sequential
//!   `POST /api/v1/configurations`, each a Raft write with fsync.
//! - `runner-start --exe ISNODE [--count N]`: spawns N Python runners one
//!   after the other; time from spawn to ready.
//! - `step-latency --port P --password PW [--count N]`: N sequential runs of
//!   the no-op step `Noop` through `POST /steps/run` (upload it first).
//! - `step-throughput --port P --password PW [--count N] [--clients C]`: N
//!   runs of `Noop` from C concurrent clients; steps per second.
//! - `runs --port P --password PW --count N`: the runs1000 shape alone, N
//!   times (for profiling).
//! - `engine --port P --password PW`: the four workflow shapes of the engine
//!   benchmark (DESIGN 5) on a fresh node, with the keys the Celery side
//!   prints: chain100_s, fanout100_join_s, windmill40_s, runs1000_per_s,
//!   dispatch_p50_ms, dispatch_p99_ms.
//! - `scale-setup`, `scale-runs`, `list-latency`: the scale benchmark
//!   (`scale.rs`).
//! - `login-burst --port P --password PW --pid PID [--count N]`,
//!   `idle-flood --port P --password PW [--count N] [--wait S]`: the node
//!   under attack (`attack.rs`).

mod attack;
mod scale;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

#[derive(Clone)]
struct Opts {
    port: u16,
    password: String,
    count: usize,
    clients: usize,
    exe: Option<PathBuf>,
    app: Option<String>,
    pid: Option<u32>,
    wait_seconds: u64,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut opts = Opts {
        port: 8080,
        password: std::env::var("IS_ADMIN_PASSWORD").unwrap_or_default(),
        count: 1000,
        clients: 8,
        exe: None,
        app: None,
        pid: None,
        wait_seconds: 12,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--port" => opts.port = value()?.parse()?,
            "--password" => opts.password = value()?.clone(),
            "--count" => opts.count = value()?.parse()?,
            "--clients" => opts.clients = value()?.parse()?,
            "--exe" => opts.exe = Some(PathBuf::from(value()?)),
            "--app" => opts.app = Some(value()?.clone()),
            "--pid" => opts.pid = Some(value()?.parse()?),
            "--wait" => opts.wait_seconds = value()?.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(opts)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// p50/p99/max of latencies given in milliseconds.
fn summary(mut lat: Vec<f64>) -> Value {
    lat.sort_by(f64::total_cmp);
    json!({
        "p50_ms": ms3(percentile(&lat, 0.50)),
        "p99_ms": ms3(percentile(&lat, 0.99)),
        "max_ms": ms3(lat[lat.len() - 1]),
    })
}

async fn post(http: &reqwest::Client, o: &Opts, path: &str, doc: &Value) -> Result<Value> {
    let url = format!("http://127.0.0.1:{}{path}", o.port);
    let resp = http
        .post(&url)
        .basic_auth("isadmin", Some(&o.password))
        .json(doc)
        .send()
        .await?;
    let status = resp.status();
    let body: Value = resp.json().await?;
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

async fn content_writes(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    let mut lat = Vec::with_capacity(o.count);
    let start = Instant::now();
    for i in 0..o.count {
        let doc = json!({"name": format!("bench-{i}"), "configuration_data": [
            {"name": "host", "value": "10.0.0.1"}, {"name": "pw", "value": "x", "encrypted": true}]});
        let t = Instant::now();
        post(&http, o, "/api/v1/configurations", &doc).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = start.elapsed().as_secs_f64();
    let mut out = summary(lat);
    out["writes"] = json!(o.count);
    out["writes_per_s"] = json!((o.count as f64 / total).round());
    Ok(out)
}

async fn runner_start(o: &Opts) -> Result<Value> {
    use is_node::python::process::{RunnerConfig, RunnerProcess};
    let exe = o.exe.clone().context("runner-start needs --exe PATH_TO_ISNODE")?;
    let lib = tempfile::tempdir()?;
    is_node::python::embedded::install(lib.path())?;
    let cfg = RunnerConfig {
        exe,
        lib_dir: lib.path().to_path_buf(),
        memory_limit_bytes: None,
        site_dirs: Vec::new(),
        sandbox: std::sync::Arc::new(is_node::python::sandbox::SandboxPlan::disabled()),
    };
    let mut lat = Vec::with_capacity(o.count);
    for _ in 0..o.count {
        let t = Instant::now();
        let mut r = RunnerProcess::spawn(&cfg).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        r.kill().await;
    }
    let mut out = summary(lat);
    out["runners"] = json!(o.count);
    Ok(out)
}

async fn run_noop(http: &reqwest::Client, o: &Opts) -> Result<()> {
    let body = post(http, o, "/api/v1/steps/run?wait=30", &json!({"name": "Noop"})).await?;
    if body["state"] != "SUCCESS" {
        bail!("the no-op step did not succeed: {body}");
    }
    Ok(())
}

async fn step_latency(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    // Warm up: the first runs load the step module in each runner.
    for _ in 0..10 {
        run_noop(&http, o).await?;
    }
    let mut lat = Vec::with_capacity(o.count);
    for _ in 0..o.count {
        let t = Instant::now();
        run_noop(&http, o).await?;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut out = summary(lat);
    out["runs"] = json!(o.count);
    Ok(out)
}

async fn step_throughput(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..o.clients {
        let (http, next) = (http.clone(), next.clone());
        let o = o.clone();
        clients.push(tokio::spawn(async move {
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < o.count {
                run_noop(&http, &o).await?;
            }
            anyhow::Ok(())
        }));
    }
    for c in clients {
        c.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({
        "runs": o.count,
        "clients": o.clients,
        "seconds": ms3(secs),
        "steps_per_s": (o.count as f64 / secs).round(),
    }))
}

/// Linear-interpolation percentile (as numpy and the Celery driver compute it).
fn percentile_linear(sorted: &[f64], p: f64) -> f64 {
    let pos = (sorted.len() as f64 - 1.0) * p;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Bench steps: each records when its body started and ended, and when the
/// step before it ended, so `start - ready` is the dispatch latency. Built
/// in, so the benchmark binary runs from anywhere.
const BENCH_STEPS: &[(&str, &str)] = &[
    (
        "BenchNoop",
        include_str!("../../../fixtures/steps/bench/BenchNoop.py"),
    ),
    (
        "BenchFibo",
        include_str!("../../../fixtures/steps/bench/BenchFibo.py"),
    ),
];

fn chain_app(name: &str, file: &str, n: usize) -> Value {
    let steps: Vec<Value> = (0..n)
        .map(|i| {
            let mut s = json!({"name": format!("s{i}"), "file": file});
            if i + 1 < n {
                s["output_to"] = json!([format!("s{}", i + 1)]);
            }
            s
        })
        .collect();
    json!({"name": name, "steps": steps})
}

fn fanout_app(name: &str, n: usize) -> Value {
    let mut steps: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("p{i}"), "file": "BenchNoop", "output_to": ["join"]}))
        .collect();
    steps.push(json!({"name": "join", "file": "BenchNoop"}));
    json!({"name": name, "steps": steps})
}

async fn get(http: &reqwest::Client, o: &Opts, path: &str) -> Result<Value> {
    let url = format!("http://127.0.0.1:{}{path}", o.port);
    let resp = http
        .get(&url)
        .basic_auth("isadmin", Some(&o.password))
        .send()
        .await?;
    Ok(resp.json().await?)
}

/// Runs an application and waits for its end; answers the wall time and status.
async fn timed_run(http: &reqwest::Client, o: &Opts, app: &str) -> Result<(f64, Value)> {
    let t = Instant::now();
    let mut status = post(http, o, "/api/v1/applications/run?wait=30", &json!({"name": app})).await?;
    while status["end_time"].is_null() {
        // Longer than the longest wait: keep waiting on the run.
        let id = status["id"].as_str().context("run id")?.to_string();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        status = get(http, o, &format!("/api/v1/tasks/{id}")).await?;
    }
    let secs = t.elapsed().as_secs_f64();
    if status["state"] != "SUCCESS" {
        bail!("run of {app} ended {}: {status}", status["state"]);
    }
    Ok((secs, status))
}

/// 1,000 one-step runs from 8 concurrent clients until all are SUCCESS;
/// answers runs per second.
async fn runs1000(http: &reqwest::Client, o: &Opts) -> Result<f64> {
    // runs1000: 1,000 one-step runs from 8 concurrent clients until all are
    // SUCCESS. As on the Celery side, each client submits its share without
    // waiting, then waits for each of its runs.
    let start = Instant::now();
    let mut clients = Vec::new();
    let n = o.clients;
    for c in 0..n {
        let http = http.clone();
        let o = o.clone();
        let share = 1000 / n + usize::from(c < 1000 % n);
        clients.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(share);
            for _ in 0..share {
                let status = post(
                    &http,
                    &o,
                    "/api/v1/applications/run?wait=0",
                    &json!({"name": "one_step"}),
                )
                .await?;
                ids.push(status["id"].as_str().context("run id")?.to_string());
            }
            for id in ids {
                let status = get(&http, &o, &format!("/api/v1/tasks/{id}?wait=30")).await?;
                if status["state"] != "SUCCESS" {
                    bail!("run {id} ended {}", status["state"]);
                }
            }
            anyhow::Ok(())
        }));
    }
    for c in clients {
        c.await??;
    }
    Ok(1000.0 / start.elapsed().as_secs_f64())
}

/// `start - ready` of each step of a finished chain run, in ms.
async fn dispatch_samples(http: &reqwest::Client, o: &Opts, status: &Value) -> Result<Vec<f64>> {
    let mut samples = Vec::new();
    for step in status["steps"].as_array().context("steps")? {
        let id = step["id"].as_str().context("step id")?;
        let task = get(http, o, &format!("/api/v1/tasks/{id}")).await?;
        if let (Some(ready), Some(start)) =
            (task["result"]["ready"].as_f64(), task["result"]["start"].as_f64())
        {
            samples.push((start - ready) * 1000.0);
        }
    }
    Ok(samples)
}

const REPEATS: usize = 5;
const RUNS_REPEATS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn engine(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    for (name, source) in BENCH_STEPS {
        post(&http, o, "/api/v1/steps", &json!({"name": name, "data": source})).await?;
    }
    for app in [
        chain_app("chain100", "BenchNoop", 100),
        fanout_app("fanout100_join", 100),
        chain_app("windmill40", "BenchFibo", 40),
        chain_app("one_step", "BenchNoop", 1),
    ] {
        post(&http, o, "/api/v1/applications", &app).await?;
    }
    // One warm-up, then the median of REPEATS timed runs of each shape (a
    // single run varies by a third on a small VM); the dispatch samples of
    // all timed chain runs are pooled. The Celery driver does the same.
    let mut out = serde_json::Map::new();
    for app in ["chain100", "fanout100_join", "windmill40"] {
        timed_run(&http, o, app).await?; // warm-up: runners load the step modules
        let mut times = Vec::new();
        let mut samples = Vec::new();
        for _ in 0..REPEATS {
            let (secs, status) = timed_run(&http, o, app).await?;
            times.push(secs);
            if app == "chain100" {
                samples.extend(dispatch_samples(&http, o, &status).await?);
            }
        }
        out.insert(format!("{app}_s"), json!(ms3(median(times))));
        if app == "chain100" {
            samples.sort_by(f64::total_cmp);
            out.insert(
                "dispatch_p50_ms".into(),
                json!(ms3(percentile_linear(&samples, 0.50))),
            );
            out.insert(
                "dispatch_p99_ms".into(),
                json!(ms3(percentile_linear(&samples, 0.99))),
            );
            out.insert("dispatch_samples".into(), json!(samples.len()));
        }
    }
    timed_run(&http, o, "one_step").await?;
    let mut rates = Vec::new();
    for _ in 0..RUNS_REPEATS {
        rates.push(runs1000(&http, o).await?);
    }
    out.insert("runs1000_per_s".into(), json!(median(rates).round()));
    out.insert(
        "durability".into(),
        json!("every state change in the fsync'd Raft log"),
    );
    Ok(Value::Object(out))
}

/// Only the runs1000 shape, repeated `--count` times (for profiling).
async fn runs_only(o: &Opts) -> Result<Value> {
    let http = reqwest::Client::new();
    let (name, source) = BENCH_STEPS[0];
    post(&http, o, "/api/v1/steps", &json!({"name": name, "data": source})).await?;
    post(
        &http,
        o,
        "/api/v1/applications",
        &chain_app("one_step", "BenchNoop", 1),
    )
    .await?;
    timed_run(&http, o, "one_step").await?;
    let mut rates = Vec::new();
    for _ in 0..o.count.max(1) {
        rates.push(runs1000(&http, o).await?);
    }
    Ok(json!({ "runs1000_per_s": rates }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        bail!("usage: is-bench BENCHMARK [options] (see the header of tests/src/bin/is-bench/main.rs)");
    };
    let opts = parse(rest)?;
    let result = match cmd.as_str() {
        "content-writes" => content_writes(&opts).await?,
        "runner-start" => runner_start(&opts).await?,
        "step-latency" => step_latency(&opts).await?,
        "step-throughput" => step_throughput(&opts).await?,
        "engine" => engine(&opts).await?,
        "runs" => runs_only(&opts).await?,
        "scale-setup" => scale::setup(&opts).await?,
        "scale-runs" => scale::runs(&opts).await?,
        "list-latency" => scale::list_latency(&opts).await?,
        "login-burst" => attack::login_burst(&opts).await?,
        "idle-flood" => attack::idle_flood(&opts).await?,
        other => bail!(
            "unknown benchmark {other}; known: content-writes, runner-start, step-latency, step-throughput, \
             engine, runs, scale-setup, scale-runs, list-latency, login-burst, idle-flood"
        ),
    };
    println!("{result}");
    Ok(())
}
