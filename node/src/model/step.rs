//! Steps: Python classes uploaded as source, with the metadata the upload
//! validator read from the class (friendly name, declared parameters).

use serde::{Deserialize, Serialize};

use super::{has_value, ModelError};

/// A step as replicated: the class name, its module source and the
/// metadata the runner read from the class at upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub source: String,
    /// None until the upload validator has loaded the class.
    #[serde(with = "super::json_text")]
    pub meta: Option<StepMeta>,
}

/// What the class says of itself, as the upload validator reports it (the
/// field names are those of its report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepMeta {
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub parameters: Vec<DeclaredParameter>,
}

/// A parameter a step class declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredParameter {
    pub name: String,
    #[serde(default)]
    pub description: serde_json::Value,
    #[serde(default)]
    pub sample_value: serde_json::Value,
    #[serde(default)]
    pub default_value: serde_json::Value,
    #[serde(default)]
    pub required: bool,
    /// The declared `param_type`'s name, if any.
    #[serde(default, rename = "type")]
    pub param_type: Option<String>,
}

impl StepRecord {
    /// Checks what can be checked without Python: the name is a Python
    /// identifier (it is the class name) and the source is not empty.
    pub fn validate(name: &str, source: &str) -> Result<StepRecord, ModelError> {
        let mut problems = Vec::new();
        if name.is_empty() {
            problems.push("\"name\" is required: the step's class name".to_string());
        } else if let Some(why) = crate::model::names::name_problem(name) {
            problems.push(format!("\"name\" {why}"));
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
                meta: None,
            })
        } else {
            Err(ModelError::invalid(format!("step {name:?}"), problems))
        }
    }

    /// The parameters the class declares (empty if it declares none).
    pub fn declared_parameters(&self) -> &[DeclaredParameter] {
        self.meta.as_ref().map_or(&[], |m| &m.parameters)
    }

    /// Names of required parameters that have no value in `given` and no
    /// default. Null and the empty string count as no value, as in the
    /// runner's `validate_parameter_values`.
    pub fn missing_required(&self, given: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
        self.declared_parameters()
            .iter()
            .filter(|p| p.required && !has_value(Some(&p.default_value)) && !has_value(given.get(&p.name)))
            .map(|p| p.name.clone())
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
        let ModelError::Invalid { problems, .. } = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
    }

    #[test]
    fn missing_required_ignores_defaults_and_given_values() {
        let mut s = StepRecord::validate("S", "class S: pass").unwrap();
        s.meta = Some(
            serde_json::from_str(
                r#"{"parameters": [{"name": "a", "required": true, "default_value": null},
                                   {"name": "b", "required": true, "default_value": 3},
                                   {"name": "c", "required": false},
                                   {"name": "d", "required": true}]}"#,
            )
            .unwrap(),
        );
        let given = serde_json::json!({"d": 1}).as_object().unwrap().clone();
        assert_eq!(s.missing_required(&given), vec!["a".to_string()]);
    }
}
