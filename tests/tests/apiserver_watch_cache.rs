//! The apiserver's watch cache through the real binary: watches resumed
//! from a recent resourceVersion are replayed from memory (and 410 Gone
//! past the ring), bookmarks, streaming lists with the initial-events-end
//! bookmark, field-indexed pod watches, a slow watcher closed without
//! stalling another, lists at resourceVersion=0 agreeing with consistent
//! lists (with limit/continue), and ONE etcd watch per resource however
//! many API watches there are.

use harness::apiserver::ApiCluster;
use harness::client::ApiClient;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// One watch response read line by line.
struct Watch {
    body: Incoming,
    buf: Vec<u8>,
}

#[derive(Debug)]
enum Next {
    Event(Value),
    End,
    Timeout,
}

impl Watch {
    async fn open(client: &ApiClient, path: &str) -> Watch {
        let resp = client.send("GET", path, None).await.expect("watch request");
        assert_eq!(resp.status(), 200, "watch {path}");
        Watch {
            body: resp.into_body(),
            buf: Vec::new(),
        }
    }

    async fn next(&mut self, wait: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                return Next::Event(serde_json::from_slice(&line).expect("watch line is JSON"));
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Next::Timeout,
                Ok(None) | Ok(Some(Err(_))) => return Next::End,
                Ok(Some(Ok(f))) => {
                    if let Some(d) = f.data_ref() {
                        self.buf.extend_from_slice(d);
                    }
                }
            }
        }
    }

    /// The next event, failing the test on timeout or end.
    async fn event(&mut self) -> Value {
        match self.next(Duration::from_secs(20)).await {
            Next::Event(e) => e,
            other => panic!("expected a watch event, got {other:?}"),
        }
    }
}

fn name(ev: &Value) -> String {
    ev["object"]["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn rv_of(obj: &Value) -> i64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("resourceVersion")
}

async fn create_cm(c: &ApiClient, ns: &str, name: &str, data: &str) -> Value {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"suite": "watch-cache"}}, "data": {"k": data}});
    let (code, out) = c
        .call(
            "POST",
            &format!("/api/v1/namespaces/{ns}/configmaps"),
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await
        .expect("create");
    assert_eq!(code, 201, "{}", String::from_utf8_lossy(&out));
    serde_json::from_slice(&out).unwrap()
}

async fn get_json(c: &ApiClient, path: &str) -> Value {
    let (code, out) = c.call("GET", path, None).await.expect("GET");
    assert_eq!(code, 200, "{path}: {}", String::from_utf8_lossy(&out));
    serde_json::from_slice(&out).unwrap()
}

