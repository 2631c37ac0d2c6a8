//! Standard five-field cron schedules (`minute hour day-of-month month
//! day-of-week`) and the `@hourly`-style macros, as CronJob's `schedule`
//! accepts them, and the search for the next matching minute in a time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use thiserror::Error;

/// Why a schedule string is not a cron schedule.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("expected exactly 5 fields, found {0}: {1}")]
    FieldCount(usize, String),
    #[error("unrecognized descriptor: {0}")]
    Descriptor(String),
    #[error("failed to parse int from {0}")]
    Number(String),
    #[error("end of range ({end}) above maximum ({max}): {field}")]
    AboveMax { end: u32, max: u32, field: String },
    #[error("beginning of range ({start}) below minimum ({min}): {field}")]
    BelowMin { start: u32, min: u32, field: String },
    #[error("beginning of range ({start}) beyond end of range ({end}): {field}")]
    Reversed { start: u32, end: u32, field: String },
    #[error("step of range should be a positive number: {0}")]
    Step(String),
}

/// A parsed schedule: one bit set per allowed value of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    /// Whether day-of-month / day-of-week were `*` (or `?`): cron matches
    /// a day when both fields match if either is a star, and when either
    /// matches if both are restricted.
    dom_star: bool,
    dow_star: bool,
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Bounds {
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// Value of the first name (January is 1, Sunday is 0).
    first_name: u32,
}

impl Schedule {
    /// Parses a schedule string; macros are `@yearly`, `@annually`,
    /// `@monthly`, `@weekly`, `@daily`, `@midnight` and `@hourly`.
    pub fn parse(spec: &str) -> Result<Schedule, ScheduleError> {
        let spec = spec.trim();
        let expanded = match spec {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            s if s.starts_with('@') => return Err(ScheduleError::Descriptor(s.to_string())),
            s => s,
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(ScheduleError::FieldCount(fields.len(), spec.to_string()));
        }
        let minute = Bounds {
            min: 0,
            max: 59,
            names: &[],
            first_name: 0,
        };
        let hour = Bounds {
            min: 0,
            max: 23,
            names: &[],
            first_name: 0,
        };
        let dom = Bounds {
            min: 1,
            max: 31,
            names: &[],
            first_name: 0,
        };
        let month = Bounds {
            min: 1,
            max: 12,
            names: MONTHS,
            first_name: 1,
        };
        // 7 is Sunday too.
        let dow = Bounds {
            min: 0,
            max: 7,
            names: DAYS,
            first_name: 0,
        };
        let mut days_of_week = field_bits(fields[4], &dow)?;
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week & !(1 << 7)) | 1;
        }
        Ok(Schedule {
            minutes: field_bits(fields[0], &minute)?,
            hours: field_bits(fields[1], &hour)?,
            days_of_month: field_bits(fields[2], &dom)?,
            months: field_bits(fields[3], &month)?,
            days_of_week,
            dom_star: is_star(fields[2]),
            dow_star: is_star(fields[4]),
        })
    }

    fn day_matches(&self, d: NaiveDate) -> bool {
        let dom = self.days_of_month & (1 << d.day()) != 0;
        let dow = self.days_of_week & (1 << d.weekday().num_days_from_sunday()) != 0;
        if self.dom_star || self.dow_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first matching minute strictly after `after`, searched up to
    /// five years ahead (a schedule such as `0 0 30 2 *` never matches).
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        let tz = after.timezone();
        let local = after.naive_local();
        // Start at the next whole minute.
        let mut t = local.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let limit = local + Duration::days(5 * 366);
        while t < limit {
            if self.months & (1 << t.month()) == 0 {
                t = first_of_next_month(t)?;
                continue;
            }
            if !self.day_matches(t.date()) {
                t = t.date().succ_opt()?.and_hms_opt(0, 0, 0)?;
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t.with_minute(0)? + Duration::hours(1);
                continue;
            }
            if self.minutes & (1 << t.minute()) == 0 {
                t += Duration::minutes(1);
                continue;
            }
            // A local time skipped by a DST change does not happen.
            if let Some(at) = tz.from_local_datetime(&t).earliest()
                && at > *after
            {
                return Some(at);
            }
            t += Duration::minutes(1);
        }
        None
    }
}

fn first_of_next_month(t: NaiveDateTime) -> Option<NaiveDateTime> {
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.and_hms_opt(0, 0, 0)
}

fn is_star(field: &str) -> bool {
    field.starts_with('*') || field.starts_with('?')
}

fn field_bits(field: &str, b: &Bounds) -> Result<u64, ScheduleError> {
    let mut bits = 0u64;
    for part in field.split(',') {
        bits |= range_bits(part, b)?;
    }
    Ok(bits)
}

