//! Log levels of step records, shared by the node and `iscli` so the names
//! and numbers are defined once. They are Python's `logging` numbers plus
//! the original product's `FLOW` (25); any non-negative number is a level,
//! and a run at level N keeps the records at N and above (1, the level of a
//! plain "Run", keeps everything; 10 is a "Debug Run").

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LogLevel(pub u32);

/// The named levels, lowest first.
const NAMES: &[(&str, u32)] = &[
    ("DEBUG", 10),
    ("INFO", 20),
    ("FLOW", 25),
    ("WARNING", 30),
    ("ERROR", 40),
    ("CRITICAL", 50),
];

impl LogLevel {
    pub const DEBUG: LogLevel = LogLevel(10);
    pub const INFO: LogLevel = LogLevel(20);
    pub const FLOW: LogLevel = LogLevel(25);
    pub const WARNING: LogLevel = LogLevel(30);
    pub const ERROR: LogLevel = LogLevel(40);
    pub const CRITICAL: LogLevel = LogLevel(50);
    /// The original's plain "Run": every record is kept.
    pub const RUN_DEFAULT: LogLevel = LogLevel(1);

    /// A level from a number or a name in any case (`"debug"`, `"FLOW"`).
    pub fn parse(text: &str) -> Result<LogLevel, String> {
        let text = text.trim();
        if let Ok(n) = text.parse::<u32>() {
            return Ok(LogLevel(n));
        }
        NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(text))
            .map(|(_, n)| LogLevel(*n))
            .ok_or_else(|| {
                format!(
                    "{text:?} is not a log level: give a non-negative number or one of {}",
                    NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            })
    }

    pub fn number(self) -> u32 {
        self.0
    }

    /// The level's name, if it has one.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(_, n)| *n == self.0).map(|(name, _)| *name)
    }
}

impl Default for LogLevel {
    fn default() -> Self {
        LogLevel::RUN_DEFAULT
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_parse_to_the_same_level() {
        assert_eq!(LogLevel::parse("debug"), Ok(LogLevel::DEBUG));
        assert_eq!(LogLevel::parse(" Flow "), Ok(LogLevel(25)));
        assert_eq!(LogLevel::parse("25"), Ok(LogLevel::FLOW));
        assert_eq!(LogLevel::parse("7"), Ok(LogLevel(7)));
        let err = LogLevel::parse("loud").unwrap_err();
        assert!(
            err.contains("DEBUG, INFO, FLOW, WARNING, ERROR, CRITICAL"),
            "{err}"
        );
        assert!(LogLevel::parse("-1").is_err());
    }

    #[test]
    fn named_levels_display_their_name() {
        assert_eq!(LogLevel::WARNING.to_string(), "WARNING");
        assert_eq!(LogLevel(7).to_string(), "7");
    }
}
