//! Readiness (issue 15): a node called with correct credentials from the
//! moment it binds never answers 401 — only 503 `starting` (with
//! `Retry-After`; gRPC UNAVAILABLE) until it can serve, then success — and
//! its probes `/health` and `/ready` answer without credentials: `/health`
//! at once, `/ready` 503 until the node serves and again once its cluster
//! has no leader.

use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use is_tests::cluster::LocalCluster;

use is_tests::{poll, step_source, Progress, TestNode, PASSWORD};
use serde_json::{json, Value};

/// How long a client keeps calling before the test gives up: a bound, not
/// an assertion about time.
const GIVE_UP: Duration = Duration::from_secs(60);

/// What one client saw: answers 503 `starting` before its successes.
#[derive(Debug, Default)]
struct Seen {
    starting: usize,
    succeeded: usize,
}

/// Calls `method path` with the administrator's password in a tight loop
/// until it has succeeded `want` times; fails at any answer other than
/// success or 503 `starting` with `Retry-After`.
async fn hammer(node: &TestNode, method: &str, path: &str, body: Option<Value>, want: usize) -> Result<Seen> {
    let mut seen = Seen::default();
    let until = Instant::now() + GIVE_UP;
    while seen.succeeded < want {
        ensure!(
            Instant::now() < until,
            "{method} {path}: {seen:?} after {GIVE_UP:?}"
        );
        let req = node
            .http
            .request(method.parse()?, node.url(path))
            .basic_auth("isadmin", Some(PASSWORD));
        let req = match &body {
            Some(b) => req.json(b),
            None => req,
        };
        let resp = req.send().await.with_context(|| format!("{method} {path}"))?;
        let status = resp.status().as_u16();
        let retry_after = resp.headers().get("retry-after").cloned();
        let text = resp.text().await?;
        match status {
            200 => seen.succeeded += 1,
            503 => {
                let doc: Value = serde_json::from_str(&text).with_context(|| text.clone())?;
                let error = doc["error"].as_str().unwrap_or_default();
                ensure!(
                    error.starts_with("starting: ") && doc["details"] == json!([]),
                    "{method} {path} answered 503 but not starting: {text}"
                );
                ensure!(retry_after.is_some(), "503 starting without Retry-After: {text}");
                ensure!(
                    seen.succeeded == 0,
                    "{method} {path} answered starting after a success"
                );
                seen.starting += 1;
            }
            other => bail!("{method} {path} answered {other} while the node started: {text}"),
        }
    }
    Ok(seen)
}

/// Polls `GET /ready` without credentials until it answers 200; every
/// earlier answer must be 503 with a status word of a node that starts.
/// Answers those words, in order.
async fn ready_after_starting(node: &TestNode) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let until = Instant::now() + GIVE_UP;
    loop {
        ensure!(Instant::now() < until, "/ready answered only {words:?}");
        let resp = node.http.get(node.url("/ready")).send().await?;
        let status = resp.status().as_u16();
        let doc: Value = resp.json().await?;
        let word = doc["status"].as_str().unwrap_or_default().to_string();
        match status {
            200 => {
                ensure!(doc == json!({"status": "ready"}), "{doc}");
                return Ok(words);
            }
            503 => {
                ensure!(
                    matches!(word.as_str(), "starting" | "no-leader" | "workers-down"),
                    "a starting node's /ready said {doc}"
                );
                ensure!(
                    doc.as_object().is_some_and(|o| o.len() == 1),
                    "more than a word: {doc}"
                );
                if words.last() != Some(&word) {
                    words.push(word);
                }
            }
            other => bail!("/ready answered {other}: {doc}"),
        }
    }
}

