//! `--param KEY=VALUE` of `step run` and `app run`: reading one value
//! (JSON when it parses, else text) and gathering them, refusing a key
//! given twice rather than silently keeping one.

use serde_json::{Map, Value};

use super::usage;
use crate::error::CliError;

/// Reads `KEY=VALUE`: the value is JSON when it parses as JSON, else text.
pub(crate) fn parse_param(arg: &str) -> Result<(String, Value), String> {
    let Some((key, raw)) = arg.split_once('=') else {
        return Err(format!("expected KEY=VALUE, got {arg:?}"));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("the parameter name is empty in {arg:?}"));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    Ok((key.to_string(), value))
}

/// Every `--param` as one map; a key given twice is a usage error.
pub(crate) fn param_map(params: &[(String, Value)]) -> Result<Map<String, Value>, CliError> {
    let mut map = Map::new();
    for (key, value) in params {
        if map.insert(key.clone(), value.clone()).is_some() {
            return Err(usage(&format!("--param {key}=... is given more than once")));
        }
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn param_values_are_json_when_they_parse_else_text() {
        for (arg, key, value) in [
            ("who=world", "who", json!("world")),
            ("n=42", "n", json!(42)),
            ("ratio=1.5", "ratio", json!(1.5)),
            ("on=true", "on", json!(true)),
            ("nothing=null", "nothing", Value::Null),
            ("ids=[1, 2]", "ids", json!([1, 2])),
            (r#"filter={"country": "NL"}"#, "filter", json!({"country": "NL"})),
            (r#"s="42""#, "s", json!("42")),
            ("empty=", "empty", json!("")),
            ("sql=a=b", "sql", json!("a=b")),
            ("text=hello world", "text", json!("hello world")),
            (" padded =x", "padded", json!("x")),
        ] {
            assert_eq!(parse_param(arg).unwrap(), (key.to_string(), value), "{arg}");
        }
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=x").is_err());
    }

    #[test]
    fn a_key_given_twice_is_a_usage_error() {
        let once = [("a".to_string(), json!(1)), ("b".to_string(), json!(2))];
        assert_eq!(Value::Object(param_map(&once).unwrap()), json!({"a": 1, "b": 2}));
        let twice = [("a".to_string(), json!(1)), ("a".to_string(), json!(2))];
        let err = param_map(&twice).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("--param a=... is given more than once"));
    }
}
