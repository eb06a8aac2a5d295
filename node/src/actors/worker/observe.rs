//! What a worker observes of each attempt it runs: its queue wait and run
//! time for `GET /metrics` (`actors::telemetry`), and its span
//! (`actors::trace`); the root span of a run its outcome ended.

use std::time::{Duration, Instant};

use super::WorkerContext;
use crate::actors::telemetry::Telemetry;
use crate::actors::trace::{self, AttemptInfo, AttemptSpan, RunInfo};
use crate::model::task::{Outcome, TaskSpec};

/// How long the worker waits for its node to apply its recorded outcome
/// before it gives up on the run's root span.
const APPLIED_HERE: Duration = Duration::from_secs(10);

/// One attempt being watched, from its start to [`Observed::end`].
pub(super) struct Observed {
    span: AttemptSpan,
    telemetry: Telemetry,
    application: String,
    started: Instant,
}

/// Who runs the attempt and what it is.
pub(super) struct AttemptStart<'a> {
    pub(super) ctx: &'a WorkerContext,
    pub(super) worker: &'a str,
    pub(super) spec: &'a TaskSpec,
    pub(super) attempt: u32,
    pub(super) application: String,
    /// When the task became ready (`Content::ready_since_ms`).
    pub(super) ready_since_ms: Option<u64>,
    pub(super) started_at_ms: u64,
}

impl Observed {
    pub(super) fn start(a: AttemptStart) -> Observed {
        let telemetry = a.ctx.shared.telemetry.clone();
        if let Some(since) = a.ready_since_ms {
            // Wall clocks of two nodes when another node recorded the
            // ready time: a skew shows here (a negative wait counts as 0).
            let waited = a.started_at_ms.saturating_sub(since) as f64 / 1000.0;
            telemetry.queue_waited(&a.spec.queue, waited);
        }
        let span = AttemptSpan::start(&AttemptInfo {
            run_id: a.spec.run.as_ref().map(|(run, _)| run.as_str()),
            application: &a.application,
            step: &a.spec.step_name,
            task_id: &a.spec.id,
            attempt: a.attempt,
            queue: &a.spec.queue,
            worker: a.worker,
            node: a.ctx.raft.node_id(),
        });
        Observed {
            span,
            telemetry,
            application: a.application,
            started: Instant::now(),
        }
    }

    /// The attempt ended with `outcome` (None: it was revoked).
    pub(super) fn end(self, outcome: Option<&Outcome>) {
        let (state, error) = match outcome {
            Some(Outcome::Success { .. }) => ("SUCCESS", None),
            Some(Outcome::Failure { error, .. }) => ("FAILURE", Some(error.as_str())),
            None => ("REVOKED", Some("the task was revoked")),
        };
        self.telemetry
            .step_ran(&self.application, state, self.started.elapsed().as_secs_f64());
        self.span.end(state, error);
    }
}

/// After the outcome finished at `finished_ms` was recorded: if it ended
/// the run, emits the run's root span (only when spans are exported). The
/// run's end time is that outcome's, so exactly one attempt matches it.
pub(super) async fn run_span_if_ended(ctx: WorkerContext, task_id: String, finished_ms: u64) {
    let Some(tracer) = ctx.shared.telemetry.tracer().cloned() else {
        return;
    };
    let deadline = tokio::time::Instant::now() + APPLIED_HERE;
    let run_id = loop {
        // Registered before the read, so an apply in between wakes it.
        let change = ctx.events.next_change(&task_id);
        match ctx.content.task(&task_id) {
            Ok(Some(t)) => {
                let Some((run_id, _)) = t.spec.run else {
                    return;
                };
                if t.attempts.iter().any(|a| a.end_ms == Some(finished_ms)) {
                    break run_id;
                }
            }
            _ => return,
        }
        if tokio::time::timeout_at(deadline, change).await.is_err() {
            return;
        }
    };
    let Ok(Some(record)) = ctx.content.run(&run_id) else {
        return;
    };
    if record.run.state.is_terminal() && record.end_ms == Some(finished_ms) {
        trace::emit_run(
            &tracer,
            &RunInfo {
                run_id: &run_id,
                application: &record.spec.app.name,
                state: record.run.state.as_str(),
                start_ms: record.spec.created_ms,
                end_ms: finished_ms,
            },
        );
    }
}
