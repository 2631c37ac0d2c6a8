//! kube-apiserver: parse flags, connect to etcd, bootstrap, serve HTTPS.

use apiserver::options::Options;
use clap::Parser;

fn main() -> anyhow::Result<()> {
    let opts = Options::parse();
    apimachinery::logging::init(opts.common.verbosity);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(apiserver::run(opts))
}
