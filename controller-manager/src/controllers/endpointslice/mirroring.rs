//! The endpointslice-mirroring controller: Endpoints written by hand for a
//! Service without a selector get matching EndpointSlices, so consumers
//! that read only slices (kube-proxy) see those addresses too.

use super::{SliceSet, slices};
use crate::Context;
use crate::controllers::endpoints::SKIP_MIRROR_LABEL;
use crate::controllers::reflected;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use k8s_openapi::api::core::v1::{Endpoints, Service};
use kube::api::Api;
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const MANAGED_BY: &str = "endpointslicemirroring-controller.k8s.io";

struct State {
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let endpoints = ctx.informers.get::<Endpoints>();
    let services = ctx.informers.get::<Service>();
    let endpoint_events = endpoints.subscribe().objects();
    let service_events = services.subscribe().objects();
    let controller = Controller::for_shared_stream(endpoint_events, endpoints.reader().await)
        .watches_shared_stream(service_events, |svc: Arc<Service>| {
            Some(
                ObjectRef::<Endpoints>::new(&svc.name_any())
                    .within(&svc.namespace().unwrap_or_default()),
            )
        });
    run_controller(
        "endpointslice-mirroring",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

async fn reconcile(ep: Arc<Endpoints>, st: Arc<State>) -> Result<Action> {
    if ep.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let ns = ep.namespace().ok_or(Error::Missing("metadata.namespace"))?;
    let services: Api<Service> = Api::namespaced(st.client.clone(), &ns);
    let service = services.get_opt(&ep.name_any()).await?;
    let skip = ep
        .labels()
        .get(SKIP_MIRROR_LABEL)
        .is_some_and(|v| v == "true");
    let has_selector = service
        .as_ref()
        .and_then(|s| s.spec.as_ref())
        .and_then(|s| s.selector.as_ref())
        .is_some_and(|s| !s.is_empty());
    let set = SliceSet {
        namespace: ns,
        service: ep.name_any(),
        managed_by: MANAGED_BY,
        owner: reflected::controller_ref(ep.as_ref()),
        labels: BTreeMap::new(),
    };
    if skip || has_selector || service.is_none() {
        // Nothing to mirror; drop slices mirrored earlier.
        set.sync_none(&st.client).await?;
        return Ok(Action::await_change());
    }
    let subsets = ep.subsets.clone().unwrap_or_default();
    let mut desired = slices::slices_for_subsets(&subsets);
    if subsets.is_empty() {
        desired.clear();
    }
    set.sync(&st.client, desired).await?;
    Ok(Action::await_change())
}

impl SliceSet {
    /// Deletes every slice of the set.
    async fn sync_none(&self, client: &kube::Client) -> Result<()> {
        self.sync(client, Vec::new()).await
    }
}
