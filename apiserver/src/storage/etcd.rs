//! The etcd client: mTLS connection, reads, CAS writes and watches.

use super::StorageError;
use super::keys::{KeyLayout, prefix_end};
use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, EventType, GetOptions, Txn, TxnOp, WatchOptions,
};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// How to reach etcd (`--etcd-*` flags).
#[derive(Debug, Clone)]
pub struct EtcdConfig {
    pub servers: Vec<String>,
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub prefix: String,
    /// Deadline for one etcd call; past it the request answers 504.
    pub request_timeout: Duration,
}

/// An object as read from etcd.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub key: String,
    /// The object with `metadata.resourceVersion` set from `mod_revision`.
    pub value: Value,
    pub mod_revision: i64,
}

/// One page of a range read.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<StoredObject>,
    /// The revision the page was read at.
    pub revision: i64,
    /// More keys follow the last item.
    pub more: bool,
    /// How many keys follow the last item (for `remainingItemCount`).
    pub remaining: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventType {
    Added,
    Modified,
    Deleted,
    /// No change; etcd's progress notification (becomes a BOOKMARK).
    Progress,
}

/// One change seen by a watch.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    pub kind: WatchEventType,
    /// The new object (for deletes: the last state, stamped with the delete
    /// revision); `Null` for progress events.
    pub object: Value,
    /// The previous state for modifications (lets a filtered watch turn a
    /// change out of the selection into a DELETED event).
    pub prev: Option<Value>,
    pub revision: i64,
    /// The etcd key (empty for progress events).
    pub key: String,
    /// The stored bytes of `object` (puts only; what the watch cache keeps
    /// in its snapshot, far smaller than the decoded value).
    pub raw: bytes::Bytes,
}

/// Keys per range read when a whole collection is read.
pub const LIST_PAGE: i64 = 1000;

/// Shared handle on the etcd cluster; cheap to clone.
#[derive(Clone)]
pub struct EtcdStorage {
    client: Client,
    pub keys: KeyLayout,
    timeout: Duration,
    /// The lease shared by expiring objects (see `lease`).
    lease: std::sync::Arc<tokio::sync::Mutex<Option<super::lease::GrantedLease>>>,
}

fn read_file(p: &PathBuf) -> anyhow::Result<Vec<u8>> {
    std::fs::read(p).map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))
}

/// Maps a client error to what the apiserver reports.
fn classify(e: etcd_client::Error) -> StorageError {
    let text = e.to_string();
    if text.contains("compacted") {
        return StorageError::Compacted {
            requested: 0,
            compacted: 0,
        };
    }
    if let etcd_client::Error::GRpcStatus(s) = &e
        && format!("{:?}", s.code()) == "DeadlineExceeded"
    {
        return StorageError::Timeout;
    }
    StorageError::Unavailable(text)
}

/// Stamps `metadata.resourceVersion` on a stored value.
fn decode(key: &[u8], value: &[u8], mod_revision: i64) -> Result<StoredObject, StorageError> {
    let key = String::from_utf8_lossy(key).into_owned();
    let mut v: Value = serde_json::from_slice(value)
        .map_err(|e| StorageError::Corrupt(format!("decoding {key}: {e}")))?;
    set_resource_version(&mut v, mod_revision);
    Ok(StoredObject {
        key,
        value: v,
        mod_revision,
    })
}

/// Decodes stored bytes with `metadata.resourceVersion` set to `rev`.
pub fn decode_value(raw: &[u8], rev: i64) -> Option<Value> {
    let mut v: Value = serde_json::from_slice(raw).ok()?;
    set_resource_version(&mut v, rev);
    Some(v)
}

/// Sets `metadata.resourceVersion` (as a string, like upstream).
pub fn set_resource_version(v: &mut Value, rev: i64) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), Value::String(rev.to_string()));
    }
}

/// The bytes stored in etcd: the object without a resourceVersion, so a
/// stored object never carries a stale one.
pub fn encode(v: &Value) -> Vec<u8> {
    // Creates never carry one: serialize without copying the object.
    if v.pointer("/metadata/resourceVersion").is_none() {
        return crate::schema::canonical::to_vec(v);
    }
    let mut v = v.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    crate::schema::canonical::to_vec(&v)
}

