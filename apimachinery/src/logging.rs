//! Logging for daemons: tracing-subscriber to stderr, verbosity from `-v`.

use tracing_subscriber::EnvFilter;

/// The tracing level a klog-style verbosity stands for.
pub fn level_for(verbosity: u8) -> tracing::Level {
    match verbosity {
        0 | 1 => tracing::Level::INFO,
        2..=4 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `-v`.
/// Calling it twice is harmless (the second call changes nothing).
pub fn init(verbosity: u8) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level_for(verbosity).as_str().to_ascii_lowercase()));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_maps_like_klog() {
        assert_eq!(level_for(0), tracing::Level::INFO);
        assert_eq!(level_for(2), tracing::Level::DEBUG);
        assert_eq!(level_for(6), tracing::Level::TRACE);
    }
}
