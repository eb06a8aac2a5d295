//! Schedules for people: the list (`schedule list`), the sheet of one
//! schedule with its history (`schedule show`), and the lines `schedule
//! add`, `enable` and `disable` print. The node answers schedules as JSON
//! entries; they are read with the tolerant readers of `fields`, so a field
//! the node leaves out shows as `-` rather than failing the command.

use serde_json::Value;

use super::fields::{or_dash, scalar, text};
use super::table::{aligned, table};
use super::time::datetime;

/// The width of a sheet's labels, the widest ("Application:") and two spaces.
const LABEL: usize = 14;

/// One line per schedule: ID, ENTRY, APPLICATION, EVERY/CRON, ENABLED,
/// NEXT FIRE, LAST FIRE, in the order the node answers them.
pub(crate) fn schedule_table(entries: &[Value]) -> String {
    if entries.is_empty() {
        return "(no schedules)".to_string();
    }
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            [
                or_dash(text(e, "id")),
                or_dash(text(e, "entry_id")),
                or_dash(text(e, "application_id")),
                when(e),
                yes_no(e, "enabled"),
                time_of(e, "next_fire"),
                time_of(e, "last_fire"),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "ENTRY",
            "APPLICATION",
            "EVERY/CRON",
            "ENABLED",
            "NEXT FIRE",
            "LAST FIRE",
        ],
        &rows,
    )
}

/// One schedule: its fields, then its history (oldest slot first, as the
/// node keeps it).
pub(crate) fn schedule_sheet(entry: &Value) -> String {
    let fields = [
        ("ID", text(entry, "id")),
        ("Entry", text(entry, "entry_id")),
        ("Application", text(entry, "application_id")),
        ("Enabled", yes_no(entry, "enabled")),
        ("Schedule", when(entry)),
        ("Overlap", text(entry, "overlap")),
        ("Params", params(entry.get("params"))),
        ("Owner", owner(entry.get("owner"))),
        ("Next fire", time_of(entry, "next_fire")),
        ("Last fire", time_of(entry, "last_fire")),
    ];
    let mut out = String::new();
    for (label, value) in fields {
        out.push_str(&sheet_line(label, &or_dash(value)));
    }
    out.push_str(&history_section(entry));
    out
}

/// What `schedule add` prints: `added schedule ID (entry ENTRY) for APP;
/// next fire T`.
pub(crate) fn schedule_added(entry: &Value) -> String {
    format!(
        "added schedule {} (entry {}) for {}; {}",
        or_dash(text(entry, "id")),
        or_dash(text(entry, "entry_id")),
        or_dash(text(entry, "application_id")),
        next_fire(entry)
    )
}

/// What `schedule enable` and `disable` print, from the entry the node
/// answered: `enabled schedule ID; next fire T`, `disabled schedule ID`.
pub(crate) fn schedule_toggled(entry: &Value) -> String {
    let id = or_dash(text(entry, "id"));
    match entry.get("enabled").and_then(Value::as_bool) {
        Some(true) => format!("enabled schedule {id}; {}", next_fire(entry)),
        Some(false) => format!("disabled schedule {id}"),
        None => format!("updated schedule {id}; {}", next_fire(entry)),
    }
}

/// `next fire T`, or why there is none.
fn next_fire(entry: &Value) -> String {
    match entry.get("next_fire").and_then(Value::as_f64) {
        Some(at) => format!("next fire {}", datetime(at)),
        None if entry.get("enabled").and_then(Value::as_bool) == Some(false) => {
            "no next fire (disabled)".to_string()
        }
        None => "no next fire".to_string(),
    }
}

