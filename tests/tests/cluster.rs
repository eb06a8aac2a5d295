//! Cluster behaviour with real processes (deploy/local/cluster.sh): writes
//! through any node, failover when the leader is killed under load, rolling
//! restarts, and a member that lost its data catching up from a snapshot.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use is_tests::cluster::LocalCluster;
use is_tests::{poll, step_source, Markers, Progress};
use serde_json::{json, Value};

fn chain_app(name: &str, steps: usize, marker_dir: &str) -> Value {
    let steps: Vec<Value> = (0..steps)
        .map(|i| {
            let mut s = json!({"name": format!("s{i}"), "file": "Mark", "marker_dir": marker_dir});
            if i + 1 < steps {
                s["output_to"] = json!([format!("s{}", i + 1)]);
            }
            s
        })
        .collect();
    json!({"name": name, "steps": steps})
}

async fn upload(c: &LocalCluster, node: usize, marker_dir: &str) -> Result<()> {
    // Mark records each execution of a step task in a file under marker_dir.
    c.post_ok(
        node,
        "/api/v1/steps",
        &json!({"name": "Mark", "data": step_source("Mark")?}),
    )
    .await?;
    c.post_ok(node, "/api/v1/applications", &chain_app("five", 5, marker_dir))
        .await?;
    Ok(())
}

