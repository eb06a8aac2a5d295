//! Test inputs kept as files: the Python steps of `fixtures/steps`, the
//! example content of `fixtures/examples`, and marker files through which a
//! test tells its running steps to go on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Example content in the original product's format (steps, apps, configs).
pub fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/examples")
}

/// A SyncPack source directory: the example `test_syncpack`, or one of
/// `fixtures/syncpacks` (`loud_syncpack`, which requires it).
pub fn syncpack_dir(name: &str) -> PathBuf {
    let example = examples_dir().join("syncpacks").join(name);
    if example.exists() {
        return example;
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/syncpacks")
        .join(name)
}

/// The local wheel directory SyncPack installs use in tests (no package
/// index): `target/test-wheels`, which `.ci/run` fills with the base
/// packages (`requests`, `future`, `jinja2`, `six` and what they need).
pub fn wheel_dir() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-wheels");
    let wheels = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "whl"))
                .count()
        })
        .unwrap_or(0);
    anyhow::ensure!(
        wheels > 0,
        "{} holds no wheels; fill it as .ci/run does: python3 -m pip download -d {} requests future jinja2 six",
        dir.display(),
        dir.display()
    );
    Ok(dir.canonicalize()?)
}

/// Source of the Python step `tests/fixtures/steps/{name}.py`.
pub fn step_source(name: &str) -> Result<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/steps")
        .join(format!("{name}.py"));
    std::fs::read_to_string(&path).with_context(|| format!("read the step fixture {}", path.display()))
}

/// Empty files a test creates to let its Python steps go on: a step given
/// [`Markers::path`] waits until [`Markers::set`] has created the file, so
/// the test decides when the step ends instead of guessing with a sleep.
pub struct Markers {
    dir: tempfile::TempDir,
}

/// Where tests put files their steps read or write: every node the harness
/// starts lists it in `runner_shared_dirs`, since runners are closed off
/// from the rest of the file system. Sticky and open to all, like /tmp,
/// because runners run as an unprivileged user.
pub fn runner_shared_root() -> PathBuf {
    std::env::temp_dir().join("is-tests-shared")
}

/// A new directory under [`runner_shared_root`] that steps may write to.
pub fn shared_tempdir() -> Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    let root = runner_shared_root();
    std::fs::create_dir_all(&root).context("create the shared test directory")?;
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o1777))?;
    let dir = tempfile::tempdir_in(&root)?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))?;
    Ok(dir)
}

impl Markers {
    pub fn new() -> Result<Markers> {
        Ok(Markers {
            dir: shared_tempdir()?,
        })
    }

    /// The marker file `name` (absent until set), as a step parameter.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    pub fn set(&self, name: &str) -> Result<()> {
        std::fs::write(self.dir.path().join(name), b"").context("create a marker file")
    }
}
