//! Exporting the node's spans over OTLP (HTTP, protobuf) when
//! `otlp_endpoint` is set: a tracer provider whose batch processor sends
//! from its own thread, and the `tracing` layer that turns the spans of
//! `actors::trace::TARGET` (one per step attempt) into OpenTelemetry spans.
//! Without an endpoint none of this is built: no exporter, no thread.
//!
//! The batch processor takes the SDK's standard settings from the
//! environment (`OTEL_BSP_SCHEDULE_DELAY` and the others); the node flushes
//! what is left when it stops ([`Traces::shutdown`]).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{ExporterBuildError, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use crate::actors::trace::TARGET;

/// The service name spans are exported under.
pub const SERVICE_NAME: &str = "integration-service";

/// The exporting machinery of a node that exports spans.
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

/// The URL spans are posted to: the endpoint as given when it names the
/// traces path already, else the endpoint with `/v1/traces` (as the OTLP
/// specification builds it from `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim_end_matches('/');
    if endpoint.ends_with("/v1/traces") {
        endpoint.to_string()
    } else {
        format!("{endpoint}/v1/traces")
    }
}

impl Traces {
    /// Builds the exporter for `endpoint`. Call it before the async runtime
    /// starts: the blocking HTTP client may not be made inside one.
    pub fn start(endpoint: &str, node_id: u64) -> Result<Traces, ExporterBuildError> {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(traces_url(endpoint))
            .build()?;
        let resource = Resource::builder()
            .with_service_name(SERVICE_NAME)
            .with_attribute(KeyValue::new("service.instance.id", node_id.to_string()))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("isnode");
        Ok(Traces { provider, tracer })
    }

    /// The tracer, for the node's telemetry handle (a run's root span).
    pub fn tracer(&self) -> SdkTracer {
        self.tracer.clone()
    }

    /// The `tracing` layer exporting the attempt spans (and nothing else:
    /// the node's other spans stay in its log).
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            .with_filter(Targets::new().with_target(TARGET, LevelFilter::INFO))
    }

    /// Sends the spans not sent yet and stops the exporter. Call it outside
    /// the async runtime (the export blocks).
    pub fn shutdown(self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "the last spans could not be exported");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_traces_path_is_added_once() {
        assert_eq!(traces_url("http://c:4318"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/"), "http://c:4318/v1/traces");
        assert_eq!(traces_url("http://c:4318/v1/traces"), "http://c:4318/v1/traces");
    }
}
