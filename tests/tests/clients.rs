//! Clients nobody here wrote, against the real apiserver: kube-rs (its
//! reflector across an apiserver restart and an etcd compaction) and the
//! official Python client.

use futures::StreamExt;
use harness::apiserver::ApiCluster;
use harness::bins;
use harness::process::run;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

async fn kube_client(cluster: &ApiCluster) -> kube::Client {
    let kubeconfig = Kubeconfig::read_from(cluster.kubeconfig("admin")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kube config");
    kube::Client::try_from(config).expect("kube client")
}

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"suite": "reflector"}},
        "data": {"k": name},
    }))
    .expect("configmap")
}

/// Waits until the reflector's store holds exactly `want`.
async fn store_converges(
    store: &reflector::Store<ConfigMap>,
    want: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut have = BTreeSet::new();
    for _ in 0..150 {
        have = store
            .state()
            .iter()
            .map(|c| c.metadata.name.clone().unwrap_or_default())
            .collect();
        if &have == want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    have
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_rs_reflector_survives_apiserver_restart_and_compaction() {
    let mut cluster = tokio::task::spawn_blocking(ApiCluster::start)
        .await
        .expect("cluster");
    let client = kube_client(&cluster).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let (store, writer) = reflector::store();
    let selector = watcher::Config::default().labels("suite=reflector");
    let stream = reflector(writer, watcher(api.clone(), selector))
        .default_backoff()
        .applied_objects();
    let task = tokio::spawn(stream.for_each(|_| async {}));

    let mut want = BTreeSet::new();
    for i in 0..5 {
        api.create(&PostParams::default(), &config_map(&format!("cm-{i}")))
            .await
            .expect("create");
        want.insert(format!("cm-{i}"));
    }
    assert_eq!(
        store_converges(&store, &want).await,
        want,
        "initial list+watch"
    );

    // The apiserver restarts: the watch breaks and resumes.
    tokio::task::block_in_place(|| cluster.restart_apiserver());
    for i in 5..8 {
        api.create(&PostParams::default(), &config_map(&format!("cm-{i}")))
            .await
            .expect("create after restart");
        want.insert(format!("cm-{i}"));
    }
    api.delete("cm-0", &DeleteParams::default())
        .await
        .expect("delete");
    want.remove("cm-0");
    assert_eq!(
        store_converges(&store, &want).await,
        want,
        "after an apiserver restart"
    );

    // While the apiserver is down, the store changes and etcd compacts past
    // the watcher's resourceVersion: resuming answers 410 Gone, and the
    // reflector must relist to see the change.
    tokio::task::block_in_place(|| {
        cluster.apiserver.stop();
        let object = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cm-direct", "namespace": "default", "uid": "6f1b7c1e-0000-4000-8000-000000000001",
                "creationTimestamp": "2026-01-01T00:00:00Z", "labels": {"suite": "reflector"}},
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
    want.insert("cm-direct".to_string());
    want.remove("cm-1");
    assert_eq!(
        store_converges(&store, &want).await,
        want,
        "after a compaction (relist on 410)"
    );
    task.abort();
}

#[test]
fn official_python_client_round_trip() {
    let python = bins::repo_root().join("target/pyenv/bin/python3");
    assert!(
        python.exists(),
        "{} is missing: cluster/packages.sh test installs the Python client into it",
        python.display()
    );
    let cluster = ApiCluster::start();
    let script = bins::repo_root().join("tests/python/client_roundtrip.py");
    let (ok, out, err) = run(Command::new(&python)
        .arg(&script)
        .arg(cluster.kubeconfig("admin")));
    assert!(
        ok,
        "python client failed:\n{out}\n{err}\napiserver:\n{}",
        cluster.apiserver.log_tail(20)
    );
    assert!(out.contains("checks passed"), "{out}");
}
