//! Rendering of server answers for people: item tables for lists, the step
//! sheet (metadata, parameters, source), a generic key/value summary for
//! documents whose shape is open (about, cluster status), and pretty JSON for
//! `--json`. Every function here is pure (value in, text out) and tolerant of
//! missing or oddly typed fields; printing is the caller's job.

use std::io::Write as _;

use serde_json::{Map, Value};

/// Writes `text` to stdout, adding the final newline if missing. Write
/// errors (a closed pipe, as in `iscli step list | head -1`) are ignored
/// instead of panicking like `println!`.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Pretty-printed JSON (what `--json` prints).
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The items of a list answer: a JSON array, or an object wrapping one array
/// (`{"steps": [...]}`), or a name → item map.
pub fn items(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(a) => a.clone(),
        Value::Object(obj) => {
            let arrays: Vec<&Vec<Value>> = obj.values().filter_map(|v| v.as_array()).collect();
            if arrays.len() == 1 {
                return arrays[0].clone();
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

/// One line per item: NAME, FRIENDLY NAME, VERSION. `plural` names the items
/// in the "nothing here" line ("steps", "applications" ...).
pub fn list_table(value: &Value, plural: &str) -> String {
    let rows: Vec<[String; 3]> = items(value)
        .iter()
        .map(|item| match item {
            Value::Object(_) => [
                or_dash(text(item, "name")),
                or_dash(text(item, "friendly_name")),
                or_dash(text(item, "version")),
            ],
            other => [scalar(other), "-".into(), "-".into()],
        })
        .collect();
    if rows.is_empty() {
        return format!("(no {plural})");
    }
    table(&["NAME", "FRIENDLY NAME", "VERSION"], &rows)
}

/// A step for people: metadata, declared parameters, then the source.
pub fn step_sheet(step: &Value) -> String {
    let mut out = String::new();
    for (label, key) in [
        ("Name", "name"),
        ("Friendly name", "friendly_name"),
        ("Description", "description"),
        ("Version", "version"),
        ("SyncPack", "syncpack"),
    ] {
        let v = text(step, key);
        if !v.is_empty() || key == "name" {
            out.push_str(&format!("{:<15}{}\n", format!("{label}:"), or_dash(v)));
        }
    }
    let params = step.get("parameters").map(items).unwrap_or_default();
    if params.is_empty() {
        out.push_str("Parameters:    (none)\n");
    } else {
        out.push_str("Parameters:\n");
        for p in &params {
            out.push_str(&parameter_line(p));
        }
    }
    out.push_str("--- source ---\n");
    let source = text(step, "source");
    if source.is_empty() {
        out.push_str("(no source returned)\n");
    } else {
        out.push_str(&source);
        if !source.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn parameter_line(p: &Value) -> String {
    let name = or_dash(text(p, "name"));
    let required = match p.get("required") {
        Some(Value::Bool(true)) => "required",
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => "required",
        _ => "optional",
    };
    let mut line = format!("  {name}  ({required})");
    for (label, key) in [
        ("default", "default_value"),
        ("sample", "sample_value"),
        ("type", "param_type"),
    ] {
        if let Some(v) = p.get(key).filter(|v| !v.is_null()) {
            let shown = scalar(v);
            if !shown.is_empty() {
                line.push_str(&format!("  {label}: {shown}"));
            }
        }
    }
    line.push('\n');
    let description = text(p, "description");
    if !description.is_empty() {
        line.push_str(&format!("      {description}\n"));
    }
    line
}

/// A readable rendering of any document: `key: value` for scalars, tables
/// for arrays of objects, indented blocks for nested objects.
pub fn summary(value: &Value) -> String {
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

/// Left-aligned columns separated by two spaces; no trailing spaces.
pub fn table<R: AsRef<[String]>>(headers: &[&str], rows: &[R]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: Vec<&str>| {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            } else {
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    };
    push_row(headers.to_vec());
    for row in rows {
        push_row(
            row.as_ref()
                .iter()
                .take(headers.len())
                .map(String::as_str)
                .collect(),
        );
    }
    out
}

/// A field as text: strings as they are, numbers and booleans printed,
/// null or missing as "".
pub fn text(v: &Value, key: &str) -> String {
    v.get(key).map(scalar).unwrap_or_default()
}

/// Any value as one line of text.
fn scalar(v: &Value) -> String {
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

fn or_dash(s: String) -> String {
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
    fn list_table_is_tolerant_of_missing_fields() {
        let v = json!([
            {"name": "CountRecords", "friendly_name": "Count Records", "version": "1.0.0"},
            {"name": "stepTemplate"},
            {"name": "Other", "version": 2, "description": "ignored"}
        ]);
        assert_eq!(
            list_table(&v, "steps"),
            "NAME          FRIENDLY NAME  VERSION\n\
             CountRecords  Count Records  1.0.0\n\
             stepTemplate  -              -\n\
             Other         -              2\n"
        );
        assert_eq!(list_table(&json!([]), "steps"), "(no steps)");
        assert_eq!(list_table(&Value::Null, "apps"), "(no apps)");
    }

    #[test]
    fn list_accepts_wrapped_arrays_and_maps() {
        let wrapped = json!({"applications": [{"name": "a"}]});
        assert_eq!(items(&wrapped), vec![json!({"name": "a"})]);
        let map = json!({"a": {"version": "1"}});
        assert_eq!(items(&map), vec![json!({"version": "1", "name": "a"})]);
        let names = json!(["x", "y"]);
        assert!(list_table(&names, "steps").contains("\nx  "));
    }

    #[test]
    fn step_sheet_shows_metadata_parameters_and_source() {
        let v = json!({
            "name": "CountRecords",
            "friendly_name": "Count Records",
            "description": "Counts joined upstream records",
            "version": "1.0.0",
            "parameters": [
                {"name": "offset", "description": "added to the count",
                 "sample_value": "${stepfunc.double 2}", "default_value": 0, "required": false}
            ],
            "source": "class CountRecords:\n    pass"
        });
        let text = step_sheet(&v);
        assert!(text.starts_with("Name:          CountRecords\n"), "{text}");
        assert!(text.contains("Friendly name: Count Records\n"), "{text}");
        assert!(
            text.contains("  offset  (optional)  default: 0  sample: ${stepfunc.double 2}\n      added to the count\n"),
            "{text}"
        );
        assert!(
            text.ends_with("--- source ---\nclass CountRecords:\n    pass\n"),
            "{text}"
        );
        // Only a name: still renders.
        let text = step_sheet(&json!({"name": "X"}));
        assert!(text.contains("Parameters:    (none)"));
        assert!(text.contains("(no source returned)"));
    }

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
    }
}
