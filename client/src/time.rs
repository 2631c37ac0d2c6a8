//! k8s-openapi's `Time` and `MicroTime` hold a jiff `Timestamp`; the
//! daemons compute with chrono (durations, time zones for CronJobs). These
//! convert at the boundary, to the nanosecond.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;

/// The chrono instant of a timestamp (every jiff timestamp fits chrono's range).
pub fn to_chrono(t: Timestamp) -> DateTime<Utc> {
    // jiff gives seconds and nanoseconds the same sign; chrono wants the
    // seconds floored and the nanoseconds positive.
    let (mut secs, mut nanos) = (t.as_second(), t.subsec_nanosecond());
    if nanos < 0 {
        secs -= 1;
        nanos += 1_000_000_000;
    }
    DateTime::from_timestamp(secs, nanos.unsigned_abs()).unwrap_or_default()
}

/// The timestamp of a chrono instant, clamped to jiff's range (years
/// -9999 to 9999).
pub fn from_chrono(t: DateTime<Utc>) -> Timestamp {
    let nanos = i32::try_from(t.timestamp_subsec_nanos()).unwrap_or(0);
    Timestamp::new(t.timestamp(), nanos).unwrap_or(if t.timestamp() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// A `Time` (whole seconds on the wire) at `t`.
pub fn time(t: DateTime<Utc>) -> Time {
    Time(from_chrono(t))
}

/// A `MicroTime` (microseconds on the wire) at `t`.
pub fn micro_time(t: DateTime<Utc>) -> MicroTime {
    MicroTime(from_chrono(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_to_the_nanosecond() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("in range");
        assert_eq!(to_chrono(from_chrono(t)), t);
        let before = DateTime::from_timestamp(-86_400, 5).expect("in range");
        assert_eq!(to_chrono(from_chrono(before)), before);
        assert_eq!(from_chrono(t).as_second(), 1_700_000_000);
    }

    #[test]
    fn serialises_as_upstream() {
        let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("in range");
        let json = serde_json::to_value((time(t), micro_time(t))).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!(["2023-11-14T22:13:20Z", "2023-11-14T22:13:20.123456Z"])
        );
    }
}
