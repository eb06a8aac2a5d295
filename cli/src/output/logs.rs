//! Log records of a step task for people: one line per record, and
//! `SeenLogs`, which remembers what was printed while following a task so
//! that the final status adds only the records not printed yet.

use std::collections::HashMap;

use serde_json::Value;

use super::fields::{number, or_dash, text};
use super::time::clock;

/// One log record: `HH:MM:SS LEVEL module: message` (UTC).
pub(crate) fn log_line(log: &Value) -> String {
    let time = number(log, "time").map_or_else(|| "--:--:--".to_string(), clock);
    let level = or_dash(text(log, "level"));
    let module = text(log, "module");
    let message = text(log, "message");
    if module.is_empty() {
        format!("{time} {level} {message}")
    } else {
        format!("{time} {level} {module}: {message}")
    }
}

/// Log records one per line (empty text for none).
pub(crate) fn log_lines<'a>(logs: impl IntoIterator<Item = &'a Value>) -> String {
    logs.into_iter().map(|l| log_line(l) + "\n").collect::<String>()
}

/// The log records of a task status (none when it has no list).
pub(crate) fn logs_of(status: &Value) -> &[Value] {
    status
        .get("logs")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// The records of a final status that were not printed while following,
/// introduced by a note when some records were printed live (the late ones
/// were logged earlier, so their times go back). Empty when none are late.
pub(crate) fn late_logs(seen: &mut SeenLogs, logs: &[Value]) -> String {
    let followed_live = seen.printed_any();
    let late = log_lines(seen.unseen(logs));
    if late.is_empty() || !followed_live {
        late
    } else {
        format!("(logged before iscli started following:)\n{late}")
    }
}

/// Log records already printed while following a task, so that the final
/// status (which holds every record) only adds the ones not seen live. A
/// record is known by its time and message; equal records are counted, so
/// two identical lines logged at the same instant are both kept.
#[derive(Debug, Default)]
pub(crate) struct SeenLogs {
    printed: HashMap<(String, String), usize>,
}

impl SeenLogs {
    fn key(log: &Value) -> (String, String) {
        let time = log.get("time").map(Value::to_string).unwrap_or_default();
        (time, text(log, "message"))
    }

    /// True when some record was printed as it arrived.
    pub(crate) fn printed_any(&self) -> bool {
        self.printed.values().any(|n| *n > 0)
    }

    /// Notes a record printed as it arrived.
    pub(crate) fn saw(&mut self, log: &Value) {
        *self.printed.entry(Self::key(log)).or_default() += 1;
    }

    /// The records of `logs` not printed yet, in their order; each printed
    /// record accounts for one equal record of `logs`, which are then all
    /// noted as printed.
    pub(crate) fn unseen<'a>(&mut self, logs: &'a [Value]) -> Vec<&'a Value> {
        let mut fresh = Vec::new();
        for log in logs {
            match self.printed.get_mut(&Self::key(log)) {
                Some(n) if *n > 0 => *n -= 1,
                _ => fresh.push(log),
            }
        }
        self.printed.clear();
        for log in logs {
            self.saw(log);
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn log_lines_show_time_level_module_and_message() {
        let log = json!({"time": 1_700_000_000.5, "level": "INFO", "module": "Greet", "message": "hi"});
        assert_eq!(log_line(&log), "22:13:20 INFO Greet: hi");
        assert_eq!(
            log_line(&json!({"type": "log", "level": "WARNING", "message": "m"})),
            "--:--:-- WARNING m"
        );
        assert_eq!(
            log_lines([&log, &log]),
            "22:13:20 INFO Greet: hi\n22:13:20 INFO Greet: hi\n"
        );
    }

    #[test]
    fn seen_logs_leave_only_the_unprinted_records() {
        let a = json!({"time": 1.5, "message": "first"});
        let b = json!({"time": 2.5, "message": "second"});
        let b_again = json!({"time": 2.5, "message": "second"});
        let c = json!({"time": 3.0, "message": "third"});
        let mut seen = SeenLogs::default();
        // Live: only "second" (once) arrived; "first" was logged before we
        // subscribed.
        seen.saw(&json!({"type": "log", "time": 2.5, "level": "INFO", "message": "second"}));
        let all = vec![a.clone(), b.clone(), b_again.clone(), c.clone()];
        let fresh: Vec<Value> = seen.unseen(&all).into_iter().cloned().collect();
        assert_eq!(fresh, vec![a, b_again, c]);
        // Everything is printed now.
        assert!(seen.unseen(&all).is_empty());
    }

    #[test]
    fn late_logs_are_introduced_only_after_live_ones() {
        let first = json!({"time": 1_700_000_000.0, "level": "INFO", "module": "S", "message": "first"});
        let second = json!({"time": 1_700_000_001.0, "level": "INFO", "module": "S", "message": "second"});
        let all = vec![first.clone(), second.clone()];
        // Nothing printed live: the final list is just the lines.
        let mut seen = SeenLogs::default();
        assert_eq!(
            late_logs(&mut seen, &all),
            "22:13:20 INFO S: first\n22:13:21 INFO S: second\n"
        );
        assert_eq!(late_logs(&mut seen, &all), "");
        // "second" live, "first" missed: the note says why it comes late.
        let mut seen = SeenLogs::default();
        seen.saw(&second);
        assert_eq!(
            late_logs(&mut seen, &all),
            "(logged before iscli started following:)\n22:13:20 INFO S: first\n"
        );
        // All live: nothing to add.
        let mut seen = SeenLogs::default();
        seen.saw(&first);
        seen.saw(&second);
        assert_eq!(late_logs(&mut seen, &all), "");
    }
}
