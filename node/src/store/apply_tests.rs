//! Tests of applying commands to the replicated content: bootstrap, puts
//! and deletes, runs driven through the engine, batches, revocation, purge.

use super::*;
use crate::engine::TaskEvent;
use crate::model::run::RunSpec;
use crate::model::task::TaskState;
use crate::model::user::User;
use crate::store::content::StoreOp;

fn admin(hash: &str) -> User {
    User {
        name: "isadmin".into(),
        password_hash: hash.into(),
        role: Some(crate::model::user::Role::Administrator),
    }
}

#[test]
fn bootstrap_happens_once() {
    let mut c = Content::default();
    let first = c.apply(Command::Bootstrap {
        cluster_id: "a".into(),
        cluster_key: vec![1; 32],
        admin: admin("h1"),
    });
    assert_eq!(first, CommandResult::Bootstrapped { already: false });
    let second = c.apply(Command::Bootstrap {
        cluster_id: "b".into(),
        cluster_key: vec![2; 32],
        admin: admin("h2"),
    });
    assert_eq!(second, CommandResult::Bootstrapped { already: true });
    assert_eq!(c.cluster.as_ref().unwrap().cluster_key, vec![1; 32]);
    assert_eq!(c.users["isadmin"].password_hash, "h1");
}

#[test]
fn put_reports_replacement_and_delete_reports_existence() {
    let mut c = Content::default();
    let put = |c: &mut Content| {
        let doc = serde_json::json!({"name": "a", "steps": [{"name": "S", "file": "F"}]});
        let app = crate::model::application::Application::validate(doc).unwrap();
        c.apply(Command::PutApplication(app))
    };
    assert_eq!(put(&mut c), CommandResult::Stored { replaced: false });
    assert_eq!(put(&mut c), CommandResult::Stored { replaced: true });
    let del = |c: &mut Content| c.apply(Command::DeleteApplication { name: "a".into() });
    assert_eq!(del(&mut c), CommandResult::Deleted { existed: true });
    assert_eq!(del(&mut c), CommandResult::Deleted { existed: false });
}

fn run_spec(app: &str) -> RunSpec {
    RunSpec::for_test("isapp-r1", app, 10)
}

fn finish(attempt: u32, ok: bool, at_ms: u64) -> TaskEvent {
    crate::engine::step_task::finished_for_test(attempt, ok, at_ms)
}

fn start(attempt: u32) -> TaskEvent {
    TaskEvent::Started {
        attempt,
        worker: "w".into(),
        at_ms: 20,
    }
}

#[test]
fn a_finished_step_queues_the_next_in_the_same_entry() {
    let mut c = Content::default();
    c.apply(Command::create_run(run_spec(
        r#"{"name": "a", "steps": [{"name": "A", "file": "F", "x": 1, "output_to": ["B"]},
                                  {"name": "B", "file": "G", "retry_max": 1, "retry_countdown": 2}]}"#,
    )));
    assert_eq!(
        c.effects.drain(..).collect::<Vec<_>>(),
        vec![Effect::Ready {
            task_id: "r1-0".into(),
            queue: "q".into(),
            not_before_ms: None
        }]
    );
    assert_eq!(
        serde_json::Value::Object(c.tasks["r1-0"].spec.params.clone()),
        serde_json::json!({"x": 1})
    );
    assert_eq!(c.tasks["r1-1"].spec.class_name, "G");
    assert!(!c.tasks["r1-1"].ready);
    // The first step waits from the run's creation; the second from its
    // upstream's end, known once applied or handed over ahead of it.
    assert_eq!(c.ready_since_ms(&c.tasks["r1-0"], None), Some(10));
    assert_eq!(c.ready_since_ms(&c.tasks["r1-1"], None), None);
    assert_eq!(c.ready_since_ms(&c.tasks["r1-1"], Some(25)), Some(25));

    c.apply(Command::Task {
        id: "r1-0".into(),
        event: start(1),
    });
    assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Started);
    c.apply(Command::Task {
        id: "r1-0".into(),
        event: finish(1, true, 30),
    });
    assert!(c.tasks["r1-1"].ready);
    assert_eq!(c.effects.len(), 1);
    c.effects.clear();
    assert_eq!(c.ready_since_ms(&c.tasks["r1-1"], None), Some(30));
    assert_eq!(c.ready_since_ms(&c.tasks["r1-0"], None), None, "not waiting");

    // B fails once: RETRY at 30 + 2 s, then succeeds; the run is done.
    c.apply(Command::Task {
        id: "r1-1".into(),
        event: start(1),
    });
    c.apply(Command::Task {
        id: "r1-1".into(),
        event: finish(1, false, 40),
    });
    assert_eq!(c.tasks["r1-1"].state, TaskState::Retry);
    assert_eq!(c.ready_since_ms(&c.tasks["r1-1"], None), Some(2040));
    assert!(c.finished.runs.is_empty() && c.finished.tasks.is_empty());
    assert_eq!(
        c.effects.drain(..).collect::<Vec<_>>(),
        vec![Effect::Ready {
            task_id: "r1-1".into(),
            queue: "q".into(),
            not_before_ms: Some(2040)
        }]
    );
    c.apply(Command::Task {
        id: "r1-1".into(),
        event: start(2),
    });
    c.apply(Command::Task {
        id: "r1-1".into(),
        event: finish(2, true, 50),
    });
    assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Success);
    assert_eq!(c.runs["isapp-r1"].end_ms, Some(50));
    // Counted once, with its steps, by the entry that ended it.
    let ok = ("a".to_string(), "SUCCESS");
    assert_eq!(c.finished.runs, [(ok.clone(), 1)].into());
    assert_eq!(c.finished.tasks, [(ok, 2)].into());
}

