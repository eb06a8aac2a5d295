//! `iscli audit`: the audit trail, newest first, a page at a time (or
//! every page with --all). The node records every change, every call
//! refused for want of a permission and every failed login; reading the
//! trail needs the administrator role.

use clap::builder::NonEmptyStringValueParser;
use clap::Args;

/// `iscli audit`: which page of the trail, and how many records per page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub(crate) struct AuditList {
    /// At most this many records per page (1 to 1000) [default: 50]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) limit: Option<u32>,

    /// Start at this page: the cursor the previous page's last line gave
    #[arg(long, value_name = "CURSOR", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) cursor: Option<String>,

    /// Get every page (following the cursors), not only the first
    #[arg(long)]
    pub(crate) all: bool,
}

/// Shown under `iscli audit --help`.
pub(crate) const AUDIT_HELP: &str = "\
Columns: TIME (UTC), USER (with the API key's id when the call used one),
FROM (the caller's address), ACTION (REST method and path, or gRPC and the
RPC's name), TARGET (what the call named, if anything), STATUS (the HTTP
status it answered; gRPC codes as their HTTP equivalent).

Examples:
  iscli audit                              the newest 50 records
  iscli audit --limit 10
  iscli audit --cursor CURSOR              the next page, as the last line said
  iscli audit --all --json                 every record, as JSON";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::action;
    use crate::args::{Action, Cli, Command};
    use clap::Parser;

    fn audit(line: &[&str]) -> AuditList {
        match action(line).unwrap() {
            Action::Command(Command::Audit(list)) => list,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn audit_parses_its_page_options() {
        assert_eq!(audit(&["audit"]), AuditList::default());
        assert_eq!(
            audit(&[
                "audit",
                "--limit",
                "10",
                "--cursor",
                "1700:ab-c",
                "--all",
                "--json"
            ]),
            AuditList {
                limit: Some(10),
                cursor: Some("1700:ab-c".into()),
                all: true,
            }
        );
        assert_eq!(
            audit(&["audit", "--limit", "1000"]).limit,
            Some(1000),
            "the largest page the node gives"
        );
    }

    #[test]
    fn audit_bad_lines() {
        for line in [
            &["iscli", "audit", "--limit", "0"][..],
            &["iscli", "audit", "--limit", "1001"],
            &["iscli", "audit", "--limit", "ten"],
            &["iscli", "audit", "--cursor", ""],
            &["iscli", "audit", "--cursor"],
            &["iscli", "audit", "list"],
        ] {
            let err = Cli::try_parse_from(line).expect_err(&format!("{line:?} parsed"));
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        let err = Cli::try_parse_from(["iscli", "audit", "--limit", "0"]).unwrap_err();
        assert!(err.to_string().contains("1..=1000"), "{err}");
    }
}
