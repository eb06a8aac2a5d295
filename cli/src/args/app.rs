//! `iscli app ...` (alias `application`): listing, showing and deleting
//! applications, `app logs` (the last run), and `app run` with its
//! variables, queue, configuration, log level and how long to follow it.

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Subcommand};
use is_proto::LogLevel;
use serde_json::{Map, Value};

use super::params::{param_map, parse_param};
use super::usage;
use crate::error::CliError;

/// What to do with applications.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum AppCommand {
    /// List every application: name, friendly name, version
    List,
    /// Show one application: its fields, variables and steps; --json prints
    /// the document as uploaded
    Get {
        /// Application name
        name: String,
    },
    /// Delete one application
    Delete {
        /// Application name
        name: String,
    },
    /// Run an application and follow it live: each step's state, the log
    /// lines, then the outcome
    ///
    /// Starts a run, then shows its steps as they go: in a terminal, one line
    /// per step with its state (and attempt when retried), colored (PENDING
    /// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
    /// magenta) and redrawn in place, with the steps' log lines scrolling
    /// above it; otherwise (a pipe, a file) one line per state change, e.g.
    /// "step Fetch: STARTED (attempt 1)", and one per log line,
    /// "HH:MM:SS LEVEL step-name: message" (UTC). Then it prints the final
    /// status: the run's state, each step's state, and the last line of each
    /// failed step's traceback. Exits 1 when the run failed or was revoked.
    /// When --wait runs out first it prints the run id and exits 0 while the
    /// run goes on. With --json it prints only the run status (final, or as
    /// it stands when --wait ran out).
    #[command(after_help = APP_RUN_HELP)]
    Run(AppRun),
    /// Show the last run of an application: its state, steps and log lines
    ///
    /// The same as 'iscli task show' of that run. With --json: the run
    /// status the server answers, with "last_run", the run's href.
    Logs {
        /// Application name
        name: String,
    },
}

const APP_RUN_HELP: &str = "\
Examples:
  iscli app run integration_template
  iscli app run integration_template --param exampleVariable=hello --param 'ids=[1, 2]'
  iscli app run integration_template --config demo-settings --queue critical_queue
  iscli app run integration_template --debug          a Debug Run (log level 10)
  iscli app run integration_template --wait 0         start it and return at once
  iscli app run integration_template --json

Colors are left out when NO_COLOR is set; the in-place view needs a terminal
that understands ANSI cursor movement (not TERM=dumb). Lines longer than
$COLUMNS (default 80) are cut in the live view. Log records logged before
iscli started following are printed with the final status.";

/// `iscli app run`: which application, with what, and how long to watch it.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct AppRun {
    /// Application name
    pub(crate) name: String,

    /// An app variable for this run, KEY=VALUE; repeat for more. It
    /// overrides the application's value. The value is read as JSON when it
    /// is valid JSON (42, true, [1,2], {"a":1}, "quoted"), else taken as a
    /// plain string (who=world -> "world")
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, Value)>,

    /// Seconds to follow the run before returning with its run id (it keeps
    /// running; see it with 'iscli task show ID'); 0 = return at once
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub(crate) wait: u64,

    /// Queue whose workers run the steps [default: the application's queue,
    /// else "default"]
    #[arg(long, value_name = "QUEUE", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) queue: Option<String>,

    /// Configuration whose variables the steps see (${config.NAME})
    /// [default: the application's]
    #[arg(long = "config", value_name = "CONFIGURATION", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) configuration: Option<String>,

    /// A Debug Run: keep log records from level 10 (DEBUG) up; same as
    /// --log-level 10
    #[arg(long, conflicts_with = "log_level")]
    pub(crate) debug: bool,

    /// Keep only the log records at this level or above: a number, or
    /// DEBUG (10), INFO (20), FLOW (25), WARNING (30), ERROR (40), CRITICAL
    /// (50) [default: 1, every record]
    #[arg(long, value_name = "LEVEL", value_parser = LogLevel::parse)]
    pub(crate) log_level: Option<LogLevel>,
}

impl AppRun {
    /// The level to send: --log-level, DEBUG (10) for --debug (the
    /// original's "Debug Run"), or None (the server's default).
    pub(crate) fn log_level(&self) -> Option<LogLevel> {
        if self.debug {
            Some(LogLevel::DEBUG)
        } else {
            self.log_level
        }
    }

