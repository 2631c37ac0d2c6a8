//! `resource.Quantity`: the fixed-point numbers Kubernetes uses for CPU,
//! memory and storage (`100m`, `1Gi`, `2`, `1e3`, `0.5`).
//!
//! A quantity is kept as an exact decimal (`mantissa × 10^exponent`) plus
//! the suffix family it was written in, because the canonical form that
//! upstream serialises depends on that family: `1536Mi` stays binary,
//! `1500` stays decimal, `0.5` becomes `500m`. Values are rounded up to
//! nano precision, as upstream does.

use std::cmp::Ordering;
use std::fmt;

/// Upstream's `ErrFormatWrong` text.
const FORMAT_WRONG: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Why a string is not a quantity; messages as upstream's `ParseQuantity`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("{FORMAT_WRONG}")]
    FormatWrong,
    #[error("unable to parse quantity's suffix")]
    Suffix,
    #[error("quantity is too large to represent")]
    Overflow,
}

/// The suffix family, which decides the canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `Ki`, `Mi`, ... powers of 1024.
    BinarySI,
    /// `n`, `u`, `m`, ``, `k`, `M`, ... powers of 1000.
    DecimalSI,
    /// `e3`, `E-6`: a power of ten.
    DecimalExponent,
}

/// An exact quantity: `mantissa × 10^exponent`, exponent ≥ -9.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    mantissa: i128,
    exponent: i32,
    format: Format,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    /// Compares the values; the suffix family plays no part.
    fn cmp(&self, other: &Self) -> Ordering {
        let e = self.exponent.min(other.exponent);
        let a = scale_up(self.mantissa, self.exponent - e);
        let b = scale_up(other.mantissa, other.exponent - e);
        match (a, b) {
            (Some(a), Some(b)) => a.cmp(&b),
            // Only huge values overflow; their signs decide.
            _ => (self.mantissa.signum(), self.exponent)
                .cmp(&(other.mantissa.signum(), other.exponent)),
        }
    }
}

fn scale_up(m: i128, by: i32) -> Option<i128> {
    let mut m = m;
    for _ in 0..by {
        m = m.checked_mul(10)?;
    }
    Some(m)
}

/// Divides by 10^by rounding away from zero (upstream rounds up in magnitude).
fn scale_down_ceil(m: i128, by: i32) -> i128 {
    let mut m = m;
    for _ in 0..by {
        let rem = m % 10;
        m /= 10;
        if rem > 0 {
            m += 1;
        } else if rem < 0 {
            m -= 1;
        }
    }
    m
}

