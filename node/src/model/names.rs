//! The one rule for the names of content: steps, applications,
//! configurations, SyncPacks and schedule entries. A name is shown in
//! listings and logs, used in URLs and file names and compared exactly, so
//! it must be printable, short, and free of anything a path, a terminal or
//! a log line would read as structure.

/// The longest name accepted, in characters.
pub const MAX_NAME: usize = 200;

/// Why `name` cannot be a name, when it cannot.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        return Some("must not be empty".into());
    }
    let chars = name.chars().count();
    if chars > MAX_NAME {
        return Some(format!("is {chars} characters long, more than {MAX_NAME}"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Some(format!("must not contain control characters (it holds {c:?})"));
    }
    if name.contains('/') || name.contains('\\') {
        return Some("must not contain '/' or '\\'".into());
    }
    if name == "." || name == ".." {
        return Some("must not be \".\" or \"..\"".into());
    }
    if name.trim() != name {
        return Some("must not begin or end with spaces".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_short_names_without_path_parts_pass_and_the_rest_say_why() {
        for ok in ["integration_template", "dummy app", "Sync-2 (EU)", "données"] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        let long = "x".repeat(MAX_NAME + 1);
        for (bad, says) in [
            ("", "empty"),
            ("   ", "empty"),
            ("a\nb", "control"),
            ("a\u{0}b", "control"),
            ("a\u{1b}[31mred", "control"),
            ("../etc", "'/'"),
            ("a\\b", "'/'"),
            ("..", "\"..\""),
            (" padded", "spaces"),
            (long.as_str(), "more than 200"),
        ] {
            let problem = name_problem(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert!(problem.contains(says), "{bad:?}: {problem}");
        }
    }
}
