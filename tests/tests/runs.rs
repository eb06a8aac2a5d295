//! Application runs end to end through REST (DESIGN 3, 4.1–4.6): data flow
//! between steps (fan-in, joins), failure isolation, parallel branches,
//! retries with backoff, variables and configurations (secrets masked),
//! replay, revocation, queues without workers, crash recovery, validation,
//! the output limit, run listing, the event stream, result expiry and the
//! run's log level.
//!
//! Every test starts its own node; waits poll with deadlines.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use is_tests::{files_containing, TestNode};
use serde_json::{json, Value};

/// Longest a run may take to reach its end in these tests.
const DEADLINE: Duration = Duration::from_secs(30);

/// Saves its `value` parameter after logging and sleeping `sleep` seconds.
const EMIT: &str = r#"
from ipaascore.BaseStep import BaseStep
import time

class Emit(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="value", default_value=None)
        self.new_step_parameter(name="sleep", default_value=0)

    def execute(self):
        self.logger.info("%s starts" % self.get_name())
        delay = float(self.get_parameter("sleep") or 0)
        if delay:
            time.sleep(delay)
        self.save_data_for_next_step(self.get_parameter("value"))
"#;

/// Reports what it sees of its upstream steps.
const INSPECT: &str = r#"
from ipaascore.BaseStep import BaseStep
from ipaascommon.ipaas_exceptions import DataNotAvailableException

class Inspect(BaseStep):
    def execute(self):
        positions = self.get_available_previous_step_input_positions()
        try:
            self.get_data_from_step_by_order(len(positions))
            beyond = "no error"
        except DataNotAvailableException as exc:
            beyond = "DataNotAvailableException: %s" % exc
        self.save_data_for_next_step({
            "me": self.get_name(),
            "application_id": self.application_id,
            "application_name": self.application_name,
            "positions": [[name, pos] for name, pos in positions],
            "by_order": [self.get_data_from_step_by_order(pos) for _, pos in positions],
            "by_name": dict((name, self.get_data_from_step_by_name(name)) for name, _ in positions),
            "beyond": beyond,
        })
"#;

/// Joins the upstream data; `only` limits a second join to those steps.
const JOIN: &str = r#"
from ipaascore.BaseStep import BaseStep

class Join(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="only", default_value=None)

    def execute(self):
        out = {"joined": self.join_previous_step_data()}
        only = self.get_parameter("only")
        if only:
            out["only"] = self.join_previous_step_data(data_from=only)
        self.save_data_for_next_step(out)
"#;

/// Records when it ran: one second of sleep between two clock readings.
const SPAN: &str = r#"
from ipaascore.BaseStep import BaseStep
import os, time

class Span(BaseStep):
    def execute(self):
        start = time.time()
        time.sleep(1.0)
        self.save_data_for_next_step({"start": start, "end": time.time(), "pid": os.getpid()})
"#;

/// Fails its first `fail_times` calls in a run, counting them in the shared cache.
const FLAKY: &str = r#"
from ipaascore.BaseStep import BaseStep
from ipaascommon.content_manger import IpaasContentManager

class Flaky(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="fail_times", default_value=2)

    def execute(self):
        cache = IpaasContentManager()
        key = "flaky-calls-" + self.application_id
        calls = (cache.get_from_cache(key) or 0) + 1
        cache.save_to_cache(key, calls)
        if calls <= int(self.get_parameter("fail_times")):
            raise RuntimeError("flaky failure on call %d" % calls)
        self.save_data_for_next_step({"succeeded_on_call": calls})
"#;

/// Reads application variables, substituted parameters and a secret.
const VARS: &str = r#"
from ipaascore.BaseStep import BaseStep

class Vars(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="text", required=True)
        self.new_step_parameter(name="count")
        self.new_step_parameter(name="endpoint")
        self.new_step_parameter(name="password")
        self.new_step_parameter(name="password_reversed")

    def execute(self):
        password = self.get_parameter("password")
        endpoint = self.get_parameter("endpoint")
        self.logger.info("logging in to %s with password %s" % (endpoint, password))
        self.logger.warning("password again: " + password)
        print("printed: " + password)
        count = self.get_parameter("count")
        self.save_data_for_next_step({
            "greeting": self.get_app_variable("greeting"),
            "target": self.get_app_variable("target"),
            "fallback": self.get_app_variable("fallback"),
            "undeclared": self.get_app_variable("undeclared"),
            "text": self.get_parameter("text"),
            "count": count,
            "count_type": type(count).__name__,
            "endpoint": endpoint,
            "password_matches": password[::-1] == self.get_parameter("password_reversed"),
            "password_length": len(password),
        })
"#;

/// Shows an application variable and a configuration variable.
const SHOW: &str = r#"
from ipaascore.BaseStep import BaseStep

class Show(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="host", default_value="${config.host}")

    def execute(self):
        self.save_data_for_next_step({"who": self.get_app_variable("who"),
                                      "host": self.get_parameter("host")})
"#;

/// Logs one record at every level.
const LEVELS: &str = r#"
from ipaascore.BaseStep import BaseStep

class Levels(BaseStep):
    def execute(self):
        self.logger.debug("debug-record")
        self.logger.info("info-record")
        self.logger.flow("flow-record")
        self.logger.warning("warning-record")
        self.logger.error("error-record")
        self.logger.critical("critical-record")
"#;

/// A step with a required parameter.
const NEEDS: &str = r#"
from ipaascore.BaseStep import BaseStep

class Needs(BaseStep):
    def __init__(self):
        self.new_step_parameter(name="must_have", required=True)

    def execute(self):
        self.save_data_for_next_step(self.get_parameter("must_have"))
"#;

async fn put_step(node: &TestNode, name: &str, source: &str) {
    let doc = json!({"name": name, "data": source});
    let (status, body) = node.rest("POST", "/api/v1/steps", Some(&doc)).await.unwrap();
    assert_eq!(status, 200, "upload of step {name}: {body}");
}

