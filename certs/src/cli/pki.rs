//! `pki --config cluster.json --dir DIR [--rotate] [--rotate-ca]
//! [--apiserver-url URL]`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::read_input;
use crate::flags::{self, switch, value};
use crate::pki::cluster::ClusterDescription;
use crate::pki::{Outcome, PkiOptions, run as run_pki};

const FLAGS: &[flags::FlagSpec] = &[
    value("config"),
    value("dir"),
    switch("rotate"),
    switch("rotate-ca"),
    value("apiserver-url"),
];

pub fn run(args: &[String]) -> Result<()> {
    let parsed = flags::parse(args, FLAGS)?;
    if let Some(extra) = parsed.positional.first() {
        bail!("unexpected argument {extra:?}");
    }
    let (Some(config), Some(dir)) = (parsed.get("config"), parsed.get("dir")) else {
        bail!(
            "usage: certs pki --config cluster.json --dir DIR [--rotate] [--rotate-ca] [--apiserver-url URL]"
        );
    };
    let desc =
        ClusterDescription::from_json(&read_input(config)?).with_context(|| config.to_string())?;
    let opts = PkiOptions {
        dir: PathBuf::from(dir),
        rotate: parsed.is_set("rotate") || parsed.is_set("rotate-ca"),
        rotate_ca: parsed.is_set("rotate-ca"),
        apiserver_url: parsed.get("apiserver-url").map(str::to_string),
    };
    if let Some(url) = &opts.apiserver_url
        && !url.starts_with("https://")
    {
        bail!("--apiserver-url {url:?} must be an https:// URL");
    }
    run_pki(&desc, &opts, &mut |outcome, path| {
        let line = match outcome {
            Outcome::Wrote => format!("wrote {}", path.display()),
            Outcome::Kept => format!("kept {}", path.display()),
            Outcome::KeptStale(reason) => format!("kept {} (stale: {reason})", path.display()),
        };
        // A closed stdout (`| head`) must not stop the PKI half-way.
        let _ = writeln!(std::io::stdout(), "{line}");
    })?;
    Ok(())
}