impl Quantity {
    /// Parses upstream's quantity syntax: a signed decimal number followed by
    /// an optional binary-SI, decimal-SI or exponent suffix.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            Some(_) => (false, s),
            None => return Err(QuantityError::FormatWrong),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(QuantityError::FormatWrong);
        }
        let (base10_exp, base2_exp, format) = parse_suffix(suffix)?;
        let mut mantissa: i128 = 0;
        for d in int_part.bytes().chain(frac_part.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(d - b'0')))
                .ok_or(QuantityError::Overflow)?;
        }
        let frac_len = i32::try_from(frac_part.len()).map_err(|_| QuantityError::Overflow)?;
        let mut exponent = base10_exp - frac_len;
        if base2_exp > 0 {
            mantissa = mantissa
                .checked_mul(1i128 << base2_exp)
                .ok_or(QuantityError::Overflow)?;
        }
        if negative {
            mantissa = -mantissa;
        }
        // Round up to nano precision, as upstream does.
        if exponent < -9 {
            mantissa = scale_down_ceil(mantissa, -9 - exponent);
            exponent = -9;
        }
        let mut q = Quantity {
            mantissa,
            exponent,
            format,
        };
        q.normalise();
        if q.exponent > 60 {
            return Err(QuantityError::Overflow);
        }
        Ok(q)
    }

    /// A whole number in the decimal-SI family (`Quantity::from_i64(2)` is `2`).
    pub fn from_i64(v: i64) -> Quantity {
        let mut q = Quantity {
            mantissa: i128::from(v),
            exponent: 0,
            format: Format::DecimalSI,
        };
        q.normalise();
        q
    }

    /// The suffix family the quantity was written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Strips trailing zeros of the mantissa into the exponent.
    fn normalise(&mut self) {
        if self.mantissa == 0 {
            self.exponent = 0;
            return;
        }
        while self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.exponent += 1;
        }
    }

    /// The value in thousandths, rounded up (`100m` → 100, `1` → 1000).
    pub fn milli_value(&self) -> i64 {
        self.scaled_ceil(-3)
    }

    /// The value rounded up to a whole number (`100m` → 1, `1Ki` → 1024).
    pub fn value(&self) -> i64 {
        self.scaled_ceil(0)
    }

    /// value / 10^scale, rounded up, saturating at the i64 range.
    fn scaled_ceil(&self, scale: i32) -> i64 {
        let shift = self.exponent - scale;
        let v = if shift >= 0 {
            scale_up(self.mantissa, shift).unwrap_or(if self.mantissa < 0 {
                i128::MIN
            } else {
                i128::MAX
            })
        } else {
            // Ceiling (towards +inf) as upstream's ScaledValue does.
            let mut m = self.mantissa;
            for _ in 0..(-shift) {
                let rem = m % 10;
                m /= 10;
                if rem > 0 {
                    m += 1;
                }
            }
            m
        };
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }

    /// True when the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// True when the value is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// The exact integer value when there is no fractional part.
    fn as_integer(&self) -> Option<i128> {
        if self.exponent < 0 {
            None
        } else {
            scale_up(self.mantissa, self.exponent)
        }
    }
}

/// Returns (power of ten, power of two, format) for a suffix.
fn parse_suffix(suffix: &str) -> Result<(i32, u32, Format), QuantityError> {
    let r = match suffix {
        "" => (0, 0, Format::DecimalSI),
        "n" => (-9, 0, Format::DecimalSI),
        "u" => (-6, 0, Format::DecimalSI),
        "m" => (-3, 0, Format::DecimalSI),
        "k" => (3, 0, Format::DecimalSI),
        "M" => (6, 0, Format::DecimalSI),
        "G" => (9, 0, Format::DecimalSI),
        "T" => (12, 0, Format::DecimalSI),
        "P" => (15, 0, Format::DecimalSI),
        "E" => (18, 0, Format::DecimalSI),
        "Ki" => (0, 10, Format::BinarySI),
        "Mi" => (0, 20, Format::BinarySI),
        "Gi" => (0, 30, Format::BinarySI),
        "Ti" => (0, 40, Format::BinarySI),
        "Pi" => (0, 50, Format::BinarySI),
        "Ei" => (0, 60, Format::BinarySI),
        s if s.starts_with(['e', 'E']) => {
            let digits = &s[1..];
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return Err(QuantityError::Suffix);
            }
            let e: i32 = digits.parse().map_err(|_| QuantityError::Suffix)?;
            (e, 0, Format::DecimalExponent)
        }
        s => {
            // Anything outside the allowed alphabet is a format error; inside
            // it, an unknown combination is a suffix error (as upstream).
            let allowed = |c: char| "eEinumkKMGTP+-0123456789".contains(c);
            if s.chars().all(allowed) {
                return Err(QuantityError::Suffix);
            }
            return Err(QuantityError::FormatWrong);
        }
    };
    Ok(r)
}

const DECIMAL_SUFFIXES: [(i32, &str); 10] = [
    (18, "E"),
    (15, "P"),
    (12, "T"),
    (9, "G"),
    (6, "M"),
    (3, "k"),
    (0, ""),
    (-3, "m"),
    (-6, "u"),
    (-9, "n"),
];

