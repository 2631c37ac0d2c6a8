//! Watches: a chunked stream of `{"type", "object"}` events from an etcd
//! watch, filtered by the request's selectors, with bookmarks,
//! `timeoutSeconds`, and a 410 ERROR event when the revision was compacted.

use super::encode::{self, Output};
use super::{AppState, Body, Ctx, respond};
use crate::registry::ListOptions;
use crate::registry::selection::Filter;
use crate::registry::strategy;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use crate::storage::{StorageError, WatchEvent, WatchEventType};
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

/// Upstream ends watches after 30-60 minutes so clients rebalance.
const MAX_WATCH: Duration = Duration::from_secs(1800);
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

/// What a selector-filtered watch reports for one storage event: upstream
/// turns "moved out of the selection" into DELETED and "moved in" into ADDED.
fn filtered_type(filter: &Filter, ev: &WatchEvent) -> Option<&'static str> {
    let now = filter.matches(&ev.object);
    match ev.kind {
        WatchEventType::Added => now.then_some("ADDED"),
        WatchEventType::Deleted => now.then_some("DELETED"),
        WatchEventType::Modified => {
            let before = ev.prev.as_ref().is_some_and(|p| filter.matches(p));
            match (before, now) {
                (true, true) => Some("MODIFIED"),
                (false, true) => Some("ADDED"),
                (true, false) => Some("DELETED"),
                (false, false) => None,
            }
        }
        WatchEventType::Progress => None,
    }
}

pub async fn serve(
    state: &Arc<AppState>,
    ctx: &Ctx,
    def: &'static ResourceDef,
    ns: &str,
    out: Output,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::new(
        ctx.q("labelSelector"),
        ctx.q("fieldSelector"),
        strategy::for_resource(def),
    )?;
    let prefix = state.store.collection_prefix(def, ns)?;
    let bookmarks = ctx
        .q("allowWatchBookmarks")
        .and_then(super::request::parse_bool)
        == Some(true);
    let timeout = ctx
        .q("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(MAX_WATCH)
        .min(MAX_WATCH);
    let rv = ctx.q("resourceVersion").unwrap_or("");
    // "" and "0" start with the current state as ADDED events.
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
    let (initial, after) = if rv.is_empty() || rv == "0" || send_initial {
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
        (items, rev)
    } else {
        let rev: i64 = rv
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion: {rv:?}")))?;
        (Vec::new(), rev)
    };
    let mut events = state
        .store
        .etcd
        .watch(&prefix, after)
        .await
        .map_err(|e| e.to_api())?;
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    // Events come from etcd in the storage version.
    let shape = move |o: Value| -> Value {
        encode::shape(def, out, crate::registry::convert::to_served(def, o))
    };
    tokio::spawn(async move {
        for item in initial {
            if tx.send(line("ADDED", shape(item))).await.is_err() {
                return;
            }
        }
        if send_initial {
            let end = json!({
                "kind": def.kind,
                "apiVersion": def.api_version(),
                "metadata": {
                    "resourceVersion": after.to_string(),
                    "annotations": { "k8s.io/initial-events-end": "true" },
                },
            });
            if tx.send(line("BOOKMARK", end)).await.is_err() {
                return;
            }
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
                        if ev.kind == WatchEventType::Progress {
                            continue;
                        }
                        if let Some(t) = filtered_type(&filter, &ev)
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
                    let bm = json!({
                        "kind": def.kind,
                        "apiVersion": def.api_version(),
                        "metadata": { "resourceVersion": last_rev.to_string() },
                    });
                    if tx.send(line("BOOKMARK", bm)).await.is_err() {
                        return;
                    }
                }
                _ = &mut deadline => return,
                _ = tx.closed() => return,
            }
        }
    });
    let stream = ReceiverStream::new(rx).map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b)));
    let body = BodyExt::boxed(StreamBody::new(stream));
    let mut r = respond(200, "application/json", Vec::new());
    *r.body_mut() = body;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: WatchEventType, labels: Value, prev: Option<Value>) -> WatchEvent {
        WatchEvent {
            kind,
            object: json!({"metadata": {"name": "a", "labels": labels}}),
            prev: prev.map(|l| json!({"metadata": {"name": "a", "labels": l}})),
            revision: 5,
        }
    }

    #[test]
    fn selector_transitions_become_added_and_deleted() {
        let pods = crate::resources::lookup("", "v1", "pods").expect("served");
        let f = Filter::new(Some("app=web"), None, strategy::for_resource(pods)).expect("valid");
        let web = json!({"app": "web"});
        let db = json!({"app": "db"});
        assert_eq!(
            filtered_type(&f, &ev(WatchEventType::Added, web.clone(), None)),
            Some("ADDED")
        );
        assert_eq!(
            filtered_type(&f, &ev(WatchEventType::Added, db.clone(), None)),
            None
        );
        assert_eq!(
            filtered_type(
                &f,
                &ev(WatchEventType::Modified, db.clone(), Some(web.clone()))
            ),
            Some("DELETED")
        );
        assert_eq!(
            filtered_type(
                &f,
                &ev(WatchEventType::Modified, web.clone(), Some(db.clone()))
            ),
            Some("ADDED")
        );
        assert_eq!(
            filtered_type(&f, &ev(WatchEventType::Modified, web.clone(), Some(web))),
            Some("MODIFIED")
        );
    }
}
