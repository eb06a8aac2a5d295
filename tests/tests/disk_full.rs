//! A full disk (issue 15): the node says so — writes refused naming the
//! disk, `/ready` answering `storage-failed` — and once space is back it
//! writes again by itself, without a restart, having lost nothing it
//! acknowledged. The data directory is a small tmpfs the test mounts, so
//! it needs root: a plain `cargo test` leaves it out (#[ignore]);
//! tests/run-all.sh runs it, and there a missing root fails it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use is_tests::{poll, Progress, TestNode};
use serde_json::{json, Value};

/// A tmpfs mounted on a directory; unmounted (lazily: the node may still
/// hold files in it) when dropped, also on a panic.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs> {
        std::fs::create_dir_all(dir)?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .context("run mount")?;
        if !out.status.success() {
            bail!(
                "cannot mount a tmpfs on {} (this test needs root): {}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Tmpfs(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        // The temporary directory could not remove the mount point.
        if let Some(parent) = self.0.parent() {
            let _ = std::fs::remove_dir_all(parent);
        }
    }
}

/// Writes `path` until the file system has no space left.
fn fill(path: &Path) -> Result<()> {
    let mut f = std::fs::File::create(path)?;
    let chunk = vec![0x5a_u8; 64 << 10];
    loop {
        if let Err(e) = f.write_all(&chunk) {
            anyhow::ensure!(e.raw_os_error() == Some(28), "filling {}: {e}", path.display());
            break;
        }
    }
    // What a whole chunk no longer fitted in, a page at a time.
    loop {
        if f.write_all(&chunk[..4096]).is_err() {
            return Ok(());
        }
    }
}

/// A node whose data directory is a 96 MiB tmpfs of its own, with the
/// `Greet` step uploaded. Drop the node before the mount.
async fn node_on_tmpfs() -> (TestNode, Tmpfs) {
    let dir = tempfile::tempdir().unwrap();
    let tmpfs = Tmpfs::mount(&dir.path().join("data"), "96m").unwrap();
    let node = TestNode::start_in(dir, &[]).await.unwrap();
    node.put_step("Greet").await.unwrap();
    (node, tmpfs)
}

fn app(name: &str) -> Value {
    json!({"name": name, "steps": [{"name": "G", "file": "Greet", "who": "x"}]})
}

async fn ready_word(node: &TestNode) -> Result<(u16, String)> {
    let resp = node.http.get(node.url("/ready")).send().await?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await?;
    Ok((status, body["status"].as_str().unwrap_or_default().to_string()))
}

/// Polls `/ready` until it answers `want`.
async fn until_ready_says(node: &TestNode, want: &str) -> Result<()> {
    poll(Duration::from_secs(60), async || {
        let (status, word) = ready_word(node).await?;
        Ok(if word == want {
            Progress::Done(status)
        } else {
            Progress::NotYet(format!("/ready answered {status} {word}, not {want}"))
        })
    })
    .await
    .map(|_| ())
}

/// The value of the `is_storage_fault` gauge.
async fn storage_fault_gauge(node: &TestNode) -> Result<String> {
    let (status, _, body) = node.get_raw("/metrics").await?;
    anyhow::ensure!(status == 200, "GET /metrics answered {status}");
    let text = String::from_utf8(body)?;
    text.lines()
        .find_map(|l| l.strip_prefix("is_storage_fault "))
        .map(str::to_string)
        .context("no is_storage_fault series in /metrics")
}