/// When a schedule fires: `every 60 s`, `cron 0 */2 * * * Europe/Paris`
/// (a cron without a time zone is read in UTC, which the text says).
fn when(entry: &Value) -> String {
    let schedule = entry.get("schedule").unwrap_or(&Value::Null);
    let info = schedule.get("schedule_info").unwrap_or(&Value::Null);
    match text(schedule, "schedule_type").as_str() {
        "frequency" => format!("every {} s", or_dash(text(info, "run_every"))),
        "crontab" => {
            let mut parts: Vec<String> = ["minute", "hour", "day_of_month", "month_of_year", "day_of_week"]
                .iter()
                .map(|key| or_dash(text(info, key)))
                .collect();
            let tz = text(info, "timezone");
            parts.push(if tz.trim().is_empty() {
                "UTC".to_string()
            } else {
                tz
            });
            format!("cron {}", parts.join(" "))
        }
        "" => "-".to_string(),
        other => format!("{other} {}", scalar(info)),
    }
}

/// The history as a table: SLOT, OUTCOME, RUN / REASON.
fn history_section(entry: &Value) -> String {
    let history = entry
        .get("history")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if history.is_empty() {
        return sheet_line("History", "(none yet)");
    }
    let mut rows = vec![vec![
        "SLOT".to_string(),
        "OUTCOME".to_string(),
        "RUN / REASON".to_string(),
    ]];
    rows.extend(history.iter().map(|h| {
        vec![
            time_of(h, "slot"),
            or_dash(text(h, "outcome")),
            or_dash(history_note(h)),
        ]
    }));
    format!("History:\n{}", aligned(&rows, "  "))
}

/// What a history item says beyond its slot and outcome: the run a fired
/// slot started, why a slot was skipped, and for a range of missed slots
/// `missed N slot(s) until T: reason`.
fn history_note(item: &Value) -> String {
    let reason = text(item, "reason");
    match text(item, "outcome").as_str() {
        "fired" => text(item, "run_id"),
        "missed" => {
            let mut note = match item.get("count").map(scalar).filter(|c| !c.is_empty()) {
                Some(count) => format!("missed {count} slot(s)"),
                None => "missed slot(s)".to_string(),
            };
            if let Some(until) = item.get("until").and_then(Value::as_f64) {
                note.push_str(&format!(" until {}", datetime(until)));
            }
            if !reason.trim().is_empty() {
                note.push_str(&format!(": {reason}"));
            }
            note
        }
        _ if reason.trim().is_empty() => text(item, "run_id"),
        _ => reason,
    }
}

/// The params as `name=value, ...` in name order (strings bare, other
/// values as JSON); "(none)" for none.
fn params(params: Option<&Value>) -> String {
    let Some(Value::Object(map)) = params else {
        return params.map(scalar).unwrap_or_default();
    };
    if map.is_empty() {
        return "(none)".to_string();
    }
    let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
    pairs.sort_by_key(|(key, _)| *key);
    pairs
        .iter()
        .map(|(key, value)| match value {
            Value::String(s) => format!("{key}={s}"),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Who owns a schedule: `syncpack NAME VERSION` for one a syncpack's
/// activation registered; empty (shown `-`) for one added by hand.
fn owner(owner: Option<&Value>) -> String {
    match owner {
        Some(o @ Value::Object(_)) => {
            let pack = [text(o, "syncpack"), text(o, "version")]
                .into_iter()
                .filter(|s| !s.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            format!("syncpack {}", or_dash(pack))
        }
        Some(other) => scalar(other),
        None => String::new(),
    }
}

/// `Label:` padded to the sheet's label width, the value, a newline.
fn sheet_line(label: &str, value: &str) -> String {
    format!("{:<LABEL$}{value}\n", format!("{label}:"))
}

/// A yes/no field; `-` when the node did not say.
fn yes_no(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_bool) {
        Some(true) => "yes".to_string(),
        Some(false) => "no".to_string(),
        None => "-".to_string(),
    }
}

/// An epoch-seconds field as a UTC date and time; `-` when absent or null.
pub(super) fn time_of(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_f64)
        .map(datetime)
        .unwrap_or_else(|| "-".to_string())
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
