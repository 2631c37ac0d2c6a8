//! kube-controller-manager's entry point: flags in, process out.

use clap::Parser;
use controller_manager::options::Options;

/// mimalloc instead of glibc's malloc: the caches churn (every relist and
/// rollout replaces thousands of objects) and glibc keeps the freed pages
/// in per-thread arenas, so resident memory only ever grew; mimalloc
/// purges freed pages back to the OS shortly after they empty.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
