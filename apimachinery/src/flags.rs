//! Flags that every daemon accepts, under upstream's names.

use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

/// `-v/--v` and `--kubeconfig`, flattened into each daemon's own flags.
#[derive(Debug, Clone, Args)]
pub struct CommonFlags {
    /// Log verbosity, as klog's `-v`: 0-1 info, 2-4 debug, 5 and up trace.
    #[arg(short = 'v', long = "v", default_value_t = 0, value_name = "LEVEL")]
    pub verbosity: u8,

    /// Path to a kubeconfig file with the daemon's own identity and the
    /// apiserver's address.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

/// Parses a Go-style duration (`40s`, `5m0s`, `1h`, `500ms`, or bare seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Ok(Duration::from_secs_f64(secs.max(0.0)));
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return Err("empty duration".into());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("missing unit in duration {s:?}"))?;
        if num_end == 0 {
            return Err(format!("invalid duration {s:?}"));
        }
        let value: f64 = rest[..num_end]
            .parse()
            .map_err(|_| format!("invalid duration {s:?}"))?;
        let after = &rest[num_end..];
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let factor = match &after[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            unit => return Err(format!("unknown unit {unit:?} in duration {s:?}")),
        };
        total += value * factor;
        rest = &after[unit_end..];
    }
    Ok(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn durations_parse_like_go() {
        for (text, secs) in [
            ("40s", 40.0),
            ("5m0s", 300.0),
            ("1h", 3600.0),
            ("500ms", 0.5),
            ("1m30s", 90.0),
            ("7", 7.0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs_f64(secs)),
                "{text}"
            );
        }
        for bad in ["", "s", "5x", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[derive(Parser)]
    struct Daemon {
        #[command(flatten)]
        common: CommonFlags,
    }

    #[test]
    fn upstream_spellings_parse() {
        let d = Daemon::try_parse_from(["d", "--v=4", "--kubeconfig", "/etc/k.conf"]).unwrap();
        assert_eq!(d.common.verbosity, 4);
        assert_eq!(
            d.common.kubeconfig.as_deref(),
            Some(std::path::Path::new("/etc/k.conf"))
        );
        let d = Daemon::try_parse_from(["d", "-v", "2"]).unwrap();
        assert_eq!(d.common.verbosity, 2);
        let d = Daemon::try_parse_from(["d", "-v=3"]).unwrap();
        assert_eq!(d.common.verbosity, 3);
        assert!(Daemon::try_parse_from(["d", "--v=loud"]).is_err());
    }
}
