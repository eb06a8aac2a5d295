//! Tests of `iscli whoami`, `user ...`, `role ...`, `key ...` and the
//! `--api-key` flag: the lines accepted and what they mean, and the ones
//! clap refuses (unknown roles, lifetimes out of range, missing names).

use clap::Parser;

use super::*;
use crate::args::tests::{action, parse};
use crate::args::{Action, Cli, Command};

fn command(line: &[&str]) -> Command {
    match action(line).unwrap() {
        Action::Command(cmd) => cmd,
        other => panic!("{line:?} gave {other:?}"),
    }
}

/// clap's message for `iscli ARGS...`, which it must refuse.
fn refused(args: &[&str]) -> String {
    let mut line = vec!["iscli"];
    line.extend_from_slice(args);
    match Cli::try_parse_from(&line) {
        Ok(cli) => panic!("{line:?} parsed: {cli:?}"),
        Err(err) => {
            assert_eq!(err.exit_code(), 2, "{line:?}");
            err.to_string()
        }
    }
}

#[test]
fn api_key_is_a_global_connection_flag() {
    let cli = parse(&["task", "list", "--api-key", "isk_1a_s3"]);
    assert_eq!(cli.connection.flags().api_key.as_deref(), Some("isk_1a_s3"));
    assert_eq!(cli.connection.flags().password, None);
    let cli = parse(&["--api-key", "isk_1a_s3", "whoami"]);
    assert_eq!(cli.connection.api_key.as_deref(), Some("isk_1a_s3"));
    assert_eq!(command(&["whoami"]), Command::WhoAmI);
}

#[test]
fn user_commands_parse() {
    assert_eq!(command(&["user", "list"]), Command::User(UserCommand::List));
    assert_eq!(
        command(&[
            "user",
            "add",
            "olga",
            "--role",
            "operator",
            "--new-password",
            "pw-12345"
        ]),
        Command::User(UserCommand::Add(UserAdd {
            name: "olga".into(),
            role: RoleName::Operator,
            new_password: Some("pw-12345".into()),
        }))
    );
    // The role defaults to viewer; the password is then read or asked for.
    assert_eq!(
        command(&["user", "add", "victor"]),
        Command::User(UserCommand::Add(UserAdd {
            name: "victor".into(),
            role: RoleName::Viewer,
            new_password: None,
        }))
    );
    assert_eq!(
        command(&["user", "delete", "victor"]),
        Command::User(UserCommand::Delete {
            name: "victor".into()
        })
    );
    assert_eq!(
        command(&["user", "passwd"]),
        Command::User(UserCommand::Passwd(UserPasswd {
            name: None,
            new_password: None,
        }))
    );
    assert_eq!(
        command(&["user", "passwd", "olga", "--new-password", "x"]),
        Command::User(UserCommand::Passwd(UserPasswd {
            name: Some("olga".into()),
            new_password: Some("x".into()),
        }))
    );
}

#[test]
fn the_new_password_and_the_callers_password_are_different_flags() {
    let cli = parse(&[
        "-U",
        "olga",
        "-p",
        "current",
        "user",
        "passwd",
        "--new-password",
        "next",
    ]);
    assert_eq!(cli.connection.password.as_deref(), Some("current"));
    match cli.command {
        Some(Command::User(UserCommand::Passwd(p))) => {
            assert_eq!(p.new_password.as_deref(), Some("next"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn role_commands_parse_and_name_only_known_roles() {
    assert_eq!(command(&["role", "list"]), Command::Role(RoleCommand::List));
    assert_eq!(
        command(&["role", "show", "olga"]),
        Command::Role(RoleCommand::Show { owner: "olga".into() })
    );
    assert_eq!(
        command(&["role", "assign", "olga", "administrator"]),
        Command::Role(RoleCommand::Assign {
            owner: "olga".into(),
            role: RoleName::Administrator
        })
    );
    assert_eq!(
        command(&["role", "unassign", "olga"]),
        Command::Role(RoleCommand::Unassign { owner: "olga".into() })
    );
    let msg = refused(&["role", "assign", "olga", "root"]);
    assert!(msg.contains("viewer, operator, administrator"), "{msg}");
    assert!(refused(&["user", "add", "x", "--role", "superuser"]).contains("possible values"));
    assert!(refused(&["role", "assign", "olga"]).contains("<ROLE>"));
}

#[test]
fn key_commands_parse_with_their_defaults() {
    assert_eq!(
        command(&["key", "create"]),
        Command::Key(KeyCommand::Create(KeyCreate {
            label: None,
            role: None,
            expires_days: None,
        }))
    );
    assert_eq!(
        command(&[
            "apikey",
            "create",
            "--label",
            "ci",
            "--role",
            "viewer",
            "--expires-days",
            "90"
        ]),
        Command::Key(KeyCommand::Create(KeyCreate {
            label: Some("ci".into()),
            role: Some(RoleName::Viewer),
            expires_days: Some(90),
        }))
    );
    assert_eq!(command(&["key", "list"]), Command::Key(KeyCommand::List));
    assert_eq!(
        command(&["key", "revoke", "1a2b"]),
        Command::Key(KeyCommand::Revoke { id: "1a2b".into() })
    );
    for days in ["0", "3651", "-1", "soon"] {
        refused(&["key", "create", "--expires-days", days]);
    }
    assert!(refused(&["key", "revoke"]).contains("<ID>"));
}

#[test]
fn every_new_command_and_flag_has_help_text() {
    use clap::CommandFactory;
    let cli = Cli::command();
    for noun in ["whoami", "user", "role", "key"] {
        let sub = cli
            .find_subcommand(noun)
            .unwrap_or_else(|| panic!("no subcommand {noun}"));
        assert!(sub.get_about().is_some(), "{noun} has no help");
        for verb in sub.get_subcommands() {
            assert!(
                verb.get_about().is_some(),
                "{noun} {} has no help",
                verb.get_name()
            );
            for arg in verb.get_arguments() {
                assert!(
                    arg.get_help().is_some(),
                    "{noun} {} {} has no help",
                    verb.get_name(),
                    arg.get_id()
                );
            }
        }
    }
    let api_key = cli
        .get_arguments()
        .find(|a| a.get_id() == "api_key")
        .expect("--api-key");
    assert!(api_key.get_help().unwrap().to_string().contains("IS_API_KEY"));
}
