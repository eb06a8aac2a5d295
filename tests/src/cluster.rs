//! A cluster of real `isnode` processes on loopback, driven through
//! `deploy/local/cluster.sh` (so the tests also hold that script to its
//! interface). All state lives in a temporary directory; dropping the
//! cluster stops every node.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;

use crate::{bin, poll, Progress, PASSWORD};

pub struct LocalCluster {
    pub dir: tempfile::TempDir,
    pub size: usize,
    pub base_port: u16,
    env: Vec<(String, String)>,
    /// Whether the cluster serves TLS (`CLUSTER_TLS=1`): URLs are https and
    /// `http` trusts the certificate every node shares.
    tls: bool,
    pub http: reqwest::Client,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/local/cluster.sh")
}

/// A base port with `n` free ports above it, and free actor-network ports
/// 10000 above those (cluster.sh's nodes listen on both). Both ranges stay
/// below Linux's ephemeral ports (32768 and up), so outgoing connections
/// cannot take them in the meantime; clusters of one test process get
/// disjoint ranges, so concurrent tests cannot pick the same ports.
fn free_base(n: usize) -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);
    let free = |port: u16| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok();
    let _ = NEXT.compare_exchange(
        0,
        10_000 + (rand_u16() % 1_000) * 10,
        std::sync::atomic::Ordering::SeqCst,
        std::sync::atomic::Ordering::SeqCst,
    );
    for _ in 0..100 {
        let base = NEXT.fetch_add(n as u16 + 1, std::sync::atomic::Ordering::SeqCst);
        if base > 21_900 {
            NEXT.store(10_000, std::sync::atomic::Ordering::SeqCst);
            continue;
        }
        if (1..=n as u16).all(|i| free(base + i) && free(base + i + 10_000)) {
            return base;
        }
    }
    panic!("no {n} consecutive free ports (and their +10000 twins) found");
}

fn rand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos ^ std::process::id().wrapping_mul(2_654_435_761)) as u16
}

impl LocalCluster {
    /// `cluster.sh DIR up N BASE_PORT`, with extra environment for every node.
    pub async fn up(n: usize, env: &[(&str, &str)]) -> Result<LocalCluster> {
        Self::up_with(n, env, false).await
    }

    /// `CLUSTER_TLS=1 cluster.sh DIR up N BASE_PORT`: every node serves,
    /// and verifies its peers with, one self-signed certificate.
    pub async fn up_tls(n: usize, env: &[(&str, &str)]) -> Result<LocalCluster> {
        Self::up_with(n, env, true).await
    }

    async fn up_with(n: usize, env: &[(&str, &str)], tls: bool) -> Result<LocalCluster> {
        let dir = tempfile::tempdir()?;
        let base_port = free_base(n);
        let mut env: Vec<(String, String)> =
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        env.push(("CLUSTER_TLS".into(), if tls { "1" } else { "0" }.into()));
        let mut c = LocalCluster {
            dir,
            size: n,
            base_port,
            env,
            tls,
            http: reqwest::Client::builder()
                .pool_idle_timeout(crate::POOL_IDLE)
                .timeout(Duration::from_secs(40))
                .build()?,
        };
        let out = c.script(&["up", &n.to_string(), &base_port.to_string()])?;
        let urls: Vec<&str> = out.lines().collect();
        if urls.len() != n {
            bail!("cluster.sh up printed {urls:?}, expected {n} URLs");
        }
        if tls {
            let pem = std::fs::read(c.cert_path()).context("read the cluster's certificate")?;
            c.http = crate::https_client(Some(&pem))?;
        }
        Ok(c)
    }

