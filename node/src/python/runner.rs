//! The runner process (`isnode runner --lib DIR`): confines itself first
//! (`confine.rs`), then embeds CPython, puts the embedded
//! `ipaascore`/`ipaascommon` packages on `sys.path`, and serves frames from
//! its host one at a time — validate a step, execute a step — until the
//! pipe closes. After each frame it kills whatever the step left running.
//!
//! Host services (logs, the cache) are the native module `_ishost`; it is
//! the only Python-visible piece of Rust, and it talks to the host over the
//! same pipe.
//!
//! **Invariant:** only one frame exchange is in progress at a time: the main
//! loop waits for a task, and while Python executes it, the `_ishost`
//! functions own the pipe (cache reads wait for the host's answer).

use std::fs::File;
use std::os::fd::FromRawFd;
use std::path::Path;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::confine::{self, Confinement, Role};
use super::protocol::{blocking, ExecResult, FrameError, FromRunner, ToRunner};

struct Channel {
    input: File,
    output: File,
}

static CHANNEL: Mutex<Option<Channel>> = Mutex::new(None);

/// The pid of the process that speaks to the node. A process a step forks
/// inherits the pipe but must never use it: its frames would interleave with
/// the runner's.
static RUNNER_PID: AtomicI32 = AtomicI32::new(0);

fn is_runner_process() -> bool {
    // SAFETY: getpid has no preconditions.
    (unsafe { libc::getpid() }) == RUNNER_PID.load(Ordering::Relaxed)
}

fn with_channel<T>(f: impl FnOnce(&mut Channel) -> Result<T, FrameError>) -> Result<T, FrameError> {
    if !is_runner_process() {
        return Err(FrameError::Closed);
    }
    let mut guard = CHANNEL.lock().unwrap_or_else(|p| p.into_inner());
    let ch = guard.as_mut().ok_or(FrameError::Closed)?;
    f(ch)
}

fn send(msg: &FromRunner) -> Result<(), FrameError> {
    with_channel(|ch| blocking::write(&mut ch.output, msg))
}

fn receive() -> Result<ToRunner, FrameError> {
    with_channel(|ch| blocking::read(&mut ch.input))
}

fn to_py_err(e: FrameError) -> PyErr {
    pyo3::exceptions::PyConnectionError::new_err(format!("lost the connection to the node: {e}"))
}

/// Sends a request and waits for the host's answer, which must be the next frame.
fn ask(msg: &FromRunner) -> PyResult<ToRunner> {
    with_channel(|ch| {
        blocking::write(&mut ch.output, msg)?;
        blocking::read(&mut ch.input)
    })
    .map_err(to_py_err)
}

#[pymodule]
#[pyo3(name = "_ishost")]
mod ishost {
    use super::*;

    #[pyfunction]
    fn log(levelno: u32, levelname: String, module: String, message: String, created: f64) -> PyResult<()> {
        send(&FromRunner::Log(super::super::protocol::LogRecord {
            time: created,
            levelno,
            level: levelname,
            module,
            message,
        }))
        .map_err(to_py_err)
    }

    #[pyfunction]
    fn application_get(name: String) -> PyResult<Option<String>> {
        match ask(&FromRunner::ApplicationGet { name })? {
            ToRunner::ApplicationDoc(doc) => Ok(doc),
            other => Err(unexpected(other)),
        }
    }

    #[pyfunction]
    fn cache_get(py: Python<'_>, key: String) -> PyResult<Option<Py<PyBytes>>> {
        match ask(&FromRunner::CacheGet { key })? {
            ToRunner::CacheValue(v) => Ok(v.map(|b| PyBytes::new(py, &b).unbind())),
            other => Err(unexpected(other)),
        }
    }

    #[pyfunction]
    #[pyo3(signature = (key, value, expiry_seconds=None))]
    fn cache_set(key: String, value: &Bound<'_, PyBytes>, expiry_seconds: Option<f64>) -> PyResult<()> {
        let msg = FromRunner::CacheSet {
            key,
            value: value.as_bytes().to_vec(),
            expiry_seconds,
        };
        done(ask(&msg)?)
    }

    #[pyfunction]
    fn cache_delete(key: String) -> PyResult<()> {
        done(ask(&FromRunner::CacheDelete { key })?)
    }

    /// Starts a run of application `name` (params as JSON text) as a child
    /// of the running step's run; answers the run id.
    #[pyfunction]
    fn run_application(name: String, params: String, blocking: bool) -> PyResult<String> {
        match ask(&FromRunner::RunApplication {
            name,
            params,
            blocking,
        })? {
            ToRunner::RunStarted(Ok(id)) => Ok(id),
            ToRunner::RunStarted(Err(e)) => Err(pyo3::exceptions::PyRuntimeError::new_err(e)),
            other => Err(unexpected(other)),
        }
    }

