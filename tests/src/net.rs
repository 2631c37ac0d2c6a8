//! Loopback ports for the servers a test starts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ports handed out here lie below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`, 32768-60999 by default). A port taken
/// from the ephemeral range and released until the server binds it can be
/// taken meanwhile as the local port of any outgoing connection (kubectl,
/// curl, the daemons' clients), which made a daemon fail with "address in
/// use" about once per CI run. Below that range only another test's pick
/// can collide, and the picks are random.
const FIRST: u16 = 10_000;
const LAST: u16 = 32_000;

/// A currently free port on 127.0.0.1, below the ephemeral range.
pub fn free_port() -> u16 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let seed = RandomState::new();
    for _ in 0..1_000 {
        let mut h = seed.build_hasher();
        h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
        h.write_u32(std::process::id());
        let port = FIRST + (h.finish() % u64::from(LAST - FIRST)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {FIRST}-{LAST}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_and_outside_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        for p in &ports {
            assert!((FIRST..LAST).contains(p), "{p}");
            assert!(TcpListener::bind(("127.0.0.1", *p)).is_ok(), "{p} is free");
        }
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert!(distinct.len() > 40, "random picks: {ports:?}");
    }
}
