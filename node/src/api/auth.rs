//! Authentication and authorisation of every REST and gRPC call (gRPC
//! metadata is HTTP headers, so one middleware covers both transports):
//! HTTP Basic with a user's password, or `Bearer` with an API key or a web
//! UI session token (`api::session`); then the
//! permission the operation needs (`api::access`) against the caller's role.
//!
//! Until the cluster is bootstrapped on this node (its users are here),
//! every request is answered 503 `starting` (gRPC UNAVAILABLE) with
//! `Retry-After`, not judged: a correct password is never refused then.
//!
//! Failed attempts back off per address and per user (`api::login_limit`);
//! password hashes are computed by `api::passwords`, which bounds their
//! cost. An API key is checked by comparing SHA-256 digests in constant
//! time.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::audit::{AuditSink, Tap};
use super::login_limit::LoginLimiter;
use super::passwords::{same_bytes, PasswordGate};
use super::session::{SessionMark, Sessions};
use super::ApiError;
use crate::model::user::{split_api_key, Permission, Role};
use crate::store::ContentHandle;

#[derive(Clone)]
pub struct Authenticator {
    content: ContentHandle,
    passwords: PasswordGate,
    limiter: LoginLimiter,
    audit: AuditSink,
    sessions: Sessions,
}

/// Who an authenticated request acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: String,
    /// None: the user's role was taken away; it may do nothing.
    pub role: Option<Role>,
    /// The id of the API key used, if one was.
    pub api_key: Option<String>,
    /// The web UI session the request came with, if it did.
    pub session: Option<SessionMark>,
}

impl Principal {
    pub fn may(&self, p: Permission) -> bool {
        self.role.is_some_and(|r| r.permits(p))
    }

    /// Err(403) unless the caller holds `p`.
    pub fn require(&self, p: Permission, what: &str) -> Result<(), ApiError> {
        if self.may(p) {
            Ok(())
        } else {
            Err(self.forbidden(p, what))
        }
    }

    pub fn forbidden(&self, p: Permission, what: &str) -> ApiError {
        ApiError::Forbidden(format!(
            "{} ({}) lacks the '{}' permission needed to {what}; ask an administrator for a role that has it",
            self.user,
            self.role.map_or("no role", Role::name),
            p.name()
        ))
    }
}

/// Credentials a request carries.
enum Credentials {
    Password { user: String, password: String },
    ApiKey(String),
    Session(String),
}

fn credentials(value: &str) -> Option<Credentials> {
    if let Some((user, password)) = parse_basic(value) {
        return Some(Credentials::Password { user, password });
    }
    let (scheme, token) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim().to_string();
    Some(if token.starts_with(super::session::TOKEN_PREFIX) {
        Credentials::Session(token)
    } else {
        Credentials::ApiKey(token)
    })
}

/// Why authentication did not let a request through.
enum Denied {
    Unauthorized,
    /// Too many failures: try again after this many milliseconds.
    Backoff(u64),
}

impl Authenticator {
    pub fn new(
        content: ContentHandle,
        passwords: PasswordGate,
        audit: AuditSink,
        sessions: Sessions,
    ) -> Authenticator {
        Authenticator {
            content,
            passwords,
            limiter: LoginLimiter::default(),
            audit,
            sessions,
        }
    }

    async fn authenticate(&self, creds: Credentials, addr: Option<IpAddr>) -> Result<Principal, Denied> {
        let now = crate::util::now_ms();
        let user_key = match &creds {
            Credentials::Password { user, .. } => Some(user.as_str()),
            Credentials::ApiKey(_) => None,
            // An authentic token that ended (expired, signed out, password
            // changed) is no guess: it does not count as a failed attempt.
            Credentials::Session(token) => {
                return match self.sessions.check(token, now) {
                    Ok((claims, mark)) => self
                        .session_principal(claims, mark, now)
                        .ok_or(Denied::Unauthorized),
                    Err(super::session::Refused::Ended) => Err(Denied::Unauthorized),
                    Err(super::session::Refused::Forged) => {
                        if let Some(ms) = self.limiter.blocked_for(addr, None, now) {
                            return Err(Denied::Backoff(ms));
                        }
                        self.limiter.failed(addr, None, now);
                        Err(Denied::Unauthorized)
                    }
                };
            }
        };
        if let Some(ms) = self.limiter.blocked_for(addr, user_key, now) {
            return Err(Denied::Backoff(ms));
        }
        let principal = match &creds {
            Credentials::Password { user, password } => self.check_password(user, password).await,
            Credentials::ApiKey(text) => self.check_key(text, now),
            Credentials::Session(_) => None,
        };
        match principal {
            Some(p) => {
                self.limiter.succeeded(addr, user_key);
                Ok(p)
            }
            None => {
                self.limiter.failed(addr, user_key, crate::util::now_ms());
                Err(Denied::Unauthorized)
            }
        }
    }

