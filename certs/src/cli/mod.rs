//! Command dispatch: by program name (multi-call) or by subcommand.

mod certinfo;
mod cfssljson;
mod gencert;
mod kubeconfig;
mod pki;

use std::io::{Read, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: certs <gencert|cfssljson|json|certinfo|kubeconfig|pki> [flags]; \
as cfssl: cfssl <gencert|certinfo> [flags]; see certs/README.md";

/// Runs the command line `argv` (program name first) and returns the exit
/// code. Every failure is reported as one line on stderr.
pub fn run(argv: Vec<String>) -> i32 {
    let program = argv
        .first()
        .map(|p| {
            Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let args = argv.get(1..).unwrap_or(&[]).to_vec();
    match dispatch(&program, &args) {
        Ok(()) => 0,
        Err(err) => {
            let line = format!("{err:#}").replace(['\n', '\r'], " ");
            eprintln!("{program}: {line}");
            1
        }
    }
}

fn dispatch(program: &str, args: &[String]) -> Result<()> {
    match program {
        "cfssljson" | "cfssl-json" => cfssljson::run(args),
        "cfssl-certinfo" => certinfo::run(args),
        "cfssl" => {
            let (sub, rest) = split_subcommand(args)?;
            match sub {
                "gencert" => gencert::run(rest),
                "certinfo" => certinfo::run(rest),
                "version" => print_line(&format!(
                    "certs {} (cfssl-compatible)",
                    env!("CARGO_PKG_VERSION")
                )),
                other => {
                    bail!("unsupported cfssl command {other:?} (supported: gencert, certinfo)")
                }
            }
        }
        _ => {
            let (sub, rest) = split_subcommand(args)?;
            match sub {
                "gencert" => gencert::run(rest),
                "cfssljson" | "json" => cfssljson::run(rest),
                "certinfo" => certinfo::run(rest),
                "kubeconfig" => kubeconfig::run(rest),
                "pki" => pki::run(rest),
                "help" | "-h" | "--help" => print_line(USAGE),
                other => bail!("unknown command {other:?}; {USAGE}"),
            }
        }
    }
}

fn split_subcommand(args: &[String]) -> Result<(&str, &[String])> {
    match args.split_first() {
        Some((sub, rest)) => Ok((sub.as_str(), rest)),
        None => bail!("{USAGE}"),
    }
}

/// Prints `text` and a newline to stdout, reporting a closed pipe as an
/// error instead of panicking.
pub(crate) fn print_line(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")
        .and_then(|_| out.flush())
        .context("writing to stdout")
}

/// Reads a file, or stdin for `-`.
pub(crate) fn read_input(path: &str) -> Result<Vec<u8>> {
    if path == "-" {
        let mut buf = vec![];
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading stdin")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("reading {path}"))
    }
}
