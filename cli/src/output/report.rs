//! Reports for people: the list of reports (`report list`, with the cursor
//! of the next page) and one report (`report show`): its details, then
//! each section as a titled table, its sub-reports indented below it. The
//! node answers reports as JSON documents; they are read with the tolerant
//! readers of `fields`, so a field the node leaves out shows as `-`.

use serde_json::Value;

use super::fields::{or_dash, text};
use super::schedule::time_of;
use super::table::{aligned, table};

/// How much deeper each level of sub-reports is indented.
const STEP: &str = "  ";

/// One line per report: ID, APPLICATION, RUN, CREATED; then, when more
/// reports follow, the line that says how to get them.
pub(crate) fn report_table(reports: &[Value], next_cursor: Option<&str>) -> String {
    let mut out = if reports.is_empty() {
        "(no reports)\n".to_string()
    } else {
        let rows: Vec<[String; 4]> = reports
            .iter()
            .map(|r| {
                [
                    or_dash(text(r, "id")),
                    or_dash(text(r, "app_name")),
                    or_dash(text(r, "application_id")),
                    time_of(r, "created"),
                ]
            })
            .collect();
        table(&["ID", "APPLICATION", "RUN", "CREATED"], &rows)
    };
    if let Some(cursor) = next_cursor {
        out.push_str(&format!(
            "(more reports follow: repeat with --cursor {cursor} for the next page, or with --all)\n"
        ));
    }
    out
}

/// One report: application, run and creation time, then every section.
pub(crate) fn report_sheet(report: &Value) -> String {
    let mut out = String::new();
    for (label, value) in [
        ("Report", text(report, "id")),
        ("Application", text(report, "app_name")),
        ("Run", text(report, "application_id")),
        ("Created", time_of(report, "created")),
    ] {
        out.push_str(&format!("{:<14}{}\n", format!("{label}:"), or_dash(value)));
    }
    let sections = list(report, "sections");
    if sections.is_empty() {
        out.push_str("Sections:     (none)\n");
    }
    for section in sections {
        push_section(&mut out, section, "");
    }
    out
}

/// A section after a blank line: its title at `indent`, its table one step
/// deeper, then its sub-reports, one step deeper still.
fn push_section(out: &mut String, section: &Value, indent: &str) {
    let inner = format!("{indent}{STEP}");
    out.push('\n');
    out.push_str(&format!("{indent}{}\n", section_title(section)));
    out.push_str(&section_table(section, &inner));
    for sub in list(section, "sub_reports") {
        push_section(out, sub, &inner);
    }
}

/// A section's title: its name, then its section, flag and step when it
/// has them: `Devices (section: inventory, flag: warning)`.
fn section_title(section: &Value) -> String {
    let name = text(section, "name");
    let name = if name.trim().is_empty() {
        "(unnamed section)".to_string()
    } else {
        name
    };
    let extras: Vec<String> = ["section", "flag", "step"]
        .iter()
        .filter_map(|key| {
            let value = text(section, key);
            (!value.trim().is_empty()).then(|| format!("{key}: {value}"))
        })
        .collect();
    if extras.is_empty() {
        name
    } else {
        format!("{name} ({})", extras.join(", "))
    }
}

/// A section's rows under its column titles, each line after `indent`.
/// The first column holds the rows' titles when any row has one.
fn section_table(section: &Value, indent: &str) -> String {
    let rows = list(section, "rows");
    if rows.is_empty() {
        return format!("{indent}(no rows)\n");
    }
    let columns = list(section, "columns");
    let titled = rows.iter().any(has_title);
    if columns.is_empty() && !titled {
        return format!("{indent}({} row(s), no columns)\n", rows.len());
    }
    let mut header = Vec::new();
    if titled {
        header.push(String::new());
    }
    header.extend(columns.iter().map(|c| {
        let title = text(c, "title");
        if title.trim().is_empty() {
            or_dash(text(c, "data_key"))
        } else {
            title
        }
    }));
    // Rows with titles but no columns have nothing to head.
    let mut lines = if columns.is_empty() {
        Vec::new()
    } else {
        vec![header]
    };
    for row in rows {
        let mut line = Vec::new();
        if titled {
            line.push(match row.get("title") {
                Some(title) if has_title(row) => cell(title),
                _ => "-".to_string(),
            });
        }
        let cells = row.get("cells").unwrap_or(&Value::Null);
        line.extend(columns.iter().map(|c| {
            cells
                .get(text(c, "data_key"))
                .map(cell)
                .unwrap_or_else(|| "-".to_string())
        }));
        lines.push(line);
    }
    aligned(&lines, indent)
}

/// True when a row has a title to show.
fn has_title(row: &Value) -> bool {
    match row.get("title") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

/// A cell: a string as it is (`-` when blank), any other value as JSON
/// text (`3`, `true`, `null`, `{"a":1}`).
fn cell(value: &Value) -> String {
    match value {
        Value::String(s) => or_dash(s.clone()),
        other => other.to_string(),
    }
}

/// The items of a list field; none when it is missing or not a list.
fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
