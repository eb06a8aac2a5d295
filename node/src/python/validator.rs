//! Validation of uploaded step code: a dedicated runner (so uploads never
//! wait behind long-running steps) compiles the source, finds the class,
//! checks it subclasses BaseStep and instantiates it, reporting the class's
//! metadata. The runner is started on first use and replaced when it dies.
//! It runs in the same sandbox as step runners; whatever a module starts
//! while it loads is killed once loading ends (or with the runner, when
//! loading kills it or outlasts the timeout).

use std::time::Duration;

use tokio::sync::Mutex;

use super::process::{RunnerConfig, RunnerError, RunnerProcess};

pub struct Validator {
    cfg: RunnerConfig,
    timeout: Duration,
    runner: Mutex<Option<RunnerProcess>>,
    python_version: std::sync::Mutex<Option<String>>,
}

/// Why a step does not load.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    /// The step code is at fault; `line` is in the uploaded source.
    #[error("{message}")]
    Invalid {
        message: String,
        line: Option<u64>,
        traceback: Option<String>,
    },
    /// The runner failed or could not be started.
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error("loading the step took longer than {} s (does its module or __init__ loop forever?)", .0.as_secs())]
    Timeout(Duration),
}

impl Validator {
    pub fn new(cfg: RunnerConfig, timeout: Duration) -> Validator {
        Validator {
            cfg,
            timeout,
            runner: Mutex::new(None),
            python_version: std::sync::Mutex::new(None),
        }
    }

    /// The Python version of the runners, once one has started.
    pub fn python_version(&self) -> Option<String> {
        self.python_version
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// How its runners are started.
    pub fn config(&self) -> &RunnerConfig {
        &self.cfg
    }

    /// How long loading one step may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Loads the step; answers its metadata document (friendly_name,
    /// description, version, parameters).
    pub async fn validate(
        &self,
        class_name: &str,
        source: &str,
    ) -> Result<serde_json::Value, ValidationError> {
        self.load(class_name, source, None).await
    }

    /// Loads step `class_name` by importing `module` (a SyncPack's step).
    pub async fn validate_module(
        &self,
        class_name: &str,
        module: &str,
    ) -> Result<serde_json::Value, ValidationError> {
        self.load(class_name, "", Some(module)).await
    }

    async fn load(
        &self,
        class_name: &str,
        source: &str,
        module: Option<&str>,
    ) -> Result<serde_json::Value, ValidationError> {
        let mut guard = self.runner.lock().await;
        if guard.is_none() {
            let r = RunnerProcess::spawn(&self.cfg).await?;
            *self.python_version.lock().unwrap_or_else(|p| p.into_inner()) = Some(r.python_version.clone());
            *guard = Some(r);
        }
        let runner = guard.as_mut().expect("runner was just started");
        let answer =
            match tokio::time::timeout(self.timeout, runner.validate(class_name, source, module)).await {
                Ok(Ok(answer)) => answer,
                // The runner was up and took the code: whatever broke it
                // (os._exit, a crash, a corrupted pipe) is the code's doing,
                // so a 400; the next upload gets a fresh runner.
                Ok(Err(e)) => {
                    *guard = None;
                    let reason = match e {
                        RunnerError::Died(reason) => reason,
                        other => other.to_string(),
                    };
                    return Err(ValidationError::Invalid {
                        message: format!(
                        "loading the step ended its Python runner ({reason}); a step module must not exit \
                             or crash when it is imported or instantiated"
                    ),
                        line: None,
                        traceback: None,
                    });
                }
                Err(_) => {
                    runner.kill().await;
                    *guard = None;
                    return Err(ValidationError::Timeout(self.timeout));
                }
            };
        if answer.get("ok") == Some(&serde_json::Value::Bool(true)) {
            let mut meta = answer;
            if let Some(obj) = meta.as_object_mut() {
                obj.remove("ok");
            }
            Ok(meta)
        } else {
            Err(ValidationError::Invalid {
                message: answer
                    .get("error")
                    .and_then(|e| e.as_str())
                    .unwrap_or("the step does not load")
                    .to_string(),
                line: answer.get("line").and_then(|l| l.as_u64()),
                traceback: answer
                    .get("traceback")
                    .and_then(|t| t.as_str())
                    .map(str::to_string),
            })
        }
    }
}