    /// What `await_run` answers Python: (state, finished, [(terminal step,
    /// pickle or None)], [failure]).
    type RunEndTuple = (String, bool, Vec<(String, Option<Py<PyBytes>>)>, Vec<String>);

    /// Waits up to `timeout_seconds` for a run to finish.
    #[pyfunction]
    fn await_run(py: Python<'_>, run_id: String, timeout_seconds: f64) -> PyResult<RunEndTuple> {
        let msg = FromRunner::AwaitRun {
            run_id,
            timeout_seconds,
        };
        match ask(&msg)? {
            ToRunner::RunEnded(Ok(end)) => Ok((
                end.state,
                end.finished,
                end.outputs
                    .into_iter()
                    .map(|(step, data)| (step, data.map(|b| PyBytes::new(py, &b).unbind())))
                    .collect(),
                end.failures,
            )),
            ToRunner::RunEnded(Err(e)) => Err(pyo3::exceptions::PyRuntimeError::new_err(e)),
            other => Err(unexpected(other)),
        }
    }

    fn done(answer: ToRunner) -> PyResult<()> {
        match answer {
            ToRunner::CacheDone(Ok(())) => Ok(()),
            ToRunner::CacheDone(Err(e)) => Err(pyo3::exceptions::PyRuntimeError::new_err(e)),
            other => Err(unexpected(other)),
        }
    }

    fn unexpected(frame: ToRunner) -> PyErr {
        pyo3::exceptions::PyConnectionError::new_err(format!(
            "protocol error: the node sent {frame:?}, which is not the answer to the runner's request"
        ))
    }
}

/// Runs the runner process; returns its exit code.
pub fn main(lib_dir: &Path, site_dirs: &[std::path::PathBuf], confinement: &Confinement) -> i32 {
    let pid_namespace = match confine::apply(confinement) {
        Ok(Role::Relay(code)) => return code,
        Ok(Role::Runner {
            pid_namespace,
            host_pid,
        }) => {
            // What a step may report as its runner (os.getpid() is 1 in a
            // PID namespace); single-threaded still, so setting is safe.
            std::env::set_var("IS_RUNNER_PID", host_pid.to_string());
            pid_namespace
        }
        Err(e) => {
            // The pipe is not set up yet: the node reads this from stderr.
            eprintln!("{e}");
            return 71;
        }
    };
    // SAFETY: getpid has no preconditions.
    RUNNER_PID.store(unsafe { libc::getpid() }, Ordering::Relaxed);
    // SAFETY: fds 0 and 1 are the pipes the host gave us; nothing else in
    // this process uses them once they are wrapped here, and fd 1 is then
    // pointed at stderr so that writes by C code cannot corrupt the protocol.
    let channel = unsafe {
        let out = libc::dup(1);
        if out < 0 || libc::dup2(2, 1) < 0 {
            eprintln!("runner: cannot set up the protocol pipe");
            return 70;
        }
        Channel {
            input: File::from_raw_fd(0),
            output: File::from_raw_fd(out),
        }
    };
    *CHANNEL.lock().unwrap_or_else(|p| p.into_inner()) = Some(channel);

    pyo3::append_to_inittab!(ishost);
    Python::initialize();
    let result = Python::attach(|py| serve(py, lib_dir, site_dirs, pid_namespace));
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("runner: {e}");
            let _ = send(&FromRunner::RunnerError { message: e.clone() });
            70
        }
    }
}

/// Puts a pack environment's site directories right after the platform's
/// packages and before the interpreter's own site-packages, so a pack's
/// pinned dependencies win over whatever the node's Python has installed.
/// `site.addsitedir` also reads their `.pth` files.
fn add_site_dirs(py: Python<'_>, dirs: &[std::path::PathBuf]) -> PyResult<()> {
    if dirs.is_empty() {
        return Ok(());
    }
    let site = py.import("site")?;
    let path = py.import("sys")?.getattr("path")?;
    let before: usize = path.len()?;
    for d in dirs {
        site.call_method1("addsitedir", (d.to_string_lossy().as_ref(),))?;
    }
    let after: usize = path.len()?;
    let added = path.get_item(pyo3::types::PySlice::new(py, before as isize, after as isize, 1))?;
    path.del_item(pyo3::types::PySlice::new(py, before as isize, after as isize, 1))?;
    path.set_item(pyo3::types::PySlice::new(py, 1, 1, 1), added)?;
    Ok(())
}

fn py_error(py: Python<'_>, e: PyErr) -> String {
    let tb = e.traceback(py).and_then(|t| t.format().ok()).unwrap_or_default();
    format!("{tb}{e}")
}

