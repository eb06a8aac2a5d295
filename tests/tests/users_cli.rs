//! `iscli whoami`, `user`, `role`, `key` and `--api-key` against a real
//! node, one node for every case: users made with `user add` (password
//! from the flag and from stdin), what a viewer and an operator may do
//! and the refusals naming the missing permission, an API key made with
//! `key create` acting as its owner until `key revoke`, `role unassign`
//! leaving a user able to do nothing, `user passwd` retiring the old
//! password, and the back-off after failed logins.

use std::io::Write;
use std::process::{Output, Stdio};

use is_tests::{iscli_bare, iscli_command, step_source, TestNode, PASSWORD};
use serde_json::{json, Value};

/// Exit code, stdout and stderr of a finished `iscli`.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

impl Ran {
    fn of(o: Output) -> Ran {
        Ran {
            code: o.status.code().unwrap_or(-1),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Insists on exit code 0; answers stdout.
    fn ok(self, what: &str) -> String {
        assert_eq!(self.code, 0, "{what}\nstdout: {}\nstderr: {}", self.out, self.err);
        self.out
    }

    /// Insists on exit code 1 with `says` in stdout or stderr; answers both.
    fn refused(self, what: &str, says: &[&str]) -> String {
        let both = format!("{}{}", self.out, self.err);
        assert_eq!(self.code, 1, "{what} was not refused:\n{both}");
        for s in says {
            assert!(both.contains(s), "{what}: {s:?} not said in:\n{both}");
        }
        both
    }
}

/// `iscli ARGS` as `user` with `password` (given as flags).
fn as_user(node: &TestNode, user: &str, password: &str, args: &[&str]) -> Ran {
    Ran::of(node.iscli_as(user, password, args))
}

/// `iscli ARGS` as `user`, with `stdin` written to its standard input.
fn with_stdin(node: &TestNode, user: &str, password: &str, args: &[&str], stdin: &str) -> Ran {
    let mut child = iscli_command(node.port, user, password, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run iscli");
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(stdin.as_bytes())
        .expect("write iscli's stdin");
    Ran::of(child.wait_with_output().expect("wait for iscli"))
}

/// `iscli --api-key KEY ARGS`, with no user or password from anywhere.
fn with_key(node: &TestNode, key: &str, args: &[&str]) -> Ran {
    let output = iscli_bare()
        .args([
            "-H",
            "127.0.0.1",
            "-P",
            &node.port.to_string(),
            "-i",
            "--api-key",
            key,
        ])
        .args(args)
        .output()
        .expect("run iscli");
    Ran::of(output)
}

fn admin(node: &TestNode, args: &[&str]) -> Ran {
    as_user(node, "isadmin", PASSWORD, args)
}

/// The value after `label:` in a sheet.
fn field<'a>(sheet: &'a str, label: &str) -> &'a str {
    sheet
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{sheet}"))
}

#[tokio::test]
async fn users_roles_and_api_keys_through_iscli() {
    let node = TestNode::start().await.unwrap();
    node.put_step("Echo").await.unwrap();
    let app = json!({"name": "echo_app", "steps": [{"name": "E", "file": "Echo", "n": 1, "tags": [], "who": "me"}]});
    let (status, body) = node
        .rest("POST", "/api/v1/applications", Some(&app))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let run = ["app", "run", "echo_app", "--wait", "30"];

    // An operator from the flag, a viewer (the default role) from stdin.
    let out = admin(
        &node,
        &[
            "user",
            "add",
            "olga",
            "--role",
            "operator",
            "--new-password",
            "olga-password",
        ],
    )
    .ok("user add olga");
    assert_eq!(out.trim(), "created user olga with the role operator");
    let out = with_stdin(
        &node,
        "isadmin",
        PASSWORD,
        &["user", "add", "victor"],
        "victor-password\n",
    )
    .ok("user add victor");
    assert_eq!(out.trim(), "created user victor with the role viewer");
    let list = admin(&node, &["user", "list"]).ok("user list");
    assert!(list.starts_with("NAME"), "{list}");
    for (name, role) in [
        ("isadmin", "administrator"),
        ("olga", "operator"),
        ("victor", "viewer"),
    ] {
        assert!(
            list.lines().any(|l| l.split_whitespace().eq([name, role])),
            "{name} {role} not listed:\n{list}"
        );
    }
    assert!(!list.contains("password"), "{list}");
    // Adding a user is an administrator's call.
    as_user(
        &node,
        "olga",
        "olga-password",
        &["user", "add", "eve", "--new-password", "eve-password"],
    )
    .refused("user add by an operator", &["'admin'", "ask an administrator"]);

    // The viewer reads, and is refused a run naming the permission.
    let me = as_user(&node, "victor", "victor-password", &["whoami"]).ok("whoami victor");
    assert_eq!(field(&me, "Role:"), "viewer");
    assert_eq!(field(&me, "Permissions:"), "read");
    as_user(&node, "victor", "victor-password", &["app", "list"]).ok("app list by a viewer");
    as_user(&node, "victor", "victor-password", &run).refused(
        "a viewer's run",
        &["victor (viewer)", "'run'", "ask an administrator"],
    );

    // The operator runs, but changes no content.
    let out = as_user(&node, "olga", "olga-password", &run).ok("an operator's run");
    assert!(out.contains("state: SUCCESS"), "{out}");
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("Echo.py");
    std::fs::write(&file, step_source("Echo").unwrap()).unwrap();
    as_user(
        &node,
        "olga",
        "olga-password",
        &["-usf", file.to_str().unwrap(), "-O"],
    )
    .refused("an operator's step upload", &["olga (operator)", "'write'"]);
    as_user(&node, "olga", "olga-password", &["step", "delete", "Echo"])
        .refused("an operator's step delete", &["olga (operator)", "'write'"]);

    // An API key acting as the operator: printed alone on stdout, once.
    let created = as_user(
        &node,
        "olga",
        "olga-password",
        &["key", "create", "--label", "ci", "--expires-days", "30"],
    );
    assert!(created.err.contains("not shown again"), "{}", created.err);
    let key = created.ok("key create").trim().to_string();
    assert!(
        key.starts_with("isk_") && !key.contains(char::is_whitespace),
        "{key}"
    );
    let (id, secret) = key["isk_".len()..].split_once('_').unwrap();
    let me = with_key(&node, &key, &["whoami"]).ok("whoami with the key");
    assert_eq!(field(&me, "User:"), "olga");
    assert_eq!(field(&me, "Role:"), "operator");
    assert_eq!(field(&me, "API key:"), id);
    let out = with_key(&node, &key, &run).ok("a run with the key");
    assert!(out.contains("state: SUCCESS"), "{out}");
    let mine = as_user(&node, "olga", "olga-password", &["key", "list"]).ok("key list");
    let row = mine
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("key {id} not listed:\n{mine}"));
    assert!(
        row.contains("olga") && row.contains(" ci ") && row.contains("operator"),
        "{row}"
    );
    let all = admin(&node, &["key", "list", "--json"]).ok("key list --json");
    let all: Value = serde_json::from_str(&all).unwrap();
    assert_eq!(all[0]["id"], id);
    assert_eq!(all[0]["label"], "ci");
    assert!(!mine.contains(secret) && !all.to_string().contains(secret));
    // --json prints the whole answer, key included.
    let second = as_user(
        &node,
        "olga",
        "olga-password",
        &["key", "create", "--role", "viewer", "--json"],
    )
    .ok("key create --json");
    let second: Value = serde_json::from_str(&second).unwrap();
    assert_eq!(
        (second["owner"].as_str(), second["role"].as_str()),
        (Some("olga"), Some("viewer"))
    );
    assert!(second["key"].as_str().unwrap().starts_with("isk_"), "{second}");

