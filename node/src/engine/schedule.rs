//! When a schedule's slots are due, sans-IO: the clock is an argument. The
//! leader's scheduler asks `due(schedule, now)` and proposes what it
//! answers; applying records each slot once (`store::schedules`), so this
//! module only decides what is due, never whether it already happened.
//!
//! Slots of a `run_every` schedule are counted from its anchor (creation,
//! or the last time it was enabled); cron slots are croner's occurrences in
//! the schedule's time zone, which follow Vixie cron across daylight-saving
//! changes (a time skipped by the clock fires right after the change; a
//! fixed time repeated by it fires once).

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

use crate::model::schedule::{Schedule, Trigger};

/// A cron pattern's fields, in order, as schedule documents name them,
/// with the values each takes.
const FIELDS: [(&str, &str); 5] = [
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day_of_month", "1-31"),
    ("month_of_year", "1-12 or JAN-DEC"),
    ("day_of_week", "0-7 or SUN-SAT, 0 and 7 both Sunday"),
];

/// Checks a five-field cron pattern and an IANA time zone name, answering
/// every problem: each field that is wrong on its own is named.
pub fn check_cron(pattern: &str, timezone: Option<&str>) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    let fields: Vec<&str> = pattern.split_whitespace().collect();
    if fields.len() != FIELDS.len() {
        problems.push(format!(
            "cron pattern {pattern:?} must have five fields: minute hour day_of_month month_of_year day_of_week"
        ));
    } else if let Err(whole) = Cron::from_str(pattern) {
        for (i, field) in fields.iter().copied().enumerate() {
            let mut alone = ["*"; 5];
            alone[i] = field;
            if let Err(e) = Cron::from_str(&alone.join(" ")) {
                let (name, values) = FIELDS[i];
                problems.push(format!(
                    "cron pattern {pattern:?}: the {name} field {field:?} is not valid ({e}); it takes {values}, \
                     a list (1,15), a range (1-5), a step (*/15) or *"
                ));
            }
        }
        // Fields fine one by one but not together: the pattern as a whole.
        if problems.is_empty() {
            problems.push(format!("cron pattern {pattern:?} is not valid: {whole}"));
        }
    }
    if let Some(tz) = timezone {
        if Tz::from_str(tz).is_err() {
            problems.push(format!(
                "unknown time zone {tz:?} (use an IANA name such as Europe/Paris)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The first slot strictly after `after_ms`.
pub fn next_slot_after(trigger: &Trigger, anchor_ms: u64, after_ms: u64) -> Option<u64> {
    match trigger {
        Trigger::Every { every_ms } => {
            let every = (*every_ms).max(1);
            let k = if after_ms < anchor_ms {
                1
            } else {
                (after_ms - anchor_ms) / every + 1
            };
            anchor_ms.checked_add(k.checked_mul(every)?)
        }
        Trigger::Cron { pattern, timezone } => {
            let cron = Cron::from_str(pattern).ok()?;
            let tz = match timezone {
                Some(name) => Tz::from_str(name).ok()?,
                None => Tz::UTC,
            };
            let after = Utc
                .timestamp_millis_opt(after_ms as i64)
                .single()?
                .with_timezone(&tz);
            let next = cron.find_next_occurrence(&after, false).ok()?;
            u64::try_from(next.timestamp_millis()).ok()
        }
    }
}

/// The next slot a schedule will fire (None when disabled).
pub fn next_fire(s: &Schedule) -> Option<u64> {
    if !s.enabled {
        return None;
    }
    next_slot_after(
        &s.trigger,
        s.state.anchor_ms,
        s.state.last_slot_ms.unwrap_or(s.state.anchor_ms),
    )
}

/// The first `count` slots of a schedule with `trigger` made at `now_ms`:
/// what the scheduler would fire (a new schedule is anchored at its
/// creation). Fewer when the pattern has no more occurrences.
pub fn preview(trigger: &Trigger, now_ms: u64, count: usize) -> Vec<u64> {
    let mut slots = Vec::with_capacity(count);
    let mut after = now_ms;
    while slots.len() < count {
        let Some(slot) = next_slot_after(trigger, now_ms, after) else {
            break;
        };
        slots.push(slot);
        after = slot;
    }
    slots
}

/// What is due now for one schedule, in slot order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlotPlan {
    /// Fire the slot (late when `now` is past it, within the grace period).
    Fire { slot_ms: u64 },
    /// `count` slots from `from_ms` to `until_ms` are past the grace period.
    Miss { from_ms: u64, until_ms: u64, count: u64 },
}

/// At most this many slots are looked at per call; the rest wait for the next.
const MAX_SLOTS: usize = 10_000;

/// The slots of `s` due at `now_ms`: those older than `grace_ms` are missed
/// (one range), the others fire.
pub fn due(s: &Schedule, now_ms: u64, grace_ms: u64) -> Vec<SlotPlan> {
    let mut plans = Vec::new();
    if !s.enabled {
        return plans;
    }
    let mut missed: Option<(u64, u64, u64)> = None;
    let mut after = s.state.last_slot_ms.unwrap_or(s.state.anchor_ms);
    for _ in 0..MAX_SLOTS {
        let Some(slot) = next_slot_after(&s.trigger, s.state.anchor_ms, after) else {
            break;
        };
        if slot > now_ms {
            break;
        }
        if now_ms - slot > grace_ms {
            missed = Some(match missed {
                None => (slot, slot, 1),
                Some((from, _, n)) => (from, slot, n + 1),
            });
        } else {
            if let Some((from_ms, until_ms, count)) = missed.take() {
                plans.push(SlotPlan::Miss {
                    from_ms,
                    until_ms,
                    count,
                });
            }
            plans.push(SlotPlan::Fire { slot_ms: slot });
        }
        after = slot;
    }
    if let Some((from_ms, until_ms, count)) = missed {
        plans.push(SlotPlan::Miss {
            from_ms,
            until_ms,
            count,
        });
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::schedule::{Overlap, SlotState};

    fn schedule(trigger: Trigger, anchor_ms: u64) -> Schedule {
        Schedule {
            id: "sched-1".into(),
            entry_id: "e".into(),
            application_id: "app".into(),
            params: Default::default(),
            enabled: true,
            overlap: Overlap::Skip,
            trigger,
            schedule_doc: serde_json::Value::Null,
            owner: None,
            state: SlotState {
                anchor_ms,
                ..Default::default()
            },
        }
    }

    fn ms(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> u64 {
        tz.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .unwrap()
            .timestamp_millis() as u64
    }

    #[test]
    fn run_every_counts_from_the_anchor_and_fires_each_slot_once_due() {
        let s = schedule(Trigger::Every { every_ms: 2000 }, 10_000);
        assert_eq!(due(&s, 11_999, 60_000), vec![]);
        assert_eq!(due(&s, 12_000, 60_000), vec![SlotPlan::Fire { slot_ms: 12_000 }]);
        // Late but within the grace period: every slot fires, in order.
        assert_eq!(
            due(&s, 16_500, 60_000),
            vec![
                SlotPlan::Fire { slot_ms: 12_000 },
                SlotPlan::Fire { slot_ms: 14_000 },
                SlotPlan::Fire { slot_ms: 16_000 }
            ]
        );
        let mut decided = s.clone();
        decided.state.last_slot_ms = Some(14_000);
        assert_eq!(
            due(&decided, 16_500, 60_000),
            vec![SlotPlan::Fire { slot_ms: 16_000 }]
        );
        assert_eq!(next_fire(&decided), Some(16_000));
    }

    #[test]
    fn slots_past_the_grace_period_are_one_missed_range_and_the_rest_fire() {
        let s = schedule(Trigger::Every { every_ms: 1000 }, 0);
        // Down from 0 to 100 s, grace 60 s: slots 1..=39 s missed, 40..=100 fire.
        let plans = due(&s, 100_000, 60_000);
        assert_eq!(
            plans[0],
            SlotPlan::Miss {
                from_ms: 1000,
                until_ms: 39_000,
                count: 39
            }
        );
        assert_eq!(plans[1], SlotPlan::Fire { slot_ms: 40_000 });
        assert_eq!(plans.len(), 1 + 61);
        let mut disabled = s;
        disabled.enabled = false;
        assert_eq!(due(&disabled, 100_000, 60_000), vec![]);
        assert_eq!(next_fire(&disabled), None);
    }

    #[test]
    fn a_crontab_fires_on_the_minute_with_an_injected_clock() {
        let utc = Tz::UTC;
        let s = schedule(
            Trigger::Cron {
                pattern: "* * * * *".into(),
                timezone: None,
            },
            ms(utc, 2026, 1, 5, 11, 59, 20),
        );
        assert_eq!(due(&s, ms(utc, 2026, 1, 5, 11, 59, 59), 60_000), vec![]);
        assert_eq!(
            due(&s, ms(utc, 2026, 1, 5, 12, 0, 0) + 300, 60_000),
            vec![SlotPlan::Fire {
                slot_ms: ms(utc, 2026, 1, 5, 12, 0, 0)
            }]
        );
        assert_eq!(next_fire(&s), Some(ms(utc, 2026, 1, 5, 12, 0, 0)));
    }

    #[test]
    fn daylight_saving_changes_are_handled_as_cron_does() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let trigger = Trigger::Cron {
            pattern: "30 2 * * *".into(),
            timezone: Some("Europe/Paris".into()),
        };
        // 2026-03-29: 02:00 becomes 03:00, so 02:30 never exists; the job
        // fires right after the change, at 03:00 local time.
        let spring = next_slot_after(&trigger, 0, ms(paris, 2026, 3, 28, 12, 0, 0)).unwrap();
        assert_eq!(spring, ms(paris, 2026, 3, 29, 3, 0, 0));
        // 2026-10-25: 03:00 becomes 02:00, so 02:30 happens twice; it fires once.
        let first = next_slot_after(&trigger, 0, ms(paris, 2026, 10, 24, 12, 0, 0)).unwrap();
        let second = next_slot_after(&trigger, 0, first).unwrap();
        assert_eq!(
            second - first,
            25 * 3_600_000,
            "the next is the following day, not an hour later"
        );
    }

    #[test]
    fn bad_patterns_and_zones_are_refused_naming_them() {
        assert!(check_cron("*/5 * * * *", Some("America/New_York")).is_ok());
        assert!(check_cron("61 * * * *", None).unwrap_err()[0].contains("61 * * * *"));
        assert!(check_cron("* * * *", None).unwrap_err()[0].contains("five fields"));
        assert!(check_cron("* * * * *", Some("Mars/Olympus")).unwrap_err()[0].contains("Mars/Olympus"));
        // Every problem at once, each bad field by its name.
        let all = check_cron("61 25 * * *", Some("Mars/Olympus")).unwrap_err();
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[0].contains("minute field \"61\""), "{all:?}");
        assert!(all[1].contains("hour field \"25\""), "{all:?}");
        assert!(all[2].contains("Mars/Olympus"), "{all:?}");
    }

    #[test]
    fn a_preview_lists_the_slots_the_scheduler_would_fire() {
        let utc = Tz::UTC;
        let now = ms(utc, 2026, 1, 5, 11, 7, 30);
        let quarter = Trigger::Cron {
            pattern: "*/15 * * * *".into(),
            timezone: None,
        };
        assert_eq!(
            preview(&quarter, now, 5),
            vec![
                ms(utc, 2026, 1, 5, 11, 15, 0),
                ms(utc, 2026, 1, 5, 11, 30, 0),
                ms(utc, 2026, 1, 5, 11, 45, 0),
                ms(utc, 2026, 1, 5, 12, 0, 0),
                ms(utc, 2026, 1, 5, 12, 15, 0)
            ]
        );
        // The same slots a new schedule made now fires.
        let s = schedule(quarter.clone(), now);
        assert_eq!(next_fire(&s), Some(preview(&quarter, now, 1)[0]));
        let every = Trigger::Every { every_ms: 90_000 };
        assert_eq!(preview(&every, 1_000, 3), vec![91_000, 181_000, 271_000]);
        // In a time zone: 09:00 in Paris is 08:00 UTC in winter.
        let paris = Trigger::Cron {
            pattern: "0 9 * * *".into(),
            timezone: Some("Europe/Paris".into()),
        };
        assert_eq!(preview(&paris, now, 1), vec![ms(utc, 2026, 1, 6, 8, 0, 0)]);
    }
}
