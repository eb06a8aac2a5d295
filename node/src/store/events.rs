//! Node-local notifications of what just happened: a task changed state (the
//! state machine sends this after applying), a running step logged a record
//! (the worker sends this as the record arrives, before anything is
//! replicated). Waiters re-read the state after each event, so a lagging
//! receiver only loses wake-ups, never data.
//!
//! Effects of applied entries (tasks ready to run or to stop) travel on a
//! separate unbounded queue with exactly one consumer, the dispatcher pump,
//! because losing one would strand a task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, mpsc, oneshot};

use super::content::Effect;
use crate::model::task::LogLine;

#[derive(Debug, Clone)]
pub enum Event {
    TaskChanged(String),
    TaskLog { id: String, line: LogLine },
}

/// One-shot wake-ups registered for one task or run id.
type Waiters = Arc<Mutex<HashMap<String, Vec<oneshot::Sender<()>>>>>;

#[derive(Clone)]
pub struct Events {
    changes: broadcast::Sender<Event>,
    /// Waiters for one id: woken only by a change of that id, so many
    /// concurrent waits do not all wake for every change.
    waiters: Waiters,
    effects: mpsc::UnboundedSender<Effect>,
    effects_rx: Arc<Mutex<Option<mpsc::UnboundedReceiver<Effect>>>>,
}

impl Default for Events {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Events {
            changes: broadcast::channel(4096).0,
            waiters: Arc::default(),
            effects: tx,
            effects_rx: Arc::new(Mutex::new(Some(rx))),
        }
    }
}

impl Events {
    pub fn send(&self, e: Event) {
        if let Event::TaskChanged(id) = &e {
            let woken = self.waiters.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
            for w in woken.into_iter().flatten() {
                let _ = w.send(());
            }
        }
        // No receiver is fine: nobody is watching.
        if self.changes.receiver_count() > 0 {
            let _ = self.changes.send(e);
        }
    }

    /// A wake-up for the next change of `id`. Register before checking the
    /// state, so a change in between is not missed.
    pub fn next_change(&self, id: &str) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        let list = waiters.entry(id.to_string()).or_default();
        // Waits that timed out dropped their receivers: forget them.
        list.retain(|w| !w.is_closed());
        list.push(tx);
        rx
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.changes.subscribe()
    }

    pub fn effect(&self, e: Effect) {
        // Fails only once the consumer is gone, i.e. the node is stopping.
        let _ = self.effects.send(e);
    }

    /// The effect queue; there is one consumer, so this answers once.
    pub fn take_effects(&self) -> Option<mpsc::UnboundedReceiver<Effect>> {
        self.effects_rx.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}
