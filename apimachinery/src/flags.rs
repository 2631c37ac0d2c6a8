//! Flags that every daemon accepts, under upstream's names.

use clap::Args;
use std::path::PathBuf;

/// `-v/--v` and `--kubeconfig`, flattened into each daemon's own flags.
#[derive(Debug, Clone, Args)]
pub struct CommonFlags {
    /// Log verbosity, as klog's `-v`: 0-1 info, 2-4 debug, 5 and up trace.
    #[arg(short = 'v', long = "v", default_value_t = 0, value_name = "LEVEL")]
    pub verbosity: u8,

    /// Path to a kubeconfig file with the daemon's own identity and the
    /// apiserver's address.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Daemon {
        #[command(flatten)]
        common: CommonFlags,
    }

    #[test]
    fn upstream_spellings_parse() {
        let d = Daemon::try_parse_from(["d", "--v=4", "--kubeconfig", "/etc/k.conf"]).unwrap();
        assert_eq!(d.common.verbosity, 4);
        assert_eq!(
            d.common.kubeconfig.as_deref(),
            Some(std::path::Path::new("/etc/k.conf"))
        );
        let d = Daemon::try_parse_from(["d", "-v", "2"]).unwrap();
        assert_eq!(d.common.verbosity, 2);
        let d = Daemon::try_parse_from(["d", "-v=3"]).unwrap();
        assert_eq!(d.common.verbosity, 3);
        assert!(Daemon::try_parse_from(["d", "--v=loud"]).is_err());
    }
}
