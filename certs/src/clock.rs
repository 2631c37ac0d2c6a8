//! Validity windows as cfssl computes them, and the RFC 3339 timestamps
//! cfssl-certinfo prints.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::error::ErrorStack;

/// How far cfssl backdates `notBefore` to tolerate clock skew.
pub const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// A certificate's validity window in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    /// cfssl's window: `now` rounded to the nearest minute, minus five
    /// minutes, for `expiry` from there.
    pub fn starting_at(now_unix: i64, expiry: Duration) -> Self {
        let rounded = (now_unix + 30).div_euclid(60) * 60;
        let not_before = rounded - BACKDATE.as_secs() as i64;
        let not_after =
            not_before.saturating_add(i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX));
        Validity {
            not_before,
            not_after,
        }
    }

    pub fn from_now(expiry: Duration) -> Self {
        Self::starting_at(now_unix(), expiry)
    }
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Converts an ASN.1 time to Unix seconds.
pub fn asn1_to_unix(time: &Asn1TimeRef) -> Result<i64, ErrorStack> {
    let epoch = Asn1Time::from_unix(0)?;
    let diff = epoch.diff(time)?;
    Ok(i64::from(diff.days) * 86_400 + i64::from(diff.secs))
}

/// Formats Unix seconds as RFC 3339 in UTC (`2026-11-22T13:14:00Z`).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_matches_cfssl() {
        // Seen from cfssl: issued at 13:18:30 → notBefore 13:14:00,
        // 175200h later → 2046-11-17T13:14:00Z.
        let issued = 1_795_353_510; // 2026-11-22T13:18:30Z
        assert_eq!(rfc3339(issued), "2026-11-22T13:18:30Z");
        let v = Validity::starting_at(issued, Duration::from_secs(175_200 * 3600));
        assert_eq!(rfc3339(v.not_before), "2026-11-22T13:14:00Z");
        assert_eq!(rfc3339(v.not_after), "2046-11-17T13:14:00Z");
        // 13:18:29 rounds down.
        let v = Validity::starting_at(issued - 1, Duration::from_secs(3600));
        assert_eq!(rfc3339(v.not_before), "2026-11-22T13:13:00Z");
        assert_eq!(rfc3339(v.not_after), "2026-11-22T14:13:00Z");
    }

    #[test]
    fn formats_dates() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (4_107_542_399, "2100-02-28T23:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ];
        for (unix, want) in cases {
            assert_eq!(rfc3339(unix), want);
        }
    }

    #[test]
    fn asn1_round_trip() {
        let t = Asn1Time::from_unix(2_500_000_000).unwrap();
        assert_eq!(asn1_to_unix(&t).unwrap(), 2_500_000_000);
    }
}
