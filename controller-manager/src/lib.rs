//! kube-controller-manager: the control loops that make the cluster's
//! observed state converge on what its objects ask for. Each controller is
//! a reconcile function on kube-runtime (see `controllers/`); the process
//! around them (flags, leader election, health server, event recorder)
//! lives in the other modules.

pub mod compact;
pub mod context;
pub mod controllers;
pub mod error;
pub mod events;
pub mod informers;
pub mod memory;
pub mod metrics;
pub mod options;
pub mod server;

pub use context::Context;
pub use error::{Error, Result};