    /// Whether this node can judge credentials: the cluster is bootstrapped
    /// and its users have reached this node. Before that a correct password
    /// would be refused as unknown; requests are answered 503 `starting`.
    pub fn serving(&self) -> bool {
        let sm = self.content.read();
        sm.content.cluster.is_some() && !sm.content.users.is_empty()
    }

    /// Checks a user's password against the replicated user table.
    pub async fn check_password(&self, user: &str, password: &str) -> Option<Principal> {
        let found = {
            let sm = self.content.read();
            sm.content
                .users
                .get(user)
                .map(|u| (u.password_hash.clone(), u.role))
        };
        let ok = self
            .passwords
            .verify(user, password, found.as_ref().map(|(h, _)| h.as_str()))
            .await;
        let (_, role) = found.filter(|_| ok)?;
        Some(Principal {
            user: user.to_string(),
            role,
            api_key: None,
            session: None,
        })
    }

    /// The web UI sessions this node issues and accepts.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Who an authentic session acts as: its user with the role the user
    /// has now (capped by the API key's, for a session opened with a key).
    fn session_principal(
        &self,
        claims: super::session::Claims,
        mark: SessionMark,
        now: u64,
    ) -> Option<Principal> {
        let sm = self.content.read();
        let role = sm.content.users.get(&claims.u)?.role;
        let role = match &claims.k {
            Some(id) => {
                let key = sm.content.api_keys.get(id)?;
                if key.expires_ms.is_some_and(|e| e <= now) {
                    return None;
                }
                key.effective_role(role)
            }
            None => role,
        };
        Some(Principal {
            user: claims.u,
            role,
            api_key: claims.k,
            session: Some(mark),
        })
    }

    fn check_key(&self, text: &str, now_ms: u64) -> Option<Principal> {
        let (id, secret) = split_api_key(text)?;
        let digest: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        let sm = self.content.read();
        let key = sm.content.api_keys.get(id)?;
        if !same_bytes(&key.secret_sha256, &digest) || key.expires_ms.is_some_and(|e| e <= now_ms) {
            return None;
        }
        let owner_role = sm.content.users.get(&key.owner)?.role;
        Some(Principal {
            user: key.owner.clone(),
            role: key.effective_role(owner_role),
            api_key: Some(key.id.clone()),
            session: None,
        })
    }
}

