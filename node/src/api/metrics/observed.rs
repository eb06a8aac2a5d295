//! The figures of `GET /metrics` that are counted as things happen rather
//! than read from state: runs and step tasks finished (counted by the state
//! machine as they leave memory, `store::queries::FinishedCounts`) and what
//! this node's workers observed (`actors::telemetry`).
//!
//! Which node counts what, so dashboards add them up right:
//! - `is_runs_finished_total`, `is_step_tasks_finished_total`: every node
//!   applies every entry and counts every finished run, so each node shows
//!   the whole cluster's count: take `max` over the nodes, not `sum`.
//! - `is_step_duration_seconds`, `is_queue_wait_seconds`,
//!   `is_runner_restarts_total`: only the node whose worker ran the attempt
//!   observes it, so `sum` over the nodes counts each attempt once.

use super::text::{Kind, Text};
use crate::actors::telemetry::Figures;
use crate::store::queries::FinishedCounts;

pub fn finished(t: &mut Text, counts: &FinishedCounts) {
    for (name, help, map) in [
        (
            "is_runs_finished_total",
            "Application runs finished since this node started, by application and end state. Every \
             node counts every run of the cluster: aggregate with max over nodes, not sum.",
            &counts.runs,
        ),
        (
            "is_step_tasks_finished_total",
            "Step tasks finished since this node started, by application (\"\" for a step run alone) \
             and end state; a run's steps are counted when the run ends. Every node counts every \
             task of the cluster: aggregate with max over nodes, not sum.",
            &counts.tasks,
        ),
    ] {
        t.family(name, Kind::Counter, help);
        for ((app, state), n) in map {
            t.sample(name, &[("application", app), ("state", state)], *n as f64);
        }
    }
}

pub fn workers(t: &mut Text, f: &Figures) {
    let name = "is_step_duration_seconds";
    t.family(
        name,
        Kind::Histogram,
        "Run time of the step attempts this node's workers ran, by application (\"\" for a step run \
         alone) and the attempt's end state (SUCCESS, FAILURE, REVOKED). Node-local: sum over nodes.",
    );
    for ((app, state), h) in &f.step_seconds {
        t.histogram(name, &[("application", app), ("state", state)], h);
    }
    let name = "is_queue_wait_seconds";
    t.family(
        name,
        Kind::Histogram,
        "Time from a step task being ready (created, upstream finished or retry due) to its start \
         on one of this node's workers, by queue. Node-local: sum over nodes.",
    );
    for (queue, h) in &f.queue_wait_seconds {
        t.histogram(name, &[("queue", queue)], h);
    }
    let name = "is_runner_restarts_total";
    t.family(
        name,
        Kind::Counter,
        "Python runners this node's workers replaced, by why: died (crash, os._exit, killed), timeout, \
         revoked, memory_error, internal, spawn_failed (a start that failed, counted per try).",
    );
    for (reason, n) in &f.runner_restarts {
        t.sample(name, &[("reason", reason.as_str())], *n as f64);
    }
}