/// Submits runs of `app` round-robin over the live nodes until `stop` is
/// set or `count` are accepted; a refused or failed submission is retried
/// on the next node. Answers the ids of the accepted runs.
async fn submit_load(
    c: Arc<LocalCluster>,
    app: &'static str,
    count: usize,
    clients: usize,
    accepted: Arc<Mutex<Vec<String>>>,
) -> Result<()> {
    let mut handles = Vec::new();
    for client in 0..clients {
        let c = c.clone();
        let accepted = accepted.clone();
        handles.push(tokio::spawn(async move {
            let mut node = client % c.size + 1;
            loop {
                if accepted.lock().unwrap().len() >= count {
                    return anyhow::Ok(());
                }
                let answer = c
                    .rest(
                        node,
                        "POST",
                        "/api/v1/applications/run?wait=0",
                        Some(&json!({"name": app})),
                    )
                    .await;
                match answer {
                    Ok((200, status)) => {
                        let id = status["id"].as_str().unwrap_or_default().to_string();
                        let mut a = accepted.lock().unwrap();
                        if a.len() < count {
                            a.push(id);
                        }
                    }
                    _ => {
                        // A pause before the retry, so a node that is down
                        // or electing is not asked in a tight loop.
                        node = node % c.size + 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(())
}

/// Waits for every run on any live node; answers the states seen.
async fn final_states(c: &LocalCluster, ids: &[String], via: usize) -> Result<BTreeMap<String, usize>> {
    let mut states = BTreeMap::new();
    for id in ids {
        let status = c.wait_terminal(via, id, Duration::from_secs(60)).await?;
        *states
            .entry(status["state"].as_str().unwrap_or("?").to_string())
            .or_insert(0) += 1;
    }
    Ok(states)
}

/// Executions per step task, from the marker files.
fn executions(marker_dir: &std::path::Path) -> BTreeMap<String, usize> {
    std::fs::read_dir(marker_dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let n = std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .lines()
                        .count();
                    (e.file_name().to_string_lossy().into_owned(), n)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn other_than(c: &LocalCluster, i: usize) -> usize {
    i % c.size + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_form_one_cluster_and_every_node_takes_writes() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    let leader = c.leader()?;
    c.wait_healthy(Duration::from_secs(20)).await?;
    let (status, cluster) = c.rest(leader, "GET", "/api/v1/cluster", None).await?;
    assert_eq!(status, 200);
    assert_eq!(cluster["leader"], json!(leader));
    assert_eq!(cluster["members"].as_array().unwrap().len(), 3, "{cluster}");

    // Content written through a follower is readable there at once, and on
    // the other follower once replicated.
    let follower = other_than(&c, leader);

    // A follower shows the leader's view of every member's health.
    let (status, seen) = c.rest(follower, "GET", "/api/v1/cluster", None).await?;
    assert_eq!(status, 200);
    assert_eq!(seen["answered_by"], json!(follower), "{seen}");
    assert_eq!(seen["health_seen_by"], json!(leader), "{seen}");
    for m in seen["members"].as_array().unwrap() {
        assert_eq!(m["health"], "up", "{seen}");
        assert_eq!(m["this_node"], json!(m["id"] == json!(follower)), "{seen}");
    }
    let marker = is_tests::shared_tempdir()?;
    upload(&c, follower, &marker.path().to_string_lossy()).await?;
    let (status, _) = c.rest(follower, "GET", "/api/v1/applications/five", None).await?;
    assert_eq!(status, 200, "read-your-writes on the node written to");
    let third = (1..=3).find(|i| *i != leader && *i != follower).unwrap();
    c.poll_until(
        third,
        "/api/v1/applications/five",
        Duration::from_secs(10),
        |s, _| s == 200,
    )
    .await?;

    // A run started through a follower runs to the end.
    let (status, run) = c
        .rest(
            third,
            "POST",
            "/api/v1/applications/run?wait=20",
            Some(&json!({"name": "five"})),
        )
        .await?;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["state"], "SUCCESS", "{run}");
    assert_eq!(executions(marker.path()).len(), 5);

    // Without the cluster secret, the internal service refuses the call.
    let secretless = async |method: &str, body: Vec<u8>| -> Result<String> {
        let resp = c
            .http
            .post(c.url(
                leader,
                &format!("/integration.internal.v1.ClusterInternal/{method}"),
            ))
            .header("content-type", "application/grpc")
            .body(body)
            .send()
            .await?;
        Ok(resp
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string())
    };
    assert_eq!(
        secretless("Vote", vec![0u8, 0, 0, 0, 0]).await?,
        "16",
        "UNAUTHENTICATED without the secret"
    );
    // A message announced as 512 MiB is refused from its headers: the
    // secret is checked before the node reads (or waits for) the body.
    let mut huge = vec![0u8, 0x20, 0, 0, 0];
    huge.extend_from_slice(&[7u8; 64]);
    assert_eq!(
        secretless("AppendEntries", huge).await?,
        "16",
        "refused before the message is read"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_leader_under_load_loses_no_run() -> Result<()> {
    let c = Arc::new(LocalCluster::up(3, &[]).await?);
    let marker = is_tests::shared_tempdir()?;
    let first = c.leader()?;
    upload(&c, first, &marker.path().to_string_lossy()).await?;

    let accepted = Arc::new(Mutex::new(Vec::new()));
    let load = tokio::spawn(submit_load(c.clone(), "five", 200, 4, accepted.clone()));
    // Kill the leader once a quarter of the runs are in.
    poll(Duration::from_secs(60), async || {
        Ok(if accepted.lock().unwrap().len() >= 50 {
            Progress::Done(())
        } else {
            Progress::NotYet("the load did not start".into())
        })
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs()))?;
    c.kill(first)?;
    load.await??;
    let ids = accepted.lock().unwrap().clone();
    assert_eq!(ids.len(), 200);
    let survivor = other_than(&c, first);
    let states = final_states(&c, &ids, survivor).await?;
    assert_eq!(
        states.get("SUCCESS"),
        Some(&200),
        "every accepted run succeeds: {states:?}"
    );
    assert_ne!(c.leader()?, first, "a new leader took over");

    let runs = executions(marker.path());
    let duplicated = runs.values().filter(|n| **n > 1).count();
    eprintln!(
        "kill-the-leader: 200 runs accepted, 200 SUCCESS, 0 lost; {} step executions for {} step tasks, {duplicated} tasks ran more than once",
        runs.values().sum::<usize>(),
        runs.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_no_run() -> Result<()> {
    let c = Arc::new(LocalCluster::up(3, &[]).await?);
    let marker = is_tests::shared_tempdir()?;
    upload(&c, 1, &marker.path().to_string_lossy()).await?;

    let accepted = Arc::new(Mutex::new(Vec::new()));
    let load = tokio::spawn(submit_load(c.clone(), "five", 150, 2, accepted.clone()));
    for i in 1..=3 {
        c.stop(i)?;
        c.start(i)?;
        c.wait_healthy(Duration::from_secs(30)).await?;
    }
    load.await??;
    let ids = accepted.lock().unwrap().clone();
    let states = final_states(&c, &ids, c.leader()?).await?;
    assert_eq!(
        states.get("SUCCESS"),
        Some(&ids.len()),
        "every accepted run succeeds: {states:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_lost_its_data_catches_up_from_a_snapshot() -> Result<()> {
    let c = LocalCluster::up(3, &[("IS_SNAPSHOT_EVERY", "20"), ("IS_KEEP_AFTER_SNAPSHOT", "5")]).await?;
    let leader = c.leader()?;
    let lost = other_than(&c, leader);
    for i in 0..60 {
        let doc = json!({"name": format!("cfg{i}"), "configuration_data": [{"name": "v", "value": i}]});
        c.post_ok(leader, "/api/v1/configurations", &doc).await?;
    }
    c.stop(lost)?;
    std::fs::remove_dir_all(c.dir.path().join(format!("node{lost}")))?;
    c.start(lost)?;
    let names = c
        .poll_until(lost, "/api/v1/configurations", Duration::from_secs(30), |s, b| {
            s == 200 && b.as_array().is_some_and(|a| a.len() == 60)
        })
        .await?;
    let names: HashSet<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains("cfg0") && names.contains("cfg59"));
    let (_, cluster) = c.rest(lost, "GET", "/api/v1/cluster", None).await?;
    assert!(
        cluster["snapshot_index"].as_u64().is_some(),
        "the member was rebuilt from a snapshot: {cluster}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_leader_hands_leadership_over_and_exits_cleanly() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    c.wait_healthy(Duration::from_secs(20)).await?;
    let first = c.leader()?;
    c.stop(first)?;
    let log = std::fs::read_to_string(c.dir.path().join(format!("node{first}.log")))?;
    assert!(
        log.contains("leadership handover") && log.contains("handed=true"),
        "the leader handed over before exiting:\n{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    let next = c.leader()?;
    assert_ne!(next, first);
    let doc = json!({"name": "after-handover", "configuration_data": []});
    c.post_ok(next, "/api/v1/configurations", &doc).await?;
    Ok(())
}

/// The worker of a task's last attempt (e.g. "node2/worker-1"), once recorded.
async fn worker_of(c: &LocalCluster, via: usize, task_id: &str) -> Result<Option<String>> {
    let (_, task) = c
        .rest(via, "GET", &format!("/api/v1/tasks/{task_id}"), None)
        .await?;
    Ok(task["attempts"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|a| a["worker"].as_str())
        .map(String::from))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_on_a_node_that_dies_runs_again_on_another_node() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    c.wait_healthy(Duration::from_secs(20)).await?;
    let leader = c.leader()?;
    // Nap runs until the test creates its marker file, so every nap is
    // still running when a node is killed.
    c.post_ok(
        leader,
        "/api/v1/steps",
        &json!({"name": "Nap", "data": step_source("Nap")?}),
    )
    .await?;
    let markers = Markers::new()?;
    let app =
        json!({"name": "nap", "steps": [{"name": "n", "file": "Nap", "wait_for": markers.path("nap")}]});
    c.post_ok(leader, "/api/v1/applications", &app).await?;

    // Six naps for six workers (two per node): some run on followers.
    let mut runs = Vec::new();
    for _ in 0..6 {
        let run = c
            .post_ok(leader, "/api/v1/applications/run?wait=0", &json!({"name": "nap"}))
            .await?;
        runs.push((
            run["id"].as_str().unwrap().to_string(),
            run["steps"][0]["id"].as_str().unwrap().to_string(),
        ));
    }
    let (victim_task, victim_node) = poll(Duration::from_secs(20), async || {
        for (_, task) in &runs {
            if let Some(w) = worker_of(&c, leader, task).await? {
                let node: usize = w
                    .trim_start_matches("node")
                    .split('/')
                    .next()
                    .unwrap_or("0")
                    .parse()?;
                if node != leader {
                    return Ok(Progress::Done((task.clone(), node)));
                }
            }
        }
        Ok(Progress::NotYet("no nap started on a follower".into()))
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}\n{}", c.logs()))?;
    c.kill(victim_node)?;
    markers.set("nap")?;

    for (run, _) in &runs {
        let done = c.wait_terminal(leader, run, Duration::from_secs(60)).await?;
        assert_eq!(done["state"], "SUCCESS", "{done}");
    }
    let (_, task) = c
        .rest(leader, "GET", &format!("/api/v1/tasks/{victim_task}"), None)
        .await?;
    let last = worker_of(&c, leader, &victim_task).await?.unwrap_or_default();
    assert!(
        !last.starts_with(&format!("node{victim_node}/")),
        "the step finished on another node, not on the killed node {victim_node}: {task}"
    );
    assert!(task["attempt"].as_u64().unwrap_or(0) >= 2, "{task}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_changes_through_iscli_on_a_follower() -> Result<()> {
    let c = LocalCluster::up(3, &[]).await?;
    c.wait_healthy(Duration::from_secs(20)).await?;
    let leader = c.leader()?;
    let follower = other_than(&c, leader);
    let leaving = (1..=3).find(|i| *i != leader && *i != follower).unwrap();
    let port = c.base_port + follower as u16;
    let iscli = |args: &[&str]| is_tests::iscli(port, "isadmin", is_tests::PASSWORD, args);

    let out = iscli(&["--json", "cluster", "remove", &leaving.to_string()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let status: Value = serde_json::from_slice(&out.stdout)?;
    let ids: Vec<u64> = status["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_u64())
        .collect();
    assert!(!ids.contains(&(leaving as u64)), "node {leaving} left: {status}");
    assert_eq!(ids.len(), 2, "{status}");

    // Removing it again is a clear refusal, not a silent success.
    let out = iscli(&["cluster", "remove", &leaving.to_string()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a member"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A node that does not answer is refused before anything changes: the
    // cluster keeps its members and takes writes.
    let closed = is_tests::ClosedPort::new()?;
    let out = iscli(&["cluster", "add", "9", &format!("127.0.0.1:{}", closed.port)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        err.contains("does not answer") && err.contains("Nothing was changed"),
        "{err}"
    );
    let (status, view) = c.rest(follower, "GET", "/api/v1/cluster", None).await?;
    assert_eq!(
        (status, view["members"].as_array().map(Vec::len)),
        (200, Some(2)),
        "{view}"
    );
    c.post_ok(
        follower,
        "/api/v1/configurations",
        &json!({"name": "after-refusal", "configuration_data": []}),
    )
    .await?;

    // The removed node is stopped and comes back as a fresh member, as an
    // operator would bring a replaced machine in (it also asks to join by
    // itself; adding a member that is already in is not an error).
    c.stop(leaving)?;
    std::fs::remove_dir_all(c.dir.path().join(format!("node{leaving}")))?;
    c.start(leaving)?;
    let address = format!("127.0.0.1:{}", c.base_port + leaving as u16);
    // Until the restarted node listens, adding it is refused with nothing
    // changed, so an operator (and this test) simply asks again.
    poll(Duration::from_secs(30), async || {
        let out = iscli(&["cluster", "add", &leaving.to_string(), &address]);
        Ok(if out.status.success() {
            Progress::Done(())
        } else {
            Progress::NotYet(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    })
    .await?;
    c.wait_healthy(Duration::from_secs(30)).await?;

    // The status lists every member with its queues and workers.
    let out = iscli(&["--json", "cluster", "status"]);
    assert!(out.status.success());
    let status: Value = serde_json::from_slice(&out.stdout)?;
    for m in status["members"].as_array().unwrap() {
        assert_eq!(m["served_queues"], json!(["default"]), "{m}");
        assert_eq!(m["workers"], json!(2), "{m}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_member_is_rebuilt_from_a_streamed_snapshot_of_ten_thousand_runs() -> Result<()> {
    const RUNS: usize = 10_000;
    let c = Arc::new(
        LocalCluster::up(
            3,
            &[("IS_SNAPSHOT_EVERY", "2000"), ("IS_KEEP_AFTER_SNAPSHOT", "10")],
        )
        .await?,
    );
    let leader = c.leader()?;
    let lost = other_than(&c, leader);
    c.post_ok(
        leader,
        "/api/v1/steps",
        &json!({"name": "Greet", "data": step_source("Greet")?}),
    )
    .await?;
    c.post_ok(
        leader,
        "/api/v1/applications",
        &json!({"name": "hello", "steps": [{"name": "G", "file": "Greet", "who": "x"}]}),
    )
    .await?;
    let accepted = Arc::new(Mutex::new(Vec::new()));
    submit_load(c.clone(), "hello", RUNS, 16, accepted.clone()).await?;
    let last = accepted.lock().unwrap().last().cloned().unwrap_or_default();
    c.wait_terminal(leader, &last, Duration::from_secs(120)).await?;

    // A few more than asked may have been accepted by racing clients.
    let created = c.count_runs(leader).await?;
    assert!(created >= RUNS, "{created} runs");

    c.stop(lost)?;
    std::fs::remove_dir_all(c.dir.path().join(format!("node{lost}")))?;
    c.start(lost)?;
    // The rebuilt member lists every run, read from its own store.
    poll(Duration::from_secs(120), async || {
        Ok(match c.count_runs(lost).await {
            Ok(n) if n == created => Progress::Done(()),
            Ok(n) => Progress::NotYet(format!("the rebuilt member lists {n} of {created} runs")),
            Err(e) => Progress::NotYet(format!(
                "the rebuilt member does not list runs: {e:#}\n{}",
                c.logs()
            )),
        })
    })
    .await?;
    let (_, status) = c
        .rest(lost, "GET", &format!("/api/v1/tasks/{last}"), None)
        .await?;
    assert_eq!(status["state"], "SUCCESS", "{status}");
    let (_, cluster) = c.rest(lost, "GET", "/api/v1/cluster", None).await?;
    assert!(
        cluster["snapshot_index"].as_u64().is_some_and(|i| i > 0),
        "the member was rebuilt from a snapshot: {cluster}"
    );
    Ok(())
}

/// A running step's log records are replicated while it runs, so every
/// member shows them before the step ends, whichever node runs it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_shows_the_records_of_steps_running_on_other_nodes() -> Result<()> {
    const WITHIN: Duration = Duration::from_secs(60);
    // One worker per node: three steps running at once run on three nodes.
    let c = LocalCluster::up(3, &[("IS_WORKERS", "1")]).await?;
    c.wait_healthy(WITHIN).await?;
    let markers = Markers::new()?;
    let go = markers.path("go");
    c.post_ok(
        1,
        "/api/v1/steps",
        &json!({"name": "Emit", "data": step_source("Emit")?}),
    )
    .await?;
    // Each step logs "<name> starts", then waits for the marker.
    let wide = json!({"name": "wide", "steps": [
        {"name": "a", "file": "Emit", "wait_for": go},
        {"name": "b", "file": "Emit", "wait_for": go},
        {"name": "c", "file": "Emit", "wait_for": go}]});
    c.post_ok(1, "/api/v1/applications", &wide).await?;
    let run = c.post_ok(1, "/api/v1/applications/wide/run", &json!({})).await?;
    let run_id = run["id"].as_str().unwrap().to_string();
    let running = c
        .poll_until(1, &format!("/api/v1/tasks/{run_id}"), WITHIN, |_, run| {
            run["steps"]
                .as_array()
                .is_some_and(|s| s.iter().filter(|s| s["state"] == "STARTED").count() == 3)
        })
        .await?;
    let mut workers = HashSet::new();
    for step in running["steps"].as_array().unwrap() {
        let (id, name) = (step["id"].as_str().unwrap(), step["name"].as_str().unwrap());
        let said = format!("{name} starts");
        for node in 1..=3 {
            let task = c
                .poll_until(node, &format!("/api/v1/tasks/{id}"), WITHIN, |status, task| {
                    status == 200
                        && task["state"] == "STARTED"
                        && task["logs"]
                            .as_array()
                            .is_some_and(|l| l.len() == 1 && l[0]["message"].as_str() == Some(said.as_str()))
                })
                .await?;
            workers.insert(task["worker"].as_str().unwrap_or_default().to_string());
        }
    }
    assert_eq!(workers.len(), 3, "the steps ran on three nodes: {workers:?}");
    markers.set("go")?;
    let done = c.wait_terminal(2, &run_id, WITHIN).await?;
    assert_eq!(done["state"], "SUCCESS", "{done}");
    Ok(())
}
