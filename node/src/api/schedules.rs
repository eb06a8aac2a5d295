//! Schedule operations (DESIGN 4.2, 4.10): create or replace by `entry_id`,
//! list, show, change some fields, delete; the entries answered with their
//! next and last fire and recent history. Also the schedules a SyncPack's
//! `meta.json` declares, put in the same entry as its activation.

use serde_json::{json, Map, Value};

use super::views::secs;
use super::{ApiError, Service};
use crate::engine::schedule::{check_cron, next_fire, preview as engine_preview};
use crate::model::schedule::{Schedule, ScheduleDoc, SlotOutcome, SlotState, Trigger};
use crate::model::ModelError;
use crate::store::{Command, CommandResult};
use crate::util::now_ms;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no schedule {id:?} (list them with GET /api/v1/schedule)"
    ))
}

/// The answer for one schedule.
pub fn entry(s: &Schedule) -> Value {
    let history: Vec<Value> = s
        .state
        .history
        .iter()
        .map(|r| match &r.outcome {
            SlotOutcome::Fired { run_id } => {
                json!({"slot": secs(r.slot_ms), "outcome": "fired", "run_id": run_id})
            }
            SlotOutcome::Skipped { reason } => {
                json!({"slot": secs(r.slot_ms), "outcome": "skipped", "reason": reason})
            }
            SlotOutcome::Refused { reason } => {
                json!({"slot": secs(r.slot_ms), "outcome": "refused", "reason": reason})
            }
            SlotOutcome::Missed {
                until_ms,
                count,
                reason,
            } => json!({"slot": secs(r.slot_ms), "outcome": "missed", "reason": reason, "count": count,
                         "until": secs(*until_ms)}),
        })
        .collect();
    json!({
        "id": s.id,
        "entry_id": s.entry_id,
        "application_id": s.application_id,
        "enabled": s.enabled,
        "overlap": s.overlap.as_str(),
        "params": s.params,
        "schedule": s.schedule_doc,
        "owner": s.owner.as_ref().map(|p| json!({"syncpack": p})),
        "next_fire": next_fire(s).map(secs),
        "last_fire": s.state.last_fire_ms.map(secs),
        "history": history,
    })
}

/// The document a schedule was made from (what an update starts from).
fn document(s: &Schedule) -> Map<String, Value> {
    let mut doc = Map::new();
    doc.insert("application_id".into(), json!(s.application_id));
    doc.insert("entry_id".into(), json!(s.entry_id));
    doc.insert("params".into(), Value::Object(s.params.clone()));
    doc.insert("enabled".into(), json!(s.enabled));
    doc.insert("overlap".into(), json!(s.overlap.as_str()));
    doc.insert("schedule".into(), s.schedule_doc.clone());
    doc
}

/// A checked document made into a schedule: `old` gives the id, owner and
/// slot state to keep. Answers it and whether its slots count afresh.
pub fn schedule_of(
    doc: ScheduleDoc,
    old: Option<&Schedule>,
    owner: Option<String>,
    now: u64,
) -> (Schedule, bool) {
    let reset = old.is_none_or(|o| o.trigger != doc.trigger || (doc.enabled && !o.enabled));
    let schedule = Schedule {
        id: old.map_or_else(|| format!("sched-{}", uuid::Uuid::new_v4()), |o| o.id.clone()),
        entry_id: doc.entry_id,
        application_id: doc.application_id,
        params: doc.params,
        enabled: doc.enabled,
        overlap: doc.overlap,
        trigger: doc.trigger,
        schedule_doc: doc.schedule_doc,
        owner,
        state: SlotState {
            anchor_ms: now,
            ..Default::default()
        },
    };
    (schedule, reset)
}

pub fn parse(doc: &Value) -> Result<ScheduleDoc, ApiError> {
    Ok(ScheduleDoc::parse(doc, check_cron)?)
}

/// Fire times a preview answers when not told, and at most.
pub const PREVIEW_DEFAULT: u32 = 5;
pub const PREVIEW_MAX: u32 = 50;

