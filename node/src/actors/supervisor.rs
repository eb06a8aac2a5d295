//! The root actor of a node. It starts the node's services as linked children
//! and, when one fails or stops unexpectedly, restarts it after a capped
//! exponential backoff. A child that stayed up for [`STABLE_AFTER`] starts
//! again from the shortest delay.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, SupervisionEvent};

use super::dispatcher::{Dispatcher, DispatcherArgs, DISPATCHER};
use super::worker::{Worker, WorkerArgs, WorkerContext};
use crate::util::Backoff;

const RESTART_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(30));
const STABLE_AFTER: Duration = Duration::from_secs(60);

/// A service the supervisor starts, and restarts when it fails, without
/// knowing what it is: the API listener lives in `api/`, a layer above this
/// one, and is handed in as one of these.
pub trait ChildSpec: Send + Sync + 'static {
    fn name(&self) -> String;
    /// Spawns the actor linked to `supervisor`.
    fn spawn(
        &self,
        supervisor: ActorCell,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<ActorCell, ActorProcessingErr>> + Send>>;
}

/// What the supervisor needs to (re)build its children.
pub struct NodeServices {
    pub workers: WorkerContext,
    /// One entry per worker: the queues it serves.
    pub worker_queues: Vec<Vec<String>>,
    /// Node-unique prefix of worker names, e.g. "node1".
    pub worker_prefix: String,
    /// Started after the dispatcher and the workers (the API listener).
    pub others: Vec<Box<dyn ChildSpec>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Child {
    Dispatcher,
    Worker(usize),
    /// `NodeServices::others[i]`.
    Other(usize),
}

impl Child {
    fn name(self, services: &NodeServices) -> String {
        match self {
            Child::Dispatcher => DISPATCHER.to_string(),
            Child::Worker(i) => format!("{}/worker-{i}", services.worker_prefix),
            Child::Other(i) => services.others[i].name(),
        }
    }
}

#[derive(ractor_cluster::RactorMessage)]
pub enum SupervisorMsg {
    /// (Re)start a child; sent to itself, after the backoff delay on restarts.
    Start(Child),
}

struct Restarts {
    consecutive: u32,
    started_at: Instant,
}

pub struct SupervisorState {
    services: NodeServices,
    running: HashMap<ActorId, (Child, ActorCell)>,
    restarts: HashMap<Child, Restarts>,
    /// Tasks found STARTED at node start were interrupted by the stop and are
    /// dispatched again once; after that STARTED tasks belong to live workers.
    recovered_started: bool,
}

pub struct Supervisor;

impl Supervisor {
    async fn start_child(
        myself: &ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
        child: Child,
    ) -> Result<(), ActorProcessingErr> {
        let name = child.name(&state.services);
        let cell = match child {
            Child::Other(i) => state.services.others[i].spawn(myself.get_cell()).await?,
            Child::Dispatcher => {
                let args = DispatcherArgs {
                    raft: state.services.workers.raft.clone(),
                    content: state.services.workers.content.clone(),
                    shared: state.services.workers.shared.clone(),
                    include_started: !state.recovered_started,
                };
                let (actor, _) =
                    Actor::spawn_linked(Some(name.clone()), Dispatcher, args, myself.get_cell()).await?;
                state.recovered_started = true;
                actor.get_cell()
            }
            Child::Worker(i) => {
                let args = WorkerArgs {
                    ctx: state.services.workers.clone(),
                    name: name.clone(),
                    queues: state.services.worker_queues[i].clone(),
                };
                let (actor, _) =
                    Actor::spawn_linked(Some(name.clone()), Worker, args, myself.get_cell()).await?;
                state.services.workers.shared.workers_up.started();
                actor.get_cell()
            }
        };
        let entry = state.restarts.entry(child).or_insert(Restarts {
            consecutive: 0,
            started_at: Instant::now(),
        });
        entry.started_at = Instant::now();
        state.running.insert(cell.get_id(), (child, cell));
        tracing::debug!(child = %name, "started");
        Ok(())
    }

    fn schedule_restart(
        myself: &ActorRef<SupervisorMsg>,
        state: &mut SupervisorState,
        child: Child,
        why: &str,
    ) {
        let r = state.restarts.entry(child).or_insert(Restarts {
            consecutive: 0,
            started_at: Instant::now(),
        });
        if r.started_at.elapsed() >= STABLE_AFTER {
            r.consecutive = 0;
        }
        r.consecutive += 1;
        let delay = RESTART_BACKOFF.delay(r.consecutive);
        tracing::warn!(
            child = %child.name(&state.services),
            reason = why,
            attempt = r.consecutive,
            ?delay,
            "restarting child"
        );
        myself.send_after(delay, move || SupervisorMsg::Start(child));
    }
}

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = NodeServices;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        services: NodeServices,
    ) -> Result<Self::State, ActorProcessingErr> {
        let workers = services.worker_queues.len();
        let others = services.others.len();
        let mut state = SupervisorState {
            services,
            running: HashMap::new(),
            restarts: HashMap::new(),
            recovered_started: false,
        };
        let children = std::iter::once(Child::Dispatcher)
            .chain((0..workers).map(Child::Worker))
            .chain((0..others).map(Child::Other));
        for child in children {
            Self::start_child(&myself, &mut state, child).await?;
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Start(child) => {
                if let Err(e) = Self::start_child(&myself, state, child).await {
                    Self::schedule_restart(&myself, state, child, &e.to_string());
                }
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match event {
            SupervisionEvent::ActorFailed(cell, err) => (cell, err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, reason.unwrap_or_else(|| "stopped".into()))
            }
            _ => return Ok(()),
        };
        if let Some((child, _)) = state.running.remove(&cell.get_id()) {
            if matches!(child, Child::Worker(_)) {
                state.services.workers.shared.workers_up.stopped();
            }
            Self::schedule_restart(&myself, state, child, &why);
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        for (_, (child, cell)) in state.running.drain() {
            if matches!(child, Child::Worker(_)) {
                state.services.workers.shared.workers_up.stopped();
            }
            tracing::debug!(child = %child.name(&state.services), "stopping");
            cell.stop_and_wait(Some("node shutting down".into()), Some(Duration::from_secs(10)))
                .await
                .ok();
        }
        Ok(())
    }
}
