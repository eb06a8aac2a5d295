//! What a worker sends its runner for one task: the request document of
//! `ipaascore._runner.execute`, the upstream steps' saved data, and the
//! run's encrypted configuration values (decrypted only inside the runner).
//! Read from the replicated state at the moment the attempt starts.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::dispatcher::Handoff;
use crate::engine::run::StepStatus;
use crate::model::task::{Outcome, StepTask};
use crate::store::Content;

pub struct ExecInput {
    pub request: Value,
    pub upstream_data: Vec<Option<Vec<u8>>>,
    /// (variable name, ciphertext) of encrypted configuration values.
    pub secrets: Vec<(String, String)>,
    pub cluster_key: Vec<u8>,
}

/// Keys of a run's `params` that are options of the run, not app variables.
pub const RUN_OPTIONS: &[&str] = &["queue", "configuration", "log_level"];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// Parsed application documents of recent runs: a run's steps would
/// otherwise parse the same document once each.
#[derive(Default)]
pub struct AppCache(HashMap<String, Arc<Value>>);

impl AppCache {
    const CAPACITY: usize = 32;

    fn get(&mut self, run_id: &str, json: &str) -> Arc<Value> {
        if let Some(app) = self.0.get(run_id) {
            return app.clone();
        }
        if self.0.len() >= Self::CAPACITY {
            self.0.clear();
        }
        let app = Arc::new(serde_json::from_str(json).unwrap_or(Value::Null));
        self.0.insert(run_id.to_string(), app.clone());
        app
    }
}

/// Builds the runner input for `task`; an `Err` is the reason the attempt
/// fails without running (the step or configuration is gone).
pub fn build(
    content: &Content,
    task: &StepTask,
    apps: &mut AppCache,
    handoff: Option<&Handoff>,
) -> Result<ExecInput, String> {
    let step = content.steps.get(&task.spec.class_name).ok_or_else(|| {
        format!(
            "the step {:?} does not exist (it was never uploaded or was deleted); upload it and replay the run",
            task.spec.class_name
        )
    })?;
    let source_hash = hex(&Sha256::digest(step.source.as_bytes()));
    let mut request = json!({
        "task_id": task.spec.id,
        "step_name": task.spec.step_name,
        "class_name": task.spec.class_name,
        "source": step.source,
        "source_hash": source_hash,
        "application_name": null,
        "application_id": null,
        "parameters": Value::Object(parse_object(&task.spec.params_json)),
        "app_variables": [],
        "run_params": {},
        "config": {},
        "upstream": [],
        "log_level": task.spec.log_level,
    });
    let mut input = ExecInput {
        request: Value::Null,
        upstream_data: Vec::new(),
        secrets: Vec::new(),
        cluster_key: Vec::new(),
    };
    if let Some((run_id, index)) = &task.spec.run {
        let record = content
            .runs
            .get(run_id)
            .ok_or_else(|| format!("the run {run_id} of this step no longer exists"))?;
        let app = apps.get(run_id, &record.spec.app_json);
        let run_params: Map<String, Value> = parse_object(&record.spec.params_json)
            .into_iter()
            .filter(|(k, _)| !RUN_OPTIONS.contains(&k.as_str()))
            .collect();
        request["application_name"] = json!(record.spec.app_name);
        request["application_id"] = json!(run_id);
        request["app_variables"] = app.get("app_variables").cloned().unwrap_or_else(|| json!([]));
        request["run_params"] = Value::Object(run_params);

        let mut upstream = Vec::new();
        for &u in &record.run.steps[*index].upstream {
            let up = &content.tasks[&record.task_ids[u]];
            let data = match (&up.outcome, handoff) {
                (Some(Outcome::Success { pickle, .. }), _) => pickle.clone(),
                // Started ahead of the apply of this upstream's outcome.
                (_, Some(h)) if h.from_task == up.spec.id => h.pickle.clone(),
                _ => None,
            };
            upstream.push(json!({
                "name": up.spec.step_name,
                "parameters": Value::Object(parse_object(&up.spec.params_json)),
            }));
            input.upstream_data.push(data);
        }
        request["upstream"] = Value::Array(upstream);

        if let Some(name) = &record.spec.configuration {
            let doc = content.configurations.get(name).ok_or_else(|| {
                format!("the configuration {name:?} of this run does not exist; upload it and replay the run")
            })?;
            let doc: Value = serde_json::from_str(doc).unwrap_or(Value::Null);
            let mut config = Map::new();
            for item in doc
                .get("configuration_data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(var) = item.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let value = item.get("value").cloned().unwrap_or(Value::Null);
                match (item.get("encrypted") == Some(&Value::Bool(true)), value) {
                    (true, Value::String(ciphertext)) => input.secrets.push((var.to_string(), ciphertext)),
                    (_, value) => {
                        config.insert(var.to_string(), value);
                    }
                }
            }
            request["config"] = Value::Object(config);
            if !input.secrets.is_empty() {
                input.cluster_key = content
                    .cluster
                    .as_ref()
                    .map(|c| c.cluster_key.clone())
                    .ok_or("the cluster has no key to decrypt configuration values")?;
            }
        }
    }
    input.request = request;
    Ok(input)
}

/// Steps of `task`'s run that its success makes ready: waiting steps
/// downstream of it whose other upstream steps all succeeded. Answers
/// (task id, queue) of each.
pub fn ready_after_success(content: &Content, task: &StepTask) -> Vec<(String, String)> {
    let Some((run_id, index)) = &task.spec.run else {
        return Vec::new();
    };
    let Some(record) = content.runs.get(run_id) else {
        return Vec::new();
    };
    if record.run.state.is_terminal() {
        return Vec::new();
    }
    let run = &record.run;
    run.steps[*index]
        .downstream
        .iter()
        .filter(|&&d| run.status[d] == StepStatus::Waiting)
        .filter(|&&d| {
            run.steps[d]
                .upstream
                .iter()
                .all(|&u| u == *index || run.status[u] == StepStatus::Succeeded)
        })
        .map(|&d| (record.task_ids[d].clone(), record.spec.queue.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::step_task::{finished_for_test, StartInfo};
    use crate::engine::TaskEvent;
    use crate::model::run::RunSpec;
    use crate::store::Command;

    fn content_with_run(app: &str) -> Content {
        let mut c = Content::default();
        c.apply(Command::CreateRun(RunSpec::for_test("isapp-r", app, 0)));
        c
    }

    fn succeed(c: &mut Content, id: &str) {
        let mut event = finished_for_test(1, true, 2);
        if let TaskEvent::Finished { started, .. } = &mut event {
            *started = Some(StartInfo {
                worker: "w".into(),
                at_ms: 1,
            });
        }
        c.apply(Command::Task { id: id.into(), event });
    }

    #[test]
    fn a_join_starts_ahead_only_after_its_last_upstream() {
        let mut c = content_with_run(
            r#"{"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["J"]},
                                      {"name": "B", "file": "F", "output_to": ["J"]},
                                      {"name": "J", "file": "F"}]}"#,
        );
        let ready = |c: &Content, id: &str| ready_after_success(c, &c.tasks[id]);
        assert!(ready(&c, "r-0").is_empty(), "B has not succeeded yet");
        succeed(&mut c, "r-1");
        assert_eq!(ready(&c, "r-0"), vec![("r-2".to_string(), "q".to_string())]);
        succeed(&mut c, "r-0");
        assert!(ready(&c, "r-0").is_empty(), "J is queued already");
    }
}
