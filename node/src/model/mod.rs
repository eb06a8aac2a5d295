//! Domain types of the Integration Service and their validation rules.
//!
//! Everything here is pure data and pure functions: no IO, no async, no Raft.
//! The API layer validates incoming documents with these functions before
//! anything is proposed to Raft, so the replicated log only ever holds
//! documents that passed validation.

pub mod application;
pub mod audit;
pub mod configuration;
pub mod error;
pub mod json_text;
pub mod lenient;
pub mod names;
pub mod node;
pub mod report;
pub mod retry;
pub mod run;
pub mod schedule;
pub mod step;
pub mod syncpack;
pub mod task;
pub mod task_log;
pub mod user;

pub use error::ModelError;

/// Reads an optional string field; a present field of another type is a problem.
pub(crate) fn optional_str<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    key: &str,
    what: &str,
    problems: &mut Vec<String>,
) -> Option<&'a str> {
    match obj.get(key) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s),
        Some(other) => {
            problems.push(format!(
                "{what}: \"{key}\" must be a string, got {}",
                json_type(other)
            ));
            None
        }
    }
}

/// Whether a parameter or variable has a value: absent, null and the empty
/// string count as none (the runner's `validate_parameter_values` agrees).
pub fn has_value(v: Option<&serde_json::Value>) -> bool {
    v.is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
}

/// A short name of a JSON value's type for error messages.
pub fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
