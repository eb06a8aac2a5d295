//! A worker (step actor): owns one long-lived Python runner process and runs
//! one step task at a time in it. It records the attempt's start and outcome
//! in Raft, streams log records to local listeners as they arrive, and heals:
//! when its runner dies (crash, exit, timeout, revocation, memory limit) it
//! starts a new one after a capped exponential backoff before taking the
//! next task.
//!
//! Workers of every node are members of the process group [`WORKERS`]
//! (ractor_cluster makes them reachable from the other nodes), so the
//! leader's dispatcher hands tasks to workers anywhere in the cluster. A
//! worker reports itself idle to every node's dispatch inbox.
//!
//! Running one attempt in a runner is `execute.rs`; what is observed of it
//! (metrics, its span) is `observe.rs`.

mod execute;
mod observe;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::watch;

use super::dispatcher::{dispatcher, DispatchMsg};
use super::exec_input;
use super::inbox;
use super::log_shipper::LogShipper;
use super::messages::{Handoff, Readiness, RunOrder};
use super::pack_runners::{self, PackRunners};
use super::shared::NodeShared;
use super::step_host::StepHost;
use super::telemetry;
use crate::engine::step_task::StartInfo;
use crate::engine::TaskEvent;
use crate::model::task::Outcome;
use crate::model::task_log::LogBudget;
use crate::python::process::{RunnerConfig, RunnerProcess};
use crate::raft::{enqueue, propose, Raft};
use crate::store::{Command, CommandResult, ContentHandle, Events};
use crate::syncpack::env::EnvSettings;
use crate::util::now_ms;
use crate::util::Backoff;

/// How long a step runs before its start is recorded on its own.
const START_GRACE: Duration = Duration::from_millis(50);
const RUNNER_BACKOFF: Backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));

/// What every worker of a node shares.
#[derive(Clone)]
pub struct WorkerContext {
    pub raft: Raft,
    pub content: ContentHandle,
    pub events: Events,
    pub runner: RunnerConfig,
    /// Node default for steps without a `timeout` parameter.
    pub default_timeout: Option<Duration>,
    /// Largest pickle a step may save.
    pub max_output_bytes: u64,
    /// Log bytes kept per task, across its attempts (`max_task_log_bytes`).
    pub max_task_log_bytes: u64,
    /// Cancel switches, the drain flag and the served queues of this node.
    pub shared: NodeShared,
    /// Where this node's SyncPack environments are.
    pub pack_envs: Arc<EnvSettings>,
    /// Opens the cluster key, to decrypt a run's secrets for its runner.
    pub keys: crate::crypto::KeyRing,
}

pub struct WorkerArgs {
    pub ctx: WorkerContext,
    pub name: String,
    pub queues: Vec<String>,
}

/// Process group of every worker of the cluster.
pub const WORKERS: &str = "is-workers";

/// Process group of the workers (of any node) subscribed to `queue`.
pub fn queue_group(queue: &str) -> String {
    format!("is-queue:{queue}")
}

/// Messages may come from another node, so they are plain bytes on the wire.
#[derive(ractor_cluster::RactorClusterMessage)]
pub enum WorkerMsg {
    /// A task to run: an encoded [`RunOrder`].
    Run(Vec<u8>),
    /// (Re)start the runner process.
    StartRunner,
    /// Report whether idle to the dispatchers again (a dispatcher started).
    Announce,
}

/// How long a worker waits for its node to apply what the leader had
/// applied when it dispatched the task.
const CATCH_UP: Duration = Duration::from_secs(10);

pub struct WorkerState {
    args: WorkerArgs,
    runner: Option<RunnerProcess>,
    /// Consecutive runner failures, for the restart backoff.
    failures: u32,
    /// Pack environment runners.
    pack_runners: PackRunners,
}

pub struct Worker;

impl Worker {
    fn report_ready(myself: &ActorRef<WorkerMsg>, state: &WorkerState, finished: Option<String>) {
        Self::report(myself, state, finished, None);
    }

