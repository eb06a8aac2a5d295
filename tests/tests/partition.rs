//! Network partitions with real processes: each node runs in its own
//! network namespace, joined to the others through a bridge the test
//! creates; cutting the leader's link isolates it. Needs root, `ip netns`
//! and a kernel that allows namespaces, so a plain `cargo test` leaves it
//! out (#[ignore]); tests/run-all.sh (and so CI) runs it, and there a
//! missing namespace support fails it.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use is_tests::{bin, poll, Progress, PASSWORD};
use serde_json::{json, Value};

const SECRET: &str = "partition-test-secret-0123";

/// Namespaces, links and node processes; all removed on drop.
struct Net {
    tag: String,
    subnet: String,
    nodes: Vec<Option<Child>>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

fn sh(args: &[&str]) -> Result<()> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .with_context(|| format!("run {args:?}"))?;
    if !out.status.success() {
        bail!("{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

impl Net {
    fn ns(&self, i: usize) -> String {
        format!("{}n{i}", self.tag)
    }

    fn host_link(&self, i: usize) -> String {
        format!("{}h{i}", self.tag)
    }

    fn ip(&self, i: usize) -> String {
        format!("{}.{i}", self.subnet)
    }

    fn addr(&self, i: usize) -> String {
        format!("{}:8080", self.ip(i))
    }

    /// Creates the bridge and three namespaces; Err if the kernel refuses.
    fn create() -> Result<Net> {
        let pid = std::process::id() % 10_000;
        let tag = format!("is{pid}");
        let subnet = format!("10.{}.{}", 100 + pid % 100, pid % 250);
        let net = Net {
            tag: tag.clone(),
            subnet: subnet.clone(),
            nodes: Vec::new(),
            dir: tempfile::tempdir()?,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()?,
        };
        let bridge = format!("{tag}br");
        sh(&["ip", "link", "add", &bridge, "type", "bridge"])?;
        sh(&["ip", "addr", "add", &format!("{subnet}.254/24"), "dev", &bridge])?;
        sh(&["ip", "link", "set", &bridge, "up"])?;
        for i in 1..=3 {
            let ns = net.ns(i);
            let host = net.host_link(i);
            let inner = format!("{tag}e{i}");
            sh(&["ip", "netns", "add", &ns])?;
            sh(&["ip", "link", "add", &host, "type", "veth", "peer", "name", &inner])?;
            sh(&["ip", "link", "set", &inner, "netns", &ns])?;
            sh(&["ip", "link", "set", &host, "master", &bridge])?;
            sh(&["ip", "link", "set", &host, "up"])?;
            sh(&[
                "ip",
                "netns",
                "exec",
                &ns,
                "ip",
                "addr",
                "add",
                &format!("{}/24", net.ip(i)),
                "dev",
                &inner,
            ])?;
            sh(&["ip", "netns", "exec", &ns, "ip", "link", "set", &inner, "up"])?;
            sh(&["ip", "netns", "exec", &ns, "ip", "link", "set", "lo", "up"])?;
        }
        Ok(net)
    }

    fn start(&mut self, i: usize) -> Result<()> {
        let log = std::fs::File::create(self.dir.path().join(format!("node{i}.log")))?;
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(i)])
            .arg(bin("isnode"))
            .arg("--data-dir")
            .arg(self.dir.path().join(format!("node{i}")))
            .arg("--listen")
            .arg(self.addr(i))
            .env("IS_NODE_ID", i.to_string())
            .env("IS_CLUSTER_SECRET", SECRET)
            // The same key-encryption key on every member.
            .env("IS_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
            .env("IS_ADMIN_PASSWORD", PASSWORD)
            .env("IS_WORKERS", "1")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null());
        if i > 1 {
            cmd.env("IS_JOIN", self.addr(1));
        }
        let child = cmd.spawn()?;
        while self.nodes.len() < i {
            self.nodes.push(None);
        }
        self.nodes[i - 1] = Some(child);
        Ok(())
    }

    fn logs(&self) -> String {
        is_tests::log_tails(self.dir.path(), 3, 25)
    }

    /// A REST call from the host namespace.
    async fn rest(&self, i: usize, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        is_tests::rest_call(
            &self.http,
            method,
            &format!("http://{}{path}", self.addr(i)),
            body,
        )
        .await
    }

    /// A REST call made inside node `i`'s namespace (reaches it even while
    /// its link is cut); answers the HTTP status.
    fn rest_inside(&self, i: usize, method: &str, path: &str, body: &Value) -> Result<u16> {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(i),
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
            ])
            .args(["-m", "30", "-X", method, "-u", &format!("isadmin:{PASSWORD}")])
            .args(["-H", "content-type: application/json", "-d", &body.to_string()])
            .arg(format!("http://{}{path}", self.addr(i)))
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0))
    }

    /// The leader as node `i` sees it.
    async fn leader_seen_by(&self, i: usize) -> Option<usize> {
        match self.rest(i, "GET", "/api/v1/cluster", None).await {
            Ok((200, c)) => c["leader"].as_u64().map(|l| l as usize),
            _ => None,
        }
    }

    /// Waits until `holds` answers true; fails naming `what` after `within`.
    async fn wait_for(
        &self,
        what: &str,
        within: Duration,
        mut holds: impl AsyncFnMut() -> bool,
    ) -> Result<()> {
        poll(within, async || {
            Ok(if holds().await {
                Progress::Done(())
            } else {
                Progress::NotYet(format!("{what}: not within {within:?}"))
            })
        })
        .await
        .map_err(|e| anyhow!("{e}\n{}", self.logs()))
    }

    /// Whether the leader node `i` knows reports three voters, all up.
    async fn all_voting(&self, i: usize) -> bool {
        let Some(l) = self.leader_seen_by(i).await else {
            return false;
        };
        match self.rest(l, "GET", "/api/v1/cluster", None).await {
            Ok((200, c)) => c["members"]
                .as_array()
                .is_some_and(|m| m.len() == 3 && m.iter().all(|m| m["voter"] == true && m["health"] == "up")),
            _ => false,
        }
    }

    /// Whether node `i` has the configuration `name`.
    async fn sees(&self, i: usize, name: &str) -> bool {
        matches!(
            self.rest(i, "GET", &format!("/api/v1/configurations/{name}"), None)
                .await,
            Ok((200, _))
        )
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for child in self.nodes.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for i in 1..=3 {
            let _ = sh(&["ip", "link", "del", &self.host_link(i)]);
            let _ = sh(&["ip", "netns", "del", &self.ns(i)]);
        }
        let _ = sh(&["ip", "link", "del", &format!("{}br", self.tag)]);
    }
}

