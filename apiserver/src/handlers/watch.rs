//! Watches: a chunked stream of `{"type", "object"}` events, filtered by
//! the request's selectors, with bookmarks, `timeoutSeconds`, and a 410
//! ERROR event when the requested revision is gone. Served by the watch
//! cache (`storage::cacher`) when the resource is cached, else by an etcd
//! watch of its own (`--watch-cache=false`, Events).

use super::encode::{self, Output};
use super::{AppState, Body, Ctx, respond};
use crate::registry::ListOptions;
use crate::registry::selection::Filter;
use crate::registry::strategy;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use crate::storage::cacher::{self, Delivery, ResourceCache, Subscription, WatcherSpec};
use crate::storage::{StorageError, WatchEventType};
use bytes::Bytes;
use futures_util::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// How often an idle watch with bookmarks enabled gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);

/// One line of the watch stream.
fn line(kind: &str, object: Value) -> Bytes {
    // Upstream's WatchEvent order: type, then the object canonically encoded.
    let mut v = Vec::with_capacity(256);
    v.extend_from_slice(b"{\"type\":");
    v.extend_from_slice(&serde_json::to_vec(kind).unwrap_or_default());
    v.extend_from_slice(b",\"object\":");
    crate::schema::canonical::write(&object, &mut v);
    v.extend_from_slice(b"}\n");
    Bytes::from(v)
}

/// One line around an object already encoded as JSON.
fn line_raw(kind: &str, object: &[u8]) -> Bytes {
    let mut v = Vec::with_capacity(object.len() + 32);
    v.extend_from_slice(b"{\"type\":\"");
    v.extend_from_slice(kind.as_bytes());
    v.extend_from_slice(b"\",\"object\":");
    v.extend_from_slice(object);
    v.extend_from_slice(b"}\n");
    Bytes::from(v)
}

/// What the query asks of a watch.
struct Params {
    filter: Filter,
    bookmarks: bool,
    timeout: Duration,
    rv: String,
    send_initial: bool,
}

impl Params {
    fn parse(ctx: &Ctx, def: &'static ResourceDef) -> Result<Params, ApiError> {
        let filter = Filter::new(
            ctx.q("labelSelector"),
            ctx.q("fieldSelector"),
            strategy::for_resource(def),
        )?;
        let bookmarks = ctx
            .q("allowWatchBookmarks")
            .and_then(super::request::parse_bool)
            == Some(true);
        let timeout = super::request::watch_timeout(&ctx.query);
        // Streaming lists (`sendInitialEvents=true`): the current state as
        // ADDED events, then a bookmark marking the end of the initial events.
        let send_initial = ctx
            .q("sendInitialEvents")
            .and_then(super::request::parse_bool)
            == Some(true);
        if send_initial && ctx.q("resourceVersionMatch") != Some("NotOlderThan") {
            return Err(ApiError::invalid(
                "ListOptions",
                "meta.k8s.io",
                "",
                &vec![crate::validation::FieldError::forbidden(
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )],
            ));
        }
        let rv = ctx.q("resourceVersion").unwrap_or("").to_string();
        Ok(Params {
            filter,
            bookmarks,
            timeout,
            rv,
            send_initial,
        })
    }

    /// The numeric resourceVersion, when one was given ("" and "0": None).
    fn revision(&self) -> Result<Option<i64>, ApiError> {
        if self.rv.is_empty() || self.rv == "0" {
            return Ok(None);
        }
        self.rv
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion: {:?}", self.rv)))
    }
}

/// The bookmark that ends the initial events of a streaming list.
fn initial_events_end(def: &ResourceDef, rv: i64) -> Bytes {
    line(
        "BOOKMARK",
        json!({
            "kind": def.kind,
            "apiVersion": def.api_version(),
            "metadata": {
                "resourceVersion": rv.to_string(),
                "annotations": { "k8s.io/initial-events-end": "true" },
            },
        }),
    )
}

fn bookmark(def: &ResourceDef, rv: i64) -> Bytes {
    line(
        "BOOKMARK",
        json!({
            "kind": def.kind,
            "apiVersion": def.api_version(),
            "metadata": { "resourceVersion": rv.to_string() },
        }),
    )
}

/// A 200 answer whose body is the lines sent on the returned channel.
fn streaming() -> (mpsc::Sender<Bytes>, Response<Body>) {
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let stream = ReceiverStream::new(rx).map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
    let body = BodyExt::boxed(StreamBody::new(stream));
    let mut r = respond(200, "application/json", Vec::new());
    *r.body_mut() = body;
    (tx, r)
}

