//! kube-scheduler's command line, under upstream's flag names.

use apimachinery::flags::{CommonFlags, parse_duration};
use clap::{ArgAction, Parser};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "kube-scheduler",
    about = "Binds pending pods to nodes (filter and score plugins).",
    version
)]
pub struct Options {
    #[command(flatten)]
    pub common: CommonFlags,
    #[command(flatten)]
    pub master: client::config::MasterFlag,

    /// A KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Take the `kube-system/kube-scheduler` Lease before scheduling.
    #[arg(long, default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,

    /// How long candidates wait after they last saw the Lease change
    /// before taking it over.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,
    /// How long the leader keeps trying to renew before it stops.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Duration,
    /// How often the leader renews and candidates retry.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: Duration,

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
            "--master=https://10.4.7.21:6443",
            "--leader-elect-lease-duration=4s",
            "--leader-elect-renew-deadline=3s",
            "--leader-elect-retry-period=500ms",
        ])
        .unwrap();
        assert!(!o.leader_elect);
        assert_eq!(o.master.master.as_deref(), Some("https://10.4.7.21:6443"));
        assert_eq!(o.leader_elect_lease_duration, Duration::from_secs(4));
        assert_eq!(o.leader_elect_renew_deadline, Duration::from_secs(3));
        assert_eq!(o.leader_elect_retry_period, Duration::from_millis(500));
        assert_eq!(o.secure_port, 0);
        assert_eq!(o.common.verbosity, 2);
        let o = Options::try_parse_from(["kube-scheduler"]).unwrap();
        assert!(o.leader_elect);
        assert_eq!(o.leader_elect_lease_duration, Duration::from_secs(15));
        assert_eq!(o.secure_port, 10259);
        let o = Options::try_parse_from(["kube-scheduler", "--leader-elect"]).unwrap();
        assert!(o.leader_elect);
    }
}
