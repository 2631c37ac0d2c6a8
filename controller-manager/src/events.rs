//! Records core/v1 Events the way upstream's event recorder does: named
//! `<object>.<hex nanoseconds>`, with `source.component` set to the
//! controller (`deployment-controller`, ...), and repeated identical events
//! folded into one whose `count` and `lastTimestamp` grow. Posting happens
//! on a background task so a reconcile never waits on it; when the queue
//! is full, events are dropped (as upstream's broadcaster does).
//!
//! Like upstream's spam filter, each source and involved object has a
//! token bucket (25 events, then one per 5 minutes): a ReplicaSet creating
//! 10,000 pods records its first 25 `SuccessfulCreate`s, not 10,000 extra
//! writes competing with the pod creates for the apiserver.

use ::client::time::time;
use chrono::Utc;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::collections::HashMap;
use tokio::sync::mpsc;

/// Queue length before events are dropped.
const QUEUE: usize = 4096;
/// Attempts to write one Event when the apiserver cannot be reached.
const RETRIES: u32 = 6;
/// Folding cache size before it is cleared.
const CACHE: usize = 4096;
/// Events one source may record about one object in a burst (upstream's
/// defaultSpamBurst).
const SPAM_BURST: f64 = 25.0;
/// Seconds to earn back one event after the burst (upstream's 1/300 qps).
const SPAM_REFILL_SECONDS: f64 = 300.0;

/// `Normal` or `Warning`, as `Event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

struct Pending {
    component: &'static str,
    object: ObjectReference,
    kind: EventType,
    reason: String,
    message: String,
}

/// The shared sender; cheap to clone.
#[derive(Clone)]
pub struct EventRecorder {
    tx: mpsc::Sender<Pending>,
}

/// An [`EventRecorder`] bound to one source component.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Pending>,
    component: &'static str,
}

impl EventRecorder {
    /// Starts the posting task on the current tokio runtime.
    pub fn new(client: kube::Client) -> EventRecorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(post_events(client, rx));
        EventRecorder { tx }
    }

    pub fn for_component(&self, component: &'static str) -> Recorder {
        Recorder {
            tx: self.tx.clone(),
            component,
        }
    }
}

impl Recorder {
    /// Queues an Event about `object`.
    pub fn record(&self, object: ObjectReference, kind: EventType, reason: &str, message: String) {
        let pending = Pending {
            component: self.component,
            object,
            kind,
            reason: reason.to_string(),
            message,
        };
        if self.tx.try_send(pending).is_err() {
            tracing::debug!(reason, "event queue full; event dropped");
        }
    }

    pub fn normal(&self, object: ObjectReference, reason: &str, message: String) {
        self.record(object, EventType::Normal, reason, message);
    }

    pub fn warning(&self, object: ObjectReference, reason: &str, message: String) {
        self.record(object, EventType::Warning, reason, message);
    }
}

type FoldKey = (String, String, EventType, String, String);

/// Token buckets per (source component, involved object).
#[derive(Default)]
struct SpamFilter {
    buckets: HashMap<(String, String), (f64, std::time::Instant)>,
}

impl SpamFilter {
    /// Whether `p` may be recorded at `now`; takes a token if so.
    fn allow(&mut self, p: &Pending, now: std::time::Instant) -> bool {
        if self.buckets.len() >= CACHE {
            self.buckets.clear();
        }
        let o = &p.object;
        let object = format!(
            "{}/{}/{}/{}/{}",
            o.api_version.as_deref().unwrap_or_default(),
            o.kind.as_deref().unwrap_or_default(),
            o.namespace.as_deref().unwrap_or_default(),
            o.name.as_deref().unwrap_or_default(),
            o.uid.as_deref().unwrap_or_default()
        );
        let (tokens, last) = self
            .buckets
            .entry((p.component.to_string(), object))
            .or_insert((SPAM_BURST, now));
        let earned = now.saturating_duration_since(*last).as_secs_f64() / SPAM_REFILL_SECONDS;
        *tokens = (*tokens + earned).min(SPAM_BURST);
        *last = now;
        if *tokens < 1.0 {
            return false;
        }
        *tokens -= 1.0;
        true
    }
}

