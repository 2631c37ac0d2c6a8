//! Pure allocation logic: a bitmap over a range of offsets (IPs of a CIDR,
//! or node ports), as upstream's RangeAllocation stores it.

use std::net::Ipv4Addr;

/// A bitmap of used offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    bits: Vec<u8>,
    size: u32,
}

impl Bitmap {
    pub fn new(size: u32) -> Self {
        Bitmap {
            bits: vec![0; size.div_ceil(8) as usize],
            size,
        }
    }

    /// From stored bytes (shorter input means the rest is free).
    pub fn from_bytes(bytes: &[u8], size: u32) -> Self {
        let mut b = Bitmap::new(size);
        let n = b.bits.len().min(bytes.len());
        b.bits[..n].copy_from_slice(&bytes[..n]);
        b
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bits
    }

    pub fn is_set(&self, i: u32) -> bool {
        i < self.size && self.bits[(i / 8) as usize] & (1 << (i % 8)) != 0
    }

    pub fn set(&mut self, i: u32, used: bool) {
        if i >= self.size {
            return;
        }
        let byte = &mut self.bits[(i / 8) as usize];
        if used {
            *byte |= 1 << (i % 8);
        } else {
            *byte &= !(1 << (i % 8));
        }
    }

    /// The first free offset at or after `start`, wrapping around.
    pub fn first_free_from(&self, start: u32) -> Option<u32> {
        (0..self.size)
            .map(|k| (start + k) % self.size)
            .find(|i| !self.is_set(*i))
    }

    pub fn count(&self) -> u32 {
        self.bits.iter().map(|b| b.count_ones()).sum()
    }
}

/// An IPv4 service CIDR: the usable addresses exclude network and broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (ip, len) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR"))?;
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| format!("{s:?} is not an IPv4 CIDR"))?;
        let prefix: u8 = len
            .parse()
            .map_err(|_| format!("{s:?} has a bad prefix length"))?;
        if !(8..=30).contains(&prefix) {
            return Err(format!("{s:?}: prefix length must be between 8 and 30"));
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Cidr {
            base: u32::from(ip) & mask,
            prefix,
        })
    }

    /// How many addresses can be handed out (network and broadcast excluded).
    pub fn size(&self) -> u32 {
        (1u32 << (32 - self.prefix)) - 2
    }

    /// The address at `offset` (0 = the first usable one).
    pub fn ip(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.base + 1 + offset)
    }

    /// The offset of `ip`, if it is a usable address of the range.
    pub fn offset(&self, ip: Ipv4Addr) -> Option<u32> {
        let v = u32::from(ip);
        if v <= self.base {
            return None;
        }
        let off = v - self.base - 1;
        (off < self.size()).then_some(off)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// A node-port range `first-last` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    pub fn parse(s: &str) -> Result<PortRange, String> {
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| format!("{s:?} is not a port range (first-last)"))?;
        let first: u16 = a
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: bad first port"))?;
        let last: u16 = b
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: bad last port"))?;
        if first == 0 || last < first {
            return Err(format!("{s:?}: empty port range"));
        }
        Ok(PortRange { first, last })
    }

    pub fn size(&self) -> u32 {
        u32::from(self.last - self.first) + 1
    }

    pub fn offset(&self, port: i64) -> Option<u32> {
        (port >= i64::from(self.first) && port <= i64::from(self.last))
            .then(|| (port - i64::from(self.first)) as u32)
    }

    pub fn port(&self, offset: u32) -> u16 {
        self.first + offset as u16
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_offsets() {
        let c = Cidr::parse("192.168.0.0/16").expect("valid");
        assert_eq!(c.ip(0), Ipv4Addr::new(192, 168, 0, 1));
        assert_eq!(c.size(), 65534);
        assert_eq!(c.offset(Ipv4Addr::new(192, 168, 0, 1)), Some(0));
        assert_eq!(c.offset(Ipv4Addr::new(192, 168, 255, 255)), None);
        assert_eq!(c.offset(Ipv4Addr::new(10, 0, 0, 1)), None);
        assert!(Cidr::parse("192.168.0.0").is_err());
        assert_eq!(
            Cidr::parse("10.0.0.7/24").map(|c| c.to_string()),
            Ok("10.0.0.0/24".into())
        );
    }

    #[test]
    fn bitmap_finds_free_slots_and_round_trips() {
        let mut b = Bitmap::new(10);
        b.set(0, true);
        b.set(1, true);
        assert_eq!(b.first_free_from(0), Some(2));
        assert_eq!(b.first_free_from(9), Some(9));
        b.set(9, true);
        assert_eq!(b.first_free_from(9), Some(2));
        let copy = Bitmap::from_bytes(b.bytes(), 10);
        assert_eq!(copy, b);
        assert_eq!(copy.count(), 3);
        for i in 0..10 {
            b.set(i, true);
        }
        assert_eq!(b.first_free_from(3), None);
    }

    #[test]
    fn port_ranges() {
        let r = PortRange::parse("30000-32767").expect("valid");
        assert_eq!(r.size(), 2768);
        assert_eq!(r.offset(30080), Some(80));
        assert_eq!(r.offset(80), None);
        assert_eq!(r.port(80), 30080);
        assert!(PortRange::parse("5-1").is_err());
    }
}
