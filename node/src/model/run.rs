//! Application runs as asked for: the frozen specification a run is created
//! with, and the run options (`queue`, `configuration`, `log_level`) read
//! from a run's params. Where a run stands is the engine's business
//! (`engine::run`); the replicated record joining both is the store's.

use is_proto::LogLevel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::application::Application;

/// Keys of a run's `params` that are options of the run, not app variables.
pub const RUN_OPTIONS: &[&str] = &["queue", "configuration", "log_level"];

/// Everything a run needs, fixed when it is created: a later change of the
/// application or its configuration does not affect a run in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// `isapp-<uuid>`.
    pub id: String,
    /// The application as it was when the run was created.
    pub app: Application,
    /// The run's `params` as given (app variable overrides and options), for replay.
    #[serde(with = "super::json_text")]
    pub params: Map<String, Value>,
    pub configuration: Option<String>,
    pub queue: String,
    pub log_level: LogLevel,
    pub created_ms: u64,
    /// Who started it: "USER", "SCHEDULE", "REPLAY", or "APPLICATION" (a
    /// Trigger Application step of `parent`).
    pub triggered_by: String,
    /// The run this one replays.
    pub replay_of: Option<String>,
    /// The run (and its step) that started this one.
    pub parent: Option<ParentLink>,
    /// How many runs started each other down to this one (0: started by a
    /// user, a schedule or a replay).
    pub depth: u32,
    /// The schedule whose slot started it.
    pub schedule: Option<String>,
}

/// The step of another run that started a run (Trigger Application).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentLink {
    pub run_id: String,
    pub task_id: String,
    pub step_name: String,
    /// The step waits for this run: revoking the parent revokes it too.
    pub blocking: bool,
}

/// A run started by a step of the run that records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildLink {
    pub run_id: String,
    pub app_name: String,
    pub step_name: String,
}

/// Where a new run comes from (besides its application and params).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOrigin {
    pub triggered_by: String,
    pub replay_of: Option<String>,
    pub parent: Option<ParentLink>,
    pub schedule: Option<String>,
}

impl RunOrigin {
    /// A run someone asked for.
    pub fn by(triggered_by: &str) -> RunOrigin {
        RunOrigin {
            triggered_by: triggered_by.to_string(),
            replay_of: None,
            parent: None,
            schedule: None,
        }
    }

    /// A run a Trigger Application step of another run started.
    pub fn child_of(parent: ParentLink) -> RunOrigin {
        RunOrigin {
            parent: Some(parent),
            ..RunOrigin::by("APPLICATION")
        }
    }

    /// A run a slot of schedule `id` fired.
    pub fn scheduled(id: &str) -> RunOrigin {
        RunOrigin {
            schedule: Some(id.to_string()),
            ..RunOrigin::by("SCHEDULE")
        }
    }
}

/// Runs started by Trigger Application steps nest at most this deep, so an
/// application that triggers itself ends instead of filling the cluster.
pub const MAX_TRIGGER_DEPTH: u32 = 10;

impl RunSpec {
    /// The run's app variable overrides: its params without the run options.
    pub fn variables(&self) -> Map<String, Value> {
        run_variables(&self.params)
    }
}

/// `params` without the run options.
pub fn run_variables(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .filter(|(k, _)| !RUN_OPTIONS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The options of a run: given in its params, else the application's.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub configuration: Option<String>,
    pub queue: String,
    pub log_level: LogLevel,
}

impl RunOptions {
    /// Reads the options; answers every problem at once.
    pub fn resolve(params: &Map<String, Value>, app: &Application) -> Result<RunOptions, Vec<String>> {
        let mut problems = Vec::new();
        let mut take = |r: Result<Option<String>, String>| {
            r.unwrap_or_else(|e| {
                problems.push(e);
                None
            })
        };
        let configuration = take(option_text(params, "configuration")).or(app.configuration.clone());
        let queue = take(option_text(params, "queue"))
            .or(app.queue.clone())
            .unwrap_or_else(|| "default".to_string());
        let log_level = log_level(params).unwrap_or_else(|e| {
            problems.push(e);
            LogLevel::RUN_DEFAULT
        });
        if problems.is_empty() {
            Ok(RunOptions {
                configuration,
                queue,
                log_level,
            })
        } else {
            Err(problems)
        }
    }
}

/// A text option; null and "" mean "not given".
fn option_text(params: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("\"{key}\" must be a string, got {other}")),
    }
}