async fn put_app(node: &TestNode, doc: Value) {
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&doc))
        .await
        .unwrap();
    assert_eq!(status, 200, "upload of application {}: {body}", doc["name"]);
}

async fn put_config(node: &TestNode, doc: Value) {
    let (status, body) = node
        .rest("POST", "/api/v1/configurations", Some(&doc))
        .await
        .unwrap();
    assert_eq!(status, 200, "upload of configuration {}: {body}", doc["name"]);
}

/// `POST /applications/run?wait=N {"name", "params"}`.
async fn start_run(node: &TestNode, app: &str, params: Value, wait: u32) -> (u16, Value) {
    node.rest(
        "POST",
        &format!("/api/v1/applications/run?wait={wait}"),
        Some(&json!({"name": app, "params": params})),
    )
    .await
    .unwrap()
}

/// Starts a run and answers its status once it has ended.
async fn run_to_end(node: &TestNode, app: &str, params: Value) -> Value {
    let (status, run) = start_run(node, app, params, 30).await;
    assert_eq!(status, 200, "run of {app}: {run}");
    assert!(id_of(&run).starts_with("isapp-"), "{run}");
    node.wait_terminal(id_of(&run), DEADLINE).await.unwrap()
}

fn id_of(v: &Value) -> &str {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}"))
}

/// The entry of step `name` in a run status.
fn step<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("no step {name} in {run}"))
}

async fn get(node: &TestNode, path: &str) -> (u16, Value) {
    node.rest("GET", path, None).await.unwrap()
}

/// The step task status of step `name` of a run.
async fn step_task(node: &TestNode, run: &Value, name: &str) -> Value {
    let id = id_of(step(run, name));
    let (status, task) = get(node, &format!("/api/v1/tasks/{id}")).await;
    assert_eq!(status, 200, "{task}");
    task
}

fn ms(seconds: &Value) -> i64 {
    (seconds
        .as_f64()
        .unwrap_or_else(|| panic!("not a time: {seconds}"))
        * 1000.0)
        .round() as i64
}

fn log_messages(task: &Value) -> Vec<String> {
    task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap().to_string())
        .collect()
}

