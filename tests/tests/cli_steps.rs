//! `iscli step run` and `iscli task ...` against a real node: live log
//! lines and the outcome of a run, exit codes for failed and revoked steps,
//! missing parameters, `--wait 0` with a later revocation, and the task
//! status in JSON.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use is_tests::{
    iscli_command, iscli_json as json_of, iscli_ok as ok, iscli_out as iscli, poll, position_of as at,
    Markers, Progress, TestNode, PASSWORD,
};
use serde_json::json;

/// Starts iscli in the background with its stdout piped.
fn spawn_iscli(node: &TestNode, args: &[&str]) -> std::process::Child {
    iscli_command(node.port, "isadmin", PASSWORD, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start iscli")
}

/// Reads lines from `out` into `seen` up to the first that contains `needle`.
fn read_until(out: &mut impl BufRead, seen: &mut String, needle: &str) {
    loop {
        let mut line = String::new();
        let n = out.read_line(&mut line).unwrap();
        assert!(n > 0, "iscli ended before printing {needle:?}:\n{seen}");
        seen.push_str(&line);
        if line.contains(needle) {
            return;
        }
    }
}

/// Waits until task `id` runs (as `iscli task show` sees it).
async fn wait_started(node: &TestNode, id: &str) {
    poll(Duration::from_secs(30), async || {
        let status = json_of(node, &["task", "show", id]);
        Ok(if status["state"] == "STARTED" {
            Progress::Done(())
        } else {
            Progress::NotYet(format!("never started: {status}"))
        })
    })
    .await
    .unwrap();
}

/// The task id from the "still running: task ID (see: ...)" line.
fn still_running_id(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("still running: task "))
        .unwrap_or_else(|| panic!("no 'still running' line in:\n{out}"));
    line["still running: task ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn run_prints_the_log_line_and_the_result() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Greet").await.unwrap();

    let out = ok(
        &node,
        &["step", "run", "Greet", "--param", "who=world", "--wait", "20"],
    );
    let started = at(&out, "started step Greet as task ");
    let log = at(&out, " INFO Greet: greeting world\n");
    let success = at(&out, "state: SUCCESS (attempt 1 on ");
    let result = at(&out, "result:\n{\n  \"greeting\": \"hello world\"\n}");
    assert!(started < log && log < success && success < result, "{out}");
    // (A step this quick may end before iscli subscribes to its events; then
    // there are no state lines and the log line comes from the final status.)
    // The log line has the HH:MM:SS LEVEL module: message form.
    let line = out.lines().find(|l| l.contains("greeting world")).unwrap();
    let (clock, rest) = line.split_at(8);
    assert!(
        clock.chars().filter(|c| *c == ':').count() == 2 && rest == " INFO Greet: greeting world",
        "{line}"
    );
    // Printed once, although the final status holds it too.
    assert_eq!(out.matches("greeting world").count(), 1, "{out}");
}

