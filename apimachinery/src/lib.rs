//! What several daemons of the cluster share: kubeconfig and TLS setup,
//! the flags every daemon takes, logging, and the health/metrics server.
//!
//! Nothing here talks to etcd: only kube-apiserver does.

pub mod flags;
pub mod health;
pub mod kubeconfig;
pub mod logging;
pub mod tls;
