//! Applying the schedule commands: a schedule put (keeping its slot state
//! unless the command resets it), deleted, and each slot decided once.
//!
//! **Invariant:** a slot is recorded at most once: a `ScheduleSlot` for a
//! slot at or before the schedule's `last_slot_ms` changes nothing, so two
//! leaders (or a retried proposal) can never fire it twice; the run it
//! fires is created in the same entry that records it.

use super::content::{ignored, task_result, Content, DocKey, StoreOp};
use super::CommandResult;
use crate::model::run::RunSpec;
use crate::model::schedule::{Schedule, SlotOutcome, SlotRecord};

/// What the leader decided for one due slot.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum SlotDecision {
    /// Create this run (unless overlap `skip` finds the previous one unfinished).
    Fire(Box<RunSpec>),
    /// The run could not be planned.
    Refused { reason: String },
    /// The slots up to `until_ms` were not fired in time.
    Missed {
        until_ms: u64,
        count: u64,
        reason: String,
    },
}

impl Content {
    pub(super) fn put_schedule(&mut self, mut schedule: Schedule, reset_slots: bool) -> CommandResult {
        let id = schedule.id.clone();
        let replaced = match self.schedules.remove(&id) {
            Some(old) => {
                if reset_slots {
                    schedule.state.history = old.state.history;
                    schedule.state.last_fire_ms = old.state.last_fire_ms;
                    schedule.state.last_run = old.state.last_run;
                } else {
                    schedule.state = old.state;
                }
                true
            }
            None => false,
        };
        self.schedules.insert(id.clone(), schedule);
        self.ops.push(StoreOp::Doc(DocKey::Schedule(id)));
        CommandResult::Stored { replaced }
    }

    pub(super) fn delete_schedule(&mut self, id: &str) -> CommandResult {
        self.ops.push(StoreOp::Doc(DocKey::Schedule(id.to_string())));
        CommandResult::Deleted {
            existed: self.schedules.remove(id).is_some(),
        }
    }

    /// Removes the schedules a SyncPack created.
    pub(super) fn delete_owned_schedules(&mut self, pack: &str) {
        let owned: Vec<String> = self
            .schedules
            .values()
            .filter(|s| s.owner.as_deref() == Some(pack))
            .map(|s| s.id.clone())
            .collect();
        for id in owned {
            self.delete_schedule(&id);
        }
    }

    pub(super) fn decide_slot(&mut self, id: &str, slot_ms: u64, decision: SlotDecision) -> CommandResult {
        let Some(schedule) = self.schedules.get(id) else {
            return ignored(format!("no schedule {id}"));
        };
        if !schedule.enabled {
            return ignored(format!("schedule {id} is disabled"));
        }
        if schedule.state.last_slot_ms.is_some_and(|last| last >= slot_ms) {
            return ignored(format!("slot {slot_ms} of schedule {id} is already decided"));
        }
        let running = schedule
            .state
            .last_run
            .as_ref()
            .filter(|run| self.runs.get(*run).is_some_and(|r| !r.run.state.is_terminal()))
            .cloned();
        let skip = schedule.overlap == crate::model::schedule::Overlap::Skip;
        let outcome = match decision {
            SlotDecision::Fire(_) if skip && running.is_some() => SlotOutcome::Skipped {
                reason: format!(
                    "the run of the previous slot ({}) is still running (overlap: skip)",
                    running.unwrap_or_default()
                ),
            },
            SlotDecision::Fire(spec) => {
                let run_id = spec.id.clone();
                self.create_run(*spec);
                SlotOutcome::Fired { run_id }
            }
            SlotDecision::Refused { reason } => SlotOutcome::Refused { reason },
            SlotDecision::Missed {
                until_ms,
                count,
                reason,
            } => SlotOutcome::Missed {
                until_ms,
                count,
                reason,
            },
        };
        if let Some(s) = self.schedules.get_mut(id) {
            s.state.record(SlotRecord { slot_ms, outcome });
        }
        self.ops.push(StoreOp::Doc(DocKey::Schedule(id.to_string())));
        task_result(true, None)
    }
}
