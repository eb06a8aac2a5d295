//! Reading the free-form parts of answers for display (results, parameter
//! values, variables, and the JSON answers of features not built yet):
//! every reader here tolerates a missing, null or oddly typed field,
//! because the CLI does not control their shape.

use serde_json::Value;

/// A field as text: strings as they are, numbers and booleans printed,
/// null or missing as "".
pub(crate) fn text(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
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
    fn fields_read_as_one_line_of_text() {
        let v = json!({"s": "x", "n": 2, "b": true, "null": null, "list": ["a", 1], "obj": {"k": 1}});
        assert_eq!(text(&v, "s"), "x");
        assert_eq!(text(&v, "n"), "2");
        assert_eq!(text(&v, "b"), "true");
        assert_eq!(text(&v, "null"), "");
        assert_eq!(text(&v, "missing"), "");
        assert_eq!(text(&v, "list"), "a, 1");
        assert_eq!(text(&v, "obj"), r#"{"k":1}"#);
        assert_eq!(or_dash("  ".into()), "-");
        assert_eq!(or_dash("x".into()), "x");
    }

    #[test]
    fn values_read_as_one_line_of_text() {
        assert_eq!(scalar(&json!(1.5)), "1.5");
        assert_eq!(scalar(&json!(["a", [1]])), r#"["a",[1]]"#);
        assert_eq!(scalar(&json!([])), "");
        assert_eq!(scalar(&Value::Null), "");
    }
}
