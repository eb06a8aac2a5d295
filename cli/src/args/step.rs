//! `iscli step ...`: listing, showing and deleting steps, and `step run`
//! with its parameters, how long to follow it and its timeout.

use clap::{Args, Subcommand};
use serde_json::{Map, Value};

use super::params::{param_map, parse_param};
use super::usage;
use crate::error::CliError;

/// What to do with steps.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum StepCommand {
    /// List every step: name, friendly name, version
    List,
    /// Show one step: its metadata, declared parameters and source
    Get {
        /// Step name (its class name)
        name: String,
    },
    /// Delete one step
    Delete {
        /// Step name (its class name)
        name: String,
    },
    /// Run one uploaded step alone and follow it: state changes, log lines, result
    ///
    /// Prints the step's state changes and log lines as they happen, then its
    /// result (or its error and traceback). Exits 1 when the step failed or
    /// was revoked. When --wait runs out first it prints the task id and
    /// exits 0 while the step goes on. With --json it prints only the final
    /// task status, or {id, href, state} if the step had not finished.
    #[command(after_help = STEP_RUN_HELP)]
    Run(StepRun),
}

const STEP_RUN_HELP: &str = "\
Examples:
  iscli step run Greet --param who=world
  iscli step run Import --param rows=100 --param 'filter={\"country\": \"NL\"}'
  iscli step run Slow --timeout 60 --wait 0     start it and return at once
  iscli step run Greet --param who=world --json

Log times are shown in UTC (HH:MM:SS).";

/// `iscli step run`: which step, with what, and how long to watch it.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct StepRun {
    /// Step name (its class name)
    pub(crate) name: String,

    /// A step parameter, KEY=VALUE; repeat for more. The value is read as
    /// JSON when it is valid JSON (42, 1.5, true, null, [1,2], {"a":1},
    /// "quoted"), else taken as a plain string (who=world -> "world")
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, Value)>,

    /// Seconds to follow the step before returning with its task id (it
    /// keeps running; see it with 'iscli task show ID'); 0 = return at once
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub(crate) wait: u64,

    /// Seconds after which the node kills the step (sets the step's
    /// "timeout" parameter) [default: no limit]
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub(crate) timeout: Option<Value>,
}

impl StepRun {
    /// The parameters to send: every --param, plus "timeout" from
    /// --timeout. A key given twice (or --timeout with --param timeout=...)
    /// is a usage error rather than a silent choice.
    pub(crate) fn params(&self) -> Result<Map<String, Value>, CliError> {
        let mut map = param_map(&self.params)?;
        if let Some(timeout) = &self.timeout {
            if map.contains_key("timeout") {
                return Err(usage(
                    "--timeout and --param timeout=... both set the step's timeout: use one",
                ));
            }
            map.insert("timeout".into(), timeout.clone());
        }
        Ok(map)
    }
}

/// Reads a positive, finite number of seconds (fractions allowed) as a
/// JSON number: whole numbers as integers (60, not 60.0).
fn positive_seconds(arg: &str) -> Result<Value, String> {
    match arg.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => {
            if s.fract() == 0.0 && s <= u32::MAX as f64 {
                Ok(Value::from(s as u64))
            } else {
                Ok(Value::from(s))
            }
        }
        _ => Err(format!("expected a positive number of seconds, got {arg:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{action, parse};
    use crate::args::{Action, Cli, Command};
    use clap::Parser;
    use serde_json::json;

    fn step_run(line: &[&str]) -> StepRun {
        match action(line).unwrap() {
            Action::Command(Command::Step(StepCommand::Run(run))) => run,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn step_run_parses_params_wait_and_timeout() {
        let run = step_run(&["step", "run", "Greet", "--param", "who=world", "--param", "n=3"]);
        assert_eq!(run.name, "Greet");
        assert_eq!(run.wait, 10);
        assert_eq!(run.timeout, None);
        let params = run.params().unwrap();
        assert_eq!(Value::Object(params), json!({"who": "world", "n": 3}));

        let run = step_run(&["step", "run", "Slow", "--wait", "0", "--timeout", "60"]);
        assert_eq!(run.wait, 0);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"timeout": 60}));
        let run = step_run(&["step", "run", "Slow", "--timeout", "0.5", "--json"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"timeout": 0.5}));
        assert!(parse(&["step", "run", "Slow", "--json"]).json);
    }

    #[test]
    fn step_run_bad_lines() {
        // A key twice, or the timeout twice: usage errors (exit 2).
        for line in [
            &["step", "run", "S", "--param", "a=1", "--param", "a=2"][..],
            &["step", "run", "S", "--timeout", "5", "--param", "timeout=9"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        // Refused by clap itself.
        for line in [
            &["iscli", "step", "run", "S", "--param", "novalue"][..],
            &["iscli", "step", "run", "S", "--timeout", "0"],
            &["iscli", "step", "run", "S", "--timeout", "-3"],
            &["iscli", "step", "run", "S", "--timeout", "soon"],
            &["iscli", "step", "run", "S", "--wait", "-1"],
            &["iscli", "step", "run"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }
}
