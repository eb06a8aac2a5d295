//! The log records of a run's steps for people: each step's records merged
//! into one list in time order, each line naming its step, and `RunLogs`,
//! which makes sure that no record of a followed run is printed twice.

use std::collections::{HashMap, HashSet};

use is_proto::v1::{LogEvent, LogRecord, RunStatus};

use super::fields::or_dash;
use super::logs::{log_line, SeenLogs};
use super::states::is_final;
use super::time::clock;

/// One log record of a run's step: `HH:MM:SS LEVEL step-name: message`
/// (UTC); the record's module stands in when it carries no step name.
pub(crate) fn run_log_line(log: &LogEvent) -> String {
    let empty = LogRecord::default();
    let record = log.record.as_ref().unwrap_or(&empty);
    if log.name.is_empty() {
        return log_line(record);
    }
    let time = clock(record.time);
    let level = or_dash(record.level.clone());
    format!("{time} {level} {}: {}", log.name, record.message)
}

/// The log section under a run sheet: the steps' records in time order
/// (see [`run_logs`]), or why there are none.
pub(crate) fn run_logs_section(status: &RunStatus, logs: &[LogEvent]) -> String {
    if logs.is_empty() {
        if is_final(status.state()) {
            return "Logs:          (none)\n".to_string();
        }
        return format!(
            "Logs:          (none yet; follow them: iscli task logs {} --follow)\n",
            status.id
        );
    }
    let mut out = "Logs:\n".to_string();
    for log in logs {
        out.push_str(&format!("  {}\n", run_log_line(log)));
    }
    out
}

/// Records of a run's steps one per line (empty text for none).
pub(crate) fn run_log_lines(logs: &[LogEvent]) -> String {
    logs.iter().map(|l| run_log_line(l) + "\n").collect()
}

/// The logs of a run (`iscli task logs isapp-...` without --follow).
pub(crate) fn run_logs_text(status: &RunStatus, logs: &[LogEvent]) -> String {
    if !logs.is_empty() {
        return run_log_lines(logs);
    }
    super::logs::no_log_lines(&status.id, is_final(status.state()))
}

/// The log records of one step of a run, as its task status holds them.
#[derive(Debug, Clone, Default)]
pub(crate) struct StepLogs {
    /// The step's task id.
    pub(crate) id: String,
    /// The step's name in the application.
    pub(crate) name: String,
    pub(crate) logs: Vec<LogRecord>,
}

/// A record with the step's task id and name, as the run's log events
/// carry it.
fn named(log: &LogRecord, step: &StepLogs) -> LogEvent {
    LogEvent {
        id: step.id.clone(),
        name: step.name.clone(),
        record: Some(log.clone()),
    }
}

/// Sorts records by time, keeping the order of equal times (an event
/// without a record, which has no time, comes first).
fn by_time(logs: &mut [LogEvent]) {
    logs.sort_by(|a, b| {
        let time = |e: &LogEvent| e.record.as_ref().map(|r| r.time);
        match (time(a), time(b)) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    });
}

/// Every record of a run's steps, each with its step's id and name, in
/// time order.
pub(crate) fn run_logs(steps: &[StepLogs]) -> Vec<LogEvent> {
    let mut all: Vec<LogEvent> = steps
        .iter()
        .flat_map(|s| s.logs.iter().map(move |l| named(l, s)))
        .collect();
    by_time(&mut all);
    all
}

/// The log records of a run's steps printed while following it, so that
/// none is printed twice. The run's event stream holds every record; a
/// step followed to its end is settled, and only the steps that were not
/// (the run had ended before it was followed) are read from their
/// statuses afterwards.
#[derive(Debug, Default)]
pub(crate) struct RunLogs {
    /// Per step task id: the records printed.
    seen: HashMap<String, SeenLogs>,
    /// The steps whose final records were all printed.
    settled: HashSet<String>,
}

impl RunLogs {
    /// The line of a log event, noted as printed.
    pub(crate) fn live(&mut self, event: &LogEvent) -> String {
        if let Some(record) = &event.record {
            self.seen.entry(event.id.clone()).or_default().saw(record);
        }
        run_log_line(event)
    }

    /// Notes that every record of this step was printed: it has ended.
    pub(crate) fn settle(&mut self, step_id: &str) {
        self.settled.insert(step_id.to_string());
    }

    /// True once [`RunLogs::settle`] was called for this step.
    pub(crate) fn is_settled(&self, step_id: &str) -> bool {
        self.settled.contains(step_id)
    }

