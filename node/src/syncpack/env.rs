//! Pack environments on this node's disk: one virtual environment per pack
//! version (the pack's wheel and its `requires_dist`, minus requirements
//! that are other SyncPacks) and one shared environment of the platform's
//! base packages (`requests`, `future`, `jinja2`, `six` by default) that
//! packs of the original product used without declaring them. Environments
//! are built by pip, from a local wheel directory and/or the package index.
//!
//! A runner of a pack step puts the pack's site directory, those of the
//! packs it requires and the base packages' on `sys.path` (see
//! `actors::worker`); the interpreter is the node's embedded one, so a venv
//! here is a place pip installs into, made with `--without-pip`.
//!
//! **Invariant:** an environment counts as installed only once its marker
//! file names the wheel it was built from, written last; a half-built
//! directory (crash, failure) is removed and built again.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

/// The name of the shared environment of base packages.
const BASE_ENV: &str = "_base";
/// Written last in a finished environment: what it was built from.
const MARKER: &str = ".installed";
/// The install log kept (its tail).
pub const MAX_LOG_BYTES: usize = 64 << 10;

/// How this node builds environments.
#[derive(Debug, Clone)]
pub struct EnvSettings {
    /// `DATA/syncpacks`.
    pub root: PathBuf,
    /// The Python that runs pip (the node's `python3`).
    pub python: PathBuf,
    /// Wheels for offline installs (`--find-links`).
    pub wheel_dir: Option<PathBuf>,
    /// Whether pip may use the package index.
    pub use_index: bool,
    /// Another index than pip's default.
    pub index_url: Option<String>,
    /// Installed in the shared base environment.
    pub base_packages: Vec<String>,
    /// The longest one pip call may take.
    pub timeout: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// pip (or venv) failed; `log` is its output.
    #[error("{message}")]
    Failed { message: String, log: String },
    #[error("cannot prepare the environment directory: {0}")]
    Io(#[from] std::io::Error),
}

impl EnvSettings {
    pub fn wheels_dir(&self) -> PathBuf {
        self.root.join("wheels")
    }

    /// Where a wheel is kept on this node, by its SHA-256.
    pub fn wheel_file(&self, sha256: &str) -> PathBuf {
        self.wheels_dir().join(format!("{sha256}.whl"))
    }

    pub fn env_dir(&self, name: &str, version: &str) -> PathBuf {
        self.root.join("envs").join(format!("{name}-{version}"))
    }

    fn base_dir(&self) -> PathBuf {
        self.root.join("envs").join(BASE_ENV)
    }

    /// The site directory of a built environment, if it is built from
    /// `sha256` (None: not installed here, or from another wheel).
    pub fn installed_site(&self, name: &str, version: &str, sha256: &str) -> Option<PathBuf> {
        let dir = self.env_dir(name, version);
        let marker = std::fs::read_to_string(dir.join(MARKER)).ok()?;
        (marker.trim() == sha256).then(|| site_dir(&dir)).flatten()
    }

    /// The base packages' site directory, once built.
    pub fn base_site(&self) -> Option<PathBuf> {
        let dir = self.base_dir();
        dir.join(MARKER).exists().then(|| site_dir(&dir)).flatten()
    }

    /// Builds the shared environment of base packages unless it holds the
    /// configured list already. Answers pip's log.
    pub async fn ensure_base(&self) -> Result<String, EnvError> {
        let dir = self.base_dir();
        let wanted = self.base_packages.join("\n");
        if std::fs::read_to_string(dir.join(MARKER)).is_ok_and(|m| m == wanted) {
            return Ok(String::new());
        }
        let mut log = String::new();
        self.new_venv(&dir, &mut log).await?;
        if !self.base_packages.is_empty() {
            let mut args: Vec<String> = self.base_packages.clone();
            args.insert(0, "--upgrade".into());
            self.pip(&dir, &args, "installing the base packages", &mut log)
                .await?;
        }
        std::fs::write(dir.join(MARKER), wanted)?;
        Ok(log)
    }

