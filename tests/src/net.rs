//! Loopback ports for the servers a test starts.

use std::net::TcpListener;

/// A currently free port on 127.0.0.1. The port is released before the
/// server binds it, so two tests could race for it; the kernel hands out
/// ephemeral ports in sequence, which makes that rare.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
