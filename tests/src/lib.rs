//! Test harness: runs real `isnode` and `iscli` processes built by the same
//! `cargo test` invocation, and talks to them over REST and gRPC.
//!
//! Nodes listen on port 0, so the OS picks a free port while binding (no
//! window in which another process could take it), and report the port in
//! `DATA_DIR/listen-address`. They keep their data in a temporary directory
//! that lives as long as the [`TestNode`]. Python steps used by the tests
//! live in `fixtures/steps/NAME.py` ([`step_source`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use base64::Engine;
use serde_json::Value;

pub mod cluster;

pub const PASSWORD: &str = "test-admin-pw";

/// Directory holding the workspace's binaries (`target/debug` or `target/release`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run the tests with tests/run-all.sh, which builds the binaries first",
        p.display()
    );
    p
}

/// A loopback port that refuses connections for as long as this value
/// lives: the socket is bound (so no node can be given the port) but never
/// listens (so a connection attempt is refused).
pub struct ClosedPort {
    pub port: u16,
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    pub fn new() -> Result<ClosedPort> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let port = socket.local_addr()?.port();
        Ok(ClosedPort {
            port,
            _socket: socket,
        })
    }
}

/// Source of the Python step `tests/fixtures/steps/{name}.py`.
pub fn step_source(name: &str) -> Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/steps")
        .join(format!("{name}.py"));
    std::fs::read_to_string(&path).with_context(|| format!("read the step fixture {}", path.display()))
}

/// Empty files a test creates to let its Python steps go on: a step given
/// [`Markers::path`] waits until [`Markers::set`] has created the file, so
/// the test decides when the step ends instead of guessing with a sleep.
pub struct Markers {
    dir: tempfile::TempDir,
}

impl Markers {
    pub fn new() -> Result<Markers> {
        Ok(Markers {
            dir: tempfile::tempdir()?,
        })
    }

    /// The marker file `name` (absent until set), as a step parameter.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    pub fn set(&self, name: &str) -> Result<()> {
        std::fs::write(self.dir.path().join(name), b"").context("create a marker file")
    }
}

/// How long a node may take to bind and to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct TestNode {
    pub dir: tempfile::TempDir,
    /// The port the node bound; it changes when the node is restarted, so
    /// read it after a restart, never keep a copy across one.
    pub port: u16,
    child: Option<Child>,
    extra_env: Vec<(String, String)>,
    /// The `--config` file the node is started with, if any.
    config: Option<PathBuf>,
    pub http: reqwest::Client,
}

impl TestNode {
    /// Starts a node on a new data directory with the admin password [`PASSWORD`].
    pub async fn start() -> Result<TestNode> {
        Self::start_with(&[]).await
    }

    /// Starts a node with extra environment variables (settings overrides).
    pub async fn start_with(env: &[(&str, &str)]) -> Result<TestNode> {
        let mut node = TestNode {
            dir: tempfile::tempdir()?,
            port: 0,
            child: None,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            config: None,
            http: reqwest::Client::new(),
        };
        node.spawn().await?;
        Ok(node)
    }