/// Reads a server-sent event stream to its end: (event, data) pairs.
async fn read_events(node: &TestNode, id: &str) -> Vec<(String, Value)> {
    let mut stream = node.open_events(id).await.bytes_stream();
    let mut bytes = Vec::new();
    let read = async {
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the event stream did not end");
    let text = String::from_utf8(bytes).expect("the event stream is UTF-8");
    let mut events = Vec::new();
    for block in text.split("\n\n") {
        let mut kind = String::from("message");
        let mut data = String::new();
        for line in block.lines() {
            if let Some(k) = line.strip_prefix("event:") {
                kind = k.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
        if !data.is_empty() {
            let value = serde_json::from_str(&data).unwrap_or_else(|e| panic!("bad event data {data}: {e}"));
            events.push((kind, value));
        }
    }
    events
}

const TERMINAL: [&str; 3] = ["SUCCESS", "FAILURE", "REVOKED"];

// 1 ------------------------------------------------------------------------

#[tokio::test]
async fn fan_in_sees_every_upstream_in_application_order() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_step(&node, "Inspect", INSPECT).await;
    // The joining step comes second in the list; its upstream steps are
    // named out of alphabetical order and the first one finishes last.
    put_app(
        &node,
        json!({"name": "fan_in", "steps": [
            {"name": "zeta", "file": "Emit", "value": {"from": "zeta"}, "sleep": 0.4, "output_to": ["gather"]},
            {"name": "gather", "file": "Inspect", "data_from": ["mid"]},
            {"name": "alpha", "file": "Emit", "value": [1, 2], "output_to": ["gather"]},
            {"name": "mid", "file": "Emit", "value": "text"}]}),
    )
    .await;
    let run = run_to_end(&node, "fan_in", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let gather = step_task(&node, &run, "gather").await;
    let seen = &gather["result"];
    assert_eq!(
        seen["positions"],
        json!([["zeta", 0], ["alpha", 1], ["mid", 2]]),
        "{seen}"
    );
    assert_eq!(
        seen["by_order"],
        json!([{"from": "zeta"}, [1, 2], "text"]),
        "{seen}"
    );
    assert_eq!(
        seen["by_name"],
        json!({"zeta": {"from": "zeta"}, "alpha": [1, 2], "mid": "text"}),
        "{seen}"
    );
    let beyond = seen["beyond"].as_str().unwrap();
    assert!(
        beyond.starts_with("DataNotAvailableException") && beyond.contains("3 previous steps"),
        "{beyond}"
    );
    assert_eq!(seen["me"], "gather");
    assert_eq!(seen["application_id"], run["id"]);
    assert_eq!(seen["application_name"], "fan_in");
    assert_eq!(gather["application_id"], run["id"]);
    // The join started only after all three upstream steps had finished.
    let started = ms(&gather["attempts"][0]["start_time"]);
    for name in ["zeta", "alpha", "mid"] {
        let up = step_task(&node, &run, name).await;
        assert_eq!(up["state"], "SUCCESS", "{up}");
        assert!(
            ms(&up["end_time"]) <= started,
            "{name} ended after gather started: {up} {gather}"
        );
    }
}

// 2 ------------------------------------------------------------------------

#[tokio::test]
async fn data_from_joins_dicts_merged_in_position_order() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_step(&node, "Join", JOIN).await;
    // `data_from` lists the steps out of order and the first finishes last:
    // the merge still follows positions, so the later position wins.
    put_app(
        &node,
        json!({"name": "merge", "steps": [
            {"name": "first", "file": "Emit", "value": {"a": 1, "shared": "first"}, "sleep": 0.3},
            {"name": "second", "file": "Emit", "value": {"b": 2, "shared": "second"}},
            {"name": "third", "file": "Emit", "value": {"c": 3}},
            {"name": "merged", "file": "Join", "data_from": ["third", "second", "first"],
             "only": ["second", "first"]}]}),
    )
    .await;
    let run = run_to_end(&node, "merge", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let merged = step_task(&node, &run, "merged").await;
    assert_eq!(
        merged["result"]["joined"],
        json!({"a": 1, "b": 2, "c": 3, "shared": "second"}),
        "{merged}"
    );
    assert_eq!(
        merged["result"]["only"],
        json!({"a": 1, "b": 2, "shared": "second"}),
        "join_previous_step_data(data_from=...) keeps position order: {merged}"
    );
}

// 3 ------------------------------------------------------------------------

#[tokio::test]
async fn a_mixed_type_join_fails_its_branch_only() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_step(&node, "Join", JOIN).await;
    put_app(
        &node,
        json!({"name": "mixed", "steps": [
            {"name": "listy", "file": "Emit", "value": [1, 2, 3], "output_to": ["combine"]},
            {"name": "dicty", "file": "Emit", "value": {"k": "v"}, "output_to": ["combine"]},
            {"name": "combine", "file": "Join", "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": "never"},
            {"name": "side", "file": "Emit", "value": "side", "sleep": 0.3, "output_to": ["side_end"]},
            {"name": "side_end", "file": "Emit", "value": "side end"}]}),
    )
    .await;
    let run = run_to_end(&node, "mixed", json!({})).await;
    assert_eq!(run["state"], "FAILURE", "{run}");

    let combine = step_task(&node, &run, "combine").await;
    assert_eq!(combine["state"], "FAILURE", "{combine}");
    let error = combine["error"].as_str().unwrap();
    assert!(error.contains("StepFailedException"), "{error}");
    assert!(
        error.contains("'listy' saved list") && error.contains("'dicty' saved dict"),
        "the error names the steps and their types: {error}"
    );
    assert!(
        combine["traceback"]
            .as_str()
            .unwrap()
            .contains("join_previous_step_data"),
        "{combine}"
    );

    let after = step_task(&node, &run, "after").await;
    assert_eq!(after["state"], "REVOKED", "{after}");
    assert_eq!(after["attempt"], 0, "{after}");
    assert_eq!(
        after["attempts"],
        json!([]),
        "the downstream step never started: {after}"
    );
    assert!(after["start_time"].is_null(), "{after}");
    assert_eq!(step(&run, "after")["state"], "REVOKED");

    for name in ["listy", "dicty", "side", "side_end"] {
        assert_eq!(step(&run, name)["state"], "SUCCESS", "{name}: {run}");
    }
    let side_end = step_task(&node, &run, "side_end").await;
    assert_eq!(side_end["result"], "side end");
    assert!(run["end_time"].as_f64().unwrap() >= side_end["end_time"].as_f64().unwrap());
}

// 4 ------------------------------------------------------------------------

#[tokio::test]
async fn independent_branches_run_in_parallel() {
    let node = TestNode::start_with(&[("IS_WORKERS", "2")]).await.unwrap();
    put_step(&node, "Span", SPAN).await;
    put_app(
        &node,
        json!({"name": "parallel", "steps": [
            {"name": "left", "file": "Span"},
            {"name": "right", "file": "Span"}]}),
    )
    .await;
    let run = run_to_end(&node, "parallel", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let left = step_task(&node, &run, "left").await["result"].clone();
    let right = step_task(&node, &run, "right").await["result"].clone();
    let latest_start = left["start"]
        .as_f64()
        .unwrap()
        .max(right["start"].as_f64().unwrap());
    let earliest_end = left["end"].as_f64().unwrap().min(right["end"].as_f64().unwrap());
    assert!(
        latest_start < earliest_end,
        "the two 1 s steps did not overlap: left {left}, right {right}"
    );
    assert_ne!(left["pid"], right["pid"], "two runners served them");
}

// 5 ------------------------------------------------------------------------

#[tokio::test]
async fn a_flaky_step_succeeds_on_its_third_attempt_after_backoff() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Flaky", FLAKY).await;
    put_app(
        &node,
        json!({"name": "flaky", "steps": [
            {"name": "unstable", "file": "Flaky", "fail_times": 2, "retry_max": 2, "retry_backoff": true}]}),
    )
    .await;
    let (status, run) = start_run(&node, "flaky", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    // Between attempts the step waits in RETRY with its attempt number and error.
    let task_path = format!("/api/v1/tasks/{}", id_of(step(&run, "unstable")));
    let waiting = node
        .poll_until(&task_path, DEADLINE, |_, t| t["state"] == "RETRY")
        .await
        .unwrap();
    assert!(waiting["attempt"].as_u64().unwrap() >= 1, "{waiting}");
    assert!(
        waiting["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("flaky failure on call 1"),
        "{waiting}"
    );

    let run = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let task = step_task(&node, &run, "unstable").await;
    assert_eq!(task["state"], "SUCCESS", "{task}");
    assert_eq!(task["attempt"], 3, "{task}");
    assert_eq!(task["result"], json!({"succeeded_on_call": 3}), "{task}");
    let attempts = task["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{task}");
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a["attempt"], i + 1, "{task}");
    }
    assert_eq!(attempts[0]["state"], "FAILURE", "{task}");
    assert_eq!(attempts[1]["state"], "FAILURE", "{task}");
    assert_eq!(attempts[2]["state"], "SUCCESS", "{task}");
    assert!(attempts[2]["error"].is_null(), "{task}");
    for (i, a) in attempts[..2].iter().enumerate() {
        let error = a["error"].as_str().unwrap();
        assert!(
            error.contains("RuntimeError") && error.contains(&format!("flaky failure on call {}", i + 1)),
            "attempt {}: {error}",
            i + 1
        );
    }
    // retry_backoff: 1 s before the first retry, 2 s before the second.
    let gap1 = ms(&attempts[1]["start_time"]) - ms(&attempts[0]["end_time"]);
    let gap2 = ms(&attempts[2]["start_time"]) - ms(&attempts[1]["end_time"]);
    assert!(gap1 >= 1000, "first retry after {gap1} ms: {task}");
    assert!(gap2 >= 2000, "second retry after {gap2} ms: {task}");
}

/// DESIGN 4.5: "The attempt number, its error and the planned time are
/// visible in the step task." While a step waits in RETRY, its status must
/// show when the next attempt is planned (under whatever key: the test
/// looks for the value, end of the failed attempt + 1 s, anywhere in it).
#[tokio::test]
async fn the_planned_retry_time_is_visible_while_a_step_waits() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Flaky", FLAKY).await;
    put_app(
        &node,
        json!({"name": "planned", "steps": [
            {"name": "unstable", "file": "Flaky", "fail_times": 1, "retry_max": 1, "retry_backoff": true}]}),
    )
    .await;
    let (status, run) = start_run(&node, "planned", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    let task_path = format!("/api/v1/tasks/{}", id_of(step(&run, "unstable")));
    let waiting = node
        .poll_until(&task_path, DEADLINE, |_, t| t["state"] == "RETRY")
        .await
        .unwrap();
    let planned_ms = ms(&waiting["attempts"][0]["end_time"]) + 1000;
    fn numbers(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Number(n) => out.extend(n.as_f64()),
            Value::Array(a) => a.iter().for_each(|x| numbers(x, out)),
            Value::Object(o) => o.values().for_each(|x| numbers(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    numbers(&waiting, &mut all);
    let shown = all.iter().any(|n| {
        let as_seconds = (n * 1000.0).round() as i64;
        let as_millis = n.round() as i64;
        (as_seconds - planned_ms).abs() <= 5 || (as_millis - planned_ms).abs() <= 5
    });
    assert!(
        shown,
        "no planned retry time ({planned_ms} ms) in the RETRY status: {waiting}"
    );
    let run = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(run["state"], "SUCCESS", "{run}");
}

// 6 ------------------------------------------------------------------------

const SECRET: &str = "pl41n-S3cret-runs-7c1e";

#[tokio::test]
async fn variables_configuration_and_masked_secrets_reach_the_step() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Vars", VARS).await;
    put_config(
        &node,
        json!({"name": "vault", "configuration_data": [
            {"name": "host", "value": "db.example.com", "encrypted": false},
            {"name": "port", "value": 8443},
            {"name": "password", "value": SECRET, "encrypted": true}]}),
    )
    .await;
    let reversed: String = SECRET.chars().rev().collect();
    put_app(
        &node,
        json!({"name": "vars",
               "app_variables": [
                   {"name": "greeting", "value": "hello", "required": true},
                   {"name": "target", "value": "app-value"},
                   {"name": "fallback", "default_value": "from-default"},
                   {"name": "count", "value": 1}],
               "steps": [{"name": "use_vars", "file": "Vars",
                          "text": "${appvar.greeting}, ${appvar.target}!",
                          "count": "${appvar.count}",
                          "endpoint": "https://${config.host}:${config.port}/api",
                          "password": "${config.password}",
                          "password_reversed": reversed}]}),
    )
    .await;
    let run = run_to_end(
        &node,
        "vars",
        json!({"target": "run-value", "count": 7, "configuration": "vault"}),
    )
    .await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    assert_eq!(run["configuration"], "vault");
    assert_eq!(run["app_vars"]["target"], "run-value", "{run}");
    let task = step_task(&node, &run, "use_vars").await;
    assert_eq!(
        task["result"],
        json!({"greeting": "hello", "target": "run-value", "fallback": "from-default",
               "undeclared": null, "text": "hello, run-value!", "count": 7, "count_type": "int",
               "endpoint": "https://db.example.com:8443/api",
               "password_matches": true, "password_length": SECRET.len()}),
        "{task}"
    );
    // The secret is masked in every log line that carried it.
    let messages = log_messages(&task);
    for expected in [
        "logging in to https://db.example.com:8443/api with password ******",
        "password again: ******",
        "printed: ******",
    ] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "{expected:?} not in {messages:?}"
        );
    }
    // The plaintext never leaves: not in any API answer, not on disk.
    let events = read_events(&node, id_of(&run)).await;
    let mut answers = vec![
        get(&node, &format!("/api/v1/tasks/{}", id_of(&run))).await.1,
        task.clone(),
        get(&node, "/api/v1/tasks?app=vars").await.1,
        get(&node, "/api/v1/applications/vars/logs").await.1,
        get(&node, "/api/v1/configurations/vault").await.1,
    ];
    answers.extend(events.into_iter().map(|(_, v)| v));
    for answer in &answers {
        assert!(!answer.to_string().contains(SECRET), "plaintext in {answer}");
    }
    let hits = files_containing(node.dir.path(), SECRET.as_bytes());
    assert!(hits.is_empty(), "plaintext secret in {hits:?}");
}

// 7 ------------------------------------------------------------------------

const TWO_POOLS: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1

[[worker_pools]]
queues = ["side_queue"]
concurrency = 1
"#;

#[tokio::test]
async fn replay_keeps_variables_configuration_and_queue() {
    let node = TestNode::start_with_config(TWO_POOLS, &[]).await.unwrap();
    put_step(&node, "Show", SHOW).await;
    put_config(
        &node,
        json!({"name": "site_a", "configuration_data": [{"name": "host", "value": "a.example.com"}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "replayable", "app_variables": [{"name": "who", "value": "declared"}],
               "steps": [{"name": "show", "file": "Show"}]}),
    )
    .await;
    let first = run_to_end(
        &node,
        "replayable",
        json!({"who": "from-run", "configuration": "site_a", "queue": "side_queue"}),
    )
    .await;
    assert_eq!(first["state"], "SUCCESS", "{first}");
    assert_eq!(first["queue"], "side_queue");
    let first_task = step_task(&node, &first, "show").await;
    assert_eq!(
        first_task["result"],
        json!({"who": "from-run", "host": "a.example.com"})
    );
    assert_eq!(first_task["queue"], "side_queue");

    let (status, replay) = node
        .rest(
            "POST",
            &format!("/api/v1/tasks/{}/replay?wait=30", id_of(&first)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{replay}");
    let replay = node.wait_terminal(id_of(&replay), DEADLINE).await.unwrap();
    assert_ne!(replay["id"], first["id"]);
    assert!(id_of(&replay).starts_with("isapp-"));
    assert_eq!(replay["state"], "SUCCESS", "{replay}");
    assert_eq!(replay["app_name"], "replayable");
    assert_eq!(replay["app_vars"], first["app_vars"], "{replay}");
    assert_eq!(replay["configuration"], "site_a");
    assert_eq!(replay["queue"], "side_queue");
    let triggers = replay["triggered_by"].as_array().unwrap();
    assert!(
        triggers
            .iter()
            .any(|t| t["triggered_by"] == "REPLAY" && t["application_id"] == replay["id"]),
        "{replay}"
    );
    assert!(
        triggers
            .iter()
            .any(|t| t["triggered_by"] == "REPLAY_OF" && t["application_id"] == first["id"]),
        "{replay}"
    );
    let replay_task = step_task(&node, &replay, "show").await;
    assert_ne!(replay_task["id"], first_task["id"]);
    assert_eq!(replay_task["result"], first_task["result"]);
    assert_eq!(replay_task["queue"], "side_queue");
    assert_eq!(replay_task["application_id"], replay["id"]);
}

/// A replay keeps the queue and configuration the original run took from
/// the application document, and shows the same variables as the original.
#[tokio::test]
async fn replay_of_a_run_using_the_applications_queue_and_configuration() {
    let node = TestNode::start_with_config(TWO_POOLS, &[]).await.unwrap();
    put_step(&node, "Show", SHOW).await;
    put_config(
        &node,
        json!({"name": "site_b", "configuration_data": [{"name": "host", "value": "b.example.com"}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "from_doc", "queue": "side_queue", "configuration": "site_b",
               "app_variables": [{"name": "who", "value": "declared"}],
               "steps": [{"name": "show", "file": "Show"}]}),
    )
    .await;
    let first = run_to_end(&node, "from_doc", json!({"who": "from-run"})).await;
    assert_eq!(first["state"], "SUCCESS", "{first}");
    assert_eq!(first["queue"], "side_queue");
    assert_eq!(first["configuration"], "site_b");
    let (status, replay) = node
        .rest(
            "POST",
            &format!("/api/v1/tasks/{}/replay?wait=30", id_of(&first)),
            None,
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{replay}");
    let replay = node.wait_terminal(id_of(&replay), DEADLINE).await.unwrap();
    assert_eq!(replay["state"], "SUCCESS", "{replay}");
    assert_eq!(replay["queue"], "side_queue");
    assert_eq!(replay["configuration"], "site_b");
    assert_eq!(
        step_task(&node, &replay, "show").await["result"],
        json!({"who": "from-run", "host": "b.example.com"})
    );
    assert_eq!(
        replay["app_vars"], first["app_vars"],
        "original {first}\nreplay {replay}"
    );
}

// 8 ------------------------------------------------------------------------

#[tokio::test]
async fn revoking_a_sleeping_step_revokes_its_run_and_what_follows() {
    let node = TestNode::start_with(&[("IS_WORKERS", "1")]).await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "sleepy", "steps": [
            {"name": "quick", "file": "Emit", "value": 1, "output_to": ["sleeper"]},
            {"name": "sleeper", "file": "Emit", "value": 2, "sleep": 60, "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": 3}]}),
    )
    .await;
    put_app(
        &node,
        json!({"name": "probe", "steps": [{"name": "only", "file": "Emit", "value": "probe"}]}),
    )
    .await;
    // Revoke the sleeping step's task, then (second run) the run itself with DELETE.
    for by_step in [true, false] {
        let (status, run) = start_run(&node, "sleepy", json!({}), 0).await;
        assert_eq!(status, 200, "{run}");
        let run_path = format!("/api/v1/tasks/{}", id_of(&run));
        let running = node
            .poll_until(&run_path, DEADLINE, |_, r| {
                step(r, "sleeper")["state"] == "STARTED"
            })
            .await
            .unwrap();
        let (method, path) = if by_step {
            (
                "POST",
                format!("/api/v1/tasks/{}/revoke", id_of(step(&running, "sleeper"))),
            )
        } else {
            ("DELETE", run_path.clone())
        };
        let (status, answer) = node.rest(method, &path, None).await.unwrap();
        assert_eq!(status, 200, "{method} {path}: {answer}");
        assert_eq!(answer["state"], "REVOKED", "{method} {path}: {answer}");

        let revoked = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
        assert_eq!(revoked["state"], "REVOKED", "{revoked}");
        assert_eq!(step(&revoked, "quick")["state"], "SUCCESS", "{revoked}");
        assert_eq!(step(&revoked, "sleeper")["state"], "REVOKED", "{revoked}");
        assert_eq!(step(&revoked, "after")["state"], "REVOKED", "{revoked}");
        assert!(revoked["end_time"].is_number(), "{revoked}");

        // The only worker is free again long before the 60 s sleep would end.
        let probe = run_to_end(&node, "probe", json!({})).await;
        assert_eq!(probe["state"], "SUCCESS", "{probe}");
        let (_, finished) = get(&node, &run_path).await;
        assert_eq!(finished["state"], "REVOKED", "{finished}");
        let sleeper = step_task(&node, &finished, "sleeper").await;
        assert_eq!(sleeper["state"], "REVOKED", "{sleeper}");
        assert_eq!(sleeper["attempts"].as_array().unwrap().len(), 1, "{sleeper}");
        assert_eq!(sleeper["attempts"][0]["state"], "REVOKED", "{sleeper}");
        assert!(sleeper["result"].is_null(), "{sleeper}");
        let after = step_task(&node, &finished, "after").await;
        assert_eq!(after["state"], "REVOKED", "{after}");
        assert_eq!(
            after["attempts"],
            json!([]),
            "the step after never started: {after}"
        );
    }
}

// 9 ------------------------------------------------------------------------

const DEFAULT_POOL_ONLY: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1
"#;

const WITH_CRITICAL_POOL: &str = r#"
[[worker_pools]]
queues = ["default"]
concurrency = 1

[[worker_pools]]
queues = ["critical_queue"]
concurrency = 1
"#;

#[tokio::test]
async fn a_queue_nobody_serves_waits_until_a_worker_subscribes() {
    let mut node = TestNode::start_with_config(DEFAULT_POOL_ONLY, &[]).await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "critical", "queue": "critical_queue", "steps": [
            {"name": "first", "file": "Emit", "value": 1, "output_to": ["second"]},
            {"name": "second", "file": "Emit", "value": 2}]}),
    )
    .await;
    let (status, run) = start_run(&node, "critical", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["queue"], "critical_queue");
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    let pending = node
        .poll_until(&run_path, DEADLINE, |_, r| {
            step(r, "first")["waiting_for"].is_string()
        })
        .await
        .unwrap();
    let first = step(&pending, "first");
    assert_eq!(first["state"], "PENDING", "{pending}");
    assert!(
        first["waiting_for"].as_str().unwrap().contains("critical_queue"),
        "{pending}"
    );
    let task_path = format!("/api/v1/tasks/{}", id_of(first));
    // It stays so: nothing picks it up.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        let (_, task) = get(&node, &task_path).await;
        assert_eq!(task["state"], "PENDING", "{task}");
        assert!(
            task["waiting_for"]
                .as_str()
                .unwrap_or_default()
                .contains("critical_queue"),
            "{task}"
        );
        assert_eq!(task["attempts"], json!([]), "{task}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    node.restart_with_config(WITH_CRITICAL_POOL).await.unwrap();
    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    for name in ["first", "second"] {
        let task = step_task(&node, &done, name).await;
        assert_eq!(task["state"], "SUCCESS", "{task}");
        assert_eq!(task["attempt"], 1, "{task}");
        assert_eq!(task["queue"], "critical_queue", "{task}");
        assert!(task.get("waiting_for").is_none_or(Value::is_null), "{task}");
    }
}

// 10 -----------------------------------------------------------------------

#[tokio::test]
async fn a_run_interrupted_by_kill_9_finishes_after_restart() {
    let mut node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_step(&node, "Join", JOIN).await;
    put_app(
        &node,
        json!({"name": "chain", "steps": [
            {"name": "one", "file": "Emit", "value": {"one": 1}, "output_to": ["two"]},
            {"name": "two", "file": "Emit", "value": {"two": 2}, "sleep": 2, "output_to": ["three"]},
            {"name": "three", "file": "Join"}]}),
    )
    .await;
    let (status, run) = start_run(&node, "chain", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    node.poll_until(&run_path, DEADLINE, |_, r| step(r, "two")["state"] == "STARTED")
        .await
        .unwrap();
    node.restart().await.unwrap();

    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let one = step_task(&node, &done, "one").await;
    assert_eq!(one["attempt"], 1, "{one}");
    let two = step_task(&node, &done, "two").await;
    assert_eq!(two["state"], "SUCCESS", "{two}");
    assert_eq!(two["attempt"], 2, "{two}");
    assert_eq!(two["attempts"][0]["state"], "FAILURE", "{two}");
    assert_eq!(two["attempts"][1]["state"], "SUCCESS", "{two}");
    let three = step_task(&node, &done, "three").await;
    assert_eq!(three["attempt"], 1, "{three}");
    assert_eq!(three["result"], json!({"joined": {"two": 2}}), "{three}");
}

#[tokio::test]
async fn sigterm_lets_a_running_step_finish_before_the_node_exits() {
    let mut node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "slow", "steps": [
            {"name": "nap", "file": "Emit", "value": "rested", "sleep": 1.5, "output_to": ["after"]},
            {"name": "after", "file": "Emit", "value": "never yet"}]}),
    )
    .await;
    let (status, run) = start_run(&node, "slow", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    node.poll_until(&run_path, DEADLINE, |_, r| step(r, "nap")["state"] == "STARTED")
        .await
        .unwrap();
    let exit = node.terminate().unwrap();
    assert!(exit.success(), "a drained node exits 0: {exit:?}\n{}", node.log());

    // The step finished during the drain and its outcome is durable: after
    // the restart it is not run again; the step after it runs then.
    node.restart().await.unwrap();
    let done = node.wait_terminal(id_of(&run), DEADLINE).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let nap = step_task(&node, &done, "nap").await;
    assert_eq!(nap["attempt"], 1, "ran once, finished while draining: {nap}");
    assert_eq!(nap["result"], "rested", "{nap}");
}

// 11 -----------------------------------------------------------------------

#[tokio::test]
async fn a_run_that_cannot_start_lists_every_problem() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Needs", NEEDS).await;
    put_app(
        &node,
        json!({"name": "broken",
               "app_variables": [{"name": "tenant", "required": true},
                                 {"name": "region", "required": true, "default_value": "eu"}],
               "steps": [
                   {"name": "needy", "file": "Needs", "output_to": ["ghostly"]},
                   {"name": "ghostly", "file": "NoSuchStep"}]}),
    )
    .await;
    let (status, body) = start_run(&node, "broken", json!({"configuration": "no_such_config"}), 5).await;
    assert_eq!(status, 400, "{body}");
    let details: Vec<String> = body["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {body}"))
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(details.len(), 4, "{details:?}");
    let has = |words: &[&str]| details.iter().any(|d| words.iter().all(|w| d.contains(w)));
    assert!(has(&["tenant"]), "missing app variable: {details:?}");
    assert!(
        has(&["needy", "must_have"]),
        "missing step parameter: {details:?}"
    );
    assert!(has(&["ghostly", "NoSuchStep"]), "missing step file: {details:?}");
    assert!(has(&["no_such_config"]), "unknown configuration: {details:?}");
    assert!(!has(&["region"]), "a default value counts: {details:?}");
    assert!(body["error"].is_string(), "{body}");
    // Nothing ran.
    let (_, runs) = get(&node, "/api/v1/tasks?app=broken").await;
    assert_eq!(runs, json!([]));

    let (status, body) = start_run(&node, "no_such_app", json!({}), 0).await;
    assert_eq!(status, 404, "{body}");
    assert!(body["error"].as_str().unwrap().contains("no_such_app"), "{body}");
    let (status, body) = node
        .rest("POST", "/api/v1/applications/no_such_app/run", None)
        .await
        .unwrap();
    assert_eq!(status, 404, "{body}");
}