impl EtcdStorage {
    /// Connects lazily: an etcd that is down at start only makes requests
    /// fail (503) until it comes up.
    pub async fn connect(cfg: &EtcdConfig) -> anyhow::Result<Self> {
        let ca = read_file(&cfg.ca_file)?;
        let cert = read_file(&cfg.cert_file)?;
        let key = read_file(&cfg.key_file)?;
        let opts = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(2))
            .with_keep_alive(Duration::from_secs(5), Duration::from_secs(3))
            .with_keep_alive_while_idle(true);
        let tls = super::transport::EtcdTls {
            ca: &ca,
            cert: &cert,
            key: &key,
        };
        let client = super::transport::connect(&cfg.servers, tls, opts).await?;
        Ok(EtcdStorage {
            client,
            keys: KeyLayout::new(&cfg.prefix),
            timeout: cfg.request_timeout,
            lease: Default::default(),
        })
    }

    /// Runs one etcd call under the request deadline.
    async fn bounded<T>(
        &self,
        f: impl std::future::Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, StorageError> {
        match tokio::time::timeout(self.timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e)),
            Err(_) => Err(StorageError::Timeout),
        }
    }

    pub async fn get(&self, key: &str) -> Result<StoredObject, StorageError> {
        let mut kv = self.client.kv_client();
        let resp = self.bounded(kv.get(key, None)).await?;
        let first = resp.kvs().first().ok_or(StorageError::NotFound)?;
        decode(first.key(), first.value(), first.mod_revision())
    }

    /// The cluster's current revision (a cheap read of one key).
    pub async fn current_revision(&self) -> Result<i64, StorageError> {
        let mut kv = self.client.kv_client();
        let key = self.keys.internal("health");
        let resp = self
            .bounded(kv.get(key, Some(GetOptions::new().with_count_only())))
            .await?;
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Reads up to `limit` keys (0 = all) of `prefix` starting at
    /// `start` (inclusive), at `revision` (0 = latest).
    pub async fn list(
        &self,
        prefix: &str,
        start: Option<&str>,
        limit: i64,
        revision: i64,
    ) -> Result<ListPage, StorageError> {
        let mut kv = self.client.kv_client();
        let mut opts = GetOptions::new().with_range(prefix_end(prefix));
        if limit > 0 {
            opts = opts.with_limit(limit);
        }
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let from = start.unwrap_or(prefix).to_string();
        let resp = self
            .bounded(kv.get(from, Some(opts)))
            .await
            .map_err(|e| match e {
                StorageError::Compacted { .. } => StorageError::Compacted {
                    requested: revision,
                    compacted: 0,
                },
                other => other,
            })?;
        let revision = resp.header().map(|h| h.revision()).unwrap_or(revision);
        let items = resp
            .kvs()
            .iter()
            .map(|kv| decode(kv.key(), kv.value(), kv.mod_revision()))
            .collect::<Result<Vec<_>, _>>()?;
        let remaining = (resp.count() - items.len() as i64).max(0);
        Ok(ListPage {
            items,
            revision,
            more: resp.more(),
            remaining,
        })
    }

    /// Every key of `prefix` at `revision` (0 = latest), read in pages of
    /// [`LIST_PAGE`] at one revision: a single range read of a large
    /// collection would exceed the gRPC message limit.
    pub async fn list_all(&self, prefix: &str, revision: i64) -> Result<ListPage, StorageError> {
        let mut out = self.list(prefix, None, LIST_PAGE, revision).await?;
        let revision = if revision > 0 { revision } else { out.revision };
        while out.more {
            let Some(last) = out.items.last().map(|o| format!("{}\0", o.key)) else {
                break;
            };
            let page = self.list(prefix, Some(&last), LIST_PAGE, revision).await?;
            out.items.extend(page.items);
            out.more = page.more;
        }
        out.revision = revision;
        out.remaining = 0;
        Ok(out)
    }

    /// A lease that keeps a key at least `ttl` (shared between writes).
    async fn lease_for(&self, ttl: Duration) -> Result<i64, StorageError> {
        let mut prev = self.lease.lock().await;
        let now = std::time::Instant::now();
        let secs = ttl.as_secs().max(1) as i64;
        if let Some(id) = super::lease::reusable(*prev, secs, now) {
            return Ok(id);
        }
        let grant = super::lease::grant_secs(ttl);
        let mut leases = self.client.lease_client();
        let resp = self.bounded(leases.grant(grant, None)).await?;
        *prev = Some(super::lease::GrantedLease {
            id: resp.id(),
            expires: now + Duration::from_secs(grant as u64),
        });
        Ok(resp.id())
    }

    /// Put options attaching the lease for `ttl`, when there is one.
    async fn put_options(
        &self,
        ttl: Option<Duration>,
    ) -> Result<Option<etcd_client::PutOptions>, StorageError> {
        match ttl {
            Some(ttl) => Ok(Some(
                etcd_client::PutOptions::new().with_lease(self.lease_for(ttl).await?),
            )),
            None => Ok(None),
        }
    }

    /// Create-if-absent; returns the new mod_revision.
    pub async fn create(&self, key: &str, value: &Value) -> Result<i64, StorageError> {
        self.create_with_ttl(key, value, None).await
    }

    /// Create-if-absent of a key etcd deletes after `ttl` (when given).
    pub async fn create_with_ttl(
        &self,
        key: &str,
        value: &Value,
        ttl: Option<Duration>,
    ) -> Result<i64, StorageError> {
        let opts = self.put_options(ttl).await?;
        let txn = Txn::new()
            .when([Compare::create_revision(key, CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, encode(value), opts)]);
        let mut kv = self.client.kv_client();
        let resp = self.bounded(kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(StorageError::AlreadyExists);
        }
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Compare-and-swap on mod_revision; returns the new mod_revision.
    pub async fn update(
        &self,
        key: &str,
        value: &Value,
        expected_revision: i64,
    ) -> Result<i64, StorageError> {
        self.update_with_ttl(key, value, expected_revision, None)
            .await
    }

    /// Compare-and-swap that also restarts the key's TTL (when given).
    pub async fn update_with_ttl(
        &self,
        key: &str,
        value: &Value,
        expected_revision: i64,
        ttl: Option<Duration>,
    ) -> Result<i64, StorageError> {
        let opts = self.put_options(ttl).await?;
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key,
                CompareOp::Equal,
                expected_revision,
            )])
            .and_then([TxnOp::put(key, encode(value), opts)]);
        let mut kv = self.client.kv_client();
        let resp = self.bounded(kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(StorageError::Conflict);
        }
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Deletes the key if it still has `expected_revision`; returns the
    /// revision of the delete.
    pub async fn delete(&self, key: &str, expected_revision: i64) -> Result<i64, StorageError> {
        let txn = Txn::new()
            .when([Compare::mod_revision(
                key,
                CompareOp::Equal,
                expected_revision,
            )])
            .and_then([TxnOp::delete(key, None)]);
        let mut kv = self.client.kv_client();
        let resp = self.bounded(kv.txn(txn)).await?;
        if !resp.succeeded() {
            return Err(StorageError::Conflict);
        }
        Ok(resp.header().map(|h| h.revision()).unwrap_or(0))
    }

    /// Raw put of an internal record (allocator state), CAS like `update`
    /// when `expected_revision` > 0, create-if-absent when 0.
    pub async fn put_internal(
        &self,
        key: &str,
        value: &Value,
        expected_revision: i64,
    ) -> Result<i64, StorageError> {
        if expected_revision == 0 {
            self.create(key, value).await
        } else {
            self.update(key, value, expected_revision).await
        }
    }

    /// Is etcd answering? Used by `/readyz` and `/healthz`.
    pub async fn check(&self) -> Result<(), StorageError> {
        self.current_revision().await.map(|_| ())
    }

    /// Streams changes under `prefix` after revision `after` (events with
    /// revision > `after`). The stream ends with an error when etcd
    /// compacted past `after` or the connection breaks.
    pub async fn watch(
        &self,
        prefix: &str,
        after: i64,
    ) -> Result<mpsc::Receiver<Result<WatchEvent, StorageError>>, StorageError> {
        self.watch_with(prefix, after, true).await
    }

    /// Like [`watch`](Self::watch); without `with_prev` etcd sends no
    /// previous values, so deletes carry `Null` objects and modifications
    /// no `prev` (the watch cache has both already and decodes each value
    /// once).
    pub async fn watch_with(
        &self,
        prefix: &str,
        after: i64,
        with_prev: bool,
    ) -> Result<mpsc::Receiver<Result<WatchEvent, StorageError>>, StorageError> {
        let mut opts = WatchOptions::new()
            .with_range(prefix_end(prefix))
            .with_start_revision(after + 1)
            .with_progress_notify();
        if with_prev {
            opts = opts.with_prev_key();
        }
        let mut wc = self.client.watch_client();
        let stream = self.bounded(wc.watch(prefix, Some(opts))).await?;
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(pump_watch(stream, tx, after));
        Ok(rx)
    }
}

