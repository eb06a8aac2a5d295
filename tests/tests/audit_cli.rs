//! `iscli audit` and `iscli cluster rotate-key` against one real node: a
//! change and a refused call show in the trail (as JSON, as a table, a
//! page at a time following the cursor, and with --all), a viewer is
//! refused the trail and the rotation naming the permission it lacks, and
//! a rotation gives a configuration's encrypted value a new ciphertext,
//! counted in its one-line summary and recorded in the trail.

use std::time::Duration;

use is_tests::{examples_dir, iscli_json, iscli_ok, iscli_out, poll, Progress, TestNode};
use serde_json::Value;

/// The viewer the refusals are made as.
const VIEWER: (&str, &str) = ("victor", "victor-password");

/// The records of one page of `iscli audit --json ARGS`.
fn records(page: &Value) -> Vec<Value> {
    page["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records in {page}"))
        .clone()
}

/// Whether `record` was made by `user` with the gRPC call `rpc` and
/// answered with `status`.
fn is(record: &Value, user: &str, rpc: &str, status: u64) -> bool {
    record["user"] == user
        && record["action"] == format!("gRPC {rpc}")
        && record["status"].as_u64() == Some(status)
}

/// The first record made by `user` with `rpc`, answered with `status`.
fn find<'a>(records: &'a [Value], user: &str, rpc: &str, status: u64) -> Option<&'a Value> {
    records.iter().find(|r| is(r, user, rpc, status))
}

/// Polls `iscli audit --limit 1000 --json` until `count` records of `user`, `rpc` and
/// `status` are in the newest page; answers that page. The node stores a
/// record within a second of the call; the deadline leaves room for a
/// loaded machine.
async fn wait_for_records(node: &TestNode, user: &str, rpc: &str, status: u64, count: usize) -> Value {
    poll(Duration::from_secs(10), async || {
        let page = iscli_json(node, &["audit", "--limit", "1000"]);
        let seen = records(&page).iter().filter(|r| is(r, user, rpc, status)).count();
        Ok(if seen >= count {
            Progress::Done(page)
        } else {
            Progress::NotYet(format!(
                "{seen} of {count} {rpc} by {user} ({status}) in the trail: {page}"
            ))
        })
    })
    .await
    .unwrap()
}

