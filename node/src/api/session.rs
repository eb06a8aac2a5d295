//! Sessions of the web UI: a user signs in once (password or API key) and
//! gets a token that the browser sends as `Bearer` instead of the password.
//!
//! A token is the cluster key's AEAD seal of who signed in and until when,
//! sealed for this purpose only (`crypto::ClusterKey::seal_for`), so every
//! node of the cluster accepts it without a write per sign-in, and nobody
//! without the cluster key can make or alter one. It ends when:
//! - it was not renewed for `session_expires_seconds` (the UI renews it
//!   while the user is active), or [`MAX_SESSION_MS`] passed since sign-in;
//! - the user's password changed, the user was deleted, or the API key it
//!   was opened with was revoked (each checked at every request);
//! - the cluster key was rotated;
//! - the user signed out on this node ([`Sessions::revoke`]; kept in memory
//!   until the token would have expired anyway, bounded by [`MAX_REVOKED`]).
//!
//! The role is read from the user table at every request, never from the
//! token, so a changed role applies at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::crypto::{ClusterKey, KeyRing};
use crate::store::ContentHandle;

/// What a session token says before the role is looked up.
pub const TOKEN_PREFIX: &str = "iss1.";
/// The associated data tokens are sealed with.
const PURPOSE: &[u8] = b"integration-service/session/v1";
/// However often it is renewed, a session ends this long after sign-in.
pub const MAX_SESSION_MS: u64 = 24 * 3600 * 1000;
/// At most this many signed-out tokens are remembered (the oldest expiring
/// first); beyond it, the one closest to its expiry is forgotten.
pub const MAX_REVOKED: usize = 100_000;

/// The sealed content of a token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user.
    pub u: String,
    /// The API key the session was opened with, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<String>,
    /// A digest of the user's password hash at sign-in (password sessions):
    /// a password change ends the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<String>,
    /// When the user signed in (ms since the epoch).
    pub iat: u64,
    /// When the token expires (ms since the epoch).
    pub exp: u64,
}

/// A session a request was authenticated with.
#[derive(Debug, Clone)]
pub struct SessionMark {
    pub started_ms: u64,
    pub expires_ms: u64,
    /// SHA-256 of the token: what sign-out remembers.
    pub digest: [u8; 32],
}

/// Why a token was not accepted.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// Not made with this cluster's key: a guess or a forgery.
    Forged,
    /// Authentic, but expired, signed out, or no longer matching its user.
    Ended,
}

/// Issues and checks session tokens (cheap to clone).
#[derive(Clone)]
pub struct Sessions {
    keys: KeyRing,
    content: ContentHandle,
    lifetime_ms: u64,
    revoked: Arc<Mutex<HashMap<[u8; 32], u64>>>,
}

