//! The client crate's shared informers against a real apiserver and etcd:
//! deletions reach subscribers with the object's final state, a relist
//! after 410 Gone (etcd compacted while the watch was down) delivers the
//! deletions that happened meanwhile, and indexes follow adds, updates and
//! deletes. Metadata-only informers see the same.

use client::informer::{Event, SharedInformerFactory, Subscription};
use harness::apiserver::ApiCluster;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ApiResource, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

async fn kube_client(cluster: &ApiCluster) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(cluster.kubeconfig("admin")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

fn config_map(name: &str, color: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"color": color}},
        "data": {"k": name},
    }))
    .expect("configmap")
}

fn name_of(cm: &ConfigMap) -> String {
    cm.metadata.name.clone().unwrap_or_default()
}

fn data_of(cm: &ConfigMap) -> String {
    cm.data
        .as_ref()
        .and_then(|d| d.get("k"))
        .cloned()
        .unwrap_or_default()
}

/// The next event `pick` accepts, within 30 s.
async fn next<K, T>(sub: &mut Subscription<K>, mut pick: impl FnMut(&Event<K>) -> Option<T>) -> T
where
    K: kube::Resource + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Send + Sync,
{
    let wait = async {
        loop {
            let e = sub.recv().await;
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("no such event within 30 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_reach_subscribers_with_the_final_state() {
    let cluster = tokio::task::spawn_blocking(ApiCluster::start)
        .await
        .expect("cluster");
    let client = kube_client(&cluster).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let factory = SharedInformerFactory::new(client.clone());
    let informer = factory.get::<ConfigMap>();
    assert!(
        Arc::ptr_eq(&informer, &factory.get::<ConfigMap>()),
        "one informer per kind"
    );
    let mut sub = informer.subscribe();
    // A metadata-only informer of the same resource from another factory
    // (its own metadata watch: this one has no typed ConfigMap informer).
    let meta_factory = SharedInformerFactory::new(client.clone());
    let meta = meta_factory.metadata_for(&ApiResource::erase::<ConfigMap>(&()));
    // Drained as events come (the way a controller would), into a channel.
    let (meta_tx, mut meta_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut meta_stream = meta.subscribe_metadata();
    tokio::spawn(async move {
        use futures::StreamExt;
        while let Some(e) = meta_stream.next().await {
            if meta_tx.send(e).is_err() {
                return;
            }
        }
    });
    informer.wait_synced().await;
    meta.synced().await;

    // Each step is awaited: a subscriber that lags sees merged events (an
    // object added and deleted unseen is not delivered at all).
    api.create(&PostParams::default(), &config_map("a", "red"))
        .await
        .expect("create");
    next(&mut sub, |e| match e {
        Event::Added(o) if name_of(o) == "a" => Some(()),
        _ => None,
    })
    .await;
    let patch = serde_json::json!({"data": {"k": "last words"}});
    api.patch("a", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("update");
    let (old, new) = next(&mut sub, |e| match e {
        Event::Updated { old, new } if name_of(new) == "a" => Some((data_of(old), data_of(new))),
        _ => None,
    })
    .await;
    assert_eq!((old.as_str(), new.as_str()), ("a", "last words"));
    api.delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    let gone = next(&mut sub, |e| match e {
        Event::Deleted(o) if name_of(o) == "a" => Some(o.clone()),
        _ => None,
    })
    .await;
    assert_eq!(data_of(&gone), "last words", "the final state");
    assert!(informer.store().get_in(Some("default"), "a").is_none());

    let meta_gone = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(e) = meta_rx.recv().await {
            if let Event::Deleted(m) = e
                && m.name.as_deref() == Some("a")
            {
                return m;
            }
        }
        panic!("metadata stream ended");
    })
    .await
    .expect("metadata informer saw the delete");
    assert!(meta_gone.uid.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relist_after_410_delivers_what_was_deleted_meanwhile() {
    let mut cluster = tokio::task::spawn_blocking(ApiCluster::start)
        .await
        .expect("cluster");
    let client = kube_client(&cluster).await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    for i in 0..4 {
        api.create(
            &PostParams::default(),
            &config_map(&format!("cm-{i}"), "red"),
        )
        .await
        .expect("create");
    }
    let factory = SharedInformerFactory::new(client);
    let informer = factory.get::<ConfigMap>();
    let mut sub = informer.subscribe();
    informer.wait_synced().await;
    let patch = serde_json::json!({"data": {"k": "changed before the outage"}});
    api.patch("cm-1", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("update");
    // Added and Updated of one object may arrive merged (a subscriber that
    // has not caught up sees the newest state once).
    next(&mut sub, |e| match e {
        Event::Updated { new: o, .. } | Event::Added(o)
            if name_of(o) == "cm-1" && data_of(o) == "changed before the outage" =>
        {
            Some(())
        }
        _ => None,
    })
    .await;

    // While the apiserver is down, cm-1 is deleted and cm-direct written
    // behind its back, and etcd compacts past the watch's resourceVersion:
    // resuming answers 410 Gone and the informer relists.
    tokio::task::block_in_place(|| {
        cluster.apiserver.stop();
        let object = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm-direct", "namespace": "default",
                "uid": "6f1b7c1e-0000-4000-8000-000000000002",
                "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"color": "blue"}},
            "data": {"k": "direct"},
        });
        cluster.etcdctl(&[
            "put",
            "/registry/configmaps/default/cm-direct",
            &object.to_string(),
        ]);
        cluster.etcdctl(&["del", "/registry/configmaps/default/cm-1"]);
        cluster.compact_etcd();
        cluster.restart_apiserver();
    });

    let mut seen = BTreeSet::new();
    let mut deleted = None;
    while deleted.is_none() || !seen.contains("added cm-direct") {
        let e = tokio::time::timeout(Duration::from_secs(60), sub.recv())
            .await
            .expect("the relist's events");
        match e {
            Event::Added(o) => {
                seen.insert(format!("added {}", name_of(&o)));
            }
            Event::Deleted(o) if name_of(&o) == "cm-1" => deleted = Some(o),
            Event::Deleted(o) => panic!("unexpected delete of {}", name_of(&o)),
            Event::Updated { .. } => {}
        }
    }
    // The last state the cache had of what disappeared.
    let deleted = deleted.expect("cm-1 deleted");
    assert_eq!(data_of(&deleted), "changed before the outage");
    let names: BTreeSet<String> = informer
        .store()
        .namespaced("default")
        .iter()
        .map(|c| name_of(c))
        .filter(|n| n.starts_with("cm-"))
        .collect();
    let want: BTreeSet<String> = ["cm-0", "cm-2", "cm-3", "cm-direct"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(names, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_follow_adds_updates_and_deletes() {
    let cluster = tokio::task::spawn_blocking(ApiCluster::start)
        .await
        .expect("cluster");
    let client = kube_client(&cluster).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "other"}})).expect("ns");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    let default: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let other: Api<ConfigMap> = Api::namespaced(client.clone(), "other");
    default
        .create(&PostParams::default(), &config_map("a", "red"))
        .await
        .expect("create");

    let factory = SharedInformerFactory::new(client);
    let informer = factory.get::<ConfigMap>();
    let store = informer.store().clone();
    store
        .add_index("color", |cm: &ConfigMap| {
            cm.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("color"))
                .cloned()
                .into_iter()
                .collect()
        })
        .expect("index");
    let mut sub = informer.subscribe();
    informer.wait_synced().await;
    next(&mut sub, |e| match e {
        Event::Added(o) if name_of(o) == "a" => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(store.by_index("color", "red").expect("index").len(), 1);

    default
        .create(&PostParams::default(), &config_map("b", "red"))
        .await
        .expect("create");
    other
        .create(&PostParams::default(), &config_map("c", "blue"))
        .await
        .expect("create");
    let patch = serde_json::json!({"metadata": {"labels": {"color": "blue"}}});
    default
        .patch("b", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("relabel");
    default
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    next(&mut sub, |e| match e {
        Event::Deleted(o) if name_of(o) == "a" => Some(()),
        _ => None,
    })
    .await;

    let names = |v: Vec<Arc<ConfigMap>>| -> BTreeSet<String> {
        v.iter()
            .map(|c| name_of(c))
            .filter(|n| n.len() == 1)
            .collect()
    };
    let set = |s: &[&str]| -> BTreeSet<String> { s.iter().map(|x| x.to_string()).collect() };
    assert_eq!(
        names(store.by_index("color", "red").expect("index")),
        set(&[])
    );
    assert_eq!(
        names(store.by_index("color", "blue").expect("index")),
        set(&["b", "c"])
    );
    assert_eq!(names(store.namespaced("default")), set(&["b"]));
    assert_eq!(names(store.namespaced("other")), set(&["c"]));
}
