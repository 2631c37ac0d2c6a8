//! Go `time.ParseDuration` syntax (`175200h`, `8760h`, `1h30m`, `1.5h`),
//! which cfssl uses for every `expiry` field.

use std::time::Duration;

/// Why a duration string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DurationError {
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit { unit: String, input: String },
    #[error("negative duration {0:?} is not a validity period")]
    Negative(String),
    #[error("duration {0:?} is too large")]
    Overflow(String),
}

fn unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Parses a Go duration. Validity periods cannot be negative, so a leading
/// `-` is refused rather than silently producing an expired certificate.
pub fn parse_go_duration(input: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(input.to_string());
    let mut rest = input;
    if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    } else if rest.starts_with('-') {
        return Err(DurationError::Negative(input.to_string()));
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            frac_part = &r[..frac_len];
            rest = &r[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        if unit.is_empty() {
            return Err(DurationError::MissingUnit(input.to_string()));
        }
        let scale = unit_nanos(unit).ok_or_else(|| DurationError::UnknownUnit {
            unit: unit.to_string(),
            input: input.to_string(),
        })?;
        let overflow = || DurationError::Overflow(input.to_string());
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| overflow())?
        };
        let mut nanos = whole.checked_mul(scale).ok_or_else(overflow)?;
        // Only the first 18 fraction digits can matter below a nanosecond-hour.
        let frac = &frac_part[..frac_part.len().min(18)];
        if !frac.is_empty() {
            let digits: u128 = frac.parse().map_err(|_| overflow())?;
            nanos += digits * scale / 10u128.pow(frac.len() as u32);
        }
        total = total.checked_add(nanos).ok_or_else(overflow)?;
    }
    let secs =
        u64::try_from(total / 1_000_000_000).map_err(|_| DurationError::Overflow(input.into()))?;
    Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_go_parses() {
        let h = 3600;
        let cases = [
            ("175200h", Duration::from_secs(175_200 * h)),
            ("8760h", Duration::from_secs(8760 * h)),
            ("1h30m", Duration::from_secs(h + 1800)),
            ("1.5h", Duration::from_secs(h + 1800)),
            ("90s", Duration::from_secs(90)),
            ("0", Duration::ZERO),
            ("+5m", Duration::from_secs(300)),
            ("1h1m1s1ms1us1ns", Duration::new(3661, 1_001_001)),
            (".5s", Duration::from_millis(500)),
            ("2µs", Duration::from_micros(2)),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_duration(input), Ok(want), "{input}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        let cases = [
            ("", DurationError::Invalid("".into())),
            ("10", DurationError::MissingUnit("10".into())),
            (
                "10x",
                DurationError::UnknownUnit {
                    unit: "x".into(),
                    input: "10x".into(),
                },
            ),
            ("h", DurationError::Invalid("h".into())),
            (".h", DurationError::Invalid(".h".into())),
            ("-1h", DurationError::Negative("-1h".into())),
            (
                "1d",
                DurationError::UnknownUnit {
                    unit: "d".into(),
                    input: "1d".into(),
                },
            ),
            (
                "99999999999999999999999999999999999999999h",
                DurationError::Overflow("99999999999999999999999999999999999999999h".into()),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(parse_go_duration(input), Err(want), "{input}");
        }
    }
}
