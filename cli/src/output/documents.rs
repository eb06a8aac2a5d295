//! Stored documents for people: `iscli app get` and `iscli config get`
//! without `--json` (which prints the document itself). A summary names the
//! document's fields, then its variables and steps as tables; every reader
//! tolerates missing or oddly typed fields, since the document is the
//! uploader's.

use serde_json::Value;

use super::fields::{or_dash, scalar, text};
use super::table::table;

/// The width of a label column (`Configuration: ` is the longest label).
const LABEL_WIDTH: usize = 16;

/// `iscli app get NAME`: the application's fields, its variables and its
/// steps (class, where the output goes, where data comes from, retries).
pub(crate) fn application_summary(doc: &Value) -> String {
    let mut out = header_lines(
        doc,
        &[
            ("Name", "name"),
            ("Friendly name", "friendly_name"),
            ("Description", "description"),
            ("Author", "author"),
            ("Version", "version"),
            ("Configuration", "configuration"),
            ("Queue", "queue"),
            ("Report", "generate_report"),
        ],
    );
    let variables: Vec<Vec<String>> = items(doc, "app_variables")
        .map(|v| {
            vec![
                text(v, "name"),
                yes_no(v.get("required")),
                text(v, "value"),
                text(v, "default_value"),
                text(v, "description"),
            ]
        })
        .map(dashed)
        .collect();
    out.push_str(&section(
        "Variables",
        &["NAME", "REQUIRED", "VALUE", "DEFAULT", "DESCRIPTION"],
        &variables,
    ));
    let steps: Vec<Vec<String>> = items(doc, "steps")
        .map(|s| {
            vec![
                text(s, "name"),
                text(s, "file"),
                text(s, "output_to"),
                text(s, "data_from"),
                retry(s),
            ]
        })
        .map(dashed)
        .collect();
    out.push_str(&section(
        "Steps",
        &["NAME", "STEP", "OUTPUT_TO", "DATA_FROM", "RETRY"],
        &steps,
    ));
    out
}

/// `iscli config get NAME`: the configuration's fields and its variables;
/// an encrypted value is never shown, only that it is encrypted.
pub(crate) fn configuration_summary(doc: &Value) -> String {
    let mut out = header_lines(
        doc,
        &[
            ("Name", "name"),
            ("Friendly name", "friendly_name"),
            ("Description", "description"),
            ("Author", "author"),
            ("Version", "version"),
        ],
    );
    let variables: Vec<Vec<String>> = items(doc, "configuration_data")
        .map(|v| {
            let value = if v.get("encrypted").and_then(Value::as_bool) == Some(true) {
                "(encrypted)".to_string()
            } else {
                text(v, "value")
            };
            vec![text(v, "name"), value]
        })
        .map(dashed)
        .collect();
    out.push_str(&section("Variables", &["NAME", "VALUE"], &variables));
    out
}

/// `Label:  value` lines; the name always, every other field when present.
fn header_lines(doc: &Value, fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (label, key) in fields {
        let value = text(doc, key);
        if value.is_empty() && *key != "name" {
            continue;
        }
        let label = format!("{label}:");
        out.push_str(&format!("{label:<LABEL_WIDTH$}{}\n", or_dash(value)));
    }
    out
}

/// A titled table, indented under its title; `(none)` when it has no rows.
fn section(title: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        let label = format!("{title}:");
        return format!("{label:<LABEL_WIDTH$}(none)\n");
    }
    let body: String = table(headers, rows)
        .lines()
        .map(|line| format!("  {line}\n"))
        .collect();
    format!("{title}:\n{body}")
}

/// The objects of the list under `key` (nothing when it is not a list).
fn items<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    doc.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.is_object())
}

/// `yes` for true, `no` for false or absent.
fn yes_no(value: Option<&Value>) -> String {
    match value.and_then(Value::as_bool) {
        Some(true) => "yes".to_string(),
        _ => "no".to_string(),
    }
}

/// A step's retry policy in words: `3`, `3, backoff up to 600 s`, or ``.
fn retry(step: &Value) -> String {
    let max = step.get("retry_max").map(scalar).unwrap_or_default();
    if max.is_empty() || max == "0" {
        return String::new();
    }
    if step.get("retry_backoff").and_then(Value::as_bool) != Some(true) {
        return max;
    }
    match step.get("retry_backoff_max").map(scalar) {
        Some(cap) if !cap.is_empty() => format!("{max}, backoff up to {cap} s"),
        _ => format!("{max}, backoff"),
    }
}

fn dashed(row: Vec<String>) -> Vec<String> {
    row.into_iter().map(or_dash).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_application_reads_as_fields_variables_and_steps() {
        let doc = json!({
            "author": "Integration Service",
            "configuration": "",
            "description": "Template application",
            "friendly_name": "Template App",
            "name": "integration_template",
            "version": "1.0.0",
            "app_variables": [
                {"name": "exampleVariable", "value": "exampleValue", "description": "used by all steps",
                 "required": true, "default_value": "DefaultValue"}
            ],
            "steps": [
                {"name": "Say Hello", "file": "stepTemplate", "output_to": ["Count"]},
                {"name": "Count", "file": "CountRecords", "data_from": ["Say Hello"],
                 "retry_max": 3, "retry_backoff": true, "retry_backoff_max": 600}
            ]
        });
        assert_eq!(
            application_summary(&doc),
            "Name:           integration_template\n\
             Friendly name:  Template App\n\
             Description:    Template application\n\
             Author:         Integration Service\n\
             Version:        1.0.0\n\
             Variables:\n\
             \x20 NAME             REQUIRED  VALUE         DEFAULT       DESCRIPTION\n\
             \x20 exampleVariable  yes       exampleValue  DefaultValue  used by all steps\n\
             Steps:\n\
             \x20 NAME       STEP          OUTPUT_TO  DATA_FROM  RETRY\n\
             \x20 Say Hello  stepTemplate  Count      -          -\n\
             \x20 Count      CountRecords  -          Say Hello  3, backoff up to 600 s\n"
        );
    }

    #[test]
    fn a_bare_or_odd_application_still_reads() {
        let text = application_summary(&json!({"name": "x", "steps": "not a list", "queue": "fast"}));
        assert_eq!(
            text,
            "Name:           x\nQueue:          fast\nVariables:      (none)\nSteps:          (none)\n"
        );
        assert_eq!(retry(&json!({"retry_max": 2})), "2");
        assert_eq!(retry(&json!({"retry_max": 0, "retry_backoff": true})), "");
        assert_eq!(
            retry(&json!({"retry_max": 2, "retry_backoff": true})),
            "2, backoff"
        );
    }

    #[test]
    fn a_configuration_never_shows_an_encrypted_value() {
        let doc = json!({
            "name": "demo-settings",
            "description": "Demo settings",
            "configuration_data": [
                {"encrypted": false, "name": "em7_host", "value": "10.2.11.42"},
                {"encrypted": true, "name": "em7_password", "value": "isenc:v1:abcdef"},
                {"name": "empty"}
            ]
        });
        let text = configuration_summary(&doc);
        assert_eq!(
            text,
            "Name:           demo-settings\n\
             Description:    Demo settings\n\
             Variables:\n\
             \x20 NAME          VALUE\n\
             \x20 em7_host      10.2.11.42\n\
             \x20 em7_password  (encrypted)\n\
             \x20 empty         -\n"
        );
        assert!(!text.contains("abcdef"));
    }
}
