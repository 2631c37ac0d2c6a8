//! kube-apiserver's flags, under upstream's names. Unknown flags are an
//! error (nothing is silently ignored).

use clap::Parser;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "kube-apiserver",
    about = "The Kubernetes API server: REST API over HTTPS, state in etcd over mutual TLS."
)]
pub struct Options {
    #[command(flatten)]
    pub common: apimachinery::flags::CommonFlags,

    /// Port to serve HTTPS on.
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,
    /// Address advertised to clients (defaults to the bind address, or
    /// 127.0.0.1 when binding to all).
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,
    /// Serving certificate (PEM, may include intermediates).
    #[arg(long)]
    pub tls_cert_file: PathBuf,
    /// Serving private key (PEM).
    #[arg(long)]
    pub tls_private_key_file: PathBuf,
    /// CA that signs client certificates (CN = user, O = groups).
    #[arg(long)]
    pub client_ca_file: Option<PathBuf>,

    /// etcd endpoints, comma separated (https://127.0.0.1:2379,...).
    #[arg(long, value_delimiter = ',', required = true)]
    pub etcd_servers: Vec<String>,
    /// CA that signs etcd's serving certificate.
    #[arg(long)]
    pub etcd_cafile: PathBuf,
    /// Client certificate for etcd.
    #[arg(long)]
    pub etcd_certfile: PathBuf,
    /// Client key for etcd.
    #[arg(long)]
    pub etcd_keyfile: PathBuf,
    /// Key prefix of every object in etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// CIDR the Service cluster IPs come from.
    #[arg(long, default_value = "10.0.0.0/24")]
    pub service_cluster_ip_range: String,
    /// Port range NodePorts come from (`30000-32767`).
    #[arg(long, default_value = "30000-32767")]
    pub service_node_port_range: String,

    /// Ordered authorizers: Node, RBAC, AlwaysAllow, AlwaysDeny.
    #[arg(long, default_value = "Node,RBAC")]
    pub authorization_mode: String,
    /// Allow requests without credentials (as `system:anonymous`; they
    /// only reach the health and version endpoints).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub anonymous_auth: bool,
    /// Static bearer tokens: `token,user,uid,"group1,group2"` per line.
    #[arg(long)]
    pub token_auth_file: Option<PathBuf>,

    /// Public keys that verify ServiceAccount tokens.
    #[arg(long)]
    pub service_account_key_file: Vec<PathBuf>,
    /// Private key that signs ServiceAccount tokens.
    #[arg(long)]
    pub service_account_signing_key_file: Option<PathBuf>,
    /// `iss` of issued ServiceAccount tokens.
    #[arg(long)]
    pub service_account_issuer: Option<String>,
    /// Client certificate used to reach kubelets (logs, exec).
    #[arg(long)]
    pub kubelet_client_certificate: Option<PathBuf>,
    /// Client key used to reach kubelets.
    #[arg(long)]
    pub kubelet_client_key: Option<PathBuf>,

    /// Admission plugins to turn on besides the default ones (any order;
    /// they always run in upstream's order).
    #[arg(long, value_delimiter = ',')]
    pub enable_admission_plugins: Vec<String>,
    /// Admission plugins to turn off, default ones included.
    #[arg(long, value_delimiter = ',')]
    pub disable_admission_plugins: Vec<String>,

    /// Deadline for one etcd call, in seconds; past it requests get 504.
    #[arg(long, default_value_t = 3)]
    pub etcd_request_timeout_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<&'static str> {
        vec![
            "kube-apiserver",
            "--etcd-servers=https://127.0.0.1:2379,https://127.0.0.2:2379",
            "--etcd-cafile=/ca.pem",
            "--etcd-certfile=/c.pem",
            "--etcd-keyfile=/k.pem",
            "--tls-cert-file=/s.pem",
            "--tls-private-key-file=/s-key.pem",
        ]
    }

    #[test]
    fn upstream_flags_parse() {
        let mut args = base();
        args.extend([
            "--secure-port=7443",
            "--authorization-mode=RBAC",
            "--anonymous-auth=false",
            "--v=2",
            "--enable-admission-plugins=NodeRestriction,ResourceQuota",
            "--disable-admission-plugins=PodSecurity",
        ]);
        let o = Options::try_parse_from(args).expect("valid flags");
        assert_eq!(o.etcd_servers.len(), 2);
        assert_eq!(o.secure_port, 7443);
        assert!(!o.anonymous_auth);
        assert_eq!(o.etcd_prefix, "/registry");
        assert_eq!(o.common.verbosity, 2);
        assert_eq!(
            o.enable_admission_plugins,
            ["NodeRestriction", "ResourceQuota"]
        );
        assert_eq!(o.disable_admission_plugins, ["PodSecurity"]);
    }

    #[test]
    fn unknown_flags_are_errors() {
        let mut args = base();
        args.push("--insecure-port=8080");
        assert!(Options::try_parse_from(args).is_err());
    }
}