// 12 -----------------------------------------------------------------------

#[tokio::test]
async fn output_over_the_limit_fails_the_step() {
    let node = TestNode::start_with(&[("IS_MAX_OUTPUT_BYTES", "1000")])
        .await
        .unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "big", "steps": [
            {"name": "large", "file": "Emit", "value": "x".repeat(10_000)},
            {"name": "small", "file": "Emit", "value": "fits"}]}),
    )
    .await;
    let run = run_to_end(&node, "big", json!({})).await;
    assert_eq!(run["state"], "FAILURE", "{run}");
    let large = step_task(&node, &run, "large").await;
    assert_eq!(large["state"], "FAILURE", "{large}");
    let error = large["error"].as_str().unwrap();
    assert!(
        error.contains("limit of 1000 bytes") && error.contains("max_output_bytes"),
        "{error}"
    );
    assert!(large["result"].is_null(), "{large}");
    let small = step_task(&node, &run, "small").await;
    assert_eq!(small["state"], "SUCCESS", "{small}");
    assert_eq!(small["result"], "fits");
}

// 13 -----------------------------------------------------------------------

#[tokio::test]
async fn last_run_and_run_listing_newest_first() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    for name in ["listed", "other"] {
        put_app(
            &node,
            json!({"name": name, "steps": [{"name": "s", "file": "Emit", "value": name}]}),
        )
        .await;
    }
    let (status, body) = get(&node, "/api/v1/applications/listed/logs").await;
    assert_eq!(status, 404, "no run yet: {body}");

    let older = run_to_end(&node, "listed", json!({})).await;
    let other = run_to_end(&node, "other", json!({})).await;
    let newer = run_to_end(&node, "listed", json!({})).await;
    for r in [&older, &other, &newer] {
        assert_eq!(r["state"], "SUCCESS", "{r}");
    }

    let (status, last) = get(&node, "/api/v1/applications/listed/logs").await;
    assert_eq!(status, 200, "{last}");
    assert_eq!(last["id"], newer["id"], "{last}");
    assert_eq!(
        last["last_run"],
        json!(format!("/api/v1/tasks/{}", id_of(&newer)))
    );
    assert_eq!(last["state"], "SUCCESS");
    assert_eq!(step(&last, "s")["state"], "SUCCESS");
    let (status, followed) = get(&node, last["last_run"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(followed["id"], newer["id"]);

    let (status, runs) = get(&node, "/api/v1/tasks?app=listed").await;
    assert_eq!(status, 200, "{runs}");
    let ids: Vec<&str> = runs.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, vec![id_of(&newer), id_of(&older)], "{runs}");
    let (_, limited) = get(&node, "/api/v1/tasks?app=listed&limit=1").await;
    assert_eq!(limited.as_array().unwrap().len(), 1);
    assert_eq!(limited[0]["id"], newer["id"]);
    let (_, all) = get(&node, "/api/v1/tasks").await;
    let ids: Vec<&str> = all.as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(ids, vec![id_of(&newer), id_of(&other), id_of(&older)]);
    let (_, failed) = get(&node, "/api/v1/tasks?app=listed&state=FAILURE").await;
    assert_eq!(failed, json!([]));
    let (_, succeeded) = get(&node, "/api/v1/tasks?app=listed&state=SUCCESS").await;
    assert_eq!(succeeded.as_array().unwrap().len(), 2);
    let (status, _) = get(&node, "/api/v1/tasks?state=DONE").await;
    assert_eq!(status, 400);
}