/// Calls gRPC `About` with the administrator's password until it succeeds;
/// every failure before must be UNAVAILABLE `starting`.
async fn grpc_until_served(node: &TestNode) -> Result<usize> {
    let mut client = node.grpc().await?;
    let mut starting = 0;
    let until = Instant::now() + GIVE_UP;
    loop {
        ensure!(
            Instant::now() < until,
            "gRPC About not served after {starting} refusals"
        );
        match client.about(is_proto::v1::Empty {}).await {
            Ok(_) => return Ok(starting),
            Err(s) if s.code() == tonic::Code::Unavailable && s.message().starts_with("starting: ") => {
                starting += 1
            }
            Err(s) => bail!("gRPC About answered {:?}: {}", s.code(), s.message()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_starting_node_answers_starting_never_401() -> Result<()> {
    let node = TestNode::start_unready(&[]).await?;
    // Liveness answers at once, before the node can serve anything else.
    let health = node.http.get(node.url("/health")).send().await?;
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.json::<Value>().await?, json!({"status": "ok"}));

    let upload = json!({"name": "Say", "data": step_source("Say")?});
    let (uploads, reads, ready, grpc) = tokio::join!(
        hammer(&node, "POST", "/api/v1/steps", Some(upload), 1),
        hammer(&node, "GET", "/api/v1/steps", None, 20),
        ready_after_starting(&node),
        grpc_until_served(&node),
    );
    let (uploads, reads, ready, grpc) = (uploads?, reads?, ready?, grpc?);
    println!("uploads {uploads:?}, reads {reads:?}, /ready said {ready:?} first, gRPC refused {grpc} times");

    // Ready means served: credentials work, writes work.
    let (status, _) = node.rest("GET", "/api/v1/steps/Say", None).await?;
    assert_eq!(status, 200);
    let ready = node.http.get(node.url("/ready")).send().await?;
    assert_eq!(ready.status().as_u16(), 200);
    // A wrong password is still 401 once the node serves.
    let wrong = node
        .http
        .get(node.url("/api/v1/about"))
        .basic_auth("isadmin", Some("not-the-password"))
        .send()
        .await?;
    assert_eq!(wrong.status().as_u16(), 401);
    Ok(())
}

#[tokio::test]
async fn probes_are_answered_to_browsers_and_need_no_credentials() -> Result<()> {
    let node = TestNode::start().await?;
    for path in ["/health", "/ready"] {
        // A browser navigation would get the web UI's page at other paths.
        let resp = node
            .http
            .get(node.url(path))
            .header("accept", "text/html,application/xhtml+xml")
            .send()
            .await?;
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        assert!(resp.headers()["content-type"]
            .to_str()?
            .starts_with("application/json"));
        let doc: Value = resp.json().await?;
        assert!(doc["status"] == "ok" || doc["status"] == "ready", "{path}: {doc}");
        let head = node.http.head(node.url(path)).send().await?;
        assert_eq!(head.status().as_u16(), 200, "HEAD {path}");
    }
    // Outside /api/v1, so not in the REST bridge's document.
    let (_, doc) = node.rest("GET", "/api/v1/openapi.json", None).await?;
    assert!(doc["paths"].get("/health").is_none() && doc["paths"].get("/ready").is_none());
    Ok(())
}

/// The status word node `i`'s `/ready` answers, with its HTTP status.
async fn ready_of(c: &LocalCluster, i: usize) -> Result<(u16, String)> {
    let resp = c.http.get(c.url(i, "/ready")).send().await?;
    let status = resp.status().as_u16();
    let doc: Value = resp.json().await?;
    Ok((status, doc["status"].as_str().unwrap_or_default().to_string()))
}

async fn wait_ready_word(c: &LocalCluster, i: usize, want: (u16, &str)) -> Result<()> {
    poll(Duration::from_secs(60), async || {
        let seen = ready_of(c, i).await?;
        Ok(if seen.0 == want.0 && seen.1 == want.1 {
            Progress::Done(())
        } else {
            Progress::NotYet(format!(
                "node {i}'s /ready answers {seen:?}, not {want:?}\n{}",
                c.logs()
            ))
        })
    })
    .await
}

#[tokio::test]
async fn a_member_without_a_leader_is_not_ready() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    // cluster.sh up returns once every node is ready.
    for i in 1..=3 {
        assert_eq!(ready_of(&c, i).await?, (200, "ready".to_string()), "node {i}");
    }
    let leader = c.leader()?;
    let other = (1..=3).find(|&i| i != leader).context("a second node")?;
    let left = (1..=3)
        .find(|&i| i != leader && i != other)
        .context("a third node")?;
    c.kill(leader)?;
    c.kill(other)?;
    wait_ready_word(&c, left, (503, "no-leader")).await?;
    // Alive all the same.
    let health = c.http.get(c.url(left, "/health")).send().await?;
    assert_eq!(health.status().as_u16(), 200);
    // A majority again: a leader is elected and the node is ready again.
    c.start(other)?;
    wait_ready_word(&c, left, (200, "ready")).await?;
    Ok(())
}
