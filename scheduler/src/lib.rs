//! kube-scheduler: watches unscheduled pods and binds each to a node
//! chosen by filter and score plugins (upstream's framework), talking only
//! to the apiserver with its own client certificate.
//!
//! Start reading at [`scheduler`] (the loop), then [`schedule`] (one
//! attempt), [`framework`] (the plugin interface) and [`plugins`].

pub mod api;
pub mod cache;
pub mod config;
pub mod framework;
pub mod informers;
pub mod metrics;
pub mod options;
pub mod plugins;
pub mod preemption;
pub mod profile;
pub mod queue;
pub mod schedule;
pub mod scheduler;