// 14 -----------------------------------------------------------------------

#[tokio::test]
async fn the_event_stream_follows_a_run_to_its_end() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "streamed", "steps": [
            {"name": "first", "file": "Emit", "value": 1, "sleep": 0.5, "output_to": ["second"]},
            {"name": "second", "file": "Emit", "value": 2}]}),
    )
    .await;
    let (status, run) = start_run(&node, "streamed", json!({}), 0).await;
    assert_eq!(status, 200, "{run}");
    let events = read_events(&node, id_of(&run)).await;
    let (last_kind, last) = events.last().expect("no events");
    assert_eq!(last_kind, "end", "{events:?}");
    assert_eq!(last["status"]["id"], run["id"], "{last}");
    assert_eq!(last["status"]["state"], "SUCCESS", "{last}");
    assert_eq!(events.iter().filter(|(k, _)| k == "end").count(), 1, "{events:?}");
    let states_of = |name: &str| -> Vec<String> {
        events
            .iter()
            .filter(|(k, v)| k == "state" && v["name"] == name)
            .map(|(_, v)| v["state"].as_str().unwrap().to_string())
            .collect()
    };
    for name in ["first", "second"] {
        let states = states_of(name);
        assert_eq!(
            states.last().map(String::as_str),
            Some("SUCCESS"),
            "{name}: {states:?}"
        );
    }
    let second = states_of("second");
    assert!(
        second.len() >= 2 && !TERMINAL.contains(&second[0].as_str()),
        "the stream saw the second step before it finished: {second:?}"
    );
    let run_states: Vec<&Value> = events
        .iter()
        .filter(|(k, v)| k == "state" && v["id"] == run["id"])
        .map(|(_, v)| &v["state"])
        .collect();
    assert_eq!(run_states.last(), Some(&&json!("SUCCESS")), "{run_states:?}");
    assert!(
        events
            .iter()
            .any(|(k, v)| k == "log" && v["name"] == "second" && v["message"] == "second starts"),
        "{events:?}"
    );
}

