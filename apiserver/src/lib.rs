//! kube-apiserver: the etcd-backed Kubernetes REST API.

pub mod printers;
pub mod rbac;
pub mod validation;
