//! Property test of the "steps start ahead of the apply" rule: over random
//! step graphs and random outcomes, the steps a worker starts ahead of
//! applying a success (`Content::ready_after_success`) are exactly the steps
//! that applying the success queues (its `Effect::Ready`s).
//!
//! A worker may also ask with a view that lags: a step it started ahead
//! ends before the success that made it ready is applied. What it starts
//! ahead then is still queued by the apply of its own success; the apply may
//! queue more (joins that also wait for the pending success), never less.

use serde_json::{json, Value};

use super::*;
use crate::engine::run::StepStatus;
use crate::engine::step_task::StartInfo;
use crate::engine::TaskEvent;
use crate::model::run::RunSpec;
use crate::model::task::Outcome;
use crate::store::{Command, Effect};

/// xorshift64*: a small deterministic generator, so a failure names a seed
/// that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A random acyclic application: edges only from lower to higher indices,
/// written either as the producer's `output_to` or the consumer's `data_from`.
fn random_app(rng: &mut Rng) -> Value {
    let n = 1 + rng.below(8) as usize;
    let mut steps: Vec<Value> = (0..n)
        .map(|i| {
            json!({"name": format!("s{i}"), "file": "F", "output_to": [], "data_from": [],
                        "retry_max": rng.below(3)})
        })
        .collect();
    for i in 0..n {
        for j in i + 1..n {
            if rng.chance(35) {
                if rng.chance(50) {
                    steps[i]["output_to"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!(format!("s{j}")));
                } else {
                    steps[j]["data_from"]
                        .as_array_mut()
                        .unwrap()
                        .push(json!(format!("s{i}")));
                }
            }
        }
    }
    json!({"name": "a", "steps": steps})
}

fn outcome_event(task: &StepTask, ok: bool, at_ms: u64) -> TaskEvent {
    TaskEvent::Finished {
        attempt: task.attempt + 1,
        started: Some(StartInfo {
            worker: "w".into(),
            at_ms,
        }),
        outcome: if ok {
            Outcome::Success {
                json: "1".into(),
                pickle: Some(vec![1]),
            }
        } else {
            Outcome::Failure {
                error: "boom".into(),
                traceback: None,
                saved: None,
            }
        },
        logs: vec![],
        at_ms,
        seed: at_ms,
    }
}

/// The tasks queued (at once) by the effects of what was just applied.
fn queued(c: &mut Content) -> Vec<String> {
    c.effects
        .drain(..)
        .filter_map(|e| match e {
            Effect::Ready {
                task_id,
                not_before_ms: None,
                ..
            } => Some(task_id),
            _ => None,
        })
        .collect()
}

