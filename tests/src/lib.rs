//! Test harness: finds the workspace's binaries, writes a cluster PKI with
//! `certs pki`, and runs real etcd (mutual TLS) and the daemons as child
//! processes that are killed when the test ends, pass or fail.

pub mod apiserver;
pub mod bins;
pub mod client;
pub mod controller_manager;
pub mod etcd;
pub mod hollow;
pub mod net;
pub mod pki;
pub mod process;
pub mod scheduler;
