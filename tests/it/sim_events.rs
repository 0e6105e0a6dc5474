//! Events a fresh built-in cluster starts with: the pods started less than an hour ago
//! (events live an hour on a real API server) have the scheduler's and the kubelet's events
//! of their start, in the kubelet's order at increasing times; older pods have none.

use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::Value;

fn time(v: &Value) -> jiff::Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_seed_starts_with_the_events_of_its_recent_pods() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        controllers: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let now = sim.clock().now();
    let (_, pods) = sim.store().list(Kind::Pod, None);
    let (_, events) = sim.store().list(Kind::Event, None);
    let mut young = 0;
    for p in &pods {
        let created = time(&p["metadata"]["creationTimestamp"]);
        let uid = &p["metadata"]["uid"];
        let mine: Vec<&Value> = events
            .iter()
            .map(|e| &**e)
            .filter(|e| &e["involvedObject"]["uid"] == uid)
            .collect();
        // A pending pod was never started (the scheduler says why once it runs).
        let old = now.duration_since(created) >= jiff::SignedDuration::from_hours(1);
        if old || p["spec"]["nodeName"].is_null() {
            assert!(mine.is_empty(), "an old pod has no events left: {mine:?}");
            continue;
        }
        young += 1;
        let at = |reason: &str| {
            let e = mine.iter().find(|e| e["reason"] == reason);
            time(
                &e.unwrap_or_else(|| panic!("{reason} of {}", p["metadata"]["name"]))["firstTimestamp"],
            )
        };
        let order = [at("Scheduled"), at("Pulled"), at("Created"), at("Started")];
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        assert!(order[0] < order[3], "the start took time: {order:?}");
        assert_eq!(order[0], created, "scheduled when created");
        let node = p["spec"]["nodeName"].as_str().unwrap();
        let sched = mine.iter().find(|e| e["reason"] == "Scheduled").unwrap();
        assert!(
            sched["message"]
                .as_str()
                .unwrap()
                .ends_with(&format!(" to {node}")),
            "{sched}"
        );
    }
    assert!(young > 0, "the seed has pods started in the last hour");
}

/// A Deployment created in the last hour still has its `ScalingReplicaSet` events, told by its
/// pods' ages (http-spring: one pod first, then scaled to 10), and a ReplicaSet the
/// `SuccessfulCreate` of each pod it created in the last hour, when that pod was created; an
/// older Deployment has no scaling events left.
#[tokio::test]
async fn young_workloads_start_with_their_scaling_and_pod_creations() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        controllers: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = sim.store();
    let (_, events) = store.list(Kind::Event, None);
    let about = |name: &str, reason: &str| -> Vec<Value> {
        let mut v: Vec<Value> = events
            .iter()
            .filter(|e| e["involvedObject"]["name"] == name && e["reason"] == reason)
            .map(|e| (**e).clone())
            .collect();
        v.sort_by_key(|e| time(&e["firstTimestamp"]));
        v
    };
    let dep = store
        .get(Kind::Deployment, "default", "http-spring")
        .unwrap();
    let rs = "http-spring-766c586cb9";
    let scaling = about("http-spring", "ScalingReplicaSet");
    let msgs: Vec<&str> = scaling
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        msgs,
        [
            format!("Scaled up replica set {rs} to 1"),
            format!("Scaled up replica set {rs} to 10")
        ]
    );
    assert_eq!(scaling[0]["involvedObject"]["kind"], "Deployment");
    assert_eq!(scaling[0]["source"]["component"], "deployment-controller");
    assert_eq!(
        time(&scaling[0]["firstTimestamp"]),
        time(&dep["metadata"]["creationTimestamp"])
    );
    let (_, pods) = store.list_where(Kind::Pod, Some("default"), |p| {
        p["metadata"]["ownerReferences"][0]["name"] == rs
    });
    let created = about(rs, "SuccessfulCreate");
    assert_eq!(created.len(), pods.len());
    for p in &pods {
        let name = p["metadata"]["name"].as_str().unwrap();
        let e = created
            .iter()
            .find(|e| e["message"] == format!("Created pod: {name}"))
            .unwrap_or_else(|| panic!("no SuccessfulCreate of {name}"));
        assert_eq!(e["involvedObject"]["kind"], "ReplicaSet");
        assert_eq!(e["source"]["component"], "replicaset-controller");
        let at = time(&e["firstTimestamp"]);
        assert_eq!(at, time(&p["metadata"]["creationTimestamp"]));
        let scheduled = about(name, "Scheduled");
        assert!(at <= time(&scheduled[0]["firstTimestamp"]), "{name}");
    }
    // The last scale-up is when the last pods were created.
    let newest = pods
        .iter()
        .map(|p| time(&p["metadata"]["creationTimestamp"]))
        .max()
        .unwrap();
    assert_eq!(time(&scaling[1]["firstTimestamp"]), newest);
    // coredns is 77 days old: no scaling events left, but its pods (41 minutes old, replaced)
    // were created by its ReplicaSet within the hour.
    assert!(about("coredns", "ScalingReplicaSet").is_empty());
    assert!(events.iter().any(|e| {
        e["reason"] == "SuccessfulCreate"
            && e["involvedObject"]["name"]
                .as_str()
                .unwrap()
                .starts_with("coredns-")
    }));
    sim.stop().await;
}
