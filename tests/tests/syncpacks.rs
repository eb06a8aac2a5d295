//! SyncPacks end to end (issue 11): the example pack uploaded from its
//! source directory with iscli, activated and installed, its application
//! run; a second pack that requires it subclasses its step and imports its
//! util module; wheels that try to escape, link or explode are refused with
//! 400 naming the problem; names belong to one pack (409); an activated pack
//! is deleted only with force. Installs use a local wheel directory.

use std::io::Write;
use std::time::{Duration, Instant};

use is_tests::cluster::LocalCluster;
use is_tests::{iscli, iscli_json, iscli_out, syncpack_dir, wheel_dir, TestNode, PASSWORD};
use serde_json::{json, Value};

const RUN_WITHIN: Duration = Duration::from_secs(60);

/// A node whose pack installs read the local wheel directory only.
async fn node_with_wheels() -> TestNode {
    let dir = wheel_dir().unwrap();
    let dir = dir.to_str().unwrap().to_string();
    TestNode::start_with(&[
        ("IS_SYNCPACK_WHEEL_DIR", &dir),
        ("IS_SYNCPACK_USE_INDEX", "false"),
    ])
    .await
    .unwrap()
}

/// `iscli -ukf DIR` then `iscli -AIkn NAME -V VERSION`; answers how long the
/// activation and install took.
fn upload_and_install(node: &TestNode, pack: &str, version: &str) -> Duration {
    let dir = syncpack_dir(pack);
    let (code, out, err) = iscli_out(node, &["-ukf", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "upload of {pack}: {out}{err}");
    let started = Instant::now();
    let (code, out, err) = iscli_out(node, &["-AIkn", pack, "-V", version]);
    assert_eq!(code, 0, "activate+install of {pack}: {out}{err}");
    assert!(
        out.contains(&format!("installed syncpack {pack} {version}")),
        "{out}"
    );
    started.elapsed()
}

async fn run(node: &TestNode, app: &str) -> Value {
    node.run_app(app, RUN_WITHIN).await.unwrap()
}

/// The data a run's step saved.
async fn step_result(node: &TestNode, run: &Value, step: &str) -> Value {
    node.step_task(run, step).await.unwrap()["result"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_pack_installs_runs_and_a_pack_requiring_it_builds_on_it() {
    let node = node_with_wheels().await;
    let took = upload_and_install(&node, "test_syncpack", "0.0.1");
    println!(
        "test_syncpack 0.0.1: activated and installed in {:.2} s",
        took.as_secs_f64()
    );

    let status = run(&node, "dummy_app").await;
    assert_eq!(status["state"], "SUCCESS", "{status}\n{}", node.log());
    assert_eq!(
        step_result(&node, &status, "Echo").await,
        json!({"greeting": "HELLO WORLD!"})
    );
    // Its configuration was registered too, and its steps show their metadata.
    let (code, cfg) = node
        .rest("GET", "/api/v1/configurations/dummy_config", None)
        .await
        .unwrap();
    assert_eq!(code, 200, "{cfg}");
    let (_, step) = node
        .rest("GET", "/api/v1/steps/MakeGreeting", None)
        .await
        .unwrap();
    assert_eq!(step["friendly_name"], "Make Greeting", "{step}");

    let took = upload_and_install(&node, "loud_syncpack", "1.0.0");
    println!(
        "loud_syncpack 1.0.0: activated and installed in {:.2} s",
        took.as_secs_f64()
    );
    // An application file without "name" is named after the file.
    let status = run(&node, "loud_app").await;
    assert_eq!(status["state"], "SUCCESS", "{status}\n{}", node.log());
    assert_eq!(
        step_result(&node, &status, "Loud").await,
        json!({"greeting": "HELLO PACK!!", "requests_module": "requests"}),
        "the subclass set the parent's parameter, ran its execute() and read what it saved"
    );

    let list = iscli_json(&node, &["pack", "list"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    for pack in ["base_steps_syncpack", "test_syncpack", "loud_syncpack"] {
        assert!(names.contains(&pack), "{pack} missing from {list}");
    }
    let shown = iscli_json(&node, &["pack", "show", "loud_syncpack"]);
    assert_eq!(shown["activated"], true, "{shown}");
    assert_eq!(shown["nodes"][0]["state"], "installed", "{shown}");
    assert_eq!(
        shown["content"]["applications"],
        json!(["loud_app", "naps"]),
        "{shown}"
    );
    let (_, only) = node
        .rest("GET", "/api/v1/syncpacks?only_activated=true", None)
        .await
        .unwrap();
    assert_eq!(only.as_array().unwrap().len(), 3, "{only}");

    // A plain uploaded step cannot import a pack it is not part of, and the
    // failure says which pack provides the module.
    let source = "from test_syncpack.util.text import shout\nfrom ipaascore.BaseStep import BaseStep\n\nclass Borrower(BaseStep):\n    def execute(self):\n        self.save_data_for_next_step(shout('x'))\n";
    let (code, body) = node
        .rest(
            "POST",
            "/api/v1/steps",
            Some(&json!({"name": "Borrower", "data": source})),
        )
        .await
        .unwrap();
    assert_eq!(code, 400, "{body}");
    let text = body.to_string();
    assert!(text.contains("test_syncpack"), "{text}");
}

/// A zip at a temporary path built from (name, bytes) entries, with
/// `symlink` added as a link when given.
fn zip_file(entries: &[(&str, Vec<u8>)], symlink: Option<&str>) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
    let opts = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    if let Some(link) = symlink {
        zip.add_symlink(link, "/etc/passwd", opts).unwrap();
    }
    zip.finish().unwrap();
    file
}

async fn upload_raw(node: &TestNode, file_name: &str, bytes: Vec<u8>, force: bool) -> (u16, Value) {
    let url = node.url(&format!("/api/v1/syncpacks?file_name={file_name}&force={force}"));
    let resp = node
        .http
        .post(url)
        .basic_auth("isadmin", Some(PASSWORD))
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn meta(name: &str, version: &str) -> Vec<u8> {
    json!({"name": name, "version": version, "summary": "s", "requires_dist": []})
        .to_string()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malicious_and_malformed_wheels_are_refused_naming_the_problem() {
    let node = TestNode::start().await.unwrap();
    let name = "p-1.0-py3-none-any.whl";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not a zip", b"hello, not a zip".to_vec(), "not a readable zip"),
        (
            "path escaping the package",
            std::fs::read(
                zip_file(
                    &[
                        ("p/meta.json", meta("p", "1.0")),
                        ("p/../../evil.py", b"x".to_vec()),
                    ],
                    None,
                )
                .path(),
            )
            .unwrap(),
            "escapes the package",
        ),
        (
            "absolute path",
            std::fs::read(
                zip_file(
                    &[
                        ("p/meta.json", meta("p", "1.0")),
                        ("/etc/cron.d/x", b"x".to_vec()),
                    ],
                    None,
                )
                .path(),
            )
            .unwrap(),
            "absolute",
        ),
        (
            "symlink",
            std::fs::read(zip_file(&[("p/meta.json", meta("p", "1.0"))], Some("p/steps/link.py")).path())
                .unwrap(),
            "symbolic link",
        ),
        (
            "zip bomb",
            std::fs::read(
                zip_file(
                    &[
                        ("p/meta.json", meta("p", "1.0")),
                        ("p/zeros", vec![0u8; 64 << 20]),
                    ],
                    None,
                )
                .path(),
            )
            .unwrap(),
            "zip bomb",
        ),
        (
            "no meta.json",
            std::fs::read(zip_file(&[("p/steps/A.py", b"x".to_vec())], None).path()).unwrap(),
            "no p/meta.json",
        ),
        (
            "meta.json of another pack",
            std::fs::read(zip_file(&[("p/meta.json", meta("p", "2.0"))], None).path()).unwrap(),
            "but the wheel file is p 1.0",
        ),
        (
            "meta.json that is not JSON",
            std::fs::read(zip_file(&[("p/meta.json", b"{name".to_vec())], None).path()).unwrap(),
            "not valid JSON",
        ),
    ];
    for (what, bytes, expected) in cases {
        let (status, body) = upload_raw(&node, name, bytes, false).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(
            body["error"].as_str().unwrap_or("").contains(expected),
            "{what}: {body}"
        );
    }
    let (status, body) = upload_raw(&node, "evil.zip", b"x".to_vec(), false).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("not a wheel's"),
        "{body}"
    );
    let (_, list) = node.rest("GET", "/api/v1/syncpacks", None).await.unwrap();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "only the Base Steps pack: {list}"
    );

    // A good wheel the way a browser sends it (multipart field "file"); the
    // same version again is refused unless forced.
    let good = std::fs::read(
        zip_file(
            &[
                ("p/meta.json", meta("p", "1.0")),
                ("p/steps/__init__.py", Vec::new()),
            ],
            None,
        )
        .path(),
    )
    .unwrap();
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(good.clone()).file_name(name),
    );
    let resp = node
        .http
        .post(node.url("/api/v1/syncpacks"))
        .basic_auth("isadmin", Some(PASSWORD))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        (body["name"].as_str(), body["replaced"].as_bool()),
        (Some("p"), Some(false)),
        "{body}"
    );
    let (status, body) = upload_raw(&node, name, good.clone(), false).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) = upload_raw(&node, name, good, true).await;
    assert_eq!((status, body["replaced"].as_bool()), (200, Some(true)), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_belongs_to_one_pack_and_an_activated_pack_is_deleted_only_with_force() {
    let node = node_with_wheels().await;
    upload_and_install(&node, "test_syncpack", "0.0.1");

    // A user upload may not replace or delete what a pack owns.
    let step = json!({"name": "EchoGreeting", "data": "class EchoGreeting: pass"});
    node.refused(
        "POST",
        "/api/v1/steps",
        Some(&step),
        409,
        "SyncPack test_syncpack 0.0.1",
    )
    .await
    .unwrap();
    node.refused(
        "DELETE",
        "/api/v1/applications/integration_template",
        None,
        409,
        "base_steps_syncpack",
    )
    .await
    .unwrap();

    // Another pack claiming a name test_syncpack owns is refused, naming the owner.
    let clash = zip_file(
        &[
            ("clash/meta.json", meta("clash", "1.0")),
            ("clash/steps/EchoGreeting.py", b"from ipaascore.BaseStep import BaseStep\n\nclass EchoGreeting(BaseStep):\n    def execute(self):\n        pass\n".to_vec()),
        ],
        None,
    );
    let (code, body) = upload_raw(
        &node,
        "clash-1.0-py3-none-any.whl",
        std::fs::read(clash.path()).unwrap(),
        false,
    )
    .await;
    assert_eq!(code, 200, "{body}");
    node.refused(
        "POST",
        "/api/v1/syncpacks/clash/activate?version=1.0",
        None,
        409,
        "belongs to SyncPack test_syncpack 0.0.1",
    )
    .await
    .unwrap();

    // Deleting the activated pack needs force, and takes its content with it.
    let (code, body) = node
        .rest("DELETE", "/api/v1/syncpacks/test_syncpack", None)
        .await
        .unwrap();
    assert_eq!(code, 409, "{body}");
    let (code, body) = node
        .rest("DELETE", "/api/v1/syncpacks/test_syncpack?force=true", None)
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    for path in [
        "/api/v1/steps/MakeGreeting",
        "/api/v1/applications/dummy_app",
        "/api/v1/configurations/dummy_config",
    ] {
        let (code, _) = node.rest("GET", path, None).await.unwrap();
        assert_eq!(code, 404, "{path} is gone with its pack");
    }
    // Now the name is free for the other pack.
    let (code, body) = node
        .rest(
            "POST",
            "/api/v1/syncpacks/clash/activate",
            Some(&json!({"version": "1.0"})),
        )
        .await
        .unwrap();
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["content"]["steps"], json!(["EchoGreeting"]), "{body}");
}

/// A pack uploaded and activated through one node of three is installed on
/// every node, and its steps run on all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pack_installs_on_every_node_of_a_cluster_and_its_steps_run_on_each() {
    let wheels = wheel_dir().unwrap();
    let wheels = wheels.to_str().unwrap().to_string();
    let c = LocalCluster::up(
        3,
        &[
            ("IS_SYNCPACK_WHEEL_DIR", &wheels),
            ("IS_SYNCPACK_USE_INDEX", "false"),
        ],
    )
    .await
    .unwrap();
    c.wait_healthy(Duration::from_secs(30)).await.unwrap();
    // Nodes are numbered 1 to 3.
    let follower = c.leader().unwrap() % 3 + 1;
    let port = c.base_port + follower as u16;
    let cli = |args: &[&str]| {
        let out = iscli(port, "isadmin", PASSWORD, args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "iscli {args:?}: {text}\n{}", c.logs());
    };
    for (pack, version) in [("test_syncpack", "0.0.1"), ("loud_syncpack", "1.0.0")] {
        cli(&["-ukf", syncpack_dir(pack).to_str().unwrap()]);
        cli(&["-AIkn", pack, "-V", version, "--timeout", "120"]);
    }
    // Every node reports the install, whichever node is asked.
    for i in 1..=3 {
        c.poll_until(
            i,
            "/api/v1/syncpacks/loud_syncpack",
            Duration::from_secs(120),
            |status, body| {
                let nodes = body["nodes"].as_array().cloned().unwrap_or_default();
                status == 200 && nodes.len() == 3 && nodes.iter().all(|n| n["state"] == "installed")
            },
        )
        .await
        .unwrap();
    }

    // Six parallel naps for six workers (two per node): each node runs some.
    let run = c
        .post_ok(follower, "/api/v1/applications/naps/run", &json!({}))
        .await
        .unwrap();
    let id = run["id"].as_str().unwrap();
    let done = c.wait_terminal(follower, id, RUN_WITHIN).await.unwrap();
    assert_eq!(done["state"], "SUCCESS", "{done}\n{}", c.logs());
    let mut nodes = std::collections::BTreeSet::new();
    for step in done["steps"].as_array().unwrap() {
        let (_, task) = c
            .rest(
                follower,
                "GET",
                &format!("/api/v1/tasks/{}", step["id"].as_str().unwrap()),
                None,
            )
            .await
            .unwrap();
        let worker = task["attempts"]
            .as_array()
            .and_then(|a| a.last())
            .and_then(|a| a["worker"].as_str());
        let node = worker
            .and_then(|w| w.split('/').next())
            .unwrap_or_else(|| panic!("no worker in {task}"));
        nodes.insert(node.to_string());
    }
    assert_eq!(nodes.len(), 3, "the naps ran on {nodes:?} only");
}

