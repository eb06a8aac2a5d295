//! Tests of the command line as a whole (the clap definition, global
//! flags, subcommands without options of their own), and the helpers the
//! per-noun tests share.

use clap::{CommandFactory, Parser};

use super::*;

/// The parsed line `iscli LINE...`; panics when clap refuses it.
pub(crate) fn parse(line: &[&str]) -> Cli {
    let mut argv = vec!["iscli"];
    argv.extend_from_slice(line);
    Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line:?}: {e}"))
}

/// The action of the line `iscli LINE...`.
pub(crate) fn action(line: &[&str]) -> Result<Action, CliError> {
    parse(line).action()
}

#[test]
fn clap_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn connection_flags_work_after_subcommands() {
    let cli = parse(&["step", "get", "CountRecords", "-H", "n2", "-p", "pw", "--json"]);
    assert_eq!(cli.connection.host.as_deref(), Some("n2"));
    assert_eq!(cli.connection.password.as_deref(), Some("pw"));
    assert!(cli.json);
    assert_eq!(
        cli.action().unwrap(),
        Action::Command(Command::Step(StepCommand::Get {
            name: "CountRecords".into()
        }))
    );
    // Port must be a number in range.
    assert!(Cli::try_parse_from(["iscli", "-P", "0", "about"]).is_err());
    assert!(Cli::try_parse_from(["iscli", "-P", "x", "about"]).is_err());
}

#[test]
fn subcommands_parse() {
    assert_eq!(
        action(&["app", "list"]).unwrap(),
        Action::Command(Command::App(AppCommand::List))
    );
    assert_eq!(
        action(&["configuration", "delete", "demo"]).unwrap(),
        Action::Command(Command::Config(ConfigCommand::Delete { name: "demo".into() }))
    );
    assert_eq!(
        action(&["cluster", "status"]).unwrap(),
        Action::Command(Command::Cluster(ClusterCommand::Status))
    );
    assert_eq!(
        action(&["cluster", "add", "4", "10.0.0.4:8080"]).unwrap(),
        Action::Command(Command::Cluster(ClusterCommand::Add {
            id: 4,
            address: "10.0.0.4:8080".into()
        }))
    );
    assert_eq!(
        action(&["cluster", "remove", "4"]).unwrap(),
        Action::Command(Command::Cluster(ClusterCommand::Remove { id: 4 }))
    );
    assert_eq!(
        action(&["cluster", "rotate-key", "--json"]).unwrap(),
        Action::Command(Command::Cluster(ClusterCommand::RotateKey))
    );
    assert_eq!(action(&["about"]).unwrap(), Action::Command(Command::About));
    assert_eq!(action(&["--cli-version"]).unwrap(), Action::CliVersion);
}

/// The syncpack version `-A`/`-I` act on in the line `iscli LINE...`.
fn pack_version(line: &[&str]) -> Option<String> {
    match action(line) {
        Ok(Action::SyncPack(ops)) => ops.version,
        other => panic!("{line:?}: {other:?}"),
    }
}

#[test]
fn version_prints_iscli_version_and_with_a_value_is_the_syncpack_version() {
    assert_eq!(action(&["--version"]).unwrap(), Action::CliVersion);
    // -V, its new long name and the original's --version VERSION all name
    // the syncpack version.
    for line in [
        &["-AIkn", "p", "-V", "0.0.1"][..],
        &["-AIkn", "p", "--pack-version", "0.0.1"],
        &["-AIkn", "p", "--version", "0.0.1"],
        &["-AIkn", "p", "--version=0.0.1"],
    ] {
        assert_eq!(pack_version(line).as_deref(), Some("0.0.1"), "{line:?}");
    }
    assert_eq!(pack_version(&["-Ikn", "p"]), None);
    // --version without a value beside other flags would silently skip them.
    for line in [
        &["-AIkn", "p", "--version"][..],
        &["--cli-version", "-Ikn", "p"],
        &["--version", "about"],
        &["-V", "1", "--version", "2", "-Ikn", "p"],
    ] {
        let err = action(line).expect_err(&format!("{line:?}"));
        assert_eq!(err.exit_code(), 2, "{line:?}");
    }
    let help = Cli::command().render_help().to_string();
    assert!(help.contains("--version [<VERSION>]"), "{help}");
    assert!(help.contains("-V, --pack-version <VERSION>"), "{help}");
    assert!(!help.contains("--cli-version"), "{help}");
}

#[test]
fn rotate_key_takes_no_arguments_and_says_what_it_does() {
    for line in [
        &["iscli", "cluster", "rotate-key", "now"][..],
        &["iscli", "cluster", "rotate-key", "--force"],
        &["iscli", "cluster", "rotatekey"],
    ] {
        let err = Cli::try_parse_from(line).expect_err(&format!("{line:?} parsed"));
        assert_eq!(err.exit_code(), 2, "{line:?}");
    }
    let mut cli = Cli::command();
    let help = cli
        .find_subcommand_mut("cluster")
        .and_then(|c| c.find_subcommand_mut("rotate-key"))
        .expect("cluster rotate-key")
        .render_long_help()
        .to_string();
    for says in [
        "new cluster key",
        "encrypted configuration value",
        "administrators only",
    ] {
        assert!(help.contains(says), "{says:?} not in:\n{help}");
    }
}

#[test]
fn top_level_help_says_where_the_openapi_document_is() {
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("/api/v1/openapi.json"), "{help}");
}