fn serve(
    py: Python<'_>,
    lib_dir: &Path,
    site_dirs: &[std::path::PathBuf],
    pid_namespace: bool,
) -> Result<(), String> {
    let sys = py.import("sys").map_err(|e| py_error(py, e))?;
    let path = sys.getattr("path").map_err(|e| py_error(py, e))?;
    path.call_method1("insert", (0, lib_dir.to_string_lossy().as_ref()))
        .map_err(|e| py_error(py, e))?;
    add_site_dirs(py, site_dirs).map_err(|e| py_error(py, e))?;
    let runner = py.import("ipaascore._runner").map_err(|e| py_error(py, e))?;
    let json = py.import("json").map_err(|e| py_error(py, e))?;
    let version = Python::version_str()
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    send(&FromRunner::Ready {
        python_version: version,
    })
    .map_err(|e| e.to_string())?;

    loop {
        let frame = match receive() {
            Ok(f) => f,
            Err(FrameError::Closed) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        };
        let answer = match frame {
            ToRunner::Validate {
                class_name,
                source,
                module,
            } => {
                let result = runner
                    .call_method1("validate", (class_name, source, module))
                    .and_then(|r| json.call_method1("dumps", (r,)))
                    .and_then(|s| s.extract::<String>());
                match result {
                    Ok(json) => FromRunner::Validated { json },
                    Err(e) => FromRunner::RunnerError {
                        message: py_error(py, e),
                    },
                }
            }
            ToRunner::Execute {
                request_json,
                upstream_data,
                secrets,
            } => match execute(py, &runner, &json, &request_json, upstream_data, &secrets) {
                Ok(result) => FromRunner::Finished(result),
                Err(e) => FromRunner::RunnerError {
                    message: py_error(py, e),
                },
            },
            other => FromRunner::RunnerError {
                message: format!("protocol error: unexpected frame {other:?} while idle"),
            },
        };
        if !is_runner_process() {
            // A process the step forked came back here: it has no business
            // with the node's pipe.
            // SAFETY: _exit ends this process at once, running nothing else.
            unsafe { libc::_exit(0) };
        }
        confine::end_leftovers(pid_namespace);
        send(&answer).map_err(|e| e.to_string())?;
    }
}

fn execute(
    py: Python<'_>,
    runner: &Bound<'_, PyModule>,
    json: &Bound<'_, PyModule>,
    request_json: &str,
    upstream_data: Vec<Option<Vec<u8>>>,
    secrets: &[(String, String)],
) -> PyResult<ExecResult> {
    let request = json.call_method1("loads", (request_json,))?;
    let request = request.cast_into::<PyDict>()?;
    // The node decrypted the run's encrypted values; their names go to the
    // step API, which masks the values in logs and results.
    if !secrets.is_empty() {
        let config = match request.get_item("config")? {
            Some(c) => c.cast_into::<PyDict>()?,
            None => {
                let c = PyDict::new(py);
                request.set_item("config", &c)?;
                c
            }
        };
        let names = PyList::empty(py);
        for (name, value_json) in secrets {
            config.set_item(name, json.call_method1("loads", (value_json,))?)?;
            names.append(name)?;
        }
        request.set_item("secret_config", names)?;
    }
    if let Some(upstream) = request.get_item("upstream")? {
        let upstream = upstream.cast_into::<PyList>()?;
        for (i, data) in upstream_data.into_iter().enumerate() {
            let entry = upstream.get_item(i)?;
            match data {
                Some(bytes) => entry.set_item("data", PyBytes::new(py, &bytes))?,
                None => entry.set_item("data", py.None())?,
            }
        }
    }
    let result = runner
        .call_method1("execute", (request,))?
        .cast_into::<PyDict>()?;
    let field = |name: &str| result.as_any().get_item(name);
    let pickle = match result.get_item("pickle")? {
        Some(p) if !p.is_none() => Some(p.cast::<PyBytes>()?.as_bytes().to_vec()),
        _ => None,
    };
    let reports = match result.get_item("reports")? {
        Some(text) if !text.is_none() => Some(text.extract::<String>()?),
        _ => None,
    };
    if field("ok")?.extract::<bool>()? {
        Ok(ExecResult::Success {
            pickle,
            json: field("json")?.extract()?,
            reports,
        })
    } else {
        let saved = match result.get_item("json")? {
            Some(json) => Some((json.extract()?, pickle)),
            None => None,
        };
        Ok(ExecResult::Failure {
            error_type: field("error_type")?.extract()?,
            message: field("message")?.extract()?,
            traceback: field("traceback")?.extract()?,
            saved,
            reports,
        })
    }
}
