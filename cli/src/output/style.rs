//! The colours of task and run states, as the original UI colours its
//! steps. Painting is pure (text in, text with escape codes out); whether
//! colour is wanted at all is decided where stdout is known (see
//! [`super::colors_wanted`]).

use anstyle::{AnsiColor, Style};
use is_proto::v1::TaskState;

/// The style of a state, as the original UI colors its steps: PENDING
/// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
/// magenta; plain for a state this iscli does not know.
fn state_style(state: TaskState) -> Style {
    let color = match state {
        TaskState::Pending => AnsiColor::BrightBlack,
        TaskState::Started => AnsiColor::Blue,
        TaskState::Retry => AnsiColor::Yellow,
        TaskState::Success => AnsiColor::Green,
        TaskState::Failure => AnsiColor::Red,
        TaskState::Revoked => AnsiColor::Magenta,
        TaskState::Unspecified => return Style::new(),
    };
    Style::new().fg_color(Some(color.into()))
}

/// `text` in the color of `state` (unchanged for a state without one).
pub(crate) fn paint(text: &str, state: TaskState) -> String {
    let style = state_style(state);
    if style == Style::new() {
        return text.to_string();
    }
    format!("{style}{text}{style:#}")
}

/// The name of `state` in its colour (see [`super::state_text`]).
pub(crate) fn painted_state(state: TaskState) -> String {
    paint(super::state_text(state), state)
}

/// A failure's report with its leading `error:` in bold red, as a
/// terminal shows it (the stream writing it strips the colour where it is
/// not wanted, see [`super::report_error`]).
pub(crate) fn painted_error(report: &str) -> String {
    match report.strip_prefix("error:") {
        Some(rest) => {
            let style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
            format!("{style}error:{style:#}{rest}")
        }
        None => report.to_string(),
    }
}

/// `text` without its colour escape codes (what a pipe or NO_COLOR gets).
#[cfg(test)]
pub(crate) fn plain(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_states_are_painted_and_read_the_same_without_colour() {
        let report = painted_error("error: no step named \"X\"\n  - detail");
        assert_eq!(
            report,
            "\x1b[1m\x1b[31merror:\x1b[0m no step named \"X\"\n  - detail"
        );
        assert_eq!(plain(&report), "error: no step named \"X\"\n  - detail");
        assert_eq!(painted_error("warning: x"), "warning: x");
        assert_eq!(painted_state(TaskState::Failure), "\x1b[31mFAILURE\x1b[0m");
    }

    #[test]
    fn state_colors_follow_the_original_ui() {
        assert_eq!(paint("PENDING", TaskState::Pending), "\x1b[90mPENDING\x1b[0m");
        assert_eq!(paint("x", TaskState::Started), "\x1b[34mx\x1b[0m");
        assert_eq!(paint("x", TaskState::Retry), "\x1b[33mx\x1b[0m");
        assert_eq!(paint("x", TaskState::Success), "\x1b[32mx\x1b[0m");
        assert_eq!(paint("x", TaskState::Failure), "\x1b[31mx\x1b[0m");
        assert_eq!(paint("x", TaskState::Revoked), "\x1b[35mx\x1b[0m");
        assert_eq!(paint("x", TaskState::Unspecified), "x");
    }
}
