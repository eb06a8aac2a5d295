//! How document options typed as booleans and counts are read: as JSON
//! booleans and numbers, and also as the strings documents written for the
//! original product use (`"True"`, `"false"`, `"3"`), which it accepted. The
//! one owner of that rule: validation and the typed readers both call it,
//! so what passes validation is read the same way.

use serde_json::Value;

/// A boolean option: `true`/`false`, or text `true`/`false`, `yes`/`no`,
/// `on`/`off`, `1`/`0` in any case and with surrounding blanks.
pub fn bool_of(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A non-negative integer option: a JSON integer, or text holding one.
pub fn count_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn booleans_as_the_original_accepted_them() {
        for (v, want) in [
            (json!(true), Some(true)),
            (json!("True"), Some(true)),
            (json!(" yes "), Some(true)),
            (json!("FALSE"), Some(false)),
            (json!("0"), Some(false)),
            (json!("maybe"), None),
            (json!(1), None),
            (json!(null), None),
        ] {
            assert_eq!(bool_of(&v), want, "{v}");
        }
    }

    #[test]
    fn counts_as_numbers_or_text() {
        for (v, want) in [
            (json!(3), Some(3)),
            (json!("3"), Some(3)),
            (json!(" 12 "), Some(12)),
            (json!(-1), None),
            (json!("-1"), None),
            (json!(1.5), None),
            (json!("three"), None),
        ] {
            assert_eq!(count_of(&v), want, "{v}");
        }
    }
}
