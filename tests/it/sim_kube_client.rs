//! kube-rs (what the TUI uses) against the simulator: typed lists decode, selectors, patches,
//! evictions, and the runtime watcher in both ListWatch and StreamingList modes.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use kube::api::{EvictParams, ListParams, Patch, PatchParams};
use kube::runtime::watcher::{self, Event};
use kubedrain::sim::{SimOptions, Simulator};

async fn seed() -> Simulator {
    Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..SimOptions::default()
    })
    .await
    .expect("simulator starts")
}

/// kubedrain's page stream (the next page asked for while this one decodes) reads exactly
/// what one unpaged list returns, in order, a page at a time.
#[tokio::test]
async fn the_page_stream_reads_every_page_in_order() {
    use kubedrain::cluster::list_page::PageStream;
    use kubedrain::cluster::rows::PodRow;
    let sim = seed().await;
    let client = sim.client().await.unwrap();
    let whole = Api::<Pod>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let want: Vec<String> = whole
        .items
        .iter()
        .map(|p| {
            let m = &p.metadata;
            format!(
                "{}/{}",
                m.namespace.as_deref().unwrap(),
                m.name.as_deref().unwrap()
            )
        })
        .collect();
    assert!(
        want.len() > 7,
        "the seed has pods over several pages: {}",
        want.len()
    );
    let mut pages = PageStream::new(Api::<PodRow>::all(client), 3);
    let (mut got, mut sizes) = (Vec::new(), Vec::new());
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        sizes.push(page.items.len());
        got.extend(page.items.iter().map(PodRow::key));
        if page.metadata.continue_.is_none_or(|t| t.is_empty()) {
            break;
        }
    }
    assert_eq!(got, want);
    assert!(sizes.iter().all(|&n| n <= 3), "{sizes:?}");
    assert_eq!(sizes.len(), want.len().div_ceil(3), "{sizes:?}");
    assert!(pages.next().await.is_none(), "nothing after the last page");
}

#[tokio::test]
async fn typed_lists_patches_and_evictions() {
    let sim = seed().await;
    let client = sim.client().await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes.list(&ListParams::default()).await.unwrap();
    let names: Vec<String> = list
        .items
        .iter()
        .map(|n| n.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["master0", "node0", "node1"]);
    let pods: Api<Pod> = Api::all(client.clone());
    let on0 = pods
        .list(&ListParams::default().fields("spec.nodeName=node0").limit(3))
        .await
        .unwrap();
    assert_eq!(on0.items.len(), 3);
    assert!(on0.metadata.continue_.is_some());
    let all_on0 = pods
        .list(&ListParams::default().fields("spec.nodeName=node0"))
        .await
        .unwrap();
    assert_eq!(all_on0.items.len(), 8);
    let _: Vec<PodDisruptionBudget> = Api::<PodDisruptionBudget>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;

    let patched = nodes
        .patch(
            "node0",
            &PatchParams::default(),
            &Patch::Strategic(serde_json::json!({"spec": {"unschedulable": true}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.spec.unwrap().unschedulable, Some(true));

    let victim = all_on0
        .items
        .iter()
        .find(|p| {
            p.metadata
                .name
                .as_deref()
                .unwrap()
                .starts_with("http-spring-")
        })
        .unwrap();
    let ns = victim.metadata.namespace.clone().unwrap();
    let name = victim.metadata.name.clone().unwrap();
    let in_ns: Api<Pod> = Api::namespaced(client.clone(), &ns);
    in_ns
        .evict(&name, &EvictParams::default())
        .await
        .expect("eviction accepted");
    let gone = in_ns.get_opt(&name).await.unwrap();
    assert!(gone.is_none_or(|p| p.metadata.deletion_timestamp.is_some()));
    let err = in_ns
        .evict("ghost", &EvictParams::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
}

async fn watch_sees_init_then_changes(cfg: watcher::Config) {
    let sim = seed().await;
    // A server that streams lists (the seed's v1.25 does not know the parameter).
    crate::common::apiserver_at(&sim, "v1.32.5");
    let client = sim.client().await.unwrap();
    let nodes: Api<Node> = Api::all(client);
    let mut stream = watcher::watcher(nodes.clone(), cfg).boxed();
    let mut init = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Event::InitApply(_) => init += 1,
            Event::InitDone => break,
            _ => {}
        }
    }
    assert_eq!(init, 3);
    nodes
        .patch(
            "node1",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"seen": "yes"}}})),
        )
        .await
        .unwrap();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if let Event::Apply(n) = e
            && n.metadata
                .labels
                .unwrap_or_default()
                .get("seen")
                .map(String::as_str)
                == Some("yes")
        {
            break;
        }
    }
    // A forced 410 makes the watcher relist and come back.
    sim.store().compact();
    sim.faults().expire_open_watches();
    let relists = sim.stats().count("list", "nodes") + sim.stats().count("watch", "nodes");
    nodes
        .patch(
            "node1",
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({"metadata": {"labels": {"seen": "again"}}})),
        )
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let e = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("watcher recovers")
            .unwrap();
        if let Ok(Event::Apply(n) | Event::InitApply(n)) = e
            && n.metadata
                .labels
                .unwrap_or_default()
                .get("seen")
                .map(String::as_str)
                == Some("again")
        {
            break;
        }
    }
    assert!(
        sim.stats().count("list", "nodes") + sim.stats().count("watch", "nodes") > relists,
        "the watcher re-synced"
    );
}

#[tokio::test]
async fn runtime_watcher_list_watch() {
    watch_sees_init_then_changes(watcher::Config::default()).await;
}

#[tokio::test]
async fn runtime_watcher_streaming_list() {
    watch_sees_init_then_changes(watcher::Config::default().streaming_lists()).await;
}

#[tokio::test]
async fn runtime_watcher_streaming_list_is_refused_while_the_gate_is_off() {
    // A v1.29 server refuses the parameter while its WatchList gate is off (as a v1.25 one
    // refuses the resourceVersionMatch that comes with it), as a real one does.
    let sim = seed().await;
    crate::common::apiserver_at(&sim, "v1.29.4");
    let nodes: Api<Node> = Api::all(sim.client().await.unwrap());
    let cfg = watcher::Config::default().streaming_lists();
    let mut stream = watcher::watcher(nodes, cfg).boxed();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.try_next())
        .await
        .unwrap();
    match first {
        Err(watcher::Error::WatchStartFailed(kube::Error::Api(s))) => {
            assert_eq!(s.code, 422, "{s:?}")
        }
        other => panic!("expected a 422 at the watch's start, got {other:?}"),
    }
}
