//! `iscli task ...`: showing, following, revoking, replaying and listing
//! tasks (runs of a step) and runs (of an application, `isapp-...`).

use clap::builder::NonEmptyStringValueParser;
use clap::Subcommand;

/// What to do with tasks (runs of a step) and runs (of an application).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum TaskCommand {
    /// Show one task or run: its state, details and log lines
    ///
    /// For a step task: step, state, attempt, worker, times (UTC), result or
    /// error and traceback, and its log lines. For a run (isapp-...): its
    /// application, state, queue, configuration, variables, times, every
    /// step with its state, attempt, task id and what it waits for (or the
    /// last line of its error), and the steps' log lines.
    Show {
        /// Task id (printed by 'iscli step run') or run id (isapp-...,
        /// printed by 'iscli app run')
        id: String,
    },
    /// Print a task's or a run's log lines (times in UTC)
    ///
    /// For a run (isapp-...): the log lines of all its steps in time order,
    /// each with its step's name.
    Logs {
        /// Task id (printed by 'iscli step run') or run id (isapp-...)
        id: String,
        /// Keep printing new lines as they are logged, until the task ends
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Revoke a task or a run: a pending one never starts, a running one is
    /// killed; a finished one is left as it is
    ///
    /// Revoking a run (isapp-...) revokes its unfinished steps; revoking a
    /// step of a run revokes the run.
    Revoke {
        /// Task id (printed by 'iscli step run') or run id (isapp-...)
        id: String,
    },
    /// Replay a run: a new run with the same variables, configuration and
    /// queue, followed like 'iscli app run'
    ///
    /// Starts a new run of the same application with the same variables,
    /// configuration and queue as the given run. Prints the new run id, then follows the new run for up to --wait
    /// seconds exactly as 'iscli app run' does (live view, final status,
    /// exit 1 when it failed or was revoked). The application's current
    /// document is used, not the one the replayed run had.
    #[command(after_help = TASK_REPLAY_HELP)]
    Replay {
        /// Run id to replay (isapp-...; see 'iscli task list')
        id: String,
        /// Seconds to follow the new run before returning with its id (it
        /// keeps running; see it with 'iscli task show ID'); 0 = return at once
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        wait: u64,
    },
    /// List recent application runs, newest first: run id, application,
    /// state, start time (UTC)
    #[command(after_help = TASK_LIST_HELP)]
    List {
        /// Only the runs of this application
        #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
        app: Option<String>,
        /// Only the runs in this state: PENDING, STARTED, SUCCESS, FAILURE or
        /// REVOKED (any case)
        #[arg(long, value_name = "STATE", value_parser = parse_state)]
        state: Option<String>,
        /// At most this many runs (1 to 1000) [default: 50]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: Option<u32>,
    },
}

const TASK_REPLAY_HELP: &str = "\
Examples:
  iscli task replay isapp-0b6e6c1a-...
  iscli task replay isapp-0b6e6c1a-... --wait 0    start it, print the new run id
  iscli task replay isapp-0b6e6c1a-... --json      only the new run's final status";

const TASK_LIST_HELP: &str = "\
Examples:
  iscli task list
  iscli task list --app integration_template --limit 5
  iscli task list --state FAILURE --json";

/// Reads a run state for 'task list --state': one of the task states, any case.
fn parse_state(arg: &str) -> Result<String, String> {
    let state = arg.trim().to_ascii_uppercase();
    if RUN_STATES.contains(&state.as_str()) {
        Ok(state)
    } else {
        Err(format!("expected one of {}, got {arg:?}", RUN_STATES.join(", ")))
    }
}

/// The states a run or a task can be in.
const RUN_STATES: [&str; 6] = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::action;
    use crate::args::{Action, Cli, Command};
    use clap::Parser;

    #[test]
    fn task_subcommands_parse() {
        assert_eq!(
            action(&["task", "show", "t-1", "--json"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Show { id: "t-1".into() }))
        );
        assert_eq!(
            action(&["task", "logs", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Logs {
                id: "t-1".into(),
                follow: false
            }))
        );
        assert_eq!(
            action(&["task", "logs", "-f", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Logs {
                id: "t-1".into(),
                follow: true
            }))
        );
        assert_eq!(
            action(&["task", "revoke", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Revoke { id: "t-1".into() }))
        );
    }

    #[test]
    fn replay_and_list_parse() {
        assert_eq!(
            action(&["task", "replay", "isapp-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Replay {
                id: "isapp-1".into(),
                wait: 30
            }))
        );
        assert_eq!(
            action(&["task", "replay", "isapp-1", "--wait", "0", "--json"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Replay {
                id: "isapp-1".into(),
                wait: 0
            }))
        );
        assert_eq!(
            action(&["task", "list"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::List {
                app: None,
                state: None,
                limit: None
            }))
        );
        assert_eq!(
            action(&["task", "list", "--app", "hello", "--state", "failure", "--limit", "5"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::List {
                app: Some("hello".into()),
                state: Some("FAILURE".into()),
                limit: Some(5)
            }))
        );
        for line in [
            &["iscli", "task", "list", "--state", "DONE"][..],
            &["iscli", "task", "list", "--limit", "0"],
            &["iscli", "task", "list", "--limit", "1001"],
            &["iscli", "task", "list", "--app", ""],
            &["iscli", "task", "replay"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }
}
