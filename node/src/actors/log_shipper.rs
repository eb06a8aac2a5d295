//! Ships a running attempt's log records into Raft while the step runs, so
//! every node can show them (`GET /tasks/{id}`, the event streams) before
//! the step ends, and a revoked step keeps what it logged.
//!
//! Records wait here at most [`SHIP_EVERY`] and then go as one
//! `TaskEvent::Logged` entry; what is left when the attempt ends travels
//! with its outcome. A step that ends quickly therefore costs no entry more
//! than before.
//!
//! **Invariant:** the shipments of an attempt, and then its outcome, reach
//! the log in the order the step logged: one shipment is proposed at a
//! time, under `order`, and [`LogShipper::finish`] takes `order` before the
//! worker proposes the outcome. A shipment waits until the attempt's start
//! is applied (`started`), since records of an attempt that has not started
//! are refused. Checked by `tests/tests/streams.rs` (100 records of three
//! steps, in order, none lost).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::engine::TaskEvent;
use crate::model::task::LogLine;
use crate::raft::{propose, Raft};
use crate::store::{Command, CommandResult};

/// How long a record waits before it is shipped.
pub(super) const SHIP_EVERY: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Waiting {
    lines: Vec<LogLine>,
    /// A shipment is scheduled and has not taken the records yet.
    armed: bool,
    /// The attempt ended: what waits goes with its outcome.
    closed: bool,
}

/// The log records of one running attempt on their way into Raft.
pub(super) struct LogShipper {
    raft: Raft,
    task_id: String,
    attempt: u32,
    waiting: Arc<Mutex<Waiting>>,
    /// Held while a shipment is proposed, so shipments and the outcome keep
    /// their order.
    order: Arc<tokio::sync::Mutex<()>>,
    /// Becomes true once the attempt's start is applied; its sender is
    /// dropped without it when the start is recorded with the outcome.
    started: watch::Receiver<bool>,
    timer: Option<JoinHandle<()>>,
}

impl LogShipper {
    pub(super) fn new(
        raft: Raft,
        task_id: String,
        attempt: u32,
        started: watch::Receiver<bool>,
    ) -> LogShipper {
        LogShipper {
            raft,
            task_id,
            attempt,
            waiting: Arc::default(),
            order: Arc::default(),
            started,
            timer: None,
        }
    }

    /// Adds a record; it is shipped within [`SHIP_EVERY`] (once the start
    /// is applied) unless the attempt ends first.
    pub(super) fn push(&mut self, line: LogLine) {
        let arm = {
            let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            w.lines.push(line);
            !std::mem::replace(&mut w.armed, true)
        };
        if arm {
            self.timer = Some(tokio::spawn(ship_later(
                self.raft.clone(),
                self.task_id.clone(),
                self.attempt,
                self.waiting.clone(),
                self.order.clone(),
                self.started.clone(),
            )));
        }
    }

    /// The records not shipped yet, for the outcome; returns once no
    /// shipment is under way, so the outcome lands after every shipment.
    pub(super) async fn finish(mut self) -> Vec<LogLine> {
        let rest = {
            let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            w.closed = true;
            std::mem::take(&mut w.lines)
        };
        let _turn = self.order.lock().await;
        if let Some(timer) = self.timer.take() {
            // It waits for the start or the delay, and will find nothing.
            timer.abort();
        }
        rest
    }
}

impl Drop for LogShipper {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
    }
}

async fn ship_later(
    raft: Raft,
    task_id: String,
    attempt: u32,
    waiting: Arc<Mutex<Waiting>>,
    order: Arc<tokio::sync::Mutex<()>>,
    mut started: watch::Receiver<bool>,
) {
    tokio::time::sleep(SHIP_EVERY).await;
    if started.wait_for(|s| *s).await.is_err() {
        // The start goes with the outcome, and so do the records.
        return;
    }
    let _turn = order.lock().await;
    let lines = {
        let mut w = waiting.lock().unwrap_or_else(|p| p.into_inner());
        w.armed = false;
        if w.closed {
            return;
        }
        std::mem::take(&mut w.lines)
    };
    if lines.is_empty() {
        return;
    }
    let count = lines.len();
    let cmd = Command::Task {
        id: task_id.clone(),
        event: TaskEvent::Logged { attempt, lines },
    };
    match propose(&raft, cmd).await {
        Ok(CommandResult::Task {
            changed: false,
            reason,
        }) => {
            tracing::debug!(task = %task_id, ?reason, count, "log records not recorded")
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(task = %task_id, error = %e, count, "cannot record log records; they are lost")
        }
    }
}
