//! The operations of the API, one implementation shared by the gRPC service
//! and the REST bridge. Writes are proposed to Raft; reads serve the local
//! state machine.

use std::sync::Arc;
use std::time::Instant;

use is_proto::v1 as pb;
use serde_json::Value;

use super::{views, ApiError};
use crate::actors::shared::ServedQueues;
use crate::crypto::{self, ClusterKey};
use crate::model::application::{AppLimits, Application};
use crate::model::configuration::{Configuration, Sealed};
use crate::model::step::StepRecord;
use crate::model::syncpack::ContentKind;
use crate::python::validator::{ValidationError, Validator};
use crate::raft::Raft;
use crate::store::{Command, CommandResult, ContentHandle, Events, NodeId};

#[derive(Clone)]
pub struct Service {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) raft: Raft,
    pub(super) content: ContentHandle,
    pub(super) events: Events,
    pub(super) validator: Validator,
    node_id: NodeId,
    started: Instant,
    body_limit: u64,
    pub(super) app_limits: AppLimits,
    /// Largest result JSON a task status carries inline.
    pub(super) max_inline_result: u64,
    /// Queues some worker of the cluster serves (the dispatcher keeps it).
    pub(super) served: ServedQueues,
    /// Where this node keeps wheels and pack environments.
    pub(super) pack_envs: std::sync::Arc<crate::syncpack::env::EnvSettings>,
    pub(super) syncpack_max_bytes: u64,
    pub(super) passwords: super::passwords::PasswordGate,
    pub(super) keys: crypto::KeyRing,
    /// The API's request counters (`api::metrics`).
    requests: super::metrics::requests::RequestCounts,
    telemetry: crate::actors::telemetry::Telemetry,
}

/// What the service is built from.
pub struct ServiceDeps {
    pub raft: Raft,
    pub content: ContentHandle,
    pub events: Events,
    pub validator: Validator,
    pub node_id: NodeId,
    pub body_limit: u64,
    /// The largest application an upload may hold.
    pub app_limits: AppLimits,
    pub max_inline_result: u64,
    pub served: ServedQueues,
    pub pack_envs: std::sync::Arc<crate::syncpack::env::EnvSettings>,
    /// The largest SyncPack wheel accepted.
    pub syncpack_max_bytes: u64,
    /// Hashes passwords of new users and changed passwords.
    pub passwords: super::passwords::PasswordGate,
    /// This node's key-encryption key, which opens the cluster key.
    pub keys: crypto::KeyRing,
    /// What this node's workers observe (`GET /metrics`).
    pub telemetry: crate::actors::telemetry::Telemetry,
}

/// The three kinds of named content documents, for messages and lookups.
#[derive(Clone, Copy)]
enum Kind {
    Step,
    Application,
    Configuration,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Step => "step",
            Kind::Application => "application",
            Kind::Configuration => "configuration",
        }
    }

    fn collection(self) -> &'static str {
        match self {
            Kind::Step => "steps",
            Kind::Application => "applications",
            Kind::Configuration => "configurations",
        }
    }

    fn cli_noun(self) -> &'static str {
        match self {
            Kind::Step => "step",
            Kind::Application => "app",
            Kind::Configuration => "config",
        }
    }

    fn not_found(self, name: &str) -> ApiError {
        ApiError::NotFound(format!(
            "no {} named {name:?} (list them with GET /api/v1/{} or `iscli {} list`)",
            self.noun(),
            self.collection(),
            self.cli_noun()
        ))
    }
}

fn stored_answer(kind: Kind, name: &str, result: CommandResult) -> pb::Stored {
    let replaced = matches!(result, CommandResult::Stored { replaced: true });
    pb::Stored {
        name: name.to_string(),
        kind: kind.noun().to_string(),
        result: if replaced { "updated" } else { "created" }.to_string(),
    }
}

impl Service {
    pub fn new(deps: ServiceDeps) -> Service {
        Service {
            inner: Arc::new(Inner {
                raft: deps.raft,
                content: deps.content,
                events: deps.events,
                validator: deps.validator,
                node_id: deps.node_id,
                started: Instant::now(),
                body_limit: deps.body_limit,
                app_limits: deps.app_limits,
                max_inline_result: deps.max_inline_result,
                served: deps.served,
                pack_envs: deps.pack_envs,
                syncpack_max_bytes: deps.syncpack_max_bytes,
                passwords: deps.passwords,
                keys: deps.keys,
                requests: Default::default(),
                telemetry: deps.telemetry,
            }),
        }
    }

    /// The largest request body accepted, in bytes.
    pub fn body_limit(&self) -> u64 {
        self.inner.body_limit
    }

    pub fn content(&self) -> &ContentHandle {
        &self.inner.content
    }

    /// The counters of the requests this node answered (`GET /metrics`).
    pub fn request_counts(&self) -> &super::metrics::requests::RequestCounts {
        &self.inner.requests
    }

