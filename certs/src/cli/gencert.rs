//! `gencert`: `-initca csr.json` or `-ca ca.pem -ca-key ca-key.pem
//! [-config ca-config.json] [-profile NAME] [-hostname a,b] csr.json`.

use anyhow::{Context, Result, bail};
use serde::Serialize;

use super::{print_line, read_input};
use crate::config::{Policy, SigningConfig};
use crate::flags::{self, switch, value};
use crate::issue::{CertificateAuthority, Issued, init_ca, sign_new};
use crate::request::CertificateRequest;

const FLAGS: &[flags::FlagSpec] = &[
    switch("initca"),
    value("ca"),
    value("ca-key"),
    value("config"),
    value("profile"),
    value("hostname"),
    value("loglevel"),
];

/// cfssl's output: keys in this order, one line.
#[derive(Serialize)]
struct Output {
    cert: String,
    csr: String,
    key: String,
}

pub fn run(args: &[String]) -> Result<()> {
    let parsed = flags::parse(args, FLAGS)?;
    let csr_path = match parsed.positional.as_slice() {
        [one] => one.as_str(),
        [] => bail!("no certificate request file given (usage: gencert [flags] csr.json)"),
        more => bail!("expected one certificate request file, got {}", more.len()),
    };
    let mut request = CertificateRequest::from_json(&read_input(csr_path)?)
        .with_context(|| csr_path.to_string())?;
    if let Some(hostnames) = parsed.get("hostname") {
        request.hosts = Some(hostnames.split(',').map(|h| h.trim().to_string()).collect());
    }
    let issued = if parsed.is_set("initca") {
        if parsed.get("ca").is_some() {
            bail!("-initca makes a self-signed CA and cannot be combined with -ca");
        }
        init_ca(&request).with_context(|| csr_path.to_string())?
    } else {
        sign(&parsed, &mut request)?
    };
    print(issued)
}

fn sign(parsed: &flags::Parsed, request: &mut CertificateRequest) -> Result<Issued> {
    let (Some(ca_path), Some(ca_key_path)) = (parsed.get("ca"), parsed.get("ca-key")) else {
        bail!("signing needs both -ca and -ca-key (or use -initca for a new CA)");
    };
    if request.ca.take().is_some() {
        // cfssl refuses a `ca` section here; the seed's etcd request has
        // one, so it is ignored instead, with a warning.
        eprintln!("[WARNING] the \"ca\" section of the request only applies to -initca; ignored");
    }
    let ca_pem = read_input(ca_path)?;
    let ca_key_pem = read_input(ca_key_path)?;
    let ca = CertificateAuthority::from_pem(&ca_pem, &ca_key_pem)
        .with_context(|| format!("-ca {ca_path} -ca-key {ca_key_path}"))?;
    let policy = match parsed.get("config") {
        Some(path) => {
            let config =
                SigningConfig::from_json(&read_input(path)?).with_context(|| path.to_string())?;
            config
                .policy(parsed.get("profile"))
                .with_context(|| path.to_string())?
        }
        None => match parsed.get("profile") {
            Some(p) if !p.is_empty() => bail!("-profile {p:?} needs -config"),
            _ => Policy::default(),
        },
    };
    Ok(sign_new(request, &ca, &policy)?)
}

fn print(issued: Issued) -> Result<()> {
    let output = Output {
        cert: String::from_utf8(issued.cert)?,
        csr: String::from_utf8(issued.csr)?,
        key: String::from_utf8(issued.key)?,
    };
    print_line(&serde_json::to_string(&output)?)
}
