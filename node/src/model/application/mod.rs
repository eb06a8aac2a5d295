//! Applications: a JSON document listing steps and the edges between them
//! (DESIGN 4.2). [`Application::validate`] checks the document (every problem
//! at once, `validate.rs`) and answers it parsed into types; the rest of the
//! node reads fields, never the JSON again. The document as uploaded is kept
//! beside the fields (`doc`) for display and export, so unknown keys survive
//! a round trip.
//!
//! In the Raft log and snapshots an application is its document text; it is
//! validated and typed again when decoded (see `json_text` for why text).
//! Validation therefore knows no size limits: those belong to the node that
//! takes an upload ([`Application::check_limits`], `limits.rs`), so a later
//! change of a limit never makes the log unreadable.

#[cfg(test)]
pub(crate) mod fixtures;
mod limits;
mod validate;

pub use limits::AppLimits;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::lenient;
use super::retry::RetryPolicy;
use super::ModelError;

/// Keys of a step entry that are not parameter values.
pub const STEP_RESERVED_KEYS: &[&str] = &[
    "name",
    "file",
    "syncpack",
    "output_to",
    "data_from",
    "retry_max",
    "retry_backoff",
    "retry_jitter",
    "retry_backoff_max",
    "retry_countdown",
];

/// A validated application document.
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub name: String,
    pub friendly_name: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub version: Option<String>,
    /// The configuration runs use unless a run names another.
    pub configuration: Option<String>,
    /// The queue runs use unless a run names another.
    pub queue: Option<String>,
    pub generate_report: bool,
    pub app_variables: Vec<AppVariable>,
    pub steps: Vec<AppStep>,
    /// The document as uploaded.
    pub doc: Value,
}

/// A variable of the application (`app_variables[]`). Absent values are
/// `Value::Null`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppVariable {
    pub name: String,
    pub value: Value,
    pub default_value: Value,
    pub required: bool,
    pub description: Option<String>,
    pub sample_value: Value,
}

/// One use of a step class in the application.
#[derive(Debug, Clone, PartialEq)]
pub struct AppStep {
    /// Unique within the application.
    pub name: String,
    /// The step class (an uploaded step's name).
    pub file: String,
    pub syncpack: Option<String>,
    pub output_to: Vec<String>,
    pub data_from: Vec<String>,
    pub retry: RetryPolicy,
    /// Every other key of the entry: the step's parameter values.
    pub params: Map<String, Value>,
}

impl Application {
    /// Checks `doc` against DESIGN 4.2 and answers it typed, or every
    /// problem found.
    pub fn validate(doc: Value) -> Result<Application, ModelError> {
        let (name, problems) = validate::check(&doc);
        match name {
            Some(name) if problems.is_empty() => Ok(Application::from_valid(name, doc)),
            Some(name) => Err(ModelError::invalid(format!("application {name:?}"), problems)),
            None => Err(ModelError::invalid("application", problems)),
        }
    }

    /// The typed fields of a document that passed validation.
    fn from_valid(name: String, doc: Value) -> Application {
        let empty = Map::new();
        let obj = doc.as_object().unwrap_or(&empty);
        let app_variables = list(obj, "app_variables")
            .filter_map(Value::as_object)
            .map(|v| AppVariable {
                name: text(v, "name").unwrap_or_default(),
                value: v.get("value").cloned().unwrap_or(Value::Null),
                default_value: v.get("default_value").cloned().unwrap_or(Value::Null),
                required: v.get("required").and_then(lenient::bool_of).unwrap_or(false),
                description: text(v, "description"),
                sample_value: v.get("sample_value").cloned().unwrap_or(Value::Null),
            })
            .collect();
        let steps = list(obj, "steps")
            .filter_map(Value::as_object)
            .map(|e| AppStep {
                name: text(e, "name").unwrap_or_default(),
                file: text(e, "file").unwrap_or_default(),
                syncpack: text(e, "syncpack"),
                output_to: names(e, "output_to"),
                data_from: names(e, "data_from"),
                retry: RetryPolicy::from_entry(e),
                params: e
                    .iter()
                    .filter(|(k, _)| !STEP_RESERVED_KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            })
            .collect();
        Application {
            friendly_name: text(obj, "friendly_name"),
            description: text(obj, "description"),
            author: text(obj, "author"),
            version: text(obj, "version"),
            configuration: text(obj, "configuration").filter(|c| !c.is_empty()),
            queue: text(obj, "queue").filter(|q| !q.is_empty()),
            generate_report: obj
                .get("generate_report")
                .and_then(lenient::bool_of)
                .unwrap_or(false),
            app_variables,
            steps,
            name,
            doc,
        }
    }

    /// The index of the step named `name`.
    pub fn step_index(&self, name: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.name == name)
    }
}

/// The edges of the step graph: every distinct (upstream, downstream) pair
/// of step indices that `output_to` (this step -> named step) and
/// `data_from` (named step -> this step) describe, sorted by upstream, then
/// downstream. Names that match no step are left out (validation refuses
/// them). This is the one derivation of edges: the run engine's graph and
/// the edge limit both read it.
///
/// O(steps + edges): names are looked up in a hash map, pairs deduplicated
/// in a hash set, and the order comes from two bucket passes, not a sort.
pub fn edges(steps: &[AppStep]) -> Vec<(usize, usize)> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(steps.len());
    for (i, s) in steps.iter().enumerate() {
        index.entry(s.name.as_str()).or_insert(i);
    }
    let find = |name: &String| index.get(name.as_str()).copied();
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    // Upstream indices by downstream step, each pair once.
    let mut upstream_of: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (i, s) in steps.iter().enumerate() {
        let outputs = s.output_to.iter().filter_map(find).map(|to| (i, to));
        let inputs = s.data_from.iter().filter_map(find).map(|from| (from, i));
        for (from, to) in outputs.chain(inputs) {
            if seen.insert((from, to)) {
                upstream_of[to].push(from);
            }
        }
    }
    // Walking downstream steps in order fills each upstream's list sorted.
    let mut downstream_of: Vec<Vec<usize>> = vec![Vec::new(); steps.len()];
    for (to, froms) in upstream_of.iter().enumerate() {
        for &from in froms {
            downstream_of[from].push(to);
        }
    }
    downstream_of
        .into_iter()
        .enumerate()
        .flat_map(|(from, tos)| tos.into_iter().map(move |to| (from, to)))
        .collect()
}

fn list<'a>(obj: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    obj.get(key).and_then(Value::as_array).into_iter().flatten()
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_string)
}

fn names(obj: &Map<String, Value>, key: &str) -> Vec<String> {
    list(obj, key)
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

impl Serialize for Application {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.doc.to_string())
    }
}

impl<'de> Deserialize<'de> for Application {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Application, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let doc = serde_json::from_str(&text).map_err(D::Error::custom)?;
        Application::validate(doc).map_err(|e| D::Error::custom(format!("stored application: {e}")))
    }
}

#[cfg(test)]
mod tests;
