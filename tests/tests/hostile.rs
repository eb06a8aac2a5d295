//! Hostile steps (issue 13, item 1): each attack of the first list,
//! tried by a step (`fixtures/steps/Hostile.py`) or an uploaded module, is
//! refused or contained — the data directory, the node's environment and
//! keys are out of reach, the library cannot be changed, nothing a step
//! starts outlives it or its node, the memory limit covers a runner's
//! whole tree, and uploads that fail at import in any way answer 400.
//!
//! These tests expect the sandbox this kind of machine (and CI) allows:
//! root, Landlock, namespaces and v1 memory and pids cgroups. Where a
//! protection is missing the start-up line says so and the first test fails.

use std::path::{Path, PathBuf};
use std::time::Duration;

use is_tests::{poll, step_source, Markers, Progress, TestNode};
use serde_json::{json, Value};

/// Runs `Hostile` with `params` and answers what it saved; the step itself
/// must succeed (it records failures instead of raising).
async fn attack(node: &TestNode, params: Value) -> Value {
    let mut body = json!({"name": "Hostile"});
    body.as_object_mut()
        .unwrap()
        .extend(params.as_object().unwrap().clone());
    let (status, task) = node
        .rest("POST", "/api/v1/steps/run?wait=30", Some(&body))
        .await
        .unwrap();
    assert_eq!(status, 200, "{task}");
    assert_eq!(task["state"], "SUCCESS", "{params}: {task}");
    task["result"].clone()
}

/// Asserts the attack was refused by the system (an OSError), not by chance.
fn refused(what: &str, result: &Value) {
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("PermissionError"),
        "{what} was not refused: {result}"
    );
}

