//! Syncpacks for people: the list of uploaded versions (`pack list`), the
//! sheet of one pack (`pack show`: metadata, install state per node,
//! content, versions), and the lines of following an install (`-I`). The
//! node answers syncpacks as JSON documents; they are read with the
//! tolerant readers of `fields`, so a field the node leaves out shows as
//! `-` rather than failing the command.

use serde_json::Value;

use super::fields::{or_dash, scalar, text};
use super::table::{aligned, table};
use super::time::datetime;

/// One line per uploaded (name, version): NAME, VERSION, ACTIVATED,
/// INSTALLED, SUMMARY.
pub(crate) fn pack_table(packs: &[Value]) -> String {
    if packs.is_empty() {
        return "(no syncpacks)".to_string();
    }
    let rows: Vec<[String; 5]> = packs
        .iter()
        .map(|p| {
            [
                or_dash(text(p, "name")),
                or_dash(text(p, "version")),
                yes_no(p, "activated"),
                yes_no(p, "installed"),
                or_dash(text(p, "summary")),
            ]
        })
        .collect();
    table(&["NAME", "VERSION", "ACTIVATED", "INSTALLED", "SUMMARY"], &rows)
}

/// One syncpack: its fields, its install on each node (and the install log
/// of each node where it failed: the reason is what the reader is after),
/// the content its activation registered and every uploaded version.
pub(crate) fn pack_sheet(doc: &Value) -> String {
    let mut out = String::new();
    let size = match doc.get("size").and_then(Value::as_u64) {
        Some(bytes) => format!("{bytes} bytes"),
        None => text(doc, "size"),
    };
    let fields = [
        ("Name", text(doc, "name")),
        ("Version", text(doc, "version")),
        ("Summary", text(doc, "summary")),
        ("Description", text(doc, "description")),
        ("Author", text(doc, "author")),
        ("Requires", text(doc, "requires_dist")),
        ("Activated", yes_no(doc, "activated")),
        ("Installed", yes_no(doc, "installed")),
        ("Uploaded", time_of(doc, "uploaded")),
        ("Size", size),
        ("SHA-256", text(doc, "sha256")),
    ];
    for (label, value) in fields {
        out.push_str(&format!("{:<13}{}\n", format!("{label}:"), or_dash(value)));
    }
    out.push_str(&nodes_section(doc));
    out.push_str(&content_section(doc));
    out.push_str(&versions_section(doc));
    out
}

fn nodes_section(doc: &Value) -> String {
    let nodes = list(doc, "nodes");
    if nodes.is_empty() {
        return "Nodes:       (no install asked for)\n".to_string();
    }
    let mut rows = vec![vec![
        "NODE".to_string(),
        "STATE".to_string(),
        "UPDATED".to_string(),
        "PROGRESS".to_string(),
    ]];
    rows.extend(nodes.iter().map(|n| {
        vec![
            or_dash(text(n, "node_id")),
            or_dash(text(n, "state")),
            time_of(n, "updated"),
            or_dash(one_line(&text(n, "progress"))),
        ]
    }));
    let mut out = format!("Nodes:\n{}", aligned(&rows, "  "));
    let failed: Vec<(String, String)> = nodes
        .iter()
        .filter(|n| text(n, "state") == "failed")
        .map(|n| (text(n, "node_id"), text(n, "log")))
        .collect();
    out.push_str(&install_logs(&failed));
    out
}

fn content_section(doc: &Value) -> String {
    let content = doc.get("content").unwrap_or(&Value::Null);
    let kinds = ["steps", "applications", "configurations"];
    if kinds.iter().all(|k| list(content, k).is_empty()) {
        return "Content:     (none registered: the pack is not activated, or holds nothing)\n".to_string();
    }
    let rows: Vec<Vec<String>> = kinds
        .iter()
        .map(|k| {
            let names: Vec<String> = list(content, k).iter().map(scalar).collect();
            let shown = if names.is_empty() {
                "(none)".to_string()
            } else {
                names.join(", ")
            };
            vec![format!("{k}:"), shown]
        })
        .collect();
    format!("Content:\n{}", aligned(&rows, "  "))
}

fn versions_section(doc: &Value) -> String {
    let versions = list(doc, "versions");
    if versions.is_empty() {
        return String::new();
    }
    let mut rows = vec![vec![
        "VERSION".to_string(),
        "ACTIVATED".to_string(),
        "INSTALLED".to_string(),
        "UPLOADED".to_string(),
    ]];
    rows.extend(versions.iter().map(|v| {
        vec![
            or_dash(text(v, "version")),
            yes_no(v, "activated"),
            yes_no(v, "installed"),
            time_of(v, "uploaded"),
        ]
    }));
    format!("Versions:\n{}", aligned(&rows, "  "))
}

/// What following an install shows for one node: `node 2: installing
/// (resolving requirements)`.
pub(crate) fn node_progress(node_id: &str, state: &str, progress: &str) -> String {
    let progress = one_line(progress);
    if progress.is_empty() {
        format!("node {node_id}: {state}")
    } else {
        format!("node {node_id}: {state} ({progress})")
    }
}

