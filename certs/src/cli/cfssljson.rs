//! `cfssljson [-bare] [-f file] [-stdout] [NAME]`: writes NAME.pem,
//! NAME-key.pem (0600) and NAME.csr, all or none.

use std::path::PathBuf;

use std::io::Write;

use anyhow::{Context, Result, bail};

use super::read_input;
use crate::cfssljson::extract;
use crate::files::{OutputFile, write_all_or_nothing};
use crate::flags::{self, switch, value};

const FLAGS: &[flags::FlagSpec] = &[switch("bare"), value("f"), switch("stdout")];

pub fn run(args: &[String]) -> Result<()> {
    let parsed = flags::parse(args, FLAGS)?;
    let base = match parsed.positional.as_slice() {
        [] => "cert".to_string(),
        [one] => one.clone(),
        more => bail!("expected one output base name, got {}", more.len()),
    };
    let input = read_input(parsed.get("f").unwrap_or("-"))?;
    let outputs = extract(&input, parsed.is_set("bare"))?;
    if parsed.is_set("stdout") {
        let mut stdout = std::io::stdout().lock();
        for output in &outputs {
            stdout
                .write_all(output.contents.as_bytes())
                .context("writing to stdout")?;
        }
        return stdout.flush().context("writing to stdout");
    }
    let files: Vec<OutputFile> = outputs
        .into_iter()
        .map(|o| {
            OutputFile::new(
                PathBuf::from(format!("{base}{}", o.suffix)),
                o.contents,
                o.mode,
            )
        })
        .collect();
    write_all_or_nothing(&files)?;
    Ok(())
}
