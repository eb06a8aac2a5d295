//! A Prometheus-style histogram: counts of observations at or under each of
//! a fixed list of upper bounds, their sum and their number. Pure; the
//! handles that share one (`actors::telemetry`) lock around it.

/// Bounds in seconds for how long a step attempt runs: from a few
/// milliseconds (a step that only passes data on) to an hour.
pub const STEP_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Bounds in seconds for how long a ready step waits for a worker.
pub const WAIT_SECONDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0,
];

#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Upper bounds, ascending; `+Inf` is implied after the last.
    bounds: &'static [f64],
    /// Observations in each bucket alone (not cumulative), one per bound.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    /// Records one observation; a negative one (a clock stepped back)
    /// counts as 0, a NaN is ignored.
    pub fn observe(&mut self, value: f64) {
        if value.is_nan() {
            return;
        }
        let value = value.max(0.0);
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    /// `(upper bound, observations at or under it)` for each bound and
    /// `+Inf`, as the text format's `_bucket` samples want them.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        let mut out: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(&self.counts)
            .map(|(b, n)| {
                total += n;
                (*b, total)
            })
            .collect();
        out.push((f64::INFINITY, self.count));
        out
    }

    pub fn sum(&self) -> f64 {
        self.sum
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_inf_is_the_count() {
        let mut h = Histogram::new(&[1.0, 5.0]);
        for v in [0.5, 1.0, 3.0, 7.0, -2.0, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(h.cumulative(), vec![(1.0, 3), (5.0, 4), (f64::INFINITY, 5)]);
        assert_eq!(h.count(), 5);
        assert_eq!(h.sum(), 11.5);
    }

    #[test]
    fn bounds_ascend() {
        for bounds in [STEP_SECONDS, WAIT_SECONDS] {
            assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
