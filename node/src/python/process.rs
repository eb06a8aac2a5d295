//! The host side of a runner: spawns `isnode runner` in its sandbox (a
//! cleared environment, its own process group, the flags of
//! [`SandboxPlan::prepare`]), sends it work over the pipe, serves its host-service requests (logs,
//! cache) while a step runs, and turns every way a runner can go wrong —
//! crash, exit, hang past the timeout, revocation — into a [`RunnerError`]
//! that names the reason.

use std::collections::VecDeque;
use std::future::Future;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};

use super::sandbox::{RunnerResources, SandboxPlan};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::watch;

use super::protocol::{nonblocking, ExecResult, FrameError, FromRunner, LogRecord, RunEnd, ToRunner};

/// How long a new runner may take to import Python and the step API.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STDERR_TAIL_LINES: usize = 20;

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// The `isnode` binary (runners are the same binary in runner mode).
    pub exe: PathBuf,
    /// Directory holding the embedded `ipaascore`/`ipaascommon` packages.
    pub lib_dir: PathBuf,
    /// Memory limit of each runner in bytes: its cgroup (the whole tree)
    /// where the plan has one, and RLIMIT_AS of each process.
    pub memory_limit_bytes: Option<u64>,
    /// Site directories of a SyncPack environment (empty: the platform's).
    pub site_dirs: Vec<PathBuf>,
    /// The node's sandbox, decided once at start.
    pub sandbox: Arc<SandboxPlan>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("cannot start the Python runner: {0}")]
    Spawn(String),
    /// The process ended while it had work: crash, `os._exit`, OOM kill.
    #[error("the Python runner died during the step: {0}")]
    Died(String),
    #[error("the step did not finish within its timeout of {} s and was killed", .0.as_secs_f64())]
    Timeout(Duration),
    #[error("the task was revoked and its runner killed")]
    Revoked,
    /// The runner's own machinery failed (not the step's code).
    #[error("the Python runner failed: {0}")]
    Internal(String),
}

/// What a running step may ask of the node.
pub trait RunnerHost: Send {
    fn log(&mut self, record: LogRecord) -> impl Future<Output = ()> + Send;
    fn cache_get(&mut self, key: String) -> impl Future<Output = Option<Vec<u8>>> + Send;
    fn cache_set(
        &mut self,
        key: String,
        value: Vec<u8>,
        expiry_seconds: Option<f64>,
    ) -> impl Future<Output = Result<(), String>> + Send;
    fn cache_delete(&mut self, key: String) -> impl Future<Output = Result<(), String>> + Send;
    /// The stored document of application `name` as JSON text.
    fn application(&mut self, name: String) -> impl Future<Output = Option<String>> + Send;
    /// Starts a run of application `name` with `params` (JSON text) as a
    /// child of the step's run; answers its id.
    fn run_application(
        &mut self,
        name: String,
        params: String,
        blocking: bool,
    ) -> impl Future<Output = Result<String, String>> + Send;
    /// Waits up to `timeout` for run `run_id` to finish.
    fn await_run(
        &mut self,
        run_id: String,
        timeout: Duration,
    ) -> impl Future<Output = Result<RunEnd, String>> + Send;
}

/// One step execution for a runner.
pub struct Job {
    /// The request document of `ipaascore._runner.execute`, without upstream data.
    pub request_json: String,
    /// Pickles of the upstream steps' saved data, in `upstream` order.
    pub upstream_data: Vec<Option<Vec<u8>>>,
    /// The run's encrypted configuration values, decrypted by the node:
    /// (name, JSON text of the value).
    pub secrets: Vec<(String, String)>,
}

pub struct RunnerProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    /// Its temporary directory and cgroups, removed when it is dropped.
    _resources: RunnerResources,
    pub pid: u32,
    pub python_version: String,
    /// How long the runner took from spawn to ready.
    pub start_time: Duration,
}

fn describe(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = match sig {
            libc::SIGSEGV => " (SIGSEGV: segmentation fault)",
            libc::SIGKILL => " (SIGKILL: killed, e.g. by the kernel's out-of-memory killer)",
            libc::SIGABRT => " (SIGABRT: aborted)",
            libc::SIGBUS => " (SIGBUS: bus error)",
            libc::SIGFPE => " (SIGFPE: arithmetic fault)",
            _ => "",
        };
        format!("killed by signal {sig}{name}")
    } else {
        format!("exited with status {}", status.code().unwrap_or(-1))
    }
}

