//! [`TestNode`]: one `isnode` process on a temporary data directory,
//! started on port 0 (the port it bound is read from the `listen-address`
//! file it writes), with REST, gRPC and `iscli` access as the administrator.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use crate::{bin, grpc_client, poll, poll_every, rest_call, step_source, GrpcClient, Progress, PASSWORD};

/// How long a node may take to bind and to answer after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials of a call made with [`TestNode::call_as`].
pub enum Auth<'a> {
    /// A user's name and password.
    Basic(&'a str, &'a str),
    /// An API key or a session token.
    Bearer(&'a str),
}

/// A running `isnode`; dropping it kills the process (`kill -9`) and
/// removes its directory.
pub struct TestNode {
    /// Holds `data/` (the data directory), `node.log` and `node.toml`.
    pub dir: tempfile::TempDir,
    /// The port the node bound; it changes when the node is restarted, so
    /// read it after a restart, never keep a copy across one.
    pub port: u16,
    child: Option<Child>,
    extra_env: Vec<(String, String)>,
    /// The `--config` file the node is started with, if any.
    config: Option<PathBuf>,
    /// Whether the node serves TLS with its self-signed certificate
    /// ([`TestNode::start_tls`]): URLs are https and `http` trusts it.
    tls: bool,
    pub http: reqwest::Client,
}

impl TestNode {
    /// Starts a node on a new data directory with the admin password [`PASSWORD`].
    pub async fn start() -> Result<TestNode> {
        Self::start_with(&[]).await
    }

    /// Starts a node whose cluster has no Base Steps pack: for tests that
    /// upload the original product's examples, whose names (CountRecords,
    /// stepTemplate, integration_template) that pack owns.
    pub async fn without_base_pack() -> Result<TestNode> {
        Self::start_with(&[("IS_BASE_PACK", "false")]).await
    }

    /// A node in `dir` not started yet: its port is known once it has
    /// bound (`spawn`, `launch`).
    fn unstarted(
        dir: tempfile::TempDir,
        env: &[(&str, &str)],
        config: Option<PathBuf>,
        tls: bool,
    ) -> TestNode {
        TestNode {
            dir,
            port: 0,
            child: None,
            extra_env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            config,
            tls,
            http: crate::http_client(),
        }
    }

    /// Starts a node with extra environment variables (settings overrides).
    pub async fn start_with(env: &[(&str, &str)]) -> Result<TestNode> {
        TestNode::start_in(tempfile::tempdir()?, env).await
    }

