//! What a client sees while the leader of a 3-node cluster dies (issue 15):
//! submissions to a follower wait for the next leader instead of being
//! refused, and none of them creates a second run; a run asked for twice
//! with one idempotency key is one run; `iscli -H a,b,c` goes on to the
//! next host when the first does not answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use is_tests::cluster::LocalCluster;
use is_tests::{poll, step_source, Progress, PASSWORD};
use serde_json::{json, Value};

/// Uploads a one-step application `one` through node `i`.
async fn upload(c: &LocalCluster, i: usize, marker_dir: &str) -> Result<()> {
    c.post_ok(
        i,
        "/api/v1/steps",
        &json!({"name": "Mark", "data": step_source("Mark")?}),
    )
    .await?;
    let app = json!({"name": "one", "steps": [{"name": "s0", "file": "Mark", "marker_dir": marker_dir}]});
    c.post_ok(i, "/api/v1/applications", &app).await?;
    Ok(())
}

/// `POST /applications/run` on node `i`, with an idempotency key if given.
async fn submit(c: &LocalCluster, i: usize, key: Option<&str>) -> Result<(u16, Value)> {
    let mut req = c
        .http
        .post(c.url(i, "/api/v1/applications/run?wait=0"))
        .basic_auth("isadmin", Some(PASSWORD))
        .json(&json!({"name": "one"}));
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

/// What the submitting clients saw.
#[derive(Default)]
struct Seen {
    accepted: Vec<String>,
    refused: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_refuses_no_submission_to_a_follower_and_duplicates_no_run() -> Result<()> {
    let c = Arc::new(LocalCluster::up(3, &[]).await?);
    c.wait_healthy(Duration::from_secs(30)).await?;
    let leader = c.leader()?;
    let follower = leader % 3 + 1;
    let marker = is_tests::shared_tempdir()?;
    upload(&c, follower, &marker.path().to_string_lossy()).await?;

    // Two clients submit to the follower without pause, one of them with an
    // idempotency key per submission, the other without (the node's own
    // retries must not duplicate a run either).
    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..2 {
        let (c, seen, stop) = (c.clone(), seen.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let key = (client == 0).then(|| format!("failover-{n}"));
                let answer = submit(&c, follower, key.as_deref()).await;
                let mut seen = seen.lock().unwrap();
                match answer {
                    Ok((200, run)) => seen
                        .accepted
                        .push(run["id"].as_str().unwrap_or_default().to_string()),
                    other => seen.refused.push(format!("{other:?}")),
                }
            }
        }));
    }
    let accepted = |n: usize| {
        let seen = seen.clone();
        async move {
            poll(Duration::from_secs(120), async || {
                Ok(if seen.lock().unwrap().accepted.len() >= n {
                    Progress::Done(())
                } else {
                    Progress::NotYet(format!("fewer than {n} submissions accepted"))
                })
            })
            .await
        }
    };
    accepted(30)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs()))?;
    c.kill(leader)?;
    let before = seen.lock().unwrap().accepted.len();
    // Submissions go on until a new leader has taken some.
    poll(Duration::from_secs(60), async || {
        Ok(match c.leader() {
            Ok(l) if l != leader => Progress::Done(()),
            _ => Progress::NotYet("no new leader".into()),
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs()))?;
    accepted(before + 30)
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs()))?;
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await?;
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.refused.is_empty(),
        "{} of {} submissions were refused during the failover: {:?}\n{}",
        seen.refused.len(),
        seen.refused.len() + seen.accepted.len(),
        seen.refused.iter().take(5).collect::<Vec<_>>(),
        c.logs()
    );
    let distinct: std::collections::BTreeSet<&String> = seen.accepted.iter().collect();
    assert_eq!(
        distinct.len(),
        seen.accepted.len(),
        "every accepted submission got its own run"
    );
    // Every run the cluster holds is one a client was answered: none was
    // created twice by a retry.
    assert_eq!(
        c.count_runs(follower).await?,
        seen.accepted.len(),
        "runs listed vs submissions accepted"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_asked_for_twice_with_one_idempotency_key_is_one_run() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    c.wait_healthy(Duration::from_secs(30)).await?;
    let leader = c.leader()?;
    let follower = leader % 3 + 1;
    let marker = is_tests::shared_tempdir()?;
    upload(&c, leader, &marker.path().to_string_lossy()).await?;

    // Through a follower, then again through the leader (a client that
    // lost the first answer and asks another node).
    let (status, first) = submit(&c, follower, Some("key-1")).await?;
    assert_eq!(status, 200, "{first}");
    let (status, again) = submit(&c, leader, Some("key-1")).await?;
    assert_eq!(status, 200, "{again}");
    assert_eq!(first["id"], again["id"], "the same run answers");
    assert_eq!(c.count_runs(leader).await?, 1);

    // Another key, or none, is another run.
    let (_, other) = submit(&c, leader, Some("key-2")).await?;
    assert_ne!(other["id"], first["id"]);
    let (_, unkeyed) = submit(&c, leader, None).await?;
    assert_ne!(unkeyed["id"], first["id"]);
    assert_eq!(c.count_runs(leader).await?, 3);

    // A key that is not text is refused before anything is done.
    let (status, refused) = submit(&c, leader, Some("with space")).await?;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(c.count_runs(leader).await?, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iscli_with_several_hosts_skips_one_that_does_not_answer() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    c.wait_healthy(Duration::from_secs(30)).await?;
    let leader = c.leader()?;
    let marker = is_tests::shared_tempdir()?;
    upload(&c, leader, &marker.path().to_string_lossy()).await?;
    let dead = is_tests::ClosedPort::new()?;
    let follower = leader % 3 + 1;
    let hosts = format!(
        "127.0.0.1:{},127.0.0.1:{}",
        dead.port,
        c.base_port + follower as u16
    );
    let out = is_tests::iscli_bare()
        .args(["-H", &hosts, "-i", "-U", "isadmin", "-p", PASSWORD])
        .args(["app", "run", "one", "--wait", "0", "--json"])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "iscli failed: {stderr}");
    let run: Value = serde_json::from_slice(&out.stdout)?;
    let id = run["id"].as_str().unwrap_or_default();
    assert!(id.starts_with("isapp-"), "{run}");
    assert_eq!(c.count_runs(leader).await?, 1, "one run started");

    // Every host dead: the message names the last one tried.
    let dead2 = is_tests::ClosedPort::new()?;
    let out = is_tests::iscli_bare()
        .args(["-H", &format!("127.0.0.1:{},127.0.0.1:{}", dead.port, dead2.port)])
        .args(["-i", "-U", "isadmin", "-p", PASSWORD, "app", "list"])
        .output()?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot connect to 127.0.0.1:{}", dead2.port)),
        "{stderr}"
    );
    Ok(())
}
