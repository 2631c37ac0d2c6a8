//! Shared library for the daemons.

pub mod fields;
pub mod labels;