    /// The records of the steps' final statuses not printed yet, in time
    /// order, introduced by a note when some records were printed before
    /// (the late ones were logged earlier, so their times go back). Empty
    /// when none are late.
    pub(crate) fn late(&mut self, steps: &[StepLogs]) -> String {
        let followed_live = self.seen.values().any(SeenLogs::printed_any);
        let mut late = Vec::new();
        for step in steps {
            let fresh = self.seen.entry(step.id.clone()).or_default().unseen(&step.logs);
            late.extend(fresh.into_iter().map(|l| named(l, step)));
        }
        by_time(&mut late);
        let text = run_log_lines(&late);
        if text.is_empty() || !followed_live {
            text
        } else {
            format!("(logged before iscli started following:)\n{text}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::fixtures::{record, run_status};
    use is_proto::v1::TaskState;

    fn event(id: &str, name: &str, log: LogRecord) -> LogEvent {
        LogEvent {
            id: id.into(),
            name: name.into(),
            record: Some(log),
        }
    }

    fn ended(state: TaskState) -> RunStatus {
        RunStatus {
            id: "isapp-1".into(),
            state: state as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_run_log_line_names_the_step() {
        // A run's log event names the step; without a name, the module.
        let log = record(1_700_000_000.5, "INFO", "Emit", "fetched 3");
        assert_eq!(
            run_log_line(&event("t-1", "Fetch", log)),
            "22:13:20 INFO Fetch: fetched 3"
        );
        let log = record(1_700_000_000.5, "INFO", "Emit", "m");
        assert_eq!(run_log_line(&event("", "", log)), "22:13:20 INFO Emit: m");
    }

    #[test]
    fn run_logs_merge_the_steps_in_time_order() {
        let steps = vec![
            StepLogs {
                id: "t-1".into(),
                name: "Fetch".into(),
                logs: vec![
                    record(1_700_000_000.0, "INFO", "Emit", "a"),
                    record(1_700_000_002.0, "INFO", "Emit", "c"),
                ],
            },
            StepLogs {
                id: "t-2".into(),
                name: "Store".into(),
                logs: vec![record(1_700_000_001.0, "WARNING", "Emit", "b")],
            },
        ];
        let logs = run_logs(&steps);
        let lines: Vec<String> = logs.iter().map(run_log_line).collect();
        assert_eq!(
            lines,
            vec![
                "22:13:20 INFO Fetch: a",
                "22:13:21 WARNING Store: b",
                "22:13:22 INFO Fetch: c"
            ]
        );
        assert_eq!(logs[1].id, "t-2");
        let status = ended(TaskState::Success);
        assert_eq!(
            run_logs_text(&status, &logs),
            "22:13:20 INFO Fetch: a\n22:13:21 WARNING Store: b\n22:13:22 INFO Fetch: c\n"
        );
        assert_eq!(run_logs_text(&status, &[]), "(no log lines)");
        let running = ended(TaskState::Started);
        assert!(run_logs_text(&running, &[]).contains("iscli task logs isapp-1 --follow"));
        assert_eq!(
            run_logs_section(&status, &logs[..1]),
            "Logs:\n  22:13:20 INFO Fetch: a\n"
        );
        assert_eq!(run_logs_section(&run_status(), &[]), "Logs:          (none)\n");
        assert!(run_logs_section(&running, &[]).contains("(none yet; follow them: iscli task logs isapp-1"));

        // Nothing printed before: every record, no note.
        let mut printed = RunLogs::default();
        assert_eq!(
            printed.late(&steps),
            "22:13:20 INFO Fetch: a\n22:13:21 WARNING Store: b\n22:13:22 INFO Fetch: c\n"
        );
        assert_eq!(printed.late(&steps), "");
    }

    #[test]
    fn records_of_the_same_time_keep_their_order() {
        let step = |id: &str, messages: &[(f64, &str)]| StepLogs {
            id: id.into(),
            name: id.into(),
            logs: messages.iter().map(|(t, m)| record(*t, "", "", m)).collect(),
        };
        let steps = [
            step("t-1", &[(2.0, "b"), (1.0, "a1")]),
            step("t-2", &[(1.0, "a2"), (2.0, "c")]),
        ];
        let messages: Vec<String> = run_logs(&steps)
            .into_iter()
            .filter_map(|l| l.record.map(|r| r.message))
            .collect();
        // The sort is stable: equal times keep the steps' order.
        assert_eq!(messages, vec!["a1", "a2", "b", "c"]);
        let mut odd = vec![
            event("t-1", "S", record(1.0, "", "", "timed")),
            LogEvent::default(),
        ];
        by_time(&mut odd);
        assert_eq!(odd[0], LogEvent::default(), "no record, no time: first");
    }

    #[test]
    fn run_logs_are_printed_once_whether_live_or_read_at_the_end() {
        let record = |time: f64, message: &str| record(time, "INFO", "Emit", message);
        let event = |id: &str, name: &str, time: f64, message: &str| event(id, name, record(time, message));
        let t = 1_700_000_000.0;
        let mut printed = RunLogs::default();
        assert_eq!(
            printed.live(&event("t-1", "Fetch", t + 1.0, "b")),
            "22:13:21 INFO Fetch: b"
        );
        let fetch = StepLogs {
            id: "t-1".into(),
            name: "Fetch".into(),
            logs: vec![record(t + 1.0, "b")],
        };
        assert!(!printed.is_settled("t-1"));
        printed.settle("t-1");
        assert!(printed.is_settled("t-1"));
        // Nothing is printed twice.
        assert_eq!(printed.late(std::slice::from_ref(&fetch)), "");
        // Nothing printed before: all of it, in time order, without a note.
        let mut first = RunLogs::default();
        let two = StepLogs {
            logs: vec![record(t + 1.0, "b"), record(t, "a")],
            ..fetch.clone()
        };
        assert_eq!(
            first.late(std::slice::from_ref(&two)),
            "22:13:20 INFO Fetch: a\n22:13:21 INFO Fetch: b\n"
        );
        // The same message at another time is another record.
        assert_eq!(
            printed.live(&event("t-2", "Store", t + 3.0, "b")),
            "22:13:23 INFO Store: b"
        );
        let store = StepLogs {
            id: "t-2".into(),
            name: "Store".into(),
            logs: vec![record(t + 3.0, "b"), record(t + 2.5, "lost")],
        };
        assert_eq!(
            printed.late(&[fetch, store]),
            "(logged before iscli started following:)\n22:13:22 INFO Store: lost\n"
        );
    }
}
