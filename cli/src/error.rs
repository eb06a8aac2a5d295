//! `CliError`: every way an `iscli` command can fail, how each one is shown
//! to the operator and which exit code it gives (2 for usage errors, 1 for
//! everything else). Turning a gRPC `Status` into a `CliError` is
//! `client/status.rs`'s job; this module only knows how to render the result.

use std::fmt;

/// Exit code for a usage error (bad flags, missing password, ...).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code for a failed API call or a local failure (unreadable file ...).
pub(crate) const EXIT_FAILURE: u8 = 1;

/// A failure the CLI reports to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CliError {
    /// The command line or the settings are wrong; exit code 2.
    Usage(String),
    /// Something on this machine failed (a file cannot be read, a document
    /// is not valid JSON, the config file is broken).
    Local(String),
    /// The server cannot be reached at all.
    Connect { addr: String, reason: String },
    /// The TLS handshake failed: `certificate` when the server's certificate
    /// was not trusted (`ca` names the `--ca` file given, if any).
    Tls {
        addr: String,
        reason: String,
        certificate: bool,
        ca: Option<String>,
    },
    /// The server rejected the user's password (401).
    Auth { user: String },
    /// The server rejected the API key (401): revoked, expired or mistyped.
    /// Only the key's public id is kept, never its secret.
    KeyAuth { key_id: String },
    /// The server answered with an error.
    Api(ApiError),
}

/// What the server said when it refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// What kind of failure it was, in words ("not found", "invalid input" ...).
    pub(crate) kind: ApiErrorKind,
    /// The one-line error.
    pub(crate) error: String,
    /// Every problem the server listed (may be empty).
    pub(crate) details: Vec<String>,
}

/// The failure classes of the server contract (HTTP status in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiErrorKind {
    /// Bad input (400).
    InvalidArgument,
    /// The user may not do this (403).
    PermissionDenied,
    /// No such item (404).
    NotFound,
    /// The item exists already (409).
    AlreadyExists,
    /// The request body is too large (413).
    TooLarge,
    /// Too many failed logins: the node makes this address or user wait
    /// (429).
    TooManyAttempts,
    /// The server does not implement this feature yet.
    Unimplemented,
    /// The server (or the cluster) cannot serve right now.
    Unavailable,
    /// Anything else (500 and unknown codes).
    Internal,
}

impl CliError {
    /// The exit code the process ends with.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// The first line of the message, without the `error: ` prefix.
    pub(crate) fn headline(&self) -> String {
        match self {
            CliError::Usage(msg) | CliError::Local(msg) => msg.clone(),
            CliError::Connect { addr, reason } => format!(
                "cannot connect to {addr} ({reason}) — is isnode running? \
                 Set -H/-P or IS_HOST/IS_PORT."
            ),
            CliError::Tls {
                addr,
                reason,
                certificate: true,
                ca: None,
            } => format!(
                "the server at {addr} presented a certificate iscli does not trust ({reason}) — if the \
                 node's certificate is self-signed, pass --ca with it (the node's DATA/tls-cert.pem; its \
                 SHA-256 fingerprint, which the node logs at every start, must match), or set IS_CA."
            ),
            CliError::Tls {
                addr,
                reason,
                certificate: true,
                ca: Some(ca),
            } => format!(
                "the server at {addr} presented a certificate that neither {ca} nor the system's roots \
                 vouch for ({reason}) — pass --ca with the node's certificate or its CA (compare its \
                 SHA-256 fingerprint with the one the node logs at every start)."
            ),
            CliError::Tls { addr, reason, .. } => format!(
                "TLS with {addr} failed ({reason}) — if the node serves plain HTTP, pass -i (or give the \
                 host as http://HOST)."
            ),
            CliError::Auth { user } => {
                format!("authentication failed for user '{user}' — check -U/-p or IS_USER/IS_PASSWORD.")
            }
            CliError::KeyAuth { key_id } => format!(
                "the API key isk_{key_id}_… was refused (revoked, expired or mistyped) — check \
                 --api-key or IS_API_KEY, or have a new one made with 'iscli key create'."
            ),
            // The server's line already says what kind of failure it is.
            CliError::Api(api) => api.error.clone(),
        }
    }

    /// The problems listed under the headline (only API errors have them).
    pub(crate) fn details(&self) -> &[String] {
        match self {
            CliError::Api(api) => &api.details,
            _ => &[],
        }
    }

    /// True when sending further requests to the same server is pointless
    /// (it is unreachable, refuses our credentials, or cannot serve now).
    pub(crate) fn is_fatal_for_batch(&self) -> bool {
        match self {
            CliError::Connect { .. }
            | CliError::Tls { .. }
            | CliError::Auth { .. }
            | CliError::KeyAuth { .. } => true,
            CliError::Api(api) => matches!(
                api.kind,
                ApiErrorKind::Unavailable | ApiErrorKind::TooManyAttempts
            ),
            CliError::Usage(_) | CliError::Local(_) => false,
        }
    }

    /// The full report: `error: <headline>` then one `  - <detail>` line per
    /// detail; usage errors add a pointer to `--help`.
    pub(crate) fn render(&self) -> String {
        let mut out = format!("error: {}", self.headline());
        for detail in self.details() {
            out.push_str("\n  - ");
            out.push_str(detail);
        }
        if matches!(self, CliError::Usage(_)) {
            out.push_str("\n\nFor more information, try '--help'.");
        }
        out
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_point_to_help() {
        let e = CliError::Usage("-u needs -f".into());
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.render(),
            "error: -u needs -f\n\nFor more information, try '--help'."
        );
    }

    #[test]
    fn connect_and_auth_messages() {
        let e = CliError::Connect {
            addr: "127.0.0.1:8080".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.render(),
            "error: cannot connect to 127.0.0.1:8080 (connection refused) — is isnode running? \
             Set -H/-P or IS_HOST/IS_PORT."
        );
        let e = CliError::Auth {
            user: "isadmin".into(),
        };
        assert_eq!(
            e.render(),
            "error: authentication failed for user 'isadmin' — check -U/-p or IS_USER/IS_PASSWORD."
        );
        assert!(e.is_fatal_for_batch());
        let e = CliError::KeyAuth {
            key_id: "1a2b".into(),
        };
        assert_eq!(
            e.render(),
            "error: the API key isk_1a2b_… was refused (revoked, expired or mistyped) — check \
             --api-key or IS_API_KEY, or have a new one made with 'iscli key create'."
        );
        assert!(e.is_fatal_for_batch());
    }

    #[test]
    fn api_errors_list_every_detail() {
        let e = CliError::Api(ApiError {
            kind: ApiErrorKind::InvalidArgument,
            error: "application is invalid".into(),
            details: vec!["missing name".into(), "cycle: a -> b -> a".into()],
        });
        assert_eq!(
            e.render(),
            "error: application is invalid\n  - missing name\n  - cycle: a -> b -> a"
        );
        assert!(!e.is_fatal_for_batch());
    }
}
