//! Running `iscli` against a node: with explicit connection flags (the
//! environment is ignored), and the checks most CLI tests share.

use std::process::{Command, Output, Stdio};

use crate::{bin, TestNode};

/// An `iscli` command with host, port and credentials given as flags (and
/// not taken from the environment), its stdin closed.
pub fn iscli_command(port: u16, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("iscli"));
    cmd.args([
        "-H",
        "127.0.0.1",
        "-P",
        &port.to_string(),
        "-i",
        "-U",
        user,
        "-p",
        password,
    ])
    .args(args)
    .env_remove("IS_HOST")
    .env_remove("IS_PORT")
    .env_remove("IS_USER")
    .env_remove("IS_PASSWORD")
    .env_remove("IS_CA")
    .env_remove("IS_INSECURE")
    .stdin(Stdio::null());
    cmd
}

/// An `iscli` command over TLS to 127.0.0.1:`port` as the administrator
/// (`-H` without `-i`), trusting `ca` if given; the environment is ignored.
pub fn iscli_tls_command(port: u16, ca: Option<&std::path::Path>, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin("iscli"));
    cmd.args(["-H", "127.0.0.1", "-P", &port.to_string()])
        .args(["-U", "isadmin", "-p", crate::PASSWORD]);
    if let Some(ca) = ca {
        cmd.arg("--ca").arg(ca);
    }
    cmd.args(args)
        .env_remove("IS_HOST")
        .env_remove("IS_PORT")
        .env_remove("IS_USER")
        .env_remove("IS_PASSWORD")
        .env_remove("IS_CA")
        .env_remove("IS_INSECURE")
        .stdin(Stdio::null());
    cmd
}

/// Runs `iscli` with host, port and credentials given as flags.
pub fn iscli(port: u16, user: &str, password: &str, args: &[&str]) -> Output {
    iscli_command(port, user, password, args)
        .output()
        .expect("run iscli")
}

/// Runs `iscli` against `node`; answers its exit code, stdout and stderr.
pub fn iscli_out(node: &TestNode, args: &[&str]) -> (i32, String, String) {
    let o = node.iscli(args);
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Runs `iscli` and insists on exit code 0; answers stdout.
pub fn iscli_ok(node: &TestNode, args: &[&str]) -> String {
    let (code, out, err) = iscli_out(node, args);
    assert_eq!(code, 0, "iscli {args:?}\nstdout: {out}\nstderr: {err}");
    out
}

/// Runs `iscli ... --json`, insists on exit code 0 and parses its stdout.
pub fn iscli_json(node: &TestNode, args: &[&str]) -> serde_json::Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = iscli_ok(node, &all);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}\n{out}"))
}

/// Position of `needle` in `hay`, failing with the whole text if missing.
pub fn position_of(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not found in:\n{hay}"))
}
