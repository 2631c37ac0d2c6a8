//! `certinfo -cert X.pem` / `certinfo -csr X.csr`.

use anyhow::{Context, Result, bail};

use super::{print_line, read_input};
use crate::certinfo::{certificate_info, csr_info, to_json};
use crate::flags::{self, value};

const FLAGS: &[flags::FlagSpec] = &[
    value("cert"),
    value("csr"),
    value("domain"),
    value("loglevel"),
];

pub fn run(args: &[String]) -> Result<()> {
    let parsed = flags::parse(args, FLAGS)?;
    let json = if let Some(path) = parsed.get("cert") {
        to_json(&certificate_info(&read_input(path)?).with_context(|| path.to_string())?)?
    } else if let Some(path) = parsed.get("csr") {
        to_json(&csr_info(&read_input(path)?).with_context(|| path.to_string())?)?
    } else if parsed.get("domain").is_some() {
        bail!("-domain is not supported: this tool makes no network connections");
    } else {
        bail!("must specify certinfo target through -cert or -csr");
    };
    print_line(&json)
}
