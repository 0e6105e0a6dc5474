//! The drain's API cost at scale: draining the generated cluster's packed node (110 pods)
//! must cost the evictions plus a few requests, however many pods live elsewhere, and still
//! report where the replacements went. `measure_packed_drain` (ignored) prints figures for
//! bigger clusters: `KUBEDRAIN_SCALE_NODES=1000 cargo test --release --test it
//! measure_packed_drain -- --ignored --nocapture`.

use crate::drain_support;

use std::time::Duration;

use drain_support::sim::*;
use kube::api::{Api, ListParams};
use kubedrain::cluster::rows::PodRow;
use kubedrain::drain::DrainOptions;
use kubedrain::drain::events::{DrainEvent, DrainOutcome, NodeState};
use kubedrain::drain::exec::start_drain;
use kubedrain::sim::generate::PACKED_PODS;
use kubedrain::sim::{SimOptions, Simulator};

const NODE: &str = "node-packed";

/// What one drain of node-packed cost.
struct Drained {
    outcome: DrainOutcome,
    events: Vec<DrainEvent>,
    /// (verb resource, count) of every request but the evictions.
    others: Vec<(String, u64)>,
    evictions: u64,
    wall: Duration,
}

async fn generated(nodes: usize, per_node: usize) -> Simulator {
    let sim = Simulator::start(SimOptions {
        generated: Some((nodes, per_node)),
        ..Default::default()
    })
    .await
    .expect("simulator starts");
    // The controllers index the store after the API answers; a drain before that would
    // wait on them.
    assert!(sim.wait_controllers_ready(Duration::from_secs(600)));
    sim
}

fn opts(grace: u32) -> DrainOptions {
    DrainOptions {
        ignore_daemonsets: true,
        delete_emptydir_data: true,
        grace_period: Some(grace),
        timeout: Some(Duration::from_secs(300)),
        ..Default::default()
    }
}

async fn drain_packed(sim: &Simulator, grace: u32) -> Drained {
    let c = client(sim).await;
    let dir = tempfile::tempdir().unwrap();
    sim.stats().reset();
    let t = std::time::Instant::now();
    let (handle, mut rx) = start_drain(c, NODE, opts(grace), journal(sim, &dir));
    let mut events = vec![];
    let outcome = finish(handle, &mut rx, &mut events).await;
    let wall = t.elapsed();
    let stats = sim.stats();
    let evictions = stats.count("create", "pods/eviction");
    let others = stats
        .counts()
        .into_iter()
        .filter(|((v, r), _)| !(*v == "create" && r == "pods/eviction"))
        .map(|((v, r), n)| (format!("{v} {r}"), n))
        .collect();
    Drained {
        outcome,
        events,
        others,
        evictions,
        wall,
    }
}

fn total(others: &[(String, u64)]) -> u64 {
    others.iter().map(|(_, n)| n).sum()
}

/// Replacements reported as (evicted pod, node the replacement landed on).
fn replacements(events: &[DrainEvent]) -> Vec<(&str, &str)> {
    events
        .iter()
        .filter_map(|e| match e {
            DrainEvent::Replacement {
                workload: evicted,
                on_node: Some(n),
                ..
            } => Some((evicted.as_str(), n.as_str())),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_count_does_not_grow_with_the_cluster() {
    let mut seen = vec![];
    for nodes in [10, 200] {
        let sim = generated(nodes, 6).await;
        // With grace 0 the drain can end before the ReplicaSets create the replacements.
        let d = drain_packed(&sim, 2).await;
        assert_eq!(d.outcome.state, NodeState::Drained, "{:?}", d.outcome);
        // Two of the 110 are DaemonSet pods.
        assert_eq!(d.evictions, PACKED_PODS as u64 - 2);
        let repl = replacements(&d.events);
        assert!(
            repl.iter().any(|(_, n)| *n != NODE),
            "replacements are reported with their node ({nodes} nodes): {:#?}",
            d.events
        );
        assert!(
            repl.iter().all(|(_, n)| *n != NODE),
            "nothing lands on the cordoned node: {repl:?}"
        );
        // 9: the end-of-drain check GETs the node once (same uid, still cordoned).
        assert!(
            total(&d.others) <= 9,
            "{nodes} nodes: requests besides the evictions: {:?}",
            d.others
        );
        let pod_lists: u64 = d
            .others
            .iter()
            .filter(|(k, _)| k == "list pods")
            .map(|(_, n)| n)
            .sum();
        // The plan's listing of the node's pods, and the final check's (verify.rs): both
        // node-scoped, so they do not grow with the cluster either.
        assert!(
            pod_lists <= 2,
            "only the node's pods are listed: {:?}",
            d.others
        );
        seen.push(d.others);
        sim.stop().await;
    }
    assert_eq!(
        seen[0], seen[1],
        "the same requests on 10 and 200 other nodes"
    );
}

/// `kubedrain drain` reads each thing once before the drain: `/version` only in its
/// connection probe (the pre-flight's streaming-list check reuses it), and the node from
/// the pre-flight's whole-cluster read (no GET); the engine's own reads come after its
/// cordon and are the drain's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_reads_the_version_and_the_node_once_before_the_drain() {
    let sim = generated(10, 6).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).unwrap();
    sim.stats().reset();
    let cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args([
            "drain",
            NODE,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
        ])
        .args(["--grace-period", "0", "--kubeconfig"])
        .arg(&kubeconfig)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .output();
    let out = tokio::time::timeout(DEADLINE, cmd).await.unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let stats = sim.stats();
    let log = stats.log();
    assert_eq!(
        stats.count("create", "pods/eviction"),
        PACKED_PODS as u64 - 2
    );
    let versions = log.iter().filter(|r| r.path == "/version").count();
    assert_eq!(versions, 1, "{:?}", stats.counts());
    // The pre-flight streamed every node (the node among them); the engine's end check is
    // the one GET.
    assert_eq!(stats.count("get", "nodes"), 1, "{:?}", stats.counts());
    let streamed_nodes = log
        .iter()
        .filter(|r| r.resource == "nodes" && r.path.contains("sendInitialEvents=true"))
        .count();
    assert_eq!(streamed_nodes, 1, "{:?}", stats.counts());
    sim.stop().await;
}

/// Prints the time and requests of draining node-packed on a generated cluster of
/// `KUBEDRAIN_SCALE_NODES` (default 1000) nodes × 30 pods, grace 0 then 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run by hand in release"]
async fn measure_packed_drain() {
    let nodes: usize = std::env::var("KUBEDRAIN_SCALE_NODES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    for grace in [0, 2] {
        let t = std::time::Instant::now();
        let sim = generated(nodes, 30).await;
        eprintln!("{nodes} nodes: simulator up in {:.1?}", t.elapsed());
        let d = drain_packed(&sim, grace).await;
        let c = client(&sim).await;
        let on_node = ListParams::default().fields(&format!("spec.nodeName={NODE}"));
        let left = Api::<PodRow>::all(c)
            .list(&on_node)
            .await
            .unwrap()
            .items
            .iter()
            .filter(|p| !p.is_daemonset_pod())
            .count();
        assert_eq!(left, 0, "app pods left on {NODE}");
        eprintln!(
            "grace {grace}: {:?} in {:.3} s; evictions {}, other requests {}: {:?}; replacements {}",
            d.outcome.state,
            d.wall.as_secs_f64(),
            d.evictions,
            total(&d.others),
            d.others,
            replacements(&d.events).len()
        );
        sim.stop_and_wait().await;
    }
}
