//! Records core/v1 Events the way upstream's event recorder does: named
//! `<object>.<hex nanoseconds>`, with `source.component` set to the
//! controller (`deployment-controller`, ...), and repeated identical events
//! folded into one whose `count` and `lastTimestamp` grow. Posting happens
//! on a background task so a reconcile never waits on it; when the queue
//! is full, events are dropped (as upstream's broadcaster does).

use chrono::Utc;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::collections::HashMap;
use tokio::sync::mpsc;

/// Queue length before events are dropped.
const QUEUE: usize = 4096;
/// Attempts to write one Event when the apiserver cannot be reached.
const RETRIES: u32 = 6;
/// Folding cache size before it is cleared.
const CACHE: usize = 4096;

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
        first_timestamp: Some(Time(now)),
        last_timestamp: Some(Time(now)),
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
    while let Some(p) = rx.recv().await {
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
                "lastTimestamp": Time(now),
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
