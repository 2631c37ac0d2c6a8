//! Which certificates and kubeconfigs a cluster needs, derived from its
//! description. File names here are a contract: other crates and scripts
//! read `DIR/<base>.pem`, `DIR/<base>-key.pem` and `DIR/<user>.kubeconfig`.

use super::cluster::{ClusterDescription, ClusterError};

/// Signing profiles written to `ca-config.json`, as in the seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Server,
    Client,
    Peer,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Server => "server",
            Profile::Client => "client",
            Profile::Peer => "peer",
        }
    }

    pub fn usages(self) -> &'static [&'static str] {
        match self {
            Profile::Server => &["signing", "key encipherment", "server auth"],
            Profile::Client => &["signing", "key encipherment", "client auth"],
            Profile::Peer => &["signing", "key encipherment", "server auth", "client auth"],
        }
    }

    pub const ALL: [Profile; 3] = [Profile::Server, Profile::Client, Profile::Peer];
}

/// One leaf certificate: `<base>.pem` and `<base>-key.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafSpec {
    pub base: String,
    pub common_name: String,
    /// Replaces the description's `O` when set: the identity's group.
    pub organization: Option<String>,
    pub hosts: Vec<String>,
    pub profile: Profile,
}

/// One kubeconfig: `<user>.kubeconfig` with user `<user>`, context
/// `<user>-context`, credentials from `<user>.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigPlan {
    pub user: String,
}

impl KubeconfigPlan {
    pub fn file_name(&self) -> String {
        format!("{}.kubeconfig", self.user)
    }

    pub fn context(&self) -> String {
        format!("{}-context", self.user)
    }
}

fn leaf(base: &str, cn: &str, org: Option<&str>, hosts: Vec<String>, profile: Profile) -> LeafSpec {
    LeafSpec {
        base: base.to_string(),
        common_name: cn.to_string(),
        organization: org.map(str::to_string),
        hosts,
        profile,
    }
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for item in list {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Every leaf certificate of the cluster, in the order they are written.
pub fn leaf_specs(desc: &ClusterDescription) -> Result<Vec<LeafSpec>, ClusterError> {
    let mut etcd_hosts = vec!["127.0.0.1".to_string(), "localhost".to_string()];
    etcd_hosts.extend(desc.etcd_members().iter().map(|m| m.ip.to_string()));
    let etcd_hosts = dedup(etcd_hosts);

    let mut apiserver_hosts = vec![
        "127.0.0.1".to_string(),
        desc.first_service_ip()?.to_string(),
        desc.apiserver.ip.to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
        "kubernetes.default.svc.cluster.local".to_string(),
        "localhost".to_string(),
    ];
    apiserver_hosts.extend(desc.apiserver.hostname.clone());
    let apiserver_hosts = dedup(apiserver_hosts);

    use Profile::{Client, Peer, Server};
    let mut specs = vec![
        leaf(
            "etcd-server",
            "etcd-server",
            None,
            etcd_hosts.clone(),
            Server,
        ),
        leaf("etcd-peer", "etcd-peer", None, etcd_hosts, Peer),
        leaf("etcd-client", "etcd-client", None, vec![], Client),
        leaf("apiserver", "kube-apiserver", None, apiserver_hosts, Server),
        leaf(
            "apiserver-etcd-client",
            "kube-apiserver-etcd-client",
            None,
            vec![],
            Client,
        ),
        leaf(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            Some("system:masters"),
            vec![],
            Client,
        ),
        leaf("admin", "admin", Some("system:masters"), vec![], Client),
        leaf(
            "kube-controller-manager",
            "system:kube-controller-manager",
            None,
            vec![],
            Client,
        ),
        leaf(
            "kube-scheduler",
            "system:kube-scheduler",
            None,
            vec![],
            Client,
        ),
        leaf("kube-proxy", "system:kube-proxy", None, vec![], Client),
        leaf("flanneld", "flanneld", None, vec![], Client),
    ];
    for node in &desc.nodes {
        let cn = format!("system:node:{}", node.name);
        specs.push(leaf(
            &format!("kubelet-{}", node.name),
            &cn,
            Some("system:nodes"),
            vec![],
            Client,
        ));
        specs.push(leaf(
            &format!("kubelet-{}-server", node.name),
            &cn,
            Some("system:nodes"),
            dedup(vec![node.name.clone(), node.ip.to_string()]),
            Server,
        ));
    }
    Ok(specs)
}

/// Every kubeconfig of the cluster.
pub fn kubeconfigs(desc: &ClusterDescription) -> Vec<KubeconfigPlan> {
    let mut users: Vec<String> = [
        "admin",
        "kube-controller-manager",
        "kube-scheduler",
        "kube-proxy",
        "flanneld",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    users.extend(desc.nodes.iter().map(|n| format!("kubelet-{}", n.name)));
    users
        .into_iter()
        .map(|user| KubeconfigPlan { user })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc() -> ClusterDescription {
        ClusterDescription::from_json(
            br#"{"clusterName":"myk8s",
                 "apiserver":{"ip":"10.4.7.21","hostname":"hdss7-21"},
                 "etcd":[{"name":"etcd-7-21","ip":"10.4.7.21"},{"name":"etcd-7-22","ip":"10.4.7.22"}],
                 "nodes":[{"name":"hdss7-21","ip":"10.4.7.21"}],
                 "serviceClusterIPRange":"192.168.0.0/16"}"#,
        )
        .unwrap()
    }

    fn find<'a>(specs: &'a [LeafSpec], base: &str) -> &'a LeafSpec {
        specs.iter().find(|s| s.base == base).unwrap()
    }

    #[test]
    fn apiserver_sans() {
        let specs = leaf_specs(&desc()).unwrap();
        let api = find(&specs, "apiserver");
        assert_eq!(api.common_name, "kube-apiserver");
        assert_eq!(
            api.hosts,
            vec![
                "127.0.0.1",
                "192.168.0.1",
                "10.4.7.21",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "localhost",
                "hdss7-21"
            ]
        );
    }

    #[test]
    fn etcd_and_identities() {
        let specs = leaf_specs(&desc()).unwrap();
        assert_eq!(
            find(&specs, "etcd-peer").hosts,
            vec!["127.0.0.1", "localhost", "10.4.7.21", "10.4.7.22"]
        );
        assert_eq!(find(&specs, "etcd-peer").profile, Profile::Peer);
        let admin = find(&specs, "admin");
        assert_eq!(admin.organization.as_deref(), Some("system:masters"));
        let kubelet = find(&specs, "kubelet-hdss7-21");
        assert_eq!(kubelet.common_name, "system:node:hdss7-21");
        assert_eq!(kubelet.organization.as_deref(), Some("system:nodes"));
        let serving = find(&specs, "kubelet-hdss7-21-server");
        assert_eq!(serving.hosts, vec!["hdss7-21", "10.4.7.21"]);
        assert_eq!(serving.profile, Profile::Server);
        assert_eq!(specs.len(), 13);
        let names: Vec<String> = kubeconfigs(&desc()).iter().map(|k| k.file_name()).collect();
        assert_eq!(
            names.last().map(String::as_str),
            Some("kubelet-hdss7-21.kubeconfig")
        );
        assert_eq!(names.len(), 6);
    }
}
