//! Scheduling rules several daemons evaluate: taints and tolerations, node selectors and affinity, pod resource requests.