fn range_bits(part: &str, b: &Bounds) -> Result<u64, ScheduleError> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => {
            let step: u32 = s
                .parse()
                .map_err(|_| ScheduleError::Number(s.to_string()))?;
            if step == 0 {
                return Err(ScheduleError::Step(part.to_string()));
            }
            (r, Some(step))
        }
        None => (part, None),
    };
    let (start, end) = if range == "*" || range == "?" {
        (b.min, b.max)
    } else if let Some((lo, hi)) = range.split_once('-') {
        (value(lo, b)?, value(hi, b)?)
    } else {
        let v = value(range, b)?;
        // `5/15` means from 5 to the maximum in steps of 15.
        (v, if step.is_some() { b.max } else { v })
    };
    if start < b.min {
        return Err(ScheduleError::BelowMin {
            start,
            min: b.min,
            field: part.to_string(),
        });
    }
    if end > b.max {
        return Err(ScheduleError::AboveMax {
            end,
            max: b.max,
            field: part.to_string(),
        });
    }
    if start > end {
        return Err(ScheduleError::Reversed {
            start,
            end,
            field: part.to_string(),
        });
    }
    let step = step.unwrap_or(1);
    let mut bits = 0u64;
    let mut v = start;
    while v <= end {
        bits |= 1 << v;
        v += step;
    }
    Ok(bits)
}

fn value(s: &str, b: &Bounds) -> Result<u32, ScheduleError> {
    let lower = s.to_ascii_lowercase();
    if let Some(i) = b.names.iter().position(|n| *n == lower) {
        return Ok(i as u32 + b.first_name);
    }
    s.parse().map_err(|_| ScheduleError::Number(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn next_runs() {
        let cases = [
            (
                "*/1 * * * *",
                "2024-01-01T00:00:30Z",
                "2024-01-01T00:01:00Z",
            ),
            (
                "*/5 * * * *",
                "2024-01-01T00:03:00Z",
                "2024-01-01T00:05:00Z",
            ),
            ("0 * * * *", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"),
            ("@hourly", "2024-01-01T10:59:59Z", "2024-01-01T11:00:00Z"),
            ("@daily", "2024-01-01T10:00:00Z", "2024-01-02T00:00:00Z"),
            ("@weekly", "2024-01-01T10:00:00Z", "2024-01-07T00:00:00Z"),
            ("@monthly", "2024-01-15T00:00:00Z", "2024-02-01T00:00:00Z"),
            ("@yearly", "2024-01-15T00:00:00Z", "2025-01-01T00:00:00Z"),
            (
                "30 2 * * mon-fri",
                "2024-01-05T03:00:00Z",
                "2024-01-08T02:30:00Z",
            ),
            (
                "0 0 29 feb *",
                "2023-03-01T00:00:00Z",
                "2024-02-29T00:00:00Z",
            ),
            (
                "15,45 9-10 * * *",
                "2024-01-01T09:46:00Z",
                "2024-01-01T10:15:00Z",
            ),
            (
                "5/20 * * * *",
                "2024-01-01T00:26:00Z",
                "2024-01-01T00:45:00Z",
            ),
            // Both day fields restricted: either may match (the 13th or a Friday).
            ("0 0 13 * 5", "2024-01-01T00:00:00Z", "2024-01-05T00:00:00Z"),
            ("0 0 * * 7", "2024-01-01T00:00:00Z", "2024-01-07T00:00:00Z"),
            (
                "0 12 * JAN,Jul *",
                "2024-02-01T00:00:00Z",
                "2024-07-01T12:00:00Z",
            ),
        ];
        for (spec, now, want) in cases {
            let s = Schedule::parse(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(s.next_after(&at(now)), Some(at(want)), "{spec} after {now}");
        }
    }

    #[test]
    fn never_matching_schedule_has_no_next_run() {
        let s = Schedule::parse("0 0 30 2 *").expect("parses");
        assert_eq!(s.next_after(&at("2024-01-01T00:00:00Z")), None);
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let s = Schedule::parse("0 9 * * *").expect("parses");
        let tz: chrono_tz::Tz = "Europe/Berlin".parse().expect("zone");
        let now = at("2024-01-01T00:00:00Z").with_timezone(&tz);
        let next = s.next_after(&now).expect("next");
        assert_eq!(next.with_timezone(&Utc), at("2024-01-01T08:00:00Z"));
    }

    #[test]
    fn bad_schedules() {
        let cases = [
            ("* * * *", ScheduleError::FieldCount(4, "* * * *".into())),
            ("@every 5m", ScheduleError::Descriptor("@every 5m".into())),
            (
                "60 * * * *",
                ScheduleError::AboveMax {
                    end: 60,
                    max: 59,
                    field: "60".into(),
                },
            ),
            (
                "* * 0 * *",
                ScheduleError::BelowMin {
                    start: 0,
                    min: 1,
                    field: "0".into(),
                },
            ),
            (
                "5-1 * * * *",
                ScheduleError::Reversed {
                    start: 5,
                    end: 1,
                    field: "5-1".into(),
                },
            ),
            ("*/0 * * * *", ScheduleError::Step("*/0".into())),
            ("x * * * *", ScheduleError::Number("x".into())),
        ];
        for (spec, want) in cases {
            assert_eq!(Schedule::parse(spec), Err(want), "{spec}");
        }
    }
}
