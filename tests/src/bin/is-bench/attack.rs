//! The listener and login under attack (issue 13): what a burst of logins
//! or a flood of idle connections costs the node, and whether it keeps
//! answering meanwhile.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::Opts;

/// `VmRSS` and `VmHWM` (peak) of process `pid`, in MiB.
fn memory_mib(pid: u32) -> Result<(f64, f64)> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).context("read the node's /proc status")?;
    let field = |name: &str| -> f64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| (kb / 1024.0 * 10.0).round() / 10.0)
    };
    Ok((field("VmRSS:"), field("VmHWM:")))
}

fn pid_of(o: &Opts) -> Result<u32> {
    o.pid.context("--pid PID (the node's process) is required")
}

/// `--count` concurrent `GET /about` with the administrator's correct
/// password on fresh connections: time to the last answer, the answers,
/// and the node's resident memory before and at its peak.
pub(crate) async fn login_burst(o: &Opts) -> Result<Value> {
    let pid = pid_of(o)?;
    let (rss_before, _) = memory_mib(pid)?;
    let url = format!("http://127.0.0.1:{}/api/v1/about", o.port);
    let start = Instant::now();
    let calls: Vec<_> = (0..o.count)
        .map(|_| {
            let (url, pw) = (url.clone(), o.password.clone());
            tokio::spawn(async move {
                // A client each: no connection is shared.
                let http = reqwest::Client::new();
                let r = http.get(&url).basic_auth("isadmin", Some(pw)).send().await;
                (r.map(|r| r.status().as_u16()).unwrap_or(0), start.elapsed())
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut last = Duration::ZERO;
    for c in calls {
        let (status, at) = c.await?;
        *statuses.entry(status).or_default() += 1;
        last = last.max(at);
    }
    let (rss_after, peak) = memory_mib(pid)?;
    Ok(json!({
        "logins": o.count,
        "answers": statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "last_answer_s": (last.as_secs_f64() * 1000.0).round() / 1000.0,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "peak_rss_mib": peak,
    }))
}

/// Whether the node still holds `s` open (a read would wait, not end).
fn is_open(s: &tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 1];
    matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Opens `--count` connections that send nothing and holds them; while
/// they are open, an authenticated `GET /about` on a new connection must
/// be answered. Reports how many the node accepted, how long it answered
/// meanwhile, and how many it still held after its header-read timeout.
pub(crate) async fn idle_flood(o: &Opts) -> Result<Value> {
    let addr = format!("127.0.0.1:{}", o.port);
    let mut held = Vec::with_capacity(o.count);
    let mut refused = 0usize;
    for _ in 0..o.count {
        match tokio::net::TcpStream::connect(&addr).await {
            Ok(s) => held.push(s),
            Err(_) => refused += 1,
        }
    }
    // Let the node accept them all, then count those it keeps open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let open_before = held.iter().filter(|s| is_open(s)).count();
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/about");
    let asked = Instant::now();
    let answer = http
        .get(&url)
        .basic_auth("isadmin", Some(&o.password))
        .send()
        .await;
    let answered_ms = asked.elapsed().as_secs_f64() * 1000.0;
    let status = answer.map(|r| r.status().as_u16()).unwrap_or(0);
    // Past the header-read timeout (10 s by default) the node has closed
    // every silent connection: a read sees the end of the stream.
    tokio::time::sleep(Duration::from_secs(o.wait_seconds)).await;
    let still_open = held.iter().filter(|s| is_open(s)).count();
    Ok(json!({
        "idle_connections_opened": held.len(),
        "connect_refused": refused,
        "held_open_during_flood": open_before,
        "about_status_during_flood": status,
        "about_answered_ms": (answered_ms * 10.0).round() / 10.0,
        "still_open_after_s": o.wait_seconds,
        "still_open": still_open,
    }))
}