/// `log_level`: a number, or a level name.
pub fn log_level(params: &Map<String, Value>) -> Result<LogLevel, String> {
    match params.get("log_level") {
        None | Some(Value::Null) => Ok(LogLevel::RUN_DEFAULT),
        Some(Value::Number(n)) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(LogLevel)
            .ok_or_else(|| format!("\"log_level\" must be a non-negative integer, got {n}")),
        Some(Value::String(s)) => LogLevel::parse(s).map_err(|e| format!("\"log_level\": {e}")),
        Some(other) => Err(format!(
            "\"log_level\" must be a number or a level name, got {other}"
        )),
    }
}

/// The id of step `index`'s task in run `run_id`: derived, so creating a run
/// stays deterministic when the log is applied again.
pub fn step_task_id(run_id: &str, index: usize) -> String {
    format!("{}-{index}", run_id.trim_start_matches("isapp-"))
}

#[cfg(test)]
impl RunSpec {
    /// A run of the application document `app_json` on queue `q`, for tests.
    pub(crate) fn for_test(id: &str, app_json: &str, created_ms: u64) -> RunSpec {
        let doc = serde_json::from_str(app_json).expect("test application is JSON");
        RunSpec {
            id: id.into(),
            app: Application::validate(doc).expect("test application is valid"),
            params: Map::new(),
            configuration: None,
            queue: "q".into(),
            log_level: LogLevel::RUN_DEFAULT,
            created_ms,
            triggered_by: "USER".into(),
            replay_of: None,
            parent: None,
            depth: 0,
            schedule: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app(doc: Value) -> Application {
        Application::validate(doc).unwrap()
    }

    fn params(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn options_come_from_the_params_else_the_application() {
        let a = app(json!({"name": "a", "queue": "q1", "configuration": "c1",
                           "steps": [{"name": "S", "file": "F"}]}));
        let o = RunOptions::resolve(&params(json!({})), &a).unwrap();
        assert_eq!((o.queue.as_str(), o.configuration.as_deref()), ("q1", Some("c1")));
        assert_eq!(o.log_level, LogLevel::RUN_DEFAULT);
        let o = RunOptions::resolve(
            &params(json!({"queue": "q2", "configuration": "c2", "log_level": "debug"})),
            &a,
        )
        .unwrap();
        assert_eq!((o.queue.as_str(), o.configuration.as_deref()), ("q2", Some("c2")));
        assert_eq!(o.log_level, LogLevel::DEBUG);
        let plain = app(json!({"name": "b", "steps": [{"name": "S", "file": "F"}]}));
        let o = RunOptions::resolve(&params(json!({"queue": ""})), &plain).unwrap();
        assert_eq!((o.queue.as_str(), o.configuration), ("default", None));
    }

    #[test]
    fn every_bad_option_is_listed() {
        let a = app(json!({"name": "a", "steps": [{"name": "S", "file": "F"}]}));
        let problems = RunOptions::resolve(
            &params(json!({"queue": 3, "configuration": [], "log_level": "loud"})),
            &a,
        )
        .unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[2].contains("log_level"), "{problems:?}");
    }

    #[test]
    fn variables_are_the_params_without_the_options() {
        let vars = run_variables(&params(json!({"queue": "q", "x": 1, "log_level": 10})));
        assert_eq!(Value::Object(vars), json!({"x": 1}));
    }
}
