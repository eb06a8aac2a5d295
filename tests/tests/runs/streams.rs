//! Ordered, complete and resumable event streams (issue 15): a run's
//! stream holds every record its steps logged, in order, each step's
//! records before its final state and the run's end after its steps; a
//! client that lost the connection goes on from the last event id it got
//! (`Last-Event-ID`); a running step's records are readable before it
//! ends, and a revoked step keeps them.

use futures_util::StreamExt;
use is_tests::{poll, Markers, Progress, TestNode, PASSWORD};
use serde_json::{json, Value};

use crate::support::*;

/// One server-sent event: its name, id and data.
#[derive(Debug, Clone, PartialEq)]
struct Sse {
    kind: String,
    id: Option<String>,
    data: Value,
}

/// Splits complete events off the front of `buf`.
fn take_events(buf: &mut String) -> Vec<Sse> {
    let mut out = Vec::new();
    while let Some(cut) = buf.find("\n\n") {
        let block: String = buf.drain(..cut + 2).collect();
        let (mut kind, mut id, mut data) = ("message".to_string(), None, String::new());
        for line in block.lines() {
            if let Some(k) = line.strip_prefix("event:") {
                kind = k.trim().to_string();
            } else if let Some(i) = line.strip_prefix("id:") {
                id = Some(i.trim().to_string());
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            }
        }
        if !data.is_empty() {
            let data = serde_json::from_str(&data).unwrap_or_else(|e| panic!("bad event data {data}: {e}"));
            out.push(Sse { kind, id, data });
        }
    }
    out
}

/// Reads the stream of `id` (after `after`, if given) until it ends, or
/// only its first `limit` events, then drops the connection.
async fn events(node: &TestNode, id: &str, after: Option<&str>, limit: Option<usize>) -> Vec<Sse> {
    let mut req = is_tests::http_client()
        .get(node.url(&format!("/api/v1/tasks/{id}/events")))
        .basic_auth("isadmin", Some(PASSWORD));
    if let Some(after) = after {
        req = req.header("Last-Event-ID", after);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "event stream of {id}");
    let mut stream = resp.bytes_stream();
    let (mut buf, mut got) = (String::new(), Vec::new());
    let read = async {
        while let Some(chunk) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            got.extend(take_events(&mut buf));
            if limit.is_some_and(|n| got.len() >= n) {
                got.truncate(limit.unwrap_or(usize::MAX));
                return;
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the event stream did not end");
    got
}

/// What an event says, as text: `log a: a 3`, `state a SUCCESS`, `end`.
fn said(e: &Sse) -> String {
    match e.kind.as_str() {
        "log" => format!(
            "log {}: {}",
            e.data["name"].as_str().unwrap(),
            e.data["message"].as_str().unwrap()
        ),
        "state" => format!(
            "state {} {}",
            e.data["name"].as_str().unwrap(),
            e.data["state"].as_str().unwrap()
        ),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn a_run_s_stream_delivers_every_record_in_order_and_resumes_after_a_disconnect() {
    let node = node_with_steps(&["Count"]).await;
    // 100 records in all, logged over about a second, so most of them are
    // shipped while their step runs.
    put_app(
        &node,
        json!({"name": "counted", "steps": [
            {"name": "a", "file": "Count", "prefix": "a", "count": 34, "output_to": ["b"]},
            {"name": "b", "file": "Count", "prefix": "b", "count": 33, "output_to": ["c"]},
            {"name": "c", "file": "Count", "prefix": "c", "count": 33}]}),
    )
    .await;
    let run = start_run_now(&node, "counted").await;
    let id = id_of(&run).to_string();

    // Followed live from the start, the connection dropped after 20 events
    // and opened again from the last id received.
    let mut live = events(&node, &id, None, Some(20)).await;
    assert_eq!(live.len(), 20);
    let last_id = live.last().unwrap().id.clone().expect("every event has an id");
    live.extend(events(&node, &id, Some(&last_id), None).await);

    let expected: Vec<String> = [("a", 34), ("b", 33), ("c", 33)]
        .iter()
        .flat_map(|(step, n)| {
            (0..*n)
                .map(move |i| format!("log {step}: {step} {i}"))
                .chain(std::iter::once(format!("state {step} SUCCESS")))
        })
        .chain(["state counted SUCCESS".to_string(), "end".to_string()])
        .collect();
    // Every record once, in order; each step's success after its records,
    // the run's after its steps. (Earlier states of each step — PENDING,
    // STARTED — come in between, as they happened.)
    let seen: Vec<String> = live
        .iter()
        .map(said)
        .filter(|s| s.starts_with("log") || s.ends_with("SUCCESS") || s == "end")
        .collect();
    assert_eq!(seen, expected);
    // Ids are positions: each event but the end (which changes nothing)
    // has a new one.
    let ids: Vec<&str> = live
        .iter()
        .filter(|e| e.kind != "end")
        .map(|e| e.id.as_deref().unwrap())
        .collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");

    // Opened again after the run ended, the stream tells the whole story
    // the same way, and resuming from any of its events gives the rest.
    let whole = events(&node, &id, None, None).await;
    let whole_said: Vec<String> = whole
        .iter()
        .map(said)
        .filter(|s| !s.contains("PENDING"))
        .collect();
    assert!(
        whole_said.ends_with(&expected[expected.len() - 2..]),
        "{whole_said:?}"
    );
    for k in [0, 37, whole.len() - 2] {
        let rest = events(&node, &id, whole[k].id.as_deref(), None).await;
        assert_eq!(rest, whole[k + 1..], "resumed after event {k}");
    }

    // A position that is not one of this stream's is refused, saying why.
    let resp = is_tests::http_client()
        .get(node.url(&format!("/api/v1/tasks/{id}/events")))
        .basic_auth("isadmin", Some(PASSWORD))
        .header("Last-Event-ID", "c1-3S1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["details"][0].as_str().unwrap().contains("Last-Event-ID"),
        "{body}"
    );
}

#[tokio::test]
async fn a_running_step_s_records_are_readable_and_a_revoked_step_keeps_them() {
    let node = node_with_steps(&["Chatty"]).await;
    let markers = Markers::new().unwrap();
    put_app(
        &node,
        json!({"name": "chat", "steps": [{"name": "talk", "file": "Chatty",
            "first_after": markers.path("first"), "second_after": markers.path("second")}]}),
    )
    .await;
    let run = start_run_now(&node, "chat").await;
    markers.set("first").unwrap();
    // The step logged "first" and waits: its status shows the record
    // while it is still running.
    let task = poll(DEADLINE, async || {
        let task = step_task(&node, &run, "talk").await;
        Ok(if log_messages(&task) == ["first"] {
            Progress::Done(task)
        } else {
            Progress::NotYet(task.to_string())
        })
    })
    .await
    .unwrap();
    assert_eq!(task["state"], "STARTED", "{task}");

    let (status, revoked) = node
        .rest("POST", &format!("/api/v1/tasks/{}/revoke", id_of(&run)), None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{revoked}");
    let task = step_task(&node, &run, "talk").await;
    assert_eq!(task["state"], "REVOKED", "{task}");
    assert_eq!(
        log_messages(&task),
        ["first"],
        "the revoked step keeps what it logged"
    );
    // The stream of the revoked run tells the same.
    let told: Vec<String> = events(&node, id_of(&run), None, None)
        .await
        .iter()
        .map(said)
        .collect();
    assert!(told.contains(&"log talk: first".to_string()), "{told:?}");
    assert_eq!(told.last().map(String::as_str), Some("end"), "{told:?}");
}
