//! The colours of task and run states, as the original UI colours its
//! steps. Painting is pure (text in, text with escape codes out); whether
//! colour is wanted at all is decided where stdout is known.

/// The ANSI color of a state, as the original UI colors its steps: PENDING
/// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
/// magenta; "" for anything else.
pub(crate) fn state_color(state: &str) -> &'static str {
    match state {
        "PENDING" => "\x1b[90m",
        "STARTED" => "\x1b[34m",
        "RETRY" => "\x1b[33m",
        "SUCCESS" => "\x1b[32m",
        "FAILURE" => "\x1b[31m",
        "REVOKED" => "\x1b[35m",
        _ => "",
    }
}

/// `text` in the color of `state` (unchanged for a state without one).
pub(crate) fn paint(text: &str, state: &str) -> String {
    match state_color(state) {
        "" => text.to_string(),
        color => format!("{color}{text}\x1b[0m"),
    }
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
