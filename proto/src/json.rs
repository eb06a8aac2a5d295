//! JSON at the edges of the typed API: conversions between
//! `serde_json::Value` and protobuf's free-form `Value`/`Struct`, and the
//! serializers the generated messages use so their JSON (the REST answers,
//! `iscli --json`) reads as plain JSON.
//!
//! protobuf numbers are doubles: an integral number comes back as an
//! integer (`1`, not `1.0`), and integers beyond 2^53 lose precision.

use prost_types::value::Kind;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::v1::TaskState;

/// A JSON value as protobuf's free-form value.
pub fn to_proto(v: &serde_json::Value) -> prost_types::Value {
    let kind = match v {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(a) => Kind::ListValue(prost_types::ListValue {
            values: a.iter().map(to_proto).collect(),
        }),
        serde_json::Value::Object(m) => Kind::StructValue(to_proto_struct(m)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A JSON object as protobuf's `Struct`.
pub fn to_proto_struct(m: &serde_json::Map<String, serde_json::Value>) -> prost_types::Struct {
    prost_types::Struct {
        fields: m.iter().map(|(k, v)| (k.clone(), to_proto(v))).collect(),
    }
}

/// Protobuf's free-form value as JSON (an unset value is null).
pub fn from_proto(v: &prost_types::Value) -> serde_json::Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => serde_json::Value::Null,
        Some(Kind::BoolValue(b)) => serde_json::Value::Bool(*b),
        Some(Kind::NumberValue(n)) => number(*n),
        Some(Kind::StringValue(s)) => serde_json::Value::String(s.clone()),
        Some(Kind::ListValue(l)) => serde_json::Value::Array(l.values.iter().map(from_proto).collect()),
        Some(Kind::StructValue(s)) => serde_json::Value::Object(from_proto_struct(s)),
    }
}

/// Protobuf's `Struct` as a JSON object.
pub fn from_proto_struct(s: &prost_types::Struct) -> serde_json::Map<String, serde_json::Value> {
    s.fields.iter().map(|(k, v)| (k.clone(), from_proto(v))).collect()
}

/// An integral double as a JSON integer, else as a JSON number (NaN and
/// infinities, which JSON cannot hold, as null).
fn number(n: f64) -> serde_json::Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if n.fract() == 0.0 && n.abs() <= EXACT {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// The name a task state has in JSON and on screens (`SUCCESS`).
pub fn state_name(state: i32) -> &'static str {
    match TaskState::try_from(state).unwrap_or(TaskState::Unspecified) {
        TaskState::Unspecified => "UNKNOWN",
        TaskState::Pending => "PENDING",
        TaskState::Started => "STARTED",
        TaskState::Retry => "RETRY",
        TaskState::Success => "SUCCESS",
        TaskState::Failure => "FAILURE",
        TaskState::Revoked => "REVOKED",
    }
}

/// The schema of a task state as JSON writes it: a string, one of the names
/// [`state_name`] gives (the OpenAPI document's `StateName`).
pub struct StateName;

impl utoipa::PartialSchema for StateName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use TaskState::*;
        let names =
            [Unspecified, Pending, Started, Retry, Success, Failure, Revoked].map(|s| state_name(s as i32));
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("a task or run state"))
            .enum_values(Some(names))
            .into()
    }
}

impl utoipa::ToSchema for StateName {}

/// The state of a name as JSON and screens write it, if it is one.
pub fn state_of(name: &str) -> Option<TaskState> {
    use TaskState::*;
    [Pending, Started, Retry, Success, Failure, Revoked]
        .into_iter()
        .find(|s| state_name(*s as i32) == name)
}

// ---- serializers used by the generated messages (see build.rs) ----

pub(crate) fn state<S: Serializer>(state: &i32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(state_name(*state))
}

pub(crate) fn value<S: Serializer>(v: &Option<prost_types::Value>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(v) => Json(v).serialize(s),
    }
}

pub(crate) fn object<S: Serializer>(v: &Option<prost_types::Struct>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(st) => JsonObject(st).serialize(s),
    }
}

/// Serializes a protobuf value as the JSON it stands for, without building
/// a `serde_json::Value` first.
struct Json<'a>(&'a prost_types::Value);

struct JsonObject<'a>(&'a prost_types::Struct);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0.kind {
            None | Some(Kind::NullValue(_)) => s.serialize_unit(),
            Some(Kind::BoolValue(b)) => s.serialize_bool(*b),
            Some(Kind::NumberValue(n)) => number(*n).serialize(s),
            Some(Kind::StringValue(v)) => s.serialize_str(v),
            Some(Kind::ListValue(l)) => {
                let mut seq = s.serialize_seq(Some(l.values.len()))?;
                for v in &l.values {
                    seq.serialize_element(&Json(v))?;
                }
                seq.end()
            }
            Some(Kind::StructValue(st)) => JsonObject(st).serialize(s),
        }
    }
}

impl Serialize for JsonObject<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // protobuf maps have no order; JSON readers like sorted keys better.
        let mut keys: Vec<&String> = self.0.fields.keys().collect();
        keys.sort();
        let mut map = s.serialize_map(Some(keys.len()))?;
        for k in keys {
            map.serialize_entry(k, &Json(&self.0.fields[k]))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_survives_a_round_trip_through_protobuf_values() {
        let v = json!({"a": [1, 2.5, null, true, "x", {"b": -3}], "big": 9007199254740992u64});
        assert_eq!(from_proto(&to_proto(&v)), v);
    }

    #[test]
    fn messages_serialize_as_plain_json() {
        let status = crate::v1::TaskStatus {
            id: "t".into(),
            state: TaskState::Success as i32,
            result: Some(to_proto(&json!({"n": 1}))),
            ..Default::default()
        };
        let v = serde_json::to_value(&status).unwrap();
        assert_eq!(v["state"], "SUCCESS");
        assert_eq!(v["result"], json!({"n": 1}));
        assert!(v.get("waiting_for").is_none(), "left out when unset: {v}");
        assert!(v["end_time"].is_null());
    }

    #[test]
    fn events_and_either_task_kind_read_flat() {
        use crate::v1::{any_task, task_event, AnyTask, LogEvent, LogRecord, RunStatus, TaskEvent};
        let log = TaskEvent {
            event: Some(task_event::Event::Log(LogEvent {
                id: "t".into(),
                name: "S".into(),
                record: Some(LogRecord {
                    message: "hi".into(),
                    ..Default::default()
                }),
            })),
            cursor: "c1-1T1".into(),
        };
        let v = serde_json::to_value(&log).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["message"].as_str()),
            (Some("log"), Some("hi")),
            "{v}"
        );
        assert!(v.get("cursor").is_none(), "the SSE id carries it: {v}");
        let any = AnyTask {
            kind: Some(any_task::Kind::Run(RunStatus {
                id: "isapp-1".into(),
                ..Default::default()
            })),
        };
        assert_eq!(serde_json::to_value(&any).unwrap()["id"], "isapp-1");
    }

    #[test]
    fn states_have_their_screen_names() {
        assert_eq!(state_name(TaskState::Retry as i32), "RETRY");
        assert_eq!(state_of("REVOKED"), Some(TaskState::Revoked));
        assert_eq!(state_of("revoked"), None);
    }
}
