//! The node's key-encryption key (KEK) and the cluster key it seals.
//!
//! The cluster key that seals configuration secrets is replicated, so it
//! sits in the Raft log and in snapshots; there it is always sealed under
//! the KEK, which never leaves the node's own file or environment. Every
//! node of a cluster is given the same KEK (`key_file` / `IS_KEY_FILE`, or
//! `IS_KEY`); the embedded default generates one (mode 0600) beside its
//! data. A copy of the data directory without the KEK opens no secret.
//!
//! Sealed text: `kek:v1:<base64(nonce || ciphertext)>`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use super::ClusterKey;

const PREFIX: &str = "kek:v1:";
const NONCE_LEN: usize = 24;
const AAD: &[u8] = b"integration-service/cluster-key/v1";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the key-encryption key {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("cannot write a new key-encryption key to {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("the key-encryption key {from} is not 32 bytes in base64 (make one with: head -c 32 /dev/urandom | base64)")]
    Malformed { from: String },
    #[error(
        "this node's key-encryption key ({from}) does not open the cluster key: give every node of the \
         cluster the same key (key_file / IS_KEY_FILE, or IS_KEY)"
    )]
    WrongKek { from: String },
    #[error("the cluster key is not sealed (expected text starting with {PREFIX})")]
    NotSealed,
}

/// A sealed cluster key as replicated, and the key it opened to.
type Opened = Option<(Vec<u8>, ClusterKey)>;

/// The KEK and, once opened, the cluster key it sealed. Cheap to clone.
#[derive(Clone)]
pub struct KeyRing {
    kek: XChaCha20Poly1305,
    /// Where the KEK came from, for messages (never the key).
    from: Arc<str>,
    /// The sealed cluster key last opened, and what it opened to.
    opened: Arc<Mutex<Opened>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing(from {})", self.from)
    }
}

fn parse(text: &str, from: &str) -> Result<XChaCha20Poly1305, KeyError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| KeyError::Malformed { from: from.into() })?;
    if bytes.len() != 32 {
        return Err(KeyError::Malformed { from: from.into() });
    }
    Ok(XChaCha20Poly1305::new(bytes.as_slice().into()))
}

impl KeyRing {
    /// The KEK from `inline` (base64, e.g. `IS_KEY`), else from `path`,
    /// else a new one written to `path` (mode 0600).
    pub fn load(inline: Option<&str>, path: &Path) -> Result<KeyRing, KeyError> {
        let (kek, from) = match inline {
            Some(text) => (parse(text, "IS_KEY")?, "IS_KEY".to_string()),
            None => {
                let from = path.display().to_string();
                let text = match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => generate(path)?,
                    Err(source) => return Err(KeyError::Read { path: from, source }),
                };
                (parse(&text, &from)?, from)
            }
        };
        Ok(KeyRing {
            kek,
            from: from.into(),
            opened: Arc::default(),
        })
    }

    /// A new cluster key's bytes, sealed under the KEK (as replicated).
    pub fn seal_cluster_key(&self, key: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .kek
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key, aad: AAD })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out)).into_bytes()
    }

    /// The cluster key that `sealed` (as replicated) holds.
    pub fn cluster_key(&self, sealed: &[u8]) -> Result<ClusterKey, KeyError> {
        let mut opened = self.opened.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((s, key)) = opened.as_ref() {
            if s == sealed {
                return Ok(key.clone());
            }
        }
        let text = std::str::from_utf8(sealed).map_err(|_| KeyError::NotSealed)?;
        let raw = text
            .strip_prefix(PREFIX)
            .and_then(|b| B64.decode(b).ok())
            .filter(|r| r.len() > NONCE_LEN)
            .ok_or(KeyError::NotSealed)?;
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let plain = self
            .kek
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: AAD })
            .map_err(|_| KeyError::WrongKek {
                from: self.from.to_string(),
            })?;
        let key = ClusterKey::from_bytes(&plain).map_err(|_| KeyError::NotSealed)?;
        *opened = Some((sealed.to_vec(), key.clone()));
        Ok(key)
    }
}

/// Writes a new random KEK to `path` (mode 0600); answers its text.
fn generate(path: &Path) -> Result<String, KeyError> {
    let err = |source| KeyError::Write {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let text = format!("{}\n", B64.encode(bytes));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp: PathBuf = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)?;
    f.sync_all().map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    tracing::info!(path = %path.display(), "generated the key-encryption key (mode 0600); give every node of a cluster the same one");
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_cluster_key_opens_only_under_its_kek() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        let a = KeyRing::load(None, &path).unwrap();
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
        let raw = ClusterKey::generate_bytes();
        let sealed = a.seal_cluster_key(&raw);
        assert!(!sealed.windows(raw.len()).any(|w| w == raw.as_slice()));
        let secret = a.cluster_key(&sealed).unwrap().seal(b"s3cret");
        // The same file again opens it; another KEK does not.
        let again = KeyRing::load(None, &path).unwrap();
        assert_eq!(
            again.cluster_key(&sealed).unwrap().open(&secret).unwrap(),
            b"s3cret"
        );
        let other = KeyRing::load(Some(&B64.encode([7u8; 32])), &path).unwrap();
        let err = other.cluster_key(&sealed).unwrap_err().to_string();
        assert!(
            err.contains("does not open the cluster key") && err.contains("IS_KEY"),
            "{err}"
        );
        assert!(matches!(a.cluster_key(b"plain"), Err(KeyError::NotSealed)));
        assert!(matches!(
            KeyRing::load(Some("short"), &path),
            Err(KeyError::Malformed { .. })
        ));
    }
}
