//! `iscli` against a real node: the original's upload flags, directory
//! uploads, subcommands, and clear messages for the common failures.

use is_tests::{
    examples_dir, iscli, output_ok as ok, stderr_of as stderr, stdout_of as stdout, ClosedPort, TestNode,
};
use serde_json::Value;

#[tokio::test]
async fn upload_flags_of_the_original_cli() {
    let node = TestNode::without_base_pack().await.unwrap();
    let ex = examples_dir();
    let app = ex.join("apps/integration_template.json");
    let step = ex.join("steps/CountRecords.py");
    let cfg = ex.join("configs/demo-settings.json");
    ok(node.iscli(&["-uaf", app.to_str().unwrap()]));
    ok(node.iscli(&["-usf", step.to_str().unwrap()]));
    ok(node.iscli(&["-ucf", cfg.to_str().unwrap()]));

    // What iscli uploaded is what REST serves.
    let (status, got) = node
        .rest("GET", "/api/v1/applications/integration_template", None)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&app).unwrap()).unwrap();
    assert_eq!(got, expected);
    let (_, got) = node
        .rest("GET", "/api/v1/steps/CountRecords", None)
        .await
        .unwrap();
    assert_eq!(got["source"], std::fs::read_to_string(&step).unwrap());
    let (status, _) = node
        .rest("GET", "/api/v1/configurations/demo-settings", None)
        .await
        .unwrap();
    assert_eq!(status, 200);

    // Long forms work too.
    ok(node.iscli(&[
        "--upload",
        "--application",
        "--fileLocation",
        app.to_str().unwrap(),
    ]));

    // An application file without "name" is named after the file.
    let dir = tempfile::tempdir().unwrap();
    let mut unnamed = expected.clone();
    unnamed.as_object_mut().unwrap().remove("name");
    let file = dir.path().join("nightly_sync.json");
    std::fs::write(&file, unnamed.to_string()).unwrap();
    let out = ok(node.iscli(&["-uaf", file.to_str().unwrap()]));
    assert!(out.contains("nightly_sync"), "{out}");
    let (status, got) = node
        .rest("GET", "/api/v1/applications/nightly_sync", None)
        .await
        .unwrap();
    assert_eq!((status, &got["steps"]), (200, &expected["steps"]), "{got}");
}

#[tokio::test]
async fn directory_upload_reports_each_file() {
    let node = TestNode::without_base_pack().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let template = std::fs::read_to_string(examples_dir().join("apps/integration_template.json")).unwrap();
    std::fs::write(
        dir.path().join("a.json"),
        template.replace("\"integration_template\"", "\"first\""),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.json"),
        r#"{"name": "second", "steps": [{"name": "S", "file": "F"}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("c.json"),
        r#"{"name": "broken name", "steps": []}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an application").unwrap();

    let out = node.iscli(&["-uaf", dir.path().to_str().unwrap()]);
    assert!(!out.status.success(), "a failed file makes the upload fail");
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        text.contains("a.json") && text.contains("b.json") && text.contains("c.json"),
        "{text}"
    );
    assert!(text.contains("2 uploaded, 1 failed"), "{text}");
    assert!(
        text.contains("spaces"),
        "the failed file's problems are shown: {text}"
    );
    assert!(!text.contains("notes.txt"), "{text}");

    let (_, list) = node.rest("GET", "/api/v1/applications", None).await.unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["first", "second"]);

    let steps = examples_dir().join("steps");
    ok(node.iscli(&["-usf", steps.to_str().unwrap()]));
    let (_, after) = node.rest("GET", "/api/v1/steps", None).await.unwrap();
    let names: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["CountRecords", "stepTemplate"]);
    for name in ["CountRecords", "stepTemplate"] {
        let (_, step) = node
            .rest("GET", &format!("/api/v1/steps/{name}"), None)
            .await
            .unwrap();
        let file = std::fs::read_to_string(steps.join(format!("{name}.py"))).unwrap();
        assert_eq!(step["source"], file, "{name} was uploaded");
    }
}

#[tokio::test]
async fn subcommands_list_get_delete_with_json() {
    let node = TestNode::without_base_pack().await.unwrap();
    let app = examples_dir().join("apps/integration_template.json");
    ok(node.iscli(&["-uaf", app.to_str().unwrap()]));

    let list = ok(node.iscli(&["app", "list"]));
    assert!(
        list.contains("integration_template") && list.contains("Template App"),
        "{list}"
    );
    let json: Value = serde_json::from_str(&ok(node.iscli(&["app", "list", "--json"]))).unwrap();
    assert_eq!(json[0]["name"], "integration_template");
    let got: Value =
        serde_json::from_str(&ok(node.iscli(&["app", "get", "integration_template", "--json"]))).unwrap();
    assert_eq!(got["steps"].as_array().unwrap().len(), 2);

    ok(node.iscli(&["app", "delete", "integration_template"]));
    let out = node.iscli(&["app", "get", "integration_template"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("integration_template"), "{}", stderr(&out));

    let about: Value = serde_json::from_str(&ok(node.iscli(&["about", "--json"]))).unwrap();
    assert_eq!(about["node_id"], 1);
    let status = ok(node.iscli(&["cluster", "status"]));
    assert!(status.contains(&node.port.to_string()), "{status}");
}

#[tokio::test]
async fn clear_messages_for_refused_unauthorized_and_invalid() {
    let node = TestNode::start().await.unwrap();

    let closed = ClosedPort::new().unwrap();
    let out = iscli(closed.port, "isadmin", "x", &["app", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));

    let out = node.iscli_as("isadmin", "wrong-password", &["app", "list"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("authentication failed"), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"name": "x", "steps": [{"name": "A", "file": "F", "output_to": ["B", "Nope"]},
                                  {"name": "B", "file": "F", "output_to": ["A"]},
                                  {"name": "B", "file": "F"}]}"#,
    )
    .unwrap();
    let out = node.iscli(&["-uaf", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for problem in ["Nope", "duplicate step name", "cycle"] {
        assert!(
            err.contains(problem),
            "every problem is printed; missing {problem:?} in:\n{err}"
        );
    }
}

#[tokio::test]
async fn connection_settings_come_from_the_environment() {
    let node = TestNode::start().await.unwrap();
    let out = std::process::Command::new(is_tests::bin("iscli"))
        .args(["about", "--json"])
        .env("IS_HOST", "127.0.0.1")
        // A named host means TLS unless told otherwise; this node is plain.
        .env("IS_INSECURE", "true")
        .env("IS_PORT", node.port.to_string())
        .env("IS_USER", "isadmin")
        .env("IS_PASSWORD", is_tests::PASSWORD)
        .env("HOME", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let about: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(about["leader"], 1);
}