/// A watch that only reports one ERROR event, as upstream answers a watch
/// it cannot start (a resourceVersion older than it can replay: 410 Gone;
/// one newer than etcd's: 504 "Too large resource version").
fn error_watch(e: ApiError) -> Response<Body> {
    let (tx, r) = streaming();
    let _ = tx.try_send(line("ERROR", e.to_status()));
    r
}

/// The current state from etcd (a consistent read) and its revision.
async fn consistent_state(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
) -> Result<(Vec<Value>, i64), ApiError> {
    let list = state
        .store
        .list(
            def,
            ns,
            &ListOptions {
                label_selector: ctx.q("labelSelector").map(String::from),
                field_selector: ctx.q("fieldSelector").map(String::from),
                ..Default::default()
            },
        )
        .await?;
    let rev = list
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let items = list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok((items, rev))
}

pub async fn serve(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
    out: Output,
) -> Result<Response<Body>, ApiError> {
    let params = Params::parse(ctx, def)?;
    let requested = params.revision()?;
    if let Some(cacher) = &state.store.cacher
        && let Some(cache) = cacher.for_resource(def, requested.unwrap_or(0))
    {
        return serve_from_cache(state, ctx, def, ns, out, params, cache).await;
    }
    serve_from_etcd(state, ctx, def, ns, out, params).await
}

/// How long a watch waits for a cache that is still listing.
const CACHE_READY_WAIT: Duration = Duration::from_secs(3);

async fn serve_from_cache(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
    out: Output,
    params: Params,
    cache: Arc<ResourceCache>,
) -> Result<Response<Body>, ApiError> {
    if !cache.wait_ready(CACHE_READY_WAIT).await {
        let mut e = ApiError::new(429, "TooManyRequests", "storage is (re)initializing");
        e.details = json!({ "retryAfterSeconds": 1 });
        return Err(e);
    }
    let requested = params.revision()?;
    let key_prefix = state.store.collection_prefix(def, ns)?;
    // upstream's semantics: unset = the latest state (a consistent read)
    // then changes; "0" = any state (the cache's) then changes; X = changes
    // after X (or, streaming, the cache's state once it is at least X).
    let from_snapshot = match requested {
        None => params.rv == "0",
        Some(x) => params.send_initial && cache.revision() >= x,
    };
    let consistent = !from_snapshot && (requested.is_none() || params.send_initial);
    let mut initial_values = Vec::new();
    let from = if from_snapshot {
        cacher::From::Snapshot
    } else if consistent {
        let (items, rev) = consistent_state(state, ctx, def, ns).await?;
        initial_values = items;
        cacher::From::Revision(rev)
    } else {
        let x = requested.unwrap_or(0);
        // Ahead of the cache: fine when etcd has it (other resources
        // moved the revision on), refused when etcd does not.
        if x > cache.revision() {
            let current = state
                .store
                .etcd
                .current_revision()
                .await
                .map_err(|e| e.to_api())?;
            if x > current {
                return Ok(error_watch(ApiError::timeout(format!(
                    "Too large resource version: {x}, current: {current}"
                ))));
            }
        }
        cacher::From::Revision(x)
    };
    let spec = WatcherSpec {
        filter: params.filter,
        key_prefix,
        after: 0,
    };
    let sub = match cache.subscribe(spec, from) {
        Ok(s) => s,
        Err(old) => {
            return Ok(error_watch(ApiError::gone(format!(
                "too old resource version: {} ({})",
                old.requested, old.floor
            ))));
        }
    };
    let (tx, r) = streaming();
    let send_initial = params.send_initial;
    let (bookmarks, timeout) = (params.bookmarks, params.timeout);
    tokio::spawn(async move {
        let mut sub = sub;
        let shape = move |o: Value| -> Value {
            encode::shape(def, out, crate::registry::convert::to_served(def, o))
        };
        for item in initial_values {
            if tx.send(line("ADDED", shape(item))).await.is_err() {
                return;
            }
        }
        for item in std::mem::take(&mut sub.initial) {
            if tx.send(line("ADDED", shape(item))).await.is_err() {
                return;
            }
        }
        if send_initial
            && tx
                .send(initial_events_end(def, sub.revision))
                .await
                .is_err()
        {
            return;
        }
        for d in std::mem::take(&mut sub.replay) {
            if tx.send(encode_delivery(def, out, &d)).await.is_err() {
                return;
            }
        }
        follow(sub, tx, def, out, bookmarks, timeout).await;
    });
    Ok(r)
}

