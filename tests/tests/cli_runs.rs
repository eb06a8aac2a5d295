//! `iscli app run`, `iscli task show|replay|list|logs|revoke` on runs and
//! `iscli app logs` against a real node: a two-step application followed to
//! its end (state changes, log lines, the outcome), a failing second step
//! (exit 1, the error), the final status as JSON, the run options (--debug,
//! --log-level, --queue), replay, the run list, a queue nobody serves
//! (--wait 0, waiting_for in `task show`), the last run, and a missing
//! required app variable.
//!
//! iscli's stdout is a pipe here, so it prints one line per state change
//! rather than the in-place graph.

use std::time::{Duration, Instant};

use is_tests::{
    iscli_json as json_of, iscli_ok as ok, iscli_out as iscli, poll, position_of as at, Progress, TestNode,
};
use serde_json::{json, Value};

async fn setup() -> TestNode {
    let node = TestNode::start().await.unwrap();
    node.put_step("Say").await.unwrap();
    node.put_step("Shout").await.unwrap();
    for doc in [
        json!({"name": "greeting",
               "app_variables": [{"name": "who", "required": true}],
               "steps": [
                   {"name": "say", "file": "Say", "text": "hello ${appvar.who}", "output_to": ["shout"]},
                   {"name": "shout", "file": "Shout"}]}),
        json!({"name": "broken",
               "steps": [
                   {"name": "say", "file": "Say", "text": "hi", "output_to": ["shout"]},
                   {"name": "shout", "file": "Shout", "fail": true}]}),
    ] {
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&doc))
            .await
            .unwrap();
        assert_eq!(status, 200, "upload of application {}: {body}", doc["name"]);
    }
    node
}

/// The word after `prefix` on the first line that starts with it.
fn word_after(out: &str, prefix: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{out}"));
    line[prefix.len()..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn state_of<'a>(run: &'a Value, step: &str) -> &'a Value {
    let steps = run["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {run}"));
    &steps
        .iter()
        .find(|s| s["name"] == step)
        .unwrap_or_else(|| panic!("no step {step} in {run}"))["state"]
}

#[tokio::test]
async fn a_run_is_followed_to_success_then_replayed_listed_and_shown() {
    let node = setup().await;

    let out = ok(
        &node,
        &["app", "run", "greeting", "--param", "who=x", "--wait", "30"],
    );
    let id = word_after(&out, "started application greeting as run ");
    assert!(id.starts_with("isapp-"), "{out}");
    // One line per state change, then the outcome with every step.
    let say_done = at(&out, "step say: SUCCESS (attempt 1)\n");
    let shout_done = at(&out, "step shout: SUCCESS (attempt 1)\n");
    let outcome = at(&out, "state: SUCCESS (took ");
    assert!(say_done < shout_done && shout_done < outcome, "{out}");
    assert!(
        out.contains("steps:\n  say    SUCCESS\n  shout  SUCCESS\n"),
        "{out}"
    );
    // The step log lines, `HH:MM:SS LEVEL step-name: message`, each once
    // (live, or added from the steps' statuses at the end).
    for message in [
        " INFO say: saying hello x\n",
        " WARNING say: said it\n",
        " INFO shout: shouting hello x\n",
    ] {
        assert_eq!(out.matches(message).count(), 1, "{message:?} in:\n{out}");
    }
    let line = out.lines().find(|l| l.contains("saying hello x")).unwrap();
    let clock = &line[..8];
    assert!(
        clock.len() == 8 && clock.chars().filter(|c| *c == ':').count() == 2,
        "{line}"
    );
    assert!(
        !out.contains("\x1b["),
        "no escapes when stdout is not a terminal: {out:?}"
    );

    // The run as a sheet.
    let sheet = ok(&node, &["task", "show", &id]);
    for expected in [
        format!("Run:           {id}\n"),
        "Application:   greeting\n".to_string(),
        "State:         SUCCESS\n".to_string(),
        "Queue:         default\n".to_string(),
        "Variables:     who=x\n".to_string(),
        "Triggered by:  USER\n".to_string(),
        "STEP   STATE    ATTEMPT  TASK".to_string(),
        "INFO shout: shouting hello x\n".to_string(),
    ] {
        assert!(sheet.contains(&expected), "{expected:?} not in:\n{sheet}");
    }
    assert!(sheet.contains("  say    SUCCESS  1  "), "{sheet}");

    // Replay: a new run with the same variables, followed the same way.
    let out = ok(&node, &["task", "replay", &id, "--wait", "30"]);
    let replay = word_after(
        &out,
        &format!("replaying run {id}: started application greeting as run "),
    );
    assert!(replay.starts_with("isapp-") && replay != id, "{out}");
    assert!(out.contains("state: SUCCESS"), "{out}");
    assert!(out.contains(" INFO shout: shouting hello x\n"), "{out}");
    let sheet = ok(&node, &["task", "show", &replay]);
    assert!(
        sheet.contains(&format!("Triggered by:  REPLAY (replay of {id})\n")),
        "{sheet}"
    );
    assert!(sheet.contains("Variables:     who=x\n"), "{sheet}");

    // Both runs, newest first.
    let runs = json_of(&node, &["task", "list", "--app", "greeting"]);
    let ids: Vec<&str> = runs
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {runs}"))
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![replay.as_str(), id.as_str()], "{runs}");
    assert!(
        runs.as_array().unwrap().iter().all(|r| r["state"] == "SUCCESS"),
        "{runs}"
    );
    let table = ok(&node, &["task", "list", "--app", "greeting"]);
    assert!(table.starts_with("RUN "), "{table}");
    assert!(at(&table, &replay) < at(&table, &id), "{table}");
    assert_eq!(table.matches("greeting").count(), 2, "{table}");
    let limited = json_of(&node, &["task", "list", "--app", "greeting", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1, "{limited}");
    assert_eq!(limited[0]["id"], replay.as_str());
    let none = ok(
        &node,
        &["task", "list", "--app", "greeting", "--state", "failure"],
    );
    assert_eq!(none, "(no runs)\n");

    // The last run of the application, and the log lines of a run.
    let last = ok(&node, &["app", "logs", "greeting"]);
    assert!(last.contains(&format!("Run:           {replay}\n")), "{last}");
    assert!(last.contains("State:         SUCCESS\n"), "{last}");
    assert!(last.contains("INFO say: saying hello x\n"), "{last}");
    let last = json_of(&node, &["app", "logs", "greeting"]);
    assert_eq!(last["id"], replay.as_str(), "{last}");
    assert_eq!(last["last_run"], format!("/api/v1/tasks/{replay}"), "{last}");
    let logs = ok(&node, &["task", "logs", &id]);
    let say = at(&logs, " INFO say: saying hello x\n");
    let shout = at(&logs, " INFO shout: shouting hello x\n");
    assert!(say < shout, "{logs}");
    let logs = json_of(&node, &["task", "logs", &id]);
    assert_eq!(logs.as_array().unwrap().len(), 3, "{logs}");
    assert_eq!(logs[0]["name"], "say", "{logs}");
}