    /// Starts a node in `dir` (its data directory is `dir/data`, which the
    /// caller may have prepared, e.g. as a mount of its own).
    pub async fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)]) -> Result<TestNode> {
        let mut node = TestNode::unstarted(dir, env, None, false);
        node.spawn().await?;
        Ok(node)
    }

    /// Starts a node on a new data directory with extra environment
    /// variables and answers as soon as it has bound its port, before it can
    /// serve (see [`TestNode::wait_ready`]).
    pub async fn start_unready(env: &[(&str, &str)]) -> Result<TestNode> {
        let mut node = TestNode::unstarted(tempfile::tempdir()?, env, None, false);
        node.launch().await?;
        Ok(node)
    }

    /// Starts a node with `tls = "self-signed"` and extra environment
    /// variables; its REST client trusts the certificate it generated.
    pub async fn start_tls(env: &[(&str, &str)]) -> Result<TestNode> {
        let mut all = vec![("IS_TLS", "self-signed")];
        all.extend_from_slice(env);
        let mut node = TestNode::unstarted(tempfile::tempdir()?, &all, None, true);
        node.spawn().await?;
        Ok(node)
    }

    /// The self-signed certificate of a node started with [`TestNode::start_tls`].
    pub fn cert_path(&self) -> PathBuf {
        self.data_dir().join("tls-cert.pem")
    }

    /// Starts a node with `--config FILE`, FILE holding `toml` (written into
    /// the node's temporary directory), and extra environment variables.
    pub async fn start_with_config(toml: &str, env: &[(&str, &str)]) -> Result<TestNode> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("node.toml");
        std::fs::write(&config, toml).context("write the node config")?;
        let mut node = TestNode::unstarted(dir, env, Some(config), false);
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
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}{}", self.port, path)
    }

    fn listen_address_path(&self) -> PathBuf {
        self.data_dir().join("listen-address")
    }

    /// Starts `isnode` on port 0 and learns the port it bound from the
    /// `listen-address` file it writes, then waits until it is ready.
    async fn spawn(&mut self) -> Result<()> {
        self.launch().await?;
        self.wait_ready().await
    }

    /// Starts `isnode` on port 0 and learns the port it bound from the
    /// `listen-address` file it writes.
    async fn launch(&mut self) -> Result<()> {
        // A file left by the previous process would name its old port.
        match std::fs::remove_file(self.listen_address_path()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).context("remove the stale listen-address file")
            }
            _ => {}
        }
        // Created before the node starts: a shared directory must exist to be shared.
        drop(crate::shared_tempdir()?);
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
            .env("IS_RUNNER_SHARED_DIRS", crate::runner_shared_root())
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
        if self.tls {
            // Written before the node listens.
            let pem = std::fs::read(self.cert_path()).context("read the node's certificate")?;
            self.http = crate::https_client(Some(&pem))?;
        }
        Ok(())
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
        // Looked for often: tests of start-up call the node as soon as it binds.
        poll_every(Duration::from_millis(2), START_TIMEOUT, async || {
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

    /// Waits until the node's `GET /ready` answers 200 (it is bootstrapped,
    /// knows a leader and runs its workers), or fails with its log.
    pub async fn wait_ready(&mut self) -> Result<()> {
        let url = self.url("/ready");
        poll(START_TIMEOUT, async || {
            self.check_running()?;
            let answer = self.http.get(&url).send().await;
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

    /// The node's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
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

    /// Runs application `app` (no params) and waits up to `within` for it
    /// to end; answers the run status.
    pub async fn run_app(&self, app: &str, within: Duration) -> Result<Value> {
        let (status, body) = self
            .rest(
                "POST",
                &format!("/api/v1/applications/{app}/run"),
                Some(&serde_json::json!({})),
            )
            .await?;
        anyhow::ensure!(
            status == 200 || status == 202,
            "running {app} answered {status}: {body}"
        );
        let id = body["id"].as_str().context("a run status without an id")?;
        self.wait_terminal(id, within).await
    }

    /// The task status of step `name` of a run status.
    pub async fn step_task(&self, run: &Value, name: &str) -> Result<Value> {
        let step = run["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|s| s["name"] == name))
            .with_context(|| format!("no step {name} in {run}"))?;
        let href = step["href"].as_str().context("a step without href")?;
        let (status, task) = self.rest("GET", href, None).await?;
        anyhow::ensure!(status == 200, "GET {href} answered {status}: {task}");
        Ok(task)
    }

    /// Calls the API and insists on the answer `status` with an error that
    /// mentions `says`; answers the body.
    pub async fn refused(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        status: u16,
        says: &str,
    ) -> Result<Value> {
        let (got, answer) = self.rest(method, path, body).await?;
        anyhow::ensure!(
            got == status,
            "{method} {path} answered {got}, not {status}: {answer}"
        );
        let error = answer["error"].as_str().unwrap_or_default();
        anyhow::ensure!(
            error.contains(says),
            "{method} {path}: the error does not say {says:?}: {answer}"
        );
        Ok(answer)
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

    /// A REST call with other credentials than the administrator's: the
    /// status and the body (JSON, or the text as a JSON string).
    pub async fn call_as(
        &self,
        auth: Auth<'_>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let req = self
            .http
            .request(method.parse().expect("an HTTP method"), self.url(path));
        let req = match auth {
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
            Auth::Bearer(t) => req.bearer_auth(t),
        };
        let req = match body {
            Some(b) => req.json(b),
            None => req,
        };
        let resp = req.send().await.expect("the node answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("the answer's body");
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// An authenticated `GET` answering the raw body: status, content type
    /// and bytes (for answers that are not JSON, like a pickle).
    pub async fn get_raw(&self, path: &str) -> Result<(u16, String, Vec<u8>)> {
        let resp = self
            .http
            .get(self.url(path))
            .basic_auth("isadmin", Some(PASSWORD))
            .send()
            .await?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((status, content_type, resp.bytes().await?.to_vec()))
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
        crate::iscli(self.port, user, password, args)
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.kill9();
    }
}