    /// Starts a node with `--config FILE`, FILE holding `toml` (written into
    /// the node's temporary directory), and extra environment variables.
    pub async fn start_with_config(toml: &str, env: &[(&str, &str)]) -> Result<TestNode> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("node.toml");
        std::fs::write(&config, toml).context("write the node config")?;
        let mut node = TestNode {
            dir,
            port: 0,
            child: None,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            config: Some(config),
            http: reqwest::Client::new(),
        };
        node.spawn().await?;
        Ok(node)
    }

    /// Path of the `--config` file a node started with [`TestNode::start_with_config`]
    /// or [`TestNode::restart_with_config`] uses.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("node.toml")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("node.log")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    fn listen_address_path(&self) -> PathBuf {
        self.data_dir().join("listen-address")
    }

    /// Starts `isnode` on port 0 and learns the port it bound from the
    /// `listen-address` file it writes, then waits until it answers.
    async fn spawn(&mut self) -> Result<()> {
        // A file left by the previous process would name its old port.
        match std::fs::remove_file(self.listen_address_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).context("remove the stale listen-address file")
            }
            _ => {}
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let mut cmd = Command::new(bin("isnode"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("IS_ADMIN_PASSWORD", PASSWORD)
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null());
        if let Some(config) = &self.config {
            cmd.arg("--config").arg(config);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().context("spawn isnode")?);
        self.port = self.wait_bound().await?;
        self.wait_ready().await
    }

    /// Fails with the node's log if its process has exited.
    fn check_running(&mut self) -> Result<()> {
        if let Some(child) = self.child.as_mut() {
            if let Some(status) = child.try_wait()? {
                bail!("isnode exited with {status}:\n{}", self.log());
            }
        }
        Ok(())
    }

    /// Waits for the `listen-address` file of the process just started and
    /// answers the port in it.
    async fn wait_bound(&mut self) -> Result<u16> {
        let path = self.listen_address_path();
        poll(START_TIMEOUT, async || {
            self.check_running()?;
            // Written to a temporary file and renamed: once there, it is whole.
            let Ok(text) = std::fs::read_to_string(&path) else {
                return Ok(Progress::NotYet(format!(
                    "isnode wrote no {} within {START_TIMEOUT:?}:\n{}",
                    path.display(),
                    self.log()
                )));
            };
            let port = text
                .trim()
                .rsplit_once(':')
                .and_then(|(_, port)| port.parse().ok())
                .with_context(|| format!("{} holds {text:?}, not HOST:PORT", path.display()))?;
            Ok(Progress::Done(port))
        })
        .await
    }

    /// Waits until the node answers an authenticated request, or fails with its log.
    pub async fn wait_ready(&mut self) -> Result<()> {
        let url = self.url("/api/v1/about");
        poll(START_TIMEOUT, async || {
            self.check_running()?;
            let answer = self
                .http
                .get(&url)
                .basic_auth("isadmin", Some(PASSWORD))
                .send()
                .await;
            Ok(match answer {
                Ok(resp) if resp.status().is_success() => Progress::Done(()),
                _ => Progress::NotYet(format!(
                    "isnode did not become ready within {START_TIMEOUT:?}:\n{}",
                    self.log()
                )),
            })
        })
        .await
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit status.
    pub fn terminate(&mut self) -> Result<std::process::ExitStatus> {
        self.send_term()?;
        let mut c = self.child.take().context("node is not running")?;
        Ok(c.wait()?)
    }

    /// Sends SIGTERM without waiting for the node to exit (see [`TestNode::wait_exit`]).
    pub fn send_term(&self) -> Result<()> {
        let pid = self
            .child
            .as_ref()
            .context("node is not running")?
            .id()
            .to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status()?;
        if !status.success() {
            bail!("kill -TERM {pid} failed: {status}");
        }
        Ok(())
    }

    /// Waits up to `within` for the node process to exit; answers its status.
    pub async fn wait_exit(&mut self, within: Duration) -> Result<std::process::ExitStatus> {
        let status = poll(within, async || {
            let child = self.child.as_mut().context("node is not running")?;
            Ok(match child.try_wait()? {
                Some(status) => Progress::Done(status),
                None => Progress::NotYet(format!("isnode still runs after {within:?}")),
            })
        })
        .await?;
        self.child = None;
        Ok(status)
    }

    /// Polls the node's log until it contains `needle`; fails after `within`.
    pub async fn wait_for_log(&self, needle: &str, within: Duration) -> Result<()> {
        poll(within, async || {
            Ok(if self.log().contains(needle) {
                Progress::Done(())
            } else {
                Progress::NotYet(format!(
                    "{needle:?} not logged within {within:?}:\n{}",
                    self.log()
                ))
            })
        })
        .await
    }

    /// Starts the node again on the same data directory (on a new port).
    pub async fn restart(&mut self) -> Result<()> {
        self.kill9();
        self.spawn().await
    }

    /// `kill -9`, then starts the node again on the same data directory (on
    /// a new port) with `--config FILE`, FILE now holding `toml`.
    pub async fn restart_with_config(&mut self, toml: &str) -> Result<()> {
        self.kill9();
        let config = self.config_path();
        std::fs::write(&config, toml).context("write the node config")?;
        self.config = Some(config);
        self.spawn().await
    }

    /// Polls `GET path` every 50 ms until `done(status, body)` holds and
    /// answers that body; fails with the last answer after `within`.
    pub async fn poll_until(
        &self,
        path: &str,
        within: Duration,
        done: impl Fn(u16, &Value) -> bool,
    ) -> Result<Value> {
        poll(within, async || {
            let (status, body) = self.rest("GET", path, None).await?;
            Ok(if done(status, &body) {
                Progress::Done(body)
            } else {
                Progress::NotYet(format!(
                    "GET {path} not as expected after {within:?}: {status} {body}"
                ))
            })
        })
        .await
    }

    /// Polls a run or task (`GET /api/v1/tasks/{id}`) until it is SUCCESS,
    /// FAILURE or REVOKED and answers its status; fails after `within`.
    pub async fn wait_terminal(&self, id: &str, within: Duration) -> Result<Value> {
        self.poll_until(&format!("/api/v1/tasks/{id}"), within, |status, body| {
            status == 200 && matches!(body["state"].as_str(), Some("SUCCESS" | "FAILURE" | "REVOKED"))
        })
        .await
    }

    /// An authenticated REST call; answers the status and the JSON body.
    pub async fn rest(&self, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value)> {
        rest_call(&self.http, method, &self.url(path), body).await
    }

    /// Uploads the step fixture `name` ([`step_source`]) under that name;
    /// fails unless the node answers 200.
    pub async fn put_step(&self, name: &str) -> Result<()> {
        let doc = serde_json::json!({"name": name, "data": step_source(name)?});
        match self.rest("POST", "/api/v1/steps", Some(&doc)).await? {
            (200, _) => Ok(()),
            (status, body) => bail!("upload of step {name} answered {status}: {body}"),
        }
    }

    /// Opens the server-sent event stream of a task or run (asserts 200).
    pub async fn open_events(&self, id: &str) -> reqwest::Response {
        let resp = self
            .http
            .get(self.url(&format!("/api/v1/tasks/{id}/events")))
            .basic_auth("isadmin", Some(PASSWORD))
            .send()
            .await
            .expect("open the event stream");
        assert_eq!(resp.status().as_u16(), 200, "event stream of {id}");
        resp
    }

    /// A gRPC client authenticated as the administrator.
    pub async fn grpc(&self) -> Result<GrpcClient> {
        grpc_client(self.port, "isadmin", PASSWORD).await
    }

    /// Runs `iscli` against this node with the given arguments.
    pub fn iscli(&self, args: &[&str]) -> Output {
        self.iscli_as("isadmin", PASSWORD, args)
    }

    pub fn iscli_as(&self, user: &str, password: &str, args: &[&str]) -> Output {
        iscli(self.port, user, password, args)
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub type GrpcClient = is_proto::IntegrationServiceClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, BasicAuth>,
>;

#[derive(Clone)]
pub struct BasicAuth(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for BasicAuth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

pub async fn grpc_client(port: u16, user: &str, password: &str) -> Result<GrpcClient> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?
        .connect()
        .await?;
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let auth = BasicAuth(format!("Basic {token}").parse()?);
    Ok(is_proto::IntegrationServiceClient::with_interceptor(
        channel, auth,
    ))
}

/// One look at something a test waits for.
pub enum Progress<T> {
    Done(T),
    /// Not yet; what was seen, for the failure message.
    NotYet(String),
}

/// Calls `look` every 50 ms until it answers `Done`; fails with the last
/// `NotYet` description after `within`, or at once when `look` fails.
pub async fn poll<T>(within: Duration, look: impl AsyncFnMut() -> Result<Progress<T>>) -> Result<T> {
    poll_every(Duration::from_millis(50), within, look).await
}

/// [`poll`] with another pause between looks, for deadlines too short for
/// 50 ms steps. The last look may come up to `every` after `within`.
pub async fn poll_every<T>(
    every: Duration,
    within: Duration,
    mut look: impl AsyncFnMut() -> Result<Progress<T>>,
) -> Result<T> {
    let deadline = Instant::now() + within;
    loop {
        match look().await? {
            Progress::Done(v) => return Ok(v),
            Progress::NotYet(seen) if Instant::now() > deadline => bail!("{seen}"),
            Progress::NotYet(_) => tokio::time::sleep(every).await,
        }
    }
}

/// Calls `look` every 50 ms for `within` and fails at the first failure:
/// for what must stay so for a while (nothing picks up a task), not for
/// waiting.
pub async fn stays(within: Duration, mut look: impl AsyncFnMut() -> Result<()>) -> Result<()> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        look().await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    look().await
}

/// An administrator's REST call to `url`; answers the status and the JSON
/// body (Null when empty).
pub async fn rest_call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<&Value>,
) -> Result<(u16, Value)> {
    let req = http
        .request(method.parse()?, url)
        .basic_auth("isadmin", Some(PASSWORD));
    let req = match body {
        Some(b) => req.json(b),
        None => req,
    };
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let text = resp.text().await?;
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("body is not JSON: {text}"))?
    };
    Ok((status, json))
}