#[tokio::test]
async fn a_failing_second_step_exits_1_with_its_error() {
    let node = setup().await;

    let (code, out, err) = iscli(&node, &["app", "run", "broken", "--wait", "30"]);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("step say: SUCCESS (attempt 1)\n"), "{out}");
    assert!(out.contains("step shout: FAILURE (attempt 1)\n"), "{out}");
    assert!(out.contains(" INFO shout: about to fail\n"), "{out}");
    assert!(out.contains("state: FAILURE"), "{out}");
    assert!(
        out.contains("  say    SUCCESS\n  shout  FAILURE  ValueError: cannot shout hi\n"),
        "{out}"
    );

    // As JSON: only the final status, and the exit code still says it failed.
    let (code, out, err) = iscli(&node, &["app", "run", "broken", "--wait", "30", "--json"]);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    let run: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(run["state"], "FAILURE", "{run}");
    assert_eq!(*state_of(&run, "shout"), "FAILURE", "{run}");

    let sheet = ok(&node, &["task", "show", run["id"].as_str().unwrap()]);
    assert!(sheet.contains("State:         FAILURE\n"), "{sheet}");
    assert!(sheet.contains("ValueError: cannot shout hi"), "{sheet}");
}

#[tokio::test]
async fn json_and_the_run_options() {
    let node = setup().await;

    let run = json_of(
        &node,
        &["app", "run", "greeting", "--param", "who=j", "--wait", "30"],
    );
    assert!(run["id"].as_str().unwrap().starts_with("isapp-"), "{run}");
    assert_eq!(run["state"], "SUCCESS", "{run}");
    assert_eq!(run["app_name"], "greeting", "{run}");
    assert_eq!(run["app_vars"], json!({"who": "j"}), "{run}");
    assert_eq!(*state_of(&run, "say"), "SUCCESS", "{run}");
    assert_eq!(*state_of(&run, "shout"), "SUCCESS", "{run}");

    // --debug is a Debug Run (level 10); values are JSON when they parse.
    let run = json_of(
        &node,
        &[
            "app", "run", "greeting", "--param", "who=42", "--debug", "--wait", "30",
        ],
    );
    assert_eq!(run["log_level"], 10, "{run}");
    assert_eq!(run["app_vars"], json!({"who": 42}), "{run}");
    assert_eq!(run["state"], "SUCCESS", "{run}");

    // --log-level WARNING keeps the warning and drops the info records.
    let out = ok(
        &node,
        &[
            "app",
            "run",
            "greeting",
            "--param",
            "who=w",
            "--log-level",
            "WARNING",
            "--wait",
            "30",
        ],
    );
    assert!(out.contains(" WARNING say: said it\n"), "{out}");
    assert!(!out.contains("saying hello w"), "{out}");
    assert!(out.contains("state: SUCCESS"), "{out}");
}

