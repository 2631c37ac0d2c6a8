//! The scheduling loop: pop a pod, run its profile against a snapshot,
//! assume it onto the chosen node and bind asynchronously; or record why
//! it fits nowhere, try preemption, and park it.

use crate::api::ApiWriter;
use crate::cache::Cache;
use crate::framework::PodInfo;
use crate::metrics::Metrics;
use crate::plugins::volume_binding::{VolumeBinding, VolumeDecision};
use crate::preemption::{self, Pdb};
use crate::profile::Profile;
use crate::queue::{QueuedPod, SchedulingQueue};
use crate::schedule::Algorithm;
use k8s_openapi::api::core::v1::Pod;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, mpsc};

/// At most this many bindings in flight at once.
const MAX_CONCURRENT_BINDINGS: usize = 64;
/// Events waiting to be written; beyond this they are dropped (events
/// are best-effort, as upstream's broadcaster).
const EVENT_BUFFER: usize = 20_000;
const EVENT_WRITERS: usize = 8;
/// How long a pod waits for its WaitForFirstConsumer claims to be
/// provisioned and bound (upstream's `bindTimeoutSeconds`).
const PROVISION_TIMEOUT: Duration = Duration::from_secs(600);
/// How often the informers' claim store is checked meanwhile.
const PROVISION_POLL: Duration = Duration::from_millis(250);

/// One event to write.
pub struct EventRequest {
    pub pod: Arc<Pod>,
    pub kind: &'static str,
    pub reason: &'static str,
    pub action: &'static str,
    pub message: String,
}

pub struct Scheduler {
    pub profiles: HashMap<String, Arc<Profile>>,
    pub cache: Mutex<Cache>,
    pub queue: Arc<SchedulingQueue>,
    pub writer: ApiWriter,
    pub metrics: Arc<Metrics>,
    pub pdbs: RwLock<HashMap<String, Pdb>>,
    /// Pods that preempted and wait for their victims to go: key →
    /// (nominated node, pod). Their room is held for them.
    pub nominated: Mutex<HashMap<String, (String, Arc<PodInfo>)>>,
    /// The storage objects VolumeBinding reads (shared with the plugin).
    pub volumes: Arc<VolumeBinding>,
    events: mpsc::Sender<EventRequest>,
    bindings: Arc<Semaphore>,
}

impl Scheduler {
    pub fn new(
        profiles: Vec<Profile>,
        writer: ApiWriter,
        volumes: Arc<VolumeBinding>,
        metrics: Arc<Metrics>,
    ) -> Arc<Scheduler> {
        let (tx, rx) = mpsc::channel(EVENT_BUFFER);
        let sched = Arc::new(Scheduler {
            profiles: profiles
                .into_iter()
                .map(|p| (p.scheduler_name.clone(), Arc::new(p)))
                .collect(),
            cache: Mutex::new(Cache::new()),
            queue: SchedulingQueue::new(),
            writer: writer.clone(),
            metrics,
            pdbs: RwLock::new(HashMap::new()),
            nominated: Mutex::new(HashMap::new()),
            volumes,
            events: tx,
            bindings: Arc::new(Semaphore::new(MAX_CONCURRENT_BINDINGS)),
        });
        tokio::spawn(write_events(writer, rx));
        sched
    }

    pub fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether one of our profiles handles this pod's `schedulerName`.
    pub fn responsible_for(&self, pod: &Pod) -> bool {
        let name = pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .unwrap_or("default-scheduler");
        self.profiles.contains_key(name)
    }

    fn emit(
        &self,
        pod: &Arc<Pod>,
        kind: &'static str,
        reason: &'static str,
        action: &'static str,
        message: String,
    ) {
        let req = EventRequest {
            pod: pod.clone(),
            kind,
            reason,
            action,
            message,
        };
        if self.events.try_send(req).is_err() {
            tracing::debug!("event buffer full, dropping an event");
        }
    }