impl RunnerProcess {
    pub async fn spawn(cfg: &RunnerConfig) -> Result<RunnerProcess, RunnerError> {
        let started = Instant::now();
        let sandbox = cfg
            .sandbox
            .prepare(&cfg.exe, &cfg.lib_dir, &cfg.site_dirs, cfg.memory_limit_bytes)
            .map_err(|e| RunnerError::Spawn(e.to_string()))?;
        let mut cmd = Command::new(&cfg.exe);
        cmd.arg("runner")
            .arg("--lib")
            .arg(&cfg.lib_dir)
            .args(
                cfg.site_dirs
                    .iter()
                    .flat_map(|d| [std::ffi::OsStr::new("--site"), d.as_os_str()]),
            )
            .args(&sandbox.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            // Nothing of the node's environment (its secrets included)
            // reaches step code: only what Python needs.
            .env_clear()
            .envs(sandbox.env.iter().map(|(k, v)| (k, v)))
            // Without a PID namespace, the group is what the node can kill.
            .process_group(0);
        // SAFETY: only an async-signal-safe call (prctl) between fork and
        // exec; everything else is applied by runner mode itself.
        unsafe {
            cmd.pre_exec(|| {
                // A runner must not outlive its node (e.g. after kill -9).
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| RunnerError::Spawn(format!("{}: {e}", cfg.exe.display())))?;
        let pid = child.id().unwrap_or(0);
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| RunnerError::Spawn("no stdin pipe".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| RunnerError::Spawn("no stdout pipe".into()))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| RunnerError::Spawn("no stderr pipe".into()))?;
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(runner = pid, "{line}");
                let mut t = tail.lock().unwrap_or_else(|p| p.into_inner());
                if t.len() == STDERR_TAIL_LINES {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        let mut runner = RunnerProcess {
            child,
            stdin,
            stdout,
            stderr_tail,
            _resources: sandbox.resources,
            pid,
            python_version: String::new(),
            start_time: Duration::ZERO,
        };
        match tokio::time::timeout(START_TIMEOUT, nonblocking::read::<FromRunner>(&mut runner.stdout)).await {
            Ok(Ok(FromRunner::Ready { python_version })) => {
                runner.python_version = python_version;
                runner.start_time = started.elapsed();
                Ok(runner)
            }
            Ok(Ok(FromRunner::RunnerError { message })) => Err(RunnerError::Spawn(message)),
            Ok(Ok(other)) => Err(RunnerError::Spawn(format!("unexpected first frame {other:?}"))),
            Ok(Err(e)) => {
                let why = runner.death_reason(e).await;
                Err(RunnerError::Spawn(why))
            }
            Err(_) => {
                runner.kill().await;
                Err(RunnerError::Spawn(format!("not ready within {START_TIMEOUT:?}")))
            }
        }
    }

    fn stderr_tail(&self) -> String {
        let t = self.stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
        t.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    /// Why the pipe broke: the exit status if the process ended, with the
    /// last lines it wrote to stderr.
    async fn death_reason(&mut self, e: FrameError) -> String {
        let status = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        // Let the stderr reader drain what the process wrote before dying.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut why = match status {
            Ok(Ok(s)) => describe(s),
            _ => format!("the pipe failed ({e})"),
        };
        let tail = self.stderr_tail();
        if !tail.is_empty() {
            why.push_str("; its last output:\n");
            why.push_str(&tail);
        }
        why
    }

    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        // Without a PID namespace, what the runner started may still run in
        // its process group.
        if let Ok(pgid) = i32::try_from(self.pid) {
            // SAFETY: kill has no memory effects; the group is the runner's.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    }

    async fn send(&mut self, msg: &ToRunner) -> Result<(), RunnerError> {
        match nonblocking::write(&mut self.stdin, msg).await {
            Ok(()) => Ok(()),
            Err(e) => Err(RunnerError::Died(self.death_reason(e).await)),
        }
    }

    /// Asks the runner to compile and instantiate a step; answers the JSON
    /// document of `ipaascore._runner.validate`.
    pub async fn validate(
        &mut self,
        class_name: &str,
        source: &str,
        module: Option<&str>,
    ) -> Result<serde_json::Value, RunnerError> {
        self.send(&ToRunner::Validate {
            class_name: class_name.to_string(),
            source: source.to_string(),
            module: module.map(str::to_string),
        })
        .await?;
        match nonblocking::read::<FromRunner>(&mut self.stdout).await {
            Ok(FromRunner::Validated { json }) => serde_json::from_str(&json)
                .map_err(|e| RunnerError::Internal(format!("bad validation answer: {e}"))),
            Ok(FromRunner::RunnerError { message }) => Err(RunnerError::Internal(message)),
            Ok(other) => Err(RunnerError::Internal(format!("unexpected frame {other:?}"))),
            Err(e) => Err(RunnerError::Died(self.death_reason(e).await)),
        }
    }

    /// Executes one step, serving its host requests until it finishes, fails,
    /// times out or is cancelled. After any `Err` the runner must be replaced.
    pub async fn execute<H: RunnerHost>(
        &mut self,
        job: Job,
        host: &mut H,
        timeout: Option<Duration>,
        cancel: &mut watch::Receiver<bool>,
    ) -> Result<ExecResult, RunnerError> {
        self.send(&ToRunner::Execute {
            request_json: job.request_json,
            upstream_data: job.upstream_data,
            secrets: job.secrets,
        })
        .await?;
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        loop {
            let frame = tokio::select! {
                f = nonblocking::read::<FromRunner>(&mut self.stdout) => f,
                e = interrupted(deadline, timeout, cancel) => {
                    self.kill().await;
                    return Err(e);
                }
            };
            let reply = match frame {
                Ok(FromRunner::Finished(result)) => return Ok(result),
                Ok(FromRunner::Log(record)) => {
                    host.log(record).await;
                    None
                }
                Ok(FromRunner::CacheGet { key }) => Some(ToRunner::CacheValue(host.cache_get(key).await)),
                Ok(FromRunner::ApplicationGet { name }) => {
                    Some(ToRunner::ApplicationDoc(host.application(name).await))
                }
                Ok(FromRunner::CacheSet {
                    key,
                    value,
                    expiry_seconds,
                }) => Some(ToRunner::CacheDone(
                    host.cache_set(key, value, expiry_seconds).await,
                )),
                Ok(FromRunner::CacheDelete { key }) => {
                    Some(ToRunner::CacheDone(host.cache_delete(key).await))
                }
                Ok(FromRunner::RunApplication {
                    name,
                    params,
                    blocking,
                }) => Some(ToRunner::RunStarted(
                    host.run_application(name, params, blocking).await,
                )),
                // A wait may be long: the step's timeout and revocation
                // still end it.
                Ok(FromRunner::AwaitRun {
                    run_id,
                    timeout_seconds,
                }) => {
                    let wait = Duration::try_from_secs_f64(timeout_seconds.max(0.0)).unwrap_or(Duration::MAX);
                    tokio::select! {
                        end = host.await_run(run_id, wait) => Some(ToRunner::RunEnded(end)),
                        e = interrupted(deadline, timeout, cancel) => {
                            self.kill().await;
                            return Err(e);
                        }
                    }
                }
                Ok(FromRunner::RunnerError { message }) => return Err(RunnerError::Internal(message)),
                Ok(other) => return Err(RunnerError::Internal(format!("unexpected frame {other:?}"))),
                Err(e) => return Err(RunnerError::Died(self.death_reason(e).await)),
            };
            if let Some(reply) = reply {
                self.send(&reply).await?;
            }
        }
    }
}

/// What ends an attempt from outside: its deadline (`timeout` after it
/// started) or the cancel switch. Resolves to the error the attempt ends with.
async fn interrupted(
    deadline: Option<tokio::time::Instant>,
    timeout: Option<Duration>,
    cancel: &mut watch::Receiver<bool>,
) -> RunnerError {
    tokio::select! {
        _ = sleep_until(deadline) => RunnerError::Timeout(timeout.unwrap_or_default()),
        _ = cancelled(cancel) => RunnerError::Revoked,
    }
}

/// Resolves once the cancel switch is on (never if its sender is gone).
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
