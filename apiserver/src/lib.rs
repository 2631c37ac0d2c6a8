//! kube-apiserver: the etcd-backed Kubernetes REST API.

pub mod validation;
