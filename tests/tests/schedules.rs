//! Schedules (issue 12): a `run_every` schedule fires at its rate, a slot
//! that finds the previous run unfinished is recorded as skipped, disabling
//! stops firing at once, a SyncPack's schedules come and go with it, bad
//! documents are refused, and on three nodes killing the leader while a
//! schedule runs neither duplicates a slot nor loses one silently.

use std::collections::BTreeSet;
use std::time::Duration;

use is_tests::cluster::LocalCluster;
use is_tests::{iscli_out, poll, stays, syncpack_dir, wheel_dir, Markers, Progress, TestNode};
use serde_json::{json, Value};

fn every(app: &str, entry: &str, seconds: f64) -> Value {
    json!({"application_id": app, "entry_id": entry, "params": {"who": "the scheduler"},
           "schedule": {"schedule_type": "frequency", "schedule_info": {"run_every": seconds}}})
}

async fn emit_app(node: &TestNode, name: &str, step: Value) {
    node.put_step("Emit").await.unwrap();
    let app = json!({"name": name, "steps": [step]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
}

/// Checks that a one-second schedule's history decides every slot once, in
/// order: fired, or skipped or missed with a reason (a run interrupted by a
/// crash is still running when the next slot comes, so that one is skipped);
/// answers (due, fired, missed).
fn slots_decided_once(entry: &Value) -> (u64, u64, u64) {
    let history = entry["history"].as_array().unwrap();
    let (mut due, mut fired, mut missed) = (0u64, 0u64, 0u64);
    let mut expected = history[0]["slot"].as_f64().unwrap();
    for h in history {
        let slot = h["slot"].as_f64().unwrap();
        assert!(
            (slot - expected).abs() < 0.001,
            "slot {slot} follows {expected}: every slot is decided once, in order: {entry}"
        );
        let count = match h["outcome"].as_str().unwrap() {
            "fired" => {
                fired += 1;
                1
            }
            "missed" => {
                assert!(!h["reason"].as_str().unwrap_or_default().is_empty(), "{h}");
                let n = h["count"].as_u64().unwrap();
                missed += n;
                n
            }
            "skipped" => {
                assert!(!h["reason"].as_str().unwrap_or_default().is_empty(), "{h}");
                1
            }
            other => panic!("slot {slot} was {other}: {h}"),
        };
        due += count;
        expected = slot + count as f64;
    }
    (due, fired, missed)
}

/// Disables schedule `id`; answers its entry.
async fn disable(node: &TestNode, id: &str) -> Value {
    let (status, entry) = node
        .rest(
            "PUT",
            &format!("/api/v1/schedule/{id}"),
            Some(&json!({"enabled": false})),
        )
        .await
        .unwrap();
    assert_eq!((status, &entry["enabled"]), (200, &json!(false)), "{entry}");
    entry
}

fn fired(entry: &Value) -> Vec<&Value> {
    entry["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["outcome"] == "fired")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_every_schedule_fires_at_its_rate_and_disabling_stops_it_at_once() {
    let node = TestNode::start().await.unwrap();
    emit_app(
        &node,
        "ticks",
        json!({"name": "E", "file": "Emit", "value": "${appvar.who}"}),
    )
    .await;
    let (status, created) = node
        .rest(
            "POST",
            "/api/v1/schedule",
            Some(&every("ticks", "every two", 2.0)),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert!(created["next_fire"].as_f64().is_some(), "{created}");
    // The measuring window: ten seconds of a two-second schedule.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let stopped = disable(&node, &id).await;
    let count = fired(&stopped).len();
    println!("run_every 2 fired {count} times in 10 s");
    assert!((4..=6).contains(&count), "fired {count} times: {stopped}");
    // Disabled: nothing more fires.
    stays(Duration::from_secs(3), async || {
        let (_, now) = node.rest("GET", &format!("/api/v1/schedule/{id}"), None).await?;
        anyhow::ensure!(
            now["history"].as_array().map(Vec::len) == stopped["history"].as_array().map(Vec::len),
            "{now}"
        );
        Ok(())
    })
    .await
    .unwrap();

    // Each fired slot is one run, started by the schedule with its params.
    let (_, runs) = node
        .rest("GET", "/api/v1/tasks?app=ticks&triggered_by=SCHEDULE", None)
        .await
        .unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), count, "{runs:?}");
    assert_eq!(
        runs[0]["triggered_by"][0]["schedule_id"],
        json!(id),
        "{}",
        runs[0]
    );
    let run_ids: BTreeSet<&str> = fired(&stopped)
        .iter()
        .map(|h| h["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(run_ids.len(), count, "no run is recorded twice");
    let done = node
        .wait_terminal(runs[0]["id"].as_str().unwrap(), Duration::from_secs(30))
        .await
        .unwrap();
    let task = node.step_task(&done, "E").await.unwrap();
    assert_eq!(task["result"], "the scheduler", "{task}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_that_finds_the_previous_run_unfinished_is_skipped_and_says_so() {
    let node = TestNode::start().await.unwrap();
    let markers = Markers::new().unwrap();
    emit_app(
        &node,
        "slow",
        json!({"name": "E", "file": "Emit", "wait_for": markers.path("go")}),
    )
    .await;
    let (status, created) = node
        .rest("POST", "/api/v1/schedule", Some(&every("slow", "slow", 1.0)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap();
    let entry = poll(Duration::from_secs(20), async || {
        let (_, entry) = node.rest("GET", &format!("/api/v1/schedule/{id}"), None).await?;
        let skipped = entry["history"]
            .as_array()
            .is_some_and(|h| h.iter().any(|s| s["outcome"] == "skipped"));
        Ok(if skipped {
            Progress::Done(entry)
        } else {
            Progress::NotYet(format!("no slot skipped: {entry}"))
        })
    })
    .await
    .unwrap();
    markers.set("go").unwrap();
    let history = entry["history"].as_array().unwrap();
    assert_eq!(history[0]["outcome"], "fired", "{entry}");
    let first_run = history[0]["run_id"].as_str().unwrap();
    let skipped = history.iter().find(|s| s["outcome"] == "skipped").unwrap();
    assert!(
        skipped["reason"].as_str().unwrap().contains(first_run),
        "{skipped}"
    );
    let (status, _) = node
        .rest("DELETE", &format!("/api/v1/schedule/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, _) = node
        .rest("DELETE", &format!("/api/v1/schedule/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 404, "gone once deleted");
}

#[tokio::test]
async fn bad_schedules_are_refused_naming_the_problem() {
    let node = TestNode::start().await.unwrap();
    let cases = [
        (every("integration_template", "x", 0.0), "run_every"),
        (
            every("no_such_app", "x", 5.0),
            "no application named \\\"no_such_app\\\"",
        ),
        (
            json!({"application_id": "integration_template", "schedule": {"schedule_type": "crontab",
                   "schedule_info": {"minute": "61"}}}),
            "61 * * * *",
        ),
        (
            json!({"application_id": "integration_template", "schedule": {"schedule_type": "crontab",
                   "schedule_info": {"minute": "0", "timezone": "Mars/Olympus"}}}),
            "Mars/Olympus",
        ),
        (
            json!({"application_id": "integration_template", "overlap": "sometimes",
                "schedule": {"schedule_type": "frequency", "schedule_info": {"run_every": 5}}}),
            "overlap",
        ),
    ];
    for (doc, says) in cases {
        let (status, body) = node.rest("POST", "/api/v1/schedule", Some(&doc)).await.unwrap();
        assert_eq!(status, 400, "{doc}: {body}");
        assert!(body.to_string().contains(says), "{doc}: {body}");
    }
    // A crontab with a time zone is accepted and shows its next fire.
    let cron = json!({"application_id": "integration_template", "entry_id": "hourly",
        "schedule": {"schedule_type": "crontab", "schedule_info": {"minute": "0", "timezone": "Europe/Paris"}}});
    let (status, body) = node.rest("POST", "/api/v1/schedule", Some(&cron)).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let next = body["next_fire"].as_f64().unwrap() as u64;
    assert_eq!(next % 3600, 0, "on the hour: {body}");
    // The same entry_id again replaces it (same id).
    let (_, again) = node.rest("POST", "/api/v1/schedule", Some(&cron)).await.unwrap();
    assert_eq!(again["id"], body["id"]);
    let (_, list) = node.rest("GET", "/api/v1/schedule", None).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_syncpacks_schedules_come_and_go_with_it() {
    let dir = wheel_dir().unwrap();
    let dir = dir.to_str().unwrap().to_string();
    let node = TestNode::start_with(&[
        ("IS_SYNCPACK_WHEEL_DIR", &dir),
        ("IS_SYNCPACK_USE_INDEX", "false"),
    ])
    .await
    .unwrap();
    let src = syncpack_dir("test_syncpack");
    let (code, out, err) = iscli_out(&node, &["-ukf", src.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = iscli_out(&node, &["-Akn", "test_syncpack", "-V", "0.0.1"]);
    assert_eq!(code, 0, "{out}{err}");
    let (_, list) = node.rest("GET", "/api/v1/schedule", None).await.unwrap();
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["entry_id"] == "dummy app")
        .unwrap_or_else(|| panic!("the pack's schedule is missing: {list}"))
        .clone();
    assert_eq!(entry["owner"], json!({"syncpack": "test_syncpack"}), "{entry}");
    assert_eq!(entry["application_id"], "dummy_app");
    let id = entry["id"].as_str().unwrap();
    node.refused(
        "DELETE",
        &format!("/api/v1/schedule/{id}"),
        None,
        409,
        "belongs to SyncPack test_syncpack",
    )
    .await
    .unwrap();
    // Disabling a pack's schedule is allowed.
    disable(&node, id).await;
    let (status, body) = node
        .rest("DELETE", "/api/v1/syncpacks/test_syncpack?force=true", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, _) = node
        .rest("GET", &format!("/api/v1/schedule/{id}"), None)
        .await
        .unwrap();
    assert_eq!(status, 404, "the schedule went with its pack");
}

/// Nodes are numbered 1 to 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_neither_duplicates_nor_silently_loses_a_slot() {
    let c = LocalCluster::up(3, &[]).await.unwrap();
    c.wait_healthy(Duration::from_secs(30)).await.unwrap();
    let leader = c.leader().unwrap();
    let other = leader % 3 + 1;
    c.post_ok(
        other,
        "/api/v1/steps",
        &json!({"name": "Emit", "data": is_tests::step_source("Emit").unwrap()}),
    )
    .await
    .unwrap();
    c.post_ok(
        other,
        "/api/v1/applications",
        &json!({"name": "beat", "steps": [{"name": "E", "file": "Emit", "value": 1}]}),
    )
    .await
    .unwrap();
    let created = c
        .post_ok(other, "/api/v1/schedule", &every("beat", "beat", 1.0))
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let started = std::time::Instant::now();
    // Let a few slots fire, then kill the leader.
    c.poll_until(
        other,
        &format!("/api/v1/schedule/{id}"),
        Duration::from_secs(30),
        |_, e| e["history"].as_array().is_some_and(|h| h.len() >= 6),
    )
    .await
    .unwrap();
    c.kill(leader).unwrap();
    let window = Duration::from_secs(20);
    tokio::time::sleep(window.saturating_sub(started.elapsed())).await;
    let (status, entry) = c
        .rest(
            other,
            "PUT",
            &format!("/api/v1/schedule/{id}"),
            Some(&json!({"enabled": false})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{entry}\n{}", c.logs());

    let history = entry["history"].as_array().unwrap();
    let (due, fired, missed) = slots_decided_once(&entry);
    let (_, runs) = c
        .rest(other, "GET", "/api/v1/tasks?app=beat&limit=1000", None)
        .await
        .unwrap();
    let runs = runs.as_array().unwrap();
    let run_ids: BTreeSet<&str> = runs.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let fired_ids: BTreeSet<&str> = history.iter().filter_map(|h| h["run_id"].as_str()).collect();
    let duplicated = runs.len() as u64 - fired;
    let skipped = due - fired - missed;
    println!(
        "exactly once over a leader kill: {due} slots due, {fired} fired, {skipped} skipped (overlap), \
         {missed} missed, {duplicated} duplicated"
    );
    assert_eq!(
        run_ids, fired_ids,
        "every run is a fired slot, and every fired slot has its run"
    );
    assert_eq!(duplicated, 0);
    assert!(due >= 15, "about 20 slots in 20 s: {entry}");
}

#[tokio::test]
async fn iscli_adds_lists_disables_and_deletes_schedules() {
    let node = TestNode::start().await.unwrap();
    let (code, out, err) = iscli_out(
        &node,
        &[
            "schedule",
            "add",
            "--app",
            "integration_template",
            "--entry-id",
            "nightly",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Paris",
            "--param",
            "exampleVariable=hi",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("added schedule"), "{out}");
    let list = is_tests::iscli_json(&node, &["schedule", "list"]);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["entry_id"] == "nightly")
        .unwrap()
        .clone();
    assert_eq!(entry["params"], json!({"exampleVariable": "hi"}), "{entry}");
    assert_eq!(
        entry["schedule"]["schedule_info"]["timezone"], "Europe/Paris",
        "{entry}"
    );
    let id = entry["id"].as_str().unwrap();
    let table = is_tests::iscli_ok(&node, &["schedule", "list"]);
    assert!(
        table.contains("nightly") && table.contains("0 3 * * *"),
        "{table}"
    );
    is_tests::iscli_ok(&node, &["schedule", "disable", id]);
    let shown = is_tests::iscli_json(&node, &["schedule", "show", id]);
    assert_eq!(
        (shown["enabled"].clone(), shown["next_fire"].clone()),
        (json!(false), Value::Null),
        "{shown}"
    );
    is_tests::iscli_ok(&node, &["schedule", "delete", id]);
    let (code, out, err) = iscli_out(&node, &["schedule", "show", id]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains(id), "{err}");
    // Refused locally, before any call.
    let (code, _, err) = iscli_out(
        &node,
        &[
            "schedule",
            "add",
            "--app",
            "x",
            "--every",
            "5",
            "--cron",
            "* * * * *",
        ],
    );
    assert_eq!(code, 2, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slots_that_passed_the_grace_period_while_the_node_was_down_are_recorded_as_missed() {
    let mut node = TestNode::start_with(&[("IS_SCHEDULE_GRACE_SECONDS", "1")])
        .await
        .unwrap();
    emit_app(&node, "beat", json!({"name": "E", "file": "Emit", "value": 1})).await;
    let (status, created) = node
        .rest("POST", "/api/v1/schedule", Some(&every("beat", "beat", 1.0)))
        .await
        .unwrap();
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/schedule/{id}");
    node.poll_until(&path, Duration::from_secs(20), |_, e| fired(e).len() >= 2)
        .await
        .unwrap();
    node.kill9();
    // The outage: slots fall due while no node runs.
    tokio::time::sleep(Duration::from_secs(4)).await;
    node.restart().await.unwrap();
    let entry = node
        .poll_until(&path, Duration::from_secs(30), |_, e| {
            let history = e["history"].as_array().cloned().unwrap_or_default();
            let missed_at = history.iter().position(|h| h["outcome"] == "missed");
            missed_at.is_some_and(|i| history[i + 1..].iter().any(|h| h["outcome"] == "fired"))
        })
        .await
        .unwrap();
    let history = entry["history"].as_array().unwrap();
    let missed = history.iter().find(|h| h["outcome"] == "missed").unwrap();
    assert!(missed["count"].as_u64().unwrap() >= 2, "{missed}");
    assert!(
        missed["reason"].as_str().unwrap().contains("grace period of 1 s"),
        "{missed}"
    );
    slots_decided_once(&entry);
}
