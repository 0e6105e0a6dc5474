//! The `upgrade` scenario and simulated upgrades to a target version: a control-plane node's
//! static pods take the target, `/version` follows the newest apiserver, and a node marked to
//! fail its reboot stays NotReady.

use std::sync::Arc;
use std::time::Duration;

use kubedrain::sim::controllers::{self, Controllers, UpgradeTarget};
use kubedrain::sim::{Kind, SimClock, SimOptions, Simulator, Store, scenario};

fn start(name: &str, speed: f64) -> (Arc<Store>, Controllers) {
    let store = Store::new(Arc::new(SimClock::new(speed)), 0);
    scenario::load(name).unwrap().populate(&store).unwrap();
    let c = controllers::spawn(store.clone());
    (store, c)
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let end = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn kubelet(store: &Store, node: &str) -> String {
    store.get(Kind::Node, "", node).unwrap()["status"]["nodeInfo"]["kubeletVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn ready(store: &Store, node: &str) -> bool {
    store.get(Kind::Node, "", node).unwrap()["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn image(store: &Store, pod: &str) -> String {
    store.get(Kind::Pod, "kube-system", pod).unwrap()["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap()
        .to_string()
}

fn to(version: &str) -> UpgradeTarget {
    UpgradeTarget {
        os_image: "Ubuntu 22.04.4 LTS".into(),
        kernel_version: "5.15.0-92-generic".into(),
        kubelet_version: version.into(),
    }
}

#[test]
fn the_upgrade_scenario_is_an_ha_cluster_with_a_kubelet_at_n_minus_3() {
    let store = Store::new(Arc::new(SimClock::new(1.0)), 0);
    scenario::load("upgrade").unwrap().populate(&store).unwrap();
    let (_, nodes) = store.list(Kind::Node, None);
    let cp: Vec<&str> = nodes
        .iter()
        .filter(|n| {
            n["metadata"]["labels"]
                .get("node-role.kubernetes.io/control-plane")
                .is_some()
        })
        .map(|n| n["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(cp, ["cp0", "cp1", "cp2"]);
    for pool in ["blue", "green"] {
        let n = nodes
            .iter()
            .filter(|n| n["metadata"]["labels"]["pool"] == pool)
            .count();
        assert_eq!(n, 3, "pool {pool}");
    }
    assert_eq!(kubelet(&store, "blue-2"), "v1.25.16");
    assert_eq!(
        image(&store, "kube-apiserver-cp1"),
        "registry.k8s.io/kube-apiserver:v1.28.6"
    );
    assert_eq!(store.list(Kind::PodDisruptionBudget, None).1.len(), 3);
}

async fn version(sim: &Simulator) -> String {
    let c = sim.client().await.unwrap();
    c.apiserver_version().await.unwrap().git_version
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_upgrade_moves_its_static_pods_and_the_version_answer() {
    let sim = Simulator::start(SimOptions {
        scenario: "upgrade".into(),
        speed: 20.0,
        ..SimOptions::default()
    })
    .await
    .unwrap();
    assert_eq!(version(&sim).await, "v1.28.6");
    let store = sim.store().clone();
    controllers::start_upgrade(&store, "cp0", to("v1.29.1")).unwrap();
    until("cp0 back on v1.29.1", || {
        ready(&store, "cp0") && kubelet(&store, "cp0") == "v1.29.1"
    })
    .await;
    assert_eq!(
        image(&store, "kube-apiserver-cp0"),
        "registry.k8s.io/kube-apiserver:v1.29.1"
    );
    assert_eq!(
        image(&store, "kube-scheduler-cp0"),
        "registry.k8s.io/kube-scheduler:v1.29.1"
    );
    assert_eq!(
        image(&store, "etcd-cp0"),
        "registry.k8s.io/etcd:3.5.10-0",
        "etcd has its own versions"
    );
    assert_eq!(
        image(&store, "kube-apiserver-cp1"),
        "registry.k8s.io/kube-apiserver:v1.28.6"
    );
    // Behind the load balancer a client now meets the upgraded apiserver.
    assert_eq!(version(&sim).await, "v1.29.1");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_marked_to_fail_its_reboot_stays_not_ready() {
    let (store, _c) = start("upgrade", 20.0);
    controllers::start_upgrade(&store, "green-1", to("v1.28.6")).unwrap();
    assert!(!ready(&store, "green-1"));
    // The positive event that ends the reboot window: the simulator's note that it failed.
    until("the RebootFailed event", || {
        store
            .list(Kind::Event, None)
            .1
            .iter()
            .any(|e| e["reason"] == "RebootFailed" && e["involvedObject"]["name"] == "green-1")
    })
    .await;
    assert!(!ready(&store, "green-1"));
    assert_eq!(
        kubelet(&store, "green-1"),
        "v1.27.10",
        "its old kubelet, not the target"
    );
}
