//! Unit tests of the dispatcher's decisions, by the actions they answer.

use super::*;

fn ready(name: &str, queues: &[&str]) -> Readiness {
    Readiness {
        name: name.into(),
        queues: queues.iter().map(|q| q.to_string()).collect(),
        finished: None,
        refused: None,
        draining: false,
    }
}

fn waiting(id: &str, queue: &str, started: bool) -> WaitingTask {
    WaitingTask {
        task_id: id.into(),
        queue: queue.into(),
        not_before_ms: None,
        started,
    }
}

/// (worker, task) of every assignment among `actions`.
fn assigned(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Assign { worker, task_id, .. } => Some((worker.clone(), task_id.clone())),
            _ => None,
        })
        .collect()
}

fn pair(w: &str, t: &str) -> (String, String) {
    (w.to_string(), t.to_string())
}

fn leader() -> DispatchQueues {
    let mut d = DispatchQueues::new(true);
    d.leadership(true, vec![], 0);
    d
}

#[test]
fn only_the_leader_hands_out_tasks() {
    let mut d = DispatchQueues::new(true);
    d.worker_ready(ready("w1", &["default"]), Some(true));
    assert!(d.enqueue("t1".into(), "default".into(), None, 0).is_empty());
    // Becoming leader does not bring back what was announced before.
    assert!(assigned(&d.leadership(true, vec![], 0)).is_empty());
    let actions = d.enqueue("t1".into(), "default".into(), None, 0);
    assert_eq!(assigned(&actions), vec![pair("w1", "t1")]);
}

#[test]
fn this_nodes_idle_workers_are_served_first_then_the_others() {
    let mut d = leader();
    d.worker_ready(ready("remote", &["default"]), Some(false));
    d.worker_ready(ready("local", &["default"]), Some(true));
    let actions = d.enqueue("t1".into(), "default".into(), None, 0);
    assert_eq!(assigned(&actions), vec![pair("local", "t1")]);
    let actions = d.enqueue("t2".into(), "default".into(), None, 0);
    assert_eq!(assigned(&actions), vec![pair("remote", "t2")]);
}

#[test]
fn a_worker_takes_the_oldest_task_of_the_first_of_its_queues_that_has_one() {
    let mut d = leader();
    for t in ["a1", "a2"] {
        d.enqueue(t.into(), "a".into(), None, 0);
    }
    d.enqueue("b1".into(), "b".into(), None, 0);
    let actions = d.worker_ready(ready("w", &["b", "a"]), Some(true));
    assert_eq!(assigned(&actions), vec![pair("w", "b1")]);
    let mut r = ready("w", &["b", "a"]);
    r.finished = Some("b1".into());
    assert_eq!(assigned(&d.worker_ready(r, Some(true))), vec![pair("w", "a1")]);
}

#[test]
fn a_task_announced_twice_is_queued_once() {
    let mut d = leader();
    d.enqueue("t1".into(), "default".into(), None, 0);
    d.enqueue("t1".into(), "default".into(), None, 0);
    assert_eq!(
        assigned(&d.worker_ready(ready("w1", &["default"]), Some(true))).len(),
        1
    );
    // Announced again while it runs: still once.
    assert!(assigned(&d.enqueue("t1".into(), "default".into(), None, 0)).is_empty());
    assert!(assigned(&d.worker_ready(ready("w2", &["default"]), Some(true))).is_empty());
}

#[test]
fn a_task_for_later_arms_a_timer() {
    let mut d = leader();
    d.worker_ready(ready("w", &["q"]), Some(true));
    let actions = d.enqueue("t".into(), "q".into(), Some(5_000), 1_000);
    assert_eq!(
        actions,
        vec![Action::EnqueueLater {
            task_id: "t".into(),
            queue: "q".into(),
            at_ms: 5_000
        }]
    );
    let actions = d.enqueue("t".into(), "q".into(), Some(5_000), 5_000);
    assert_eq!(assigned(&actions), vec![pair("w", "t")]);
}

#[test]
fn a_step_started_ahead_carries_its_handoff_and_its_apply_does_not_queue_it_again() {
    let mut d = leader();
    d.worker_ready(ready("w1", &["q"]), Some(true));
    let handoff = Handoff {
        from_task: "up".into(),
        pickle: Some(vec![1]),
        finished_ms: 0,
    };
    let actions = d.enqueue_ahead("t".into(), "q".into(), handoff.clone());
    assert_eq!(
        actions,
        vec![Action::Assign {
            worker: "w1".into(),
            task_id: "t".into(),
            queue: "q".into(),
            handoff: Some(handoff)
        }]
    );
    d.worker_ready(ready("w2", &["q"]), Some(true));
    assert!(assigned(&d.enqueue("t".into(), "q".into(), None, 0)).is_empty());
}