/// Splits an `Authorization: Basic ...` header into user and password
/// (the scheme's name is case-insensitive, RFC 9110).
pub fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(B64.decode(encoded.trim()).ok()?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn is_grpc(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"))
}

/// Path prefix of the node-to-node service, which checks the cluster secret
/// itself (`raft::service`).
pub const INTERNAL_PREFIX: &str = "/integration.internal.v1.";

fn peer_ip(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// The HTTP status a gRPC answer stands for (its `grpc-status` header,
/// present when a call failed before any message; absent means OK so far).
fn grpc_http_status(resp: &Response) -> u16 {
    let code = resp
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(0);
    match tonic::Code::from(code) {
        tonic::Code::Ok => 200,
        tonic::Code::InvalidArgument | tonic::Code::FailedPrecondition | tonic::Code::OutOfRange => 400,
        tonic::Code::Unauthenticated => 401,
        tonic::Code::PermissionDenied => 403,
        tonic::Code::NotFound => 404,
        tonic::Code::AlreadyExists | tonic::Code::Aborted => 409,
        tonic::Code::ResourceExhausted => 429,
        tonic::Code::Unimplemented => 501,
        tonic::Code::Unavailable => 503,
        _ => 500,
    }
}

/// Authenticates, checks the permission, runs the handler, and records the
/// call in the audit trail when it changed something or was refused.
pub async fn require_auth(State(auth): State<Authenticator>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(INTERNAL_PREFIX) {
        return next.run(req).await;
    }
    // The one public document: the API's description, no data (api::openapi).
    if req.method() == axum::http::Method::GET && req.uri().path() == super::openapi::PATH {
        return next.run(req).await;
    }
    // The probes: public, a status word each (api::ready).
    if super::ready::is_probe(req.uri().path()) {
        return next.run(req).await;
    }
    // The web UI's files: public, no data (api::web_ui).
    if super::web_ui::is_public(&req) {
        return next.run(req).await;
    }
    let grpc = is_grpc(&req);
    // Until the administrator exists here, credentials cannot be judged:
    // "try again", never 401 for a password that will be right in a moment.
    if !auth.serving() {
        return if grpc {
            tonic::Status::from(ApiError::Starting).into_http()
        } else {
            ApiError::Starting.into_response()
        };
    }
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let change = super::access::is_change(&method, &path);
    let (mut req, tapped) = if change {
        let (parts, body) = req.into_parts();
        let (body, tapped) = Tap::wrap(body);
        (Request::from_parts(parts, body), Some(tapped))
    } else {
        (req, None)
    };
    let addr = peer_ip(&req);
    let presented = req.headers().contains_key(header::AUTHORIZATION);
    // Scripts (the web UI) mark their calls so that a 401 carries no Basic
    // challenge: a browser would answer one with its own password prompt.
    let script = req.headers().contains_key("x-requested-with");
    let (who, outcome) = admit(&auth, &mut req, addr).await;
    let mut resp = match outcome {
        Ok(()) => next.run(req).await,
        Err(error) if grpc => tonic::Status::from(error).into_http(),
        Err(error) => error.into_response(),
    };
    if script {
        resp.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    let status = if grpc {
        grpc_http_status(&resp)
    } else {
        resp.status().as_u16()
    };
    // Recorded: what a caller changed or was refused, and failed logins.
    // Calls without credentials and throttled attempts (429) are not, so
    // an anonymous flood cannot turn into writes.
    let record = match &who {
        Some(_) => change || status == 403,
        None => presented && status == 401,
    };
    if record {
        let action = match path.strip_prefix("/integration.v1.IntegrationService/") {
            Some(m) => format!("gRPC {m}"),
            None => format!("{method} {path}"),
        };
        auth.audit.record(crate::model::audit::AuditRecord {
            id: uuid::Uuid::new_v4().to_string(),
            at_ms: crate::util::now_ms(),
            user: who.as_ref().map(|p| p.user.clone()),
            api_key: who.and_then(|p| p.api_key),
            address: addr.map(|a| a.to_string()),
            action,
            target: tapped.map(|t| t.target(grpc)).unwrap_or_default(),
            status,
        });
    }
    resp
}

/// Who the request is (if it authenticated), and whether it may go on.
async fn admit(
    auth: &Authenticator,
    req: &mut Request,
    addr: Option<IpAddr>,
) -> (Option<Principal>, Result<(), ApiError>) {
    let creds = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(credentials);
    let Some(creds) = creds else {
        return (None, Err(ApiError::Unauthorized));
    };
    let shown_user = match &creds {
        Credentials::Password { user, .. } => user.clone(),
        Credentials::ApiKey(text) => split_api_key(text)
            .map_or("(malformed key)", |(id, _)| id)
            .to_string(),
        Credentials::Session(_) => "(session token)".to_string(),
    };
    match auth.authenticate(creds, addr).await {
        Ok(principal) => {
            let needed = super::access::required(req.method(), req.uri().path());
            if principal.may(needed) {
                req.extensions_mut().insert(principal.clone());
                req.extensions_mut().insert(auth.sessions.clone());
                return (Some(principal), Ok(()));
            }
            let what = format!("{} {}", req.method(), req.uri().path());
            let refused = principal.forbidden(needed, &what);
            (Some(principal), Err(refused))
        }
        Err(Denied::Backoff(ms)) => (
            None,
            Err(ApiError::TooManyAttempts {
                retry_after_seconds: ms.div_ceil(1000),
            }),
        ),
        Err(Denied::Unauthorized) => {
            // Escaped: a user name with a newline or ESC cannot forge log lines.
            tracing::warn!(user = ?shown_user, peer = ?addr, path = ?req.uri().path(), "authentication failed");
            (None, Err(ApiError::Unauthorized))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_credentials() {
        let v = format!("Basic {}", B64.encode("isadmin:pa:ss"));
        assert_eq!(parse_basic(&v), Some(("isadmin".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer x"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        for scheme in ["BASIC", "basic", "bAsIc"] {
            let v = format!("{scheme} {}", B64.encode("u:p"));
            assert_eq!(parse_basic(&v), Some(("u".into(), "p".into())), "{scheme}");
        }
        assert_eq!(parse_basic(&format!("Basicx {}", B64.encode("u:p"))), None);
    }
}