    /// What this node's workers observe (`GET /metrics`).
    pub fn telemetry(&self) -> &crate::actors::telemetry::Telemetry {
        &self.inner.telemetry
    }

    pub fn raft(&self) -> &crate::raft::Raft {
        &self.inner.raft
    }

    /// Proposes a command to Raft and waits until it is applied here.
    pub async fn write(&self, cmd: Command) -> Result<CommandResult, ApiError> {
        crate::raft::propose(&self.inner.raft, cmd)
            .await
            .map_err(ApiError::from)
    }

    pub(super) fn cluster_key(&self) -> Result<ClusterKey, ApiError> {
        let sm = self.inner.content.read();
        let identity = sm.content.cluster.as_ref().ok_or_else(|| {
            ApiError::Unavailable("the cluster is not bootstrapped yet; retry in a moment".into())
        })?;
        self.inner
            .keys
            .cluster_key(&identity.cluster_key)
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// This node's key-encryption key.
    pub fn keys(&self) -> &crypto::KeyRing {
        &self.inner.keys
    }

    async fn delete(&self, kind: Kind, name: &str, cmd: Command) -> Result<pb::Deleted, ApiError> {
        self.refuse_owned(
            match kind {
                Kind::Step => ContentKind::Step,
                Kind::Application => ContentKind::Application,
                Kind::Configuration => ContentKind::Configuration,
            },
            name,
        )?;
        match self.write(cmd).await? {
            CommandResult::Deleted { existed: true } => Ok(pb::Deleted {
                name: name.to_string(),
                deleted: true,
            }),
            _ => Err(kind.not_found(name)),
        }
    }

    // ---- steps ----

    /// Stores a step after loading it in a runner: it must compile, define
    /// the class `name` as a BaseStep subclass and instantiate; its metadata
    /// is recorded for `GET /steps/{name}` and run-time checks.
    pub async fn put_step(&self, name: &str, source: &str) -> Result<pb::Stored, ApiError> {
        let mut step = StepRecord::validate(name, source)?;
        // Owned content is refused before a runner is spent on loading it.
        self.refuse_owned(ContentKind::Step, name)?;
        let meta = self.inner.validator.validate(name, source).await.map_err(|e| match e {
            ValidationError::Invalid { message, line, traceback } => ApiError::BadRequest {
                message: format!("step {name:?} does not load: {message}"),
                details: std::iter::once(match line {
                    Some(l) => format!("line {l}: {message}"),
                    None => message.clone(),
                })
                .chain(traceback)
                .collect(),
            },
            ValidationError::Timeout(_) => ApiError::BadRequest {
                message: format!("step {name:?} does not load: {e}"),
                details: vec![e.to_string()],
            },
            ValidationError::Runner(r) => ApiError::Unavailable(format!(
                "cannot check the step because the Python runner failed ({r}); retry, and check the node log if it persists"
            )),
        })?;
        step.meta = Some(serde_json::from_value(meta).map_err(|e| {
            ApiError::Internal(format!("the step validator answered an unreadable report: {e}"))
        })?);
        let result = self.write(Command::PutStep(step)).await?;
        Ok(stored_answer(Kind::Step, name, result))
    }

    pub fn get_step(&self, name: &str) -> Result<pb::StepInfo, ApiError> {
        let sm = self.inner.content.read();
        sm.content
            .steps
            .get(name)
            .map(views::step_info)
            .ok_or_else(|| Kind::Step.not_found(name))
    }

    pub async fn delete_step(&self, name: &str) -> Result<pb::Deleted, ApiError> {
        self.delete(Kind::Step, name, Command::DeleteStep { name: name.into() })
            .await
    }

    // ---- applications ----

    /// Stores an application that is valid and within this node's limits
    /// (`max_app_steps`, `max_app_edges`), checked before it is proposed.
    pub async fn put_application(&self, doc: Value) -> Result<pb::Stored, ApiError> {
        let app = Application::validate(doc)?;
        app.check_limits(&self.inner.app_limits)?;
        self.refuse_owned(ContentKind::Application, &app.name)?;
        let name = app.name.clone();
        let result = self.write(Command::PutApplication(app)).await?;
        Ok(stored_answer(Kind::Application, &name, result))
    }

    /// The stored application (REST answers its document as uploaded, gRPC
    /// the typed message built from it).
    pub fn get_application(&self, name: &str) -> Result<Application, ApiError> {
        let sm = self.inner.content.read();
        sm.content
            .applications
            .get(name)
            .cloned()
            .ok_or_else(|| Kind::Application.not_found(name))
    }

    pub async fn delete_application(&self, name: &str) -> Result<pb::Deleted, ApiError> {
        self.delete(
            Kind::Application,
            name,
            Command::DeleteApplication { name: name.into() },
        )
        .await
    }

    // ---- configurations ----

    /// Stores a configuration with every encrypted value sealed under the
    /// cluster key; values that already are this cluster's ciphertext (an
    /// exported configuration uploaded again) are kept as they are.
    pub async fn put_configuration(&self, doc: Value) -> Result<pb::Stored, ApiError> {
        let cfg = self.sealed_configuration(doc)?;
        self.refuse_owned(ContentKind::Configuration, &cfg.name)?;
        let name = cfg.name.clone();
        let result = self.write(Command::PutConfiguration(cfg)).await?;
        Ok(stored_answer(Kind::Configuration, &name, result))
    }

    /// A valid configuration with its encrypted values sealed.
    pub(super) fn sealed_configuration(&self, doc: Value) -> Result<Configuration, ApiError> {
        let mut cfg = Configuration::validate(doc)?;
        let key = self.cluster_key()?;
        cfg.seal_secrets(|_, value| match value {
            Value::String(s) if crypto::looks_sealed(s) => key
                .open(s)
                .map(|_| Sealed::AlreadySealed)
                .map_err(|e| e.to_string()),
            other => {
                let plain = serde_json::to_vec(other).map_err(|e| e.to_string())?;
                Ok(Sealed::Encrypted(key.seal(&plain)))
            }
        })?;
        Ok(cfg)
    }

    /// Content a SyncPack owns is changed through the pack only.
    fn refuse_owned(&self, kind: ContentKind, name: &str) -> Result<(), ApiError> {
        let sm = self.inner.content.read();
        match sm.content.owner_of(kind, name) {
            Some((pack, version)) => Err(ApiError::Conflict(format!(
                "{} {name:?} belongs to SyncPack {pack} {version}; change it by uploading and activating a new version of the pack, or choose another name",
                kind.noun()
            ))),
            None => Ok(()),
        }
    }

    /// The stored configuration as the caller's role may see it: for an
    /// administrator encrypted values are ciphertext only; an operator sees
    /// them masked; a viewer sees no values.
    pub fn get_configuration(
        &self,
        name: &str,
        caller: &super::auth::Principal,
    ) -> Result<Configuration, ApiError> {
        let view = caller
            .role
            .map_or(crate::model::user::ConfigView::Hidden, |r| r.config_view());
        let sm = self.inner.content.read();
        sm.content
            .configurations
            .get(name)
            .map(|c| c.as_seen(view))
            .ok_or_else(|| Kind::Configuration.not_found(name))
    }

    pub async fn delete_configuration(&self, name: &str) -> Result<pb::Deleted, ApiError> {
        self.delete(
            Kind::Configuration,
            name,
            Command::DeleteConfiguration { name: name.into() },
        )
        .await
    }

    // ---- system ----

    pub fn about(&self) -> pb::About {
        let metrics = self.inner.raft.metrics().borrow().clone();
        let sm = self.inner.content.read();
        let mut versions = std::collections::HashMap::from([
            ("isnode".to_string(), env!("CARGO_PKG_VERSION").to_string()),
            ("openraft".to_string(), "0.9".to_string()),
        ]);
        if let Some(python) = self.inner.validator.python_version() {
            versions.insert("python".to_string(), python);
        }
        pb::About {
            name: "Integration Service".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: "v1".into(),
            versions,
            node_id: self.inner.node_id,
            leader: metrics.current_leader,
            cluster_id: sm.content.cluster.as_ref().map(|c| c.cluster_id.clone()),
            uptime_seconds: self.inner.started.elapsed().as_secs(),
        }
    }

    /// Members, leader and health (see `raft::status`).
    /// The busy workers of each member and the tasks waiting on each queue
    /// come from this node's replicated state, the same on every member.
    pub async fn cluster_status(&self) -> pb::ClusterStatus {
        let view = crate::raft::status::cluster_view(&self.inner.raft, &self.inner.content).await;
        let work = self.inner.content.read().content.work_in_flight();
        views::cluster(view, &work)
    }

    /// Adds a node as a voter (it catches up as a learner first).
    pub async fn add_cluster_node(&self, id: NodeId, address: &str) -> Result<pb::ClusterStatus, ApiError> {
        if id == 0 {
            return Err(ApiError::bad_request("node ids start at 1"));
        }
        if !address.contains(':') {
            return Err(ApiError::bad_request(format!(
                "address must be the node's HOST:PORT listener, got {address:?}"
            )));
        }
        let req = crate::raft::LeaderRequest::AddVoter {
            id,
            addr: address.to_string(),
        };
        crate::raft::membership::change(&self.inner.raft, req).await?;
        Ok(self.cluster_status().await)
    }

    pub async fn remove_cluster_node(&self, id: NodeId) -> Result<pb::ClusterStatus, ApiError> {
        let req = crate::raft::LeaderRequest::RemoveNode { id };
        crate::raft::membership::change(&self.inner.raft, req).await?;
        Ok(self.cluster_status().await)
    }
}
