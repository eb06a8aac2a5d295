//! `iscli completions SHELL`: the completion script of a shell, written by
//! clap_complete from the same command definition that parses the line,
//! so it never lags behind a new flag or subcommand.

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::Cli;

/// The shells iscli writes completions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CompletionShell {
    /// Bash: `iscli completions bash > /etc/bash_completion.d/iscli`
    Bash,
    /// Zsh: `iscli completions zsh > "${fpath[1]}/_iscli"`
    Zsh,
    /// Fish: `iscli completions fish > ~/.config/fish/completions/iscli.fish`
    Fish,
}

impl CompletionShell {
    fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
        }
    }
}

/// How to install each script, shown under `iscli completions --help`.
pub(crate) const COMPLETIONS_HELP: &str = "\
Examples:
  iscli completions bash > ~/.local/share/bash-completion/completions/iscli
  iscli completions zsh > \"${fpath[1]}/_iscli\"
  iscli completions fish > ~/.config/fish/completions/iscli.fish";

/// The completion script of `shell` for every flag and subcommand of iscli.
pub(crate) fn script(shell: CompletionShell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell.shell(), &mut Cli::command(), "iscli", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{action, parse};
    use crate::args::{Action, Command};
    use clap::Parser;

    #[test]
    fn every_shell_gets_a_script_naming_the_subcommands_and_flags() {
        for shell in [CompletionShell::Bash, CompletionShell::Zsh, CompletionShell::Fish] {
            let text = script(shell);
            for word in ["iscli", "rotate-key", "fileLocation", "pack-version", "whoami"] {
                assert!(text.contains(word), "{shell:?}: {word} missing");
            }
        }
        assert!(script(CompletionShell::Bash).contains("complete -F"));
        assert!(script(CompletionShell::Zsh).starts_with("#compdef iscli"));
        assert!(script(CompletionShell::Fish).contains("complete -c iscli"));
    }

    #[test]
    fn the_shell_is_one_of_three() {
        assert_eq!(
            action(&["completions", "zsh"]).unwrap(),
            Action::Command(Command::Completions {
                shell: CompletionShell::Zsh
            })
        );
        assert!(matches!(
            parse(&["completions", "fish"]).command,
            Some(Command::Completions { .. })
        ));
        for line in [
            &["iscli", "completions"][..],
            &["iscli", "completions", "powershell"],
        ] {
            let err = Cli::try_parse_from(line).expect_err(&format!("{line:?}"));
            assert_eq!(err.exit_code(), 2);
        }
    }
}