#[test]
fn a_batch_applies_in_order_and_notes_every_changed_task_and_run() {
    let mut c = Content::default();
    let mut changed = Vec::new();
    let result = c.apply_noting(
        Command::Batch(vec![
            Command::create_run(run_spec(
                r#"{"name": "a", "steps": [{"name": "A", "file": "F"}]}"#,
            )),
            Command::Task {
                id: "r1-0".into(),
                event: start(1),
            },
            Command::Task {
                id: "r1-0".into(),
                event: finish(1, true, 30),
            },
            Command::Task {
                id: "r1-0".into(),
                event: finish(1, true, 31),
            },
        ]),
        &mut changed,
    );
    let CommandResult::Batch(results) = result else {
        panic!("a batch answers a batch: {result:?}");
    };
    assert_eq!(results.len(), 4);
    assert!(matches!(results[2], CommandResult::Task { changed: true, .. }));
    assert!(
        matches!(results[3], CommandResult::Task { changed: false, .. }),
        "the second outcome of attempt 1 comes after the first: {:?}",
        results[3]
    );
    assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Success);
    // The task command was looked at after the run existed, so the run's
    // watchers are woken by its outcome.
    assert_eq!(changed.iter().filter(|id| *id == "isapp-r1").count(), 5);
    assert!(changed.iter().any(|id| id == "r1-0"));
}

#[test]
fn revoking_a_run_cancels_its_ready_steps_and_purge_is_handed_to_the_store() {
    let mut c = Content::default();
    c.apply(Command::create_run(run_spec(
        r#"{"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["B"]}, {"name": "B", "file": "F"}]}"#,
    )));
    c.effects.clear();
    c.apply(Command::RevokeRun {
        id: "isapp-r1".into(),
        at_ms: 99,
    });
    assert_eq!(
        c.effects,
        vec![Effect::Cancel {
            task_id: "r1-0".into()
        }]
    );
    assert_eq!(c.tasks["r1-1"].state, TaskState::Revoked);
    assert_eq!(c.runs["isapp-r1"].run.state, TaskState::Revoked);
    assert_eq!(c.runs["isapp-r1"].end_ms, Some(99));
    let revoked = ("a".to_string(), "REVOKED");
    assert_eq!(c.finished.runs, [(revoked.clone(), 1)].into());
    assert_eq!(c.finished.tasks, [(revoked, 2)].into());
    // Finished runs are forgotten by the disk store (`disk::tests`); the
    // content hands the expiry on.
    c.ops.clear();
    c.apply(Command::Purge { before_ms: 100 });
    assert_eq!(c.ops, vec![StoreOp::Purge { before_ms: 100 }]);
}

