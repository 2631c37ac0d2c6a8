//! kube-apiserver: the etcd-backed Kubernetes REST API.

pub mod rbac;
pub mod validation;
