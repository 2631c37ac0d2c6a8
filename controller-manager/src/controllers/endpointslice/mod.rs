//! The endpointslice controller: make every Service with a selector own
//! EndpointSlices (`<service>-<random>`) that list the pods it selects,
//! grouped by address family and port list.

pub mod mirroring;
pub mod slices;

use crate::Context;
use crate::controllers::endpoints::{selected_pods, service_controller, subsets};
use crate::controllers::reflected;
use crate::controllers::run_controller;
use crate::error::{Error, Result};
use client::informer::Store;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use slices::DesiredSlice;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
pub const MANAGED_BY: &str = "endpointslice-controller.k8s.io";

struct State {
    client: kube::Client,
    pods: Store<Pod>,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let slices = ctx.informers.get::<EndpointSlice>();
    let slice_events = slices.subscribe().objects();
    let (controller, pods) =
        service_controller(&ctx, ctx.options.concurrent_service_endpoint_syncs).await?;
    let controller = controller.owns_shared_stream(slice_events);
    let state = Arc::new(State { client, pods });
    run_controller(
        "endpointslice",
        ctx.metrics.clone(),
        controller,
        reconcile,
        state,
    )
    .await
}

async fn reconcile(svc: Arc<Service>, st: Arc<State>) -> Result<Action> {
    if svc.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(pods) = selected_pods(&svc, &st.pods)? else {
        return Ok(Action::await_change());
    };
    let endpoints: Vec<subsets::PodEndpoint> = pods
        .iter()
        .filter_map(|p| subsets::pod_endpoint(&svc, p))
        .collect();
    let headless_without_ports = subsets::is_headless(&svc)
        && svc
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .is_none_or(Vec::is_empty);
    let desired = slices::slices_for_pods(&endpoints, headless_without_ports);
    let ns = svc
        .namespace()
        .ok_or(Error::Missing("metadata.namespace"))?;
    let mut labels = svc.labels().clone();
    if subsets::is_headless(&svc) {
        labels.insert(
            crate::controllers::endpoints::HEADLESS_LABEL.into(),
            String::new(),
        );
    }
    let target = SliceSet {
        namespace: ns,
        service: svc.name_any(),
        managed_by: MANAGED_BY,
        owner: reflected::controller_ref(svc.as_ref()),
        labels,
    };
    target.sync(&st.client, desired).await?;
    Ok(Action::await_change())
}

/// The slices one controller keeps for one Service.
pub struct SliceSet {
    pub namespace: String,
    pub service: String,
    pub managed_by: &'static str,
    pub owner: OwnerReference,
    /// Labels copied onto every slice besides the service-name and
    /// managed-by labels.
    pub labels: BTreeMap<String, String>,
}

impl SliceSet {
    fn labels(&self) -> BTreeMap<String, String> {
        let mut l = self.labels.clone();
        l.insert(SERVICE_NAME_LABEL.into(), self.service.clone());
        l.insert(MANAGED_BY_LABEL.into(), self.managed_by.into());
        l
    }

    /// Makes the existing slices match `desired`: slices with the same
    /// family and ports are updated in place, missing ones created, the
    /// rest deleted.
    pub async fn sync(&self, client: &kube::Client, desired: Vec<DesiredSlice>) -> Result<()> {
        let api: Api<EndpointSlice> = Api::namespaced(client.clone(), &self.namespace);
        let selector = format!(
            "{SERVICE_NAME_LABEL}={},{MANAGED_BY_LABEL}={}",
            self.service, self.managed_by
        );
        let mut existing = api
            .list(&ListParams::default().labels(&selector))
            .await?
            .items;
        existing.sort_by_key(|s| s.name_any());
        let labels = self.labels();
        let mut unused: Vec<Option<EndpointSlice>> = existing.into_iter().map(Some).collect();
        for want in desired {
            let slot = unused.iter_mut().find(|s| {
                s.as_ref()
                    .is_some_and(|s| s.address_type == want.address_type && s.ports == want.ports)
            });
            match slot.and_then(Option::take) {
                Some(mut cur) => {
                    let same = cur.endpoints == want.endpoints
                        && cur.metadata.labels.as_ref() == Some(&labels)
                        && cur.owner_references().contains(&self.owner);
                    if !same {
                        cur.endpoints = want.endpoints;
                        cur.metadata.labels = Some(labels.clone());
                        cur.metadata.owner_references = Some(vec![self.owner.clone()]);
                        api.replace(&cur.name_any(), &PostParams::default(), &cur)
                            .await?;
                    }
                }
                None => {
                    let mut s = EndpointSlice {
                        address_type: want.address_type,
                        endpoints: want.endpoints,
                        ports: want.ports,
                        ..Default::default()
                    };
                    s.metadata.generate_name = Some(format!("{}-", self.service));
                    s.metadata.namespace = Some(self.namespace.clone());
                    s.metadata.labels = Some(labels.clone());
                    s.metadata.owner_references = Some(vec![self.owner.clone()]);
                    api.create(&PostParams::default(), &s).await?;
                }
            }
        }
        for extra in unused.into_iter().flatten() {
            match api
                .delete(&extra.name_any(), &DeleteParams::default())
                .await
            {
                Err(kube::Error::Api(e)) if e.code == 404 => {}
                r => {
                    r?;
                }
            }
        }
        Ok(())
    }
}
