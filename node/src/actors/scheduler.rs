//! The scheduler: on the Raft leader only, it asks `engine::schedule::due`
//! what each schedule has due now and proposes one `ScheduleSlot` per due
//! slot (a run planned with `plan_run`, or why none could be, or a range
//! of missed slots), all of one pass in one entry. Applying records each
//! slot once (`store::schedules`), so a new leader that proposes a slot its
//! predecessor already recorded changes nothing, and one that finds slots
//! past the grace period records them as missed with the reason.
//!
//! It wakes at the next slot due, or every 250 ms at the most, so a new or
//! changed schedule is seen promptly and a new leader starts within one pass.

use std::time::Duration;

use crate::engine::schedule::{due, next_fire, SlotPlan};
use crate::model::run::RunOrigin;
use crate::raft::{propose, Raft};
use crate::store::schedules::SlotDecision;
use crate::store::{Command, ContentHandle};
use crate::util::now_ms;

/// The longest the scheduler sleeps between passes.
const MAX_NAP: Duration = Duration::from_millis(250);

/// Runs forever; `grace` is how late a slot may still fire.
pub async fn run(raft: Raft, content: ContentHandle, grace: Duration) {
    loop {
        let nap = if raft.is_leader() {
            pass(&raft, &content, grace).await
        } else {
            MAX_NAP
        };
        tokio::time::sleep(nap).await;
    }
}

/// One pass: proposes what is due; answers how long to sleep.
async fn pass(raft: &Raft, content: &ContentHandle, grace: Duration) -> Duration {
    let now = now_ms();
    let (commands, next) = decisions(content, now, grace.as_millis() as u64);
    if !commands.is_empty() {
        let count = commands.len();
        if let Err(e) = propose(raft, Command::Batch(commands)).await {
            // Nothing was recorded, or it was and the next pass finds the
            // slots decided: either way the next pass is right.
            tracing::warn!(error = %e, slots = count, "cannot record due schedule slots; trying again");
            return MAX_NAP;
        }
    }
    match next {
        Some(at) if at > now => Duration::from_millis(at - now).min(MAX_NAP),
        Some(_) => Duration::ZERO,
        None => MAX_NAP,
    }
}

/// The commands for every slot due at `now`, and when the next slot is.
fn decisions(content: &ContentHandle, now: u64, grace_ms: u64) -> (Vec<Command>, Option<u64>) {
    let sm = content.read();
    let c = &sm.content;
    let mut commands = Vec::new();
    let mut next: Option<u64> = None;
    for s in c.schedules.values() {
        for plan in due(s, now, grace_ms) {
            let (slot_ms, decision) = match plan {
                SlotPlan::Fire { slot_ms } => {
                    let origin = RunOrigin::scheduled(&s.id);
                    let id = format!("isapp-{}", uuid::Uuid::new_v4());
                    let decision = match c.plan_run(id, &s.application_id, s.params.clone(), origin, now) {
                        Ok(spec) => SlotDecision::Fire(Box::new(spec)),
                        Err(e) => SlotDecision::Refused {
                            reason: e.to_string(),
                        },
                    };
                    (slot_ms, decision)
                }
                SlotPlan::Miss {
                    from_ms,
                    until_ms,
                    count,
                } => (
                    from_ms,
                    SlotDecision::Missed {
                        until_ms,
                        count,
                        reason: format!(
                            "not fired within the grace period of {} s (the cluster had no leader, or its \
                             scheduler was not running, until {})",
                            grace_ms / 1000,
                            now / 1000
                        ),
                    },
                ),
            };
            commands.push(Command::ScheduleSlot {
                id: s.id.clone(),
                slot_ms,
                decision,
            });
        }
        if let Some(at) = next_fire(s) {
            next = Some(next.map_or(at, |n| n.min(at)));
        }
    }
    (commands, next)
}
