//! Retry policy of a step (DESIGN 4.5), read from its entry in the
//! application. The delay before retry n (n = 1, 2, …) is
//! `min(retry_backoff_max, 2^(n-1))` s with backoff, else `retry_countdown`
//! s; with jitter, a uniform random integer in `[0, delay]` drawn from a seed
//! the proposer chose (so applying stays deterministic).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max: u32,
    pub backoff: bool,
    pub jitter: bool,
    pub backoff_max_s: u64,
    pub countdown_s: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max: 0,
            backoff: false,
            jitter: false,
            backoff_max_s: 600,
            countdown_s: 180,
        }
    }
}

impl RetryPolicy {
    /// Reads the retry options of a step entry; absent options keep their defaults.
    pub fn from_entry(entry: &Map<String, Value>) -> RetryPolicy {
        let d = RetryPolicy::default();
        let num = |k: &str, default: u64| entry.get(k).and_then(lenient::count_of).unwrap_or(default);
        let flag = |k: &str| entry.get(k).and_then(lenient::bool_of).unwrap_or(false);
        RetryPolicy {
            max: u32::try_from(num("retry_max", d.max.into())).unwrap_or(u32::MAX),
            backoff: flag("retry_backoff"),
            jitter: flag("retry_jitter"),
            backoff_max_s: num("retry_backoff_max", d.backoff_max_s),
            countdown_s: num("retry_countdown", d.countdown_s),
        }
    }

    /// Delay before retry `n` (1-based), in milliseconds.
    pub fn delay_ms(&self, n: u32, seed: u64) -> u64 {
        let delay_s = if self.backoff {
            let exp = 1u64.checked_shl(n.saturating_sub(1)).unwrap_or(u64::MAX);
            exp.min(self.backoff_max_s)
        } else {
            self.countdown_s
        };
        let delay_s = if self.jitter {
            // Uniform integer in [0, delay_s] from the proposer's seed.
            splitmix(seed) % (delay_s + 1)
        } else {
            delay_s
        };
        delay_s.saturating_mul(1000)
    }
}

/// A well-mixed 64-bit value from a seed (SplitMix64's finaliser).
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: Value) -> RetryPolicy {
        RetryPolicy::from_entry(v.as_object().unwrap())
    }

    #[test]
    fn defaults_follow_the_design() {
        let p = policy(json!({}));
        assert_eq!(p, RetryPolicy::default());
        assert_eq!(p.delay_ms(1, 0), 180_000);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy(json!({"retry_max": 10, "retry_backoff": true, "retry_backoff_max": 5}));
        let delays: Vec<u64> = (1..=5).map(|n| p.delay_ms(n, 0) / 1000).collect();
        assert_eq!(delays, vec![1, 2, 4, 5, 5]);
    }

    #[test]
    fn countdown_without_backoff() {
        let p = policy(json!({"retry_max": 2, "retry_countdown": 7}));
        assert_eq!(p.delay_ms(1, 0), 7000);
        assert_eq!(p.delay_ms(2, 0), 7000);
    }

    #[test]
    fn jitter_stays_within_the_delay_and_varies() {
        let p = policy(json!({"retry_max": 3, "retry_backoff": true, "retry_jitter": true}));
        let samples: Vec<u64> = (0..200).map(|seed| p.delay_ms(4, seed) / 1000).collect();
        assert!(samples.iter().all(|d| *d <= 8));
        assert!(samples.contains(&0) && samples.contains(&8), "{samples:?}");
        assert_eq!(p.delay_ms(4, 42), p.delay_ms(4, 42), "deterministic for a seed");
    }
}
