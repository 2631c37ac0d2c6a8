//! cfssl-compatible certificate tool for the cluster: `gencert`,
//! `cfssljson`, `certinfo` as cfssl has them, plus `kubeconfig` (what the
//! seed does with four `kubectl config` calls) and `pki` (every certificate,
//! key and kubeconfig of a cluster from one description).
//!
//! Library modules hold the logic and are tested in place; `cli` only
//! parses arguments and does I/O.

pub mod certinfo;
pub mod cfssljson;
pub mod cli;
pub mod clock;
pub mod config;
pub mod der;
pub mod duration;
pub mod files;
pub mod flags;
pub mod issue;
pub mod keys;
pub mod kubeconfig;
pub mod pki;
pub mod request;
pub mod subject;
pub mod usage;
