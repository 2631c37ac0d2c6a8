//! Service cluster IPs (`--service-cluster-ip-range`) and node ports
//! (`--service-node-port-range`), persisted in etcd as upstream's
//! RangeAllocation bitmaps (`/registry/ranges/serviceips`,
//! `/registry/ranges/servicenodeports`). Every claim is a compare-and-swap
//! on the bitmap, so concurrent creates never get the same value.

pub mod range;
pub mod service;

use crate::storage::{EtcdStorage, StorageError};
use base64::Engine;
use range::{Bitmap, Cidr, PortRange};
use serde_json::{Value, json};

/// Why a value could not be claimed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AllocError {
    #[error("range is full")]
    Full,
    #[error("provided value is already allocated")]
    AlreadyAllocated,
    #[error("provided value is not in the valid range")]
    OutOfRange,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// One persisted bitmap.
#[derive(Clone)]
struct RangeStore {
    etcd: EtcdStorage,
    key: String,
    size: u32,
    range: String,
}

const CAS_RETRIES: usize = 32;

fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = openssl::rand::rand_bytes(&mut b);
    u32::from_le_bytes(b)
}

impl RangeStore {
    async fn load(&self) -> Result<(Bitmap, i64), AllocError> {
        match self.etcd.get(&self.key).await {
            Ok(o) => {
                let data = o.value.get("data").and_then(Value::as_str).unwrap_or("");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .unwrap_or_default();
                Ok((Bitmap::from_bytes(&bytes, self.size), o.mod_revision))
            }
            Err(StorageError::NotFound) => Ok((Bitmap::new(self.size), 0)),
            Err(e) => Err(e.into()),
        }
    }

    fn record(&self, b: &Bitmap) -> Value {
        json!({
            "kind": "RangeAllocation",
            "apiVersion": "v1",
            "metadata": {},
            "range": self.range,
            "data": base64::engine::general_purpose::STANDARD.encode(b.bytes()),
        })
    }

    /// Marks `wanted` (or any free offset) used; returns the offset.
    async fn claim(&self, wanted: Option<u32>) -> Result<u32, AllocError> {
        for _ in 0..CAS_RETRIES {
            let (mut b, rev) = self.load().await?;
            let off = match wanted {
                Some(w) if b.is_set(w) => return Err(AllocError::AlreadyAllocated),
                Some(w) => w,
                None => b
                    .first_free_from(random_u32() % self.size.max(1))
                    .ok_or(AllocError::Full)?,
            };
            b.set(off, true);
            match self
                .etcd
                .put_internal(&self.key, &self.record(&b), rev)
                .await
            {
                Ok(_) => return Ok(off),
                Err(StorageError::Conflict | StorageError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AllocError::Storage(StorageError::Conflict))
    }

    async fn release(&self, off: u32) -> Result<(), AllocError> {
        for _ in 0..CAS_RETRIES {
            let (mut b, rev) = self.load().await?;
            if !b.is_set(off) {
                return Ok(());
            }
            b.set(off, false);
            match self
                .etcd
                .put_internal(&self.key, &self.record(&b), rev)
                .await
            {
                Ok(_) => return Ok(()),
                Err(StorageError::Conflict | StorageError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AllocError::Storage(StorageError::Conflict))
    }
}

/// The cluster IP and node port allocators.
#[derive(Clone)]
pub struct ServiceAllocators {
    pub cidr: Cidr,
    pub ports: PortRange,
    ips: RangeStore,
    node_ports: RangeStore,
}

impl ServiceAllocators {
    pub fn new(etcd: EtcdStorage, cidr: &str, ports: &str) -> anyhow::Result<Self> {
        let cidr =
            Cidr::parse(cidr).map_err(|e| anyhow::anyhow!("--service-cluster-ip-range: {e}"))?;
        let ports = PortRange::parse(ports)
            .map_err(|e| anyhow::anyhow!("--service-node-port-range: {e}"))?;
        Ok(ServiceAllocators {
            ips: RangeStore {
                key: etcd.keys.internal("ranges/serviceips"),
                etcd: etcd.clone(),
                size: cidr.size(),
                range: cidr.to_string(),
            },
            node_ports: RangeStore {
                key: etcd.keys.internal("ranges/servicenodeports"),
                etcd,
                size: ports.size(),
                range: ports.to_string(),
            },
            cidr,
            ports,
        })
    }

    /// The `kubernetes` Service's address: the first of the range.
    pub fn first_ip(&self) -> std::net::Ipv4Addr {
        self.cidr.ip(0)
    }

    pub async fn allocate_ip(
        &self,
        wanted: Option<std::net::Ipv4Addr>,
    ) -> Result<std::net::Ipv4Addr, AllocError> {
        let off = match wanted {
            Some(ip) => Some(self.cidr.offset(ip).ok_or(AllocError::OutOfRange)?),
            None => None,
        };
        self.ips.claim(off).await.map(|o| self.cidr.ip(o))
    }

    pub async fn release_ip(&self, ip: std::net::Ipv4Addr) -> Result<(), AllocError> {
        match self.cidr.offset(ip) {
            Some(off) => self.ips.release(off).await,
            None => Ok(()),
        }
    }

    pub async fn allocate_port(&self, wanted: Option<i64>) -> Result<i64, AllocError> {
        let off = match wanted {
            Some(p) => Some(self.ports.offset(p).ok_or(AllocError::OutOfRange)?),
            None => None,
        };
        self.node_ports
            .claim(off)
            .await
            .map(|o| i64::from(self.ports.port(o)))
    }

    pub async fn release_port(&self, port: i64) -> Result<(), AllocError> {
        match self.ports.offset(port) {
            Some(off) => self.node_ports.release(off).await,
            None => Ok(()),
        }
    }
}
