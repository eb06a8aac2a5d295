//! The model layer's error: a document that breaks the rules, with every
//! problem found listed so the operator can fix them all in one go.

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    /// The document is invalid; `problems` lists each rule it breaks.
    #[error("{what} is invalid: {}", problems.join("; "))]
    Invalid { what: String, problems: Vec<String> },
    /// The document is valid but larger than this node accepts
    /// (`AppLimits`); each problem names the count, the limit and the
    /// setting that raises it.
    #[error("{}", problems.join("; "))]
    OverLimit { problems: Vec<String> },
}

impl ModelError {
    pub fn invalid(what: impl Into<String>, problems: Vec<String>) -> Self {
        ModelError::Invalid {
            what: what.into(),
            problems,
        }
    }
}
