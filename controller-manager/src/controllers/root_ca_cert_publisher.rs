//! The root-ca-cert-publisher: make every active namespace have a
//! `kube-root-ca.crt` ConfigMap holding the cluster's root CA bundle, so
//! pods can verify the apiserver.

use crate::Context;
use crate::controllers::run_controller;
use crate::controllers::serviceaccount::is_terminating;
use crate::error::Result;
use anyhow::Context as _;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::ResourceExt;
use kube::api::ApiResource;
use kube::api::{Api, PostParams};
use kube::runtime::Controller;
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const CONFIG_MAP: &str = "kube-root-ca.crt";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

struct State {
    client: kube::Client,
    ca_pem: String,
}

/// The root CA: `--root-ca-file`, or else the CA this process trusts the
/// apiserver with (its kubeconfig's), as upstream falls back to.
fn root_ca(ctx: &Context) -> anyhow::Result<String> {
    if let Some(path) = &ctx.options.root_ca_file {
        return std::fs::read_to_string(path)
            .with_context(|| format!("reading --root-ca-file {}", path.display()));
    }
    let kubeconfig = ctx
        .options
        .common
        .kubeconfig
        .as_ref()
        .context("no --root-ca-file and no --kubeconfig")?;
    let conn = apimachinery::kubeconfig::load_connection(kubeconfig)?;
    let pem = conn
        .ca_pem
        .context("the kubeconfig names no certificate authority")?;
    Ok(String::from_utf8(pem)?)
}

pub async fn run(ctx: Context) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let ca_pem = root_ca(&ctx)?;
    let namespaces = ctx.informers.get::<Namespace>();
    let namespace_events = namespaces.subscribe().objects();
    let reader = namespaces.reader().await;
    // Only the metadata of ConfigMaps is needed to notice the published one
    // changing or going away (shared with any typed ConfigMap informer).
    let config_maps = ctx
        .informers
        .metadata_for(&ApiResource::erase::<ConfigMap>(&()));
    let config_map_triggers = config_maps.subscribe_metadata().filter_map(|e| {
        let meta = e.object();
        let wanted = meta.name.as_deref() == Some(CONFIG_MAP);
        futures::future::ready(
            wanted
                .then(|| meta.namespace.as_deref().map(ObjectRef::<Namespace>::new))
                .flatten(),
        )
    });
    let controller =
        Controller::for_shared_stream(namespace_events, reader).reconcile_on(config_map_triggers);
    run_controller(
        "root-ca-cert-publisher",
        ctx.metrics.clone(),
        controller,
        reconcile,
        Arc::new(State { client, ca_pem }),
    )
    .await
}

async fn reconcile(ns: Arc<Namespace>, st: Arc<State>) -> Result<Action> {
    if is_terminating(&ns) {
        return Ok(Action::await_change());
    }
    let api: Api<ConfigMap> = Api::namespaced(st.client.clone(), &ns.name_any());
    let data = BTreeMap::from([("ca.crt".to_string(), st.ca_pem.clone())]);
    match api.get_opt(CONFIG_MAP).await? {
        Some(cm) if cm.data.as_ref() == Some(&data) => {}
        Some(mut cm) => {
            cm.data = Some(data);
            api.replace(CONFIG_MAP, &PostParams::default(), &cm).await?;
        }
        None => {
            let mut cm = ConfigMap {
                data: Some(data),
                ..Default::default()
            };
            cm.metadata.name = Some(CONFIG_MAP.into());
            cm.metadata.annotations = Some(BTreeMap::from([(
                "kubernetes.io/description".to_string(),
                DESCRIPTION.to_string(),
            )]));
            match api.create(&PostParams::default(), &cm).await {
                Err(kube::Error::Api(e)) if matches!(e.code, 403 | 409) => {}
                r => {
                    r?;
                }
            }
        }
    }
    Ok(Action::await_change())
}