/// The last `lines` lines of each `nodeI.log` (I = 1..=nodes) under `dir`,
/// for failure messages of multi-node tests.
pub fn log_tails(dir: &Path, nodes: usize, lines: usize) -> String {
    (1..=nodes)
        .map(|i| {
            let log = std::fs::read_to_string(dir.join(format!("node{i}.log"))).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(lines).collect();
            format!(
                "--- node {i} (last lines) ---\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// An `iscli` command with host, port and credentials given as flags (and
/// not taken from the environment), its stdin closed.
pub fn iscli_command(port: u16, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("iscli"));
    cmd.args([
        "-H",
        "127.0.0.1",
        "-P",
        &port.to_string(),
        "-i",
        "-U",
        user,
        "-p",
        password,
    ])
    .args(args)
    .env_remove("IS_HOST")
    .env_remove("IS_PORT")
    .env_remove("IS_USER")
    .env_remove("IS_PASSWORD")
    .stdin(Stdio::null());
    cmd
}

/// Runs `iscli` with host, port and credentials given as flags.
pub fn iscli(port: u16, user: &str, password: &str, args: &[&str]) -> Output {
    iscli_command(port, user, password, args)
        .output()
        .expect("run iscli")
}

/// Example content in the original product's format (steps, apps, configs).
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples")
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}

/// Runs `iscli` against `node`; answers its exit code, stdout and stderr.
pub fn iscli_out(node: &TestNode, args: &[&str]) -> (i32, String, String) {
    let o = node.iscli(args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `iscli` and insists on exit code 0; answers stdout.
pub fn iscli_ok(node: &TestNode, args: &[&str]) -> String {
    let (code, out, err) = iscli_out(node, args);
    assert_eq!(code, 0, "iscli {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

/// Runs `iscli ... --json`, insists on exit code 0 and parses its stdout.
pub fn iscli_json(node: &TestNode, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = iscli_ok(node, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

/// Position of `needle` in `hay`, failing with the whole text if missing.
pub fn position_of(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{hay}"))
}