    /// Builds the environment of pack `name` `version` from its wheel
    /// (`sha256`): the wheel without its dependencies, then `requirements`
    /// (those of its `requires_dist` that are not SyncPacks). `progress`
    /// hears each phase. Answers pip's log.
    pub async fn build_pack(
        &self,
        name: &str,
        version: &str,
        sha256: &str,
        requirements: &[String],
        mut progress: impl FnMut(&str),
    ) -> Result<String, EnvError> {
        let dir = self.env_dir(name, version);
        let wheel = self.wheel_file(sha256);
        let mut log = String::new();
        progress("creating the environment");
        self.new_venv(&dir, &mut log).await?;
        // pip wants the wheel under its own file name.
        let named = dir.join(format!("{name}-{version}-py3-none-any.whl"));
        std::fs::copy(&wheel, &named)?;
        progress("installing the pack");
        let args = vec!["--no-deps".to_string(), named.to_string_lossy().into_owned()];
        self.pip(&dir, &args, "installing the pack's wheel", &mut log)
            .await?;
        let _ = std::fs::remove_file(&named);
        if !requirements.is_empty() {
            progress(&format!("installing dependencies: {}", requirements.join(", ")));
            self.pip(
                &dir,
                requirements,
                "installing the pack's requires_dist",
                &mut log,
            )
            .await?;
        }
        std::fs::write(dir.join(MARKER), sha256)?;
        progress("installed");
        Ok(log)
    }

    /// A new, empty virtual environment at `dir` (anything there removed).
    async fn new_venv(&self, dir: &Path, log: &mut String) -> Result<(), EnvError> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut cmd = tokio::process::Command::new(&self.python);
        cmd.args(["-m", "venv", "--without-pip"]).arg(dir);
        self.call(cmd, "creating the virtual environment (python3 -m venv)", log)
            .await
    }

    async fn pip(&self, dir: &Path, args: &[String], what: &str, log: &mut String) -> Result<(), EnvError> {
        let mut cmd = tokio::process::Command::new(&self.python);
        cmd.args(["-m", "pip", "--python"])
            .arg(dir.join("bin").join("python"))
            .args([
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "--no-warn-script-location",
            ]);
        if let Some(d) = &self.wheel_dir {
            cmd.arg("--find-links").arg(d);
        }
        if !self.use_index {
            cmd.arg("--no-index");
        } else if let Some(url) = &self.index_url {
            cmd.args(["--index-url", url]);
        }
        cmd.args(args);
        self.call(cmd, what, log).await
    }

    /// Runs `cmd`, appending its output to `log`; fails with `what`.
    async fn call(
        &self,
        mut cmd: tokio::process::Command,
        what: &str,
        log: &mut String,
    ) -> Result<(), EnvError> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .env("PIP_NO_CACHE_DIR", "1")
            .env_remove("IS_ADMIN_PASSWORD")
            .env_remove("IS_CLUSTER_SECRET");
        let mut child = cmd.spawn().map_err(|e| EnvError::Failed {
            message: format!("{what}: cannot start {}: {e}", self.python.display()),
            log: log.clone(),
        })?;
        let mut out = child.stdout.take().expect("piped");
        let mut err = child.stderr.take().expect("piped");
        let run = async {
            let (mut o, mut e) = (Vec::new(), Vec::new());
            let (a, b) = tokio::join!(out.read_to_end(&mut o), err.read_to_end(&mut e));
            a?;
            b?;
            let status = child.wait().await?;
            Ok::<_, std::io::Error>((status, o, e))
        };
        let (status, o, e) = match tokio::time::timeout(self.timeout, run).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(EnvError::Failed {
                    message: format!("{what} took longer than {} s", self.timeout.as_secs()),
                    log: tail(log),
                })
            }
        };
        log.push_str(&String::from_utf8_lossy(&o));
        log.push_str(&String::from_utf8_lossy(&e));
        *log = tail(log);
        if status.success() {
            Ok(())
        } else {
            Err(EnvError::Failed {
                message: format!("{what} failed ({status}); see the install log"),
                log: log.clone(),
            })
        }
    }
}

/// `lib/pythonX.Y/site-packages` of an environment.
fn site_dir(env: &Path) -> Option<PathBuf> {
    std::fs::read_dir(env.join("lib"))
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
}

/// The last [`MAX_LOG_BYTES`] of `log`, cut at a character boundary.
pub fn tail(log: &str) -> String {
    if log.len() <= MAX_LOG_BYTES {
        return log.to_string();
    }
    let mut start = log.len() - MAX_LOG_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &log[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_its_tail() {
        let long = "é".repeat(MAX_LOG_BYTES);
        let t = tail(&long);
        assert!(t.len() <= MAX_LOG_BYTES + 4);
        assert!(t.ends_with('é'));
        assert_eq!(tail("short"), "short");
    }
}