    /// Background upkeep: backoff flushing, assumed-pod expiry, metrics.
    pub async fn housekeeping(self: Arc<Self>) {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            self.queue.flush();
            let expired = self.cache().cleanup_expired();
            if expired > 0 {
                tracing::warn!(expired, "assumed pods expired without confirmation");
                self.queue.move_all_to_active_or_backoff();
            }
            self.metrics.set_queue(self.queue.lengths());
        }
    }

    /// Runs scheduling cycles until the queue closes.
    pub async fn run(self: Arc<Self>) {
        let mut algorithm = Algorithm::default();
        while let Some(qp) = self.queue.pop().await {
            self.schedule_one(&mut algorithm, qp);
            // Let informers and bindings make progress between cycles.
            tokio::task::yield_now().await;
        }
    }

    fn schedule_one(self: &Arc<Self>, algorithm: &mut Algorithm, qp: QueuedPod) {
        let key = qp.info.key();
        let pod = qp.info.pod.clone();
        let Some(profile) = pod
            .spec
            .as_ref()
            .map(|s| {
                s.scheduler_name
                    .clone()
                    .unwrap_or_else(|| "default-scheduler".into())
            })
            .and_then(|n| self.profiles.get(&n).cloned())
        else {
            self.queue.done(&key);
            return;
        };
        let started = Instant::now();
        let snapshot = self.with_nominated_pods(self.cache().snapshot(), &qp.info);
        let outcome = algorithm.schedule(&profile, &qp.info, &snapshot);
        self.metrics
            .algorithm_duration
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(result) => {
                tracing::debug!(pod = %key, node = %result.node, evaluated = result.evaluated_nodes, feasible = result.feasible_nodes, "scheduled");
                // Released first, so that the cache changes its node and
                // pod index in place rather than copying them.
                drop(snapshot);
                self.cache().assume(qp.info.clone(), &result.node);
                self.set_nominated(&qp.info, None);
                self.queue.done(&key);
                let me = self.clone();
                tokio::spawn(async move { me.bind(profile, qp, result.node, started).await });
            }
            Err(mut fit) => {
                self.metrics.unschedulable.fetch_add(1, Ordering::Relaxed);
                let mut nominated = None;
                if profile.preemption && !fit.node_statuses.is_empty() {
                    self.metrics
                        .preemption_attempts
                        .fetch_add(1, Ordering::Relaxed);
                    let pdbs: Vec<Pdb> = self
                        .pdbs
                        .read()
                        .map(|m| m.values().cloned().collect())
                        .unwrap_or_default();
                    match preemption::find_candidate(&profile, &qp.info, &snapshot, &fit, &pdbs) {
                        Ok(c) => {
                            self.preempt(&qp.info, &c);
                            self.set_nominated(&qp.info, Some(&c.node));
                            nominated = Some(c.node);
                        }
                        Err(msg) => fit.post_filter_msg = Some(msg),
                    }
                }
                let message = fit.message();
                tracing::info!(pod = %key, %message, "unschedulable");
                self.emit(
                    &pod,
                    "Warning",
                    "FailedScheduling",
                    "Scheduling",
                    message.clone(),
                );
                let writer = self.writer.clone();
                tokio::spawn(async move {
                    if let Err(e) = writer
                        .mark_unschedulable(&pod, &message, nominated.as_deref())
                        .await
                    {
                        tracing::debug!(error = %e, "cannot update PodScheduled condition");
                    }
                });
                self.metrics
                    .attempt_duration
                    .observe(started.elapsed().as_secs_f64());
                self.queue.add_unschedulable(qp);
            }
        }
    }

    /// Records (or clears) the node a pod waits for after preempting.
    pub fn set_nominated(&self, pod: &Arc<PodInfo>, node: Option<&str>) {
        let mut m = self.nominated.lock().unwrap_or_else(|e| e.into_inner());
        match node {
            Some(n) => {
                m.insert(pod.key(), (n.to_string(), pod.clone()));
            }
            None => {
                m.remove(&pod.key());
            }
        }
    }

    /// The snapshot with every other nominated pod of at least `pod`'s
    /// priority counted on its nominated node, so the room freed by
    /// preemption is not taken by someone else.
    fn with_nominated_pods(
        &self,
        mut snapshot: crate::framework::Snapshot,
        pod: &PodInfo,
    ) -> crate::framework::Snapshot {
        let m = self.nominated.lock().unwrap_or_else(|e| e.into_inner());
        if m.is_empty() {
            return snapshot;
        }
        let me = pod.key();
        for (key, (node, other)) in m.iter() {
            if *key == me || other.priority < pod.priority {
                continue;
            }
            snapshot.add_pod_to(node, other.clone());
        }
        snapshot
    }

    /// Evicts the chosen victims and tells them why.
    fn preempt(&self, preemptor: &PodInfo, c: &preemption::Candidate) {
        self.metrics
            .preemption_victims
            .fetch_add(c.victims.len() as u64, Ordering::Relaxed);
        for v in &c.victims {
            tracing::info!(victim = %v.key(), preemptor = %preemptor.key(), node = %c.node, "preempting");
            self.emit(
                &v.pod,
                "Normal",
                "Preempted",
                "Preempting",
                format!("Preempted by pod {} on node {}", preemptor.uid, c.node),
            );
            let writer = self.writer.clone();
            let victim = v.pod.clone();
            tokio::spawn(async move {
                if let Err(e) = writer.evict(&victim).await {
                    tracing::warn!(error = %e, "cannot delete preemption victim");
                }
            });
        }
    }

    async fn bind(
        self: Arc<Self>,
        profile: Arc<Profile>,
        qp: QueuedPod,
        node: String,
        started: Instant,
    ) {
        let key = qp.info.key();
        let pod = qp.info.pod.clone();
        let mut permit = self.bindings.clone().acquire_owned().await;
        let mut result = Ok(());
        let mut provisioning = Vec::new();
        if let Some(vb) = profile.volumes.as_ref() {
            let node_info = self.cache().node(&node);
            if let Some(n) = node_info {
                for d in vb.decisions(&qp.info, &n) {
                    if let Err(e) = self.writer.apply_volume_decision(&d).await {
                        result = Err(BindError::Api(e));
                        break;
                    }
                    if let VolumeDecision::Provision {
                        namespace, claim, ..
                    } = d
                    {
                        provisioning.push((namespace, claim));
                    }
                }
            }
            if result.is_ok() && !provisioning.is_empty() {
                // Upstream's PreBind: the pod stays assumed on the node
                // (holding its room) until the provisioner has made the
                // volumes and the binder has bound the claims. The binding
                // slot is not held meanwhile.
                drop(permit);
                result = self.wait_for_claims(vb, &key, &provisioning).await;
                permit = self.bindings.clone().acquire_owned().await;
            }
        }
        if result.is_ok() {
            result = self.writer.bind(&pod, &node).await.map_err(BindError::Api);
        }
        drop(permit);
        match result {
            Ok(()) => {
                self.cache().finish_binding(&key);
                self.metrics.scheduled.fetch_add(1, Ordering::Relaxed);
                self.metrics
                    .attempt_duration
                    .observe(started.elapsed().as_secs_f64());
                self.metrics
                    .e2e_duration
                    .observe(qp.first_seen.elapsed().as_secs_f64());
                let ns = qp.info.namespace.clone();
                let name = qp.info.name.clone();
                self.emit(
                    &pod,
                    "Normal",
                    "Scheduled",
                    "Binding",
                    format!("Successfully assigned {ns}/{name} to {node}"),
                );
            }
            Err(e) => {
                self.cache().forget(&key);
                self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                let gone = matches!(&e, BindError::PodGone)
                    || matches!(&e, BindError::Api(kube::Error::Api(s)) if s.code == 404 || s.code == 409);
                tracing::warn!(pod = %key, %node, error = ?e, "binding failed");
                if gone {
                    // Deleted, or already bound by someone else: nothing to retry.
                    self.queue.done(&key);
                } else {
                    self.emit(
                        &pod,
                        "Warning",
                        "FailedScheduling",
                        "Scheduling",
                        match &e {
                            BindError::Api(e) => format!("Binding rejected: {e}"),
                            e => format!("running PreBind plugin \"VolumeBinding\": {e}"),
                        },
                    );
                    self.queue.add_backoff(qp);
                }
            }
        }
    }
}

