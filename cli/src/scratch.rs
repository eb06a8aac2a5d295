//! Scratch directories for tests that need real files (uploads, wheel
//! building): one per test and thread, removed when dropped. Kept here so
//! the tests do not need a tempfile crate.

use std::path::{Path, PathBuf};

/// A scratch directory removed on drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    /// An empty directory; `tag` keeps tests that run at once apart.
    pub(crate) fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "iscli-test-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `x` to `rel` (creating its directories); answers its path.
    pub(crate) fn touch(&self, rel: &str) -> PathBuf {
        self.write(rel, b"x")
    }

    /// Writes `bytes` to `rel` (creating its directories); answers its path.
    pub(crate) fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Copies the tree at `from` to `rel` inside the scratch directory.
    pub(crate) fn copy_tree(&self, from: &Path, rel: &str) -> PathBuf {
        let to = self.0.join(rel);
        copy_dir(from, &to);
        to
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
