//! The controllers, one module each, and the table `--controllers` picks
//! from. Each entry is upstream's controller name and a function starting
//! the controller; it runs until the process stops.
//!
//! Keep `CONTROLLERS` one line per controller, workload controllers in the
//! first block and cluster controllers in the second, so branches adding
//! controllers merge without conflicts.

use crate::Context;
use futures::future::BoxFuture;

pub mod expectations;
pub mod pod_ownership;
pub mod podutil;
pub mod runtime;
pub mod selection;

// Workload controllers (branch cm-workloads).
pub mod daemonset;
pub mod deployment;
pub mod disruption;
pub mod replicaset;
pub mod statefulset;

// Cluster controllers (branch cm-cluster).
pub mod clusterrole_aggregation;
pub mod cronjob;
pub mod csr_signing;
pub mod endpoints;
pub mod endpointslice;
pub mod garbage_collector;
pub mod job;
pub mod namespace;
pub mod node_lifecycle;
pub mod nodeipam;
pub mod pod_gc;
pub mod pv_binder;
pub mod pv_protection;
pub mod pvc_protection;
pub mod reflected;
pub mod resourcequota;
pub mod root_ca_cert_publisher;
pub mod serviceaccount;
pub mod serviceaccount_token;
pub mod ttl_after_finished;

pub use runtime::{requeue_on_error, run_controller};
pub use selection::{UnknownController, enabled_controllers};

/// Starts one controller; resolves only when the controller stops.
pub type StartFn = fn(Context) -> BoxFuture<'static, anyhow::Result<()>>;

/// Every controller, under upstream's name (see `selection` for aliases).
pub static CONTROLLERS: &[(&str, StartFn)] = &[
    // Workload controllers (branch cm-workloads).
    ("deployment", |c| Box::pin(deployment::run(c))),
    ("replicaset", |c| Box::pin(replicaset::run(c))),
    ("replicationcontroller", |c| Box::pin(replicaset::run_rc(c))),
    ("statefulset", |c| Box::pin(statefulset::run(c))),
    ("daemonset", |c| Box::pin(daemonset::run(c))),
    ("disruption", |c| Box::pin(disruption::run(c))),
    // Cluster controllers (branch cm-cluster).
    ("endpoints", |ctx| Box::pin(endpoints::run(ctx))),
    ("endpointslice", |ctx| Box::pin(endpointslice::run(ctx))),
    ("endpointslice-mirroring", |ctx| {
        Box::pin(endpointslice::mirroring::run(ctx))
    }),
    ("namespace", |ctx| Box::pin(namespace::run(ctx))),
    ("serviceaccount", |ctx| Box::pin(serviceaccount::run(ctx))),
    ("root-ca-cert-publisher", |ctx| {
        Box::pin(root_ca_cert_publisher::run(ctx))
    }),
    ("serviceaccount-token", |ctx| {
        Box::pin(serviceaccount_token::run(ctx))
    }),
    ("node-ipam", |ctx| Box::pin(nodeipam::run(ctx))),
    ("garbage-collector", |ctx| {
        Box::pin(garbage_collector::run(ctx))
    }),
    ("job", |ctx| Box::pin(job::run(ctx))),
    ("cronjob", |ctx| Box::pin(cronjob::run(ctx))),
    ("ttl-after-finished", |ctx| {
        Box::pin(ttl_after_finished::run(ctx))
    }),
    ("node-lifecycle", |ctx| Box::pin(node_lifecycle::run(ctx))),
    ("pod-garbage-collector", |ctx| Box::pin(pod_gc::run(ctx))),
    ("persistentvolume-binder", |ctx| {
        Box::pin(pv_binder::run(ctx))
    }),
    ("pv-protection", |ctx| Box::pin(pv_protection::run(ctx))),
    ("pvc-protection", |ctx| Box::pin(pvc_protection::run(ctx))),
    ("clusterrole-aggregation", |ctx| {
        Box::pin(clusterrole_aggregation::run(ctx))
    }),
    ("resourcequota", |ctx| Box::pin(resourcequota::run(ctx))),
    ("csrsigning", |ctx| Box::pin(csr_signing::run(ctx))),
];
