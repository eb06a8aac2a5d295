//! Steps: Python classes uploaded as source. The runtime issue adds the
//! metadata read from the class (friendly name, parameters); until then a step
//! is its name and source.

use serde::{Deserialize, Serialize};

use super::ModelError;

/// A step as replicated: the class name and its module source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub source: String,
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
        } else if !source.contains(&format!("class {name}")) && !name.is_empty() {
            problems.push(format!("the source defines no class named {name}"));
        }
        if problems.is_empty() {
            Ok(StepRecord {
                name: name.to_string(),
                source: source.to_string(),
            })
        } else {
            Err(ModelError::invalid(format!("step {name:?}"), problems))
        }
    }

    /// The document answered by `GET /steps/{name}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "source": self.source,
            "friendly_name": null,
            "description": null,
            "version": null,
            "parameters": [],
        })
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
    fn rejects_source_without_the_class() {
        let err = StepRecord::validate("Hello", "class Other: pass").unwrap_err();
        assert!(err.to_string().contains("no class named Hello"));
    }
}