    fn report(
        myself: &ActorRef<WorkerMsg>,
        state: &WorkerState,
        finished: Option<String>,
        refused: Option<String>,
    ) {
        let readiness = Readiness {
            name: state.args.name.clone(),
            queues: state.args.queues.clone(),
            finished,
            refused,
            draining: state.args.ctx.shared.draining.is_set(),
        };
        if !inbox::tell_all(&readiness) {
            // No dispatcher yet (start-up or restarting); try again shortly.
            myself.send_after(Duration::from_millis(100), || WorkerMsg::StartRunner);
        }
    }

    fn runner_lost(myself: &ActorRef<WorkerMsg>, state: &mut WorkerState) {
        state.runner = None;
        state.failures += 1;
        let delay = RUNNER_BACKOFF.delay(state.failures);
        tracing::warn!(worker = %state.args.name, failures = state.failures, ?delay, "runner lost; restarting after backoff");
        myself.send_after(delay, || WorkerMsg::StartRunner);
    }

    /// Runs a dispatched task; false if it could not even start here (the
    /// dispatcher then queues it again).
    async fn run_task(myself: &ActorRef<WorkerMsg>, state: &mut WorkerState, order: RunOrder) -> bool {
        let RunOrder {
            task_id,
            handoff,
            applied_index,
        } = order;
        let ctx = state.args.ctx.clone();
        let mut cancel = ctx.shared.switches.register(&task_id);
        let _unregister = Unregister {
            switches: ctx.shared.switches.clone(),
            task_id: task_id.clone(),
        };
        if ctx.raft.applied_index() < applied_index {
            let caught_up = ctx
                .raft
                .wait(Some(CATCH_UP))
                .applied_index_at_least(Some(applied_index), "the dispatched task is applied here")
                .await;
            if let Err(e) = caught_up {
                tracing::warn!(task = %task_id, error = %e, "this node lags the leader; the task goes back");
                return false;
            }
        }
        let (spec, attempt, inputs, logged, environment, activated, application, ready_since) = {
            let sm = ctx.content.read();
            let Some(task) = sm.content.tasks.get(&task_id) else {
                drop(sm);
                // A finished task is in the store, not in memory: done.
                if let Ok(Some(t)) = ctx.content.task(&task_id) {
                    if t.state.is_terminal() {
                        return true;
                    }
                }
                tracing::warn!(task = %task_id, "dispatched task does not exist here; it goes back");
                return false;
            };
            if task.state.is_terminal() {
                return true;
            }
            (
                task.spec.clone(),
                task.attempt + 1,
                sm.content.step_inputs(task),
                task.log_bytes,
                sm.content.step_environment(&task.spec.class_name),
                sm.content
                    .syncpacks
                    .values()
                    .filter(|p| p.active.is_some())
                    .map(|p| p.name.clone())
                    .collect::<Vec<_>>(),
                task.spec
                    .run
                    .as_ref()
                    .and_then(|(run, _)| sm.content.runs.get(run))
                    .map_or_else(String::new, |r| r.spec.app.name.clone()),
                sm.content
                    .ready_since_ms(task, handoff.as_ref().map(|h| h.finished_ms)),
            )
        };
        // A pack's step is imported as `<pack>.steps.<Class>` from its
        // environment, so subclasses elsewhere see the same class.
        let importable: Vec<String> = match &environment {
            Some(Ok(parts)) => parts.iter().map(|p| p.name.clone()).collect(),
            _ => Vec::new(),
        };
        let sites = match environment {
            None => Ok(None),
            Some(Err(e)) => Err(e),
            Some(Ok(parts)) => {
                pack_runners::site_dirs(&ctx.pack_envs, ctx.raft.node_id(), &parts).map(|sites| {
                    parts
                        .first()
                        .map(|own| (sites, format!("{}.steps.{}", own.name, spec.class_name)))
                })
            }
        };
        // Upstream data is read from the store outside the memory lock.
        let input = inputs
            .and_then(|mut inputs| {
                ctx.content
                    .resolve_upstream(&mut inputs)
                    .map_err(|e| format!("reading the upstream steps' data failed: {e}"))?;
                Ok(inputs)
            })
            .and_then(|inputs| {
                let mut input = exec_input::build(&spec, inputs, handoff.as_ref(), &ctx.keys)?;
                // For the runner's hint when an import fails.
                input.request["syncpacks"] = serde_json::json!({
                    "activated": activated,
                    "importable": importable,
                });
                let env = sites?.map(|(sites, module)| {
                    input.request["module"] = serde_json::json!(module);
                    sites
                });
                Ok((input, env))
            });
        // The start need not be durable before the step runs (execution is
        // at-least-once anyway). A step that ends within START_GRACE records
        // its start with its outcome, in one entry; a longer one gets its
        // start recorded on its own after START_GRACE, so watchers see it run.
        // Whoever flips `start_claimed` first owns recording the start.
        let started_at = now_ms();
        let observed = observe::Observed::start(observe::AttemptStart {
            ctx: &ctx,
            worker: &state.args.name,
            spec: &spec,
            attempt,
            application,
            ready_since_ms: ready_since,
            started_at_ms: started_at,
        });
        let start_claimed = Arc::new(AtomicBool::new(false));
        // Log records are shipped only once the start is applied.
        let (start_applied, start_seen) = watch::channel(false);
        let start = {
            let (raft, id, claimed) = (ctx.raft.clone(), task_id.clone(), start_claimed.clone());
            let event = TaskEvent::Started {
                attempt,
                worker: state.args.name.clone(),
                at_ms: started_at,
            };
            tokio::spawn(async move {
                tokio::time::sleep(START_GRACE).await;
                if claimed.swap(true, Ordering::SeqCst) {
                    return None;
                }
                let recorded = propose(&raft, Command::Task { id, event }).await;
                if matches!(recorded, Ok(CommandResult::Task { changed: true, .. })) {
                    let _ = start_applied.send(true);
                }
                Some(recorded)
            })
        };

        let shipper = LogShipper::new(ctx.raft.clone(), task_id.clone(), attempt, start_seen);
        let budget = LogBudget::new(ctx.max_task_log_bytes, logged);
        let mut host = StepHost::new(&spec, ctx.clone(), budget, shipper);
        let outcome = match input {
            Err(reason) => Some(Outcome::Failure {
                error: reason,
                traceback: None,
                saved: None,
            }),
            Ok((input, env)) => Self::execute(state, &spec, input, env, &mut host, &mut cancel).await,
        };
        observed.end(outcome.as_ref());
        state.pack_runners.drop_discarded();
        if state.runner.is_none() {
            Self::runner_lost(myself, state);
        } else {
            state.failures = 0;
        }
        let started = if !start_claimed.swap(true, Ordering::SeqCst) {
            start.abort();
            Some(StartInfo {
                worker: state.args.name.clone(),
                at_ms: started_at,
            })
        } else {
            match start.await {
                Ok(Some(Ok(CommandResult::Task { changed: true, .. }))) => None,
                other => {
                    // Another attempt owns the task (or it was revoked): this
                    // attempt's outcome must not be recorded.
                    tracing::info!(task = %task_id, ?other, "attempt not recorded as started; outcome dropped");
                    return true;
                }
            }
        };
        if let Some(outcome) = outcome {
            let finished_ms = now_ms();
            let finished = TaskEvent::Finished {
                attempt,
                started,
                outcome,
                logs: host.finish().await,
                at_ms: finished_ms,
                seed: rand::random(),
            };
            // Steps this success makes ready start at once, ahead of the
            // apply, with this step's data: their own entries can only land
            // after this one in the log (it is queued first), so a crash can
            // never keep their outcome and lose this one.
            let ahead = match &finished {
                TaskEvent::Finished {
                    outcome: Outcome::Success { pickle, .. },
                    ..
                } => {
                    let sm = ctx.content.read();
                    sm.content
                        .tasks
                        .get(&task_id)
                        .map(|t| sm.content.ready_after_success(t))
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(id, queue)| (id, queue, pickle.clone()))
                        .collect()
                }
                _ => Vec::new(),
            };
            let cmd = Command::Task {
                id: task_id.clone(),
                event: finished,
            };
            let result = enqueue(&ctx.raft, cmd);
            // Only the leader's own workers start steps ahead: the log order
            // that makes it safe holds for one proposer queue, not across
            // forwarded writes from several nodes.
            let leading = ctx.raft.is_leader();
            if let Some(d) = dispatcher().filter(|_| leading) {
                for (id, queue, pickle) in ahead {
                    let handoff = Handoff {
                        from_task: task_id.clone(),
                        pickle,
                        finished_ms,
                    };
                    let _ = d.cast(DispatchMsg::EnqueueAhead {
                        task_id: id,
                        queue,
                        handoff,
                    });
                }
            }
            // The worker takes its next task while the outcome is made
            // durable: nothing it does next depends on this entry.
            tokio::spawn(async move {
                match result.await {
                    Ok(CommandResult::Task {
                        changed: false,
                        reason,
                    }) => tracing::info!(task = %task_id, ?reason, "outcome not recorded"),
                    Ok(_) => observe::run_span_if_ended(ctx, task_id, finished_ms).await,
                    Err(e) => tracing::warn!(task = %task_id, error = %e, "cannot record the outcome"),
                }
            });
        }
        true
    }
}

