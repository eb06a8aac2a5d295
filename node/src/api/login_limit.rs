//! Back-off for failed logins, per source address and per user name: after
//! a few failures, further attempts from that address (or for that user) are
//! answered 429 with `Retry-After` without touching a password hash, for a
//! time that doubles with each further failure. A success clears both.
//!
//! The limiter is sans-IO: the caller passes the time, so tests drive it
//! with numbers. Memory is bounded: past `MAX_TRACKED` keys, entries whose
//! block has ended are forgotten first, then the oldest.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

const MAX_TRACKED: usize = 10_000;

/// When back-off starts and how far it grows, for one kind of key.
#[derive(Debug, Clone, Copy)]
struct Policy {
    /// Failures allowed before the first block.
    free: u32,
    first_block_ms: u64,
    max_block_ms: u64,
}

/// A user may be attacked from many addresses: a short cap keeps the real
/// user able to log in soon after an attack stops.
const PER_USER: Policy = Policy {
    free: 5,
    first_block_ms: 1_000,
    max_block_ms: 30_000,
};
const PER_ADDRESS: Policy = Policy {
    free: 10,
    first_block_ms: 1_000,
    max_block_ms: 300_000,
};

#[derive(Debug, Clone, Copy, Default)]
struct Record {
    failures: u32,
    last_ms: u64,
    blocked_until_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

impl Key {
    fn policy(&self) -> Policy {
        match self {
            Key::User(_) => PER_USER,
            Key::Address(_) => PER_ADDRESS,
        }
    }
}

#[derive(Clone, Default)]
pub struct LoginLimiter {
    records: Arc<Mutex<HashMap<Key, Record>>>,
}

fn keys(addr: Option<IpAddr>, user: Option<&str>) -> Vec<Key> {
    let mut keys = Vec::with_capacity(2);
    if let Some(a) = addr {
        keys.push(Key::Address(a));
    }
    if let Some(u) = user {
        keys.push(Key::User(u.to_string()));
    }
    keys
}

impl LoginLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Milliseconds until an attempt from `addr` for `user` may be tried,
    /// or None if it may be tried now.
    pub fn blocked_for(&self, addr: Option<IpAddr>, user: Option<&str>, now_ms: u64) -> Option<u64> {
        let records = self.lock();
        keys(addr, user)
            .iter()
            .filter_map(|k| records.get(k))
            .map(|r| r.blocked_until_ms.saturating_sub(now_ms))
            .filter(|ms| *ms > 0)
            .max()
    }

    pub fn failed(&self, addr: Option<IpAddr>, user: Option<&str>, now_ms: u64) {
        let mut records = self.lock();
        for key in keys(addr, user) {
            if !records.contains_key(&key) && records.len() >= MAX_TRACKED {
                make_room(&mut records, now_ms);
            }
            let policy = key.policy();
            let r = records.entry(key).or_default();
            r.failures = r.failures.saturating_add(1);
            r.last_ms = now_ms;
            if r.failures > policy.free {
                let doublings = (r.failures - policy.free - 1).min(20);
                let block = (policy.first_block_ms << doublings).min(policy.max_block_ms);
                r.blocked_until_ms = now_ms + block;
            }
        }
    }

    pub fn succeeded(&self, addr: Option<IpAddr>, user: Option<&str>) {
        let mut records = self.lock();
        for key in keys(addr, user) {
            records.remove(&key);
        }
    }
}

fn make_room(records: &mut HashMap<Key, Record>, now_ms: u64) {
    records.retain(|_, r| r.blocked_until_ms > now_ms);
    if records.len() >= MAX_TRACKED {
        let mut by_age: Vec<(Key, u64)> = records.iter().map(|(k, r)| (k.clone(), r.last_ms)).collect();
        by_age.sort_by_key(|(_, t)| *t);
        for (k, _) in by_age.into_iter().take(MAX_TRACKED / 2) {
            records.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn a_user_is_blocked_after_five_failures_for_doubling_times() {
        let l = LoginLimiter::default();
        for i in 0..5 {
            l.failed(A, Some("ann"), i);
            assert_eq!(l.blocked_for(B, Some("ann"), i), None);
        }
        l.failed(A, Some("ann"), 10);
        assert_eq!(l.blocked_for(B, Some("ann"), 10), Some(1_000));
        assert_eq!(l.blocked_for(B, Some("bob"), 10), None);
        l.failed(A, Some("ann"), 2_000);
        assert_eq!(l.blocked_for(B, Some("ann"), 2_000), Some(2_000));
        for t in 0..20 {
            l.failed(A, Some("ann"), 3_000 + t);
        }
        assert_eq!(l.blocked_for(B, Some("ann"), 3_019), Some(30_000));
    }

    #[test]
    fn an_address_is_blocked_whatever_user_it_tries() {
        let l = LoginLimiter::default();
        for i in 0..11 {
            l.failed(A, Some(&format!("user{i}")), 0);
        }
        assert_eq!(l.blocked_for(A, Some("new"), 0), Some(1_000));
        assert_eq!(l.blocked_for(B, Some("new"), 0), None);
        assert_eq!(l.blocked_for(A, Some("new"), 1_000), None);
    }

    #[test]
    fn success_clears_and_memory_stays_bounded() {
        let l = LoginLimiter::default();
        for _ in 0..6 {
            l.failed(A, Some("ann"), 0);
        }
        l.succeeded(A, Some("ann"));
        assert_eq!(l.blocked_for(A, Some("ann"), 0), None);
        for i in 0..(MAX_TRACKED + 10) {
            l.failed(None, Some(&format!("u{i}")), i as u64);
        }
        assert!(l.lock().len() <= MAX_TRACKED);
    }
}
