//! Store-level tests of the simulator's controllers and scenarios (no HTTP): start the
//! controllers on a populated store with a fast clock and wait for outcomes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kubedrain::sim::SimClock;
use kubedrain::sim::controllers::{self, Controllers};
use kubedrain::sim::kinds::Kind;
use kubedrain::sim::scenario;
use kubedrain::sim::store::Store;
use serde_json::{Value, json};

fn start(name: &str, speed: f64) -> (Arc<Store>, Controllers) {
    let store = Store::new(Arc::new(SimClock::new(speed)), 100_000);
    scenario::load(name).unwrap().populate(&store).unwrap();
    let c = controllers::spawn(store.clone());
    (store, c)
}

async fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn pods(store: &Store, ns: Option<&str>) -> Vec<Arc<Value>> {
    store.list(Kind::Pod, ns).1
}

fn running_ready(p: &Value) -> bool {
    p["status"]["phase"] == "Running"
        && p["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

fn on(store: &Store, node: &str, prefix: &str) -> usize {
    pods(store, None)
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"] == node
                && p["metadata"]["name"].as_str().unwrap().starts_with(prefix)
        })
        .count()
}

fn events(store: &Store, reason: &str) -> Vec<Arc<Value>> {
    store
        .list_where(Kind::Event, None, |e| e["reason"] == reason)
        .1
}

fn cordon(store: &Store, node: &str, on: bool) {
    store
        .update(Kind::Node, "", node, |n| {
            n["spec"]["unschedulable"] = json!(on);
            Ok(())
        })
        .unwrap();
}

