//! What several daemons of the cluster share: kubeconfig and TLS setup,
//! the flags every daemon takes, logging, the health/metrics server, and
//! label/field selectors.
//!
//! Nothing here talks to etcd: only kube-apiserver does.

pub mod fields;
pub mod flags;
pub mod health;
pub mod kubeconfig;
pub mod labels;
pub mod logging;
pub mod quantity;
pub mod quota_scopes;
pub mod quota_usage;
pub mod tls;
