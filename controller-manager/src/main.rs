//! kube-controller-manager's entry point: flags in, process out.

use clap::Parser;
use controller_manager::options::Options;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    apimachinery::logging::init(options.common.verbosity);
    if let Err(e) = controller_manager::server::run(options).await {
        tracing::error!(error = format!("{e:#}"), "kube-controller-manager exiting");
        return Err(e);
    }
    Ok(())
}
