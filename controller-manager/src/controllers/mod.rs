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
];
