//! Whether the node's storage takes writes: the writer threads (the Raft
//! log's and the state store's) note a fault here when a write, a sync or a
//! commit fails, keep retrying, and clear it once one succeeds. The rest of
//! the node reads it: `/ready` answers `storage-failed` while a fault lasts,
//! a write that times out says which disk and why, and the metrics show it.
//!
//! A fault is never a reason to stop: a full disk gets space back, a
//! transient I/O error passes, and the writers hold what they were given in
//! memory until then (see `log_store::writer` and `committer`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::Backoff;

/// How long a writer waits before retrying after a fault: short at first (a
/// transient error passes at once), then every few seconds.
pub(crate) const RETRY: Backoff = Backoff::new(Duration::from_millis(50), Duration::from_secs(2));

/// One storage fault: what could not be written, why, and since when.
#[derive(Debug, Clone)]
pub struct Fault {
    /// The file (or directory) the failed operation was on.
    pub path: PathBuf,
    /// The OS error, as it said it.
    pub error: String,
    /// The disk is full (ENOSPC, or a quota: EDQUOT).
    pub disk_full: bool,
    pub since: Instant,
}

impl Fault {
    /// What a client or operator reads: which file and disk, the OS error,
    /// and what to do.
    pub fn describe(&self) -> String {
        let file = self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        if self.disk_full {
            format!(
                "the node's disk is full ({file} in {}: {}); free space on it — writes resume by themselves",
                dir.display(),
                self.error
            )
        } else {
            format!(
                "the node cannot write to its disk ({file} in {}: {}); it retries by itself — check the disk",
                dir.display(),
                self.error
            )
        }
    }
}

/// Whether an I/O error means the disk is full.
fn is_disk_full(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
        || e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
}

/// Cheap to clone; one per data directory, shared by its writers and
/// readers.
#[derive(Debug, Clone, Default)]
pub struct StorageHealth {
    /// The current fault of each writer, by the writer's name.
    faults: Arc<Mutex<BTreeMap<&'static str, Fault>>>,
}

impl StorageHealth {
    /// Notes that `writer` failed on `path`; a fault already noted keeps
    /// its start (the error and path are the newest).
    pub fn fault(&self, writer: &'static str, path: &Path, e: &std::io::Error) {
        let mut faults = self.lock();
        let since = faults.get(writer).map_or_else(Instant::now, |f| f.since);
        let first = !faults.contains_key(writer);
        let fault = Fault {
            path: path.to_path_buf(),
            error: e.to_string(),
            disk_full: is_disk_full(e),
            since,
        };
        if first {
            tracing::error!(writer, problem = %fault.describe(), "storage fault: writes wait until it passes");
        }
        faults.insert(writer, fault);
    }

    /// Notes that `writer` wrote again.
    pub fn clear(&self, writer: &'static str) {
        if let Some(f) = self.lock().remove(writer) {
            tracing::info!(
                writer,
                after = ?f.since.elapsed(),
                "storage fault over: writes go on"
            );
        }
    }

    /// The oldest fault lasting now, if any.
    pub fn current(&self) -> Option<Fault> {
        self.lock().values().min_by_key(|f| f.since).cloned()
    }

    pub fn is_faulted(&self) -> bool {
        !self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<&'static str, Fault>> {
        self.faults.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs `op` until it succeeds, noting a fault in `health` while it fails
/// (with a growing pause between tries, [`RETRY`]) and clearing it once it
/// succeeds; `op` itself puts the file back as it should be before writing
/// again. Gives up only when `give_up` says so (the store is closing),
/// answering the last error.
pub(crate) fn retry_until_written<T>(
    health: &StorageHealth,
    writer: &'static str,
    path: &Path,
    give_up: &dyn Fn() -> bool,
    mut op: impl FnMut() -> std::io::Result<T>,
) -> std::io::Result<T> {
    let mut attempt = 0;
    loop {
        match op() {
            Ok(v) => {
                if attempt > 0 {
                    health.clear(writer);
                }
                return Ok(v);
            }
            Err(e) => {
                health.fault(writer, path, &e);
                if give_up() {
                    return Err(e);
                }
                attempt += 1;
                std::thread::sleep(RETRY.delay(attempt));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_with_its_file_and_what_to_do() {
        let h = StorageHealth::default();
        assert!(h.current().is_none());
        let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
        h.fault("log", Path::new("/data/raft/log.dat"), &full);
        let text = h.current().unwrap().describe();
        assert!(text.contains("disk is full"), "{text}");
        assert!(text.contains("log.dat in /data/raft"), "{text}");
        assert!(text.contains("No space left on device"), "{text}");
        assert!(text.contains("resume by themselves"), "{text}");
        let eio = std::io::Error::from_raw_os_error(libc::EIO);
        h.fault("store", Path::new("/data/raft/state.redb"), &eio);
        // The oldest fault is the one shown; both must clear.
        assert!(h.current().unwrap().disk_full);
        h.clear("log");
        let text = h.current().unwrap().describe();
        assert!(
            text.contains("cannot write") && text.contains("state.redb"),
            "{text}"
        );
        h.clear("store");
        assert!(!h.is_faulted());
    }

    #[test]
    fn retries_until_the_write_succeeds_then_clears() {
        let h = StorageHealth::default();
        let mut failures = 3;
        let seen = h.clone();
        let got = retry_until_written(&h, "log", Path::new("/d/f"), &|| false, || {
            if failures > 0 {
                failures -= 1;
                assert!(failures == 2 || seen.is_faulted());
                Err(std::io::Error::from_raw_os_error(libc::ENOSPC))
            } else {
                Ok(7)
            }
        });
        assert_eq!(got.unwrap(), 7);
        assert!(!h.is_faulted());
        // Closing stops the retries with the error.
        let got: std::io::Result<()> = retry_until_written(&h, "log", Path::new("/d/f"), &|| true, || {
            Err(std::io::Error::from_raw_os_error(libc::EIO))
        });
        assert!(got.is_err() && h.is_faulted());
    }
}
