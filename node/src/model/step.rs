//! Steps: Python classes uploaded as source. The runtime issue adds the
//! metadata read from the class (friendly name, parameters); until then a step
//! is its name and source.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// A step as replicated: the class name, its module source and the
/// metadata the runner read from the class at upload (a JSON object with
/// friendly_name, description, version and parameters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub source: String,
    pub meta_json: Option<String>,
}

/// A parameter a step class declares.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DeclaredParameter {
    pub name: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub default_value: serde_json::Value,
}

impl StepRecord {
    /// Checks what can be checked without Python: the name is a Python
    /// identifier (it is the class name) and the source is not empty.
    pub fn validate(name: &str, source: &str) -> Result<StepRecord, ModelError> {
        let mut problems = Vec::new();
        if name.is_empty() {
            problems.push("\"name\" is required: the step's class name".to_string());
        } else if !is_python_identifier(name) {
            problems.push(format!(
                "\"name\" must be a Python class name (letters, digits, underscore; not starting with a digit), got {name:?}"
            ));
        }
        if source.trim().is_empty() {
            problems.push("\"data\" is required: the step's Python source".to_string());
        }
        if problems.is_empty() {
            Ok(StepRecord {
                name: name.to_string(),
                source: source.to_string(),
                meta_json: None,
            })
        } else {
            Err(ModelError::invalid(format!("step {name:?}"), problems))
        }
    }

    fn meta(&self) -> serde_json::Value {
        self.meta_json
            .as_deref()
            .and_then(|m| serde_json::from_str(m).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The document answered by `GET /steps/{name}`.
    pub fn to_json(&self) -> serde_json::Value {
        let meta = self.meta();
        serde_json::json!({
            "name": self.name,
            "source": self.source,
            "friendly_name": meta.get("friendly_name").cloned().unwrap_or_default(),
            "description": meta.get("description").cloned().unwrap_or_default(),
            "version": meta.get("version").cloned().unwrap_or_default(),
            "parameters": meta.get("parameters").cloned().unwrap_or_else(|| serde_json::json!([])),
        })
    }

    /// The parameters the class declares (empty if it declares none).
    pub fn declared_parameters(&self) -> Vec<DeclaredParameter> {
        self.meta()
            .get("parameters")
            .and_then(|p| serde_json::from_value(p.clone()).ok())
            .unwrap_or_default()
    }

    /// Names of required parameters that have no value in `given` and no
    /// default. Null and the empty string count as no value, as in the
    /// runner's `validate_parameter_values`.
    pub fn missing_required(&self, given: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        fn has_value(v: Option<&serde_json::Value>) -> bool {
            v.is_some_and(|v| !v.is_null() && v.as_str() != Some(""))
        }
        self.declared_parameters()
            .into_iter()
            .filter(|p| p.required && !has_value(Some(&p.default_value)) && !has_value(given.get(&p.name)))
            .map(|p| p.name)
            .collect()
    }
}

pub fn is_python_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_class_with_its_name() {
        let s = StepRecord::validate("Hello", "class Hello(BaseStep):\n    pass\n").unwrap();
        assert_eq!(s.name, "Hello");
    }

    #[test]
    fn lists_every_problem() {
        let err = StepRecord::validate("1bad", "").unwrap_err();
        let ModelError::Invalid { problems, .. } = err;
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn missing_required_ignores_defaults_and_given_values() {
        let mut s = StepRecord::validate("S", "class S: pass").unwrap();
        s.meta_json = Some(
            r#"{"parameters": [{"name": "a", "required": true, "default_value": null},
                               {"name": "b", "required": true, "default_value": 3},
                               {"name": "c", "required": false},
                               {"name": "d", "required": true}]}"#
                .into(),
        );
        let given = serde_json::json!({"d": 1}).as_object().unwrap().clone();
        assert_eq!(s.missing_required(&given), vec!["a".to_string()]);
    }
}
