//! Following a run: its server-sent event stream reports state changes and
//! log records as they happen and ends with the final status; a GET with
//! `?wait=N` answers as soon as the run ends.

use std::time::{Duration, Instant};

use is_tests::{Markers, TestNode};
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn the_event_stream_follows_a_run_to_its_end() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Emit").await.unwrap();
    let markers = Markers::new().unwrap();
    // "first" holds the run until the stream is open, so everything after
    // it happens while the test watches.
    put_app(
        &node,
        json!({"name": "streamed", "steps": [
            {"name": "first", "file": "Emit", "value": 1, "wait_for": markers.path("first"),
             "output_to": ["second"]},
            {"name": "second", "file": "Emit", "value": 2}]}),
    )
    .await;
    let run = start_run_now(&node, "streamed").await;
    let events = read_events(&node, id_of(&run), || markers.set("first").unwrap()).await;
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

/// `GET /tasks/{id}?wait=N` answers as soon as the run ends (or after N s).
#[tokio::test]
async fn get_task_with_wait_answers_when_the_run_ends() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Nap").await.unwrap();
    let markers = Markers::new().unwrap();
    put_app(
        &node,
        json!({"name": "nap", "steps": [{"name": "n", "file": "Nap", "wait_for": markers.path("nap")}]}),
    )
    .await;
    let started = start_run_now(&node, "nap").await;
    assert_ne!(
        started["state"], "SUCCESS",
        "the run cannot be over yet: {started}"
    );
    let id = id_of(&started);
    let path = format!("/api/v1/tasks/{id}?wait=20");
    let asked = Instant::now();
    let (answer, released) = tokio::join!(node.rest("GET", &path, None), async { markers.set("nap") });
    released.unwrap();
    let (status, done) = answer.unwrap();
    assert_eq!(status, 200);
    assert_eq!(done["state"], "SUCCESS", "{done}");
    assert!(
        asked.elapsed() < Duration::from_secs(15),
        "answered only after {:?}, not when the run ended",
        asked.elapsed()
    );
    // A wait above 30 s waits 30 s (here: none, the run is over), as the
    // original did; a negative one is refused.
    let (status, body) = node
        .rest("GET", &format!("/api/v1/tasks/{id}?wait=99"), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "SUCCESS", "{body}");
    let (status, body) = node
        .rest("GET", &format!("/api/v1/tasks/{id}?wait=-1"), None)
        .await
        .unwrap();
    assert_eq!(status, 400, "{body}");
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
