//! A small command-line parser with Go `flag` package semantics.
//!
//! cfssl's users type `-ca=ca.pem`, `-ca ca.pem` and `--ca ca.pem`
//! interchangeably, and flags stop at the first positional argument (as in
//! Go). clap's conventions differ on all of these, so the few rules are
//! implemented here instead.

use std::collections::HashMap;

/// Why a command line was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FlagError {
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    #[error("invalid boolean value {value:?} for -{name}")]
    BadBool { name: String, value: String },
}

/// One flag a command accepts.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    pub name: &'static str,
    /// Boolean flags take no separate value (`-bare`), only `-bare=false`.
    pub boolean: bool,
}

/// A value-taking flag.
pub const fn value(name: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        boolean: false,
    }
}

/// A boolean switch.
pub const fn switch(name: &'static str) -> FlagSpec {
    FlagSpec {
        name,
        boolean: true,
    }
}

/// The parsed command line: flag values by name, then positional arguments.
#[derive(Debug, Default)]
pub struct Parsed {
    values: HashMap<String, String>,
    pub positional: Vec<String>,
}

impl Parsed {
    /// The last value given for a value flag.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether a boolean switch is on.
    pub fn is_set(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| v == "true")
    }
}

/// Parses `args` (without the program name) against `specs`.
///
/// As in Go, parsing stops at the first argument that is not a flag, at a
/// lone `-` (which means stdin to cfssl) and after `--`.
pub fn parse(args: &[String], specs: &[FlagSpec]) -> Result<Parsed, FlagError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if arg == "-" || !arg.starts_with('-') {
            break;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let spec = specs
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| FlagError::Unknown(name.to_string()))?;
        let value = if spec.boolean {
            let v = inline.unwrap_or_else(|| "true".to_string());
            match v.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => "true".to_string(),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => "false".to_string(),
                _ => {
                    return Err(FlagError::BadBool {
                        name: name.to_string(),
                        value: v,
                    });
                }
            }
        } else if let Some(v) = inline {
            v
        } else {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| FlagError::MissingValue(name.to_string()))?
        };
        parsed.values.insert(name.to_string(), value);
        i += 1;
    }
    parsed.positional = args[i..].to_vec();
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[FlagSpec] = &[value("ca"), value("profile"), switch("bare")];

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn accepts_go_spellings() {
        let cases: &[&[&str]] = &[
            &["-ca=x.pem", "csr.json"],
            &["-ca", "x.pem", "csr.json"],
            &["--ca", "x.pem", "csr.json"],
            &["--ca=x.pem", "csr.json"],
        ];
        for case in cases {
            let p = parse(&args(case), SPECS).unwrap();
            assert_eq!(p.get("ca"), Some("x.pem"), "{case:?}");
            assert_eq!(p.positional, vec!["csr.json"], "{case:?}");
        }
    }

    #[test]
    fn switches_take_no_separate_value() {
        let p = parse(&args(&["-bare", "ca"]), SPECS).unwrap();
        assert!(p.is_set("bare"));
        assert_eq!(p.positional, vec!["ca"]);
        let p = parse(&args(&["-bare=false", "ca"]), SPECS).unwrap();
        assert!(!p.is_set("bare"));
    }

    #[test]
    fn stops_at_first_positional_and_dash() {
        let p = parse(&args(&["-", "-ca", "x"]), SPECS).unwrap();
        assert_eq!(p.positional, vec!["-", "-ca", "x"]);
        let p = parse(&args(&["--", "-ca"]), SPECS).unwrap();
        assert_eq!(p.positional, vec!["-ca"]);
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&args(&["-nope"]), SPECS).unwrap_err(),
            FlagError::Unknown("nope".into())
        );
        assert_eq!(
            parse(&args(&["-ca"]), SPECS).unwrap_err(),
            FlagError::MissingValue("ca".into())
        );
        assert!(matches!(
            parse(&args(&["-bare=maybe"]), SPECS).unwrap_err(),
            FlagError::BadBool { .. }
        ));
    }
}