/// `POST /schedule/preview`: the first `count` slots (ms) a schedule made
/// at `now_ms` would fire, computed as the scheduler computes them
/// (`engine::schedule::preview`). `schedule` is the `schedule` part of a
/// schedule document (a whole document is read for its `schedule`), checked
/// as `POST /schedule` checks it; every problem is answered at once.
pub fn preview(schedule: &Value, count: Option<u32>, now_ms: u64) -> Result<Vec<u64>, ApiError> {
    let count = count.unwrap_or(PREVIEW_DEFAULT);
    let mut problems = Vec::new();
    if !(1..=PREVIEW_MAX).contains(&count) {
        problems.push(format!(
            "count must be from 1 to {PREVIEW_MAX}, got {count} (leave it out for {PREVIEW_DEFAULT})"
        ));
    }
    let part = match schedule.get("schedule") {
        Some(inner) if schedule.get("schedule_type").is_none() => inner,
        _ => schedule,
    };
    let trigger = match Trigger::parse(part, check_cron) {
        Ok(t) => Some(t),
        Err(ModelError::Invalid { problems: found, .. }) => {
            problems.extend(found);
            None
        }
        Err(e) => return Err(e.into()),
    };
    match trigger {
        Some(t) if problems.is_empty() => Ok(engine_preview(&t, now_ms, count as usize)),
        _ => Err(ApiError::BadRequest {
            message: format!(
                "the schedule cannot be previewed ({} problem{}); send {{\"schedule_type\": \"frequency\", \"schedule_info\": {{\"run_every\": SECONDS}}}} or {{\"schedule_type\": \"crontab\", \"schedule_info\": {{\"minute\", \"hour\", \"day_of_week\", \"day_of_month\", \"month_of_year\", \"timezone\"}}}}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ),
            details: problems,
        }),
    }
}

impl Service {
    fn schedule_by_entry(&self, entry_id: &str) -> Option<Schedule> {
        let sm = self.inner.content.read();
        sm.content
            .schedules
            .values()
            .find(|s| s.entry_id == entry_id)
            .cloned()
    }

    fn schedule(&self, id: &str) -> Result<Schedule, ApiError> {
        let sm = self.inner.content.read();
        sm.content.schedules.get(id).cloned().ok_or_else(|| not_found(id))
    }

    fn refuse_pack_schedule(s: &Schedule, what: &str) -> Result<(), ApiError> {
        match &s.owner {
            Some(pack) => Err(ApiError::Conflict(format!(
                "schedule {:?} belongs to SyncPack {pack}; {what} it by activating another version of the pack \
                 (only enabling and disabling it is allowed here)",
                s.entry_id
            ))),
            None => Ok(()),
        }
    }

    async fn store_schedule(&self, doc: ScheduleDoc, old: Option<Schedule>) -> Result<Value, ApiError> {
        {
            let sm = self.inner.content.read();
            if !sm.content.applications.contains_key(&doc.application_id) {
                return Err(ApiError::BadRequest {
                    message: format!("schedule {:?} cannot be stored", doc.entry_id),
                    details: vec![format!(
                        "no application named {:?} (upload it first; list them with GET /api/v1/applications)",
                        doc.application_id
                    )],
                });
            }
        }
        let owner = old.as_ref().and_then(|o| o.owner.clone());
        let (schedule, reset_slots) = schedule_of(doc, old.as_ref(), owner, now_ms());
        let id = schedule.id.clone();
        self.write(Command::PutSchedule {
            schedule,
            reset_slots,
        })
        .await?;
        Ok(entry(&self.schedule(&id)?))
    }

    /// `POST /schedule`: creates, or replaces the schedule with the same `entry_id`.
    pub async fn put_schedule(&self, doc: Value) -> Result<Value, ApiError> {
        let doc = parse(&doc)?;
        let old = self.schedule_by_entry(&doc.entry_id);
        if let Some(o) = &old {
            Self::refuse_pack_schedule(o, "replace")?;
        }
        self.store_schedule(doc, old).await
    }

    /// `PUT /schedule/{id}`: changes the fields `patch` gives.
    pub async fn update_schedule(&self, id: &str, patch: Value) -> Result<Value, ApiError> {
        let old = self.schedule(id)?;
        let Value::Object(patch) = patch else {
            return Err(ApiError::bad_request(
                "a schedule update must be a JSON object of the fields to change",
            ));
        };
        if patch.keys().any(|k| k != "enabled") {
            Self::refuse_pack_schedule(&old, "change")?;
        }
        let mut doc = document(&old);
        doc.extend(patch);
        let doc = parse(&Value::Object(doc))?;
        if doc.entry_id != old.entry_id && self.schedule_by_entry(&doc.entry_id).is_some() {
            return Err(ApiError::Conflict(format!(
                "another schedule has the entry_id {:?}",
                doc.entry_id
            )));
        }
        self.store_schedule(doc, Some(old)).await
    }

    pub fn list_schedules(&self) -> Value {
        let sm = self.inner.content.read();
        Value::Array(sm.content.schedules.values().map(entry).collect())
    }

    pub fn get_schedule(&self, id: &str) -> Result<Value, ApiError> {
        Ok(entry(&self.schedule(id)?))
    }

    pub async fn delete_schedule(&self, id: &str) -> Result<is_proto::v1::Deleted, ApiError> {
        Self::refuse_pack_schedule(&self.schedule(id)?, "delete")?;
        match self.write(Command::DeleteSchedule { id: id.to_string() }).await? {
            CommandResult::Deleted { existed: true } => Ok(is_proto::v1::Deleted {
                name: id.to_string(),
                deleted: true,
            }),
            _ => Err(not_found(id)),
        }
    }

    /// The commands that give SyncPack `pack` the schedules its `meta.json`
    /// lists (replacing its earlier ones by `entry_id`, removing the rest),
    /// checked before anything is activated.
    pub fn pack_schedule_commands(&self, pack: &str, meta: &Value) -> Result<Vec<Command>, ApiError> {
        let docs = meta
            .get("schedules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut problems = Vec::new();
        let mut parsed = Vec::new();
        for doc in &docs {
            match ScheduleDoc::parse(doc, check_cron) {
                Ok(d) => parsed.push(d),
                Err(e) => problems.push(format!("meta.json schedules: {e}")),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::BadRequest {
                message: format!("SyncPack {pack} declares schedules that cannot be used"),
                details: problems,
            });
        }
        let sm = self.inner.content.read();
        let owned: Vec<&Schedule> = sm
            .content
            .schedules
            .values()
            .filter(|s| s.owner.as_deref() == Some(pack))
            .collect();
        let now = now_ms();
        let mut commands = Vec::new();
        for doc in parsed {
            let old = sm.content.schedules.values().find(|s| s.entry_id == doc.entry_id);
            if let Some(o) = old.filter(|o| o.owner.as_deref() != Some(pack)) {
                return Err(ApiError::Conflict(format!(
                    "SyncPack {pack} declares the schedule {:?}, which exists and {}",
                    o.entry_id,
                    o.owner
                        .as_ref()
                        .map_or("was not made by a SyncPack".to_string(), |p| format!(
                            "belongs to SyncPack {p}"
                        ))
                )));
            }
            let (schedule, reset_slots) = schedule_of(doc, old, Some(pack.to_string()), now);
            commands.push(Command::PutSchedule {
                schedule,
                reset_slots,
            });
        }
        for stale in owned {
            let kept = commands
                .iter()
                .any(|c| matches!(c, Command::PutSchedule { schedule, .. } if schedule.id == stale.id));
            if !kept {
                commands.push(Command::DeleteSchedule { id: stale.id.clone() });
            }
        }
        Ok(commands)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(e: ApiError) -> Vec<String> {
        match e {
            ApiError::BadRequest { details, .. } => details,
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_preview_answers_increasing_fire_times_of_either_kind() {
        let now = 1_767_611_250_000; // 2026-01-05 11:07:30 UTC
        let quarter = json!({"schedule_type": "crontab", "schedule_info": {"minute": "*/15"}});
        let fires = preview(&quarter, None, now).unwrap();
        assert_eq!(fires.len(), 5);
        assert_eq!(fires[0], 1_767_611_700_000, "11:15:00");
        assert!(fires.windows(2).all(|w| w[1] - w[0] == 15 * 60_000), "{fires:?}");
        let every = json!({"schedule_type": "frequency", "schedule_info": {"run_every": 30}});
        assert_eq!(
            preview(&every, Some(2), now).unwrap(),
            vec![now + 30_000, now + 60_000]
        );
        // A whole schedule document is read for its schedule.
        let doc = json!({"application_id": "a", "schedule": every});
        assert_eq!(preview(&doc, Some(1), now).unwrap(), vec![now + 30_000]);
    }

    #[test]
    fn a_preview_names_every_problem_as_post_schedule_does() {
        let bad = json!({"schedule_type": "crontab",
            "schedule_info": {"minute": "75", "hour": ["x"], "timezone": "Mars/Olympus"}});
        let found = problems(preview(&bad, Some(51), 0).unwrap_err());
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("count must be from 1 to 50"), "{found:?}");
        assert!(found[1].contains("schedule_info.hour"), "{found:?}");
        assert!(found[2].contains("minute field \"75\""), "{found:?}");
        assert!(found[3].contains("Mars/Olympus"), "{found:?}");
        // The same document is refused the same way by POST /schedule.
        let doc = json!({"application_id": "a", "schedule": bad});
        assert_eq!(problems(parse(&doc).unwrap_err()), found[1..].to_vec());

        let found = problems(preview(&json!({"schedule_type": "hourly"}), None, 0).unwrap_err());
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("schedule_type"), "{found:?}");
        assert!(found[1].contains("schedule_info"), "{found:?}");
        let found = problems(
            preview(
                &json!({"schedule_type": "frequency", "schedule_info": {"run_every": 0}}),
                Some(0),
                0,
            )
            .unwrap_err(),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[1].contains("run_every"), "{found:?}");
    }
}
