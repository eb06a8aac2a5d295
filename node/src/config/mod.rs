//! Node settings: defaults, the TOML file given with `--config`, environment
//! overrides and command-line flags, in increasing order of precedence.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::util::addr::split_addr;

mod args;
mod pools;
mod tls;
pub use args::{Args, Mode, RunnerSandboxArgs};
use pools::worker_pools;
pub use pools::WorkerPool;
pub use tls::{TlsMode, TlsSettings};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./is-data";
/// openraft narrates every election at info level; its warnings still show.
pub const DEFAULT_LOG_LEVEL: &str = "info,openraft=warn";
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// The largest application accepted at upload (`model::application::AppLimits`
/// has the same defaults; config may not name model types).
pub const DEFAULT_MAX_APP_STEPS: usize = 2_000;
pub const DEFAULT_MAX_APP_EDGES: usize = 20_000;
pub const DEFAULT_MAX_TASK_LOG_BYTES: u64 = 10 * 1024 * 1024;
pub const DEFAULT_MAX_INLINE_RESULT_BYTES: u64 = 1024 * 1024;
/// Runners run as this user when the node runs as root.
pub const DEFAULT_RUNNER_USER: &str = "nobody";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is invalid: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {name}={value:?} is invalid: {message}")]
    Env {
        name: String,
        value: String,
        message: String,
    },
    #[error("invalid setting: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeConfig {
    pub node_id: u64,
    pub data_dir: PathBuf,
    pub listen: String,
    pub advertise: String,
    pub max_body_bytes: u64,
    pub snapshot_every: u64,
    pub keep_after_snapshot: u64,
    pub log_format: LogFormat,
    pub log_level: String,
    pub worker_pools: Vec<WorkerPool>,
    /// Memory limit of each Python runner (None: unlimited): its whole
    /// process tree where a cgroup can be made, else each process's
    /// address space.
    pub runner_memory_limit_mb: Option<u64>,
    /// The user runners run as when the node runs as root (a name or a
    /// numeric uid).
    pub runner_user: String,
    /// Directories steps may read and write besides their private
    /// temporary directory (a drop folder shared with other programs).
    pub runner_shared_dirs: Vec<PathBuf>,
    /// How long loading an uploaded step may take.
    pub validation_timeout_seconds: f64,
    /// Timeout of steps that set none (None: no limit).
    pub step_timeout_seconds: Option<f64>,
    /// Largest pickle a step may save for the steps after it.
    pub max_output_bytes: u64,
    /// Most steps an uploaded application may have (400 above it).
    pub max_app_steps: usize,
    /// Most distinct edges (upstream, downstream pairs) an uploaded
    /// application may have (400 above it).
    pub max_app_edges: usize,
    /// Log bytes kept per task (message text, across attempts); records past
    /// it are dropped and counted in one marker record.
    pub max_task_log_bytes: u64,
    /// Largest result (JSON text) `GET /tasks/{id}` shows inline; a larger
    /// one is fetched from `GET /tasks/{id}/result`.
    pub max_inline_result_bytes: u64,
    /// Finished runs and tasks (results and logs) are forgotten after this long.
    pub result_expires_seconds: u64,
    /// Audit records are forgotten after this long.
    pub audit_expires_seconds: u64,
    /// A web UI session ends when it was not renewed for this long.
    pub session_expires_seconds: u64,
    /// IS_ADMIN_PASSWORD: the administrator's password for a new data directory.
    pub admin_password: Option<String>,
    /// The key-encryption key's file (None: `DATA/key-encryption-key`,
    /// generated when missing); `key`, from `IS_KEY`, takes precedence.
    pub key_file: Option<PathBuf>,
    pub key: Option<String>,
    /// Shared by the nodes of one cluster; authenticates node-to-node calls.
    /// None: this node accepts no peer traffic (a one-node cluster needs none).
    pub cluster_secret: Option<String>,
    /// Listener addresses (HOST:PORT) of members to ask for admission when
    /// the data directory is new; empty: start a new one-node cluster.
    pub join: Vec<String>,
    /// On SIGTERM, how long running steps may take to finish.
    pub drain_timeout_seconds: f64,
    /// How late a schedule's slot may still fire (after a leader change or
    /// an outage); older slots are recorded as missed.
    pub schedule_grace_seconds: f64,
    /// A client's request headers (and first bytes) must arrive within this.
    pub header_read_timeout_seconds: f64,
    /// A write that reaches a node while no leader can be reached waits this
    /// long for one (an election) before it fails with 503.
    pub leader_wait_seconds: f64,
    /// Connections the listener holds at once; more are closed at once.
    pub max_connections: usize,
    /// The actor network's listener (ractor_cluster), HOST:PORT; used only
    /// with a cluster secret. Default: the listen host, port + 10000.
    pub cluster_listen: String,
    /// TLS of the listener and of node-to-node traffic (`config/tls.rs`).
    pub tls: TlsSettings,
    pub syncpacks: SyncPackSettings,
    /// Where spans are exported over OTLP/HTTP (None: nowhere).
    pub otlp_endpoint: Option<String>,
}

