//! The endpoints controller: make every Service with a selector have an
//! Endpoints object of the same name listing the pods it selects (ready
//! ones in `addresses`, the others in `notReadyAddresses`). Services
//! without a selector are left alone, so hand-written Endpoints survive;
//! Endpoints this controller wrote go away with their Service.

pub mod subsets;

use crate::Context;
use crate::controllers::reflected::now_rfc3339;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use apimachinery::labels::Selector;
use client::informer::{Event, Store};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Endpoints, Pod, Service};
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::{Action, Config};
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Set on Endpoints this controller manages: marks them as ours (so they
/// are deleted with their Service) and keeps them out of EndpointSlice
/// mirroring, as upstream does.
pub const TRIGGER_TIME_ANNOTATION: &str = "endpoints.kubernetes.io/last-change-trigger-time";
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";

struct State {
    client: kube::Client,
    pods: Store<Pod>,
}

/// A controller over Services that wakes the Services selecting a pod
/// (before and after the change) when that pod changes, with the
/// process's shared caches to read from. Shared by the endpoints and
/// endpointslice controllers; each adds a trigger for what it writes.
pub async fn service_controller(
    ctx: &Context,
    concurrency: u16,
) -> anyhow::Result<(Controller<Service>, Store<Pod>)> {
    let services = ctx.informers.get::<Service>();
    let pods = ctx.informers.get::<Pod>();
    let service_events = services.subscribe().objects();
    let lookup = services.store().clone();
    let pod_triggers = pods
        .subscribe()
        .into_stream()
        .flat_map(move |event| futures::stream::iter(services_for_pod(&lookup, &event)));
    pods.wait_synced().await;
    let controller = Controller::for_shared_stream(service_events, services.reader().await)
        .reconcile_on(pod_triggers)
        .with_config(Config::default().concurrency(concurrency));
    Ok((controller, pods.store().clone()))
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let endpoints = ctx.informers.get::<Endpoints>();
    let services = ctx.informers.get::<Service>();
    let endpoint_events = endpoints.subscribe();
    let service_events = services.subscribe().objects();
    let (controller, pods) =
        service_controller(&ctx, ctx.options.concurrent_endpoint_syncs).await?;
    // Endpoints changed or deleted by someone else are put back.
    let endpoint_triggers = endpoint_events.into_stream().map(|e| {
        let ep = e.object();
        ObjectRef::<Service>::new(&ep.name_any()).within(&ep.namespace().unwrap_or_default())
    });
    let controller = controller.reconcile_on(endpoint_triggers);
    let state = Arc::new(State {
        client: client.clone(),
        pods,
    });
    let leftovers = run_controller(
        "endpoints-cleanup",
        ctx.metrics.clone(),
        // A deleted Service wakes its Endpoints up.
        Controller::for_shared_stream(endpoints.subscribe().objects(), endpoints.reader().await)
            .watches_shared_stream(service_events, |svc: Arc<Service>| {
                Some(
                    ObjectRef::<Endpoints>::new(&svc.name_any())
                        .within(&svc.namespace().unwrap_or_default()),
                )
            }),
        delete_if_service_gone,
        state.clone(),
    );
    let main = run_controller(
        "endpoints",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    );
    let (a, b) = futures::join!(main, leftovers);
    a.and(b)
}

/// The Services whose selector picks the pod of `event`, before or after
/// the change (a pod whose labels stopped matching leaves a Service).
pub fn services_for_pod(services: &Store<Service>, event: &Event<Pod>) -> Vec<ObjectRef<Service>> {
    let (before, after) = match event {
        Event::Updated { old, new } => (Some(old.as_ref()), new.as_ref()),
        Event::Added(p) | Event::Deleted(p) => (None, p.as_ref()),
    };
    let ns = after.namespace().unwrap_or_default();
    services
        .namespaced(&ns)
        .iter()
        .filter(|svc| {
            service_selector(svc).is_some_and(|sel| {
                sel.matches(after.labels()) || before.is_some_and(|b| sel.matches(b.labels()))
            })
        })
        .map(|s| ObjectRef::from_obj(s.as_ref()))
        .collect()
}

/// A Service's pod selector, if it has a non-empty one.
fn service_selector(svc: &Service) -> Option<Selector> {
    let spec = svc.spec.as_ref()?;
    if spec.type_.as_deref() == Some("ExternalName") {
        return None;
    }
    let selector = spec.selector.as_ref().filter(|s| !s.is_empty())?;
    Selector::from_map(selector).ok()
}

/// The pods of the Service's namespace its selector picks, or `None` for
/// a Service that has no selector (its Endpoints are someone else's).
pub fn selected_pods(svc: &Service, pods: &Store<Pod>) -> Result<Option<Vec<Arc<Pod>>>> {
    let Some(spec) = svc.spec.as_ref() else {
        return Ok(None);
    };
    if spec.type_.as_deref() == Some("ExternalName") {
        return Ok(None);
    }
    let Some(selector) = spec.selector.as_ref().filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let selector =
        Selector::from_map(selector).map_err(|e| Error::invalid("service selector", e.0))?;
    let ns = svc.namespace().unwrap_or_default();
    Ok(Some(
        pods.namespaced(&ns)
            .into_iter()
            .filter(|p| selector.matches(p.labels()))
            .collect(),
    ))
}

async fn reconcile(svc: Arc<Service>, st: Arc<State>) -> Result<Action> {
    if svc.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(pods) = selected_pods(&svc, &st.pods)? else {
        return Ok(Action::await_change());
    };
    let refs: Vec<&Pod> = pods.iter().map(Arc::as_ref).collect();
    let subsets = subsets::endpoint_subsets(&svc, &refs);
    let ns = svc
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let name = svc.name_any();
    let api: Api<Endpoints> = Api::namespaced(st.client.clone(), &ns);
    let mut labels: BTreeMap<String, String> = svc.labels().clone();
    labels.insert(SKIP_MIRROR_LABEL.into(), "true".into());
    if subsets::is_headless(&svc) {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    }
    let desired_subsets = (!subsets.is_empty()).then_some(subsets);
    match api.get_opt(&name).await? {
        Some(mut cur) => {
            let same = cur.subsets.clone().unwrap_or_default()
                == desired_subsets.clone().unwrap_or_default()
                && cur.metadata.labels.clone().unwrap_or_default() == labels;
            if same {
                return Ok(Action::await_change());
            }
            cur.subsets = desired_subsets;
            cur.metadata.labels = Some(labels);
            cur.metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(TRIGGER_TIME_ANNOTATION.into(), now_rfc3339());
            api.replace(&name, &PostParams::default(), &cur).await?;
        }
        None => {
            let mut ep = Endpoints {
                subsets: desired_subsets,
                ..Default::default()
            };
            ep.metadata.name = Some(name);
            ep.metadata.namespace = Some(ns);
            ep.metadata.labels = Some(labels);
            ep.metadata.annotations = Some(BTreeMap::from([(
                TRIGGER_TIME_ANNOTATION.to_string(),
                now_rfc3339(),
            )]));
            match api.create(&PostParams::default(), &ep).await {
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    return Ok(Action::requeue(std::time::Duration::from_millis(200)));
                }
                r => {
                    r?;
                }
            }
        }
    }
    Ok(Action::await_change())
}

/// Endpoints written by this controller whose Service is gone are deleted.
async fn delete_if_service_gone(ep: Arc<Endpoints>, st: Arc<State>) -> Result<Action> {
    let ours = ep.annotations().contains_key(TRIGGER_TIME_ANNOTATION);
    if !ours || ep.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = ep.namespace().ok_or(Error::Missing("metadata.namespace"))?;
    let services: Api<Service> = Api::namespaced(st.client.clone(), &ns);
    if services.get_opt(&ep.name_any()).await?.is_none() {
        let api: Api<Endpoints> = Api::namespaced(st.client.clone(), &ns);
        match api.delete(&ep.name_any(), &DeleteParams::default()).await {
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            r => {
                r?;
            }
        }
    }
    Ok(Action::await_change())
}
