//! Password hashing for the API without letting it hold the node: every
//! Argon2 hash (about 19 MiB and tens of milliseconds each) runs on the
//! blocking pool, at most `max_concurrent` at once; checks of the same
//! credentials that arrive together share one hash; a recent successful
//! check is remembered, so a burst of correct logins costs one hash per
//! user; and a check for a user that does not exist costs the same hash as
//! one that does, so the time of an answer does not tell which names exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};

use crate::crypto;

/// Successful checks remembered (user → the stored hash at the time and a
/// digest of the accepted password). Bounded: past it the memory starts over.
const VERIFIED_CAP: usize = 4096;

type Digest32 = [u8; 32];

#[derive(Clone)]
pub struct PasswordGate {
    inner: Arc<Inner>,
}

struct Inner {
    permits: Semaphore,
    salt: [u8; 16],
    verified: Mutex<HashMap<String, (String, Digest32)>>,
    /// Checks being computed, by the digest of (user, password, stored hash).
    in_flight: Mutex<HashMap<Digest32, Arc<OnceCell<bool>>>>,
    /// A hash of a random password, checked against for unknown users.
    decoy: OnceCell<String>,
}

/// Equality that takes the same time wherever the first difference is.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl PasswordGate {
    pub fn new(max_concurrent: usize) -> PasswordGate {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        PasswordGate {
            inner: Arc::new(Inner {
                permits: Semaphore::new(max_concurrent.max(1)),
                salt,
                verified: Mutex::default(),
                in_flight: Mutex::default(),
                decoy: OnceCell::new(),
            }),
        }
    }

    fn digest(&self, parts: &[&str]) -> Digest32 {
        let mut h = Sha256::new();
        h.update(self.inner.salt);
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p.as_bytes());
        }
        h.finalize().into()
    }

    /// Runs `work` on the blocking pool once a hashing permit is free.
    async fn hashing<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let _permit = self.inner.permits.acquire().await.ok()?;
        tokio::task::spawn_blocking(work).await.ok()
    }

    /// A new PHC hash of `password`.
    pub async fn hash(&self, password: &str) -> Result<String, crypto::CryptoError> {
        let pw = password.to_string();
        self.hashing(move || crypto::hash_password(&pw))
            .await
            .unwrap_or_else(|| Err(crypto::CryptoError::Hash("the hashing task ended".into())))
    }

    /// Whether `password` is the password of `user`, whose stored hash is
    /// `stored` (None: no such user — checked against a decoy, always false).
    pub async fn verify(&self, user: &str, password: &str, stored: Option<&str>) -> bool {
        let Some(stored) = stored else {
            let decoy = self.decoy().await;
            let pw = password.to_string();
            self.hashing(move || crypto::verify_password(&pw, &decoy)).await;
            return false;
        };
        let accepted = self.digest(&[user, password]);
        if let Some((hash, d)) = self.lock_verified().get(user) {
            if hash == stored && same_bytes(d, &accepted) {
                return true;
            }
        }
        let key = self.digest(&[user, password, stored]);
        let cell = self
            .inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_default()
            .clone();
        let ok = *cell
            .get_or_init(|| {
                let (pw, hash) = (password.to_string(), stored.to_string());
                async move {
                    self.hashing(move || crypto::verify_password(&pw, &hash))
                        .await
                        .unwrap_or(false)
                }
            })
            .await;
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        if ok {
            let mut verified = self.lock_verified();
            if verified.len() >= VERIFIED_CAP {
                verified.clear();
            }
            verified.insert(user.to_string(), (stored.to_string(), accepted));
        }
        ok
    }

    fn lock_verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Digest32)>> {
        self.inner.verified.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn decoy(&self) -> String {
        self.inner
            .decoy
            .get_or_init(|| async {
                let pw = crypto::generate_password();
                self.hashing(move || crypto::hash_password(&pw))
                    .await
                    .and_then(Result::ok)
                    .unwrap_or_default()
            })
            .await
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn checks_remember_success_and_refuse_unknown_users() {
        let gate = PasswordGate::new(2);
        let stored = gate.hash("correct horse").await.unwrap();
        assert!(gate.verify("ann", "correct horse", Some(&stored)).await);
        assert!(gate.lock_verified().contains_key("ann"));
        assert!(gate.verify("ann", "correct horse", Some(&stored)).await);
        assert!(!gate.verify("ann", "wrong horse", Some(&stored)).await);
        assert!(!gate.verify("nobody", "correct horse", None).await);
        // A changed password hash makes the remembered success stale.
        let other = gate.hash("battery staple").await.unwrap();
        assert!(!gate.verify("ann", "correct horse", Some(&other)).await);
    }

    #[tokio::test]
    async fn concurrent_identical_checks_share_one_hash() {
        let gate = PasswordGate::new(1);
        let stored = gate.hash("correct horse").await.unwrap();
        let checks = (0..20).map(|_| {
            let (g, s) = (gate.clone(), stored.clone());
            tokio::spawn(async move { g.verify("bob", "correct horse", Some(&s)).await })
        });
        for c in checks {
            assert!(c.await.unwrap());
        }
        assert!(gate.inner.in_flight.lock().unwrap().is_empty());
    }

    #[test]
    fn same_bytes_compares_whole_slices() {
        assert!(same_bytes(b"abc", b"abc"));
        assert!(!same_bytes(b"abc", b"abd"));
        assert!(!same_bytes(b"abc", b"ab"));
    }
}