    /// The certificate every node of a TLS cluster serves.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.path().join("tls-cert.pem")
    }

    /// Runs `cluster.sh DIR ARGS...`; answers its stdout, fails with its
    /// stderr and the node logs.
    pub fn script(&self, args: &[&str]) -> Result<String> {
        // A shared directory must exist to be shared.
        drop(crate::shared_tempdir()?);
        let out = Command::new(script())
            .arg(self.dir.path())
            .args(args)
            .env("ISNODE", bin("isnode"))
            .env("IS_ADMIN_PASSWORD", PASSWORD)
            .env("IS_RUNNER_SHARED_DIRS", crate::runner_shared_root())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .context("run cluster.sh")?;
        if !out.status.success() {
            bail!(
                "cluster.sh {args:?} failed: {}\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn kill(&self, i: usize) -> Result<()> {
        self.script(&["kill", &i.to_string()]).map(|_| ())
    }

    pub fn stop(&self, i: usize) -> Result<()> {
        self.script(&["stop", &i.to_string()]).map(|_| ())
    }

    pub fn start(&self, i: usize) -> Result<()> {
        self.script(&["start", &i.to_string()]).map(|_| ())
    }

    /// The leader's index (`cluster.sh DIR leader`).
    pub fn leader(&self) -> Result<usize> {
        Ok(self.script(&["leader"])?.trim().parse()?)
    }

    /// Every node's log, for failure messages.
    pub fn logs(&self) -> String {
        crate::log_tails(self.dir.path(), self.size, 40)
    }

    /// Counts the runs node `i` lists, following the pages' cursors.
    pub async fn count_runs(&self, i: usize) -> Result<usize> {
        let mut count = 0;
        let mut cursor = String::new();
        loop {
            let resp = self
                .http
                .get(self.url(i, &format!("/api/v1/tasks?limit=1000&cursor={cursor}")))
                .basic_auth("isadmin", Some(PASSWORD))
                .send()
                .await?;
            anyhow::ensure!(
                resp.status() == 200,
                "listing runs on node {i}: {}",
                resp.status()
            );
            let next = resp
                .headers()
                .get("x-next-cursor")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let page: Value = resp.json().await?;
            count += page.as_array().map_or(0, Vec::len);
            match next {
                Some(n) => cursor = n,
                None => return Ok(count),
            }
        }
    }

    pub fn url(&self, i: usize, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{path}", self.base_port + i as u16)
    }

    /// An authenticated REST call to node `i`.
    pub async fn rest(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        crate::rest_call(&self.http, method, &self.url(i, path), body).await
    }

    /// `POST path` to node `i`; fails unless it answers 200, and answers the body.
    pub async fn post_ok(&self, i: usize, path: &str, doc: &Value) -> Result<Value> {
        match self.rest(i, "POST", path, Some(doc)).await? {
            (200, body) => Ok(body),
            (status, body) => bail!("POST {path} on node {i} answered {status}: {body}"),
        }
    }

    /// Polls `GET path` on node `i` until `done` holds (an unanswered call
    /// counts as not yet); fails after `within`.
    pub async fn poll_until(
        &self,
        i: usize,
        path: &str,
        within: Duration,
        done: impl Fn(u16, &Value) -> bool,
    ) -> Result<Value> {
        poll(within, async || {
            Ok(match self.rest(i, "GET", path, None).await {
                Ok((status, body)) if done(status, &body) => Progress::Done(body),
                answer => Progress::NotYet(format!(
                    "GET {path} on node {i} not as expected after {within:?}: {answer:?}"
                )),
            })
        })
        .await
        .map_err(|e| anyhow!("{e}\n{}", self.logs()))
    }

    /// Waits until a run or task is SUCCESS, FAILURE or REVOKED, asking node `i`.
    pub async fn wait_terminal(&self, i: usize, id: &str, within: Duration) -> Result<Value> {
        self.poll_until(i, &format!("/api/v1/tasks/{id}"), within, |status, body| {
            status == 200 && matches!(body["state"].as_str(), Some("SUCCESS" | "FAILURE" | "REVOKED"))
        })
        .await
    }

    /// Waits until node `i` answers and knows a leader that reports every
    /// member voting and up.
    pub async fn wait_healthy(&self, within: Duration) -> Result<()> {
        poll(within, async || {
            if let Ok(l) = self.leader() {
                if let Ok((200, c)) = self.rest(l, "GET", "/api/v1/cluster", None).await {
                    let members = c["members"].as_array().cloned().unwrap_or_default();
                    if members.len() == self.size
                        && members.iter().all(|m| m["voter"] == true && m["health"] == "up")
                    {
                        return Ok(Progress::Done(()));
                    }
                }
            }
            Ok(Progress::NotYet(format!(
                "the cluster is not healthy after {within:?}"
            )))
        })
        .await
        .map_err(|e| anyhow!("{e}\n{}", self.logs()))
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        let _ = self.script(&["down"]);
    }
}
