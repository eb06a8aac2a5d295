//! Configurations: named sets of variables shared by applications
//! (DESIGN 4.2). Values marked `"encrypted": true` are replaced by ciphertext
//! before the document is proposed to Raft; the sealing function is passed in
//! so this module stays free of key handling.
//!
//! Like applications, a configuration is validated once and read through its
//! typed fields; it is stored as its document text (see `json_text`).

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{json_type, optional_str, ModelError};

/// What a sealing function makes of one encrypted value.
pub enum Sealed {
    /// The plaintext was encrypted into this ciphertext text.
    Encrypted(String),
    /// The value already was ciphertext of this cluster and is kept as is
    /// (re-uploading an exported configuration).
    AlreadySealed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Configuration {
    pub name: String,
    /// The variables, in document order.
    pub data: Vec<ConfigVariable>,
    /// The document as uploaded, encrypted values sealed.
    pub doc: Value,
}

/// One variable (`configuration_data[]`). An encrypted one holds ciphertext
/// text once the configuration is sealed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigVariable {
    pub name: String,
    pub value: Value,
    pub encrypted: bool,
}

impl Configuration {
    pub fn validate(doc: Value) -> Result<Configuration, ModelError> {
        let Some(obj) = doc.as_object() else {
            return Err(ModelError::invalid(
                "configuration",
                vec![format!(
                    "the document must be a JSON object, got {}",
                    json_type(&doc)
                )],
            ));
        };
        let mut problems = Vec::new();
        let name = match obj.get("name") {
            Some(Value::String(s)) => match crate::model::names::name_problem(s) {
                Some(why) => {
                    problems.push(format!("\"name\" {why}, got {s:?}"));
                    None
                }
                None => Some(s.clone()),
            },
            None | Some(Value::Null) => {
                problems.push("\"name\" is required".to_string());
                None
            }
            Some(other) => {
                problems.push(format!("\"name\" must be a string, got {}", json_type(other)));
                None
            }
        };
        for key in ["friendly_name", "description", "author", "version"] {
            optional_str(obj, key, "configuration", &mut problems);
        }
        match obj.get("configuration_data") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let Some(item) = item.as_object() else {
                        problems.push(format!("configuration_data[{i}] must be an object"));
                        continue;
                    };
                    match item.get("name") {
                        Some(Value::String(n)) if !n.is_empty() => {
                            if !seen.insert(n.clone()) {
                                problems.push(format!("configuration variable {n:?} is defined twice"));
                            }
                        }
                        _ => problems.push(format!(
                            "configuration_data[{i}] needs a non-empty string \"name\""
                        )),
                    }
                    if let Some(e) = item.get("encrypted") {
                        if !e.is_boolean() && !e.is_null() {
                            problems.push(format!(
                                "configuration_data[{i}].encrypted must be true or false, got {e}"
                            ));
                        }
                    }
                }
            }
            Some(other) => problems.push(format!(
                "\"configuration_data\" must be an array, got {}",
                json_type(other)
            )),
        }
        let what = match &name {
            Some(n) => format!("configuration {n:?}"),
            None => "configuration".to_string(),
        };
        match (name, problems.is_empty()) {
            (Some(name), true) => {
                let data = variables(&doc);
                Ok(Configuration { name, data, doc })
            }
            _ => Err(ModelError::invalid(what, problems)),
        }
    }

    /// Replaces every encrypted value with what `seal` makes of it. `seal`
    /// gets the variable name and the value; an error names the variable.
    pub fn seal_secrets(
        &mut self,
        mut seal: impl FnMut(&str, &Value) -> Result<Sealed, String>,
    ) -> Result<(), ModelError> {
        let mut problems = Vec::new();
        if let Some(Value::Array(items)) = self.doc.get_mut("configuration_data") {
            for item in items.iter_mut() {
                let Some(obj) = item.as_object_mut() else {
                    continue;
                };
                if obj.get("encrypted") != Some(&Value::Bool(true)) {
                    continue;
                }
                let name = obj
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let value = obj.get("value").cloned().unwrap_or(Value::Null);
                match seal(&name, &value) {
                    Ok(Sealed::Encrypted(c)) => {
                        obj.insert("value".to_string(), Value::String(c));
                    }
                    Ok(Sealed::AlreadySealed) => {}
                    Err(e) => problems.push(format!("variable {name:?}: {e}")),
                }
            }
        }
        self.data = variables(&self.doc);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ModelError::invalid(
                format!("configuration {:?}", self.name),
                problems,
            ))
        }
    }
}

