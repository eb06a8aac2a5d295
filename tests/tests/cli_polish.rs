//! `iscli`'s finish, run as the real binary: its own version, stored
//! documents read as summaries, every failure said once and in iscli's
//! terms, colour only where it is wanted, and shell completions.

use is_tests::{
    examples_dir, iscli, iscli_bare, output_ok as ok, stderr_of as stderr, stdout_of as stdout, ClosedPort,
    TestNode,
};
use serde_json::Value;

#[test]
fn version_and_completions_need_no_node() {
    let out = ok(iscli_bare().arg("--version").output().unwrap());
    assert_eq!(out, format!("iscli {}\n", env!("CARGO_PKG_VERSION")));

    let bash = ok(iscli_bare().args(["completions", "bash"]).output().unwrap());
    assert!(
        bash.contains("complete -F") && bash.contains("rotate-key"),
        "{bash}"
    );
    let fish = ok(iscli_bare().args(["completions", "fish"]).output().unwrap());
    assert!(fish.contains("complete -c iscli"), "{fish}");
    let refused = iscli_bare().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
}

#[test]
fn error_colour_only_when_wanted() {
    let closed = ClosedPort::new().unwrap();
    let run = |env: &[(&str, &str)]| {
        let mut cmd = is_tests::iscli_command(closed.port, "isadmin", "x", &["about"]);
        cmd.env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        stderr(&out)
    };
    // A pipe gets no colour; forced colour paints `error:`; NO_COLOR wins.
    assert!(run(&[]).starts_with("error: cannot connect"), "{}", run(&[]));
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(
        forced.starts_with("\x1b[1m\x1b[31merror:\x1b[0m cannot connect"),
        "{forced:?}"
    );
    let no_color = run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(no_color.starts_with("error: cannot connect"), "{no_color:?}");
}

#[tokio::test]
async fn app_and_config_get_read_as_summaries_unless_json() {
    let node = TestNode::start().await.unwrap();
    let app = ok(node.iscli(&["app", "get", "integration_template"]));
    assert!(app.starts_with("Name:           integration_template\n"), "{app}");
    assert!(app.contains("\nSteps:\n  NAME"), "{app}");
    assert!(app.contains("Count      CountRecords"), "{app}");
    let doc: Value =
        serde_json::from_str(&ok(node.iscli(&["app", "get", "integration_template", "--json"]))).unwrap();
    assert_eq!(doc["name"], "integration_template");
    assert_eq!(doc["steps"].as_array().unwrap().len(), 2);

    let config = examples_dir().join("configs/demo-settings.json");
    ok(node.iscli(&["-ucf", config.to_str().unwrap()]));
    let summary = ok(node.iscli(&["config", "get", "demo-settings"]));
    assert!(summary.contains("em7_password  (encrypted)"), "{summary}");
    assert!(
        !summary.contains("change-me") && !summary.contains("enc:"),
        "{summary}"
    );
    let doc: Value =
        serde_json::from_str(&ok(node.iscli(&["config", "get", "demo-settings", "--json"]))).unwrap();
    assert_eq!(doc["configuration_data"][0]["name"], "em7_host");
}

#[tokio::test]
async fn failures_are_said_once_in_iscli_terms() {
    let node = TestNode::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Broken.py");
    std::fs::write(&bad, "class Broken(\n").unwrap();
    let out = node.iscli(&["-usf", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    assert_eq!(err.matches("fix the step source").count(), 1, "{err}");
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));

    for (line, command) in [
        (&["step", "get", "Nope"][..], "`iscli step list`"),
        (&["task", "show", "nope"], "`iscli task list`"),
        (&["pack", "show", "nope"], "`iscli pack list`"),
    ] {
        let out = node.iscli(line);
        let err = stderr(&out);
        assert!(err.contains(command), "{line:?}: {err}");
        assert!(!err.contains("/api/v1"), "{line:?}: {err}");
    }
    // --version without a value beside other flags is a usage error.
    let out = iscli(node.port, "isadmin", "x", &["-Ikn", "p", "--version"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
