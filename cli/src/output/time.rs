//! Times and lengths of time for people: wall-clock times in UTC (the
//! server's epoch seconds), durations in the largest unit that reads well.

/// Epoch seconds as `HH:MM:SS` (UTC).
pub(crate) fn clock(epoch: f64) -> String {
    match civil(epoch) {
        Some((_, _, _, h, m, s)) => format!("{h:02}:{m:02}:{s:02}"),
        None => "--:--:--".to_string(),
    }
}

/// Epoch seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn datetime(epoch: f64) -> String {
    match civil(epoch) {
        Some((y, mo, d, h, m, s)) => format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02} UTC"),
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

/// Epoch seconds as (year, month, day, hour, minute, second) in UTC, by
/// Howard Hinnant's days-to-civil algorithm; None for values out of range.
fn civil(epoch: f64) -> Option<(i64, u32, u32, u32, u32, u32)> {
    // Years 0 to 9999 keep every intermediate value small.
    if !epoch.is_finite() || !(-62_167_219_200.0..253_402_300_800.0).contains(&epoch) {
        return None;
    }
    let secs = epoch.floor() as i64;
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some((
        year,
        month as u32,
        day as u32,
        (of_day / 3_600) as u32,
        (of_day % 3_600 / 60) as u32,
        (of_day % 60) as u32,
    ))
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
