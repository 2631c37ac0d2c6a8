//! The serviceaccount controller: make every active namespace have a
//! `default` ServiceAccount (recreated when someone deletes it).

use crate::Context;
use crate::controllers::run_controller;
use crate::error::Result;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use std::sync::Arc;

pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";

struct State {
    client: kube::Client,
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let namespaces = ctx.informers.get::<Namespace>();
    let accounts = ctx.informers.get::<ServiceAccount>();
    let namespace_events = namespaces.subscribe().objects();
    let account_events = accounts.subscribe().objects();
    let controller = Controller::for_shared_stream(namespace_events, namespaces.reader().await)
        .watches_shared_stream(account_events, |sa: Arc<ServiceAccount>| {
            (sa.name_any() == DEFAULT_SERVICE_ACCOUNT)
                .then(|| sa.namespace().map(|ns| ObjectRef::<Namespace>::new(&ns)))
                .flatten()
        });
    run_controller(
        "serviceaccount",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client }),
    )
    .await
}

/// Whether a namespace is being deleted (nothing new may be created in it).
pub fn is_terminating(ns: &Namespace) -> bool {
    ns.meta().deletion_timestamp.is_some()
        || ns.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Terminating")
}

async fn reconcile(ns: Arc<Namespace>, st: Arc<State>) -> Result<Action> {
    if is_terminating(&ns) {
        return Ok(Action::await_change());
    }
    let api: Api<ServiceAccount> = Api::namespaced(st.client.clone(), &ns.name_any());
    if api.get_opt(DEFAULT_SERVICE_ACCOUNT).await?.is_some() {
        return Ok(Action::await_change());
    }
    let mut sa = ServiceAccount::default();
    sa.metadata.name = Some(DEFAULT_SERVICE_ACCOUNT.into());
    match api.create(&PostParams::default(), &sa).await {
        // Already there, or the namespace started terminating meanwhile.
        Err(kube::Error::Api(e)) if matches!(e.code, 403 | 409) => {}
        r => {
            r?;
        }
    }
    Ok(Action::await_change())
}