    /// The params to send: every --param (app variable overrides), plus
    /// "queue" from --queue, "configuration" from --config and "log_level"
    /// from --debug or --log-level. A key given twice (or a flag together
    /// with --param of the same key) is a usage error rather than a silent
    /// choice.
    pub(crate) fn params(&self) -> Result<Map<String, Value>, CliError> {
        let mut map = param_map(&self.params)?;
        let level_flag = if self.debug { "--debug" } else { "--log-level" };
        let options = [
            ("queue", "--queue", self.queue.clone().map(Value::String)),
            (
                "configuration",
                "--config",
                self.configuration.clone().map(Value::String),
            ),
            (
                "log_level",
                level_flag,
                self.log_level().map(|level| Value::from(level.number())),
            ),
        ];
        for (key, flag, value) in options {
            let Some(value) = value else {
                continue;
            };
            if map.contains_key(key) {
                return Err(usage(&format!(
                    "{flag} and --param {key}=... both set the run's {key}: use one"
                )));
            }
            map.insert(key.to_string(), value);
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::action;
    use crate::args::{Action, Cli, Command};
    use clap::Parser;
    use serde_json::json;

    fn app_run(line: &[&str]) -> AppRun {
        match action(line).unwrap() {
            Action::Command(Command::App(AppCommand::Run(run))) => run,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn app_run_params_carry_the_run_options() {
        let run = app_run(&["app", "run", "hello", "--param", "who=x", "--param", "n=3"]);
        assert_eq!(run.name, "hello");
        assert_eq!(run.wait, 30);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"who": "x", "n": 3}));

        let run = app_run(&[
            "app",
            "run",
            "hello",
            "--queue",
            "critical_queue",
            "--config",
            "site_a",
            "--wait",
            "0",
        ]);
        assert_eq!(run.wait, 0);
        assert_eq!(
            Value::Object(run.params().unwrap()),
            json!({"queue": "critical_queue", "configuration": "site_a"})
        );

        // --debug is the original's "Debug Run": log level 10.
        let run = app_run(&["app", "run", "hello", "--debug"]);
        assert_eq!(run.log_level(), Some(LogLevel::DEBUG));
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 10}));
        let run = app_run(&["app", "run", "hello", "--log-level", "30"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 30}));
        let run = app_run(&["app", "run", "hello", "--log-level", "warning", "--json"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 30}));
        // Nothing given: the server's defaults (no keys at all).
        let run = app_run(&["application", "run", "hello"]);
        assert_eq!(run.log_level(), None);
        assert!(run.params().unwrap().is_empty());
    }

    #[test]
    fn log_levels_are_numbers_or_names() {
        for (arg, level) in [
            ("0", 0),
            ("1", 1),
            ("10", 10),
            ("debug", 10),
            ("INFO", 20),
            ("Flow", 25),
            ("WARNING", 30),
            ("error", 40),
            (" critical ", 50),
        ] {
            let run = app_run(&["app", "run", "a", "--log-level", arg]);
            assert_eq!(run.log_level(), Some(LogLevel(level)), "{arg}");
        }
        for arg in ["", "-1", "loud", "1.5"] {
            let line = ["iscli", "app", "run", "a", &format!("--log-level={arg}")];
            let err = match Cli::try_parse_from(line) {
                Ok(cli) => panic!("{arg:?} parsed: {cli:?}"),
                Err(err) => err.to_string(),
            };
            // The message names the levels there are.
            assert!(
                err.contains("non-negative number or one of DEBUG, INFO, FLOW, WARNING, ERROR, CRITICAL"),
                "{arg:?}: {err}"
            );
        }
    }

    #[test]
    fn app_run_bad_lines() {
        // A key twice, or a flag and --param of the same key: usage errors.
        for line in [
            &["app", "run", "a", "--param", "x=1", "--param", "x=2"][..],
            &["app", "run", "a", "--queue", "q", "--param", "queue=r"],
            &["app", "run", "a", "--config", "c", "--param", "configuration=d"],
            &["app", "run", "a", "--debug", "--param", "log_level=20"],
            &["app", "run", "a", "--log-level", "20", "--param", "log_level=20"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        let err = action(&["app", "run", "a", "--debug", "--param", "log_level=20"]).unwrap_err();
        assert!(
            err.render().contains("--debug and --param log_level"),
            "{}",
            err.render()
        );
        // Refused by clap itself.
        for line in [
            &["iscli", "app", "run", "a", "--debug", "--log-level", "20"][..],
            &["iscli", "app", "run", "a", "--log-level", "loud"],
            &["iscli", "app", "run", "a", "--queue", ""],
            &["iscli", "app", "run", "a", "--config", ""],
            &["iscli", "app", "run", "a", "--param", "novalue"],
            &["iscli", "app", "run", "a", "--wait", "-1"],
            &["iscli", "app", "run"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn app_logs_parses() {
        assert_eq!(
            action(&["app", "logs", "hello"]).unwrap(),
            Action::Command(Command::App(AppCommand::Logs { name: "hello".into() }))
        );
    }
}
