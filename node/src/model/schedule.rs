//! Schedules (DESIGN 4.2, 4.10): the document an operator or a SyncPack
//! gives, checked into a typed `Schedule`, and the replicated record of its
//! slots (`SlotState`: the last slot decided, the last run, a bounded
//! history). When a slot is due is the engine's business (`engine::schedule`).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ModelError;
use super::lenient::bool_of;

/// Slots a schedule remembers (newest last).
pub const HISTORY: usize = 50;

/// What fires a schedule's slots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Trigger {
    /// Every `every_ms`, counted from the schedule's anchor.
    Every { every_ms: u64 },
    /// A five-field cron pattern read in `timezone` (an IANA name; UTC when None).
    Cron {
        pattern: String,
        timezone: Option<String>,
    },
}

impl Trigger {
    /// Reads the `schedule` part of a schedule document
    /// (`{"schedule_type", "schedule_info"}`) as `ScheduleDoc::parse` does,
    /// answering every problem at once.
    pub fn parse(
        schedule: &Value,
        check_cron: impl Fn(&str, Option<&str>) -> Result<(), Vec<String>>,
    ) -> Result<Trigger, ModelError> {
        let mut problems = Vec::new();
        match trigger_of(schedule, &mut problems, &check_cron) {
            Some(trigger) if problems.is_empty() => Ok(trigger),
            _ => Err(ModelError::invalid("the schedule", problems)),
        }
    }
}

/// What a due slot does while the previous run of its schedule is unfinished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Overlap {
    /// The slot is recorded as skipped (the default).
    Skip,
    /// The slot fires anyway.
    Allow,
}

impl Overlap {
    pub fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Allow => "allow",
        }
    }
}

/// A schedule as replicated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// `sched-<uuid>`, kept when the same `entry_id` is posted again.
    pub id: String,
    pub entry_id: String,
    /// The application it runs.
    pub application_id: String,
    /// The runs' params (app variables and run options).
    #[serde(with = "super::json_text")]
    pub params: Map<String, Value>,
    pub enabled: bool,
    pub overlap: Overlap,
    pub trigger: Trigger,
    /// The `schedule` part of the document as given (shown back as is).
    #[serde(with = "super::json_text")]
    pub schedule_doc: Value,
    /// The SyncPack that created it (it is deleted with the pack).
    pub owner: Option<String>,
    pub state: SlotState,
}

/// Where a schedule stands: every slot up to `last_slot_ms` is decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlotState {
    /// Slots are counted from here: creation, or the last time it was enabled.
    pub anchor_ms: u64,
    /// The newest slot decided (fired, skipped, refused or missed).
    pub last_slot_ms: Option<u64>,
    /// When a slot last fired, and its run.
    pub last_fire_ms: Option<u64>,
    pub last_run: Option<String>,
    pub history: VecDeque<SlotRecord>,
}

/// How one slot (or a range of missed ones) was decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotRecord {
    pub slot_ms: u64,
    pub outcome: SlotOutcome,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SlotOutcome {
    Fired {
        run_id: String,
    },
    /// The previous run was unfinished (overlap `skip`).
    Skipped {
        reason: String,
    },
    /// The run could not be created (its application is gone or cannot run).
    Refused {
        reason: String,
    },
    /// `count` slots from `slot_ms` to `until_ms` were not fired in time.
    Missed {
        until_ms: u64,
        count: u64,
        reason: String,
    },
}

impl SlotState {
    /// Records a decided slot, keeping the newest [`HISTORY`].
    pub fn record(&mut self, record: SlotRecord) {
        let last = match &record.outcome {
            SlotOutcome::Missed { until_ms, .. } => *until_ms,
            _ => record.slot_ms,
        };
        if let SlotOutcome::Fired { run_id } = &record.outcome {
            self.last_fire_ms = Some(record.slot_ms);
            self.last_run = Some(run_id.clone());
        }
        self.last_slot_ms = Some(last);
        self.history.push_back(record);
        while self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }
}

/// A schedule document checked, before an id and a state are given to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleDoc {
    pub entry_id: String,
    pub application_id: String,
    pub params: Map<String, Value>,
    pub enabled: bool,
    pub overlap: Overlap,
    pub trigger: Trigger,
    pub schedule_doc: Value,
}

/// The cron fields of `schedule_info`, in pattern order.
const CRON_FIELDS: [&str; 5] = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"];