#[tokio::test]
async fn a_queue_nobody_serves_leaves_the_run_waiting() {
    let node = setup().await;

    let started = Instant::now();
    let out = ok(
        &node,
        &[
            "app",
            "run",
            "greeting",
            "--param",
            "who=q",
            "--queue",
            "nobody_serves",
            "--wait",
            "0",
        ],
    );
    assert!(started.elapsed() < Duration::from_secs(10), "--wait 0 waited");
    let id = word_after(&out, "still running: ");
    assert!(id.starts_with("isapp-"), "{out}");
    assert!(
        out.contains(&format!("started application greeting as run {id}\n")),
        "{out}"
    );
    assert!(out.contains(&format!("(see: iscli task show {id})")), "{out}");

    // The node notices that no worker serves the queue.
    poll(Duration::from_secs(30), async || {
        let run = json_of(&node, &["task", "show", &id]);
        assert_eq!(run["queue"], "nobody_serves", "{run}");
        Ok(if run["steps"][0]["waiting_for"].is_string() {
            Progress::Done(())
        } else {
            Progress::NotYet(format!("never waiting_for: {run}"))
        })
    })
    .await
    .unwrap();
    let sheet = ok(&node, &["task", "show", &id]);
    assert!(sheet.contains("State:         PENDING\n"), "{sheet}");
    assert!(sheet.contains("Queue:         nobody_serves\n"), "{sheet}");
    assert!(
        sheet.contains("waiting: no worker subscribed to queue nobody_serves"),
        "{sheet}"
    );
    assert!(sheet.contains("(none yet; follow them"), "{sheet}");

    // A short wait runs out: still running, exit 0, and the id again.
    let out = ok(&node, &["task", "replay", &id, "--wait", "1"]);
    let replay = word_after(&out, "still running: ");
    assert!(replay.starts_with("isapp-") && replay != id, "{out}");
    assert!(out.contains("application greeting: PENDING\n"), "{out}");

    for run in [&id, &replay] {
        let out = ok(&node, &["task", "revoke", run]);
        assert!(
            out.contains(&format!("revoked run {run} (application greeting)")),
            "{out}"
        );
        let status = json_of(&node, &["task", "show", run]);
        assert_eq!(status["state"], "REVOKED", "{status}");
    }
}

#[tokio::test]
async fn runs_that_cannot_start_are_refused_with_the_reason() {
    let node = setup().await;

    // Before any run, the application has no last run.
    let (code, _, err) = iscli(&node, &["app", "logs", "greeting"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("has not run yet"), "{err}");

    // A required app variable without a value: named, nothing started.
    let (code, out, err) = iscli(&node, &["app", "run", "greeting", "--wait", "5"]);
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("\"who\""), "{err}");
    assert!(!out.contains("started application"), "{out}");
    assert_eq!(json_of(&node, &["task", "list"]), json!([]));

    // No such application, no such configuration, no such run.
    let (code, _, err) = iscli(&node, &["app", "run", "nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("nope"), "{err}");
    let (code, _, err) = iscli(
        &node,
        &[
            "app",
            "run",
            "greeting",
            "--param",
            "who=x",
            "--config",
            "no_such_config",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no_such_config"), "{err}");
    let (code, _, err) = iscli(&node, &["task", "replay", "isapp-nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("isapp-nope"), "{err}");

    // Bad command lines are usage errors (exit 2) before any call.
    for line in [
        &["app", "run", "greeting", "--debug", "--log-level", "20"][..],
        &["app", "run", "greeting", "--queue", "q", "--param", "queue=r"],
        &["task", "list", "--state", "DONE"],
    ] {
        let (code, _, err) = iscli(&node, line);
        assert_eq!(code, 2, "{line:?}: {err}");
    }
}

/// `iscli app run` prints every record of every step once, in the order
/// logged, each step's success after its records (the event stream holds
/// them all: nothing is added from the steps' statuses afterwards).
#[tokio::test]
async fn app_run_prints_every_record_in_order() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Count").await.unwrap();
    let doc = json!({"name": "counted", "steps": [
        {"name": "a", "file": "Count", "prefix": "a", "count": 34, "output_to": ["b"]},
        {"name": "b", "file": "Count", "prefix": "b", "count": 33, "output_to": ["c"]},
        {"name": "c", "file": "Count", "prefix": "c", "count": 33}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&doc))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let out = ok(&node, &["app", "run", "counted", "--wait", "60"]);
    let mut last = 0;
    for (step, count) in [("a", 34), ("b", 33), ("c", 33)] {
        for i in 0..count {
            let line = format!(" INFO {step}: {step} {i}\n");
            assert_eq!(out.matches(&line).count(), 1, "{line:?} in:\n{out}");
            let here = at(&out, &line);
            assert!(here > last, "{line:?} out of order in:\n{out}");
            last = here;
        }
        let done = at(&out, &format!("step {step}: SUCCESS (attempt 1)\n"));
        assert!(done > last, "{step}'s success before its records in:\n{out}");
        last = done;
    }
    assert!(at(&out, "state: SUCCESS (took ") > last, "{out}");
    assert!(!out.contains("logged before iscli started following"), "{out}");
}
