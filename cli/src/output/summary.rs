//! A readable rendering of documents whose shape is open (`iscli about`,
//! `iscli cluster ...`): `key: value` lines, tables for arrays of objects,
//! indented blocks for nested objects.

use serde_json::Value;

use super::fields::{or_dash, scalar};
use super::table::table;

/// A readable rendering of any document: `key: value` for scalars, tables
/// for arrays of objects, indented blocks for nested objects.
pub(crate) fn summary(value: &Value) -> String {
    let mut out = String::new();
    summarize(value, 0, &mut out);
    out
}

fn summarize(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(obj) => {
            if obj.is_empty() {
                out.push_str(&format!("{pad}(empty)\n"));
            }
            let width = obj.keys().map(|k| k.chars().count()).max().unwrap_or(0) + 2;
            for (k, v) in obj {
                match v {
                    Value::Object(inner) if !inner.is_empty() => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        summarize(v, indent + 2, out);
                    }
                    Value::Array(a) if a.iter().any(|x| x.is_object()) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        summarize(v, indent + 2, out);
                    }
                    _ => {
                        let label = format!("{k}:");
                        out.push_str(&format!("{pad}{label:<width$}{}\n", or_dash(scalar(v))));
                    }
                }
            }
        }
        Value::Array(a) if a.iter().any(|x| x.is_object()) => {
            let mut columns: Vec<String> = Vec::new();
            for item in a {
                if let Value::Object(m) = item {
                    for k in m.keys() {
                        if !columns.contains(k) {
                            columns.push(k.clone());
                        }
                    }
                }
            }
            // Identifying columns first (serde_json maps iterate in key order).
            for key in ["id", "node_id", "name"] {
                if let Some(pos) = columns.iter().position(|c| c == key) {
                    let c = columns.remove(pos);
                    columns.insert(0, c);
                }
            }
            let headers: Vec<String> = columns.iter().map(|c| c.to_uppercase()).collect();
            let rows: Vec<Vec<String>> = a
                .iter()
                .map(|item| {
                    columns
                        .iter()
                        .map(|c| or_dash(item.get(c).map(scalar).unwrap_or_default()))
                        .collect()
                })
                .collect();
            let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
            for line in table(&header_refs, &rows).lines() {
                out.push_str(&format!("{pad}{line}\n"));
            }
        }
        other => out.push_str(&format!("{pad}{}\n", or_dash(scalar(other)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summary_renders_nested_documents() {
        let v = json!({
            "leader": 1,
            "healthy": true,
            "members": [{"id": 1, "address": "n1:8080"}, {"id": 2, "address": "n2:8080", "lag": 3}],
            "build": {"version": "0.1.0"}
        });
        let text = summary(&v);
        assert!(text.contains("leader:  1\n"), "{text}");
        assert!(text.contains("healthy: true\n"), "{text}");
        assert!(
            text.contains("members:\n  ID  ADDRESS  LAG\n  1   n1:8080  -\n  2   n2:8080  3\n"),
            "{text}"
        );
        assert!(text.contains("build:\n  version: 0.1.0\n"), "{text}");
        assert_eq!(summary(&json!({})), "(empty)\n");
    }
}