impl ScheduleDoc {
    /// Reads a schedule document, answering every problem at once.
    /// `check_cron` checks a pattern and a time zone (the engine owns cron).
    pub fn parse(
        doc: &Value,
        check_cron: impl Fn(&str, Option<&str>) -> Result<(), Vec<String>>,
    ) -> Result<ScheduleDoc, ModelError> {
        let mut problems = Vec::new();
        let Some(obj) = doc.as_object() else {
            return Err(ModelError::invalid(
                "schedule",
                vec!["a schedule must be a JSON object".into()],
            ));
        };
        let text = |key: &str, problems: &mut Vec<String>| match obj.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            None | Some(Value::Null) => {
                problems.push(format!("\"{key}\" is required"));
                String::new()
            }
            Some(other) => {
                problems.push(format!("\"{key}\" must be a non-empty string, got {other}"));
                String::new()
            }
        };
        let application_id = text("application_id", &mut problems);
        let entry_id = match obj.get("entry_id") {
            None | Some(Value::Null) => application_id.clone(),
            _ => text("entry_id", &mut problems),
        };
        if let Some(why) = super::names::name_problem(&entry_id).filter(|_| !entry_id.is_empty()) {
            problems.push(format!("\"entry_id\" {why}, got {entry_id:?}"));
        }
        let params = match obj.get("params") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(other) => {
                problems.push(format!("\"params\" must be an object, got {other}"));
                Map::new()
            }
        };
        let enabled = match obj.get("enabled") {
            None | Some(Value::Null) => true,
            Some(v) => bool_of(v).unwrap_or_else(|| {
                problems.push(format!("\"enabled\" must be true or false, got {v}"));
                true
            }),
        };
        let overlap = match obj.get("overlap").and_then(Value::as_str) {
            None if obj.get("overlap").is_none_or(Value::is_null) => Overlap::Skip,
            Some("skip") => Overlap::Skip,
            Some("allow") => Overlap::Allow,
            _ => {
                problems.push(format!(
                    "\"overlap\" must be \"skip\" or \"allow\", got {}",
                    obj.get("overlap").cloned().unwrap_or(Value::Null)
                ));
                Overlap::Skip
            }
        };
        let schedule_doc = obj.get("schedule").cloned().unwrap_or(Value::Null);
        let trigger = trigger_of(&schedule_doc, &mut problems, &check_cron);
        match trigger {
            Some(trigger) if problems.is_empty() => Ok(ScheduleDoc {
                entry_id,
                application_id,
                params,
                enabled,
                overlap,
                trigger,
                schedule_doc,
            }),
            _ => Err(ModelError::invalid(format!("schedule {entry_id:?}"), problems)),
        }
    }
}

fn trigger_of(
    schedule: &Value,
    problems: &mut Vec<String>,
    check_cron: &impl Fn(&str, Option<&str>) -> Result<(), Vec<String>>,
) -> Option<Trigger> {
    let Some(obj) = schedule.as_object() else {
        problems.push(
            "\"schedule\" is required: {\"schedule_type\": \"frequency\" or \"crontab\", \"schedule_info\": {...}}".into(),
        );
        return None;
    };
    let kind = obj.get("schedule_type").and_then(Value::as_str);
    if !matches!(kind, Some("frequency" | "crontab")) {
        problems.push(format!(
            "\"schedule.schedule_type\" must be \"frequency\" or \"crontab\", got {}",
            obj.get("schedule_type")
                .map_or("nothing".to_string(), Value::to_string)
        ));
    }
    let Some(info) = obj.get("schedule_info").and_then(Value::as_object) else {
        problems.push("\"schedule.schedule_info\" must be an object".into());
        return None;
    };
    match kind {
        Some("frequency") => every_of(info, problems),
        Some("crontab") => cron_of(info, problems, check_cron),
        _ => None,
    }
}

fn every_of(info: &Map<String, Value>, problems: &mut Vec<String>) -> Option<Trigger> {
    let every = info.get("run_every").and_then(|v| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    match every {
        Some(s) if (0.1..=366.0 * 86_400.0).contains(&s) => Some(Trigger::Every {
            every_ms: (s * 1000.0).round() as u64,
        }),
        _ => {
            problems.push(format!(
                "\"schedule_info.run_every\" must be a number of seconds from 0.1 to a year, got {}",
                info.get("run_every").cloned().unwrap_or(Value::Null)
            ));
            None
        }
    }
}

/// A crontab's fields, each problem named: a field of the wrong type is
/// read as `*` so that the others are still checked.
fn cron_of(
    info: &Map<String, Value>,
    problems: &mut Vec<String>,
    check_cron: &impl Fn(&str, Option<&str>) -> Result<(), Vec<String>>,
) -> Option<Trigger> {
    let mut usable = true;
    let mut fields = Vec::with_capacity(CRON_FIELDS.len());
    for key in CRON_FIELDS {
        match info.get(key) {
            None | Some(Value::Null) => fields.push("*".to_string()),
            Some(Value::String(s)) if !s.trim().is_empty() && !s.trim().contains(char::is_whitespace) => {
                fields.push(s.trim().to_string())
            }
            Some(Value::Number(n)) => fields.push(n.to_string()),
            Some(other) => {
                problems.push(format!(
                    "\"schedule_info.{key}\" must be one cron field (such as \"*/15\" or \"1-5\"), got {other}"
                ));
                fields.push("*".to_string());
                usable = false;
            }
        }
    }
    let timezone = match info.get("timezone") {
        None | Some(Value::Null) => None,
        Some(Value::String(tz)) if !tz.trim().is_empty() => Some(tz.trim().to_string()),
        Some(other) => {
            problems.push(format!(
                "\"schedule_info.timezone\" must be a time zone name such as \"Europe/Paris\", got {other}"
            ));
            usable = false;
            None
        }
    };
    let pattern = fields.join(" ");
    if let Err(e) = check_cron(&pattern, timezone.as_deref()) {
        problems.extend(e);
        usable = false;
    }
    usable.then_some(Trigger::Cron { pattern, timezone })
}