/// The install log of each failed node, under a line naming the node.
pub(crate) fn install_logs(failed: &[(String, String)]) -> String {
    let mut out = String::new();
    for (node_id, log) in failed {
        out.push_str(&format!("--- install log of node {node_id} ---\n"));
        if log.trim().is_empty() {
            out.push_str("(the node sent no log)\n");
            continue;
        }
        out.push_str(log);
        if !log.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The items of a list field; none when it is missing or not a list.
fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// A yes/no field; `-` when the node did not say.
fn yes_no(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_bool) {
        Some(true) => "yes".to_string(),
        Some(false) => "no".to_string(),
        None => "-".to_string(),
    }
}

/// An epoch-seconds field as a UTC date and time; `-` when absent.
fn time_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_f64)
        .map(datetime)
        .unwrap_or_else(|| "-".to_string())
}

/// Text that fits in a table cell or a progress line: its last non-empty
/// line (progress texts may carry an installer's multi-line output, whose
/// last line says where it is).
fn one_line(text: &str) -> String {
    text.lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shown() -> Value {
        json!({
            "name": "test_syncpack", "version": "0.0.2", "summary": "Testing Syncpack",
            "description": "SyncPack for testing", "author": "IS",
            "requires_dist": ["requests>=2", "six"],
            "activated": true, "installed": false,
            "sha256": "ab12", "size": 3486, "uploaded": 1_700_000_000.5,
            "nodes": [
                {"node_id": 1, "state": "installed", "progress": "done", "log": "ok", "updated": 1_700_000_100.0},
                {"node_id": 2, "state": "failed", "progress": "pip install\nERROR: no six",
                 "log": "Collecting six\nERROR: no six", "updated": 1_700_000_101.0}
            ],
            "content": {"steps": ["EchoGreeting", "MakeGreeting"], "applications": ["dummy_app"],
                        "configurations": []},
            "versions": [
                {"version": "0.0.1", "activated": false, "installed": true, "uploaded": 1_699_000_000.0},
                {"version": "0.0.2", "activated": true, "installed": false, "uploaded": 1_700_000_000.5}
            ]
        })
    }

    #[test]
    fn the_list_has_one_line_per_version() {
        let packs = vec![
            json!({"name": "test_syncpack", "version": "0.0.1", "summary": "Testing Syncpack",
                   "uploaded": 1.0, "activated": true, "installed": false}),
            json!({"name": "other", "version": "10.2", "summary": "", "activated": false}),
        ];
        assert_eq!(
            pack_table(&packs),
            "NAME           VERSION  ACTIVATED  INSTALLED  SUMMARY\n\
             test_syncpack  0.0.1    yes        no         Testing Syncpack\n\
             other          10.2     no         -          -\n"
        );
        assert_eq!(pack_table(&[]), "(no syncpacks)");
    }

    #[test]
    fn the_sheet_shows_fields_nodes_failed_logs_content_and_versions() {
        let text = pack_sheet(&shown());
        assert!(
            text.starts_with("Name:        test_syncpack\nVersion:     0.0.2\n"),
            "{text}"
        );
        assert!(text.contains("Requires:    requests>=2, six\n"), "{text}");
        assert!(text.contains("Activated:   yes\nInstalled:   no\n"), "{text}");
        assert!(text.contains("Uploaded:    2023-11-14 22:13:20 UTC\n"), "{text}");
        assert!(
            text.contains("Size:        3486 bytes\nSHA-256:     ab12\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "Nodes:\n\
                 \x20 NODE  STATE      UPDATED                  PROGRESS\n\
                 \x20 1     installed  2023-11-14 22:15:00 UTC  done\n\
                 \x20 2     failed     2023-11-14 22:15:01 UTC  ERROR: no six\n\
                 --- install log of node 2 ---\n\
                 Collecting six\nERROR: no six\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "Content:\n  steps:           EchoGreeting, MakeGreeting\n  \
                 applications:    dummy_app\n  configurations:  (none)\n"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Versions:\n  VERSION  ACTIVATED  INSTALLED  UPLOADED\n  \
                 0.0.1    no         yes        2023-11-03 08:26:40 UTC\n  \
                 0.0.2    yes        no         2023-11-14 22:13:20 UTC\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_sheet_of_a_bare_document_shows_dashes() {
        let text = pack_sheet(&json!({"name": "p"}));
        assert!(text.contains("Version:     -\n"), "{text}");
        assert!(text.contains("Nodes:       (no install asked for)\n"), "{text}");
        assert!(text.contains("Content:     (none registered"), "{text}");
        assert!(!text.contains("Versions:"), "{text}");
    }

    #[test]
    fn install_lines() {
        assert_eq!(
            node_progress("2", "installing", "a\nresolving\n"),
            "node 2: installing (resolving)"
        );
        assert_eq!(node_progress("1", "pending", ""), "node 1: pending");
        assert_eq!(
            install_logs(&[("3".into(), "".into())]),
            "--- install log of node 3 ---\n(the node sent no log)\n"
        );
    }
}