/// Why a chosen node could not be written.
#[derive(Debug, thiserror::Error)]
enum BindError {
    #[error(transparent)]
    Api(#[from] kube::Error),
    #[error("binding volumes: {0}")]
    Volumes(String),
    #[error("binding volumes: timed out waiting for the condition")]
    VolumesTimeout,
    #[error("pod deleted while its volumes were provisioned")]
    PodGone,
}

impl Scheduler {
    /// Waits until every claim in `claims` is bound (upstream's
    /// `bindTimeoutSeconds`, 600 s), watching the informers' store.
    async fn wait_for_claims(
        &self,
        vb: &VolumeBinding,
        key: &str,
        claims: &[(String, String)],
    ) -> Result<(), BindError> {
        let deadline = Instant::now() + PROVISION_TIMEOUT;
        tracing::info!(pod = %key, ?claims, "waiting for volumes to be provisioned");
        loop {
            match vb.claims_bound(claims) {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) => return Err(BindError::Volumes(e)),
            }
            if !self.cache().is_assumed(key) {
                return Err(BindError::PodGone);
            }
            if Instant::now() >= deadline {
                return Err(BindError::VolumesTimeout);
            }
            tokio::time::sleep(PROVISION_POLL).await;
        }
    }
}

async fn write_events(writer: ApiWriter, rx: mpsc::Receiver<EventRequest>) {
    use futures::StreamExt;
    let stream = tokio_stream_from(rx);
    stream
        .for_each_concurrent(EVENT_WRITERS, |req| {
            let writer = writer.clone();
            async move {
                if let Err(e) = writer
                    .event(&req.pod, req.kind, req.reason, req.action, &req.message)
                    .await
                {
                    tracing::debug!(error = %e, reason = req.reason, "cannot write event");
                }
            }
        })
        .await;
}

/// An mpsc receiver as a Stream (without pulling in tokio-stream).
fn tokio_stream_from<T: Send + 'static>(rx: mpsc::Receiver<T>) -> impl futures::Stream<Item = T> {
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|v| (v, rx)) })
}
