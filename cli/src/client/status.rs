//! Turning a failed call into a `CliError`: the server's `Status` with its
//! JSON details (`{"error", "details"}`), a failure of the transport, or a
//! connection that could not be opened, each with a message that says what
//! to do. The node's lines are said once (no detail repeating the
//! headline) and in `iscli` terms (`terms`).

use std::error::Error as StdError;

use serde_json::Value;
use tonic::{Code, Status};

use super::terms::in_cli_terms;
use crate::error::{ApiError, ApiErrorKind, CliError};
use crate::settings::{api_key_id, Credentials};

/// Turns a failed call into a `CliError`. `credentials` (the user's name,
/// an API key's public id; never a secret) and `addr` only appear in
/// messages.
pub(super) fn map_status(status: &Status, credentials: &Credentials, addr: &str) -> CliError {
    let body = parse_error_body(status.details());
    match status.code() {
        Code::Unauthenticated => return refused_login(credentials),
        // A transport failure (the node went away mid-call) has no JSON body;
        // an Unavailable the server chose to send (no leader ...) has one.
        Code::Unavailable | Code::Unknown if body.is_none() && is_transport_failure(status) => {
            return CliError::Connect {
                addr: addr.to_string(),
                reason: transport_reason(status),
            }
        }
        _ => {}
    }
    // Something answered HTTP, but not as a gRPC server (a proxy, a web
    // server, the wrong port).
    if body.is_none() && status.message().starts_with("grpc-status header missing") {
        return CliError::Api(ApiError {
            kind: ApiErrorKind::Internal,
            error: format!(
                "the server at {addr} did not answer as isnode's gRPC API ({}) — check -H/-P or IS_HOST/IS_PORT.",
                status.message()
            ),
            details: Vec::new(),
        });
    }
    let kind = match status.code() {
        Code::InvalidArgument | Code::FailedPrecondition => ApiErrorKind::InvalidArgument,
        Code::PermissionDenied => ApiErrorKind::PermissionDenied,
        Code::NotFound => ApiErrorKind::NotFound,
        Code::AlreadyExists => ApiErrorKind::AlreadyExists,
        // The same code answers a body over the limit and a login back-off.
        Code::ResourceExhausted if is_login_backoff(status, body.as_ref()) => ApiErrorKind::TooManyAttempts,
        Code::ResourceExhausted | Code::OutOfRange => ApiErrorKind::TooLarge,
        Code::Unimplemented => ApiErrorKind::Unimplemented,
        Code::Unavailable => ApiErrorKind::Unavailable,
        _ => ApiErrorKind::Internal,
    };
    let (error, details) = match body {
        Some((error, details)) => (error.unwrap_or_else(|| fallback_line(status)), details),
        None => (fallback_line(status), Vec::new()),
    };
    let (error, details) = without_repeats(error, details);
    let mut error = in_cli_terms(&error);
    let details = details.iter().map(|d| in_cli_terms(d)).collect();
    if kind == ApiErrorKind::PermissionDenied && !error.contains("administrator") {
        error.push_str(" — ask an administrator for a role that allows it");
    }
    CliError::Api(ApiError { kind, error, details })
}

/// The headline and the details, each said once: the node lists again
/// what its headline says (a step that does not load repeats its Python
/// error under it, a document over the limits joins its problems into the
/// headline), so a detail the headline already holds is dropped, and the
/// `line N: MESSAGE` detail under a headline ending in MESSAGE gives its
/// line number to the headline instead.
fn without_repeats(mut error: String, details: Vec<String>) -> (String, Vec<String>) {
    let mut kept = Vec::new();
    for detail in details {
        let said = detail.trim();
        if said.is_empty() || holds(&error, said) {
            continue;
        }
        if let Some((place, message)) = said.split_once(": ") {
            let is_line = place
                .strip_prefix("line ")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
            if is_line && !message.is_empty() && error.ends_with(message) {
                if !names_place(message, place) {
                    error.truncate(error.len() - message.len());
                    error.push_str(said);
                }
                continue;
            }
        }
        kept.push(detail);
    }
    (error, kept)
}

