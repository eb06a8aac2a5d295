//! The audit trail for people (`iscli audit`): one line per record, newest
//! first as the node answers them, then, when more records follow, the
//! line that says how to get them. Records are JSON documents read with
//! the tolerant readers of `fields`, so a field the node leaves out shows
//! as `-`.

use serde_json::Value;

use super::fields::{or_dash, text};
use super::table::table;
use super::time::datetime;

/// One line per record: TIME (UTC), USER (and the API key's id when the
/// call used one), FROM, ACTION, TARGET, STATUS; then the cursor of the
/// next page when there is one.
pub(crate) fn audit_table(records: &[Value], next_cursor: Option<&str>) -> String {
    let mut out = if records.is_empty() {
        "(no audit records)\n".to_string()
    } else {
        let rows: Vec<[String; 6]> = records
            .iter()
            .map(|r| {
                [
                    at(r),
                    who(r),
                    or_dash(text(r, "address")),
                    or_dash(text(r, "action")),
                    or_dash(text(r, "target")),
                    or_dash(text(r, "status")),
                ]
            })
            .collect();
        table(&["TIME", "USER", "FROM", "ACTION", "TARGET", "STATUS"], &rows)
    };
    if let Some(cursor) = next_cursor {
        out.push_str(&format!(
            "(more records follow: repeat with --cursor {cursor} for the next page, or with --all)\n"
        ));
    }
    out
}

/// When the call was made (`at_ms`, epoch milliseconds) in UTC.
fn at(record: &Value) -> String {
    match record.get("at_ms").and_then(Value::as_f64) {
        Some(ms) => datetime(ms / 1000.0),
        None => "-".to_string(),
    }
}

/// Who made the call: the user, with the key's id when it called with an
/// API key (`olga (key 1a2b)`); `-` for credentials that did not
/// authenticate.
fn who(record: &Value) -> String {
    let user = or_dash(text(record, "user"));
    match text(record, "api_key") {
        key if key.is_empty() => user,
        key => format!("{user} (key {key})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_are_a_table_with_times_in_utc_and_the_key_used() {
        let records = [
            json!({
                "at_ms": 1_700_000_001_500u64, "user": "olga", "api_key": "1a2b",
                "address": "10.0.0.7", "action": "gRPC DeleteApplication",
                "target": "hello", "status": 403
            }),
            json!({
                "at_ms": 1_700_000_000_000u64, "user": null, "api_key": null,
                "address": null, "action": "POST /api/v1/steps", "target": "", "status": 401
            }),
        ];
        assert_eq!(
            audit_table(&records, None),
            "TIME                     USER             FROM      ACTION                  \
             TARGET  STATUS\n\
             2023-11-14 22:13:21 UTC  olga (key 1a2b)  10.0.0.7  gRPC DeleteApplication  \
             hello   403\n\
             2023-11-14 22:13:20 UTC  -                -         POST /api/v1/steps      \
             -       401\n"
        );
    }

    #[test]
    fn the_last_line_says_how_to_get_the_next_page() {
        let records = [json!({"at_ms": 0, "user": "isadmin", "action": "gRPC PutStep", "status": 200})];
        let shown = audit_table(&records, Some("1700000000000:ab-c"));
        assert_eq!(
            shown.lines().last(),
            Some(
                "(more records follow: repeat with --cursor 1700000000000:ab-c for the next page, \
                 or with --all)"
            )
        );
        assert!(shown.contains("1970-01-01 00:00:00 UTC  isadmin"), "{shown}");
        assert_eq!(audit_table(&[], None), "(no audit records)\n");
        assert!(audit_table(&[], Some("c")).starts_with("(no audit records)\n(more records follow"));
    }

    #[test]
    fn odd_records_show_dashes() {
        let shown = audit_table(&[json!({"at_ms": "soon"})], None);
        assert_eq!(shown.lines().nth(1), Some("-     -     -     -       -       -"));
    }
}