/// The Event upstream would write for `p` at `now`, nanoseconds `nanos`.
fn new_event(p: &Pending, now: chrono::DateTime<Utc>) -> Event {
    let namespace = p
        .object
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_string());
    let name = format!(
        "{}.{:x}",
        p.object.name.clone().unwrap_or_default(),
        now.timestamp_nanos_opt().unwrap_or_default()
    );
    Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(namespace),
            ..Default::default()
        },
        involved_object: p.object.clone(),
        reason: Some(p.reason.clone()),
        message: Some(p.message.clone()),
        source: Some(EventSource {
            component: Some(p.component.to_string()),
            host: None,
        }),
        first_timestamp: Some(time(now)),
        last_timestamp: Some(time(now)),
        count: Some(1),
        type_: Some(p.kind.as_str().to_string()),
        event_time: None::<MicroTime>,
        reporting_component: Some(p.component.to_string()),
        reporting_instance: Some(String::new()),
        ..Default::default()
    }
}

async fn post_events(client: kube::Client, mut rx: mpsc::Receiver<Pending>) {
    // (namespace, name) of the Event already written, and its count.
    let mut folded: HashMap<FoldKey, (String, String, i32)> = HashMap::new();
    let mut spam = SpamFilter::default();
    while let Some(p) = rx.recv().await {
        if !spam.allow(&p, std::time::Instant::now()) {
            tracing::debug!(reason = %p.reason, "event rate limit reached for this object; dropped");
            continue;
        }
        let key: FoldKey = (
            p.object.uid.clone().unwrap_or_default(),
            p.component.to_string(),
            p.kind,
            p.reason.clone(),
            p.message.clone(),
        );
        let now = Utc::now();
        if let Some((ns, name, count)) = folded.get_mut(&key) {
            let api: Api<Event> = Api::namespaced(client.clone(), ns);
            let patch = serde_json::json!({
                "count": *count + 1,
                "lastTimestamp": time(now),
            });
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    *count += 1;
                    continue;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "could not fold event; writing a new one");
                    folded.remove(&key);
                }
            }
        }
        let event = new_event(&p, now);
        let ns = event.metadata.namespace.clone().unwrap_or_default();
        let name = event.metadata.name.clone().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(client.clone(), &ns);
        // Transient failures (a connection being set up) are retried a few
        // times with backoff, as upstream's recorder does.
        let mut delay = std::time::Duration::from_millis(100);
        for attempt in 1..=RETRIES {
            match api.create(&PostParams::default(), &event).await {
                Ok(_) => {
                    if folded.len() >= CACHE {
                        folded.clear();
                    }
                    folded.insert(key, (ns, name, 1));
                    break;
                }
                Err(kube::Error::Api(e)) => {
                    tracing::warn!(error = %e.message, reason = %p.reason, "could not record event");
                    break;
                }
                Err(e) if attempt == RETRIES => {
                    tracing::warn!(error = %e, reason = %p.reason, "could not record event");
                }
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(name: &str) -> Pending {
        Pending {
            component: "replicaset-controller",
            object: ObjectReference {
                kind: Some("ReplicaSet".into()),
                namespace: Some("default".into()),
                name: Some(name.into()),
                ..Default::default()
            },
            kind: EventType::Normal,
            reason: "SuccessfulCreate".into(),
            message: "Created pod: x".into(),
        }
    }

    #[test]
    fn spam_filter_allows_a_burst_then_one_per_five_minutes() {
        let mut f = SpamFilter::default();
        let t0 = std::time::Instant::now();
        let allowed = (0..100).filter(|_| f.allow(&pending("big"), t0)).count();
        assert_eq!(allowed, 25);
        // Another object has its own bucket.
        assert!(f.allow(&pending("small"), t0));
        let later = t0 + std::time::Duration::from_secs(299);
        assert!(!f.allow(&pending("big"), later));
        let later = t0 + std::time::Duration::from_secs(301);
        assert!(f.allow(&pending("big"), later));
        assert!(!f.allow(&pending("big"), later));
    }

    #[test]
    fn event_shaped_like_upstream() {
        let p = Pending {
            component: "deployment-controller",
            object: ObjectReference {
                kind: Some("Deployment".into()),
                namespace: Some("web".into()),
                name: Some("nginx".into()),
                uid: Some("u1".into()),
                api_version: Some("apps/v1".into()),
                ..Default::default()
            },
            kind: EventType::Normal,
            reason: "ScalingReplicaSet".into(),
            message: "Scaled up replica set nginx-abc to 3".into(),
        };
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 255).unwrap();
        let e = new_event(&p, now);
        assert_eq!(e.metadata.name.as_deref(), Some("nginx.17979cfe362a00ff"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("web"));
        assert_eq!(e.type_.as_deref(), Some("Normal"));
        assert_eq!(e.count, Some(1));
        assert_eq!(
            e.source.and_then(|s| s.component).as_deref(),
            Some("deployment-controller")
        );
        let mut cluster = p;
        cluster.object.namespace = None;
        assert_eq!(
            new_event(&cluster, now).metadata.namespace.as_deref(),
            Some("default")
        );
    }
}
