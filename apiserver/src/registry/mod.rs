//! The registry: one generic store for every resource plus a small
//! strategy per kind that needs one.

pub mod apply;
pub mod checks;
pub mod convert;
mod create;
pub mod deletion;
pub mod fieldcheck;
pub mod meta;
pub mod namespaces_cache;
pub mod patch;
pub mod selection;
pub mod store;
pub mod strategy;

pub use store::{DeleteOptions, DeleteOutcome, ListOptions, Store};
