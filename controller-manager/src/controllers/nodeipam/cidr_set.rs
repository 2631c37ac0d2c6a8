//! The pool of node pod CIDRs carved out of `--cluster-cidr`: a cluster
//! CIDR split into subnets of `--node-cidr-mask-size`, handed out lowest
//! first and given back when the node goes.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use thiserror::Error;

/// Upstream refuses clusters split into more than 2^16 node subnets.
const MAX_SUBNET_BITS: u8 = 16;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CidrError {
    #[error("invalid CIDR address: {0}")]
    Parse(String),
    #[error(
        "node CIDR mask size {mask} must be longer than the cluster CIDR prefix {prefix} and at most {max}"
    )]
    MaskSize { mask: u8, prefix: u8, max: u8 },
    #[error(
        "the cluster CIDR {cidr} split in /{mask} subnets gives more than 2^{MAX_SUBNET_BITS} of them"
    )]
    TooManySubnets { cidr: String, mask: u8 },
    #[error(
        "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
    )]
    Full,
    #[error("CIDR {0} is outside the cluster CIDR or not aligned to the node mask size")]
    Outside(String),
}

/// An IP network: address (host bits zero) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    fn bits(&self) -> u8 {
        if self.addr.is_ipv4() { 32 } else { 128 }
    }

    fn as_u128(&self) -> u128 {
        match self.addr {
            IpAddr::V4(a) => u32::from(a) as u128,
            IpAddr::V6(a) => u128::from(a),
        }
    }
}

impl FromStr for Cidr {
    type Err = CidrError;
    fn from_str(s: &str) -> Result<Self, CidrError> {
        let bad = || CidrError::Parse(s.to_string());
        let (a, p) = s.trim().split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = a.parse().map_err(|_| bad())?;
        let prefix: u8 = p.parse().map_err(|_| bad())?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > width {
            return Err(bad());
        }
        let c = Cidr { addr, prefix };
        // Keep only the network bits, as Go's net.ParseCIDR does.
        Ok(Cidr {
            addr: from_u128(addr.is_ipv4(), c.as_u128() & mask(prefix, width)),
            prefix,
        })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let all = if width == 32 {
        u32::MAX as u128
    } else {
        u128::MAX
    };
    all & !(all >> prefix)
}

fn from_u128(v4: bool, v: u128) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

/// Node subnets of one cluster CIDR and which of them are taken.
#[derive(Debug, Clone)]
pub struct CidrSet {
    cluster: Cidr,
    node_mask: u8,
    count: u32,
    used: BTreeSet<u32>,
}

impl CidrSet {
    pub fn new(cluster: Cidr, node_mask: u8) -> Result<CidrSet, CidrError> {
        let width = cluster.bits();
        if node_mask <= cluster.prefix || node_mask > width {
            return Err(CidrError::MaskSize {
                mask: node_mask,
                prefix: cluster.prefix,
                max: width,
            });
        }
        let bits = node_mask - cluster.prefix;
        if bits > MAX_SUBNET_BITS {
            return Err(CidrError::TooManySubnets {
                cidr: cluster.to_string(),
                mask: node_mask,
            });
        }
        Ok(CidrSet {
            cluster,
            node_mask,
            count: 1 << bits,
            used: BTreeSet::new(),
        })
    }

    fn subnet(&self, index: u32) -> Cidr {
        let step = 1u128 << (self.cluster.bits() - self.node_mask);
        let base = self.cluster.as_u128() + step * index as u128;
        Cidr {
            addr: from_u128(self.cluster.addr.is_ipv4(), base),
            prefix: self.node_mask,
        }
    }

    fn index_of(&self, c: &Cidr) -> Result<u32, CidrError> {
        let outside = || CidrError::Outside(c.to_string());
        if c.addr.is_ipv4() != self.cluster.addr.is_ipv4() || c.prefix != self.node_mask {
            return Err(outside());
        }
        let width = self.cluster.bits();
        if c.as_u128() & mask(self.cluster.prefix, width) != self.cluster.as_u128() {
            return Err(outside());
        }
        let offset = (c.as_u128() - self.cluster.as_u128()) >> (width - self.node_mask);
        u32::try_from(offset).map_err(|_| outside())
    }

    /// Hands out the lowest free subnet.
    pub fn allocate_next(&mut self) -> Result<Cidr, CidrError> {
        let index = (0..self.count)
            .find(|i| !self.used.contains(i))
            .ok_or(CidrError::Full)?;
        self.used.insert(index);
        Ok(self.subnet(index))
    }

    /// Marks a subnet as taken (a node that already has a podCIDR).
    pub fn occupy(&mut self, c: &Cidr) -> Result<(), CidrError> {
        let i = self.index_of(c)?;
        self.used.insert(i);
        Ok(())
    }

    /// Gives a subnet back.
    pub fn release(&mut self, c: &Cidr) -> Result<(), CidrError> {
        let i = self.index_of(c)?;
        self.used.remove(&i);
        Ok(())
    }

    pub fn is_ipv4(&self) -> bool {
        self.cluster.addr.is_ipv4()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().expect("cidr")
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(cidr("172.7.3.9/16").to_string(), "172.7.0.0/16");
        assert_eq!(cidr("fd00::1/64").to_string(), "fd00::/64");
        assert!("172.7.0.0".parse::<Cidr>().is_err());
        assert!("172.7.0.0/33".parse::<Cidr>().is_err());
    }

    #[test]
    fn allocates_lowest_first_and_reuses_released() {
        let mut s = CidrSet::new(cidr("172.7.0.0/16"), 24).expect("set");
        assert_eq!(s.allocate_next().expect("a").to_string(), "172.7.0.0/24");
        assert_eq!(s.allocate_next().expect("b").to_string(), "172.7.1.0/24");
        s.occupy(&cidr("172.7.2.0/24")).expect("occupy");
        assert_eq!(s.allocate_next().expect("c").to_string(), "172.7.3.0/24");
        s.release(&cidr("172.7.1.0/24")).expect("release");
        assert_eq!(s.allocate_next().expect("d").to_string(), "172.7.1.0/24");
    }

    #[test]
    fn runs_out() {
        let mut s = CidrSet::new(cidr("10.0.0.0/30"), 31).expect("set");
        assert_eq!(s.allocate_next().expect("a").to_string(), "10.0.0.0/31");
        assert_eq!(s.allocate_next().expect("b").to_string(), "10.0.0.2/31");
        assert_eq!(s.allocate_next(), Err(CidrError::Full));
    }

    #[test]
    fn ipv6() {
        let mut s = CidrSet::new(cidr("fd00::/48"), 64).expect("set");
        s.allocate_next().expect("a");
        assert_eq!(s.allocate_next().expect("b").to_string(), "fd00:0:0:1::/64");
    }

    #[test]
    fn rejects_bad_masks_and_foreign_cidrs() {
        assert!(matches!(
            CidrSet::new(cidr("172.7.0.0/16"), 16),
            Err(CidrError::MaskSize { .. })
        ));
        assert!(matches!(
            CidrSet::new(cidr("10.0.0.0/8"), 30),
            Err(CidrError::TooManySubnets { .. })
        ));
        let mut s = CidrSet::new(cidr("172.7.0.0/16"), 24).expect("set");
        assert!(s.occupy(&cidr("10.1.0.0/24")).is_err());
        assert!(s.occupy(&cidr("172.7.0.0/25")).is_err());
    }
}
