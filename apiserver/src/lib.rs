//! kube-apiserver: the etcd-backed Kubernetes REST API.

pub mod defaults;
pub mod validation;
