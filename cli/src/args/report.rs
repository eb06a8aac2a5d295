//! `iscli report ...`: listing reports (a page at a time, or every page
//! with --all), showing and deleting one. A report is what a run of an
//! application with `generate_report` on leaves behind.

use clap::builder::NonEmptyStringValueParser;
use clap::{Args, Subcommand};

use super::usage;
use crate::error::CliError;

/// What to do with reports.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum ReportCommand {
    /// List reports: id, application, run, creation time (UTC)
    ///
    /// One page of at most --limit reports; when more follow, the last line
    /// says the --cursor that gets the next page. --all gets every page.
    /// With --json: the node's answer, {"reports": [...], "next_cursor": ...}
    /// (with --all, every report and a null cursor).
    #[command(after_help = REPORT_LIST_HELP)]
    List(ReportList),

    /// Show one report: its application, run and creation time, then each
    /// section as a table, with its sub-reports below it
    ///
    /// With --json: the report document the node answers.
    Show {
        /// Report id (report-..., see 'iscli report list')
        id: String,
    },

    /// Delete a report
    Delete {
        /// Report id (report-...)
        id: String,
    },
}

const REPORT_LIST_HELP: &str = "\
Examples:
  iscli report list
  iscli report list --app integration_template --limit 10
  iscli report list --since 1700000000 --until 1700086400 --all
  iscli report list --cursor CURSOR        the next page, as the last line said
  iscli report list --all --json";

/// `iscli report list`: which reports, and how many per page.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct ReportList {
    /// Only the reports of this application
    #[arg(long, value_name = "APP", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) app: Option<String>,

    /// Only the reports created at or after this time, in seconds since
    /// 1970-01-01 UTC
    #[arg(long, value_name = "EPOCH", value_parser = parse_epoch)]
    pub(crate) since: Option<Epoch>,

    /// Only the reports created before this time, in seconds since
    /// 1970-01-01 UTC
    #[arg(long, value_name = "EPOCH", value_parser = parse_epoch)]
    pub(crate) until: Option<Epoch>,

    /// At most this many reports per page (1 to 1000) [default: 50]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) limit: Option<u32>,

    /// Start at this page: the cursor the previous page's last line gave
    #[arg(long, value_name = "CURSOR", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) cursor: Option<String>,

    /// Get every page (following the cursors), not only the first
    #[arg(long)]
    pub(crate) all: bool,
}

impl ReportList {
    /// Checks what clap cannot: the time range is not empty.
    pub(crate) fn check(&self) -> Result<(), CliError> {
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since.0 >= until.0 {
                return Err(usage(&format!(
                    "--since {} is not before --until {}: no report can match",
                    since.0, until.0
                )));
            }
        }
        Ok(())
    }
}

/// A time as seconds since the epoch (finite and not negative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Epoch(pub(crate) f64);

// `parse_epoch` refuses NaN, so equality is total.
impl Eq for Epoch {}

/// Reads an epoch time: seconds since 1970-01-01 UTC, fractions allowed.
fn parse_epoch(arg: &str) -> Result<Epoch, String> {
    match arg.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.0 => Ok(Epoch(secs)),
        _ => Err(format!(
            "expected seconds since 1970-01-01 UTC (e.g. 1700000000), got {arg:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::action;
    use crate::args::{Action, Cli, Command};
    use clap::Parser;

    fn report(line: &[&str]) -> ReportCommand {
        match action(line).unwrap() {
            Action::Command(Command::Report(cmd)) => cmd,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn report_list_parses_its_filters() {
        assert_eq!(
            report(&["report", "list"]),
            ReportCommand::List(ReportList {
                app: None,
                since: None,
                until: None,
                limit: None,
                cursor: None,
                all: false
            })
        );
        assert_eq!(
            report(&[
                "report",
                "list",
                "--app",
                "hello",
                "--since",
                "1700000000",
                "--until",
                "1700000100.5",
                "--limit",
                "10",
                "--cursor",
                "c-2",
                "--all",
                "--json",
            ]),
            ReportCommand::List(ReportList {
                app: Some("hello".into()),
                since: Some(Epoch(1_700_000_000.0)),
                until: Some(Epoch(1_700_000_100.5)),
                limit: Some(10),
                cursor: Some("c-2".into()),
                all: true
            })
        );
    }

    #[test]
    fn report_show_and_delete_parse() {
        assert_eq!(
            report(&["report", "show", "report-a-isapp-1"]),
            ReportCommand::Show {
                id: "report-a-isapp-1".into()
            }
        );
        assert_eq!(
            report(&["report", "delete", "report-a-isapp-1"]),
            ReportCommand::Delete {
                id: "report-a-isapp-1".into()
            }
        );
    }

    #[test]
    fn report_bad_lines() {
        for line in [
            &["iscli", "report"][..],
            &["iscli", "report", "show"],
            &["iscli", "report", "delete"],
            &["iscli", "report", "list", "--limit", "0"],
            &["iscli", "report", "list", "--limit", "1001"],
            &["iscli", "report", "list", "--app", ""],
            &["iscli", "report", "list", "--cursor", ""],
            &["iscli", "report", "list", "--since", "yesterday"],
            &["iscli", "report", "list", "--since=-1"],
            &["iscli", "report", "list", "--until", "NaN"],
            &["iscli", "report", "list", "--until", "inf"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
        let err = action(&["report", "list", "--since", "200", "--until", "100"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            err.render().contains("--since 200 is not before --until 100"),
            "{}",
            err.render()
        );
        assert!(action(&["report", "list", "--since", "100", "--until", "100"]).is_err());
    }
}