/// True when `message` already names `place` ("line 3", not "line 31").
fn names_place(message: &str, place: &str) -> bool {
    message.match_indices(place).any(|(at, _)| {
        !message[at + place.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// True when the headline says `said` whole: all of it, its last part
/// after a colon, or one of its parts separated by semicolons.
fn holds(error: &str, said: &str) -> bool {
    error == said || error.ends_with(&format!(": {said}")) || error.split("; ").any(|part| part == said)
}

/// What a refused login says: the user, or the API key's public id.
fn refused_login(credentials: &Credentials) -> CliError {
    match credentials {
        Credentials::Password { username, .. } => CliError::Auth {
            user: username.clone(),
        },
        Credentials::ApiKey(key) => CliError::KeyAuth {
            key_id: api_key_id(key).unwrap_or("?").to_string(),
        },
    }
}

/// True when a ResourceExhausted is the node holding back logins after
/// too many failures ("... try again in N s") rather than a body over the
/// size limit.
fn is_login_backoff(status: &Status, body: Option<&(Option<String>, Vec<String>)>) -> bool {
    let line = body
        .and_then(|(error, _)| error.as_deref())
        .unwrap_or_else(|| status.message());
    line.contains("too many failed logins") || line.contains("try again in")
}

/// Reads `{"error": "...", "details": [...]}`. None when the bytes are empty
/// or not a JSON object; `error` is None when the object has no usable line.
fn parse_error_body(bytes: &[u8]) -> Option<(Option<String>, Vec<String>)> {
    if bytes.is_empty() {
        return None;
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    let error = match obj.get("error") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Null) | None => None,
        Some(Value::String(_)) => None,
        Some(other) => Some(other.to_string()),
    };
    let details = match obj.get("details") {
        Some(Value::Array(items)) => items.iter().map(detail_text).collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(other) => vec![detail_text(other)],
    };
    Some((error, details))
}

fn detail_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The status message, or the code's description when the message is empty.
fn fallback_line(status: &Status) -> String {
    let msg = status.message().trim();
    if msg.is_empty() {
        status.code().description().to_string()
    } else {
        msg.to_string()
    }
}

/// A status made on this side from a transport error (statuses sent by the
/// server never carry a source error).
fn is_transport_failure(status: &Status) -> bool {
    StdError::source(status).is_some()
        || (status.code() == Code::Unavailable
            && (status.message().contains("transport error")
                || status.message().contains("error trying to connect")))
}

fn transport_reason(status: &Status) -> String {
    match StdError::source(status) {
        Some(src) => describe_io_chain(src).unwrap_or_else(|| innermost(src)),
        None => fallback_line(status),
    }
}

/// A short reason for a failed connect: "connection refused", "timed out",
/// the resolver's message ...
pub(super) fn connect_reason(err: &tonic::transport::Error) -> String {
    describe_io_chain(err).unwrap_or_else(|| innermost(err))
}

/// Looks for an I/O error in the source chain and names it.
fn describe_io_chain(err: &(dyn StdError + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            let text = match io.kind() {
                K::ConnectionRefused => "connection refused".to_string(),
                K::ConnectionReset => "connection reset".to_string(),
                K::ConnectionAborted => "connection aborted".to_string(),
                K::TimedOut => "timed out".to_string(),
                K::HostUnreachable => "host unreachable".to_string(),
                K::NetworkUnreachable => "network unreachable".to_string(),
                K::AddrNotAvailable => "address not available".to_string(),
                _ => io.to_string(),
            };
            return Some(text);
        }
        cur = e.source();
    }
    None
}

/// The message of the deepest error in the chain (the most specific one).
pub(super) fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut cur = err;
    while let Some(next) = cur.source() {
        cur = next;
    }
    let text = cur.to_string();
    if text.to_ascii_lowercase().contains("timeout") || text.contains("timed out") {
        "timed out".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::codegen::Bytes;

    fn status(code: Code, msg: &str, details: &str) -> Status {
        Status::with_details(code, msg, Bytes::from(details.to_string()))
    }

    fn admin() -> Credentials {
        Credentials::password("isadmin", "pw")
    }

    fn render(s: &Status) -> String {
        map_status(s, &admin(), "127.0.0.1:8080").render()
    }

    #[test]
    fn json_details_are_all_printed() {
        let s = status(
            Code::InvalidArgument,
            "bad application",
            r#"{"error": "application 'x' is invalid", "details": ["missing field 'steps'", "step 'a' sends output to unknown step 'zz'", "cycle: a -> b -> a"]}"#,
        );
        assert_eq!(
            render(&s),
            "error: application 'x' is invalid\n\
             \x20 - missing field 'steps'\n\
             \x20 - step 'a' sends output to unknown step 'zz'\n\
             \x20 - cycle: a -> b -> a"
        );
        let e = map_status(&s, &admin(), "a");
        assert_eq!(e.exit_code(), 1);
        match e {
            CliError::Api(api) => assert_eq!(api.kind, ApiErrorKind::InvalidArgument),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_the_headline_says_is_not_listed_again() {
        // A step that does not load: the message, its line, the traceback
        // ending in the message again.
        let body = serde_json::json!({
            "error": "step \"Bad\" does not load: SyntaxError: invalid syntax",
            "details": [
                "line 3: SyntaxError: invalid syntax",
                "Traceback (most recent call last):\n  File \"Bad.py\", line 3",
                "SyntaxError: invalid syntax"
            ]
        });
        let s = status(Code::InvalidArgument, "m", &body.to_string());
        assert_eq!(
            render(&s),
            "error: step \"Bad\" does not load: line 3: SyntaxError: invalid syntax\n\
             \x20 - Traceback (most recent call last):\n  File \"Bad.py\", line 3"
        );
        // Limits joined into the headline and listed again.
        let body = serde_json::json!({
            "error": "application \"a\" has 3 steps; this node accepts at most 2 (max_app_steps)",
            "details": ["application \"a\" has 3 steps; this node accepts at most 2 (max_app_steps)"]
        });
        let s = status(Code::InvalidArgument, "m", &body.to_string());
        assert_eq!(
            render(&s),
            "error: application \"a\" has 3 steps; this node accepts at most 2 (max_app_steps)"
        );
        // A message naming its line already is not told the line again.
        let body = serde_json::json!({
            "error": "step \"Bad\" does not load: SyntaxError at line 1: '(' was never closed",
            "details": ["line 1: SyntaxError at line 1: '(' was never closed"]
        });
        let s = status(Code::InvalidArgument, "m", &body.to_string());
        assert_eq!(
            render(&s),
            "error: step \"Bad\" does not load: SyntaxError at line 1: '(' was never closed"
        );
        assert!(!names_place("error at line 12", "line 1"));
        // Details that add something stay, in order.
        let (error, details) = without_repeats(
            "bad input".into(),
            vec!["line x: input".into(), " ".into(), "d".into(), "bad input".into()],
        );
        assert_eq!(error, "bad input");
        assert_eq!(details, ["line x: input", "d"]);
    }

    #[test]
    fn non_string_details_are_shown_as_json() {
        let s = status(
            Code::InvalidArgument,
            "m",
            r#"{"error": "e", "details": [{"line": 3}, 7]}"#,
        );
        assert_eq!(render(&s), "error: e\n  - {\"line\":3}\n  - 7");
    }

    #[test]
    fn empty_or_non_json_details_fall_back_to_the_message() {
        let s = status(Code::NotFound, "step 'Nope' not found", "");
        assert_eq!(render(&s), "error: step 'Nope' not found");
        let s = status(Code::Internal, "boom", "<html>oops</html>");
        assert_eq!(render(&s), "error: boom");
        let s = status(Code::Internal, "boom", r#"{"details": ["d1"]}"#);
        assert_eq!(render(&s), "error: boom\n  - d1");
        let s = status(Code::Internal, "", "");
        assert_eq!(render(&s), "error: Internal error");
    }

    #[test]
    fn a_non_grpc_server_is_named() {
        let s = Status::new(
            Code::Unimplemented,
            "grpc-status header missing, mapped from HTTP status code 404",
        );
        assert_eq!(
            render(&s),
            "error: the server at 127.0.0.1:8080 did not answer as isnode's gRPC API \
             (grpc-status header missing, mapped from HTTP status code 404) — check -H/-P or \
             IS_HOST/IS_PORT."
        );
    }

    #[test]
    fn unauthenticated_names_the_user_and_the_fix() {
        let s = status(Code::Unauthenticated, "bad credentials", "");
        assert_eq!(
            render(&s),
            "error: authentication failed for user 'isadmin' — check -U/-p or IS_USER/IS_PASSWORD."
        );
    }

    #[test]
    fn unimplemented_shows_the_servers_line() {
        let s = status(
            Code::Unimplemented,
            "syncpack source directories",
            r#"{"error": "syncpack upload from a source directory", "details": []}"#,
        );
        assert_eq!(render(&s), "error: syncpack upload from a source directory");
    }

    #[test]
    fn server_sent_unavailable_keeps_its_body_but_transport_failure_is_a_connect_error() {
        let s = status(
            Code::Unavailable,
            "no leader",
            r#"{"error": "no leader elected yet", "details": ["retry in a moment"]}"#,
        );
        assert_eq!(render(&s), "error: no leader elected yet\n  - retry in a moment");
        // A transport error turned into a Status on this side (has a source).
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let s = Status::from_error(Box::new(io));
        let e = map_status(&s, &admin(), "127.0.0.1:8080");
        assert_eq!(
            e,
            CliError::Connect {
                addr: "127.0.0.1:8080".into(),
                reason: "connection reset".into()
            }
        );
        let s = Status::unavailable("error trying to connect: tcp connect error");
        assert!(matches!(map_status(&s, &admin(), "a"), CliError::Connect { .. }));
        // A bare Unavailable from the server without a body stays an API error.
        let s = Status::unavailable("draining");
        assert_eq!(render(&s), "error: draining");
    }

    #[test]
    fn too_large_and_forbidden_show_the_servers_line() {
        let s = status(
            Code::ResourceExhausted,
            "m",
            r#"{"error": "body of 80 MiB exceeds the 64 MiB limit", "details": []}"#,
        );
        assert_eq!(render(&s), "error: body of 80 MiB exceeds the 64 MiB limit");
        let s = status(
            Code::PermissionDenied,
            "m",
            r#"{"error": "role 'viewer' may not delete steps"}"#,
        );
        assert_eq!(
            render(&s),
            "error: role 'viewer' may not delete steps — ask an administrator for a role that allows it"
        );
    }

    #[test]
    fn a_forbidden_call_names_the_permission_and_the_command() {
        let line = "victor (viewer) lacks the 'run' permission needed to POST \
                    /integration.v1.IntegrationService/RunApplication; ask an administrator for a \
                    role that has it";
        let s = status(
            Code::PermissionDenied,
            line,
            &serde_json::json!({"error": line, "details": []}).to_string(),
        );
        assert_eq!(
            render(&s),
            "error: victor (viewer) lacks the 'run' permission needed for `iscli app run`; ask an \
             administrator for a role that has it"
        );
    }

    #[test]
    fn a_not_found_names_the_iscli_command_not_the_rest_call() {
        let line = "no step named \"Nope\" (list them with GET /api/v1/steps or `iscli step list`)";
        let s = status(
            Code::NotFound,
            line,
            &serde_json::json!({"error": line, "details": []}).to_string(),
        );
        assert_eq!(
            render(&s),
            "error: no step named \"Nope\" (list them with `iscli step list`)"
        );
    }

    #[test]
    fn a_login_back_off_is_told_apart_from_a_body_too_large() {
        let line = "too many failed logins from this address or for this user: try again in 7 s";
        let s = status(
            Code::ResourceExhausted,
            line,
            &serde_json::json!({"error": line, "details": []}).to_string(),
        );
        let e = map_status(&s, &admin(), "a");
        assert_eq!(e.render(), format!("error: {line}"));
        assert!(e.is_fatal_for_batch());
        match e {
            CliError::Api(api) => assert_eq!(api.kind, ApiErrorKind::TooManyAttempts),
            other => panic!("{other:?}"),
        }
        let s = status(
            Code::ResourceExhausted,
            "body of 80 MiB exceeds the 64 MiB limit",
            "",
        );
        assert!(!map_status(&s, &admin(), "a").is_fatal_for_batch());
    }

    #[test]
    fn a_refused_api_key_is_named_by_its_id_only() {
        let s = status(Code::Unauthenticated, "authentication required", "");
        let e = map_status(&s, &Credentials::ApiKey("isk_9f8e_s3cr3t".into()), "a");
        assert_eq!(
            e,
            CliError::KeyAuth {
                key_id: "9f8e".into()
            }
        );
        assert!(!e.render().contains("s3cr3t"));
    }
}