#[test]
fn losing_leadership_forgets_and_gaining_it_fills_from_the_replicated_state() {
    // A dispatcher restarted alone: its node's workers still run STARTED tasks.
    let mut d = DispatchQueues::new(false);
    let state = vec![waiting("p", "q", false), waiting("s", "q", true)];
    d.leadership(true, state.clone(), 0);
    d.worker_ready(ready("w1", &["q"]), Some(true));
    let actions = d.worker_ready(ready("w2", &["q"]), Some(true));
    assert_eq!(
        assigned(&actions),
        vec![],
        "p went to w1, s is not taken at the first fill"
    );
    d.leadership(false, vec![], 0);
    assert!(assigned(&d.enqueue("x".into(), "q".into(), None, 0)).is_empty());
    // A new term: everything waiting runs again, STARTED included.
    let mut d2 = DispatchQueues::new(false);
    d2.leadership(true, vec![], 0);
    d2.leadership(false, vec![], 0);
    d2.worker_ready(ready("w1", &["q"]), Some(true));
    d2.worker_ready(ready("w2", &["q"]), Some(true));
    let actions = d2.leadership(true, state, 0);
    assert_eq!(assigned(&actions), vec![pair("w1", "p"), pair("w2", "s")]);
}

#[test]
fn a_waiting_task_nobody_holds_for_a_whole_sweep_runs_again() {
    let mut d = leader();
    let state = vec![waiting("lost", "q", true)];
    assert!(
        d.sweep(state.clone(), 10).is_empty(),
        "first seen unheld: a suspect"
    );
    d.worker_ready(ready("w", &["q"]), Some(true));
    let actions = d.sweep(state, 20);
    assert_eq!(assigned(&actions), vec![pair("w", "lost")]);
}

#[test]
fn a_task_held_at_either_sweep_is_left_alone() {
    let mut d = leader();
    d.worker_ready(ready("w", &["q"]), Some(true));
    d.enqueue("t".into(), "q".into(), None, 0); // runs on w
    let state = vec![waiting("t", "q", true)];
    assert!(d.sweep(state.clone(), 10).is_empty());
    assert!(d.sweep(state, 20).is_empty());
}

#[test]
fn tasks_of_a_worker_that_left_run_again_and_its_queues_stop_being_served() {
    let mut d = leader();
    let actions = d.worker_ready(ready("w", &["q"]), Some(false));
    assert_eq!(actions, vec![Action::Served(["q".to_string()].into())]);
    d.enqueue("t".into(), "q".into(), None, 0);
    let actions = d.workers_left(&["w".to_string()].into());
    assert_eq!(
        actions,
        vec![
            Action::Served(BTreeSet::new()),
            Action::Requeue { task_id: "t".into() }
        ]
    );
}

#[test]
fn a_refused_task_is_looked_up_again() {
    let mut d = leader();
    d.worker_ready(ready("w", &["q"]), Some(false));
    d.enqueue("t".into(), "q".into(), None, 0);
    let mut r = ready("w", &["q"]);
    r.refused = Some("t".into());
    r.draining = true;
    let actions = d.worker_ready(r, Some(false));
    assert_eq!(actions, vec![Action::Requeue { task_id: "t".into() }]);
    assert!(
        assigned(&d.enqueue("t".into(), "q".into(), None, 0)).is_empty(),
        "a draining worker takes nothing"
    );
}

#[test]
fn a_cancelled_task_leaves_its_queue_and_is_stopped_where_it_runs() {
    let mut d = leader();
    d.enqueue("t".into(), "q".into(), None, 0);
    assert_eq!(d.cancel("t"), vec![Action::CancelLocal { task_id: "t".into() }]);
    assert!(assigned(&d.worker_ready(ready("w", &["q"]), Some(true))).is_empty());
}

#[test]
fn a_draining_dispatcher_hands_out_nothing() {
    let mut d = leader();
    d.drain();
    d.worker_ready(ready("w", &["q"]), Some(true));
    assert!(assigned(&d.enqueue("t".into(), "q".into(), None, 0)).is_empty());
    assert!(d.sweep(vec![waiting("x", "q", false)], 0).is_empty());
}

#[test]
fn a_task_whose_worker_vanished_goes_back_to_the_front_of_its_queue() {
    let mut d = leader();
    d.enqueue("t1".into(), "q".into(), None, 0);
    d.enqueue("t2".into(), "q".into(), None, 0);
    assert_eq!(
        assigned(&d.worker_ready(ready("gone", &["q"]), Some(true))),
        vec![pair("gone", "t1")]
    );
    d.assign_failed("t1".into(), "q".into());
    assert_eq!(
        assigned(&d.worker_ready(ready("w", &["q"]), Some(true))),
        vec![pair("w", "t1")]
    );
}
