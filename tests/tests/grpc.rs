//! The gRPC API as a client in any language sees it: the plain generated
//! client (no iscli, no JSON parsing) uploads content, runs an application
//! and reads the run's status, its steps' states and their log records as
//! typed fields, live and after the fact.

use futures_util::StreamExt;
use is_proto::json::{from_proto, to_proto_struct};
use is_proto::v1::any_task::Kind;
use is_proto::v1::task_event::Event;
use is_proto::v1::{
    GetTaskRequest, GetTaskResultRequest, Json, NameRequest, PutStepRequest, RunApplicationRequest,
    RunStepRequest, TaskState, WatchRequest,
};
use is_tests::{step_source, GrpcClient, TestNode};
use serde_json::json;

/// A fresh node with the `Say` step uploaded over gRPC, and a client.
async fn node_with_say() -> (TestNode, GrpcClient) {
    let node = TestNode::start().await.unwrap();
    let mut grpc = node.grpc().await.unwrap();
    grpc.put_step(PutStepRequest {
        name: "Say".into(),
        source: step_source("Say").unwrap(),
    })
    .await
    .unwrap();
    (node, grpc)
}

/// The step task `request` names (a step id answers a task, not a run).
async fn step_task(grpc: &mut GrpcClient, request: GetTaskRequest) -> is_proto::v1::TaskStatus {
    match grpc.get_task(request).await.unwrap().into_inner().kind {
        Some(Kind::Task(task)) => task,
        other => panic!("a step id answers a task, got {other:?}"),
    }
}

#[tokio::test]
async fn a_run_reads_as_typed_messages() {
    let (_node, mut grpc) = node_with_say().await;
    let stored = grpc
        .put_application(Json {
            json: json!({"name": "speech", "steps": [
                {"name": "opening", "file": "Say", "text": "hello", "output_to": ["closing"]},
                {"name": "closing", "file": "Say", "text": "goodbye"}]})
            .to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stored.name.as_str(), stored.result.as_str()),
        ("speech", "created")
    );

    // The step's declared parameter is a typed field.
    let info = grpc
        .get_step(NameRequest { name: "Say".into() })
        .await
        .unwrap()
        .into_inner();
    let text = info
        .parameters
        .iter()
        .find(|p| p.name == "text")
        .expect("declared");
    assert!(text.required);

    let answer = grpc
        .run_application(RunApplicationRequest {
            name: "speech".into(),
            params: Some(to_proto_struct(json!({"log_level": 10}).as_object().unwrap())),
            wait_seconds: 30,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.finished);
    let run = answer.run.expect("the run's status");
    assert!(run.id.starts_with("isapp-"), "{}", run.id);
    assert_eq!(run.state(), TaskState::Success);
    assert_eq!(run.app_name, "speech");
    assert_eq!(run.log_level, 10);
    assert!(run.end_time.is_some_and(|end| end >= run.created_time));
    let states: Vec<(&str, TaskState)> = run.steps.iter().map(|s| (s.name.as_str(), s.state())).collect();
    assert_eq!(
        states,
        [("opening", TaskState::Success), ("closing", TaskState::Success)]
    );

    // A step task: its log records and result.
    let closing = &run.steps[1];
    let task = step_task(
        &mut grpc,
        GetTaskRequest {
            id: closing.id.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(task.application_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(task.step, "Say");
    assert_eq!(task.state(), TaskState::Success);
    let logged: Vec<(&str, &str)> = task
        .logs
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    assert!(logged.contains(&("INFO", "saying goodbye")), "{logged:?}");
    assert!(logged.contains(&("WARNING", "said it")), "{logged:?}");
    let warning = task.logs.iter().find(|l| l.level == "WARNING").unwrap();
    assert_eq!(warning.levelno, 30);
    assert_eq!(
        from_proto(task.result.as_ref().expect("a result")),
        json!({"said": "goodbye"})
    );
    assert_eq!(task.attempts.len(), 1);
    assert_eq!(task.attempts[0].state(), TaskState::Success);
    assert_eq!(task.logs_total, task.logs.len() as u64);
    assert_eq!(task.logs_offset, 0);
    assert_eq!((task.result_size, task.result_href.as_deref()), (None, None));

    // One page of its log.
    let page = step_task(
        &mut grpc,
        GetTaskRequest {
            id: closing.id.clone(),
            logs_offset: 1,
            logs_limit: Some(1),
        },
    )
    .await;
    assert_eq!((page.logs_offset, page.logs_total), (1, task.logs_total));
    assert_eq!(page.logs, task.logs[1..2]);

    // Its whole result, as JSON text.
    let whole = grpc
        .get_task_result(GetTaskResultRequest {
            id: closing.id.clone(),
            format: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(whole.content_type, "application/json");
    let whole: serde_json::Value = serde_json::from_slice(&whole.data).unwrap();
    assert_eq!(whole, json!({"said": "goodbye"}));

    // The run's id answers the run.
    let again = grpc
        .get_task(GetTaskRequest {
            id: run.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(again.kind, Some(Kind::Run(r)) if r.steps.len() == 2));
}

#[tokio::test]
async fn watching_a_step_streams_typed_states_logs_and_the_end() {
    let (_node, mut grpc) = node_with_say().await;
    let started = grpc
        .run_step(RunStepRequest {
            name: "Say".into(),
            params: Some(to_proto_struct(json!({"text": "live"}).as_object().unwrap())),
            wait_seconds: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let id = started.task.expect("the task's status").id;

    let mut events = grpc
        .watch_task(WatchRequest {
            id: id.clone(),
            after: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let (mut states, mut messages, mut end) = (Vec::new(), Vec::new(), None);
    while let Some(event) = events.next().await {
        match event.unwrap().event.expect("an event") {
            Event::State(s) => {
                assert_eq!(s.id, id);
                states.push(s.state());
            }
            Event::Log(l) => {
                assert_eq!((l.id.as_str(), l.name.as_str()), (id.as_str(), "Say"));
                messages.push(l.record.expect("a record").message);
            }
            Event::End(e) => end = e.status.and_then(|s| s.kind),
        }
    }
    assert_eq!(states.last(), Some(&TaskState::Success), "{states:?}");
    // The stream starts from the task's beginning: every record, once, in order.
    assert_eq!(messages, ["saying live", "said it"]);
    match end {
        Some(Kind::Task(t)) => {
            assert_eq!(t.state(), TaskState::Success);
            let logged: Vec<&str> = t.logs.iter().map(|l| l.message.as_str()).collect();
            assert_eq!(logged, ["saying live", "said it"]);
        }
        other => panic!("the stream ends with the task's status, got {other:?}"),
    }
}