/// What the API does for DELETE with a grace period.
fn delete_graceful(store: &Store, ns: &str, name: &str, grace: i64) {
    let at = kubedrain::sim::clock::format_time(
        store
            .clock()
            .now()
            .checked_add(jiff::SignedDuration::from_secs(grace))
            .unwrap(),
    );
    store
        .update(Kind::Pod, ns, name, |p| {
            p["metadata"]["deletionTimestamp"] = json!(at);
            p["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            Ok(())
        })
        .unwrap();
}

fn node_ready(store: &Store, node: &str) -> bool {
    store.get(Kind::Node, "", node).unwrap()["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

#[tokio::test]
async fn seed_is_running_as_in_the_transcript() {
    let (store, _c) = start("seed", 20.0);
    let all = pods(&store, None);
    assert_eq!(all.len(), 4 + 2 + 1 + 10 + 3 + 3);
    assert!(
        all.iter().all(|p| running_ready(p)),
        "all pods Running and Ready"
    );
    assert_eq!(on(&store, "node0", "http-spring-"), 5);
    assert_eq!(on(&store, "node1", "http-spring-"), 5);
    let p = store
        .get(Kind::Pod, "default", "http-spring-766c586cb9-2h8rs")
        .unwrap();
    assert_eq!(p["status"]["podIP"], "10.40.0.5");
    assert_eq!(p["status"]["hostIP"], "192.168.138.130");
    let w = store
        .get(Kind::Pod, "kube-system", "weave-net-jpd2x")
        .unwrap();
    assert_eq!(w["spec"]["nodeName"], "node0");
    assert_eq!(w["status"]["containerStatuses"][0]["restartCount"], 1);
    // Controllers settle without creating anything.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(pods(&store, None).len(), all.len());
    let rs = store
        .get(Kind::ReplicaSet, "default", "http-spring-766c586cb9")
        .unwrap();
    assert_eq!(rs["status"]["readyReplicas"], 10);
    let ds = store
        .get(Kind::DaemonSet, "kube-system", "weave-net")
        .unwrap();
    assert_eq!(ds["status"]["numberReady"], 3);
}

#[tokio::test]
async fn deleted_pod_gets_a_replacement_and_disappears_after_grace() {
    let (store, _c) = start("seed", 20.0);
    delete_graceful(&store, "default", "http-spring-766c586cb9-2h8rs", 30);
    until("replacement running", 20, || {
        pods(&store, Some("default"))
            .iter()
            .filter(|p| running_ready(p) && p["metadata"]["deletionTimestamp"].is_null())
            .count()
            == 10
    })
    .await;
    assert!(!events(&store, "Killing").is_empty());
    assert!(!events(&store, "Scheduled").is_empty());
    until("terminating pod removed", 20, || {
        store
            .get(Kind::Pod, "default", "http-spring-766c586cb9-2h8rs")
            .is_none()
    })
    .await;
}

#[tokio::test]
async fn draining_node0_moves_everything_to_node1() {
    let (store, _c) = start("seed", 20.0);
    cordon(&store, "node0", true);
    until("unschedulable taint", 10, || {
        store.get(Kind::Node, "", "node0").unwrap()["spec"]["taints"]
            .as_array()
            .is_some_and(|t| {
                t.iter()
                    .any(|t| t["key"] == "node.kubernetes.io/unschedulable")
            })
    })
    .await;
    assert_eq!(events(&store, "NodeNotSchedulable").len(), 1);
    for p in pods(&store, None) {
        let name = p["metadata"]["name"].as_str().unwrap();
        if p["spec"]["nodeName"] == "node0"
            && (name.starts_with("http-spring") || name.starts_with("ingress"))
        {
            delete_graceful(
                &store,
                p["metadata"]["namespace"].as_str().unwrap(),
                name,
                30,
            );
        }
    }
    until("all on node1", 30, || {
        on(&store, "node1", "http-spring-") == 10
            && on(&store, "node1", "ingress-nginx-controller-") == 1
            && on(&store, "node0", "http-spring-") == 0
            && pods(&store, None).iter().all(|p| running_ready(p))
    })
    .await;
    // DaemonSet pods stay on the cordoned node.
    assert_eq!(on(&store, "node0", "kube-proxy-"), 1);
    assert_eq!(on(&store, "node0", "weave-net-"), 1);
    cordon(&store, "node0", false);
    until("taint removed", 10, || {
        store.get(Kind::Node, "", "node0").unwrap()["spec"]["taints"].is_null()
    })
    .await;
    assert_eq!(events(&store, "NodeSchedulable").len(), 1);
}

#[tokio::test]
async fn upgrade_reboots_with_new_versions() {
    let (store, _c) = start("seed", 20.0);
    let target = controllers::default_upgrade_target(&store, "node1").unwrap();
    assert_eq!(target.kubelet_version, "v1.25.4");
    assert_eq!(target.kernel_version, "5.4.0-136-generic");
    controllers::start_upgrade(&store, "node1", target).unwrap();
    assert!(!node_ready(&store, "node1"));
    until("node back", 20, || node_ready(&store, "node1")).await;
    let n = store.get(Kind::Node, "", "node1").unwrap();
    assert_eq!(n["status"]["nodeInfo"]["kubeletVersion"], "v1.25.4");
    assert_eq!(n["status"]["nodeInfo"]["osImage"], "Ubuntu 20.04.6 LTS");
    for r in ["NodeNotReady", "Rebooted", "NodeReady", "Starting"] {
        assert!(!events(&store, r).is_empty(), "{r} event");
    }
    until("pods ready again", 20, || {
        pods(&store, None).iter().all(|p| running_ready(p))
    })
    .await;
}

#[tokio::test]
async fn terminating_pods_stay_on_a_not_ready_node() {
    let (store, _c) = start("seed", 20.0);
    controllers::set_node_ready(&store, "node0", false).unwrap();
    delete_graceful(&store, "default", "http-spring-766c586cb9-xn9lf", 1);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store
            .get(Kind::Pod, "default", "http-spring-766c586cb9-xn9lf")
            .is_some()
    );
    controllers::set_node_ready(&store, "node0", true).unwrap();
    until("removed once the kubelet is back", 20, || {
        store
            .get(Kind::Pod, "default", "http-spring-766c586cb9-xn9lf")
            .is_none()
    })
    .await;
}
