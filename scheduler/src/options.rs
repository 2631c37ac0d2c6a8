//! kube-scheduler's command line, under upstream's flag names.

use apimachinery::flags::CommonFlags;
use clap::{ArgAction, Parser};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "kube-scheduler",
    about = "Binds pending pods to nodes (filter and score plugins).",
    version
)]
pub struct Options {
    #[command(flatten)]
    pub common: CommonFlags,

    /// A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Take the `kube-system/kube-scheduler` Lease before scheduling.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,

    #[arg(long, default_value = "kube-scheduler")]
    pub leader_elect_resource_name: String,

    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// Port for /healthz and /metrics over HTTPS.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,

    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_flag_spellings() {
        let o = Options::try_parse_from([
            "kube-scheduler",
            "--kubeconfig=/etc/k.kubeconfig",
            "--leader-elect=false",
            "--secure-port=0",
            "--v=2",
        ])
        .unwrap();
        assert!(!o.leader_elect);
        assert_eq!(o.secure_port, 0);
        assert_eq!(o.common.verbosity, 2);
        let o = Options::try_parse_from(["kube-scheduler"]).unwrap();
        assert!(o.leader_elect);
        assert_eq!(o.secure_port, 10259);
        let o = Options::try_parse_from(["kube-scheduler", "--leader-elect"]).unwrap();
        assert!(o.leader_elect);
    }
}
