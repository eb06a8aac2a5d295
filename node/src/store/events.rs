//! Node-local notifications of what just happened: a task changed state (the
//! state machine sends this after applying), a running step logged a record
//! (the worker sends this as the record arrives, before anything is
//! replicated). Waiters re-read the state after each event, so a lagging
//! receiver only loses wake-ups, never data.

use tokio::sync::broadcast;

use crate::model::task::LogLine;

#[derive(Debug, Clone)]
pub enum Event {
    TaskChanged(String),
    TaskLog { id: String, line: LogLine },
}

#[derive(Clone)]
pub struct Events(broadcast::Sender<Event>);

impl Default for Events {
    fn default() -> Self {
        Events(broadcast::channel(4096).0)
    }
}

impl Events {
    pub fn send(&self, e: Event) {
        // No receiver is fine: nobody is waiting.
        let _ = self.0.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.0.subscribe()
    }
}
