//! Writing through a storage fault: a commit that fails on an I/O error
//! (a full disk, a failing one) is retried until it succeeds, with the
//! fault noted in `store::health` meanwhile, instead of stopping the node.
//!
//! redb latches an I/O error: every later operation on that `Database`
//! fails (`PreviousIo`), and its file goes back to the last durable commit
//! when opened again. So each retry opens the file again and first writes
//! again the batches committed without a sync since then (kept here until
//! a durable commit covers them), then the batch that failed. Replaying
//! them in order on the durable state gives the state they gave before:
//! a batch only inserts and deletes by key.
//!
//! Until the file opens again (the disk may refuse that too), the store
//! has no `Database`: readers get [`DiskError::Reopening`] at once rather
//! than wait (what memory holds is read as ever).

use std::sync::Arc;

use redb::Database;

use super::{Batch, Disk, DiskError, Written, CACHE_BYTES};
use crate::store::health::RETRY;

/// The name the state store's faults are noted under.
const WRITER: &str = "state-store";

/// The I/O error behind `e`, if it is one a retry can get past.
fn io_fault(e: &DiskError) -> Option<std::io::Error> {
    match e {
        DiskError::Redb(redb::Error::Io(io)) | DiskError::Io(io) => {
            Some(std::io::Error::new(io.kind(), io.to_string()))
        }
        DiskError::Redb(redb::Error::PreviousIo) => Some(std::io::Error::other(
            "an earlier write failed; the store is opened again",
        )),
        DiskError::Reopening => Some(std::io::Error::other("the store is being opened again")),
        _ => None,
    }
}

impl DiskError {
    /// Whether this is an I/O error that a later retry can get past.
    pub fn is_storage_fault(&self) -> bool {
        io_fault(self).is_some()
    }
}

pub(super) fn open_database(path: &std::path::Path) -> Result<Database, DiskError> {
    Database::builder()
        .set_cache_size(CACHE_BYTES)
        .create(path)
        .map_err(super::rerr)
}

impl Disk {
    /// Writes `batch` ([`Disk::write`]), retrying through I/O errors until
    /// it is written or `give_up` says so; other errors answer at once.
    pub fn write_retrying(
        &self,
        batch: &Arc<Batch>,
        give_up: &dyn Fn() -> bool,
    ) -> Result<Written, DiskError> {
        let health = &self.inner.health;
        let mut attempt = 0;
        loop {
            let result = if attempt == 0 {
                self.write(batch)
            } else {
                self.reopen_and_replay().and_then(|()| self.write(batch))
            };
            match result {
                Ok(written) => {
                    self.note_written(batch);
                    if attempt > 0 {
                        health.clear(WRITER);
                    }
                    return Ok(written);
                }
                Err(e) => {
                    let Some(io) = io_fault(&e) else { return Err(e) };
                    health.fault(WRITER, &self.inner.path, &io);
                    if give_up() {
                        return Err(e);
                    }
                    attempt += 1;
                    std::thread::sleep(RETRY.delay(attempt));
                }
            }
        }
    }

    /// Keeps a batch committed without a sync for replaying; a durable
    /// one covers every batch before it.
    fn note_written(&self, batch: &Arc<Batch>) {
        let mut kept = self.inner.since_durable.lock().unwrap_or_else(|p| p.into_inner());
        if batch.is_flush() {
            kept.clear();
        } else {
            kept.push(batch.clone());
        }
    }

    /// Every commit so far is durable: nothing needs replaying.
    pub(super) fn forget_replay(&self) {
        self.inner
            .since_durable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Opens the file again (closing the latched `Database` first: redb
    /// locks its file) and writes again what was committed since the last
    /// durable commit.
    fn reopen_and_replay(&self) -> Result<(), DiskError> {
        let mut slot = self.inner.db.write().unwrap_or_else(|p| p.into_inner());
        // Closed first (redb locks its file); an operation still holding
        // the old one keeps the lock a moment, and the open is tried again.
        drop(slot.take());
        *slot = Some(Arc::new(open_database(&self.inner.path)?));
        drop(slot);
        let kept: Vec<Arc<Batch>> = self
            .inner
            .since_durable
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for batch in &kept {
            self.write(batch)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::super::tests::finished_run_with;
    use super::*;
    use crate::model::task::LogLine;
    use crate::store::health::StorageHealth;
    use crate::store::Content;

    /// A tmpfs mounted on a directory, unmounted when dropped.
    struct Tmpfs(PathBuf);

    impl Tmpfs {
        fn mount(dir: &Path, size: &str) -> Tmpfs {
            let out = Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "cannot mount a tmpfs (this test needs root): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Tmpfs(dir.to_path_buf())
        }
    }

    impl Drop for Tmpfs {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }

    /// Log records of about `bytes` that LZ4 cannot shrink.
    fn noise(bytes: usize) -> Vec<LogLine> {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        (0..bytes / 1024)
            .map(|n| LogLine {
                time: n as f64,
                level: "INFO".into(),
                levelno: 20,
                module: "m".into(),
                message: (0..64)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        format!("{x:016x}")
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    #[ignore = "needs root to mount a tmpfs; run-all.sh runs it"]
    fn a_commit_on_a_full_disk_waits_and_keeps_the_unsynced_commits_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let _tmpfs = Tmpfs::mount(dir.path(), "16m");
        let health = StorageHealth::default();
        let disk = Disk::open(dir.path(), &health).unwrap();
        let mut c = Content::default();
        finished_run_with(&disk, &mut c, "isapp-1", "a", 10, noise(4 << 10), true);
        // Committed, not synced: lost if the file is merely opened again.
        finished_run_with(&disk, &mut c, "isapp-2", "a", 20, noise(4 << 10), false);

        let filler = dir.path().join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        while f.write_all(&[0x5a; 4096]).is_ok() {}
        drop(f);

        let writer = {
            let disk = disk.clone();
            std::thread::spawn(move || {
                finished_run_with(&disk, &mut c, "isapp-3", "a", 30, noise(2 << 20), true);
            })
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !health.is_faulted() {
            assert!(
                std::time::Instant::now() < deadline,
                "the full disk was never noted"
            );
            assert!(!writer.is_finished(), "a commit of 2 MiB fitted on a full disk");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let fault = health.current().unwrap();
        assert!(
            fault.disk_full && fault.path.ends_with(super::super::STORE_FILE),
            "{fault:?}"
        );

        std::fs::remove_file(&filler).unwrap();
        writer.join().unwrap();
        assert!(!health.is_faulted());
        let all_there = |disk: &Disk, when: &str| {
            let r = disk.reader().unwrap();
            for id in ["isapp-1", "isapp-2", "isapp-3"] {
                assert!(disk.run(&r, id).unwrap().is_some(), "{id} lost {when}");
            }
        };
        all_there(&disk, "once space was back");
        drop(disk);
        all_there(&Disk::open(dir.path(), &health).unwrap(), "after reopening");
    }
}