/// A pack whose dependency cannot be installed: `-AIkn` fails showing the
/// install log, the pack shows the node's state and log, and it is not
/// listed as installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_install_shows_its_log_and_the_pack_is_not_installed() {
    let node = node_with_wheels().await;
    let src = tempfile::tempdir().unwrap();
    let pkg = src.path().join("broken_pack");
    std::fs::create_dir_all(pkg.join("steps")).unwrap();
    std::fs::write(
        src.path().join("setup.py"),
        "from setuptools import setup\nsetup()\n",
    )
    .unwrap();
    std::fs::write(pkg.join("__init__.py"), "").unwrap();
    std::fs::write(pkg.join("steps/__init__.py"), "").unwrap();
    std::fs::write(
        pkg.join("meta.json"),
        json!({"name": "broken_pack", "version": "1.0", "summary": "needs what is not there",
               "requires_dist": ["no-such-package-4711>=1"]})
        .to_string(),
    )
    .unwrap();
    let (code, out, err) = iscli_out(&node, &["-ukf", src.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = iscli_out(&node, &["-AIkn", "broken_pack", "-V", "1.0"]);
    assert_ne!(code, 0, "the install cannot succeed: {out}{err}");
    assert!(
        format!("{out}{err}").contains("no-such-package-4711"),
        "the log is shown: {out}{err}"
    );

    let (_, shown) = node
        .rest("GET", "/api/v1/syncpacks/broken_pack", None)
        .await
        .unwrap();
    assert_eq!(shown["nodes"][0]["state"], "failed", "{shown}");
    assert!(
        shown["nodes"][0]["log"]
            .as_str()
            .unwrap_or_default()
            .contains("no-such-package-4711"),
        "{shown}"
    );
    let (_, installed) = node
        .rest("GET", "/api/v1/syncpacks?only_installed=true", None)
        .await
        .unwrap();
    let names: Vec<&str> = installed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(!names.contains(&"broken_pack"), "{installed}");
    assert!(names.contains(&"base_steps_syncpack"), "{installed}");
}
