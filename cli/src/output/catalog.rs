//! The stored content for people: the list of steps, applications or
//! configurations, and the step sheet (metadata, declared parameters,
//! source).

use serde_json::Value;

use super::fields::{items, or_dash, scalar, text};
use super::table::table;

/// One line per item: NAME, FRIENDLY NAME, VERSION. `plural` names the items
/// in the "nothing here" line ("steps", "applications" ...).
pub(crate) fn list_table(value: &Value, plural: &str) -> String {
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
pub(crate) fn step_sheet(step: &Value) -> String {
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

/// One declared parameter: name, whether it is required, its default,
/// sample and type when it has them, and its description below.
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
        let names = json!(["x", "y"]);
        assert!(list_table(&names, "steps").contains("\nx  "));
        let wrapped = json!({"applications": [{"name": "a", "version": "1"}]});
        assert_eq!(
            list_table(&wrapped, "applications"),
            "NAME  FRIENDLY NAME  VERSION\na     -              1\n"
        );
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
            text.contains(
                "  offset  (optional)  default: 0  sample: ${stepfunc.double 2}\n      added to the count\n"
            ),
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
}