/// Processes whose command line holds `token` as an argument.
fn processes_with(token: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let zombie = std::fs::read_to_string(e.path().join("stat")).is_ok_and(|s| s.contains(") Z "));
        if !zombie && cmdline.split(|b| *b == 0).any(|arg| arg == token.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// A command-line argument no other process has.
fn unique_token() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("is-hostile-{}-{nanos}-{n}", std::process::id())
}

async fn hostile_node(env: &[(&str, &str)]) -> TestNode {
    let node = TestNode::start_with(env).await.unwrap();
    node.put_step("Hostile").await.unwrap();
    node
}

#[tokio::test]
async fn the_start_up_log_lists_the_protections_in_force() {
    let node = TestNode::start().await.unwrap();
    let log = node.log();
    let line = log
        .lines()
        .find(|l| l.contains("runner sandbox:"))
        .unwrap_or_else(|| panic!("no sandbox line in the log:\n{log}"));
    for protection in [
        "landlock abi",
        "uid 65534 (nobody)",
        "pid namespace",
        "no_new_privs",
        "cleared env",
        "private tmp",
        "memory+pids cgroup",
        "node not dumpable",
        "unavailable: none",
    ] {
        assert!(
            line.contains(protection),
            "{protection:?} is not in force: {line}"
        );
    }
}

#[tokio::test]
async fn a_step_reads_nothing_of_the_data_directory_the_node_or_other_runners() {
    let cluster_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cluster_listen = format!("127.0.0.1:{cluster_port}");
    let secret = "a-cluster-secret-no-step-may-see";
    let node = hostile_node(&[
        ("IS_WORKERS", "2"),
        ("IS_CLUSTER_SECRET", secret),
        ("IS_CLUSTER_LISTEN", &cluster_listen),
    ])
    .await;
    let data = node.data_dir();
    // The harness sets IS_ADMIN_PASSWORD, so the node wrote no password
    // file; this one is written as the node writes it (0600).
    let password_file = data.join("initial-admin-password");
    std::fs::write(&password_file, "not-for-steps\n").unwrap();
    std::fs::set_permissions(
        &password_file,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let node_pid = node.pid().unwrap();
    let path = |p: &Path| p.to_string_lossy().into_owned();

    let reads: Vec<(&str, PathBuf)> = vec![
        ("the Raft log", data.join("raft/log.dat")),
        ("the Raft metadata", data.join("raft/meta.dat")),
        (
            "the state store holding the cluster key",
            data.join("raft/state.redb"),
        ),
        ("the admin password file", password_file.clone()),
        (
            "the node's environment",
            PathBuf::from(format!("/proc/{node_pid}/environ")),
        ),
        (
            "the node's memory",
            PathBuf::from(format!("/proc/{node_pid}/mem")),
        ),
        ("the system's password hashes", PathBuf::from("/etc/shadow")),
    ];
    for (what, file) in reads {
        assert!(file.exists(), "{} must exist for this check", file.display());
        let result = attack(&node, json!({"attack": "read", "path": path(&file)})).await;
        refused(what, &result);
    }
    for (what, dir) in [
        ("the data directory", data.clone()),
        ("the Raft directory", data.join("raft")),
    ] {
        let result = attack(&node, json!({"attack": "list", "path": path(&dir)})).await;
        refused(what, &result);
    }

    // Its own environment: only what Python needs; no secret of the node.
    let env = attack(&node, json!({"attack": "environ"})).await;
    assert_eq!(env["is_vars"], json!([]), "{env}");
    let allowed = [
        "HOME",
        "IS_RUNNER_PID",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "PATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONFAULTHANDLER",
        "PYTHONHOME",
        "PYTHONUNBUFFERED",
        "TMPDIR",
    ];
    for name in env["names"].as_array().unwrap() {
        assert!(
            allowed.contains(&name.as_str().unwrap()),
            "unexpected variable {name}: {env}"
        );
    }
    let tmp = PathBuf::from(env["tmpdir"].as_str().unwrap());
    assert_eq!(env["home"], env["tmpdir"], "{env}");
    assert!(tmp.starts_with(data.join("tmp")), "{env}");
    // Every other runner (the other worker's, the upload validator's) has
    // its own temporary directory, closed to this one.
    let dirs: Vec<String> = std::fs::read_dir(data.join("tmp"))
        .unwrap()
        .flatten()
        .map(|e| path(&e.path()))
        .collect();
    let result = attack(&node, json!({"attack": "list_others", "path": dirs})).await;
    let others = result["others"].as_object().unwrap();
    assert!(!others.is_empty(), "no other runner to try: {result}");
    for (dir, answer) in others {
        refused(
            &format!("another runner's directory {dir}"),
            &json!({"error": answer}),
        );
    }
    // Nor may it signal the node: outside its PID namespace, the node's pid
    // names no process it can see.
    let result = attack(&node, json!({"attack": "kill", "pid": node_pid})).await;
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("ProcessLookupError") || error.starts_with("PermissionError"),
        "a signal to the node was not refused: {result}"
    );
    let (status, _) = node.rest("GET", "/api/v1/about", None).await.unwrap();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_step_cannot_change_the_library_every_runner_imports() {
    let node = hostile_node(&[]).await;
    let lib = node.data_dir().join("python/lib");
    let base_step = lib.join("ipaascore/BaseStep.py");
    let before = std::fs::read(&base_step).unwrap();
    for (what, file) in [
        ("a new module shadowing json", lib.join("json.py")),
        ("the step API", base_step.clone()),
    ] {
        let result = attack(&node, json!({"attack": "write", "path": file.to_string_lossy()})).await;
        refused(what, &result);
    }
    assert!(!lib.join("json.py").exists(), "json.py was planted");
    assert_eq!(std::fs::read(&base_step).unwrap(), before, "the library changed");
}

/// Runs `Hostile detach` until its grandchild (setsid, double fork) is seen;
/// answers the task id and the token in the grandchild's command line.
async fn start_detached(node: &TestNode, markers: &Markers) -> (String, String) {
    let token = unique_token();
    let body = json!({"name": "Hostile", "attack": "detach", "token": token,
                      "wait_for": markers.path("end")});
    let (status, accepted) = node
        .rest("POST", "/api/v1/steps/run?wait=0", Some(&body))
        .await
        .unwrap();
    assert_eq!(status, 202, "{accepted}");
    poll(Duration::from_secs(30), async || {
        Ok(match processes_with(&token).len() {
            1 => Progress::Done(()),
            n => Progress::NotYet(format!("{n} processes with {token}, not 1")),
        })
    })
    .await
    .unwrap();
    (accepted["id"].as_str().unwrap().to_string(), token)
}

#[tokio::test]
async fn a_detached_child_ends_with_its_step() {
    let node = hostile_node(&[("IS_WORKERS", "1")]).await;
    let markers = Markers::new().unwrap();
    let (id, token) = start_detached(&node, &markers).await;
    markers.set("end").unwrap();
    let task = node.wait_terminal(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(task["state"], "SUCCESS", "{task}");
    // Killed and reaped before the runner answered.
    assert_eq!(
        processes_with(&token),
        Vec::<u32>::new(),
        "the detached child outlived its step"
    );
}

#[tokio::test]
async fn a_detached_child_ends_with_a_killed_node() {
    let mut node = hostile_node(&[("IS_WORKERS", "1")]).await;
    let markers = Markers::new().unwrap();
    let (_, token) = start_detached(&node, &markers).await;
    node.kill9();
    // The kernel kills the namespace once its first process is gone.
    poll(Duration::from_secs(5), async || {
        Ok(match processes_with(&token).as_slice() {
            [] => Progress::Done(()),
            left => Progress::NotYet(format!("{left:?} still run 5 s after kill -9 of the node")),
        })
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_memory_limit_covers_a_runners_whole_tree() {
    let node = hostile_node(&[("IS_WORKERS", "1"), ("IS_RUNNER_MEMORY_MB", "512")]).await;
    // Each child stays well under the per-process limit; together they do not.
    let body = json!({"name": "Hostile", "attack": "memory", "mb": 200});
    let (status, task) = node
        .rest("POST", "/api/v1/steps/run?wait=60", Some(&body))
        .await
        .unwrap();
    assert_eq!(status, 200, "{task}");
    match task["state"].as_str() {
        // The kernel killed the runner itself: contained too.
        Some("FAILURE") => assert!(task["error"].as_str().unwrap().contains("SIGKILL"), "{task}"),
        _ => {
            let statuses = &task["result"]["statuses"];
            let whole = statuses
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| *s == "exit 0")
                .count();
            assert!(
                whole < 3,
                "three children held 600 MB under a 512 MiB limit: {task}"
            );
        }
    }
    // The node heals: a new runner serves the next step.
    let result = attack(&node, json!({"attack": "environ"})).await;
    assert_eq!(result["is_vars"], json!([]), "{result}");
}

#[tokio::test]
async fn uploads_that_fail_at_import_answer_400_and_leave_nothing_running() {
    let node = TestNode::start_with(&[("IS_VALIDATION_TIMEOUT_SECONDS", "3")])
        .await
        .unwrap();
    // A child that leaves the session and sleeps named `token`; the module
    // goes on once the child has exec'd (its copy of the close-on-exec
    // pipe is closed then), so the child surely runs when the module fails.
    let spawn_child = |token: &str| {
        format!(
            "import os\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n    \
             os.execv('/bin/sleep', ['{token}', '3600'])\nos.close(w)\nos.read(r, 1)\n"
        )
    };
    let raising = unique_token();
    let sleeping = unique_token();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "exception",
            format!("{}raise ValueError('no')\n", spawn_child(&raising)),
            "ValueError",
        ),
        (
            "os._exit",
            "import os\nos._exit(9)\n".into(),
            "exited with status 9",
        ),
        (
            "segfault",
            "import ctypes\nctypes.string_at(0)\n".into(),
            "SIGSEGV",
        ),
        (
            "sleep past the timeout",
            format!("{}import time\ntime.sleep(3600)\n", spawn_child(&sleeping)),
            "longer than 3 s",
        ),
        (
            "fork bomb",
            "import os\nwhile True:\n    os.fork()\n".into(),
            "does not load",
        ),
    ];
    for (way, source, says) in cases {
        let name = format!("Fails{}", way.replace(|c: char| !c.is_ascii_alphanumeric(), ""));
        let body = json!({"name": name, "data": format!("{source}\nclass {name}:\n    pass\n")});
        let upload = node.refused("POST", "/api/v1/steps", Some(&body), 400, "does not load");
        // While the hanging module loads, its child is seen running.
        let seen = async {
            if way != "sleep past the timeout" {
                return Ok(());
            }
            poll(Duration::from_secs(10), async || {
                Ok(match processes_with(&sleeping).len() {
                    1 => Progress::Done(()),
                    n => Progress::NotYet(format!("{n} processes named {sleeping} while loading")),
                })
            })
            .await
        };
        let (answer, seen) = tokio::join!(upload, seen);
        let answer = answer.unwrap();
        seen.unwrap();
        // The child of the first case was running when its module raised.
        if way == "exception" {
            assert_eq!(
                processes_with(&raising),
                Vec::<u32>::new(),
                "its import-time child outlived it"
            );
        }
        assert!(answer.to_string().contains(says), "{way}: {answer}");
        // The next upload is checked as usual.
        let good = json!({"name": "Hostile", "data": step_source("Hostile").unwrap()});
        let (status, body) = node.rest("POST", "/api/v1/steps", Some(&good)).await.unwrap();
        assert_eq!(status, 200, "after {way}: {body}");
    }
    // The child of the module that hung is killed with its runner.
    poll(Duration::from_secs(5), async || {
        Ok(match processes_with(&sleeping).as_slice() {
            [] => Progress::Done(()),
            left => Progress::NotYet(format!("{left:?} outlived the timed-out validation")),
        })
    })
    .await
    .unwrap();
}