/// The digest of a password hash carried by a token.
pub fn password_tag(hash: &str) -> String {
    let d = Sha256::digest(hash.as_bytes());
    d[..12].iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn seal(key: &ClusterKey, claims: &Claims) -> String {
    let json = serde_json::to_vec(claims).expect("claims serialise");
    format!("{TOKEN_PREFIX}{}", key.seal_for(PURPOSE, &json))
}

pub fn open(key: &ClusterKey, token: &str) -> Result<Claims, Refused> {
    let b64 = token.strip_prefix(TOKEN_PREFIX).ok_or(Refused::Forged)?;
    let json = key.open_for(PURPOSE, b64).map_err(|_| Refused::Forged)?;
    serde_json::from_slice(&json).map_err(|_| Refused::Forged)
}

impl Sessions {
    pub fn new(keys: KeyRing, content: ContentHandle, lifetime_secs: u64) -> Sessions {
        Sessions {
            keys,
            content,
            lifetime_ms: lifetime_secs.saturating_mul(1000),
            revoked: Arc::default(),
        }
    }

    fn cluster_key(&self) -> Option<ClusterKey> {
        let sealed = {
            let sm = self.content.read();
            sm.content.cluster.as_ref()?.cluster_key.clone()
        };
        self.keys.cluster_key(&sealed).ok()
    }

    /// A token for `user` (signed in at `started_ms`, now or when the
    /// session being renewed began), or None before the cluster has a key.
    pub fn issue(
        &self,
        user: &str,
        api_key: Option<&str>,
        started_ms: u64,
        now_ms: u64,
    ) -> Option<(String, u64)> {
        let key = self.cluster_key()?;
        let p = match api_key {
            Some(_) => None,
            None => {
                let sm = self.content.read();
                Some(password_tag(&sm.content.users.get(user)?.password_hash))
            }
        };
        let exp = now_ms
            .saturating_add(self.lifetime_ms)
            .min(started_ms.saturating_add(MAX_SESSION_MS));
        let claims = Claims {
            u: user.to_string(),
            k: api_key.map(str::to_string),
            p,
            iat: started_ms,
            exp,
        };
        Some((seal(&key, &claims), exp))
    }

    /// The user, API key and session of an authentic, current token. The
    /// caller looks up the role.
    pub fn check(&self, token: &str, now_ms: u64) -> Result<(Claims, SessionMark), Refused> {
        let key = self.cluster_key().ok_or(Refused::Forged)?;
        let claims = open(&key, token)?;
        let digest = digest(token);
        if claims.exp <= now_ms || self.is_revoked(&digest) {
            return Err(Refused::Ended);
        }
        {
            let sm = self.content.read();
            let user = sm.content.users.get(&claims.u).ok_or(Refused::Ended)?;
            match (&claims.k, &claims.p) {
                (Some(id), _) => {
                    let k = sm.content.api_keys.get(id).ok_or(Refused::Ended)?;
                    if k.owner != claims.u || k.expires_ms.is_some_and(|e| e <= now_ms) {
                        return Err(Refused::Ended);
                    }
                }
                (None, Some(tag)) if *tag == password_tag(&user.password_hash) => {}
                _ => return Err(Refused::Ended),
            }
        }
        let mark = SessionMark {
            started_ms: claims.iat,
            expires_ms: claims.exp,
            digest,
        };
        Ok((claims, mark))
    }

    /// Signs a session out on this node until its token expires.
    pub fn revoke(&self, mark: &SessionMark, now_ms: u64) {
        let mut revoked = self.revoked.lock().expect("revoked sessions lock");
        revoked.retain(|_, exp| *exp > now_ms);
        if revoked.len() >= MAX_REVOKED {
            let soonest = revoked.iter().min_by_key(|(_, e)| **e).map(|(d, _)| *d);
            if let Some(d) = soonest {
                revoked.remove(&d);
            }
        }
        revoked.insert(mark.digest, mark.expires_ms);
    }

    fn is_revoked(&self, digest: &[u8; 32]) -> bool {
        self.revoked
            .lock()
            .expect("revoked sessions lock")
            .contains_key(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ClusterKey {
        ClusterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    fn claims() -> Claims {
        Claims {
            u: "ann".into(),
            k: None,
            p: Some(password_tag("$argon2id$x")),
            iat: 1,
            exp: 2,
        }
    }

    #[test]
    fn a_token_opens_only_with_its_key_and_purpose() {
        let t = seal(&key(), &claims());
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(open(&key(), &t), Ok(claims()));
        let other = ClusterKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(open(&other, &t), Err(Refused::Forged));
        // A configuration value sealed with the same key is no token.
        let value = key().seal(br#"{"u":"admin","iat":1,"exp":99999999999999}"#);
        let as_token = format!("{TOKEN_PREFIX}{}", value.rsplit(':').next().unwrap());
        assert_eq!(open(&key(), &as_token), Err(Refused::Forged));
        // A flipped character is refused, not misread.
        let mut bytes = t.into_bytes();
        let i = bytes.len() - 3;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            open(&key(), &String::from_utf8(bytes).unwrap()),
            Err(Refused::Forged)
        );
    }

    #[test]
    fn password_tags_differ_with_the_hash_and_hide_it() {
        let a = password_tag("$argon2id$v=19$aaa");
        assert_ne!(a, password_tag("$argon2id$v=19$aab"));
        assert_eq!(a.len(), 24);
        assert!(!a.contains("argon"));
    }
}
