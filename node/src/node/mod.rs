//! Start-up and shutdown of a node: storage and Raft, first-time bootstrap of
//! the cluster (key and administrator), the listener and the supervisor.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ractor::Actor;

mod admin_password;
pub mod otlp;
mod tls;
use admin_password::{forget_initial_password, generated_password};

use crate::actors::dispatcher::{dispatcher, DispatchMsg};
use crate::actors::mesh;
use crate::actors::shared::NodeShared;
use crate::actors::telemetry::Telemetry;
use crate::actors::worker::WorkerContext;
use crate::actors::{NodeServices, Supervisor};
use crate::api::server::ListenerChild;
use crate::api::{self, auth::Authenticator, passwords::PasswordGate, Service, ServiceDeps};
use crate::config::NodeConfig;
use crate::crypto::{self, ClusterKey};
use crate::model::application::AppLimits;
use crate::model::node::NodeInfo;
use crate::model::user::{User, ADMIN_USER};
use crate::python::process::RunnerConfig;
use crate::python::sandbox::{SandboxError, SandboxPlan};
use crate::python::validator::Validator;
use crate::raft::network::Peers;
use crate::raft::{self, membership, RaftError, RaftSettings};
use crate::store::{Command, CommandResult, Effect, Events};
use crate::syncpack::env::EnvSettings;

/// Snapshot once the Raft log not yet purged holds this many bytes (see
/// `RaftSettings::snapshot_log_bytes`): with step results of a megabyte in
/// entries, `snapshot_every` entries alone let the log reach gigabytes.
const SNAPSHOT_LOG_BYTES: u64 = 64 << 20;

