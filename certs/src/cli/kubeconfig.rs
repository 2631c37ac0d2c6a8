//! `kubeconfig --ca --cert --key --server --cluster --user --context
//! [--namespace] --out`: one kubeconfig with embedded credentials.

use anyhow::{Context, Result, bail};

use super::read_input;
use crate::files::{OutputFile, SECRET_MODE, write_all_or_nothing};
use crate::flags::{self, value};
use crate::kubeconfig::KubeconfigSpec;

const FLAGS: &[flags::FlagSpec] = &[
    value("ca"),
    value("cert"),
    value("key"),
    value("server"),
    value("cluster"),
    value("user"),
    value("context"),
    value("namespace"),
    value("out"),
];

pub fn run(args: &[String]) -> Result<()> {
    let parsed = flags::parse(args, FLAGS)?;
    if let Some(extra) = parsed.positional.first() {
        bail!("unexpected argument {extra:?}");
    }
    let required = |name: &str| -> Result<String> {
        match parsed.get(name) {
            Some(v) if !v.is_empty() => Ok(v.to_string()),
            _ => bail!("missing --{name}"),
        }
    };
    let out = required("out")?;
    let user = required("user")?;
    let spec = KubeconfigSpec {
        cluster: required("cluster")?,
        server: required("server")?,
        ca_pem: read_input(&required("ca")?)?,
        client_cert_pem: read_input(&required("cert")?)?,
        client_key_pem: read_input(&required("key")?)?,
        context: parsed
            .get("context")
            .map_or_else(|| format!("{user}-context"), str::to_string),
        user,
        namespace: parsed.get("namespace").map(str::to_string),
    };
    let yaml = spec.to_yaml().context("building kubeconfig")?;
    write_all_or_nothing(&[OutputFile::new(&out, yaml, SECRET_MODE)])?;
    Ok(())
}
