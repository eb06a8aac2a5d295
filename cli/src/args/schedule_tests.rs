//! Tests of `iscli schedule ...`: the lines accepted, the ones refused (by
//! clap or by `Cli::action`), and the documents `schedule add` builds.

use std::path::PathBuf;

use clap::Parser;
use serde_json::json;

use super::*;
use crate::args::tests::action;
use crate::args::{Action, Cli, Command};

fn schedule(line: &[&str]) -> ScheduleCommand {
    match action(line).unwrap() {
        Action::Command(Command::Schedule(cmd)) => cmd,
        other => panic!("{line:?} gave {other:?}"),
    }
}

/// The document `iscli schedule add ARGS...` sends.
fn document(args: &[&str]) -> Value {
    let mut line = vec!["schedule", "add"];
    line.extend_from_slice(args);
    match schedule(&line) {
        ScheduleCommand::Add(add) => match add.source().unwrap() {
            ScheduleSource::Document(doc) => doc,
            other => panic!("{line:?} gave {other:?}"),
        },
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
fn every_builds_a_frequency_schedule_with_the_defaults() {
    assert_eq!(
        document(&["--app", "hello", "--every", "60"]),
        json!({
            "application_id": "hello", "entry_id": "hello", "params": {}, "enabled": true,
            "overlap": "skip",
            "schedule": {"schedule_type": "frequency", "schedule_info": {"run_every": 60}}
        })
    );
}

#[test]
fn cron_builds_a_crontab_schedule_with_every_option() {
    assert_eq!(
        document(&[
            "--app",
            "hello",
            "--entry-id",
            "nightly",
            "--cron",
            " 0  */2 * * mon-fri ",
            "--timezone",
            "Europe/Paris",
            "--param",
            "who=world",
            "--param",
            "ids=[1, 2]",
            "--overlap",
            "allow",
            "--disabled",
        ]),
        json!({
            "application_id": "hello", "entry_id": "nightly",
            "params": {"who": "world", "ids": [1, 2]}, "enabled": false, "overlap": "allow",
            "schedule": {"schedule_type": "crontab", "schedule_info": {
                "minute": "0", "hour": "*/2", "day_of_month": "*", "month_of_year": "*",
                "day_of_week": "mon-fri", "timezone": "Europe/Paris"}}
        })
    );
    // Without --timezone the node's default (UTC) applies: no key at all.
    let doc = document(&["--app", "a", "--cron", "5,35 1-3 1 jan *"]);
    assert_eq!(
        doc["schedule"]["schedule_info"],
        json!({"minute": "5,35", "hour": "1-3", "day_of_month": "1", "month_of_year": "jan",
               "day_of_week": "*"})
    );
}

#[test]
fn file_is_sent_as_it_is() {
    match schedule(&["schedule", "add", "--file", "s.json"]) {
        ScheduleCommand::Add(add) => {
            assert_eq!(
                add.source().unwrap(),
                ScheduleSource::File(PathBuf::from("s.json"))
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        schedule(&["schedule", "add", "--file", "-"]),
        ScheduleCommand::Add(ScheduleAdd { file: Some(_), .. })
    ));
}

#[test]
fn the_other_schedule_subcommands_parse() {
    assert_eq!(schedule(&["schedule", "list", "--json"]), ScheduleCommand::List);
    for (word, expected) in [
        ("show", ScheduleCommand::Show { id: "sched-1".into() }),
        ("enable", ScheduleCommand::Enable { id: "sched-1".into() }),
        ("disable", ScheduleCommand::Disable { id: "sched-1".into() }),
        ("delete", ScheduleCommand::Delete { id: "sched-1".into() }),
    ] {
        assert_eq!(schedule(&["schedule", word, "sched-1"]), expected, "{word}");
        refused(&["schedule", word]);
    }
}

#[test]
fn exactly_one_of_every_cron_and_file() {
    let none = refused(&["schedule", "add", "--app", "a"]);
    assert!(none.contains("--every") && none.contains("--cron"), "{none}");
    for pair in [
        &["--every", "60", "--cron", "* * * * *"][..],
        &["--every", "60", "--file", "s.json"],
        &["--cron", "* * * * *", "--file", "s.json"],
    ] {
        let mut line = vec!["schedule", "add", "--app", "a"];
        line.extend_from_slice(pair);
        let err = refused(&line);
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

#[test]
fn file_takes_no_other_flag() {
    for extra in [
        &["--app", "a"][..],
        &["--entry-id", "e"],
        &["--param", "x=1"],
        &["--overlap", "allow"],
        &["--disabled"],
        &["--timezone", "UTC"],
    ] {
        let mut line = vec!["schedule", "add", "--file", "s.json"];
        line.extend_from_slice(extra);
        let err = refused(&line);
        assert!(
            err.contains("'--file <FILE>' cannot be used with"),
            "{extra:?}: {err}"
        );
    }
}

#[test]
fn bad_values_are_refused_by_clap() {
    let err = refused(&["schedule", "add", "--every", "60"]);
    assert!(err.contains("--app <APP>"), "{err}");
    let err = refused(&["schedule", "add", "--app", "a", "--every", "0"]);
    assert!(err.contains("the interval must be above 0 seconds"), "{err}");
    for bad in ["-5", "1.5", "x", ""] {
        let err = refused(&["schedule", "add", "--app", "a", &format!("--every={bad}")]);
        assert!(
            err.contains("expected a whole number of seconds"),
            "{bad:?}: {err}"
        );
    }
    for (bad, count) in [("* * * *", 4), ("0 0 * * * *", 6), ("@hourly", 1), ("", 0)] {
        let err = refused(&["schedule", "add", "--app", "a", &format!("--cron={bad}")]);
        assert!(err.contains("expected 5 fields"), "{bad:?}: {err}");
        assert!(err.contains(&format!("got {count} in")), "{bad:?}: {err}");
    }
    let err = refused(&["schedule", "add", "--app", "a", "--cron", "0 0 * * $"]);
    assert!(err.contains("the DAY-OF-WEEK field \"$\" may only hold"), "{err}");
    refused(&[
        "schedule",
        "add",
        "--app",
        "a",
        "--every",
        "1",
        "--overlap",
        "queue",
    ]);
    refused(&["schedule", "add", "--app", "", "--every", "1"]);
    refused(&["schedule", "add", "--app", "a", "--entry-id", "", "--every", "1"]);
    refused(&[
        "schedule",
        "add",
        "--app",
        "a",
        "--cron",
        "* * * * *",
        "--timezone",
        "",
    ]);
}

#[test]
fn what_clap_cannot_check_is_a_usage_error_before_any_call() {
    let err = action(&[
        "schedule",
        "add",
        "--app",
        "a",
        "--every",
        "60",
        "--timezone",
        "UTC",
    ])
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.render().contains("--timezone goes with --cron"),
        "{}",
        err.render()
    );
    let err = action(&[
        "schedule", "add", "--app", "a", "--every", "6", "--param", "x=1", "--param", "x=2",
    ])
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.render().contains("--param x=... is given more than once"));
    // The original flags do not mix with the subcommand.
    assert_eq!(action(&["-A", "schedule", "list"]).unwrap_err().exit_code(), 2);
}