/// The cells of the table line whose USER, FROM and ACTION are `who`,
/// `from` and `gRPC rpc` after the time (`YYYY-MM-DD HH:MM:SS UTC`): its
/// TARGET and STATUS.
fn row<'a>(table: &'a str, who: &str, rpc: &str) -> (&'a str, &'a str) {
    table
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find_map(|cells| match cells.as_slice() {
            [_, _, "UTC", user, "127.0.0.1", "gRPC", action, target, status]
                if *user == who && *action == rpc =>
            {
                Some((*target, *status))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no line of {who}'s {rpc} in:\n{table}"))
}

/// The value of `name` in a configuration document as `config get --json`
/// prints it.
fn value_of(config: &Value, name: &str) -> String {
    config["configuration_data"]
        .as_array()
        .and_then(|data| data.iter().find(|v| v["name"] == name))
        .and_then(|v| v["value"].as_str())
        .unwrap_or_else(|| panic!("no value {name} in {config}"))
        .to_string()
}

/// Runs `iscli ARGS` as the viewer and insists it is refused naming the
/// missing permission; answers stderr.
fn refused_to_viewer(node: &TestNode, args: &[&str], permission: &str) -> String {
    let out = node.iscli_as(VIEWER.0, VIEWER.1, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} was not refused:\n{stdout}{stderr}"
    );
    for says in ["victor (viewer)", permission, "ask an administrator"] {
        assert!(stderr.contains(says), "{args:?}: {says:?} not said in:\n{stderr}");
    }
    stderr
}

#[tokio::test]
async fn the_audit_trail_and_key_rotation_through_iscli() {
    let node = TestNode::start().await.unwrap();
    let out = iscli_ok(&node, &["user", "add", VIEWER.0, "--new-password", VIEWER.1]);
    assert_eq!(out.trim(), "created user victor with the role viewer");

    // A change (a configuration with an encrypted value), then a refusal.
    let config = examples_dir().join("configs/demo-settings.json");
    iscli_ok(&node, &["-ucf", config.to_str().unwrap()]);
    refused_to_viewer(&node, &["app", "delete", "integration_template"], "'write'");

    // Both reach the trail, newest first, with who, from where and how
    // each call ended.
    let page = wait_for_records(&node, VIEWER.0, "DeleteApplication", 403, 1).await;
    let trail = records(&page);
    let upload = find(&trail, "isadmin", "PutConfiguration", 200)
        .unwrap_or_else(|| panic!("the upload is not in the trail: {page}"));
    assert_eq!(upload["target"], "demo-settings", "{upload}");
    assert_eq!(upload["address"], "127.0.0.1", "{upload}");
    assert_eq!(upload["api_key"], Value::Null, "{upload}");
    let refusal = find(&trail, VIEWER.0, "DeleteApplication", 403).unwrap();
    assert_eq!(refusal["address"], "127.0.0.1", "{refusal}");
    assert!(refusal["at_ms"].as_u64() >= upload["at_ms"].as_u64(), "{page}");
    let times: Vec<u64> = trail.iter().map(|r| r["at_ms"].as_u64().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
    assert!(find(&trail, "isadmin", "CreateUser", 200).is_some(), "{page}");

    // The table: a header, then one line per record, times in UTC.
    let table = iscli_ok(&node, &["audit", "--limit", "1000"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["TIME", "USER", "FROM", "ACTION", "TARGET", "STATUS"]);
    assert_eq!(row(&table, "victor", "DeleteApplication").1, "403");
    assert_eq!(
        row(&table, "isadmin", "PutConfiguration"),
        ("demo-settings", "200")
    );
    assert!(!table.contains("(more records follow"), "{table}");

    // A page at a time: the last line gives the cursor of the next page.
    // (Past a cursor the trail cannot change, whatever is recorded meanwhile.)
    let first = iscli_ok(&node, &["audit", "--limit", "1"]);
    assert_eq!(
        first.lines().count(),
        3,
        "a header, one record, the hint:\n{first}"
    );
    let hint = first.lines().last().unwrap();
    let cursor = hint
        .strip_prefix("(more records follow: repeat with --cursor ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no cursor in the last line:\n{first}"));
    let older = records(&iscli_json(
        &node,
        &["audit", "--limit", "1000", "--cursor", cursor],
    ));
    // At least the configuration and the user lie past the newest record
    // (the refusal): enough for two pages of one.
    assert!(older.len() >= 2, "{older:?}");
    let second = iscli_json(&node, &["audit", "--limit", "1", "--cursor", cursor]);
    assert_eq!(records(&second), older[..1], "{second}");
    assert!(second["next_cursor"].is_string(), "{second}");
    let all = iscli_json(&node, &["audit", "--limit", "1", "--cursor", cursor, "--all"]);
    assert_eq!(records(&all), older, "--all gathers every page: {all}");
    assert_eq!(all["next_cursor"], Value::Null);

    // The trail is an administrator's to read; the refusal is recorded.
    refused_to_viewer(&node, &["audit"], "'admin'");
    wait_for_records(&node, VIEWER.0, "ListAudit", 403, 1).await;

    // Rotating the key seals the encrypted value again: a new ciphertext.
    refused_to_viewer(&node, &["cluster", "rotate-key"], "'admin'");
    let before = value_of(
        &iscli_json(&node, &["config", "get", "demo-settings"]),
        "em7_password",
    );
    assert!(before.starts_with("enc:v1:"), "{before}");
    let out = iscli_ok(&node, &["cluster", "rotate-key"]);
    assert_eq!(
        out.trim(),
        "rotated the cluster key: 1 value in 1 configuration sealed again"
    );
    let after = value_of(
        &iscli_json(&node, &["config", "get", "demo-settings"]),
        "em7_password",
    );
    assert!(
        after.starts_with("enc:v1:") && after != before,
        "{before} -> {after}"
    );
    // The plain values are untouched.
    let host = value_of(
        &iscli_json(&node, &["config", "get", "demo-settings"]),
        "em7_host",
    );
    assert_eq!(host, "10.2.11.42");
    // --json prints the node's answer; each rotation is a new key.
    let answer = iscli_json(&node, &["cluster", "rotate-key"]);
    assert_eq!(
        answer,
        serde_json::json!({"result": "rotated", "configurations": 1, "values": 1})
    );
    let again = value_of(
        &iscli_json(&node, &["config", "get", "demo-settings"]),
        "em7_password",
    );
    assert!(
        again.starts_with("enc:v1:") && again != after,
        "{after} -> {again}"
    );
    // Both rotations are in the trail (the viewer's attempt refused).
    let page = wait_for_records(&node, "isadmin", "RotateClusterKey", 200, 2).await;
    assert!(
        find(&records(&page), VIEWER.0, "RotateClusterKey", 403).is_some(),
        "{page}"
    );
    let (code, _, err) = iscli_out(&node, &["audit", "--cursor", "not-a-cursor"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not one this API gave"), "{err}");
}