const BINARY_SUFFIXES: [(u32, &str); 6] = [
    (60, "Ei"),
    (50, "Pi"),
    (40, "Ti"),
    (30, "Gi"),
    (20, "Mi"),
    (10, "Ki"),
];

impl fmt::Display for Quantity {
    /// Upstream's canonical form (`CanonicalizeBytes`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mantissa == 0 {
            return f.write_str("0");
        }
        if self.format == Format::BinarySI
            && let Some(v) = self.as_integer().filter(|v| v.abs() >= 1024)
        {
            for (shift, suffix) in BINARY_SUFFIXES {
                let unit = 1i128 << shift;
                if v % unit == 0 {
                    return write!(f, "{}{}", v / unit, suffix);
                }
            }
            return write!(f, "{v}");
        }
        // Decimal: the largest multiple-of-three exponent that keeps the
        // mantissa whole.
        let e3 = self.exponent - self.exponent.rem_euclid(3);
        let (e3, extra) = if e3 > 18 && self.format != Format::DecimalExponent {
            (18, self.exponent - 18)
        } else {
            (e3, self.exponent - e3)
        };
        let mut digits = self.mantissa.to_string();
        for _ in 0..extra {
            digits.push('0');
        }
        if self.format == Format::DecimalExponent {
            if e3 == 0 {
                return f.write_str(&digits);
            }
            return write!(f, "{digits}e{e3}");
        }
        let suffix = DECIMAL_SUFFIXES
            .iter()
            .find(|(e, _)| *e == e3)
            .map(|(_, s)| *s)
            .unwrap_or("");
        write!(f, "{digits}{suffix}")
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_canonical_forms() {
        let cases = [
            ("100m", "100m"),
            ("0.1", "100m"),
            ("0.5", "500m"),
            ("1", "1"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("1.5k", "1500"),
            ("2", "2"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1000Ki", "1000Ki"),
            ("512Ki", "512Ki"),
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("128974848", "128974848"),
            ("129e6", "129e6"),
            ("123Mi", "123Mi"),
            ("0", "0"),
            ("0Gi", "0"),
            ("-1", "-1"),
            ("+5", "5"),
            ("0.1n", "1n"),
            ("1M", "1M"),
            ("5G", "5G"),
            (".5", "500m"),
            ("10Ti", "10Ti"),
        ];
        for (input, want) in cases {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.to_string(), want, "canonical form of {input}");
        }
    }

    #[test]
    fn quantity_values() {
        let cases = [
            ("100m", 100, 1),
            ("1", 1000, 1),
            ("1Ki", 1_024_000, 1024),
            ("1.5", 1500, 2),
            ("1n", 1, 1),
            ("2Gi", 2_147_483_648_000, 2_147_483_648),
            ("-100m", -100, 0),
        ];
        for (input, milli, value) in cases {
            let q = Quantity::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(q.milli_value(), milli, "milli_value of {input}");
            assert_eq!(q.value(), value, "value of {input}");
        }
    }

    #[test]
    fn quantity_rejects_bad_input() {
        let cases = [
            ("", QuantityError::FormatWrong),
            ("abc", QuantityError::FormatWrong),
            ("1.2.3", QuantityError::FormatWrong),
            ("1 Gi", QuantityError::FormatWrong),
            ("1Gb", QuantityError::FormatWrong),
            ("1GiB", QuantityError::FormatWrong),
            ("1KiKi", QuantityError::Suffix),
            ("1e", QuantityError::Suffix),
            ("1mm", QuantityError::Suffix),
            ("-", QuantityError::FormatWrong),
        ];
        for (input, want) in cases {
            assert_eq!(Quantity::parse(input), Err(want), "{input:?}");
        }
        assert_eq!(
            QuantityError::FormatWrong.to_string(),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
    }

    #[test]
    fn quantity_compares_values_across_suffixes() {
        let q = |s| Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("500m") < q("1"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1k"), q("1e3"));
        assert!(q("-1") < q("0"));
    }
}
