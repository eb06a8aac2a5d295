//! Where a new password comes from (`user add`, `user passwd`): the
//! `--new-password` flag, else the first line of stdin when stdin is not a
//! terminal (a pipe, a file), else the terminal, asked twice without echo
//! (rpassword). The decision is pure (`choose`) and each source is tested
//! with fakes; `new_password` is the thin impure wrapper. No path here
//! prints a password, and no message quotes one.

use std::io::{BufRead, IsTerminal};

use crate::error::CliError;

/// Where the password is read from.
enum Source {
    Flag(String),
    Stdin,
    Terminal,
}

/// Picks the source: the flag, else stdin unless it is a terminal.
fn choose(flag: Option<String>, stdin_is_terminal: bool) -> Source {
    match flag {
        Some(password) => Source::Flag(password),
        None if stdin_is_terminal => Source::Terminal,
        None => Source::Stdin,
    }
}

/// The new password of `whose` ("olga", or "your account").
pub(crate) fn new_password(flag: Option<String>, whose: &str) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    match choose(flag, stdin.is_terminal()) {
        Source::Flag(password) => not_empty(password, "--new-password"),
        Source::Stdin => from_lines(&mut stdin.lock()),
        Source::Terminal => from_prompt(whose, &mut |prompt| rpassword::prompt_password(prompt)),
    }
}

/// The first line of `input`, without its line ending.
fn from_lines(input: &mut dyn BufRead) -> Result<String, CliError> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|e| {
        CliError::Local(format!(
            "cannot read the new password from stdin ({e}); pass --new-password or run \
             iscli in a terminal to be asked for it"
        ))
    })?;
    if line.is_empty() {
        return Err(CliError::Usage(
            "no new password: stdin is not a terminal and gave no line — pipe the password in \
             (printf '%s\\n' \"$PW\" | iscli ...), pass --new-password, or run iscli in a terminal"
                .to_string(),
        ));
    }
    let end = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(end);
    not_empty(line, "the first line of stdin")
}

/// Asks twice through `ask` (the prompt in, the typed text out); the two
/// answers must match.
fn from_prompt(
    whose: &str,
    ask: &mut dyn FnMut(&str) -> std::io::Result<String>,
) -> Result<String, CliError> {
    let failed = |e: std::io::Error| {
        CliError::Local(format!(
            "cannot ask for the new password on the terminal ({e}); pass --new-password or \
             pipe it on stdin"
        ))
    };
    let first = ask(&format!("New password for {whose}: ")).map_err(failed)?;
    let first = not_empty(first, "the prompt")?;
    let again = ask("Repeat it: ").map_err(failed)?;
    if again != first {
        return Err(CliError::Usage(
            "the two passwords typed differ; nothing was changed — try again".to_string(),
        ));
    }
    Ok(first)
}

fn not_empty(password: String, source: &str) -> Result<String, CliError> {
    if password.is_empty() {
        Err(CliError::Usage(format!(
            "the new password from {source} is empty; give one of at least 8 characters"
        )))
    } else {
        Ok(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_stdin_unless_it_is_a_terminal() {
        assert!(matches!(choose(Some("pw".into()), true), Source::Flag(p) if p == "pw"));
        assert!(matches!(choose(None, false), Source::Stdin));
        assert!(matches!(choose(None, true), Source::Terminal));
        let err = not_empty(String::new(), "--new-password").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("--new-password"), "{}", err.render());
    }

    #[test]
    fn stdin_gives_its_first_line_without_the_line_ending() {
        let read = |text: &str| from_lines(&mut text.as_bytes());
        assert_eq!(read("s3cret pw\n").unwrap(), "s3cret pw");
        assert_eq!(read("s3cret\r\nignored\n").unwrap(), "s3cret");
        assert_eq!(read("no newline").unwrap(), "no newline");
        // Surrounding spaces are part of a password.
        assert_eq!(read(" pad \n").unwrap(), " pad ");
        let closed = read("").unwrap_err();
        assert_eq!(closed.exit_code(), 2);
        assert!(closed.render().contains("--new-password"), "{}", closed.render());
        assert!(read("\n").unwrap_err().render().contains("empty"));
    }

    #[test]
    fn the_prompt_asks_twice_and_refuses_a_mismatch_without_showing_either() {
        let mut asked = Vec::new();
        let mut answers = vec!["typed-pw-1".to_string(), "typed-pw-1".to_string()].into_iter();
        let got = from_prompt("olga", &mut |prompt| {
            asked.push(prompt.to_string());
            Ok(answers.next().unwrap_or_default())
        })
        .unwrap();
        assert_eq!(got, "typed-pw-1");
        assert_eq!(asked, ["New password for olga: ", "Repeat it: "]);

        let mut answers = vec!["typed-pw-1".to_string(), "typed-pw-2".to_string()].into_iter();
        let err = from_prompt("olga", &mut |_| Ok(answers.next().unwrap_or_default())).unwrap_err();
        let text = err.render();
        assert!(text.contains("differ"), "{text}");
        assert!(!text.contains("typed-pw"), "{text}");

        let no_tty = from_prompt("olga", &mut |_| {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no tty"))
        })
        .unwrap_err();
        assert!(
            no_tty.render().contains("pipe it on stdin"),
            "{}",
            no_tty.render()
        );
    }
}
