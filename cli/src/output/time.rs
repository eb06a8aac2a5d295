//! Times and lengths of time for people: wall-clock times in UTC (the
//! server's epoch seconds), durations in the largest unit that reads well.

use jiff::Timestamp;

/// Epoch seconds as `HH:MM:SS` (UTC).
pub(crate) fn clock(epoch: f64) -> String {
    match instant(epoch) {
        Some(at) => at.strftime("%H:%M:%S").to_string(),
        None => "--:--:--".to_string(),
    }
}

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn datetime(epoch: f64) -> String {
    match instant(epoch) {
        Some(at) => at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => "-".to_string(),
    }
}

/// A length of time: `0.42 s`, `12.3 s`, `2 min 5 s`, `1 h 2 min`.
pub(crate) fn duration(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 10.0 {
        format!("{secs:.2} s")
    } else if secs < 60.0 {
        format!("{secs:.1} s")
    } else if secs < 3600.0 {
        let whole = secs.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    } else {
        let minutes = (secs / 60.0).round() as u64;
        format!("{} h {} min", minutes / 60, minutes % 60)
    }
}

/// The instant of a server time (fractional epoch seconds), cut to the
/// whole second so that a time is never shown later than it happened; None
/// for what is not a number or lies beyond the years jiff knows.
fn instant(epoch: f64) -> Option<Timestamp> {
    if !epoch.is_finite() {
        // `as i64` would read NaN as 1970.
        return None;
    }
    // Out-of-range values saturate and are then refused by jiff.
    Timestamp::from_second(epoch.floor() as i64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc() {
        assert_eq!(clock(0.0), "00:00:00");
        assert_eq!(clock(1_700_000_000.999), "22:13:20");
        assert_eq!(datetime(1_700_000_000.0), "2023-11-14 22:13:20 UTC");
        assert_eq!(datetime(951_782_400.0), "2000-02-29 00:00:00 UTC");
        assert_eq!(datetime(-86_401.0), "1969-12-30 23:59:59 UTC");
        assert_eq!(datetime(4_102_444_799.0), "2099-12-31 23:59:59 UTC");
        assert_eq!(clock(f64::NAN), "--:--:--");
        assert_eq!(datetime(1e300), "-");
        assert_eq!(datetime(f64::NEG_INFINITY), "-");
        // Years below 1000 keep four digits.
        assert_eq!(datetime(-62_135_596_800.0), "0001-01-01 00:00:00 UTC");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0.4249), "0.42 s");
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(125.0), "2 min 5 s");
        assert_eq!(duration(3_720.0), "1 h 2 min");
        assert_eq!(duration(-1.0), "0.00 s");
    }
}