/// The ids a worker starts ahead of the success of task `id`.
fn ahead_of(c: &Content, id: &str) -> Vec<String> {
    c.ready_after_success(&c.tasks[id])
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

#[test]
fn what_starts_ahead_of_a_success_is_what_applying_it_queues() {
    let (mut checked, mut started_ahead, mut lagged) = (0, 0, 0);
    for seed in 1..=3000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let app = random_app(&mut rng);
        let mut c = Content::default();
        c.apply(Command::create_run(RunSpec::for_test(
            "isapp-r",
            &app.to_string(),
            0,
        )));
        c.effects.clear();
        for step in 1..200u64 {
            let ids: Vec<String> = c.runs["isapp-r"].task_ids.clone();
            // Mostly a task that waits for a worker; sometimes any task, to
            // cover outcomes that do not apply (finished, skipped, revoked).
            let runnable: Vec<&String> = ids
                .iter()
                .filter(|id| matches!(c.tasks[*id].state, TaskState::Pending | TaskState::Retry))
                .filter(|id| c.tasks[*id].ready || c.tasks[*id].state == TaskState::Retry)
                .collect();
            let pick = if runnable.is_empty() || rng.chance(10) {
                ids[rng.below(ids.len() as u64) as usize].clone()
            } else {
                runnable[rng.below(runnable.len() as u64) as usize].clone()
            };
            if rng.chance(2) {
                c.apply(Command::RevokeRun {
                    id: "isapp-r".into(),
                    at_ms: step,
                });
                c.effects.clear();
            }
            let task = c.tasks[&pick].clone();
            // A success of a step nothing made ready only comes from a
            // worker that started it ahead, which `lagging` below covers.
            let made_ready = c.tasks[&pick].ready || c.tasks[&pick].state != TaskState::Pending;
            if rng.chance(75) {
                let ahead = ahead_of(&c, &pick);
                // A step started ahead of this success, ending before it applies.
                let lagging = ahead
                    .get(rng.below(ahead.len().max(1) as u64) as usize)
                    .filter(|_| made_ready && rng.chance(50))
                    .map(|next| (next.clone(), ahead_of(&c, next)));
                c.apply(Command::Task {
                    id: pick.clone(),
                    event: outcome_event(&task, true, step),
                });
                started_ahead += usize::from(!ahead.is_empty());
                if made_ready {
                    assert_eq!(ahead, queued(&mut c), "seed {seed}, success of {pick} in {app}");
                } else {
                    assert_eq!(
                        queued(&mut c),
                        Vec::<String>::new(),
                        "seed {seed}: {pick} was never ready"
                    );
                }
                checked += 1;
                if let Some((next, early)) = lagging {
                    let next_task = c.tasks[&next].clone();
                    c.apply(Command::Task {
                        id: next.clone(),
                        event: outcome_event(&next_task, true, step),
                    });
                    let applied = queued(&mut c);
                    let run = &c.runs["isapp-r"];
                    let index = |id: &String| run.task_ids.iter().position(|t| t == id).unwrap();
                    for d in &early {
                        assert!(
                            applied.contains(d),
                            "seed {seed}: {d} started ahead of {next}, not queued"
                        );
                    }
                    for d in applied.iter().filter(|d| !early.contains(d)) {
                        assert!(
                            run.run.steps[index(d)].upstream.contains(&index(&pick)),
                            "seed {seed}: {d} queued after {next} but not started ahead, and it does not wait for {pick}"
                        );
                    }
                    lagged += 1;
                }
            } else {
                c.apply(Command::Task {
                    id: pick,
                    event: outcome_event(&task, false, step),
                });
                c.effects.clear();
            }
            // Whatever happened, the task states and the run agree.
            let run = &c.runs["isapp-r"];
            for (i, id) in run.task_ids.iter().enumerate() {
                let (status, state) = (run.run.status[i], c.tasks[id].state);
                let agree = match status {
                    StepStatus::Waiting => state == TaskState::Pending,
                    StepStatus::Queued => matches!(state, TaskState::Pending | TaskState::Started),
                    StepStatus::Retrying => state == TaskState::Retry,
                    StepStatus::Succeeded => state == TaskState::Success,
                    StepStatus::Failed => state == TaskState::Failure,
                    StepStatus::Skipped | StepStatus::Revoked => state == TaskState::Revoked,
                };
                assert!(
                    agree,
                    "seed {seed}: step {i} is {status:?} in the run, its task {state:?}"
                );
            }
            if run.run.state.is_terminal() && rng.chance(50) {
                break;
            }
        }
    }
    assert!(
        checked > 10_000 && started_ahead > 3_000 && lagged > 1_000,
        "only {checked} successes checked, {started_ahead} with steps started ahead, {lagged} with a lagging view"
    );
}

#[test]
fn a_join_starts_ahead_only_after_its_last_upstream() {
    let mut c = Content::default();
    c.apply(Command::create_run(RunSpec::for_test(
        "isapp-r",
        r#"{"name": "a", "steps": [{"name": "A", "file": "F", "output_to": ["J"]},
                                  {"name": "B", "file": "F", "output_to": ["J"]},
                                  {"name": "J", "file": "F"}]}"#,
        0,
    )));
    let ready = |c: &Content, id: &str| c.ready_after_success(&c.tasks[id]);
    let succeed = |c: &mut Content, id: &str| {
        let task = c.tasks[id].clone();
        c.apply(Command::Task {
            id: id.into(),
            event: outcome_event(&task, true, 2),
        });
    };
    assert!(ready(&c, "r-0").is_empty(), "B has not succeeded yet");
    succeed(&mut c, "r-1");
    assert_eq!(ready(&c, "r-0"), vec![("r-2".to_string(), "q".to_string())]);
    succeed(&mut c, "r-0");
    assert!(ready(&c, "r-0").is_empty(), "J is queued already");
}
