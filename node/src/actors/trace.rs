//! Traces of runs, through `tracing`: each step attempt is a span of target
//! [`TARGET`], which the node's OpenTelemetry layer exports over OTLP when
//! `otlp_endpoint` is set (`node::otlp`); without it the spans go nowhere.
//!
//! A run is one trace across the cluster: its trace id is derived from the
//! run id (its UUID's bytes), and every attempt's span has the run's root
//! span as its remote parent, whose span id is derived from the run id too.
//! So the nodes agree on both without talking, and the worker whose outcome
//! ends the run emits the root span itself, with the run's start and end
//! times ([`emit_run`]); for a revoked run, the node whose API revoked it
//! does. A step run alone is a trace of its own.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId, TraceState, Tracer,
};
use opentelemetry::{Context, KeyValue};
use sha2::{Digest, Sha256};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The `tracing` target of the spans that are exported.
pub const TARGET: &str = "is_node::trace";

/// The trace id of a run: the bytes of the UUID its id ends with (run ids
/// are `isapp-<uuid>`), a hash for an id that does not end with one.
pub fn trace_id(run_id: &str) -> TraceId {
    let uuid = run_id.get(run_id.len().saturating_sub(36)..).unwrap_or(run_id);
    match uuid::Uuid::parse_str(uuid) {
        Ok(u) if !u.is_nil() => TraceId::from_bytes(*u.as_bytes()),
        _ => {
            let mut b = [0u8; 16];
            b.copy_from_slice(&Sha256::digest(run_id.as_bytes())[..16]);
            TraceId::from_bytes(b)
        }
    }
}

/// The span id of a run's root span.
pub fn run_span_id(run_id: &str) -> SpanId {
    let mut b = [0u8; 8];
    b.copy_from_slice(&Sha256::digest(format!("run span {run_id}").as_bytes())[..8]);
    if b == [0; 8] {
        b[7] = 1; // the all-zero id is invalid
    }
    SpanId::from_bytes(b)
}

/// The run's root span as a remote parent.
fn run_parent(run_id: &str) -> Context {
    Context::new().with_remote_span_context(SpanContext::new(
        trace_id(run_id),
        run_span_id(run_id),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ))
}

/// What an attempt's span carries.
pub struct AttemptInfo<'a> {
    pub run_id: Option<&'a str>,
    pub application: &'a str,
    pub step: &'a str,
    pub task_id: &'a str,
    pub attempt: u32,
    pub queue: &'a str,
    pub worker: &'a str,
    pub node: u64,
}

/// The span of one step attempt: open from its start to [`AttemptSpan::end`].
/// It is never entered, so the node's own log lines do not carry it.
pub struct AttemptSpan(tracing::Span);

impl AttemptSpan {
    pub fn start(a: &AttemptInfo) -> AttemptSpan {
        let span = tracing::info_span!(
            target: TARGET,
            "step attempt",
            otel.name = %format!("step {}", a.step),
            run_id = a.run_id.unwrap_or(""),
            application = a.application,
            step = a.step,
            task_id = a.task_id,
            attempt = a.attempt,
            queue = a.queue,
            worker = a.worker,
            node = a.node,
            state = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            otel.status_message = tracing::field::Empty,
        );
        if let Some(run) = a.run_id {
            // Fails only when no OpenTelemetry layer is installed: nothing
            // is exported then anyway.
            let _ = span.set_parent(run_parent(run));
        }
        AttemptSpan(span)
    }

    /// Ends the span with the attempt's end state and, for a failure, its error.
    pub fn end(self, state: &str, error: Option<&str>) {
        self.0.record("state", state);
        match error {
            Some(e) => {
                self.0.record("otel.status_code", "error");
                self.0.record("otel.status_message", e);
            }
            None => {
                self.0.record("otel.status_code", "ok");
            }
        }
    }
}

/// What a run's root span carries.
pub struct RunInfo<'a> {
    pub run_id: &'a str,
    pub application: &'a str,
    pub state: &'a str,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Emits a finished run's root span with its own start and end times.
pub fn emit_run(tracer: &opentelemetry_sdk::trace::SdkTracer, r: &RunInfo) {
    use opentelemetry::trace::Span as _;
    let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
    let mut span = tracer
        .span_builder(format!("run {}", r.application))
        .with_trace_id(trace_id(r.run_id))
        .with_span_id(run_span_id(r.run_id))
        .with_kind(SpanKind::Internal)
        .with_start_time(at(r.start_ms))
        .with_attributes(vec![
            KeyValue::new("run_id", r.run_id.to_string()),
            KeyValue::new("application", r.application.to_string()),
            KeyValue::new("state", r.state.to_string()),
        ])
        .start_with_context(tracer, &Context::new());
    span.set_status(if r.state == "SUCCESS" {
        Status::Ok
    } else {
        Status::error(format!("the run ended {}", r.state))
    });
    span.end_with_timestamp(at(r.end_ms.max(r.start_ms)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_id_gives_the_same_valid_ids_everywhere() {
        let run = "isapp-0b6c7f1e-52a4-4a8e-9a55-3d2f0c1e9b77";
        assert_eq!(trace_id(run), trace_id(run));
        assert_eq!(
            trace_id(run).to_string(),
            "0b6c7f1e52a44a8e9a553d2f0c1e9b77",
            "the trace id is the run id's UUID, so a viewer finds the run by it"
        );
        assert_ne!(trace_id("other"), TraceId::INVALID);
        assert_ne!(run_span_id(run), SpanId::INVALID);
        assert_ne!(
            run_span_id(run),
            run_span_id("isapp-0b6c7f1e-52a4-4a8e-9a55-3d2f0c1e9b78")
        );
    }
}