/// The stream line of a delivery: the object's served JSON is encoded once
/// per event and served version and shared by every watcher; Tables and
/// PartialObjectMetadata are shaped per watcher.
fn encode_delivery(def: &'static ResourceDef, out: Output, d: &Delivery) -> Bytes {
    match out {
        Output::Json | Output::Yaml => {
            let version = def as *const ResourceDef as usize;
            let json = d.event.encoded(version, |o| {
                let served = crate::registry::convert::to_served(def, o.clone());
                Bytes::from(serde_json::to_vec(&served).unwrap_or_default())
            });
            line_raw(d.kind, &json)
        }
        _ => line(
            d.kind,
            encode::shape(
                def,
                out,
                crate::registry::convert::to_served(def, (*d.event.object).clone()),
            ),
        ),
    }
}

/// Live events and bookmarks until the timeout, the client leaving, or
/// the cache closing this watcher (its buffer was full, or the cache
/// listed again): then the stream ends and the client re-watches.
async fn follow(
    mut sub: Subscription,
    tx: mpsc::Sender<Bytes>,
    def: &'static ResourceDef,
    out: Output,
    bookmarks: bool,
    timeout: Duration,
) {
    let mut last_rev = sub.revision;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(BOOKMARK_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            d = sub.rx.recv() => match d {
                Some(d) => {
                    last_rev = last_rev.max(d.event.revision);
                    if tx.send(encode_delivery(def, out, &d)).await.is_err() {
                        return;
                    }
                }
                None => return,
            },
            _ = tick.tick(), if bookmarks => {
                // Every event up to the cache's revision is already in the
                // buffer: send those first, so the bookmark never runs ahead.
                let current = sub.current_revision();
                while let Ok(d) = sub.rx.try_recv() {
                    last_rev = last_rev.max(d.event.revision);
                    if tx.send(encode_delivery(def, out, &d)).await.is_err() {
                        return;
                    }
                }
                last_rev = last_rev.max(current);
                if tx.send(bookmark(def, last_rev)).await.is_err() {
                    return;
                }
            }
            _ = &mut deadline => return,
            _ = tx.closed() => return,
        }
    }
}

/// A watch with an etcd watch of its own (resources the cache does not
/// hold): every event decoded for this watcher alone.
async fn serve_from_etcd(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
    out: Output,
    params: Params,
) -> Result<Response<Body>, ApiError> {
    let prefix = state.store.collection_prefix(def, ns)?;
    // "" and "0" start with the current state as ADDED events.
    let (initial, after) = match params.revision()? {
        Some(rev) if !params.send_initial => (Vec::new(), rev),
        _ => consistent_state(state, ctx, def, ns).await?,
    };
    let mut events = state
        .store
        .etcd
        .watch(&prefix, after)
        .await
        .map_err(|e| e.to_api())?;
    let (tx, r) = streaming();
    // Events come from etcd in the storage version.
    let shape = move |o: Value| -> Value {
        encode::shape(def, out, crate::registry::convert::to_served(def, o))
    };
    let Params {
        filter,
        bookmarks,
        timeout,
        send_initial,
        ..
    } = params;
    tokio::spawn(async move {
        for item in initial {
            if tx.send(line("ADDED", shape(item))).await.is_err() {
                return;
            }
        }
        if send_initial && tx.send(initial_events_end(def, after)).await.is_err() {
            return;
        }
        let mut last_rev = after;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval(BOOKMARK_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(Ok(ev)) => {
                        last_rev = last_rev.max(ev.revision);
                        if ev.kind == WatchEventType::Progress || ev.object.is_null() {
                            continue;
                        }
                        if let Some(t) = cacher::transition(&filter, ev.kind, &ev.object, ev.prev.as_ref())
                            && tx.send(line(t, shape(ev.object))).await.is_err()
                        {
                            return;
                        }
                    }
                    Some(Err(StorageError::Compacted { requested, compacted })) => {
                        let status = ApiError::gone(format!("too old resource version: {requested} ({compacted})")).to_status();
                        let _ = tx.send(line("ERROR", status)).await;
                        return;
                    }
                    // etcd went away: end the watch; clients re-watch.
                    Some(Err(_)) | None => return,
                },
                _ = tick.tick(), if bookmarks => {
                    if tx.send(bookmark(def, last_rev)).await.is_err() {
                        return;
                    }
                }
                _ = &mut deadline => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(r)
}
