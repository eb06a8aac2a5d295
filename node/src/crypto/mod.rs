//! Secrets at rest: the per-cluster AEAD key that seals encrypted
//! configuration values (itself sealed by each node's key-encryption key,
//! `keyring`), slow password hashes for users, and the node's TLS
//! certificate and configurations (`tls`).
//!
//! Ciphertext travels as text `enc:v1:<base64(nonce || ciphertext)>` so it can
//! sit inside a JSON document, be exported and be uploaded again unchanged.

mod keyring;
pub mod tls;
pub use keyring::{KeyError, KeyRing};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 24;
/// Binds ciphertext to its purpose so it cannot be replayed as another kind of secret.
const AAD: &[u8] = b"integration-service/configuration-value/v1";

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the value is not ciphertext of this system (expected text starting with {PREFIX})")]
    NotCiphertext,
    #[error(
        "the ciphertext does not decrypt under this cluster's key (was it exported from another cluster?)"
    )]
    WrongKey,
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the cluster key must be 32 bytes, got {0}")]
    KeyLength(usize),
    #[error("configuration value {name:?}: {reason}")]
    Value { name: String, reason: String },
}

/// The cluster's symmetric key, created once at bootstrap and replicated.
#[derive(Clone)]
pub struct ClusterKey(XChaCha20Poly1305);

impl std::fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterKey(..)")
    }
}

impl ClusterKey {
    pub fn generate_bytes() -> Vec<u8> {
        let mut key = vec![0u8; 32];
        rand::rng().fill_bytes(&mut key);
        key
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ClusterKey, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::KeyLength(bytes.len()));
        }
        Ok(ClusterKey(XChaCha20Poly1305::new(bytes.into())))
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        format!("{PREFIX}{}", self.seal_for(AAD, plaintext))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let b64 = sealed.strip_prefix(PREFIX).ok_or(CryptoError::NotCiphertext)?;
        self.open_for(AAD, b64)
    }

    /// Seals `plaintext` for one purpose (`purpose` is the associated data,
    /// so a text sealed for one purpose never opens as another: a
    /// configuration value is no session token). Base64 of nonce + ciphertext.
    pub fn seal_for(&self, purpose: &[u8], plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let payload = chacha20poly1305::aead::Payload {
            msg: plaintext,
            aad: purpose,
        };
        let ct = self
            .0
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        B64.encode(out)
    }

    /// Opens what [`ClusterKey::seal_for`] sealed for the same purpose.
    pub fn open_for(&self, purpose: &[u8], b64: &str) -> Result<Vec<u8>, CryptoError> {
        let raw = B64
            .decode(b64)
            .ok()
            .filter(|raw| raw.len() > NONCE_LEN)
            .ok_or(CryptoError::NotCiphertext)?;
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let payload = chacha20poly1305::aead::Payload {
            msg: ct,
            aad: purpose,
        };
        self.0
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| CryptoError::WrongKey)
    }
}

/// Opens the (name, ciphertext) pairs of a configuration with the cluster
/// key `key`; answers (name, plaintext), each plaintext the JSON text that
/// was sealed. The node calls this for the run of an attempt, just before
/// the attempt goes to its runner, so runners never hold the key.
pub fn open_values(
    key: &ClusterKey,
    sealed: &[(String, String)],
) -> Result<Vec<(String, String)>, CryptoError> {
    sealed
        .iter()
        .map(|(name, text)| {
            let fail = |reason: String| CryptoError::Value {
                name: name.clone(),
                reason,
            };
            let plain = key.open(text).map_err(|e| fail(e.to_string()))?;
            let plain =
                String::from_utf8(plain).map_err(|_| fail("the decrypted value is not text".into()))?;
            Ok((name.clone(), plain))
        })
        .collect()
}

/// True when the text has the shape of sealed ciphertext.
pub fn looks_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Argon2id hash (PHC string) of a password, with a random salt.
pub fn hash_password(password: &str) -> Result<String, CryptoError> {
    let salt = SaltString::encode_b64(&{
        let mut s = [0u8; 16];
        rand::rng().fill_bytes(&mut s);
        s
    })
    .map_err(|e| CryptoError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptoError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok(),
        Err(_) => false,
    }
}

/// A random password for the generated administrator account.
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip() {
        let key = ClusterKey::from_bytes(&ClusterKey::generate_bytes()).unwrap();
        let sealed = key.seal(b"change-me");
        assert!(looks_sealed(&sealed));
        assert!(!sealed.contains("change-me"));
        assert_eq!(key.open(&sealed).unwrap(), b"change-me");
    }

    #[test]
    fn another_key_cannot_open() {
        let a = ClusterKey::from_bytes(&ClusterKey::generate_bytes()).unwrap();
        let b = ClusterKey::from_bytes(&ClusterKey::generate_bytes()).unwrap();
        assert!(matches!(b.open(&a.seal(b"x")), Err(CryptoError::WrongKey)));
        assert!(matches!(b.open("plain"), Err(CryptoError::NotCiphertext)));
    }

    #[test]
    fn password_hash_verifies_only_the_password() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("s3cret!", &h));
    }
}
