//! The node and its cluster for people: `iscli about` and `iscli cluster
//! ...`. Each sheet lists the answer's fields under their JSON names, in
//! the order `--json` prints them (by name), as `name: value` lines, a
//! block of lines for a map and a table for a list of members; `cluster
//! rotate-key` answers one line.

use is_proto::v1::{About, ClusterMember, ClusterStatus};
use serde_json::Value;

use super::fields::{or_dash, text};
use super::table::table;

/// What one field of a sheet shows.
enum Entry {
    /// One value on the field's line ("-" when empty).
    Line(String),
    /// `name: value` lines under the field, in name order ("{}" on the
    /// field's line when there are none, as the JSON reads).
    Map(Vec<(String, String)>),
    /// A table under the field ("-" on the field's line when there are no
    /// rows).
    Table(&'static [&'static str], Vec<Vec<String>>),
}

/// `iscli about`: the node's name, versions, id, leader and uptime.
pub(crate) fn about_sheet(about: &About) -> String {
    let mut versions: Vec<(String, String)> = about
        .versions
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    versions.sort();
    sheet(&[
        ("api_version", Entry::Line(about.api_version.clone())),
        (
            "cluster_id",
            Entry::Line(about.cluster_id.clone().unwrap_or_default()),
        ),
        ("leader", Entry::Line(optional(about.leader))),
        ("name", Entry::Line(about.name.clone())),
        ("node_id", Entry::Line(about.node_id.to_string())),
        ("uptime_seconds", Entry::Line(about.uptime_seconds.to_string())),
        ("version", Entry::Line(about.version.clone())),
        ("versions", Entry::Map(versions)),
    ])
}

/// The columns of the member table: the member's id, then its other
/// fields by name.
const MEMBER_COLUMNS: &[&str] = &[
    "ID",
    "ADDRESS",
    "BUSY_WORKERS",
    "HEALTH",
    "LAST_CONTACT_MS",
    "LEADER",
    "REPLICATION_LAG",
    "SERVED_QUEUES",
    "THIS_NODE",
    "VOTER",
    "WORKERS",
];

/// The columns of the queue table.
const QUEUE_COLUMNS: &[&str] = &["QUEUE", "PENDING"];

/// `iscli cluster ...`: the Raft state as the answering node sees it, one
/// line per member and one per queue.
pub(crate) fn cluster_sheet(status: &ClusterStatus) -> String {
    // Rows in a fixed order (members by id, queues by name) whatever order
    // the node lists them in, so two calls compare line by line.
    let mut members: Vec<&ClusterMember> = status.members.iter().collect();
    members.sort_by_key(|m| m.id);
    let members = members.into_iter().map(member_row).collect();
    let mut queues: Vec<Vec<String>> = status
        .queues
        .iter()
        .map(|q| vec![q.queue.clone(), q.pending.to_string()])
        .collect();
    queues.sort();
    sheet(&[
        ("answered_by", Entry::Line(status.answered_by.to_string())),
        ("health_seen_by", Entry::Line(status.health_seen_by.to_string())),
        ("last_applied", Entry::Line(optional(status.last_applied))),
        ("last_log_index", Entry::Line(optional(status.last_log_index))),
        ("leader", Entry::Line(optional(status.leader))),
        ("members", Entry::Table(MEMBER_COLUMNS, members)),
        ("purged_index", Entry::Line(optional(status.purged_index))),
        ("queues", Entry::Table(QUEUE_COLUMNS, queues)),
        ("snapshot_index", Entry::Line(optional(status.snapshot_index))),
        ("term", Entry::Line(status.term.to_string())),
    ])
}

/// A member's cells, in the order of [`MEMBER_COLUMNS`].
fn member_row(m: &ClusterMember) -> Vec<String> {
    [
        m.id.to_string(),
        m.address.clone(),
        optional(m.busy_workers),
        m.health.clone(),
        optional(m.last_contact_ms),
        m.leader.to_string(),
        optional(m.replication_lag),
        m.served_queues.join(", "),
        m.this_node.to_string(),
        m.voter.to_string(),
        optional(m.workers),
    ]
    .into_iter()
    .map(or_dash)
    .collect()
}

/// A number that may be unknown ("" then).
fn optional(n: Option<u64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The fields as lines: each name followed by a colon, padded so that the
/// values line up two spaces after the longest name; a map or a table
/// starts on the line after its name, indented by two spaces.
fn sheet(entries: &[(&str, Entry)]) -> String {
    let width = entries.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0) + 2;
    let mut out = String::new();
    for (key, entry) in entries {
        let value = match entry {
            Entry::Line(value) => value.clone(),
            Entry::Map(pairs) if pairs.is_empty() => "{}".to_string(),
            Entry::Table(_, rows) if rows.is_empty() => String::new(),
            Entry::Map(pairs) => {
                let lines: Vec<(&str, Entry)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), Entry::Line(v.clone())))
                    .collect();
                out.push_str(&format!("{key}:\n{}", indented(&sheet(&lines))));
                continue;
            }
            Entry::Table(headers, rows) => {
                out.push_str(&format!("{key}:\n{}", indented(&table(headers, rows))));
                continue;
            }
        };
        let label = format!("{key}:");
        out.push_str(&format!("{label:<width$}{}\n", or_dash(value)));
    }
    out
}

