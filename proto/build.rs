//! Generates the tonic/prost code from `proto/*.proto` with `protox`, a pure
//! Rust protobuf compiler, so a fresh machine needs no system `protoc`.
//!
//! The public messages also derive `serde::Serialize`: the REST bridge
//! answers the same messages as JSON, so the JSON shape of every answer is
//! written once, here and in the .proto (field names are the REST keys).
//! The attributes below fix what proto3 cannot say: enum fields serialize
//! as their state name, free-form values as JSON, oneofs inline, and a few
//! optional fields are left out of the JSON when unset.
//!
//! They derive `utoipa::ToSchema` as well, for the REST bridge's OpenAPI
//! document; every serde attribute below that changes a field's JSON type
//! has its `#[schema(...)]` twin, so the schema says what serde writes.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/integration.proto", "proto/internal.proto"];
    for f in &files {
        println!("cargo:rerun-if-changed={f}");
    }
    let descriptors = protox::compile(files, ["proto"])?;
    let v1 = |path: &str| format!(".integration.v1.{path}");
    let mut builder = tonic_prost_build::configure()
        .type_attribute(".integration.v1", "#[derive(serde::Serialize, utoipa::ToSchema)]");
    for field in [
        "TaskStatus.state",
        "RunStep.state",
        "RunStatus.state",
        "Attempt.state",
        "StateChange.state",
        "RunBrief.state",
    ] {
        builder = builder
            .field_attribute(v1(field), "#[serde(serialize_with = \"crate::json::state\")]")
            .field_attribute(v1(field), "#[schema(value_type = crate::json::StateName)]");
    }
    for field in [
        "DeclaredParameter.description",
        "DeclaredParameter.sample_value",
        "DeclaredParameter.default_value",
        "AppVariable.value",
        "AppVariable.default_value",
        "AppVariable.sample_value",
        "ConfigVariable.value",
        "TaskStatus.result",
        "CacheEntry.value",
    ] {
        // Any JSON value, null included.
        builder = builder
            .field_attribute(v1(field), "#[serde(serialize_with = \"crate::json::value\")]")
            .field_attribute(v1(field), "#[schema(value_type = Value)]");
    }
    for field in [
        "AppStep.params",
        "RunStatus.app_vars",
        "RunStepRequest.params",
        "RunApplicationRequest.params",
    ] {
        builder = builder
            .field_attribute(v1(field), "#[serde(serialize_with = \"crate::json::object\")]")
            .field_attribute(v1(field), "#[schema(value_type = Option<Object>)]");
    }
    for field in [
        "ContentSummary.friendly_name",
        "ContentSummary.description",
        "ContentSummary.version",
        "ContentSummary.author",
        "TaskStatus.waiting_for",
        "TaskStatus.result_size",
        "TaskStatus.result_href",
        "RunStep.waiting_for",
        "RunStatus.last_run",
        "Trigger.step",
        "Trigger.schedule_id",
        "CacheEntry.note",
        "StateChange.waiting_for",
        "StateChange.retry_at",
    ] {
        builder = builder.field_attribute(v1(field), "#[serde(skip_serializing_if = \"Option::is_none\")]");
    }
    // A oneof's own field cannot take a field attribute (it would reach the
    // oneof's variants too), so its one-field message is made transparent.
    builder = builder
        .field_attribute(v1("LogEvent.record"), "#[serde(flatten)]")
        .message_attribute(v1("TaskEvent"), "#[serde(transparent)]")
        .message_attribute(v1("AnyTask"), "#[serde(transparent)]")
        .type_attribute(
            v1("TaskEvent.event"),
            "#[serde(tag = \"type\", rename_all = \"lowercase\")]",
        )
        .type_attribute(v1("AnyTask.kind"), "#[serde(untagged)]")
        // utoipa knows no `transparent`: the oneof is the schema of what a
        // transparent `AnyTask` writes, so it takes the name.
        .type_attribute(v1("AnyTask.kind"), "#[schema(as = AnyTask)]")
        .message_attribute(v1("AnyTask"), "#[schema(as = AnyTaskMessage)]")
        // REST answers the pickle itself with `?raw=true`, not inside JSON.
        .field_attribute(v1("CacheEntry.pickle"), "#[serde(skip)]")
        // The SSE id carries it; the JSON of an event stays as it was.
        .field_attribute(v1("TaskEvent.cursor"), "#[serde(skip)]");
    builder.compile_fds(descriptors)?;
    Ok(())
}