// 15 -----------------------------------------------------------------------

#[tokio::test]
async fn finished_runs_expire() {
    let node = TestNode::start_with(&[("IS_RESULT_EXPIRES_SECONDS", "2")])
        .await
        .unwrap();
    put_step(&node, "Emit", EMIT).await;
    put_app(
        &node,
        json!({"name": "fleeting", "steps": [{"name": "s", "file": "Emit", "value": 1}]}),
    )
    .await;
    let run = run_to_end(&node, "fleeting", json!({})).await;
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let step_path = format!("/api/v1/tasks/{}", id_of(step(&run, "s")));
    let run_path = format!("/api/v1/tasks/{}", id_of(&run));
    node.poll_until(&run_path, Duration::from_secs(15), |status, _| status == 404)
        .await
        .unwrap();
    let (status, body) = get(&node, &step_path).await;
    assert_eq!(status, 404, "the step task expires with its run: {body}");
    let (_, runs) = get(&node, "/api/v1/tasks?app=fleeting").await;
    assert_eq!(runs, json!([]));
    // The application itself stays.
    assert_eq!(get(&node, "/api/v1/applications/fleeting").await.0, 200);
}

// 16 -----------------------------------------------------------------------

#[tokio::test]
async fn the_run_log_level_drops_lower_records() {
    let node = TestNode::start().await.unwrap();
    put_step(&node, "Levels", LEVELS).await;
    put_app(
        &node,
        json!({"name": "levels", "steps": [{"name": "noisy", "file": "Levels"}]}),
    )
    .await;
    let quiet = run_to_end(&node, "levels", json!({"log_level": 30})).await;
    assert_eq!(quiet["state"], "SUCCESS", "{quiet}");
    assert_eq!(quiet["log_level"], 30, "{quiet}");
    let task = step_task(&node, &quiet, "noisy").await;
    let levels: BTreeSet<&str> = task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, BTreeSet::from(["WARNING", "ERROR", "CRITICAL"]), "{task}");
    let messages = log_messages(&task);
    assert_eq!(
        messages,
        vec!["warning-record", "error-record", "critical-record"],
        "{task}"
    );

    // A level name works as well.
    let named = run_to_end(&node, "levels", json!({"log_level": "warning"})).await;
    assert_eq!(named["log_level"], 30, "{named}");
    let task = step_task(&node, &named, "noisy").await;
    assert_eq!(
        log_messages(&task),
        vec!["warning-record", "error-record", "critical-record"],
        "{task}"
    );

    // Without a level every record is kept.
    let loud = run_to_end(&node, "levels", json!({})).await;
    let task = step_task(&node, &loud, "noisy").await;
    assert_eq!(
        log_messages(&task),
        vec![
            "debug-record",
            "info-record",
            "flow-record",
            "warning-record",
            "error-record",
            "critical-record"
        ],
        "{task}"
    );
    assert!(task["logs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["level"] == "INFO"));
}

// Long poll -----------------------------------------------------------------

/// `GET /tasks/{id}?wait=N` answers as soon as the run ends (or after N s).
#[tokio::test]
async fn get_task_with_wait_answers_when_the_run_ends() {
    let node = TestNode::start().await.unwrap();
    let src = "import time\nfrom ipaascore.BaseStep import BaseStep\nclass Nap(BaseStep):\n    def execute(self):\n        time.sleep(0.5)\n        self.save_data_for_next_step('rested')\n";
    let (status, _) = node
        .rest(
            "POST",
            "/api/v1/steps",
            Some(&json!({"name": "Nap", "data": src})),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let app = json!({"name": "nap", "steps": [{"name": "n", "file": "Nap"}]});
    assert_eq!(
        node.rest("POST", "/api/v1/applications", Some(&app))
            .await
            .unwrap()
            .0,
        200
    );
    let (_, started) = node
        .rest(
            "POST",
            "/api/v1/applications/run?wait=0",
            Some(&json!({"name": "nap"})),
        )
        .await
        .unwrap();
    assert_ne!(
        started["state"], "SUCCESS",
        "the run cannot be over yet: {started}"
    );
    let id = started["id"].as_str().unwrap();
    let (status, done) = node
        .rest("GET", &format!("/api/v1/tasks/{id}?wait=20"), None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(done["state"], "SUCCESS", "{done}");
    let (status, body) = node
        .rest("GET", &format!("/api/v1/tasks/{id}?wait=99"), None)
        .await
        .unwrap();
    assert_eq!(status, 400, "wait is capped at 30 s: {body}");
}

/// Waiting on an id that does not exist answers 404 at once.
#[tokio::test]
async fn get_task_with_wait_on_an_unknown_id_is_404() {
    let node = TestNode::start().await.unwrap();
    let (status, body) = node
        .rest("GET", "/api/v1/tasks/isapp-nope?wait=30", None)
        .await
        .unwrap();
    assert_eq!(status, 404, "{body}");
}