impl Configuration {
    /// The configuration as a role may see it (`ConfigView`): values left
    /// as stored, encrypted ones masked, or every value left out.
    pub fn as_seen(&self, view: crate::model::user::ConfigView) -> Configuration {
        use crate::model::user::ConfigView;
        let mut seen = self.clone();
        if view == ConfigView::Full {
            return seen;
        }
        if let Some(Value::Array(items)) = seen.doc.get_mut("configuration_data") {
            for obj in items.iter_mut().filter_map(Value::as_object_mut) {
                let encrypted = obj.get("encrypted") == Some(&Value::Bool(true));
                match view {
                    ConfigView::Hidden => {
                        obj.remove("value");
                    }
                    ConfigView::Masked if encrypted => {
                        obj.insert("value".into(), Value::String(MASK.into()));
                    }
                    _ => {}
                }
            }
        }
        seen.data = variables(&seen.doc);
        seen
    }
}

/// What a masked secret shows (the same mask as step logs).
pub const MASK: &str = "******";

/// The typed variables of a valid document.
fn variables(doc: &Value) -> Vec<ConfigVariable> {
    doc.get("configuration_data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|item| ConfigVariable {
            name: item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            value: item.get("value").cloned().unwrap_or(Value::Null),
            encrypted: item.get("encrypted") == Some(&Value::Bool(true)),
        })
        .collect()
}

impl Serialize for Configuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.doc.to_string())
    }
}

impl<'de> Deserialize<'de> for Configuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Configuration, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let doc = serde_json::from_str(&text).map_err(D::Error::custom)?;
        Configuration::validate(doc).map_err(|e| D::Error::custom(format!("stored configuration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn roles_see_values_as_their_view_allows() {
        use crate::model::user::ConfigView;
        let c = Configuration::validate(json!({"name": "c", "configuration_data": [
            {"name": "host", "value": "db1"},
            {"name": "pw", "value": "enc:v1:AAAA", "encrypted": true}
        ]}))
        .unwrap();
        assert_eq!(c.as_seen(ConfigView::Full), c);
        let masked = c.as_seen(ConfigView::Masked);
        assert_eq!(masked.doc["configuration_data"][0]["value"], "db1");
        assert_eq!(masked.doc["configuration_data"][1]["value"], MASK);
        assert_eq!(masked.data[1].value, json!(MASK));
        let hidden = c.as_seen(ConfigView::Hidden);
        assert!(hidden.doc["configuration_data"][0].get("value").is_none());
        assert!(hidden.doc["configuration_data"][1].get("value").is_none());
        assert_eq!(hidden.doc["configuration_data"][1]["encrypted"], true);
    }

    #[test]
    fn validates_the_demo_shape() {
        let c = Configuration::validate(json!({"name": "demo", "configuration_data": [
            {"name": "h", "value": "x", "encrypted": false},
            {"name": "p", "value": "s", "encrypted": true}]}))
        .unwrap();
        assert_eq!(c.name, "demo");
    }

    #[test]
    fn lists_every_problem() {
        let err = Configuration::validate(json!({"configuration_data": [
            {"value": 1}, {"name": "a", "encrypted": "yes"}, {"name": "a"}]}))
        .unwrap_err();
        let ModelError::Invalid { problems, .. } = err else {
            panic!("expected Invalid, got {err:?}")
        };
        assert_eq!(problems.len(), 4, "{problems:?}");
    }

    #[test]
    fn seals_only_encrypted_values() {
        let mut c = Configuration::validate(json!({"name": "demo", "configuration_data": [
            {"name": "h", "value": "plain", "encrypted": false},
            {"name": "p", "value": "secret", "encrypted": true}]}))
        .unwrap();
        c.seal_secrets(|_, v| Ok(Sealed::Encrypted(format!("sealed({v})"))))
            .unwrap();
        let data = c.doc["configuration_data"].as_array().unwrap();
        assert_eq!(data[0]["value"], "plain");
        assert_eq!(data[1]["value"], "sealed(\"secret\")");
        assert_eq!(
            c.data[1].value,
            json!("sealed(\"secret\")"),
            "typed fields follow"
        );
        assert!(c.data[1].encrypted && !c.data[0].encrypted);
    }
}
