//! The drain's pre-flight reads the whole cluster as one streaming list where the API server
//! streams lists (WatchList on by default: 1.32, 1.34+), and in pages where it refuses them
//! (422 from 1.27–1.31 and 1.33): the same plan either way.

use kubedrain::cluster::rows::{PodLoad, PodRow};
use kubedrain::drain::fetch;
use kubedrain::sim::{Kind, Simulator};

use crate::common::apiserver_at;
use crate::common::clock::freeze;
use crate::drain_support::sim::{client, sim};

/// The cluster-wide pod reads the pre-flight made: (watches asking for initial events and
/// their statuses, unfiltered pod lists).
fn cluster_pod_reads(sim: &Simulator) -> (Vec<u16>, usize) {
    let log = sim.stats().log();
    let streams = log
        .iter()
        .filter(|r| r.resource == "pods" && r.path.contains("sendInitialEvents=true"))
        .map(|r| r.status)
        .collect();
    let pages = log
        .iter()
        .filter(|r| r.verb == "list" && r.resource == "pods" && !r.path.contains("fieldSelector"))
        .count();
    (streams, pages)
}

/// What the pre-flight read of every pod, each once (a pod's facts, as text, sorted).
async fn cluster_pods(sim: &Simulator) -> Vec<String> {
    let c = client(sim).await;
    sim.stats().reset();
    let snap = fetch::snapshot(&c, "node0", fetch::Cluster::ask(&c).await)
        .await
        .unwrap();
    let (_, pods) = snap.cluster.expect("the cluster was read");
    let mut facts: Vec<String> = pods.iter().map(|p| format!("{p:?}")).collect();
    facts.sort();
    facts
}

/// The facts of the stored pods, as [`cluster_pods`] writes them.
fn stored_pods(sim: &Simulator) -> Vec<String> {
    let (_, stored) = sim.store().list(Kind::Pod, None);
    let mut facts: Vec<String> = stored
        .iter()
        .map(|p| {
            let row: PodRow = serde_json::from_value((**p).clone()).unwrap();
            format!("{:?}", PodLoad::of(&row))
        })
        .collect();
    facts.sort();
    facts
}

#[tokio::test]
async fn the_preflight_streams_the_cluster_where_the_server_streams_lists() {
    let sim = sim("mixed").await;
    // The controllers replace and finish pods as time runs: the counts below need it still.
    freeze(&sim).await;
    let stored = stored_pods(&sim);

    // v1.28: the gate is off, the stream is refused, the pods come in pages.
    let paged = cluster_pods(&sim).await;
    let (streams, pages) = cluster_pod_reads(&sim);
    assert_eq!(streams, vec![422], "{:?}", sim.stats().log());
    assert!(pages >= 1);

    // v1.32: one streaming list, no pages, the same pods.
    apiserver_at(&sim, "v1.32.5");
    let streamed = cluster_pods(&sim).await;
    let (streams, pages) = cluster_pod_reads(&sim);
    assert_eq!(streams, vec![200], "{:?}", sim.stats().log());
    assert_eq!(pages, 0, "{:?}", sim.stats().log());
    // Every stored pod, read as the rows the TUI keeps would give it, and (streamed) the
    // kube-apiserver pod the new version added.
    assert_eq!(paged, stored);
    assert_eq!(stored_pods(&sim), streamed);
    assert_eq!(streamed.len(), stored.len() + 1);
}