/// Every name a list returns, following `continue` with pages of `limit`.
async fn list_names(c: &ApiClient, path: &str, limit: usize) -> (BTreeSet<String>, usize) {
    let mut names = BTreeSet::new();
    let mut pages = 0;
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut next = format!("{path}{sep}limit={limit}");
    loop {
        let l = get_json(c, &next).await;
        pages += 1;
        for i in l["items"].as_array().unwrap() {
            names.insert(i["metadata"]["name"].as_str().unwrap().to_string());
        }
        match l["metadata"]["continue"].as_str() {
            Some(t) if !t.is_empty() => {
                // Later pages carry only the token (as clients send them).
                let base = path.split('?').next().unwrap();
                next = format!("{base}?limit={limit}&continue={t}");
            }
            _ => return (names, pages),
        }
    }
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn cluster(args: &'static [&'static str]) -> ApiCluster {
    tokio::task::spawn_blocking(move || ApiCluster::start_with(args))
        .await
        .expect("cluster starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_resume_from_the_ring_and_older_ones_get_410() {
    let c = cluster(&["--default-watch-cache-size=20"]).await;
    let api = ApiClient::connect(&c.kubeconfig("admin")).await.unwrap();
    let ns = "default";
    // Start the configmaps cache (a watch from "now").
    let base = get_json(&api, "/api/v1/namespaces/default/configmaps").await;
    let mut opener = Watch::open(
        &api,
        &format!(
            "/api/v1/configmaps?watch=1&resourceVersion={}",
            base["metadata"]["resourceVersion"].as_str().unwrap()
        ),
    )
    .await;
    let a1 = create_cm(&api, ns, "a1", "1").await;
    create_cm(&api, ns, "a2", "2").await;
    create_cm(&api, ns, "a3", "3").await;
    assert_eq!(name(&opener.event().await), "a1");

    // From a1's resourceVersion: a2 and a3, never a1.
    let from = rv_of(&a1);
    let mut w = Watch::open(
        &api,
        &format!("/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={from}"),
    )
    .await;
    let e2 = w.event().await;
    let e3 = w.event().await;
    assert_eq!(
        (name(&e2), e2["type"].as_str()),
        ("a2".into(), Some("ADDED"))
    );
    assert_eq!(name(&e3), "a3");
    assert!(matches!(
        w.next(Duration::from_millis(500)).await,
        Next::Timeout
    ));

    // Push a1's revision out of the 20-event ring: 410 Gone as an ERROR event.
    for i in 0..25 {
        create_cm(&api, ns, &format!("b{i}"), "x").await;
    }
    let mut old = Watch::open(
        &api,
        &format!("/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={from}"),
    )
    .await;
    let err = old.event().await;
    assert_eq!(err["type"], "ERROR", "{err}");
    assert_eq!(err["object"]["code"], 410, "{err}");
    assert_eq!(err["object"]["reason"], "Expired", "{err}");
    let msg = err["object"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with(&format!("too old resource version: {from} (")),
        "{msg}"
    );
    assert!(matches!(old.next(Duration::from_secs(5)).await, Next::End));

    // A resourceVersion etcd has not reached: refused, and the secrets
    // cache it started still comes up and serves.
    let mut future = Watch::open(
        &api,
        "/api/v1/namespaces/default/secrets?watch=1&resourceVersion=999999999",
    )
    .await;
    let err = future.event().await;
    assert_eq!(err["type"], "ERROR", "{err}");
    assert_eq!(err["object"]["code"], 504, "{err}");
    let msg = err["object"]["message"].as_str().unwrap();
    assert!(
        msg.starts_with("Too large resource version: 999999999, current: "),
        "{msg}"
    );
    let secrets = get_json(&api, "/api/v1/namespaces/default/secrets?resourceVersion=0").await;
    assert_eq!(secrets["kind"], "SecretList", "{secrets}");

    // A watch from the newest revision still works after that.
    let newest = create_cm(&api, ns, "c1", "1").await;
    let mut w = Watch::open(
        &api,
        &format!(
            "/api/v1/namespaces/{ns}/configmaps?watch=1&resourceVersion={}",
            rv_of(&newest)
        ),
    )
    .await;
    create_cm(&api, ns, "c2", "2").await;
    assert_eq!(name(&w.event().await), "c2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_initial_events_lists_and_one_etcd_watch_per_resource() {
    let c = cluster(&[]).await;
    let api = ApiClient::connect(&c.kubeconfig("admin")).await.unwrap();
    let ns = "default";
    for i in 0..25 {
        create_cm(&api, ns, &format!("cm-{i:02}"), "x").await;
    }

    // Streaming list: every object as ADDED, then the bookmark that ends them.
    let mut w = Watch::open(
        &api,
        "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&labelSelector=suite%3Dwatch-cache",
    )
    .await;
    let mut initial = BTreeSet::new();
    let end = loop {
        let e = w.event().await;
        match e["type"].as_str() {
            Some("ADDED") => {
                initial.insert(name(&e));
            }
            Some("BOOKMARK") => break e,
            other => panic!("unexpected {other:?}: {e}"),
        }
    };
    assert_eq!(initial.len(), 25, "{initial:?}");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true",
        "{end}"
    );
    let end_rv = rv_of(&end["object"]);

    // Changes after the initial events, then a bookmark at least as new.
    let late = create_cm(&api, ns, "late", "x").await;
    let e = w.event().await;
    assert_eq!(
        (e["type"].as_str(), name(&e)),
        (Some("ADDED"), "late".into())
    );
    assert!(rv_of(&e["object"]) > end_rv);
    let bm = match w.next(Duration::from_secs(20)).await {
        Next::Event(e) if e["type"] == "BOOKMARK" => e,
        other => panic!("expected a bookmark, got {other:?}"),
    };
    assert!(rv_of(&bm["object"]) >= rv_of(&late), "{bm}");
    assert!(
        bm["object"]["metadata"].get("annotations").is_none(),
        "{bm}"
    );

    // Lists at resourceVersion=0 (the cache) and consistent lists (etcd)
    // agree after writes, whole and in pages.
    for i in 0..10 {
        create_cm(&api, ns, &format!("more-{i}"), "y").await;
    }
    let (_, del) = api
        .call(
            "DELETE",
            "/api/v1/namespaces/default/configmaps/cm-00",
            None,
        )
        .await
        .unwrap();
    assert!(!del.is_empty());
    let path = "/api/v1/namespaces/default/configmaps?labelSelector=suite%3Dwatch-cache";
    let (consistent, pages) = list_names(&api, path, 7).await;
    assert_eq!(consistent.len(), 35, "{consistent:?}");
    assert!(pages > 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let cached = get_json(&api, &format!("{path}&resourceVersion=0")).await;
        let names: BTreeSet<String> = cached["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        if names == consistent {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "cache {names:?} vs etcd {consistent:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (paged, pages) = list_names(&api, &format!("{path}&resourceVersion=0"), 7).await;
    assert_eq!(paged, consistent);
    assert!(pages > 1);
    // A page from the cache: remainingItemCount without selectors.
    let first = get_json(
        &api,
        "/api/v1/namespaces/default/configmaps?resourceVersion=0&limit=5",
    )
    .await;
    assert_eq!(first["items"].as_array().unwrap().len(), 5);
    assert!(first["metadata"]["continue"].as_str().is_some(), "{first}");
    assert!(
        first["metadata"]["remainingItemCount"].as_i64().unwrap() > 0,
        "{first}"
    );

    // ONE etcd watch for configmaps, however many API watches.
    let before = c.etcd_watchers();
    assert!(before.is_finite(), "etcd's /metrics has no watcher count");
    let mut watches = Vec::new();
    for i in 0..20 {
        let sel = if i % 2 == 0 {
            ""
        } else {
            "&labelSelector=suite%3Dwatch-cache"
        };
        watches.push(
            Watch::open(
                &api,
                &format!("/api/v1/configmaps?watch=1&resourceVersion=0{sel}"),
            )
            .await,
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = c.etcd_watchers();
    assert_eq!(
        before, after,
        "etcd watchers grew from {before} to {after} with 20 API watches"
    );
    let (_, m) = api.call("GET", "/metrics", None).await.unwrap();
    let m = String::from_utf8_lossy(&m);
    assert_eq!(
        metric(
            &m,
            "apiserver_watch_cache_etcd_watches{resource=\"configmaps\"}"
        ),
        Some(1.0),
        "{m}"
    );
    assert!(
        metric(
            &m,
            "apiserver_watch_cache_watchers{resource=\"configmaps\"}"
        )
        .unwrap()
            >= 21.0
    );
    // And every one of them sees a change.
    create_cm(&api, ns, "seen-by-all", "z").await;
    for w in &mut watches {
        loop {
            let e = w.event().await;
            if name(&e) == "seen-by-all" {
                break;
            }
        }
    }
    eprintln!("etcd watchers: {before} before and {after} after 20 more API watches of configmaps");
}

fn pod(name: &str, node: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_indexed_watches_and_a_slow_watcher() {
    // A ring of 100: each watcher's buffer is 10 events.
    let c = cluster(&["--default-watch-cache-size=100"]).await;
    let api = ApiClient::connect(&c.kubeconfig("admin")).await.unwrap();

    // Field-indexed: each node's watcher gets its node's pods only.
    let mut n1 = Watch::open(
        &api,
        "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1",
    )
    .await;
    let mut n2 = Watch::open(
        &api,
        "/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn2",
    )
    .await;
    for i in 0..6 {
        let node = if i % 3 == 0 { "n1" } else { "n2" };
        let (code, out) = api
            .call(
                "POST",
                "/api/v1/namespaces/default/pods",
                Some(pod(&format!("p{i}"), node)),
            )
            .await
            .unwrap();
        assert_eq!(code, 201, "{}", String::from_utf8_lossy(&out));
    }
    let mut got1 = BTreeSet::new();
    for _ in 0..2 {
        let e = n1.event().await;
        assert_eq!(e["object"]["spec"]["nodeName"], "n1", "{e}");
        got1.insert(name(&e));
    }
    assert_eq!(got1, BTreeSet::from(["p0".to_string(), "p3".to_string()]));
    assert!(matches!(
        n1.next(Duration::from_secs(1)).await,
        Next::Timeout
    ));
    for _ in 0..4 {
        let e = n2.event().await;
        assert_eq!(e["object"]["spec"]["nodeName"], "n2", "{e}");
    }
    assert!(matches!(
        n2.next(Duration::from_secs(1)).await,
        Next::Timeout
    ));

    // A slow watcher (its client stops reading) is closed; a watcher
    // beside it gets every event, promptly.
    let big = "x".repeat(200 * 1024);
    let slow_client = ApiClient::connect(&c.kubeconfig("admin")).await.unwrap();
    let mut slow = Watch::open(
        &slow_client,
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0",
    )
    .await;
    let mut fast = Watch::open(
        &api,
        "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0",
    )
    .await;
    let n = 150;
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        let t = Instant::now();
        while seen < n {
            match fast.next(Duration::from_secs(30)).await {
                Next::Event(e) if e["type"] == "ADDED" => seen += 1,
                Next::Event(_) => {}
                other => panic!("fast watcher stopped after {seen}: {other:?}"),
            }
        }
        (seen, t.elapsed())
    });
    for i in 0..n {
        create_cm(&api, "default", &format!("big-{i}"), &big).await;
    }
    let (seen, took) = reader.await.unwrap();
    assert_eq!(seen, n);
    // Now the slow client reads: it gets what was buffered, then the end
    // of the stream, well before all the events.
    let mut slow_seen = 0;
    let ended = loop {
        match slow.next(Duration::from_secs(20)).await {
            Next::Event(_) => slow_seen += 1,
            Next::End => break true,
            Next::Timeout => break false,
        }
    };
    assert!(
        ended,
        "the slow watcher was not closed ({slow_seen} events read)"
    );
    assert!(slow_seen < n, "the slow watcher got all {slow_seen} events");
    let (_, m) = api.call("GET", "/metrics", None).await.unwrap();
    let m = String::from_utf8_lossy(&m);
    assert!(
        metric(
            &m,
            "apiserver_watch_cache_slow_watchers_closed_total{resource=\"configmaps\"}"
        )
        .unwrap()
            >= 1.0,
        "{m}"
    );
    eprintln!("fast watcher: {seen} events in {took:?}; slow watcher closed after {slow_seen}");
}
