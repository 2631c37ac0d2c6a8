//! The `certs` binary. Multi-call: installed (or symlinked) as `cfssl`,
//! `cfssljson`, `cfssl-json` or `cfssl-certinfo` it behaves as that tool.

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    std::process::exit(certs::cli::run(argv));
}
