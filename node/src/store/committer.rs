//! The thread that writes the state machine's batches to the disk store,
//! so applying entries does not wait for redb: the applier takes a batch
//! out of memory under its lock ([`super::disk::Disk::prepare`]), hands it
//! here and goes on; readers find the batch in `Content::committing` until
//! the applier sees it written and lets it go.
//!
//! A write that fails on an I/O error (a full disk) is retried until it
//! succeeds (`disk::recover`): the applier waits meanwhile, as it waits for
//! any batch being written, and goes on once the disk takes writes again.
//!
//! **Invariant:** one batch is written at a time, in the order sent, and a
//! batch is let go of only once [`Committer::written`] says so — so an item
//! leaves memory only after the store has committed it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard};

use super::disk::{Batch, Disk, DiskError};
use crate::util::thread::JoinOnDrop;

/// Cheap to clone; shared by the state machine's clones.
#[derive(Clone)]
pub(super) struct Committer {
    shared: Arc<Shared>,
    sender: mpsc::Sender<Arc<Batch>>,
    /// Tells the thread, once the last clone is gone, to stop retrying a
    /// write that fails (declared before `_thread`, which waits for it).
    _closing: Arc<Closing>,
    /// Declared after `sender`, so dropping the last clone closes the
    /// channel before waiting for the thread, which holds the store open.
    _thread: Arc<JoinOnDrop>,
}

/// Sets its flag when dropped.
struct Closing(Arc<AtomicBool>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

#[derive(Default)]
struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
}

#[derive(Default)]
struct Progress {
    /// The generation of the last batch sent, and of the last written.
    sent: u64,
    written: u64,
    /// Why the last write failed; every later call answers it.
    failed: Option<String>,
}

impl Committer {
    pub(super) fn spawn(disk: Disk) -> std::io::Result<Committer> {
        let shared = Arc::new(Shared::default());
        let (sender, receiver) = mpsc::channel::<Arc<Batch>>();
        let on_thread = shared.clone();
        let closing = Arc::new(AtomicBool::new(false));
        let give_up = closing.clone();
        let thread = JoinOnDrop::spawn("state-store-commit", move || {
            for batch in receiver {
                let result = disk.write_retrying(&batch, &|| give_up.load(Ordering::Relaxed));
                let mut p = lock(&on_thread.progress);
                p.written = batch.generation;
                if let Err(e) = result {
                    tracing::error!(error = %e, "writing to the state store failed");
                    p.failed.get_or_insert(e.to_string());
                }
                on_thread.changed.notify_all();
            }
        })?;
        Ok(Committer {
            shared,
            sender,
            _closing: Arc::new(Closing(closing)),
            _thread: Arc::new(thread),
        })
    }

    /// Hands `batch` to the thread; answers it as sent, for memory to hold
    /// until it is written.
    pub(super) fn send(&self, batch: Batch) -> Result<Arc<Batch>, DiskError> {
        self.send_shared(Arc::new(batch))
    }

    /// [`Committer::send`] for a batch already shared, but by nobody else.
    pub(super) fn send_shared(&self, mut batch: Arc<Batch>) -> Result<Arc<Batch>, DiskError> {
        let mut p = self.progress()?;
        p.sent += 1;
        Arc::get_mut(&mut batch)
            .ok_or_else(|| DiskError::Committer("a batch to send is held elsewhere".into()))?
            .generation = p.sent;
        self.sender
            .send(batch.clone())
            .map_err(|_| DiskError::Committer("the commit thread has stopped".into()))?;
        Ok(batch)
    }

    /// Whether the batch of `generation` is written (an error if a write failed).
    pub(super) fn written(&self, generation: u64) -> Result<bool, DiskError> {
        Ok(self.progress()?.written >= generation)
    }

    /// Waits until every batch sent is written, or answers `false` as soon
    /// as `stop` holds (checked at least every 50 ms): the caller holds
    /// the memory lock, and must not wait out a storage fault with it.
    pub(super) fn wait_unless(&self, stop: &dyn Fn() -> bool) -> Result<bool, DiskError> {
        let mut p = self.progress()?;
        while p.written < p.sent {
            if stop() {
                return Ok(false);
            }
            p = self
                .shared
                .changed
                .wait_timeout(p, std::time::Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
            if let Some(e) = &p.failed {
                return Err(DiskError::Committer(e.clone()));
            }
        }
        Ok(true)
    }

    /// Waits until every batch sent is written.
    pub(super) fn wait(&self) -> Result<(), DiskError> {
        let mut p = self.progress()?;
        while p.written < p.sent {
            p = self.shared.changed.wait(p).unwrap_or_else(|e| e.into_inner());
            if let Some(e) = &p.failed {
                return Err(DiskError::Committer(e.clone()));
            }
        }
        Ok(())
    }

    fn progress(&self) -> Result<MutexGuard<'_, Progress>, DiskError> {
        let p = lock(&self.shared.progress);
        match &p.failed {
            Some(e) => Err(DiskError::Committer(e.clone())),
            None => Ok(p),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::disk::Membership;
    use crate::store::Content;

    #[test]
    fn batches_are_written_in_order_and_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let disk = Disk::open(dir.path(), &Default::default()).unwrap();
        let committer = Committer::spawn(disk.clone()).unwrap();
        let mut content = Content::default();
        let mut sent = Vec::new();
        for _ in 0..3 {
            let batch = disk
                .prepare(None, &Membership::default(), &mut content, true)
                .unwrap();
            sent.push(committer.send(batch).unwrap().generation);
        }
        assert_eq!(sent, [1, 2, 3]);
        committer.wait().unwrap();
        assert!(committer.written(3).unwrap());
    }
}