/// How SyncPacks are accepted and installed.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncPackSettings {
    /// The largest wheel accepted.
    pub max_bytes: u64,
    /// Wheels for offline installs (pip `--find-links`).
    pub wheel_dir: Option<PathBuf>,
    /// Whether pip may use the package index.
    pub use_index: bool,
    pub index_url: Option<String>,
    /// Installed for every pack (packs of the original product used them
    /// without declaring them).
    pub base_packages: Vec<String>,
    /// The Python that runs pip and venv.
    pub python: PathBuf,
    pub install_timeout_seconds: u64,
    /// Whether a new cluster registers the Base Steps pack (off for a
    /// cluster whose operators bring their own copies of its content).
    pub base_pack: bool,
}

pub const DEFAULT_SYNCPACK_MAX_BYTES: u64 = 100 * 1024 * 1024;
pub const DEFAULT_BASE_PACKAGES: [&str; 4] = ["requests", "future", "jinja2", "six"];

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The config file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    node_id: Option<u64>,
    data_dir: Option<PathBuf>,
    key_file: Option<PathBuf>,
    listen: Option<String>,
    advertise: Option<String>,
    max_body_bytes: Option<u64>,
    snapshot_every: Option<u64>,
    keep_after_snapshot: Option<u64>,
    log_format: Option<LogFormat>,
    log_level: Option<String>,
    worker_pools: Option<Vec<WorkerPool>>,
    runner_memory_limit_mb: Option<u64>,
    runner_user: Option<String>,
    runner_shared_dirs: Option<Vec<PathBuf>>,
    validation_timeout_seconds: Option<f64>,
    step_timeout_seconds: Option<f64>,
    max_output_bytes: Option<u64>,
    max_app_steps: Option<usize>,
    max_app_edges: Option<usize>,
    max_task_log_bytes: Option<u64>,
    max_inline_result_bytes: Option<u64>,
    result_expires_seconds: Option<u64>,
    audit_expires_seconds: Option<u64>,
    session_expires_seconds: Option<u64>,
    cluster_secret: Option<String>,
    join: Option<Vec<String>>,
    drain_timeout_seconds: Option<f64>,
    schedule_grace_seconds: Option<f64>,
    header_read_timeout_seconds: Option<f64>,
    leader_wait_seconds: Option<f64>,
    max_connections: Option<usize>,
    cluster_listen: Option<String>,
    tls: Option<String>,
    tls_cert_file: Option<PathBuf>,
    tls_key_file: Option<PathBuf>,
    tls_ca_file: Option<PathBuf>,
    allow_plain_loopback: Option<bool>,
    syncpack_max_bytes: Option<u64>,
    syncpack_wheel_dir: Option<PathBuf>,
    syncpack_use_index: Option<bool>,
    syncpack_index_url: Option<String>,
    syncpack_base_packages: Option<Vec<String>>,
    syncpack_python: Option<PathBuf>,
    syncpack_install_timeout_seconds: Option<u64>,
    base_pack: Option<bool>,
    otlp_endpoint: Option<String>,
}

