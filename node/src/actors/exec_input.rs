//! What a worker sends its runner for one attempt: the request document of
//! `ipaascore._runner.execute`, the upstream steps' saved data, and the
//! run's encrypted configuration values, decrypted here (the runner never
//! holds the cluster key).
//! The replicated state answers what the attempt needs
//! (`Content::step_inputs`); this module only puts it in the runner's shape.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::messages::Handoff;
use crate::model::task::TaskSpec;
use crate::store::queries::{StepInputs, UpstreamData};

pub struct ExecInput {
    pub request: Value,
    pub upstream_data: Vec<Option<Vec<u8>>>,
    /// (variable name, JSON text) of the run's encrypted configuration
    /// values, decrypted.
    pub secrets: Vec<(String, String)>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The runner input of an attempt of `spec`. `handoff` carries the data of
/// an upstream step whose success is not applied yet (the step started
/// ahead of that apply). An `Err` says why the run's secrets do not decrypt.
pub fn build(
    spec: &TaskSpec,
    inputs: StepInputs,
    handoff: Option<&Handoff>,
    keys: &crate::crypto::KeyRing,
) -> Result<ExecInput, String> {
    let source_hash = hex(&Sha256::digest(inputs.source.as_bytes()));
    let mut request = json!({
        "task_id": spec.id,
        "step_name": spec.step_name,
        "class_name": spec.class_name,
        "source": inputs.source,
        "source_hash": source_hash,
        "application_name": null,
        "application_id": null,
        "generate_report": false,
        "parameters": Value::Object(spec.params.clone()),
        "app_variables": [],
        "run_params": {},
        "config": {},
        "upstream": [],
        "log_level": spec.log_level.number(),
    });
    let mut input = ExecInput {
        request: Value::Null,
        upstream_data: Vec::new(),
        secrets: Vec::new(),
    };
    if let Some(run) = inputs.run {
        request["application_name"] = json!(run.app_name);
        request["application_id"] = json!(run.run_id);
        request["generate_report"] = json!(run.generate_report);
        request["app_variables"] = run
            .app_variables
            .iter()
            .map(|v| {
                json!({"name": v.name, "value": v.value, "default_value": v.default_value,
                       "required": v.required, "description": v.description,
                       "sample_value": v.sample_value})
            })
            .collect();
        request["run_params"] = Value::Object(run.variables);
        let mut upstream = Vec::with_capacity(run.upstream.len());
        for up in run.upstream {
            let data = match up.data {
                UpstreamData::Saved(pickle) => pickle,
                // InStore was read by the caller (`resolve_upstream`);
                // were it left, the handoff is the only other source.
                UpstreamData::NotApplied | UpstreamData::InStore => handoff
                    .filter(|h| h.from_task == up.task_id)
                    .and_then(|h| h.pickle.clone()),
            };
            upstream.push(json!({"name": up.name, "parameters": Value::Object(up.params)}));
            input.upstream_data.push(data);
        }
        request["upstream"] = Value::Array(upstream);
        request["config"] = Value::Object(run.config);
        if !run.secrets.is_empty() {
            let key = keys.cluster_key(&run.cluster_key).map_err(|e| {
                format!("ConfigurationError: cannot decrypt the configuration's secrets: {e}")
            })?;
            input.secrets = crate::crypto::open_values(&key, &run.secrets)
                .map_err(|e| format!("ConfigurationError: cannot decrypt {e}"))?;
        }
    }
    input.request = request;
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_keys() -> crate::crypto::KeyRing {
        use base64::Engine;
        let kek = base64::engine::general_purpose::STANDARD.encode([3u8; 32]);
        crate::crypto::KeyRing::load(Some(&kek), std::path::Path::new("/nonexistent")).unwrap()
    }
    use crate::model::run::RunSpec;
    use crate::store::{Command, Content};

    #[test]
    fn a_step_started_ahead_gets_the_handed_over_data_of_its_upstream() {
        let mut c = Content::default();
        c.apply(Command::PutStep(
            crate::model::step::StepRecord::validate("F", "class F: pass").unwrap(),
        ));
        c.apply(Command::create_run(RunSpec::for_test(
            "isapp-r",
            r#"{"name": "a", "app_variables": [{"name": "v", "value": 1}],
                "steps": [{"name": "A", "file": "F", "output_to": ["B"], "p": 1},
                          {"name": "B", "file": "F"}]}"#,
            0,
        )));
        let task = c.tasks["r-1"].clone();
        let inputs = c.step_inputs(&task).unwrap();
        let handoff = Handoff {
            from_task: "r-0".into(),
            pickle: Some(vec![7]),
            finished_ms: 0,
        };
        let input = build(&task.spec, inputs, Some(&handoff), &test_keys()).unwrap();
        assert_eq!(input.upstream_data, vec![Some(vec![7])]);
        assert_eq!(
            input.request["upstream"],
            json!([{"name": "A", "parameters": {"p": 1}}])
        );
        assert_eq!(input.request["app_variables"][0]["value"], json!(1));
        assert_eq!(input.request["application_id"], json!("isapp-r"));
        let other = Handoff {
            from_task: "elsewhere".into(),
            pickle: Some(vec![9]),
            finished_ms: 0,
        };
        let inputs = c.step_inputs(&task).unwrap();
        assert_eq!(
            build(&task.spec, inputs, Some(&other), &test_keys())
                .unwrap()
                .upstream_data,
            vec![None]
        );
    }
}