#[test]
fn a_run_is_planned_from_the_content_as_it_is_and_refused_with_every_reason() {
    use crate::model::run::{RunOrigin, MAX_TRIGGER_DEPTH};
    use crate::store::queries::RunRefusal;
    let mut c = Content::default();
    c.apply(Command::PutStep(
        crate::model::step::StepRecord::validate("F", "class F: pass").unwrap(),
    ));
    let app = |json: serde_json::Value| {
        Command::PutApplication(crate::model::application::Application::validate(json).unwrap())
    };
    c.apply(app(
        serde_json::json!({"name": "a", "steps": [{"name": "S", "file": "F"}]}),
    ));
    c.apply(app(
        serde_json::json!({"name": "b", "steps": [{"name": "S", "file": "Missing"}]}),
    ));
    let link = |run: &str| crate::model::run::ParentLink {
        run_id: run.to_string(),
        task_id: format!("{}-0", run.trim_start_matches("isapp-")),
        step_name: "S".into(),
        blocking: false,
    };
    let plan = |c: &Content, name: &str, params: serde_json::Value, origin: RunOrigin| {
        let params = params.as_object().cloned().unwrap_or_default();
        c.plan_run(format!("isapp-{name}"), name, params, origin, 5)
    };

    let spec = plan(&c, "a", serde_json::json!({"queue": "q1"}), RunOrigin::by("USER")).unwrap();
    assert_eq!((spec.queue.as_str(), spec.depth, spec.created_ms), ("q1", 0, 5));
    assert_eq!(
        plan(&c, "nope", serde_json::json!({}), RunOrigin::by("USER")),
        Err(RunRefusal::NoApplication("nope".into()))
    );
    match plan(&c, "b", serde_json::json!({"queue": 7}), RunOrigin::by("USER")) {
        Err(RunRefusal::Problems { problems, .. }) => assert_eq!(problems.len(), 2, "{problems:?}"),
        other => panic!("{other:?}"),
    }

    // A child is one deeper than its parent, up to the limit.
    let mut parent = spec;
    for _ in 0..MAX_TRIGGER_DEPTH {
        c.apply(Command::create_run(parent.clone()));
        let origin = RunOrigin::child_of(link(&parent.id));
        let mut child = plan(&c, "a", serde_json::json!({}), origin).unwrap();
        assert_eq!(child.depth, parent.depth + 1);
        child.id = format!("isapp-{}", child.depth);
        parent = child;
    }
    c.apply(Command::create_run(parent.clone()));
    let origin = RunOrigin::child_of(link(&parent.id));
    assert_eq!(
        plan(&c, "a", serde_json::json!({}), origin),
        Err(RunRefusal::TooDeep {
            parent: parent.id.clone()
        })
    );
}

#[test]
fn revoking_a_run_revokes_the_children_its_steps_wait_for_and_notes_them() {
    use crate::model::run::ParentLink;
    let mut c = Content::default();
    let app = r#"{"name": "a", "steps": [{"name": "A", "file": "F"}]}"#;
    c.apply(Command::create_run(RunSpec::for_test("isapp-p", app, 10)));
    let child = |id: &str, parent: &str, blocking: bool| {
        let mut spec = RunSpec::for_test(id, app, 11);
        spec.parent = Some(ParentLink {
            run_id: parent.into(),
            task_id: format!("{}-0", parent.trim_start_matches("isapp-")),
            step_name: "A".into(),
            blocking,
        });
        Command::create_run(spec)
    };
    c.apply(child("isapp-waited", "isapp-p", true));
    c.apply(child("isapp-grandchild", "isapp-waited", true));
    c.apply(child("isapp-detached", "isapp-p", false));
    let children: Vec<&str> = c.runs["isapp-p"]
        .children
        .iter()
        .map(|l| l.run_id.as_str())
        .collect();
    assert_eq!(children, ["isapp-waited", "isapp-detached"]);

    let mut changed = Vec::new();
    c.apply_noting(
        Command::RevokeRun {
            id: "isapp-p".into(),
            at_ms: 50,
        },
        &mut changed,
    );
    for (run, state) in [
        ("isapp-p", TaskState::Revoked),
        ("isapp-waited", TaskState::Revoked),
        ("isapp-grandchild", TaskState::Revoked),
        ("isapp-detached", TaskState::Pending),
    ] {
        let record = c.any_run(run).unwrap();
        assert_eq!(
            record.run.state.is_terminal(),
            state == TaskState::Revoked,
            "{run}"
        );
    }
    assert!(changed.contains(&"isapp-grandchild".to_string()), "{changed:?}");
    assert!(!changed.contains(&"isapp-detached".to_string()), "{changed:?}");
}