/// Every line of `text` two spaces further right.
fn indented(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

/// `iscli cluster rotate-key`: `rotated the cluster key: 3 values in 2
/// configurations sealed again`.
pub(crate) fn key_rotated(answer: &Value) -> String {
    let values = or_dash(text(answer, "values"));
    let configurations = or_dash(text(answer, "configurations"));
    format!(
        "rotated the cluster key: {values} {} in {configurations} {} sealed again",
        plural(&values, "value"),
        plural(&configurations, "configuration")
    )
}

/// `noun`, with an `s` unless `count` is 1.
fn plural(count: &str, noun: &str) -> String {
    if count == "1" {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use is_proto::v1::QueueDepth;
    use std::collections::HashMap;

    fn about() -> About {
        About {
            name: "isnode".into(),
            version: "0.1.0".into(),
            api_version: "v1".into(),
            versions: HashMap::from([
                ("openraft".to_string(), "0.9.25".to_string()),
                ("isnode".to_string(), "0.1.0".to_string()),
            ]),
            node_id: 1,
            leader: Some(1),
            cluster_id: None,
            uptime_seconds: 42,
        }
    }

    fn member(id: u64, leader: bool) -> ClusterMember {
        ClusterMember {
            id,
            address: format!("n{id}:8080"),
            voter: true,
            leader,
            this_node: leader,
            served_queues: vec!["default".into(), "critical".into()],
            workers: Some(2),
            busy_workers: Some(u64::from(leader)),
            health: "up".into(),
            last_contact_ms: (!leader).then_some(15),
            replication_lag: (!leader).then_some(3),
        }
    }

    #[test]
    fn about_lists_every_field_by_name() {
        assert_eq!(
            about_sheet(&about()),
            "api_version:    v1\n\
             cluster_id:     -\n\
             leader:         1\n\
             name:           isnode\n\
             node_id:        1\n\
             uptime_seconds: 42\n\
             version:        0.1.0\n\
             versions:\n\
             \x20 isnode:   0.1.0\n\
             \x20 openraft: 0.9.25\n"
        );
        let bare = About {
            versions: HashMap::new(),
            ..about()
        };
        assert!(about_sheet(&bare).ends_with("\nversions:       {}\n"));
    }

    #[test]
    fn cluster_status_has_tables_of_members_and_queues_in_a_fixed_order() {
        let status = ClusterStatus {
            answered_by: 2,
            health_seen_by: 1,
            leader: Some(1),
            term: 3,
            last_log_index: Some(12),
            last_applied: Some(12),
            snapshot_index: None,
            purged_index: None,
            // Listed out of order: the sheet's rows come in a fixed order.
            members: vec![member(2, false), member(1, true)],
            queues: vec![
                QueueDepth {
                    queue: "default".into(),
                    pending: 4,
                },
                QueueDepth {
                    queue: "critical".into(),
                    pending: 0,
                },
            ],
        };
        assert_eq!(
            cluster_sheet(&status),
            "answered_by:    2\n\
             health_seen_by: 1\n\
             last_applied:   12\n\
             last_log_index: 12\n\
             leader:         1\n\
             members:\n\
             \x20 ID  ADDRESS  BUSY_WORKERS  HEALTH  LAST_CONTACT_MS  LEADER  REPLICATION_LAG  SERVED_QUEUES      THIS_NODE  VOTER  WORKERS\n\
             \x20 1   n1:8080  1             up      -                true    -                default, critical  true       true   2\n\
             \x20 2   n2:8080  0             up      15               false   3                default, critical  false      true   2\n\
             purged_index:   -\n\
             queues:\n\
             \x20 QUEUE     PENDING\n\
             \x20 critical  0\n\
             \x20 default   4\n\
             snapshot_index: -\n\
             term:           3\n"
        );
        let alone = ClusterStatus {
            members: Vec::new(),
            ..status
        };
        assert!(cluster_sheet(&alone).contains("\nmembers:        -\n"));
    }

    #[test]
    fn a_rotation_says_how_much_was_sealed_again() {
        let answer = serde_json::json!({"result": "rotated", "configurations": 2, "values": 3});
        assert_eq!(
            key_rotated(&answer),
            "rotated the cluster key: 3 values in 2 configurations sealed again"
        );
        let one = serde_json::json!({"result": "rotated", "configurations": 1, "values": 1});
        assert_eq!(
            key_rotated(&one),
            "rotated the cluster key: 1 value in 1 configuration sealed again"
        );
        let none = serde_json::json!({"result": "rotated", "configurations": 0, "values": 0});
        assert_eq!(
            key_rotated(&none),
            "rotated the cluster key: 0 values in 0 configurations sealed again"
        );
        assert_eq!(
            key_rotated(&serde_json::json!({})),
            "rotated the cluster key: - values in - configurations sealed again"
        );
    }
}
