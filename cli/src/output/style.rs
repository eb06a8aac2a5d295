//! The colours of task and run states, as the original UI colours its
//! steps. Painting is pure (text in, text with escape codes out); whether
//! colour is wanted at all is decided where stdout is known (see
//! [`super::colors_wanted`]).

use anstyle::{AnsiColor, Style};

/// The style of a state, as the original UI colors its steps: PENDING
/// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
/// magenta; plain for anything else.
fn state_style(state: &str) -> Style {
    let color = match state {
        "PENDING" => AnsiColor::BrightBlack,
        "STARTED" => AnsiColor::Blue,
        "RETRY" => AnsiColor::Yellow,
        "SUCCESS" => AnsiColor::Green,
        "FAILURE" => AnsiColor::Red,
        "REVOKED" => AnsiColor::Magenta,
        _ => return Style::new(),
    };
    Style::new().fg_color(Some(color.into()))
}

/// `text` in the color of `state` (unchanged for a state without one).
pub(crate) fn paint(text: &str, state: &str) -> String {
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
        assert_eq!(paint("PENDING", "PENDING"), "\x1b[90mPENDING\x1b[0m");
        assert_eq!(paint("x", "STARTED"), "\x1b[34mx\x1b[0m");
        assert_eq!(paint("x", "RETRY"), "\x1b[33mx\x1b[0m");
        assert_eq!(paint("x", "SUCCESS"), "\x1b[32mx\x1b[0m");
        assert_eq!(paint("x", "FAILURE"), "\x1b[31mx\x1b[0m");
        assert_eq!(paint("x", "REVOKED"), "\x1b[35mx\x1b[0m");
        assert_eq!(paint("x", "UNKNOWN"), "x");
    }
}