#[test]
fn each_schedule_slot_is_recorded_once_and_overlap_skip_is_recorded() {
    use crate::model::schedule::{Overlap, Schedule, SlotOutcome, SlotState, Trigger};
    use crate::store::schedules::SlotDecision;
    let mut c = Content::default();
    let schedule = Schedule {
        id: "sched-1".into(),
        entry_id: "e".into(),
        application_id: "a".into(),
        params: Default::default(),
        enabled: true,
        overlap: Overlap::Skip,
        trigger: Trigger::Every { every_ms: 1000 },
        schedule_doc: serde_json::Value::Null,
        owner: None,
        state: SlotState::default(),
    };
    c.apply(Command::PutSchedule {
        schedule: schedule.clone(),
        reset_slots: true,
    });
    let app = r#"{"name": "a", "steps": [{"name": "A", "file": "F"}]}"#;
    let fire = |id: &str, slot: u64| Command::ScheduleSlot {
        id: "sched-1".into(),
        slot_ms: slot,
        decision: SlotDecision::Fire(Box::new(RunSpec::for_test(id, app, slot))),
    };
    assert!(matches!(
        c.apply(fire("isapp-1", 1000)),
        CommandResult::Task { changed: true, .. }
    ));
    // The same slot again (another leader, a retry) changes nothing.
    assert!(matches!(
        c.apply(fire("isapp-dup", 1000)),
        CommandResult::Task { changed: false, .. }
    ));
    assert!(!c.runs.contains_key("isapp-dup"));
    // The first run is unfinished: the next slot is skipped, and says why.
    c.apply(fire("isapp-2", 2000));
    assert!(!c.runs.contains_key("isapp-2"));
    let history = &c.schedules["sched-1"].state.history;
    assert_eq!(history.len(), 2);
    assert!(matches!(&history[1].outcome, SlotOutcome::Skipped { reason } if reason.contains("isapp-1")));
    // Replacing the schedule keeps its slots unless told to reset them;
    // disabled, it records nothing.
    let mut disabled = schedule;
    disabled.enabled = false;
    c.apply(Command::PutSchedule {
        schedule: disabled,
        reset_slots: false,
    });
    assert_eq!(c.schedules["sched-1"].state.last_slot_ms, Some(2000));
    assert!(matches!(
        c.apply(fire("isapp-3", 3000)),
        CommandResult::Task { changed: false, .. }
    ));
}

#[test]
fn work_in_flight_counts_ready_tasks_by_queue_and_started_ones_by_worker() {
    let mut c = Content::default();
    // A and C are ready at once; B waits for A, so it is not counted.
    c.apply(Command::create_run(run_spec(
        r#"{"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["B"]},
                                  {"name": "B", "file": "F"}, {"name": "C", "file": "F"}]}"#,
    )));
    let work = c.work_in_flight();
    assert_eq!(work.pending_by_queue, [("q".to_string(), 2)].into());
    assert!(work.started_by_worker.is_empty());
    c.apply(Command::Task {
        id: "r1-0".into(),
        event: start(1),
    });
    let work = c.work_in_flight();
    assert_eq!(work.pending_by_queue, [("q".to_string(), 1)].into());
    assert_eq!(work.started_by_worker, [("w".to_string(), 1)].into());
    c.apply(Command::Task {
        id: "r1-0".into(),
        event: finish(1, true, 30),
    });
    // A is done and B became ready: two wait, nothing runs.
    let work = c.work_in_flight();
    assert_eq!(work.pending_by_queue, [("q".to_string(), 2)].into());
    assert!(work.started_by_worker.is_empty());
}
