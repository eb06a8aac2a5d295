//! HTTP Basic authentication for every REST and gRPC call (gRPC metadata is
//! HTTP headers, so one middleware covers both transports).
//!
//! Password hashes are deliberately slow, so a successful check is remembered
//! as a salted SHA-256 digest of the credentials, tied to the stored hash: a
//! password change invalidates it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::crypto;
use crate::store::ContentHandle;

/// user -> (stored hash at check time, digest of the accepted credentials)
type VerifiedCache = Arc<Mutex<HashMap<String, (String, [u8; 32])>>>;

#[derive(Clone)]
pub struct Authenticator {
    content: ContentHandle,
    salt: [u8; 16],
    verified: VerifiedCache,
}

/// The user an authenticated request acts as.
#[derive(Debug, Clone)]
pub struct Principal(pub String);

impl Authenticator {
    pub fn new(content: ContentHandle) -> Authenticator {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Authenticator {
            content,
            salt,
            verified: Arc::default(),
        }
    }

    fn digest(&self, user: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(user.as_bytes());
        h.update([0u8]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// Checks a user's password against the replicated user table.
    pub async fn check(&self, user: &str, password: &str) -> bool {
        let stored = {
            let sm = self.content.read();
            match sm.content.users.get(user) {
                Some(u) => u.password_hash.clone(),
                None => return false,
            }
        };
        let digest = self.digest(user, password);
        if let Some((hash, d)) = self.verified.lock().unwrap_or_else(|p| p.into_inner()).get(user) {
            if *hash == stored && *d == digest {
                return true;
            }
        }
        let (pw, hash) = (password.to_string(), stored.clone());
        let ok = tokio::task::spawn_blocking(move || crypto::verify_password(&pw, &hash))
            .await
            .unwrap_or(false);
        if ok {
            self.verified
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(user.to_string(), (stored, digest));
        }
        ok
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

pub async fn require_auth(State(auth): State<Authenticator>, mut req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(INTERNAL_PREFIX) {
        return next.run(req).await;
    }
    let creds = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_basic);
    if let Some((user, password)) = creds {
        if auth.check(&user, &password).await {
            req.extensions_mut().insert(Principal(user));
            return next.run(req).await;
        }
        // Escaped: a user name with a newline or ESC cannot forge log lines.
        tracing::warn!(user = ?user, path = ?req.uri().path(), "authentication failed");
    }
    if is_grpc(&req) {
        tonic::Status::from(ApiError::Unauthorized).into_http()
    } else {
        ApiError::Unauthorized.into_response()
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
