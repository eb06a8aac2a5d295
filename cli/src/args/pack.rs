//! `iscli pack ...` (alias `syncpack`): listing, showing and deleting
//! uploaded syncpacks. Uploading, activating and installing keep the
//! original product's flags (`iscli -ukf`, `iscli -AIkn`, in `legacy`).

use clap::builder::NonEmptyStringValueParser;
use clap::Subcommand;

/// What to do with syncpacks.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum PackCommand {
    /// List the uploaded syncpacks: one line per name and version, with
    /// whether it is activated and installed, and its summary
    #[command(after_help = "\
Examples:
  iscli pack list
  iscli pack list --activated --installed    what the steps can use now
  iscli pack list --json")]
    List {
        /// Only the versions installed on the nodes
        #[arg(long)]
        installed: bool,

        /// Only the activated versions (at most one per syncpack)
        #[arg(long)]
        activated: bool,
    },

    /// Show one syncpack: its metadata, install state on each node (with the
    /// install log of the nodes where it failed), the content it owns and
    /// every uploaded version
    ///
    /// The fields at the top describe the activated version, else the newest
    /// uploaded. With --json: the document the node answers, which also
    /// holds every node's install log.
    Show {
        /// Syncpack name
        name: String,
    },

    /// Delete one uploaded version of a syncpack
    #[command(after_help = "\
Examples:
  iscli pack delete test_syncpack -V 0.0.1
  iscli pack delete test_syncpack            its newest uploaded version")]
    Delete {
        /// Syncpack name
        name: String,

        /// The version to delete [default: the newest uploaded]
        #[arg(short = 'V', long, value_name = "VERSION", value_parser = NonEmptyStringValueParser::new())]
        version: Option<String>,

        /// Delete even if the node would refuse otherwise (e.g. the version
        /// is activated or installed)
        #[arg(short = 'F', long)]
        force: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::action;
    use crate::args::{Action, Cli, Command};
    use clap::Parser;

    fn pack(line: &[&str]) -> PackCommand {
        match action(line).unwrap() {
            Action::Command(Command::Pack(cmd)) => cmd,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn pack_subcommands_parse() {
        assert_eq!(
            pack(&["pack", "list"]),
            PackCommand::List {
                installed: false,
                activated: false
            }
        );
        assert_eq!(
            pack(&["syncpack", "list", "--installed", "--activated", "--json"]),
            PackCommand::List {
                installed: true,
                activated: true
            }
        );
        assert_eq!(
            pack(&["pack", "show", "test_syncpack"]),
            PackCommand::Show {
                name: "test_syncpack".into()
            }
        );
        assert_eq!(
            pack(&["pack", "delete", "p", "-V", "0.0.1", "-F"]),
            PackCommand::Delete {
                name: "p".into(),
                version: Some("0.0.1".into()),
                force: true
            }
        );
        assert_eq!(
            pack(&["pack", "delete", "p", "--version=2", "--force"]),
            PackCommand::Delete {
                name: "p".into(),
                version: Some("2".into()),
                force: true
            }
        );
        assert_eq!(
            pack(&["pack", "delete", "p"]),
            PackCommand::Delete {
                name: "p".into(),
                version: None,
                force: false
            }
        );
    }

    #[test]
    fn pack_bad_lines() {
        for line in [
            &["iscli", "pack"][..],
            &["iscli", "pack", "show"],
            &["iscli", "pack", "delete"],
            &["iscli", "pack", "delete", "p", "-V", ""],
            &["iscli", "pack", "list", "extra"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
        // The original flags do not mix with the subcommand.
        let err = action(&["-A", "pack", "list"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
    }
}
