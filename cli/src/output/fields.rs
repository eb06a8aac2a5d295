//! Reading the fields of a server answer for display: every reader here
//! tolerates a missing, null or oddly typed field, because the answers are
//! JSON documents whose shape the CLI does not control (yet).

use serde_json::{Map, Value};

/// The items of a list answer: a JSON array, or an object wrapping one array
/// (`{"steps": [...]}`), or a name → item map.
pub(crate) fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.clone(),
        Value::Object(obj) => {
            let arrays: Vec<&Vec<Value>> = obj.values().filter_map(|v| v.as_array()).collect();
            if let [only] = arrays.as_slice() {
                return (*only).clone();
            }
            obj.iter()
                .map(|(k, v)| match v {
                    Value::Object(inner) if !inner.contains_key("name") => {
                        let mut m = inner.clone();
                        m.insert("name".into(), Value::String(k.clone()));
                        Value::Object(m)
                    }
                    Value::Object(_) => v.clone(),
                    other => {
                        let mut m = Map::new();
                        m.insert("name".into(), Value::String(k.clone()));
                        m.insert("value".into(), other.clone());
                        Value::Object(m)
                    }
                })
                .collect()
        }
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

/// A field as text: strings as they are, numbers and booleans printed,
/// null or missing as "".
pub(crate) fn text(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
}

/// A numeric field (None when missing, null or not a number).
pub(crate) fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Any value as one line of text.
pub(crate) fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.iter().all(|x| !x.is_object() && !x.is_array()) => {
            a.iter().map(scalar).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// `-` in place of an empty cell, so that columns and sheets never show a
/// gap a reader (or a script splitting on whitespace) could misread.
pub(crate) fn or_dash(s: String) -> String {
    if s.trim().is_empty() {
        "-".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_answers_may_be_arrays_wrapped_arrays_or_maps() {
        let wrapped = json!({"applications": [{"name": "a"}]});
        assert_eq!(items(&wrapped), vec![json!({"name": "a"})]);
        let map = json!({"a": {"version": "1"}});
        assert_eq!(items(&map), vec![json!({"version": "1", "name": "a"})]);
        let scalars = json!({"a": 1});
        assert_eq!(items(&scalars), vec![json!({"name": "a", "value": 1})]);
        assert!(items(&Value::Null).is_empty());
    }

    #[test]
    fn fields_read_as_one_line_of_text() {
        let v = json!({"s": "x", "n": 2, "b": true, "null": null, "list": ["a", 1], "obj": {"k": 1}});
        assert_eq!(text(&v, "s"), "x");
        assert_eq!(text(&v, "n"), "2");
        assert_eq!(text(&v, "b"), "true");
        assert_eq!(text(&v, "null"), "");
        assert_eq!(text(&v, "missing"), "");
        assert_eq!(text(&v, "list"), "a, 1");
        assert_eq!(text(&v, "obj"), r#"{"k":1}"#);
        assert_eq!(number(&v, "n"), Some(2.0));
        assert_eq!(number(&v, "s"), None);
        assert_eq!(or_dash("  ".into()), "-");
        assert_eq!(or_dash("x".into()), "x");
    }
}
