//! kube-controller-manager's entry point: flags in, process out.

use clap::Parser;
use controller_manager::options::Options;

fn main() -> anyhow::Result<()> {
    // Before the runtime starts its threads, so they share few arenas.
    controller_manager::memory::limit_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let options = Options::parse();
    controller_manager::memory::spawn_trimmer();
    apimachinery::logging::init(options.common.verbosity);
    if let Err(e) = controller_manager::server::run(options).await {
        tracing::error!(error = format!("{e:#}"), "kube-controller-manager exiting");
        return Err(e);
    }
    Ok(())
}
