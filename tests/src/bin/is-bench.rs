//! Benchmark driver (not a test): measures a running node and prints one JSON
//! object. Used by the scripts in `tests/bench/`.
//!
//! `is-bench content-writes --port P --password PW [--count N]`: N sequential
//! `POST /api/v1/configurations`, each a Raft write with fsync; prints the
//! latency percentiles.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::json;

struct Opts {
    port: u16,
    password: String,
    count: usize,
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut opts = Opts {
        port: 8080,
        password: std::env::var("IS_ADMIN_PASSWORD").unwrap_or_default(),
        count: 1000,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--port" => opts.port = value()?.parse()?,
            "--password" => opts.password = value()?.clone(),
            "--count" => opts.count = value()?.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    Ok(opts)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn content_writes(o: &Opts) -> Result<serde_json::Value> {
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/api/v1/configurations", o.port);
    let mut lat = Vec::with_capacity(o.count);
    let start = Instant::now();
    for i in 0..o.count {
        let doc = json!({"name": format!("bench-{i}"), "configuration_data": [
            {"name": "host", "value": "10.0.0.1"}, {"name": "pw", "value": "x", "encrypted": true}]});
        let t = Instant::now();
        let resp = http
            .post(&url)
            .basic_auth("isadmin", Some(&o.password))
            .json(&doc)
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("write {i} failed: {} {}", resp.status(), resp.text().await?);
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    Ok(json!({
        "writes": o.count,
        "p50_ms": (percentile(&lat, 0.50) * 1000.0).round() / 1000.0,
        "p99_ms": (percentile(&lat, 0.99) * 1000.0).round() / 1000.0,
        "max_ms": (lat[lat.len() - 1] * 1000.0).round() / 1000.0,
        "writes_per_s": (o.count as f64 / total).round(),
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        bail!("usage: is-bench content-writes --port P --password PW [--count N]");
    };
    let opts = parse(rest)?;
    let result = match cmd.as_str() {
        "content-writes" => content_writes(&opts).await?,
        other => bail!("unknown benchmark {other}; known: content-writes"),
    };
    println!("{result}");
    Ok(())
}
