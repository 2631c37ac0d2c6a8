//! Ages and durations as kubectl shows them: upstream's HumanDuration ("5s",
//! "3m20s", "2d5h", "3y45d"), and RFC 3339 timestamps read from objects.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Upstream's duration.HumanDuration, on a signed number of nanoseconds so that
/// a timestamp slightly in the future (clock skew) reads "0s" and one far in the
/// future reads "<invalid>".
pub fn human_duration_nanos(nanos: i128) -> String {
    let seconds = nanos / 1_000_000_000;
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 24 * 365 * 8 {
        let dy = days % 365;
        return if dy == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{dy}d")
        };
    }
    format!("{years}y")
}

/// Upstream's duration.HumanDuration.
pub fn human_duration(d: Duration) -> String {
    human_duration_nanos(d.as_nanos() as i128)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn number(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an RFC 3339 timestamp (`2024-05-01T10:00:00Z`, with optional fraction and
/// offset) into nanoseconds since the Unix epoch.
pub fn parse_rfc3339_nanos(s: &str) -> Option<i128> {
    let (date, rest) = s.split_once(['T', 't'])?;
    let mut dp = date.split('-');
    let (y, mo, d) = (
        number(dp.next()?)?,
        number(dp.next()?)?,
        number(dp.next()?)?,
    );
    if dp.next().is_some() || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (clock, offset_secs) = if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        (c, 0i64)
    } else {
        let idx = rest.rfind(['+', '-'])?;
        let (c, off) = rest.split_at(idx);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (c, sign * (number(oh)? * 3600 + number(om)? * 60))
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) => (h, f),
        None => (clock, ""),
    };
    let mut tp = hms.split(':');
    let (h, mi, sec) = (
        number(tp.next()?)?,
        number(tp.next()?)?,
        number(tp.next()?)?,
    );
    if tp.next().is_some() || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut frac_nanos: i128 = 0;
    if !frac.is_empty() {
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
        frac_nanos = digits.parse().ok()?;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs as i128 * 1_000_000_000 + frac_nanos)
}

/// Nanoseconds since the Unix epoch of `t` (negative before 1970).
pub fn system_time_nanos(t: SystemTime) -> i128 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// upstream's translateTimestampSince: the age of a timestamp field, `<unknown>` if unset.
pub fn age(timestamp: Option<&serde_json::Value>, now: SystemTime) -> String {
    match timestamp
        .and_then(|v| v.as_str())
        .and_then(parse_rfc3339_nanos)
    {
        Some(t) => human_duration_nanos(system_time_nanos(now) - t),
        None => "<unknown>".to_string(),
    }
}

/// A timestamp in the form the default table shows (`2024-05-01T10:00:00Z`, UTC,
/// whole seconds); unset timestamps print as Go's zero time.
pub fn rfc3339_utc(timestamp: Option<&serde_json::Value>) -> String {
    let Some(nanos) = timestamp
        .and_then(|v| v.as_str())
        .and_then(parse_rfc3339_nanos)
    else {
        return "0001-01-01T00:00:00Z".to_string();
    };
    let secs = nanos.div_euclid(1_000_000_000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn human_durations() {
        let s = |n: u64| human_duration(Duration::from_secs(n));
        let cases = [
            (0, "0s"),
            (5, "5s"),
            (119, "119s"),
            (120, "2m"),
            (200, "3m20s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60 + 59, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 25 * 60, "3h25m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (53 * 3600, "2d5h"),
            (8 * 86_400, "8d"),
            (729 * 86_400, "729d"),
            (730 * 86_400, "2y"),
            (775 * 86_400, "2y45d"),
            (8 * 365 * 86_400, "8y"),
        ];
        for (secs, want) in cases {
            assert_eq!(s(secs), want, "{secs}");
        }
        assert_eq!(human_duration_nanos(-1_500_000_000), "0s");
        assert_eq!(human_duration_nanos(-2_000_000_000), "<invalid>");
    }

    #[test]
    fn parses_timestamps() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("2024-02-29T12:30:15Z"),
            Some(1_709_209_815 * 1_000_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("2024-02-29T14:30:15.25+02:00"),
            Some(1_709_209_815 * 1_000_000_000 + 250_000_000)
        );
        assert_eq!(
            parse_rfc3339_nanos("2024-02-29T12:30:15.000001Z"),
            Some(1_709_209_815 * 1_000_000_000 + 1000)
        );
        for bad in [
            "",
            "2024-02-29",
            "2024-13-01T00:00:00Z",
            "x024-01-01T00:00:00Z",
            "2024-01-01T00:00:00",
        ] {
            assert_eq!(parse_rfc3339_nanos(bad), None, "{bad}");
        }
    }

    #[test]
    fn ages() {
        let now = UNIX_EPOCH + Duration::from_secs(1_709_209_815 + 200);
        assert_eq!(age(Some(&json!("2024-02-29T12:30:15Z")), now), "3m20s");
        assert_eq!(age(None, now), "<unknown>");
        assert_eq!(age(Some(&json!("garbage")), now), "<unknown>");
        assert_eq!(
            rfc3339_utc(Some(&json!("2024-02-29T14:30:15.5+02:00"))),
            "2024-02-29T12:30:15Z"
        );
        assert_eq!(rfc3339_utc(None), "0001-01-01T00:00:00Z");
    }
}
