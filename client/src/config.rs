//! Connecting to the apiserver: a kubeconfig or in-cluster config into a `kube::Client`.
