//! Tests of the schedule renderers, on entries shaped as the node answers
//! them.

use serde_json::json;

use super::*;

/// A frequency schedule registered by a syncpack, with a history of every
/// outcome (newest last).
fn hourly() -> Value {
    json!({
        "id": "sched-1", "entry_id": "hello", "application_id": "hello", "enabled": true,
        "overlap": "skip", "params": {"who": "world", "ids": [1, 2], "n": 3},
        "schedule": {"schedule_type": "frequency", "schedule_info": {"run_every": 60}},
        "owner": {"syncpack": "test_syncpack", "version": "0.0.1"},
        "next_fire": 1_700_000_120, "last_fire": 1_700_000_060.5,
        "history": [
            {"slot": 1_700_000_000, "outcome": "fired", "run_id": "isapp-1"},
            {"slot": 1_700_000_060, "outcome": "skipped", "reason": "the previous run is still running"},
            {"slot": 1_700_000_120, "outcome": "missed", "reason": "no leader", "count": 3,
             "until": 1_700_000_240}
        ]
    })
}

/// A disabled cron schedule added by hand, never fired.
fn nightly() -> Value {
    json!({
        "id": "sched-2", "entry_id": "nightly", "application_id": "report_app", "enabled": false,
        "overlap": "allow", "params": {},
        "schedule": {"schedule_type": "crontab", "schedule_info": {
            "minute": "0", "hour": "*/2", "day_of_month": "*", "month_of_year": "*",
            "day_of_week": "*", "timezone": "Europe/Paris"}},
        "owner": null, "next_fire": null, "last_fire": null, "history": []
    })
}

#[test]
fn the_list_has_its_columns_in_a_fixed_order() {
    assert_eq!(
        schedule_table(&[hourly(), nightly()]),
        "ID       ENTRY    APPLICATION  EVERY/CRON                     ENABLED  \
         NEXT FIRE                LAST FIRE\n\
         sched-1  hello    hello        every 60 s                     yes      \
         2023-11-14 22:15:20 UTC  2023-11-14 22:14:20 UTC\n\
         sched-2  nightly  report_app   cron 0 */2 * * * Europe/Paris  no       -                        -\n"
    );
    assert_eq!(schedule_table(&[]), "(no schedules)");
}

#[test]
fn schedules_say_when_they_fire() {
    assert_eq!(when(&hourly()), "every 60 s");
    assert_eq!(when(&nightly()), "cron 0 */2 * * * Europe/Paris");
    let utc = json!({"schedule": {"schedule_type": "crontab", "schedule_info": {
        "minute": "30", "hour": "1", "day_of_month": "1", "month_of_year": "jan", "day_of_week": "*"}}});
    assert_eq!(when(&utc), "cron 30 1 1 jan * UTC");
    let odd = json!({"schedule": {"schedule_type": "solar", "schedule_info": {"event": "dawn"}}});
    assert_eq!(when(&odd), r#"solar {"event":"dawn"}"#);
    assert_eq!(when(&json!({})), "-");
}

#[test]
fn the_sheet_shows_the_fields_then_the_history() {
    assert_eq!(
        schedule_sheet(&hourly()),
        "ID:           sched-1\n\
         Entry:        hello\n\
         Application:  hello\n\
         Enabled:      yes\n\
         Schedule:     every 60 s\n\
         Overlap:      skip\n\
         Params:       ids=[1,2], n=3, who=world\n\
         Owner:        syncpack test_syncpack 0.0.1\n\
         Next fire:    2023-11-14 22:15:20 UTC\n\
         Last fire:    2023-11-14 22:14:20 UTC\n\
         History:\n\
         \x20 SLOT                     OUTCOME  RUN / REASON\n\
         \x20 2023-11-14 22:13:20 UTC  fired    isapp-1\n\
         \x20 2023-11-14 22:14:20 UTC  skipped  the previous run is still running\n\
         \x20 2023-11-14 22:15:20 UTC  missed   missed 3 slot(s) until 2023-11-14 22:17:20 UTC: no leader\n"
    );
    let text = schedule_sheet(&nightly());
    assert!(text.contains("Enabled:      no\n"), "{text}");
    assert!(text.contains("Params:       (none)\nOwner:        -\n"), "{text}");
    assert!(text.contains("Next fire:    -\nLast fire:    -\n"), "{text}");
    assert!(text.ends_with("History:      (none yet)\n"), "{text}");
}

#[test]
fn history_notes_tolerate_missing_parts() {
    assert_eq!(
        history_note(&json!({"outcome": "missed", "count": 1})),
        "missed 1 slot(s)"
    );
    assert_eq!(
        history_note(&json!({"outcome": "missed", "reason": "node down"})),
        "missed slot(s): node down"
    );
    assert_eq!(history_note(&json!({"outcome": "fired"})), "");
    assert_eq!(history_note(&json!({"outcome": "skipped"})), "");
    assert_eq!(
        history_note(&json!({"outcome": "failed", "reason": "boom"})),
        "boom"
    );
    // A bare entry still gives a sheet, with dashes.
    let text = schedule_sheet(&json!({"id": "sched-3"}));
    assert!(text.contains("Schedule:     -\n"), "{text}");
    assert!(text.contains("Enabled:      -\n"), "{text}");
}

#[test]
fn add_enable_and_disable_lines() {
    assert_eq!(
        schedule_added(&hourly()),
        "added schedule sched-1 (entry hello) for hello; next fire 2023-11-14 22:15:20 UTC"
    );
    assert_eq!(
        schedule_added(&nightly()),
        "added schedule sched-2 (entry nightly) for report_app; no next fire (disabled)"
    );
    assert_eq!(
        schedule_toggled(&hourly()),
        "enabled schedule sched-1; next fire 2023-11-14 22:15:20 UTC"
    );
    assert_eq!(schedule_toggled(&nightly()), "disabled schedule sched-2");
    assert_eq!(
        schedule_toggled(&json!({"id": "sched-4", "enabled": true})),
        "enabled schedule sched-4; no next fire"
    );
}