pub const ADMIN_PASSWORD_FILE: &str = "initial-admin-password";
/// The key-encryption key's file in the data directory, unless `key_file` names another.
pub const KEK_FILE: &str = "key-encryption-key";
/// Holds the bound listener address, `HOST:PORT` and a newline.
pub const LISTEN_ADDRESS_FILE: &str = "listen-address";

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Raft(#[from] RaftError),
    #[error("cannot listen on {addr}: {source} (is another process using this port? set --listen)")]
    Listen { addr: String, source: std::io::Error },
    #[error("bootstrapping the cluster failed: {0}")]
    Bootstrap(String),
    #[error("the supervisor failed to start: {0}")]
    Supervisor(String),
    #[error(transparent)]
    Mesh(#[from] crate::actors::mesh::MeshError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Keys(#[from] crypto::KeyError),
    #[error(transparent)]
    Tls(#[from] crypto::tls::TlsError),
    #[error("the TLS configuration cannot be built: {0}")]
    TlsConfig(String),
}

/// A running node; dropping it does not stop it, call [`Node::shutdown`].
pub struct Node {
    raft: raft::Raft,
    supervisor: ractor::ActorRef<crate::actors::SupervisorMsg>,
    supervisor_task: tokio::task::JoinHandle<()>,
    /// Background tasks that are not actors (cannot fail): effect pump, purge timer.
    background: Vec<tokio::task::JoinHandle<()>>,
    /// What the node's actors share (cancel switches, the drain flag).
    shared: NodeShared,
    pub local_addr: std::net::SocketAddr,
}

impl Node {
    /// `telemetry`: what its workers observe, and the tracer (`node::otlp`).
    pub async fn start(cfg: &NodeConfig, telemetry: Telemetry) -> Result<Node, NodeError> {
        let data_dir = &cfg.data_dir;
        std::fs::create_dir_all(data_dir).map_err(|source| NodeError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        // Bind first: a port conflict should fail start-up before anything else.
        let listener = std::net::TcpListener::bind(&cfg.listen).map_err(|source| NodeError::Listen {
            addr: cfg.listen.clone(),
            source,
        })?;
        let local_addr = listener.local_addr().map_err(|source| NodeError::Listen {
            addr: cfg.listen.clone(),
            source,
        })?;
        let cfg = &cfg.with_bound_port(local_addr.port());
        // Before the address is announced: whoever reads it finds the certificate.
        let tls = tls::setup(cfg)?;
        // With listen port 0 this file is how scripts and tests learn the port.
        write_listen_address(data_dir, local_addr)?;
        // The connection cap, not the descriptor limit, refuses clients: it
        // stays below the open-file limit with room for the node's own files.
        let file_limit = crate::api::listen::raise_file_limit();
        let listen_limits = crate::api::listen::ListenLimits {
            header_timeout: Duration::from_secs_f64(cfg.header_read_timeout_seconds),
            max_connections: match usize::try_from(file_limit.saturating_sub(256)) {
                Ok(room) if room >= 16 && room < cfg.max_connections => room,
                _ => cfg.max_connections,
            },
        };
        tracing::info!(
            file_limit,
            max_connections = listen_limits.max_connections,
            header_read_timeout_seconds = cfg.header_read_timeout_seconds,
            "listener limits"
        );

        let settings = RaftSettings {
            snapshot_every: cfg.snapshot_every,
            keep_after_snapshot: cfg.keep_after_snapshot,
            snapshot_log_bytes: SNAPSHOT_LOG_BYTES,
            leader_wait: Duration::from_secs_f64(cfg.leader_wait_seconds),
        };
        let lib_dir = data_dir.join("python/lib");
        crate::python::embedded::install(&lib_dir).map_err(|source| NodeError::DataDir {
            path: lib_dir.display().to_string(),
            source,
        })?;
        let exe = std::env::current_exe().map_err(|source| NodeError::DataDir {
            path: "the isnode executable".into(),
            source,
        })?;
        let memory_limit_bytes = cfg.runner_memory_limit_mb.map(|mb| mb * 1024 * 1024);
        let sandbox = SandboxPlan::decide(
            data_dir,
            &exe,
            &lib_dir,
            &cfg.runner_user,
            &cfg.runner_shared_dirs,
            memory_limit_bytes,
        )?;
        tracing::info!("{}", sandbox.describe(memory_limit_bytes));
        let keys = crypto::KeyRing::load(
            cfg.key.as_deref(),
            &cfg.key_file.clone().unwrap_or_else(|| data_dir.join(KEK_FILE)),
        )?;
        let runner = RunnerConfig {
            exe,
            lib_dir,
            memory_limit_bytes,
            site_dirs: Vec::new(),
            sandbox: Arc::new(sandbox),
        };
        let pack_envs = Arc::new(EnvSettings {
            root: data_dir.join("syncpacks"),
            python: cfg.syncpacks.python.clone(),
            wheel_dir: cfg.syncpacks.wheel_dir.clone(),
            use_index: cfg.syncpacks.use_index,
            index_url: cfg.syncpacks.index_url.clone(),
            base_packages: cfg.syncpacks.base_packages.clone(),
            timeout: Duration::from_secs(cfg.syncpacks.install_timeout_seconds),
        });
        let events = Events::default();
        let effects = events
            .take_effects()
            .expect("a new event hub has its effect queue");
        // Started before Raft, so entries re-applied at start-up reach the
        // dispatcher as soon as it exists.
        let pump = tokio::spawn(pump_effects(effects));
        let joining = !cfg.join.is_empty();
        let member = raft::start(
            cfg.node_id,
            &cfg.advertise,
            &data_dir.join("raft"),
            &settings,
            events.clone(),
            Peers::new(cfg.cluster_secret.clone(), tls.peers.clone()),
            !joining,
        )
        .await?;

        let shared = NodeShared {
            telemetry,
            ..NodeShared::default()
        };
        // Each Argon2 hash holds about 19 MiB: no more at once than cores.
        let passwords = PasswordGate::new(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .clamp(1, 4),
        );
        let svc = Service::new(ServiceDeps {
            raft: member.raft.clone(),
            content: member.content.clone(),
            events: events.clone(),
            validator: Validator::new(
                runner.clone(),
                Duration::from_secs_f64(cfg.validation_timeout_seconds),
            ),
            node_id: cfg.node_id,
            body_limit: cfg.max_body_bytes,
            app_limits: AppLimits {
                max_steps: cfg.max_app_steps,
                max_edges: cfg.max_app_edges,
            },
            max_inline_result: cfg.max_inline_result_bytes,
            served: shared.served.clone(),
            pack_envs: pack_envs.clone(),
            syncpack_max_bytes: cfg.syncpacks.max_bytes,
            passwords: passwords.clone(),
            keys: keys.clone(),
            telemetry: shared.telemetry.clone(),
        });
        let worker_queues: Vec<Vec<String>> = cfg
            .worker_pools
            .iter()
            .flat_map(|p| std::iter::repeat_n(p.served_queues(), p.concurrency))
            .collect();
        let readiness = api::ready::Readiness::new(
            member.raft.clone(),
            member.content.clone(),
            shared.clone(),
            worker_queues.len(),
            data_dir.clone(),
        );
        let router = api::router(
            svc.clone(),
            Authenticator::new(
                member.content.clone(),
                passwords,
                crate::api::audit::AuditSink::start(member.raft.clone()),
                crate::api::session::Sessions::new(
                    keys.clone(),
                    member.content.clone(),
                    cfg.session_expires_seconds,
                ),
            ),
            readiness,
            cfg.cluster_secret.as_deref(),
        );
        let services = NodeServices {
            workers: WorkerContext {
                raft: member.raft.clone(),
                content: member.content.clone(),
                events: events.clone(),
                runner,
                default_timeout: cfg.step_timeout_seconds.map(Duration::from_secs_f64),
                max_output_bytes: cfg.max_output_bytes,
                max_task_log_bytes: cfg.max_task_log_bytes,
                shared: shared.clone(),
                pack_envs: pack_envs.clone(),
                keys: keys.clone(),
            },
            worker_queues,
            worker_prefix: crate::model::node::worker_prefix(cfg.node_id),
            others: vec![Box::new(ListenerChild {
                router,
                listener,
                limits: listen_limits,
                tls: tls.listen.clone(),
            })],
        };
        // The listener serves before a leader is known: peers need this
        // node's Raft RPCs to elect one.
        let (supervisor, supervisor_task) = Actor::spawn(Some("supervisor".into()), Supervisor, services)
            .await
            .map_err(|e| NodeError::Supervisor(e.to_string()))?;
        let mut background = vec![
            pump,
            tokio::spawn(crate::actors::installer::run(
                member.raft.clone(),
                member.content.clone(),
                events.clone(),
                pack_envs,
            )),
            tokio::spawn(crate::actors::scheduler::run(
                member.raft.clone(),
                member.content.clone(),
                Duration::from_secs_f64(cfg.schedule_grace_seconds),
            )),
        ];
        let cluster_addr = match &cfg.cluster_secret {
            Some(secret) => {
                let max_frame = cfg.max_output_bytes + 1024 * 1024;
                let server = mesh::start(
                    cfg.node_id,
                    &cfg.cluster_listen,
                    secret,
                    max_frame,
                    tls.mesh.as_ref(),
                )
                .await?;
                background.push(tokio::spawn(mesh::keep_connected(
                    server,
                    member.raft.clone(),
                    member.content.clone(),
                    tls.mesh.clone(),
                )));
                Some(advertised_cluster_addr(cfg))
            }
            None => None,
        };
        let info = NodeInfo {
            id: cfg.node_id,
            api_addr: cfg.advertise.clone(),
            cluster_addr,
            pools: cfg
                .worker_pools
                .iter()
                .map(|p| (p.served_queues(), p.concurrency))
                .collect(),
        };
        background.push(tokio::spawn(register(svc.clone(), info)));
        if joining && !membership::is_voter(&member.raft) {
            tracing::info!(node_id = cfg.node_id, members = ?cfg.join, "asking to join the cluster");
            background.push(tokio::spawn(membership::join(
                member.raft.clone(),
                cfg.advertise.clone(),
                cfg.join.clone(),
            )));
        } else {
            match raft::wait_for_leader(&member.raft, Duration::from_secs(30)).await {
                Ok(leader) => {
                    tracing::info!(node_id = cfg.node_id, leader, "raft member ready");
                    if member.content.read().content.cluster.is_none() && leader == cfg.node_id {
                        bootstrap(
                            &svc,
                            data_dir,
                            cfg.admin_password.as_deref(),
                            cfg.syncpacks.base_pack,
                        )
                        .await?;
                    } else if cfg.admin_password.is_some() {
                        tracing::info!(
                            "IS_ADMIN_PASSWORD is ignored: this data directory is already bootstrapped"
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "serving without a leader; writes fail until one is elected")
                }
            }
        }
        let sealed = member
            .content
            .read()
            .content
            .cluster
            .as_ref()
            .map(|c| c.cluster_key.clone());
        if let Some(Err(e)) = sealed.map(|s| keys.cluster_key(&s)) {
            tracing::error!(error = %e, "configuration secrets cannot be opened on this node");
        }
        if data_dir.join(ADMIN_PASSWORD_FILE).exists() {
            background.push(tokio::spawn(forget_initial_password(
                member.content.clone(),
                data_dir.join(ADMIN_PASSWORD_FILE),
            )));
        }
        let purge = tokio::spawn(purge_expired(
            member.raft.clone(),
            Duration::from_secs(cfg.result_expires_seconds),
            Duration::from_secs(cfg.audit_expires_seconds),
        ));
        tracing::info!(%local_addr, scheme = tls.scheme(), data_dir = %data_dir.display(), "isnode is serving REST and gRPC");
        Ok(Node {
            raft: member.raft,
            supervisor,
            supervisor_task,
            background: {
                background.push(purge);
                background
            },
            shared,
            local_addr,
        })
    }

    /// Drains (DESIGN 4.8): takes no more steps, lets running ones finish
    /// within `deadline`, hands leadership to another voter, then stops.
    pub async fn drain_and_shutdown(self, deadline: Duration) {
        let until = tokio::time::Instant::now() + deadline;
        self.shared.draining.start();
        if let Some(d) = dispatcher() {
            let _ = d.cast(DispatchMsg::Drain);
        }
        let mut announced = false;
        loop {
            let running = self.shared.switches.running();
            if running == 0 {
                break;
            }
            if !announced {
                tracing::info!(running, ?deadline, "draining: waiting for running steps");
                announced = true;
            }
            if tokio::time::Instant::now() >= until {
                tracing::warn!(
                    "drain deadline passed; steps still running are stopped and run again elsewhere"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Outcomes are queued in Raft without waiting; an empty batch queued
        // behind them is applied only after them (one FIFO queue).
        let barrier = raft::propose(&self.raft, Command::Batch(Vec::new()));
        if tokio::time::timeout(Duration::from_secs(5), barrier)
            .await
            .is_err()
        {
            tracing::warn!("the last step outcomes were not committed within 5 s");
        }
        membership::hand_over(&self.raft, Duration::from_secs(5)).await;
        self.shutdown().await;
    }

    /// Stops the listener and the actors, then Raft.
    pub async fn shutdown(self) {
        self.supervisor.stop(Some("shutdown".into()));
        let _ = self.supervisor_task.await;
        for task in self.background {
            task.abort();
        }
        if let Err(e) = self.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown reported an error");
        }
    }
}

/// The actor network address peers dial: the advertised host, cluster port.
fn advertised_cluster_addr(cfg: &NodeConfig) -> String {
    let port = crate::util::addr::split_addr(&cfg.cluster_listen).map_or(0, |(_, p)| p);
    let host = crate::util::addr::split_addr(&cfg.advertise).map_or("127.0.0.1", |(h, _)| h);
    format!("{host}:{port}")
}

/// Writes `addr` to DIR/listen-address via a renamed temporary file (never half written).
fn write_listen_address(data_dir: &Path, addr: std::net::SocketAddr) -> Result<(), NodeError> {
    let path = data_dir.join(LISTEN_ADDRESS_FILE);
    let tmp = data_dir.join(format!("{LISTEN_ADDRESS_FILE}.tmp"));
    std::fs::write(&tmp, format!("{addr}\n"))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| NodeError::DataDir {
            path: path.display().to_string(),
            source,
        })
}

/// Records this node's addresses and pools in the replicated state, once
/// the node is a member with a leader (retrying until then).
async fn register(svc: Service, info: NodeInfo) {
    let backoff = crate::util::Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    let mut failures = 0;
    loop {
        if svc.content().read().content.nodes.get(&info.id) == Some(&info) {
            return;
        }
        if svc.raft().leadership() != raft::Leadership::Unknown && membership::is_member(svc.raft()) {
            match svc.write(Command::RegisterNode(info.clone())).await {
                Ok(_) => return,
                Err(e) => tracing::debug!(error = %e, "cannot register this node yet"),
            }
        }
        failures += 1;
        tokio::time::sleep(backoff.delay(failures)).await;
    }
}

/// Hands the effects of applied entries to the dispatcher: tasks that became
/// ready (now or later) and tasks that must stop. If the dispatcher is
/// restarting the effect is dropped: a new dispatcher rebuilds its queues
/// from the replicated state.
async fn pump_effects(mut effects: tokio::sync::mpsc::UnboundedReceiver<Effect>) {
    while let Some(effect) = effects.recv().await {
        let mut dispatcher = dispatcher();
        for _ in 0..100 {
            if dispatcher.is_some() {
                break;
            }
            // Only at start-up: the dispatcher is not spawned yet.
            tokio::time::sleep(Duration::from_millis(20)).await;
            dispatcher = crate::actors::dispatcher::dispatcher();
        }
        let Some(d) = dispatcher else { continue };
        let msg = match effect {
            Effect::Ready {
                task_id,
                queue,
                not_before_ms,
            } => DispatchMsg::Enqueue {
                task_id,
                queue,
                not_before_ms,
            },
            Effect::Cancel { task_id } => DispatchMsg::Cancel { task_id },
        };
        let _ = d.cast(msg);
    }
}

/// Forgets finished runs and tasks older than `expires`, and audit records
/// older than `audit_expires`, through Raft, on the leader, a few times per
/// (run) expiry period.
async fn purge_expired(raft: raft::Raft, expires: Duration, audit_expires: Duration) {
    let every = (expires / 10).clamp(Duration::from_secs(1), Duration::from_secs(600));
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    // The log index a snapshot must reach since something expired: a
    // trigger while a snapshot is being built is dropped by openraft, so
    // it is asked again at each tick until a snapshot covers the purge.
    let mut snapshot_to: Option<u64> = None;
    loop {
        tick.tick().await;
        let is_leader = raft.current_leader().await == Some(raft.metrics().borrow().id);
        if !is_leader {
            continue;
        }
        let before_ms = crate::util::now_ms().saturating_sub(expires.as_millis() as u64);
        match raft::propose(&raft, Command::Purge { before_ms }).await {
            // Something expired: a new snapshot lets the log that still
            // holds it be purged (and the old snapshot file go).
            Ok(crate::store::CommandResult::Deleted { existed: true }) => {
                snapshot_to = raft.metrics().borrow().last_applied.map(|l| l.index);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired results failed"),
        }
        if let Some(at) = snapshot_to {
            let taken = raft.metrics().borrow().snapshot.map(|l| l.index);
            if taken.is_some_and(|t| t >= at) {
                snapshot_to = None;
            } else if let Err(e) = raft.trigger().snapshot().await {
                tracing::warn!(error = %e, "taking a snapshot after expiry failed");
            }
        }
        let before_ms = crate::util::now_ms().saturating_sub(audit_expires.as_millis() as u64);
        if let Err(e) = raft::propose(&raft, Command::PurgeAudit { before_ms }).await {
            tracing::warn!(error = %e, "purging expired audit records failed");
        }
    }
}

/// Stores the Base Steps pack, then creates the cluster identity, key and
/// administrator. The password comes from `IS_ADMIN_PASSWORD`, else from a
/// password file left by an earlier interrupted bootstrap, else it is
/// generated, saved (mode 0600) and printed.
async fn bootstrap(
    svc: &Service,
    data_dir: &Path,
    admin_password: Option<&str>,
    base_pack: bool,
) -> Result<(), NodeError> {
    let password = match admin_password {
        Some(p) if !p.is_empty() => p.to_string(),
        Some(_) => return Err(NodeError::Bootstrap("IS_ADMIN_PASSWORD is set but empty".into())),
        None => generated_password(data_dir)?,
    };
    let password_hash = crypto::hash_password(&password).map_err(|e| NodeError::Bootstrap(e.to_string()))?;
    // Before the administrator exists, so the first request that can log
    // in finds the pack (a crash in between stores it again, as updates).
    if base_pack {
        store_base_pack(svc).await;
    } else {
        tracing::info!("base_pack is false: the Base Steps pack is not registered");
    }
    let cmd = Command::Bootstrap {
        cluster_id: uuid::Uuid::new_v4().to_string(),
        cluster_key: svc.keys().seal_cluster_key(&ClusterKey::generate_bytes()),
        admin: User {
            name: ADMIN_USER.to_string(),
            password_hash,
            role: Some(crate::model::user::Role::Administrator),
        },
    };
    match svc.write(cmd).await {
        Ok(CommandResult::Bootstrapped { already: false }) => {
            tracing::info!("cluster bootstrapped with administrator {ADMIN_USER}");
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) => Err(NodeError::Bootstrap(e.to_string())),
    }
}

/// Stores the Base Steps pack's steps and applications in a new cluster.
/// Each step is loaded by the validator like an upload. A step that fails is
/// logged and left out (the node still serves; `GET /steps/NAME` answers 404
/// for it) rather than failing the bootstrap, which would leave the cluster
/// without its administrator.
async fn store_base_pack(svc: &Service) {
    match svc.register_base_pack().await {
        Ok(stored) => tracing::info!(stored, "registered the Base Steps pack"),
        Err(e) => tracing::error!(error = %e, "the Base Steps pack was not registered"),
    }
}