/// Everything acknowledged is there: the applications and the run.
async fn check_acknowledged(node: &TestNode, apps: &[String], run_id: &str) -> Result<()> {
    for name in apps {
        let (status, body) = node
            .rest("GET", &format!("/api/v1/applications/{name}"), None)
            .await?;
        anyhow::ensure!(
            status == 200,
            "application {name} acknowledged, now {status}: {body}"
        );
    }
    let (status, run) = node.rest("GET", &format!("/api/v1/tasks/{run_id}"), None).await?;
    anyhow::ensure!(
        status == 200 && run["state"] == "SUCCESS",
        "the run finished before the fault is {status}: {run}"
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs root to mount a tmpfs; run-all.sh runs it"]
async fn a_full_then_freed_disk_resumes_writes_without_restart() {
    let (mut node, tmpfs) = node_on_tmpfs().await;

    // Acknowledged before the fault: a step, an application, a finished run.
    let mut acknowledged = vec!["before".to_string()];
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app("before")))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let run = node.run_app("before", Duration::from_secs(60)).await.unwrap();
    assert_eq!(run["state"], "SUCCESS", "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();

    let filler = tmpfs.0.join("filler");
    fill(&filler).unwrap();

    // Writes are refused, naming the disk (a few may still fit in pages the
    // files hold already: those are acknowledged, so kept).
    let mut n = 0;
    let refusal = poll(Duration::from_secs(120), async || {
        n += 1;
        let name = format!("during-{n}");
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&app(&name)))
            .await?;
        Ok(match status {
            200 => {
                acknowledged.push(name);
                Progress::NotYet(format!("writes were still accepted: {body}"))
            }
            _ => Progress::Done((status, body)),
        })
    })
    .await
    .unwrap();
    let (status, body) = refusal;
    let error = body["error"].as_str().unwrap_or_default();
    assert_eq!(status, 503, "{body}");
    assert!(
        error.contains("disk is full") && error.contains("No space left on device"),
        "the refusal does not name the full disk: {body}"
    );
    until_ready_says(&node, "storage-failed").await.unwrap();
    assert_eq!(storage_fault_gauge(&node).await.unwrap(), "1");
    assert!(
        node.log().contains("disk is full"),
        "the log does not say it:\n{}",
        node.log()
    );
    // Reads go on.
    check_acknowledged(&node, &acknowledged, &run_id).await.unwrap();

    // Space is back: the same process takes writes again.
    let pid = node.pid();
    std::fs::remove_file(&filler).unwrap();
    until_ready_says(&node, "ready").await.unwrap();
    assert_eq!(storage_fault_gauge(&node).await.unwrap(), "0");
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app("after")))
        .await
        .unwrap();
    assert_eq!(status, 200, "a write after space came back: {body}");
    acknowledged.push("after".into());
    let again = node.run_app("after", Duration::from_secs(60)).await.unwrap();
    assert_eq!(again["state"], "SUCCESS", "{again}");
    assert_eq!(node.pid(), pid, "the node was restarted");
    check_acknowledged(&node, &acknowledged, &run_id).await.unwrap();

    // And all of it is on disk.
    node.restart().await.unwrap();
    check_acknowledged(&node, &acknowledged, &run_id).await.unwrap();
    drop(node);
    drop(tmpfs);
}

/// The disk fills while a run is under way, so whichever writer meets it
/// first (the Raft log's or the state store's) waits it out; the run
/// finishes once space is back.
#[tokio::test]
#[ignore = "needs root to mount a tmpfs; run-all.sh runs it"]
async fn a_disk_filling_during_a_run_holds_it_until_space_is_back() {
    let (mut node, tmpfs) = node_on_tmpfs().await;
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app("during")))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let (status, run) = node
        .rest("POST", "/api/v1/applications/during/run", Some(&json!({})))
        .await
        .unwrap();
    assert!(status == 200 || status == 202, "{run}");
    let run_id = run["id"].as_str().unwrap().to_string();
    let filler = tmpfs.0.join("filler");
    fill(&filler).unwrap();

    // Some write meets the full disk (the run's own, or one of these).
    let mut n = 0;
    let mut acknowledged = vec!["during".to_string()];
    poll(Duration::from_secs(120), async || {
        n += 1;
        let name = format!("more-{n}");
        let (status, body) = node
            .rest("POST", "/api/v1/applications", Some(&app(&name)))
            .await?;
        Ok(match status {
            200 => {
                acknowledged.push(name);
                Progress::NotYet(format!("writes were still accepted: {body}"))
            }
            _ => Progress::Done(()),
        })
    })
    .await
    .unwrap();
    until_ready_says(&node, "storage-failed").await.unwrap();
    // Reads of what memory holds go on.
    let (status, body) = node
        .rest("GET", "/api/v1/applications/during", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    std::fs::remove_file(&filler).unwrap();
    until_ready_says(&node, "ready").await.unwrap();
    let done = node
        .wait_terminal(&run_id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}");
    node.restart().await.unwrap();
    check_acknowledged(&node, &acknowledged, &run_id).await.unwrap();
    drop(node);
    drop(tmpfs);
}
