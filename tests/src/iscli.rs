//! Running `iscli` against a node: with explicit connection flags (the
//! environment and the user's config file are ignored), and the checks
//! most CLI tests share.

use std::process::{Command, Output, Stdio};

use crate::{bin, TestNode};

/// The environment variables `iscli` reads its connection settings and
/// credentials from.
const ISCLI_ENV: [&str; 7] = [
    "IS_HOST",
    "IS_PORT",
    "IS_USER",
    "IS_PASSWORD",
    "IS_API_KEY",
    "IS_CA",
    "IS_INSECURE",
];

/// An `iscli` command that takes nothing from the environment of the test
/// or from the config file of whoever runs it: every `IS_*` variable it
/// reads is removed and `XDG_CONFIG_HOME` names a directory that does not
/// exist, so only the flags a test gives count. Its stdin is closed.
pub fn iscli_bare() -> Command {
    let mut cmd = Command::new(bin("iscli"));
    for name in ISCLI_ENV {
        cmd.env_remove(name);
    }
    cmd.env("XDG_CONFIG_HOME", no_config_home()).stdin(Stdio::null());
    cmd
}

/// An absolute path where no directory is: `iscli` finds no config file
/// under it.
fn no_config_home() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("is-tests-no-config-{}", std::process::id()))
}

/// An `iscli` command with host, port and credentials given as flags (and
/// nothing taken from the environment or a config file, see
/// [`iscli_bare`]), its stdin closed.
pub fn iscli_command(port: u16, user: &str, password: &str, args: &[&str]) -> Command {
    let mut cmd = iscli_bare();
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
    .args(args);
    cmd
}

/// An `iscli` command over TLS to 127.0.0.1:`port` as the administrator
/// (`-H` without `-i`), trusting `ca` if given; the environment is ignored.
pub fn iscli_tls_command(port: u16, ca: Option<&std::path::Path>, args: &[&str]) -> Command {
    let mut cmd = iscli_bare();
    cmd.args(["-H", "127.0.0.1", "-P", &port.to_string()])
        .args(["-U", "isadmin", "-p", crate::PASSWORD]);
    if let Some(ca) = ca {
        cmd.arg("--ca").arg(ca);
    }
    cmd.args(args);
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

/// What a finished `iscli` wrote to stdout, as text.
pub fn stdout_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a finished `iscli` wrote to stderr, as text.
pub fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The stdout of an `iscli` that must have succeeded (fails the test with
/// both streams otherwise).
pub fn output_ok(o: Output) -> String {
    assert!(
        o.status.success(),
        "iscli failed\nstdout: {}\nstderr: {}",
        stdout_of(&o),
        stderr_of(&o)
    );
    stdout_of(&o)
}
