//! The stored content for people: the list of steps, applications or
//! configurations, and the step sheet (metadata, declared parameters,
//! source).

use is_proto::json::from_proto;
use is_proto::prost_types::Value;
use is_proto::v1::{ContentSummary, DeclaredParameter, StepInfo};

use super::fields::{or_dash, scalar};
use super::table::table;

/// One line per item: NAME, FRIENDLY NAME, VERSION. `plural` names the items
/// in the "nothing here" line ("steps", "applications" ...).
pub(crate) fn list_table(items: &[ContentSummary], plural: &str) -> String {
    if items.is_empty() {
        return format!("(no {plural})");
    }
    let rows: Vec<[String; 3]> = items
        .iter()
        .map(|item| {
            [
                or_dash(item.name.clone()),
                or_dash(item.friendly_name.clone().unwrap_or_default()),
                or_dash(item.version.clone().unwrap_or_default()),
            ]
        })
        .collect();
    table(&["NAME", "FRIENDLY NAME", "VERSION"], &rows)
}

/// A step for people: metadata, declared parameters, then the source.
pub(crate) fn step_sheet(step: &StepInfo) -> String {
    let mut out = String::new();
    for (label, value) in [
        ("Name", &step.name),
        ("Friendly name", &step.friendly_name),
        ("Description", &step.description),
        ("Version", &step.version),
    ] {
        if !value.is_empty() || label == "Name" {
            out.push_str(&format!(
                "{:<15}{}\n",
                format!("{label}:"),
                or_dash(value.clone())
            ));
        }
    }
    if step.parameters.is_empty() {
        out.push_str("Parameters:    (none)\n");
    } else {
        out.push_str("Parameters:\n");
        for p in &step.parameters {
            out.push_str(&parameter_line(p));
        }
    }
    out.push_str("--- source ---\n");
    if step.source.is_empty() {
        out.push_str("(no source returned)\n");
    } else {
        out.push_str(&step.source);
        if !step.source.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// One declared parameter: name, whether it is required, its default and
/// sample when it has them, and its description below. (The declared type,
/// `r#type`, is not shown: iscli has never shown it.)
fn parameter_line(p: &DeclaredParameter) -> String {
    let name = or_dash(p.name.clone());
    let required = if p.required { "required" } else { "optional" };
    let mut line = format!("  {name}  ({required})");
    for (label, value) in [("default", &p.default_value), ("sample", &p.sample_value)] {
        let shown = shown(value.as_ref());
        if !shown.is_empty() {
            line.push_str(&format!("  {label}: {shown}"));
        }
    }
    line.push('\n');
    let description = shown(p.description.as_ref());
    if !description.is_empty() {
        line.push_str(&format!("      {description}\n"));
    }
    line
}

/// A free-form value as one line of text (empty for none or null).
fn shown(value: Option<&Value>) -> String {
    value.map(|v| scalar(&from_proto(v))).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use is_proto::json::to_proto;
    use serde_json::json;

    fn summary(name: &str, friendly_name: Option<&str>, version: Option<&str>) -> ContentSummary {
        ContentSummary {
            name: name.into(),
            friendly_name: friendly_name.map(Into::into),
            version: version.map(Into::into),
            ..Default::default()
        }
    }

    #[test]
    fn list_table_shows_what_is_missing_as_a_dash() {
        let items = [
            summary("CountRecords", Some("Count Records"), Some("1.0.0")),
            summary("stepTemplate", None, None),
            ContentSummary {
                description: Some("ignored".into()),
                ..summary("Other", Some(""), Some("2"))
            },
        ];
        assert_eq!(
            list_table(&items, "steps"),
            "NAME          FRIENDLY NAME  VERSION\n\
             CountRecords  Count Records  1.0.0\n\
             stepTemplate  -              -\n\
             Other         -              2\n"
        );
        assert_eq!(list_table(&[], "steps"), "(no steps)");
        assert_eq!(list_table(&[], "apps"), "(no apps)");
    }

    #[test]
    fn list_table_columns_fit_their_widest_cell() {
        let items = [summary("x", None, None), summary("a", None, Some("1"))];
        assert!(list_table(&items, "steps").contains("\nx  "));
        assert_eq!(
            list_table(&items[1..], "applications"),
            "NAME  FRIENDLY NAME  VERSION\na     -              1\n"
        );
    }

    #[test]
    fn step_sheet_shows_metadata_parameters_and_source() {
        let step = StepInfo {
            name: "CountRecords".into(),
            friendly_name: "Count Records".into(),
            description: "Counts joined upstream records".into(),
            version: "1.0.0".into(),
            parameters: vec![DeclaredParameter {
                name: "offset".into(),
                description: Some(to_proto(&json!("added to the count"))),
                sample_value: Some(to_proto(&json!("${stepfunc.double 2}"))),
                default_value: Some(to_proto(&json!(0))),
                required: false,
                r#type: None,
            }],
            source: "class CountRecords:\n    pass".into(),
        };
        let text = step_sheet(&step);
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
        // Only a name: still renders; a required parameter without values.
        let bare = StepInfo {
            name: "X".into(),
            ..Default::default()
        };
        let text = step_sheet(&bare);
        assert!(text.contains("Parameters:    (none)"));
        assert!(text.contains("(no source returned)"));
        let needs = StepInfo {
            parameters: vec![DeclaredParameter {
                name: "who".into(),
                required: true,
                default_value: Some(to_proto(&serde_json::Value::Null)),
                ..Default::default()
            }],
            ..bare
        };
        assert!(step_sheet(&needs).contains("\n  who  (required)\n--- source"));
    }
}