impl NodeConfig {
    /// Resolves the settings from flags, the environment (`env` looks a
    /// variable up) and the config file.
    pub fn resolve(args: &Args, env: impl Fn(&str) -> Option<String>) -> Result<NodeConfig, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let tls = tls::resolve(&env, &file)?;
        fn parsed<T: std::str::FromStr>(
            env: &impl Fn(&str) -> Option<String>,
            name: &str,
        ) -> Result<Option<T>, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            match env(name) {
                None => Ok(None),
                Some(v) => v.parse().map(Some).map_err(|e: T::Err| ConfigError::Env {
                    name: name.to_string(),
                    value: v.clone(),
                    message: e.to_string(),
                }),
            }
        }
        let log_format = match env("IS_LOG_FORMAT").as_deref() {
            None => file.log_format.unwrap_or(LogFormat::Text),
            Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError::Env {
                    name: "IS_LOG_FORMAT".into(),
                    value: other.into(),
                    message: "expected \"text\" or \"json\"".into(),
                })
            }
        };
        let listen = args
            .listen
            .clone()
            .or_else(|| env("IS_LISTEN"))
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let cluster_listen = match env("IS_CLUSTER_LISTEN").or(file.cluster_listen) {
            Some(a) => a,
            None => match split_addr(&listen) {
                // Port 0 (any free port) has no fixed twin: peers could not be told it.
                Some((host, port)) if port != 0 && port <= 55535 => format!("{host}:{}", port + 10000),
                _ => String::new(),
            },
        };
        let cfg = NodeConfig {
            node_id: parsed(&env, "IS_NODE_ID")?.or(file.node_id).unwrap_or(1),
            data_dir: args
                .data_dir
                .clone()
                .or_else(|| env("IS_DATA_DIR").map(PathBuf::from))
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            advertise: env("IS_ADVERTISE")
                .or(file.advertise)
                .unwrap_or_else(|| listen.clone()),
            listen,
            max_body_bytes: parsed(&env, "IS_MAX_BODY_BYTES")?
                .or(file.max_body_bytes)
                .unwrap_or(DEFAULT_MAX_BODY_BYTES),
            snapshot_every: parsed(&env, "IS_SNAPSHOT_EVERY")?
                .or(file.snapshot_every)
                .unwrap_or(5000),
            keep_after_snapshot: parsed(&env, "IS_KEEP_AFTER_SNAPSHOT")?
                .or(file.keep_after_snapshot)
                .unwrap_or(1000),
            log_format,
            log_level: env("IS_LOG")
                .or(file.log_level)
                .unwrap_or_else(|| DEFAULT_LOG_LEVEL.to_string()),
            worker_pools: worker_pools(file.worker_pools, parsed::<usize>(&env, "IS_WORKERS")?),
            otlp_endpoint: (env("IS_OTLP_ENDPOINT").or(file.otlp_endpoint))
                .or_else(|| env("OTEL_EXPORTER_OTLP_ENDPOINT"))
                .filter(|e| !e.is_empty()),
            runner_memory_limit_mb: match parsed::<u64>(&env, "IS_RUNNER_MEMORY_MB")?
                .or(file.runner_memory_limit_mb)
                .unwrap_or(2048)
            {
                0 => None,
                mb => Some(mb),
            },
            runner_user: env("IS_RUNNER_USER")
                .or(file.runner_user)
                .unwrap_or_else(|| DEFAULT_RUNNER_USER.to_string()),
            runner_shared_dirs: match env("IS_RUNNER_SHARED_DIRS") {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(PathBuf::from)
                    .collect(),
                None => file.runner_shared_dirs.unwrap_or_default(),
            },
            validation_timeout_seconds: parsed::<f64>(&env, "IS_VALIDATION_TIMEOUT_SECONDS")?
                .or(file.validation_timeout_seconds)
                .unwrap_or(30.0),
            step_timeout_seconds: parsed::<f64>(&env, "IS_STEP_TIMEOUT_SECONDS")?
                .or(file.step_timeout_seconds)
                .filter(|s| *s > 0.0),
            max_output_bytes: parsed(&env, "IS_MAX_OUTPUT_BYTES")?
                .or(file.max_output_bytes)
                .unwrap_or(64 * 1024 * 1024),
            max_app_steps: parsed(&env, "IS_MAX_APP_STEPS")?
                .or(file.max_app_steps)
                .unwrap_or(DEFAULT_MAX_APP_STEPS),
            max_app_edges: parsed(&env, "IS_MAX_APP_EDGES")?
                .or(file.max_app_edges)
                .unwrap_or(DEFAULT_MAX_APP_EDGES),
            max_task_log_bytes: parsed(&env, "IS_MAX_TASK_LOG_BYTES")?
                .or(file.max_task_log_bytes)
                .unwrap_or(DEFAULT_MAX_TASK_LOG_BYTES),
            max_inline_result_bytes: parsed(&env, "IS_MAX_INLINE_RESULT_BYTES")?
                .or(file.max_inline_result_bytes)
                .unwrap_or(DEFAULT_MAX_INLINE_RESULT_BYTES),
            result_expires_seconds: parsed(&env, "IS_RESULT_EXPIRES_SECONDS")?
                .or(file.result_expires_seconds)
                .unwrap_or(24 * 3600),
            audit_expires_seconds: parsed(&env, "IS_AUDIT_EXPIRES_SECONDS")?
                .or(file.audit_expires_seconds)
                .unwrap_or(90 * 24 * 3600),
            session_expires_seconds: parsed(&env, "IS_SESSION_EXPIRES_SECONDS")?
                .or(file.session_expires_seconds)
                .unwrap_or(3600),
            admin_password: env("IS_ADMIN_PASSWORD"),
            key_file: env("IS_KEY_FILE").map(PathBuf::from).or(file.key_file),
            key: env("IS_KEY").filter(|k| !k.is_empty()),
            cluster_secret: env("IS_CLUSTER_SECRET")
                .or(file.cluster_secret)
                .filter(|s| !s.is_empty()),
            join: match env("IS_JOIN") {
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect(),
                None => file.join.unwrap_or_default(),
            },
            drain_timeout_seconds: parsed::<f64>(&env, "IS_DRAIN_TIMEOUT_SECONDS")?
                .or(file.drain_timeout_seconds)
                .unwrap_or(30.0)
                .max(0.0),
            schedule_grace_seconds: parsed::<f64>(&env, "IS_SCHEDULE_GRACE_SECONDS")?
                .or(file.schedule_grace_seconds)
                .unwrap_or(60.0)
                .max(0.0),
            header_read_timeout_seconds: parsed::<f64>(&env, "IS_HEADER_READ_TIMEOUT_SECONDS")?
                .or(file.header_read_timeout_seconds)
                .unwrap_or(10.0),
            leader_wait_seconds: parsed::<f64>(&env, "IS_LEADER_WAIT_SECONDS")?
                .or(file.leader_wait_seconds)
                .unwrap_or(10.0),
            max_connections: parsed::<usize>(&env, "IS_MAX_CONNECTIONS")?
                .or(file.max_connections)
                .unwrap_or(4096),
            cluster_listen,
            tls,
            syncpacks: SyncPackSettings {
                max_bytes: parsed(&env, "IS_SYNCPACK_MAX_BYTES")?
                    .or(file.syncpack_max_bytes)
                    .unwrap_or(DEFAULT_SYNCPACK_MAX_BYTES),
                wheel_dir: env("IS_SYNCPACK_WHEEL_DIR")
                    .map(PathBuf::from)
                    .or(file.syncpack_wheel_dir)
                    .filter(|d| !d.as_os_str().is_empty()),
                use_index: parsed(&env, "IS_SYNCPACK_USE_INDEX")?
                    .or(file.syncpack_use_index)
                    .unwrap_or(true),
                index_url: env("IS_SYNCPACK_INDEX_URL")
                    .or(file.syncpack_index_url)
                    .filter(|u| !u.is_empty()),
                base_packages: match env("IS_SYNCPACK_BASE_PACKAGES") {
                    Some(list) => list
                        .split(',')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect(),
                    None => file
                        .syncpack_base_packages
                        .unwrap_or_else(|| DEFAULT_BASE_PACKAGES.map(String::from).to_vec()),
                },
                python: env("IS_SYNCPACK_PYTHON")
                    .map(PathBuf::from)
                    .or(file.syncpack_python)
                    .unwrap_or_else(|| PathBuf::from("python3")),
                install_timeout_seconds: parsed(&env, "IS_SYNCPACK_INSTALL_TIMEOUT_SECONDS")?
                    .or(file.syncpack_install_timeout_seconds)
                    .unwrap_or(600),
                base_pack: parsed(&env, "IS_BASE_PACK")?.or(file.base_pack).unwrap_or(true),
            },
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// The settings once the listener is bound to `port`. An advertised port
    /// of 0 (what advertise defaults to when listen asks for any free port)
    /// would tell peers nothing, so it becomes the port actually bound.
    pub fn with_bound_port(&self, port: u16) -> NodeConfig {
        let mut cfg = self.clone();
        if let Some((host, 0)) = split_addr(&self.advertise) {
            cfg.advertise = format!("{host}:{port}");
        }
        cfg
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.node_id == 0 {
            return Err(ConfigError::Invalid("node_id must be at least 1".into()));
        }
        if let Some(e) = self
            .otlp_endpoint
            .as_deref()
            .filter(|e| !e.starts_with("http://"))
        {
            return Err(ConfigError::Invalid(format!(
                "otlp_endpoint must be an http:// URL, got {e:?}: spans are sent over plain HTTP \
                 (for TLS, run an OpenTelemetry Collector beside the node and point it there)"
            )));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid(format!(
                "max_body_bytes must be at least 1024, got {}",
                self.max_body_bytes
            )));
        }
        if !(0.1..=3600.0).contains(&self.header_read_timeout_seconds) {
            return Err(ConfigError::Invalid(format!(
                "header_read_timeout_seconds must be from 0.1 to 3600, got {} (IS_HEADER_READ_TIMEOUT_SECONDS)",
                self.header_read_timeout_seconds
            )));
        }
        if !(0.0..=600.0).contains(&self.leader_wait_seconds) {
            return Err(ConfigError::Invalid(format!(
                "leader_wait_seconds must be from 0 to 600, got {} (IS_LEADER_WAIT_SECONDS)",
                self.leader_wait_seconds
            )));
        }
        if self.audit_expires_seconds < 60 {
            return Err(ConfigError::Invalid(format!(
                "audit_expires_seconds must be at least 60, got {} (IS_AUDIT_EXPIRES_SECONDS)",
                self.audit_expires_seconds
            )));
        }
        if !(60..=86_400).contains(&self.session_expires_seconds) {
            return Err(ConfigError::Invalid(format!(
                "session_expires_seconds must be between 60 and 86400, got {} (IS_SESSION_EXPIRES_SECONDS)",
                self.session_expires_seconds
            )));
        }
        if self.max_connections < 16 {
            return Err(ConfigError::Invalid(format!(
                "max_connections must be at least 16, got {} (IS_MAX_CONNECTIONS)",
                self.max_connections
            )));
        }
        if self.max_app_steps == 0 {
            return Err(ConfigError::Invalid(
                "max_app_steps must be at least 1 (IS_MAX_APP_STEPS)".into(),
            ));
        }
        if self.max_app_edges == 0 {
            return Err(ConfigError::Invalid(
                "max_app_edges must be at least 1 (IS_MAX_APP_EDGES)".into(),
            ));
        }
        if self.syncpacks.max_bytes < 1024 {
            return Err(ConfigError::Invalid(format!(
                "syncpack_max_bytes must be at least 1024, got {}",
                self.syncpacks.max_bytes
            )));
        }
        if self.snapshot_every == 0 {
            return Err(ConfigError::Invalid("snapshot_every must be at least 1".into()));
        }
        if let Some(mb) = self.runner_memory_limit_mb {
            if mb < 64 {
                return Err(ConfigError::Invalid(format!(
                    "runner_memory_limit_mb must be 0 (no limit) or at least 64, got {mb}: CPython itself needs more"
                )));
            }
        }
        if self.runner_user.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "runner_user must name a user (IS_RUNNER_USER); runners of a root node never run as root"
                    .into(),
            ));
        }
        if !(0.5..=3600.0).contains(&self.validation_timeout_seconds) {
            return Err(ConfigError::Invalid(format!(
                "validation_timeout_seconds must be from 0.5 to 3600, got {} (IS_VALIDATION_TIMEOUT_SECONDS)",
                self.validation_timeout_seconds
            )));
        }
        for (i, p) in self.worker_pools.iter().enumerate() {
            if p.queues.iter().any(|q| q.trim().is_empty()) {
                return Err(ConfigError::Invalid(format!(
                    "worker_pools[{i}] names an empty queue"
                )));
            }
        }
        if !self.join.is_empty() && self.cluster_secret.is_none() {
            return Err(ConfigError::Invalid(
                "join is set but cluster_secret is not: every node of a cluster needs the same \
                 cluster_secret (IS_CLUSTER_SECRET)"
                    .into(),
            ));
        }
        if let Some(a) = self.join.iter().find(|a| !a.contains(':')) {
            return Err(ConfigError::Invalid(format!(
                "join addresses must be HOST:PORT, got {a:?}"
            )));
        }
        if self.cluster_secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(ConfigError::Invalid(
                "cluster_secret must be at least 16 characters".into(),
            ));
        }
        if self.cluster_secret.is_some() && split_addr(&self.cluster_listen).is_none() {
            return Err(ConfigError::Invalid(format!(
                "cluster_listen must be HOST:PORT, got {:?} (set it when listen's port is 0 or above 55535)",
                self.cluster_listen
            )));
        }
        if !self.listen.contains(':') {
            return Err(ConfigError::Invalid(format!(
                "listen must be HOST:PORT, got {:?}",
                self.listen
            )));
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests;