/// Forwards etcd watch responses as [`WatchEvent`]s until the receiver
/// goes away or the stream fails.
async fn pump_watch(
    mut stream: etcd_client::WatchStream,
    tx: mpsc::Sender<Result<WatchEvent, StorageError>>,
    after: i64,
) {
    loop {
        let msg = tokio::select! {
            m = stream.message() => m,
            _ = tx.closed() => return,
        };
        let resp = match msg {
            Ok(Some(r)) => r,
            Ok(None) => {
                let _ = tx
                    .send(Err(StorageError::Unavailable("watch stream closed".into())))
                    .await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Err(classify(e))).await;
                return;
            }
        };
        if resp.compact_revision() > 0 {
            let _ = tx
                .send(Err(StorageError::Compacted {
                    requested: after,
                    compacted: resp.compact_revision(),
                }))
                .await;
            return;
        }
        if resp.canceled() {
            let _ = tx
                .send(Err(StorageError::Unavailable(format!(
                    "watch canceled: {}",
                    resp.cancel_reason()
                ))))
                .await;
            return;
        }
        let header_rev = resp.header().map(|h| h.revision()).unwrap_or(0);
        if resp.events().is_empty() && !resp.created() {
            let ev = WatchEvent {
                kind: WatchEventType::Progress,
                object: Value::Null,
                prev: None,
                revision: header_rev,
                key: String::new(),
                raw: bytes::Bytes::new(),
            };
            if tx.send(Ok(ev)).await.is_err() {
                return;
            }
            continue;
        }
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            let out = match ev.event_type() {
                EventType::Put => {
                    let kind = if kv.create_revision() == kv.mod_revision() {
                        WatchEventType::Added
                    } else {
                        WatchEventType::Modified
                    };
                    let prev = ev
                        .prev_kv()
                        .and_then(|p| decode(p.key(), p.value(), p.mod_revision()).ok())
                        .map(|o| o.value);
                    decode(kv.key(), kv.value(), kv.mod_revision()).map(|o| WatchEvent {
                        kind,
                        object: o.value,
                        prev,
                        revision: kv.mod_revision(),
                        key: o.key,
                        raw: bytes::Bytes::copy_from_slice(kv.value()),
                    })
                }
                EventType::Delete => {
                    let rev = kv.mod_revision();
                    match ev.prev_kv() {
                        Some(prev) => decode(prev.key(), prev.value(), rev).map(|o| WatchEvent {
                            kind: WatchEventType::Deleted,
                            object: o.value,
                            prev: None,
                            revision: rev,
                            key: o.key,
                            raw: bytes::Bytes::new(),
                        }),
                        // Without prev_kv: the key only (the cache knows the value).
                        None => Ok(WatchEvent {
                            kind: WatchEventType::Deleted,
                            object: Value::Null,
                            prev: None,
                            revision: rev,
                            key: String::from_utf8_lossy(kv.key()).into_owned(),
                            raw: bytes::Bytes::new(),
                        }),
                    }
                }
            };
            if tx.send(out).await.is_err() {
                return;
            }
        }
    }
}
