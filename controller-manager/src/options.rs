//! Command-line flags, under upstream kube-controller-manager's names so an
//! operator's start lines carry over.

use apimachinery::flags::CommonFlags;
use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use apimachinery::flags::parse_duration;

/// kube-controller-manager's flags.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-controller-manager",
    about = "The Kubernetes controller manager: runs the core control loops against the apiserver."
)]
pub struct Options {
    #[command(flatten)]
    pub common: CommonFlags,
    #[command(flatten)]
    pub master: client::config::MasterFlag,

    /// The address the /healthz and /metrics server listens on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// HTTPS port for /healthz and /metrics; 0 disables serving.
    #[arg(long, default_value_t = 10257)]
    pub secure_port: u16,

    /// Serving certificate for /healthz and /metrics; self-signed when unset.
    #[arg(long)]
    pub tls_cert_file: Option<PathBuf>,
    #[arg(long)]
    pub tls_private_key_file: Option<PathBuf>,

    /// Controllers to enable: `*` for all on by default, `name` to enable,
    /// `-name` to disable.
    #[arg(long, value_delimiter = ',', default_value = "*")]
    pub controllers: Vec<String>,

    /// Elect a leader through a coordination.k8s.io Lease before running
    /// the controllers, so several replicas can run for availability.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: bool,
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub leader_elect_lease_duration: Duration,
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub leader_elect_renew_deadline: Duration,
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    pub leader_elect_retry_period: Duration,
    #[arg(long, default_value = "kube-controller-manager")]
    pub leader_elect_resource_name: String,
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// CIDR range for pods in the cluster (nodeipam carves podCIDRs from it).
    #[arg(long)]
    pub cluster_cidr: Option<String>,
    /// Give each node a podCIDR from `--cluster-cidr`.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allocate_node_cidrs: bool,
    /// Prefix length of each node's podCIDR (IPv4 default 24).
    #[arg(long, default_value_t = 24)]
    pub node_cidr_mask_size: u8,
    /// The Service ClusterIP range (kept from upstream's flag set).
    #[arg(long)]
    pub service_cluster_ip_range: Option<String>,
    /// PEM private key that signs service account tokens.
    #[arg(long)]
    pub service_account_private_key_file: Option<PathBuf>,
    /// Root CA bundle published as `ca.crt` in token Secrets and `kube-root-ca.crt`.
    #[arg(long)]
    pub root_ca_file: Option<PathBuf>,
    /// CA certificate the csrsigning controller issues certificates with.
    #[arg(long)]
    pub cluster_signing_cert_file: Option<PathBuf>,
    /// Private key of that CA.
    #[arg(long)]
    pub cluster_signing_key_file: Option<PathBuf>,
    /// Longest lifetime of an issued certificate.
    #[arg(long, default_value = "8760h0m0s", value_parser = parse_duration)]
    pub cluster_signing_duration: Duration,
    /// How long a node may stay silent before it is marked NotReady/Unknown.
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    pub node_monitor_grace_period: Duration,
    /// How often node health is checked.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub node_monitor_period: Duration,
    /// How long a starting node may take before it is considered unhealthy.
    #[arg(long, default_value = "1m0s", value_parser = parse_duration)]
    pub node_startup_grace_period: Duration,
    /// Terminated pods kept before pod-gc deletes the oldest; 0 keeps all.
    #[arg(long, default_value_t = 12500)]
    pub terminated_pod_gc_threshold: i64,

    #[arg(long, default_value_t = 5)]
    pub concurrent_deployment_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_replicaset_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_rc_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_statefulset_syncs: u16,
    #[arg(long, default_value_t = 2)]
    pub concurrent_daemonset_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_endpoint_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_service_endpoint_syncs: u16,
    #[arg(long, default_value_t = 10)]
    pub concurrent_namespace_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_serviceaccount_token_syncs: u16,
    #[arg(long, default_value_t = 20)]
    pub concurrent_gc_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_job_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_cron_job_syncs: u16,
    #[arg(long, default_value_t = 5)]
    pub concurrent_ttl_after_finished_syncs: u16,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_flags_parse() {
        let o = Options::try_parse_from([
            "kube-controller-manager",
            "--kubeconfig=/etc/kubernetes/kcm.kubeconfig",
            "--leader-elect=false",
            "--controllers=*,-nodeipam",
            "--cluster-cidr=172.7.0.0/16",
            "--allocate-node-cidrs",
            "--node-monitor-grace-period=20s",
            "--concurrent-deployment-syncs=10",
            "--secure-port=0",
            "--master=https://10.4.7.21:6443",
        ])
        .unwrap();
        assert!(!o.leader_elect);
        assert_eq!(o.master.master.as_deref(), Some("https://10.4.7.21:6443"));
        assert_eq!(o.controllers, vec!["*", "-nodeipam"]);
        assert!(o.allocate_node_cidrs);
        assert_eq!(o.cluster_cidr.as_deref(), Some("172.7.0.0/16"));
        assert_eq!(o.node_monitor_grace_period, Duration::from_secs(20));
        assert_eq!(o.concurrent_deployment_syncs, 10);
        assert_eq!(o.secure_port, 0);
        let d = Options::try_parse_from(["kube-controller-manager"]).unwrap();
        assert!(d.leader_elect);
        assert_eq!(d.secure_port, 10257);
        assert_eq!(d.leader_elect_lease_duration, Duration::from_secs(15));
        assert_eq!(d.node_cidr_mask_size, 24);
    }
}
