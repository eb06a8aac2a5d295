//! Log records of a step task for people: one line per record, and
//! `SeenLogs`, which remembers what was printed while following a task so
//! that the final status adds only the records not printed yet.

use std::collections::HashMap;

use is_proto::v1::LogRecord;

use super::fields::or_dash;
use super::time::clock;

/// One log record: `HH:MM:SS LEVEL module: message` (UTC).
pub(crate) fn log_line(log: &LogRecord) -> String {
    let time = clock(log.time);
    let level = or_dash(log.level.clone());
    let message = &log.message;
    if log.module.is_empty() {
        format!("{time} {level} {message}")
    } else {
        format!("{time} {level} {}: {message}", log.module)
    }
}

/// Log records one per line (empty text for none).
/// What `iscli task logs` prints for a task or run `id` without log lines:
/// once it is `over`, that there are none; before, how to follow them.
pub(crate) fn no_log_lines(id: &str, over: bool) -> String {
    if over {
        "(no log lines)".to_string()
    } else {
        format!("(no log lines yet; to print them as they are logged: iscli task logs {id} --follow)")
    }
}

pub(crate) fn log_lines<'a>(logs: impl IntoIterator<Item = &'a LogRecord>) -> String {
    logs.into_iter().map(|l| log_line(l) + "\n").collect::<String>()
}

/// The records of a final status that were not printed while following,
/// introduced by a note when some records were printed live (the late ones
/// were logged earlier, so their times go back). Empty when none are late.
pub(crate) fn late_logs(seen: &mut SeenLogs, logs: &[LogRecord]) -> String {
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
    /// Per (time as bits, message): how many were printed.
    printed: HashMap<(u64, String), usize>,
}

impl SeenLogs {
    fn key(log: &LogRecord) -> (u64, String) {
        (log.time.to_bits(), log.message.clone())
    }

    /// True when some record was printed as it arrived.
    pub(crate) fn printed_any(&self) -> bool {
        self.printed.values().any(|n| *n > 0)
    }

    /// Notes a record printed as it arrived.
    pub(crate) fn saw(&mut self, log: &LogRecord) {
        *self.printed.entry(Self::key(log)).or_default() += 1;
    }

    /// The records of `logs` not printed yet, in their order; each printed
    /// record accounts for one equal record of `logs`, which are then all
    /// noted as printed.
    pub(crate) fn unseen<'a>(&mut self, logs: &'a [LogRecord]) -> Vec<&'a LogRecord> {
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
    use crate::output::fixtures::record;

    #[test]
    fn log_lines_show_time_level_module_and_message() {
        let log = record(1_700_000_000.5, "INFO", "Greet", "hi");
        assert_eq!(log_line(&log), "22:13:20 INFO Greet: hi");
        // No module; a time that is not a number.
        assert_eq!(
            log_line(&record(f64::NAN, "WARNING", "", "m")),
            "--:--:-- WARNING m"
        );
        assert_eq!(
            log_lines([&log, &log]),
            "22:13:20 INFO Greet: hi\n22:13:20 INFO Greet: hi\n"
        );
    }

    #[test]
    fn seen_logs_leave_only_the_unprinted_records() {
        let a = record(1.5, "", "", "first");
        let b = record(2.5, "", "", "second");
        let b_again = record(2.5, "", "", "second");
        let c = record(3.0, "", "", "third");
        let mut seen = SeenLogs::default();
        // Live: only "second" (once) arrived; "first" was logged before we
        // subscribed. Only time and message tell records apart.
        seen.saw(&record(2.5, "INFO", "S", "second"));
        let all = vec![a.clone(), b.clone(), b_again.clone(), c.clone()];
        let fresh: Vec<LogRecord> = seen.unseen(&all).into_iter().cloned().collect();
        assert_eq!(fresh, vec![a, b_again, c]);
        // Everything is printed now.
        assert!(seen.unseen(&all).is_empty());
    }

    #[test]
    fn late_logs_are_introduced_only_after_live_ones() {
        let first = record(1_700_000_000.0, "INFO", "S", "first");
        let second = record(1_700_000_001.0, "INFO", "S", "second");
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