    // Revoked: the key is refused (401), named by its id, never its secret.
    let out = as_user(&node, "olga", "olga-password", &["key", "revoke", id]).ok("key revoke");
    assert!(out.contains(&format!("revoked API key {id}")), "{out}");
    let said = with_key(&node, &key, &["whoami"]).refused("a revoked key", &["was refused", id]);
    assert!(!said.contains(secret), "{said}");

    // Without a role a user still logs in, but may not even list.
    let out = admin(&node, &["role", "unassign", "victor"]).ok("role unassign");
    assert!(out.contains("took the role away from victor"), "{out}");
    let out = admin(&node, &["role", "show", "victor"]).ok("role show");
    assert_eq!(out.trim(), "victor: none (may do nothing)");
    as_user(&node, "victor", "victor-password", &["step", "list"]).refused(
        "listing without a role",
        &["victor (no role)", "'read'", "ask an administrator"],
    );
    let out = admin(&node, &["role", "assign", "victor", "viewer"]).ok("role assign");
    assert_eq!(out.trim(), "victor now holds the role viewer");
    as_user(&node, "victor", "victor-password", &["step", "list"]).ok("listing with a role again");
    let roles = admin(&node, &["role", "list"]).ok("role list");
    assert!(
        roles
            .lines()
            .any(|l| l.starts_with("operator") && l.contains("read, run")),
        "{roles}"
    );

    // One's own password, read from stdin; the old one is refused after.
    let out = with_stdin(
        &node,
        "olga",
        "olga-password",
        &["user", "passwd"],
        "olga-new-password\n",
    )
    .ok("user passwd");
    assert_eq!(out.trim(), "changed the password of olga");
    as_user(&node, "olga", "olga-password", &["whoami"])
        .refused("the old password", &["authentication failed for user 'olga'"]);
    let me = as_user(&node, "olga", "olga-new-password", &["whoami"]).ok("the new password");
    assert_eq!(field(&me, "User:"), "olga");
    // Another user's password is an administrator's to change.
    as_user(
        &node,
        "olga",
        "olga-new-password",
        &["user", "passwd", "victor", "--new-password", "x-password"],
    )
    .refused("changing another's password", &["'admin'"]);
    // A closed stdin gives no password: a usage error before any call.
    let ran = Ran::of(node.iscli_as("olga", "olga-new-password", &["user", "passwd"]));
    assert_eq!(ran.code, 2, "{}{}", ran.out, ran.err);
    assert!(ran.err.contains("--new-password"), "{}", ran.err);

    let out = admin(&node, &["user", "delete", "victor"]).ok("user delete");
    assert_eq!(out.trim(), "deleted user victor");

    // Failed logins back off: the CLI says when to try again. Attempts
    // before the block are 401s; each one lengthens it, so the loop ends.
    let mut said = String::new();
    for _ in 0..9 {
        let ran = as_user(&node, "mallory", "guessed-password", &["whoami"]);
        assert_eq!(ran.code, 1, "{}", ran.err);
        if ran.err.contains("try again in") {
            said = ran.err;
            break;
        }
        assert!(
            ran.err.contains("authentication failed for user 'mallory'"),
            "{}",
            ran.err
        );
    }
    assert!(
        said.contains("too many failed logins"),
        "no back-off after 9 failures"
    );
    admin(&node, &["whoami"]).ok("another user from the same address");
}