impl Actor for Worker {
    type Msg = WorkerMsg;
    type State = WorkerState;
    type Arguments = WorkerArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: WorkerArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        // Start the runner after start-up, so a slow interpreter start does
        // not hold up the node.
        let _ = myself.cast(WorkerMsg::StartRunner);
        ractor::pg::join(WORKERS.to_string(), vec![myself.get_cell()]);
        for q in &args.queues {
            ractor::pg::join(queue_group(q), vec![myself.get_cell()]);
        }
        Ok(WorkerState {
            args,
            runner: None,
            failures: 0,
            pack_runners: PackRunners::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            WorkerMsg::StartRunner => {
                if state.runner.is_none() {
                    match RunnerProcess::spawn(&state.args.ctx.runner).await {
                        Ok(r) => {
                            tracing::debug!(worker = %state.args.name, pid = r.pid, start = ?r.start_time, "runner ready");
                            state.runner = Some(r);
                        }
                        Err(e) => {
                            tracing::error!(worker = %state.args.name, error = %e, "cannot start runner");
                            state
                                .args
                                .ctx
                                .shared
                                .telemetry
                                .runner_restarted(telemetry::RestartReason::SpawnFailed);
                            Self::runner_lost(&myself, state);
                            return Ok(());
                        }
                    }
                }
                Self::report_ready(&myself, state, None);
            }
            WorkerMsg::Run(bytes) => {
                let order: RunOrder = match crate::util::wire::decode(&bytes) {
                    Ok(order) => order,
                    Err(e) => {
                        tracing::error!(error = %e, "undecodable task order (nodes of different versions?)");
                        Self::report_ready(&myself, state, None);
                        return Ok(());
                    }
                };
                if state.args.ctx.shared.draining.is_set() {
                    Self::report(&myself, state, None, Some(order.task_id));
                    return Ok(());
                }
                let task_id = order.task_id.clone();
                let ran = Self::run_task(&myself, state, order).await;
                if !ran {
                    Self::report(&myself, state, None, Some(task_id));
                } else if state.runner.is_some() {
                    Self::report_ready(&myself, state, Some(task_id));
                }
            }
            WorkerMsg::Announce => {
                if state.runner.is_some() {
                    Self::report_ready(&myself, state, None);
                }
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(mut r) = state.runner.take() {
            r.kill().await;
        }
        Ok(())
    }
}

/// Removes a task's cancel switch when its attempt ends, however it ends.
struct Unregister {
    switches: super::shared::CancelSwitches,
    task_id: String,
}

impl Drop for Unregister {
    fn drop(&mut self) {
        self.switches.unregister(&self.task_id);
    }
}
