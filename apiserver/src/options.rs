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
    /// The key set's URL in `/.well-known/openid-configuration` (default:
    /// `https://<advertised address>/openid/v1/jwks`).
    #[arg(long)]
    pub service_account_jwks_uri: Option<String>,
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

    /// Serve watches and `resourceVersion=0` lists from the watch cache
    /// (one etcd watch per resource); false: every watch is its own etcd
    /// watch and every list reads etcd.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub watch_cache: bool,
    /// Events each resource's watch cache keeps for watches resuming from
    /// a recent resourceVersion (older ones get 410 Gone); 0 disables the
    /// cache for resources without a size in --watch-cache-sizes.
    #[arg(long, default_value_t = crate::storage::cacher::DEFAULT_SIZE)]
    pub default_watch_cache_size: usize,
    /// Per-resource watch cache sizes: `resource[.group]#size`, comma
    /// separated (`pods#5000,deployments.apps#100`; 0 disables one).
    #[arg(long, value_delimiter = ',')]
    pub watch_cache_sizes: Vec<String>,

    /// How long Events are kept (Go duration); etcd deletes them by lease.
    #[arg(long, default_value = "1h0m0s", value_parser = parse_duration)]
    pub event_ttl: std::time::Duration,

    /// audit.k8s.io/v1 Policy file; with --audit-log-path turns auditing on.
    #[arg(long)]
    pub audit_policy_file: Option<PathBuf>,
    /// Where audit events are written, one JSON line each; `-` is stdout.
    #[arg(long)]
    pub audit_log_path: Option<String>,
    /// Days to keep rotated audit logs (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub audit_log_maxage: u64,
    /// Rotated audit logs to keep (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub audit_log_maxbackup: usize,
    /// Size in megabytes at which the audit log rotates (0: 100).
    #[arg(long, default_value_t = 0)]
    pub audit_log_maxsize: u64,
    /// Audit log line format; only upstream's default `json` is supported.
    #[arg(long, default_value = "json", value_parser = ["json"])]
    pub audit_log_format: String,
}

/// A Go duration (`1h0m0s`, `5s`, `1.5h`, `300ms`).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("invalid duration {s:?}");
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut secs = 0f64;
    while !rest.is_empty() {
        let n = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let value: f64 = rest[..n].parse().map_err(|_| bad())?;
        let after = &rest[n..];
        let u = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        secs += value
            * match &after[..u] {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(bad()),
            };
        rest = &after[u..];
    }
    Ok(std::time::Duration::from_secs_f64(secs))
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
    fn audit_and_event_ttl_flags() {
        let o = Options::try_parse_from(base()).expect("valid flags");
        assert_eq!(o.event_ttl, std::time::Duration::from_secs(3600));
        let mut args = base();
        args.extend([
            "--event-ttl=5s",
            "--audit-log-path=-",
            "--audit-log-maxsize=1",
            "--audit-log-maxbackup=3",
        ]);
        let o = Options::try_parse_from(args).expect("valid flags");
        assert_eq!(o.event_ttl, std::time::Duration::from_secs(5));
        assert_eq!(o.audit_log_path.as_deref(), Some("-"));
        assert_eq!((o.audit_log_maxsize, o.audit_log_maxbackup), (1, 3));
        assert_eq!(parse_duration("1h30m").map(|d| d.as_secs()), Ok(5400));
        assert!(parse_duration("5x").is_err());
    }

    #[test]
    fn unknown_flags_are_errors() {
        let mut args = base();
        args.push("--insecure-port=8080");
        assert!(Options::try_parse_from(args).is_err());
    }
}
