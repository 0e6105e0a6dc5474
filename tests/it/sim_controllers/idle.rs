//! Idle clusters stay idle: nothing but heartbeats once the controllers have settled.

use super::*;

/// What a cluster writes however idle it is: the kubelets' Lease renewals and status posts
/// (only `lastHeartbeatTime` moves), and each namespace's default ServiceAccount and root CA
/// ConfigMap, which populated scenarios leave to the controllers.
fn is_heartbeat(c: &kubedrain::sim::store::Change) -> bool {
    use kubedrain::sim::store::ChangeType;
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v["metadata"]["resourceVersion"] = serde_json::Value::Null;
        for c in v["status"]["conditions"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            c["lastHeartbeatTime"] = serde_json::Value::Null;
        }
        v
    };
    let name = c.object.name();
    match c.kind {
        Kind::Lease => true,
        Kind::ServiceAccount => c.change == ChangeType::Added && name == "default",
        Kind::ConfigMap => c.change == ChangeType::Added && name == "kube-root-ca.crt",
        Kind::Node => c
            .prev
            .as_ref()
            .is_some_and(|p| strip(&p.value()) == strip(&c.value())),
        _ => false,
    }
}

/// Idle clusters stay idle: after the first pass, the controllers write nothing but
/// heartbeats.
async fn assert_settles(store: &Store) {
    tokio::time::sleep(Duration::from_millis(800)).await;
    let rv = store.resource_version();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let changed = writes_since(store, rv);
    assert!(changed.is_empty(), "idle cluster changed: {changed:?}");
}

fn writes_since(store: &Store, rv: u64) -> Vec<String> {
    let mut changed = Vec::new();
    for kind in Kind::ALL {
        for c in store.watch(kind, Some(rv)).unwrap().backlog {
            if is_heartbeat(&c) {
                continue;
            }
            let o = c.value();
            changed.push(format!(
                "{kind:?} {} {}",
                o["metadata"]["name"], o["status"]
            ));
        }
    }
    changed
}

#[tokio::test]
async fn idle_scenarios_do_not_churn() {
    for name in ["seed", "pdb-blocked", "no-room", "mixed"] {
        let store = Store::new(Arc::new(SimClock::new(20.0)), 100_000);
        scenario::load(name).unwrap().populate(&store).unwrap();
        let rv = store.resource_version();
        let _c = controllers::spawn(store.clone());
        assert_settles(&store).await;
        assert_eq!(writes_since(&store, rv), Vec::<String>::new(), "{name}");
    }
}

#[tokio::test]
async fn generated_cluster_starts_without_writes() {
    let store = Store::new(Arc::new(SimClock::new(20.0)), 1000);
    scenario::generated(30, 30).populate(&store).unwrap();
    let rv = store.resource_version();
    let _c = controllers::spawn(store.clone());
    assert_settles(&store).await;
    assert_eq!(writes_since(&store, rv), Vec::<String>::new());
}

/// `SIM_NODES=5000 cargo test --release --test it sim_controllers::idle::scale -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale check, run by hand"]
async fn scale_generated() {
    let nodes: usize = std::env::var("SIM_NODES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5000);
    let store = Store::new(Arc::new(SimClock::new(10.0)), 10_000);
    let t = Instant::now();
    scenario::generated(nodes, 30).populate(&store).unwrap();
    println!(
        "populate: {} pods in {:?}",
        store.count(Kind::Pod),
        t.elapsed()
    );
    let t = Instant::now();
    let _c = controllers::spawn(store.clone());
    println!("spawn (index load): {:?}", t.elapsed());
    let t = Instant::now();
    cordon(&store, "node-00001", true);
    until("taint", 120, || {
        !store.get(Kind::Node, "", "node-00001").unwrap()["spec"]["taints"].is_null()
    })
    .await;
    println!("first pass + cordon reaction: {:?}", t.elapsed());
    let victim = pods(&store, Some("team-00"))
        .into_iter()
        .find(|p| p["spec"]["nodeName"] == "node-00001")
        .unwrap();
    let name = victim["metadata"]["name"].as_str().unwrap().to_string();
    let t = Instant::now();
    let before = store.count(Kind::Pod);
    delete_graceful(&store, "team-00", &name, 1);
    until("replacement", 60, || store.count(Kind::Pod) == before + 1).await;
    println!("replacement created: {:?}", t.elapsed());
    until("old gone", 60, || {
        store.get(Kind::Pod, "team-00", &name).is_none()
    })
    .await;
    println!("terminated: {:?}", t.elapsed());
    until("replacement running", 60, || {
        pods(&store, Some("team-00"))
            .iter()
            .filter(|p| !running_ready(p))
            .count()
            == 0
    })
    .await;
    println!("replacement running: {:?}", t.elapsed());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rv = store.resource_version();
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("idle writes in 3 s: {}", store.resource_version() - rv);
}
