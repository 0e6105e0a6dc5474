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
