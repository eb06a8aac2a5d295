//! Figures this node's workers observe as they run steps, for `GET /metrics`:
//! how long each attempt ran (by application and the attempt's end state),
//! how long a ready step waited for a worker (by queue) and how often a
//! worker replaced its Python runner (by why). One handle per node, created
//! by the node and passed to its workers and its API (never a static).
//!
//! The figures are node-local: an attempt is observed by the node whose
//! worker ran it, and only there, so summing a series over the nodes counts
//! every attempt once. They start from zero when the node starts.
//!
//! The handle also carries the OpenTelemetry tracer when traces are
//! exported (`actors::trace` builds a run's root span with it).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::util::histogram::{self, Histogram};

/// Why a worker replaced its runner (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RestartReason {
    /// The process ended during a step: a crash, `os._exit`, an OOM kill.
    Died,
    /// The step ran past its timeout and was killed.
    Timeout,
    /// The task was revoked and the runner killed with it.
    Revoked,
    /// The step raised `MemoryError`: the interpreter is replaced.
    MemoryError,
    /// The runner's own machinery failed.
    Internal,
    /// A new runner could not be started (counted per try).
    SpawnFailed,
}

impl RestartReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartReason::Died => "died",
            RestartReason::Timeout => "timeout",
            RestartReason::Revoked => "revoked",
            RestartReason::MemoryError => "memory_error",
            RestartReason::Internal => "internal",
            RestartReason::SpawnFailed => "spawn_failed",
        }
    }
}

/// The figures, as a scrape reads them.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Attempt run time in seconds, by (application, end state): the
    /// application is "" for a step run alone; the state is SUCCESS,
    /// FAILURE or REVOKED.
    pub step_seconds: BTreeMap<(String, &'static str), Histogram>,
    /// Seconds from ready to started, by queue.
    pub queue_wait_seconds: BTreeMap<String, Histogram>,
    pub runner_restarts: BTreeMap<RestartReason, u64>,
}

#[derive(Clone, Default)]
pub struct Telemetry {
    figures: Arc<Mutex<Figures>>,
    /// Set when spans are exported (`otlp_endpoint`).
    tracer: Option<opentelemetry_sdk::trace::SdkTracer>,
}

impl Telemetry {
    pub fn new(tracer: Option<opentelemetry_sdk::trace::SdkTracer>) -> Telemetry {
        Telemetry {
            figures: Arc::default(),
            tracer,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Figures> {
        self.figures.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn step_ran(&self, application: &str, state: &'static str, seconds: f64) {
        self.lock()
            .step_seconds
            .entry((application.to_string(), state))
            .or_insert_with(|| Histogram::new(histogram::STEP_SECONDS))
            .observe(seconds);
    }

    pub fn queue_waited(&self, queue: &str, seconds: f64) {
        let mut f = self.lock();
        if let Some(h) = f.queue_wait_seconds.get_mut(queue) {
            h.observe(seconds);
            return;
        }
        let mut h = Histogram::new(histogram::WAIT_SECONDS);
        h.observe(seconds);
        f.queue_wait_seconds.insert(queue.to_string(), h);
    }

    pub fn runner_restarted(&self, reason: RestartReason) {
        *self.lock().runner_restarts.entry(reason).or_default() += 1;
    }

    pub fn snapshot(&self) -> Figures {
        self.lock().clone()
    }

    pub fn tracer(&self) -> Option<&opentelemetry_sdk::trace::SdkTracer> {
        self.tracer.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_under_their_labels() {
        let t = Telemetry::default();
        let other = t.clone();
        t.step_ran("app", "SUCCESS", 0.2);
        other.step_ran("app", "SUCCESS", 0.4);
        t.step_ran("", "FAILURE", 1.0);
        t.queue_waited("default", 0.01);
        t.runner_restarted(RestartReason::Died);
        t.runner_restarted(RestartReason::Died);
        let f = t.snapshot();
        assert_eq!(f.step_seconds[&("app".to_string(), "SUCCESS")].count(), 2);
        assert_eq!(f.step_seconds[&(String::new(), "FAILURE")].count(), 1);
        assert_eq!(f.queue_wait_seconds["default"].count(), 1);
        assert_eq!(f.runner_restarts[&RestartReason::Died], 2);
    }
}