fn config(name: &str) -> Value {
    json!({"name": name, "configuration_data": [{"name": "v", "value": name}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root and network namespaces (ip netns); run-all.sh runs it"]
async fn a_leader_cut_off_from_the_majority_takes_no_writes_and_catches_up_after_healing() -> Result<()> {
    let mut net = Net::create().context(
        "this test needs root and network namespaces (ip netns) to cut a node off; \
         run it where those are available",
    )?;
    net.start(1)?;
    net.wait_for("node 1 leads", Duration::from_secs(30), async || {
        net.leader_seen_by(1).await == Some(1)
    })
    .await?;
    net.start(2)?;
    net.start(3)?;
    net.wait_for("three voters", Duration::from_secs(60), async || {
        net.all_voting(1).await
    })
    .await?;
    let old = net.leader_seen_by(1).await.context("a leader")?;
    let (status, body) = net
        .rest(old, "POST", "/api/v1/configurations", Some(&config("before")))
        .await?;
    assert_eq!(status, 200, "{body}");

    // Cut the leader's link: it keeps running but reaches nobody.
    sh(&["ip", "link", "set", &net.host_link(old), "down"])?;
    let majority: Vec<usize> = (1..=3).filter(|i| *i != old).collect();
    net.wait_for(
        "the majority elects a new leader",
        Duration::from_secs(30),
        async || net.leader_seen_by(majority[0]).await.is_some_and(|l| l != old),
    )
    .await?;
    let (status, body) = net
        .rest(
            majority[1],
            "POST",
            "/api/v1/configurations",
            Some(&config("majority")),
        )
        .await?;
    assert_eq!(status, 200, "the majority takes writes: {body}");

    // The isolated old leader must not accept a write (no split brain).
    let status = net.rest_inside(old, "POST", "/api/v1/configurations", &config("minority"))?;
    assert_ne!(
        status,
        200,
        "a leader without a majority accepted a write\n{}",
        net.logs()
    );
    assert_ne!(
        status,
        0,
        "the isolated node did not answer at all\n{}",
        net.logs()
    );

    // Heal: the old leader follows the new one and catches up; the write it
    // refused never appears anywhere.
    sh(&["ip", "link", "set", &net.host_link(old), "up"])?;
    net.wait_for("the old leader catches up", Duration::from_secs(30), async || {
        net.sees(old, "majority").await
    })
    .await?;
    for i in 1..=3 {
        let (status, _) = net
            .rest(i, "GET", "/api/v1/configurations/minority", None)
            .await?;
        assert_eq!(status, 404, "node {i} has the write the minority refused");
    }
    let leader = net.leader_seen_by(old).await.context("a leader after healing")?;
    assert_ne!(leader, old, "the old leader follows the new one");
    Ok(())
}