#[tokio::test]
async fn failures_exit_1_with_error_and_traceback_and_missing_parameters_are_named() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Greet").await.unwrap();
    node.put_step("Boom").await.unwrap();

    let (code, out, err) = iscli(&node, &["step", "run", "Boom", "--wait", "20"]);
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("Boom: about to fail"), "{out}");
    assert!(out.contains("state: FAILURE"), "{out}");
    assert!(out.contains("error: ValueError: the value is wrong"), "{out}");
    assert!(out.contains("Traceback (most recent call last)"), "{out}");
    assert!(out.contains("raise ValueError"), "{out}");

    // Missing required parameter: refused before anything runs, named.
    let (code, out, err) = iscli(&node, &["step", "run", "Greet"]);
    assert_ne!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(err.contains("\"who\""), "{err}");
    assert!(!out.contains("started step"), "{out}");

    // No such step.
    let (code, _, err) = iscli(&node, &["step", "run", "Nope"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Nope"), "{err}");

    // A bad command line is a usage error (exit 2) before any call.
    let (code, _, err) = iscli(&node, &["step", "run", "Greet", "--param", "who"]);
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn json_output_task_show_and_task_logs() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Greet").await.unwrap();
    node.put_step("Echo").await.unwrap();

    // Values are JSON when they parse, else plain strings.
    let status = json_of(
        &node,
        &[
            "step",
            "run",
            "Echo",
            "--param",
            "n=3",
            "--param",
            r#"tags=["a", "b"]"#,
            "--param",
            "who=world",
            "--wait",
            "20",
        ],
    );
    assert_eq!(status["state"], "SUCCESS", "{status}");
    assert_eq!(
        status["result"],
        json!({"n": 3, "tags": ["a", "b"], "who": "world"}),
        "{status}"
    );

    let status = json_of(
        &node,
        &["step", "run", "Greet", "--param", "who=json", "--wait", "20"],
    );
    assert_eq!(status["state"], "SUCCESS", "{status}");
    let id = status["id"].as_str().unwrap().to_string();

    let shown = json_of(&node, &["task", "show", &id]);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["name"], "Greet");
    assert_eq!(shown["state"], "SUCCESS");
    assert_eq!(shown["attempt"], 1);
    assert_eq!(shown["result"], json!({"greeting": "hello json"}));
    assert!(shown["start_time"].is_number() && shown["end_time"].is_number());
    let logs = shown["logs"].as_array().unwrap();
    assert!(
        logs.iter()
            .any(|l| l["message"] == "greeting json" && l["level"] == "INFO"),
        "{shown}"
    );

    let sheet = ok(&node, &["task", "show", &id]);
    assert!(sheet.contains(&format!("Task:      {id}\n")), "{sheet}");
    assert!(sheet.contains("State:     SUCCESS\n"), "{sheet}");
    assert!(sheet.contains("\"greeting\": \"hello json\""), "{sheet}");
    assert!(sheet.contains("INFO Greet: greeting json"), "{sheet}");

    let logs = ok(&node, &["task", "logs", &id]);
    assert!(logs.ends_with(" INFO Greet: greeting json\n"), "{logs}");
    let logs = json_of(&node, &["task", "logs", &id]);
    assert_eq!(logs[0]["message"], "greeting json", "{logs}");

    // Unknown task.
    let (code, _, err) = iscli(&node, &["task", "show", "no-such-task"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no-such-task"), "{err}");
}

#[tokio::test]
async fn wait_zero_prints_the_id_and_revoke_stops_the_step() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Sleepy").await.unwrap();

    let started = Instant::now();
    let out = ok(&node, &["step", "run", "Sleepy", "--wait", "0"]);
    assert!(started.elapsed() < Duration::from_secs(10), "--wait 0 waited");
    let id = still_running_id(&out);
    assert!(out.contains(&format!("see: iscli task show {id}")), "{out}");

    // Let it start, so that revoking has a runner to kill.
    wait_started(&node, &id).await;

    let out = ok(&node, &["task", "revoke", &id]);
    assert!(out.contains(&format!("revoked task {id}")), "{out}");
    let status = json_of(&node, &["task", "show", &id]);
    assert_eq!(status["state"], "REVOKED", "{status}");
    let sheet = ok(&node, &["task", "show", &id]);
    assert!(sheet.contains("State:     REVOKED\n"), "{sheet}");
    // Again: nothing changes, and it says so.
    let out = ok(&node, &["task", "revoke", &id]);
    assert!(out.contains("had already ended (REVOKED)"), "{out}");
    let again = json_of(&node, &["task", "revoke", &id]);
    assert_eq!(again["state"], "REVOKED", "{again}");

    // A run whose step gets revoked while it follows it exits 1.
    let mut run = spawn_iscli(&node, &["step", "run", "Sleepy", "--wait", "60"]);
    let mut lines = BufReader::new(run.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    let id = first
        .trim_end()
        .strip_prefix("started step Sleepy as task ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    // Revoke once it runs (revoking a pending task works too, but then
    // there is no runner to kill).
    wait_started(&node, &id).await;
    ok(&node, &["task", "revoke", &id]);
    let mut rest = String::new();
    lines.read_to_string(&mut rest).unwrap();
    let code = run.wait().unwrap().code();
    assert_eq!(code, Some(1), "{first}{rest}");
    assert!(rest.contains("state: REVOKED"), "{first}{rest}");
}

#[tokio::test]
async fn a_short_wait_runs_out_and_the_json_answer_has_the_id() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Sleepy").await.unwrap();

    let out = ok(&node, &["step", "run", "Sleepy", "--wait", "2"]);
    let id = still_running_id(&out);
    let status = json_of(&node, &["task", "show", &id]);
    assert!(
        status["state"] == "PENDING" || status["state"] == "STARTED",
        "{status}"
    );

    let answer = json_of(&node, &["step", "run", "Sleepy", "--wait", "1"]);
    let id2 = answer["id"].as_str().unwrap().to_string();
    assert_eq!(answer["href"], format!("/api/v1/tasks/{id2}"));
    assert!(answer["state"].is_string(), "{answer}");
    assert_eq!(answer.as_object().unwrap().len(), 3, "{answer}");

    for id in [id, id2] {
        ok(&node, &["task", "revoke", &id]);
    }

    // A step killed by its --timeout failed: exit 1.
    let (code, out, err) = iscli(
        &node,
        &["step", "run", "Sleepy", "--timeout", "1", "--wait", "20"],
    );
    assert_eq!(code, 1, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("state: FAILURE"), "{out}");
    assert!(out.contains("timeout"), "{out}");
}

#[tokio::test]
async fn logs_are_printed_as_they_arrive() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Chatty").await.unwrap();

    // Chatty logs each line only once the test has created its marker, and
    // the test does so only after iscli has shown the step running (which
    // iscli learns from the task's events, so it is following them).
    let markers = Markers::new().unwrap();
    let first = format!("first_after={}", markers.path("first"));
    let second = format!("second_after={}", markers.path("second"));
    let mut run = spawn_iscli(
        &node,
        &[
            "step", "run", "Chatty", "--param", &first, "--param", &second, "--wait", "20",
        ],
    );
    let mut lines = BufReader::new(run.stdout.take().unwrap());
    let mut out = String::new();
    read_until(&mut lines, &mut out, "state: STARTED (attempt 1 on node");
    markers.set("first").unwrap();
    read_until(&mut lines, &mut out, "INFO Chatty: first");
    markers.set("second").unwrap();
    lines.read_to_string(&mut out).unwrap();
    assert!(run.wait().unwrap().success(), "{out}");
    let first = at(&out, "INFO Chatty: first\n");
    let second = at(&out, "INFO Chatty: second\n");
    let success = at(&out, "state: SUCCESS");
    assert!(first < second && second < success, "{out}");
    let running = at(&out, "state: STARTED (attempt 1 on node");
    assert!(running < first, "{out}");
    // Both came as live events: none had to be added from the final status.
    assert!(!out.contains("logged before iscli started following"), "{out}");
    assert_eq!(out.matches("Chatty: first").count(), 1, "{out}");
    assert_eq!(out.matches("Chatty: second").count(), 1, "{out}");
    // A task is PENDING until it starts: iscli does not say so.
    assert!(!out.contains("PENDING"), "{out}");

    // `task logs --follow` on a running task prints its lines as they are
    // logged and ends with the task. The ticker cannot end before the test
    // lets it, and a running task's status holds no log lines yet, so a
    // tick printed before then came live.
    node.put_step("Ticker").await.unwrap();
    let stop = format!("stop_after={}", markers.path("stop"));
    let out = ok(&node, &["step", "run", "Ticker", "--param", &stop, "--wait", "0"]);
    let id = still_running_id(&out);
    let mut follow = spawn_iscli(&node, &["task", "logs", &id, "--follow"]);
    let mut lines = BufReader::new(follow.stdout.take().unwrap());
    let mut logs = String::new();
    read_until(&mut lines, &mut logs, "INFO Ticker: tick");
    markers.set("stop").unwrap();
    lines.read_to_string(&mut logs).unwrap();
    assert!(follow.wait().unwrap().success(), "{logs}");
    assert!(logs.contains("INFO Ticker: done\n"), "{logs}");
    let status = json_of(&node, &["task", "show", &id]);
    assert_eq!(status["state"], "SUCCESS", "{status}");
}
