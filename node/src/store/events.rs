//! Node-local notifications of what just happened: a task or run changed
//! (the state machine sends this after applying; log records a running step
//! shipped are such a change). Waiters re-read the state after each event,
//! so a wake-up carries no data and none can be lost.
//!
//! Effects of applied entries (tasks ready to run or to stop) travel on a
//! separate unbounded queue with exactly one consumer, the dispatcher pump,
//! because losing one would strand a task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

use super::content::Effect;

#[derive(Debug, Clone)]
pub enum Event {
    TaskChanged(String),
}

/// One-shot wake-ups registered for one task or run id.
type Waiters = Arc<Mutex<HashMap<String, Vec<oneshot::Sender<()>>>>>;

#[derive(Clone)]
pub struct Events {
    /// Waiters for one id: woken only by a change of that id, so many
    /// concurrent waits do not all wake for every change.
    waiters: Waiters,
    effects: mpsc::UnboundedSender<Effect>,
    effects_rx: Arc<Mutex<Option<mpsc::UnboundedReceiver<Effect>>>>,
    /// Bumped when the SyncPacks changed (the installer watches it).
    packs: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Default for Events {
    fn default() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Events {
            waiters: Arc::default(),
            effects: tx,
            effects_rx: Arc::new(Mutex::new(Some(rx))),
            packs: Arc::new(tokio::sync::watch::channel(0).0),
        }
    }
}

/// A registered wake-up for the next change of one id: a future that is
/// ready once the id changed. The wait for a finished task is usually
/// abandoned (the waiter sees it finished and never awaits), and a finished
/// task never changes again, so the registration is removed on drop rather
/// than left for a change that will not come.
pub struct NextChange {
    rx: oneshot::Receiver<()>,
    id: String,
    waiters: Waiters,
}

impl std::future::Future for NextChange {
    type Output = ();

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        // An error means the sender was dropped with the hub: wake anyway,
        // the waiter re-reads the state.
        std::pin::Pin::new(&mut self.rx).poll(cx).map(|_| ())
    }
}

impl Drop for NextChange {
    fn drop(&mut self) {
        self.rx.close();
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(list) = waiters.get_mut(&self.id) {
            list.retain(|w| !w.is_closed());
            if list.is_empty() {
                waiters.remove(&self.id);
            }
        }
    }
}

impl Events {
    pub fn send(&self, e: Event) {
        let Event::TaskChanged(id) = &e;
        let woken = self.waiters.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        for w in woken.into_iter().flatten() {
            let _ = w.send(());
        }
    }

    /// A wake-up for the next change of `id`. Register before checking the
    /// state, so a change in between is not missed. Dropping the
    /// [`NextChange`] unregisters it.
    pub fn next_change(&self, id: &str) -> NextChange {
        let (tx, rx) = oneshot::channel();
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        waiters.entry(id.to_string()).or_default().push(tx);
        NextChange {
            rx,
            id: id.to_string(),
            waiters: self.waiters.clone(),
        }
    }

    /// Ids with a registered wake-up.
    #[cfg(test)]
    fn waiting_ids(&self) -> usize {
        self.waiters.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Tells watchers of the SyncPacks that they changed.
    pub fn packs_changed(&self) {
        self.packs.send_modify(|n| *n += 1);
    }

    /// A receiver that sees each change of the SyncPacks.
    pub fn watch_packs(&self) -> tokio::sync::watch::Receiver<u64> {
        self.packs.subscribe()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_that_is_abandoned_or_woken_leaves_no_registration() {
        let events = Events::default();
        // Abandoned: the waiter saw the task finished and never awaited.
        drop(events.next_change("t1"));
        assert_eq!(events.waiting_ids(), 0);

        // Woken by the change, then a second wait abandoned after it.
        let first = events.next_change("t2");
        let other = events.next_change("t3");
        events.send(Event::TaskChanged("t2".into()));
        first.await;
        assert_eq!(events.waiting_ids(), 1, "t3 is still waited for");
        drop(events.next_change("t2"));
        drop(other);
        assert_eq!(events.waiting_ids(), 0);
    }

    #[tokio::test]
    async fn two_waits_for_one_id_are_both_woken() {
        let events = Events::default();
        let (a, b) = (events.next_change("t"), events.next_change("t"));
        events.send(Event::TaskChanged("t".into()));
        a.await;
        b.await;
        assert_eq!(events.waiting_ids(), 0);
    }
}
