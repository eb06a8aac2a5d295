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

#[cfg(test)]
mod tests {
    use super::*;

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
