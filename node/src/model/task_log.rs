//! The size of a task's log: the budget that caps what is kept
//! (`max_task_log_bytes`) and the pages `GET /tasks/{id}` answers.

use std::ops::Range;

use super::task::LogLine;
use crate::util::number::thousands;

/// Bytes counted for each record on top of its message text (time, level,
/// module and framing, roughly).
pub const RECORD_OVERHEAD: u64 = 32;

/// What one record costs against the cap.
pub fn record_cost(message: &str) -> u64 {
    message.len() as u64 + RECORD_OVERHEAD
}

/// What the records already kept cost (earlier attempts of the task).
pub fn logs_cost(logs: &[LogLine]) -> u64 {
    logs.iter().map(|l| record_cost(&l.message)).sum()
}

/// Decides, record by record, whether a task's log keeps a record. The log
/// stays a prefix: once one record does not fit, every later one is dropped
/// too, and only counted, so dropping takes no memory.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBudget {
    cap: u64,
    used: u64,
    dropped_records: u64,
    dropped_bytes: u64,
}

impl LogBudget {
    /// A budget of `cap` bytes of which `used` are spent already.
    pub fn new(cap: u64, used: u64) -> LogBudget {
        LogBudget {
            cap,
            used,
            dropped_records: 0,
            dropped_bytes: 0,
        }
    }

    /// Whether to keep a record with this message; a dropped one is counted.
    pub fn admit(&mut self, message: &str) -> bool {
        let cost = record_cost(message);
        if self.dropped_records == 0 && self.used.saturating_add(cost) <= self.cap {
            self.used += cost;
            return true;
        }
        self.dropped_records += 1;
        self.dropped_bytes += message.len() as u64;
        false
    }

    /// Records dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped_records
    }

    /// The one record that ends an attempt which dropped some, saying how
    /// many; `time` in seconds since the Unix epoch.
    pub fn marker(&self, time: f64) -> Option<LogLine> {
        (self.dropped_records > 0).then(|| LogLine {
            time,
            level: "WARNING".into(),
            levelno: 30,
            module: "isnode".into(),
            message: format!(
                "{} log record{} ({}) dropped: this task's log is capped at {} bytes (max_task_log_bytes)",
                thousands(self.dropped_records),
                if self.dropped_records == 1 { "" } else { "s" },
                size(self.dropped_bytes),
                thousands(self.cap),
            ),
        })
    }
}

/// A byte count for people: 512 bytes, 3.4 kB, 52.1 MB.
fn size(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} bytes")
    } else if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1e3)
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

/// Most records one page of a task's log may hold.
pub const MAX_PAGE: u64 = 100_000;

/// Which records of a log of `total` answer a request for `limit` records
/// from `offset` (`limit` None: all the rest). An offset past the end is an
/// empty page at the end.
pub fn page(total: usize, offset: u64, limit: Option<u64>) -> Range<usize> {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
    let len = limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    start..start.saturating_add(len).min(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(message: &str) -> LogLine {
        LogLine {
            time: 1.0,
            level: "INFO".into(),
            levelno: 20,
            module: "m".into(),
            message: message.into(),
        }
    }

    #[test]
    fn records_are_kept_while_they_fit_and_nothing_is_marked() {
        let mut b = LogBudget::new(3 * record_cost("0123456789"), 0);
        assert!((0..3).all(|_| b.admit("0123456789")));
        assert_eq!(b.dropped(), 0);
        assert_eq!(b.marker(5.0), None);
    }

    #[test]
    fn past_the_cap_records_are_dropped_and_one_marker_counts_them() {
        let mut b = LogBudget::new(100, 0);
        let kept = (0..10).filter(|_| b.admit(&"x".repeat(20))).count();
        assert_eq!(kept, 1, "20 + 32 fits once in 100");
        assert_eq!(b.dropped(), 9);
        let m = b.marker(7.5).unwrap();
        assert_eq!(m.level, "WARNING");
        assert_eq!(m.levelno, 30);
        assert_eq!(m.module, "isnode");
        assert_eq!(m.time, 7.5);
        assert_eq!(
            m.message,
            "9 log records (180 bytes) dropped: this task's log is capped at 100 bytes (max_task_log_bytes)"
        );
    }

    #[test]
    fn once_dropping_the_log_stays_a_prefix() {
        let mut b = LogBudget::new(100, 0);
        assert!(b.admit(&"x".repeat(60)));
        assert!(!b.admit(&"x".repeat(60)));
        // It would fit, but a hole in the log would mislead.
        assert!(!b.admit(""));
        assert_eq!(b.dropped(), 2);
        assert!(b
            .marker(0.0)
            .unwrap()
            .message
            .starts_with("2 log records (60 bytes)"));
    }

    #[test]
    fn earlier_attempts_count_against_the_cap() {
        let earlier = vec![line("abc"), line("defg")];
        assert_eq!(logs_cost(&earlier), 7 + 2 * RECORD_OVERHEAD);
        let mut b = LogBudget::new(logs_cost(&earlier), logs_cost(&earlier));
        assert!(!b.admit(""));
        assert_eq!(
            b.marker(0.0)
                .unwrap()
                .message
                .split(' ')
                .take(3)
                .collect::<Vec<_>>(),
            ["1", "log", "record"]
        );
    }

    #[test]
    fn big_numbers_read_well() {
        assert_eq!(size(52_100_000), "52.1 MB");
        assert_eq!(size(3_400), "3.4 kB");
        let mut b = LogBudget::new(10_485_760, 10_485_760);
        for _ in 0..4_213 {
            b.admit(&"y".repeat(12_366));
        }
        assert_eq!(
            b.marker(0.0).unwrap().message,
            "4,213 log records (52.1 MB) dropped: this task's log is capped at 10,485,760 bytes (max_task_log_bytes)"
        );
    }

    #[test]
    fn pages_are_clamped_to_the_log() {
        assert_eq!(page(10, 0, None), 0..10);
        assert_eq!(page(10, 3, None), 3..10);
        assert_eq!(page(10, 3, Some(4)), 3..7);
        assert_eq!(page(10, 8, Some(4)), 8..10);
        assert_eq!(page(10, 10, Some(4)), 10..10);
        assert_eq!(page(10, 25, None), 10..10);
        assert_eq!(page(10, 2, Some(0)), 2..2);
        assert_eq!(page(0, 0, None), 0..0);
        assert_eq!(page(10, u64::MAX, Some(u64::MAX)), 10..10);
        assert_eq!(page(10, 1, Some(u64::MAX)), 1..10);
    }
}
