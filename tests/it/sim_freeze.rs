//! The demo clock for teaching: a frozen cluster reconciles nothing however long it stays
//! frozen (the controllers refuse their passes, counted), and a step moves time by exactly one
//! second and lets exactly one pass run.

use std::time::Duration;

use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::Value;

fn rs_pods(sim: &Simulator) -> Vec<String> {
    let (_, pods) = sim.store().list(Kind::Pod, Some("default"));
    pods.iter()
        .filter(|p| p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet")
        .map(|p: &std::sync::Arc<Value>| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_cluster_waits_and_a_step_is_one_second_and_one_pass() {
    let sim = Simulator::start(SimOptions {
        scenario: "seed".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    let clock = sim.clock().clone();
    let before = rs_pods(&sim);
    clock.freeze();
    let t0 = clock.now();
    let victim = before[0].clone();
    sim.store().delete(Kind::Pod, "default", &victim).unwrap();

    // About 5 s of wall time: the controllers come round every ≤ 250 ms and are refused.
    let refused = clock.refused_passes();
    until("20 refused passes", || {
        clock.refused_passes() >= refused + 20
    })
    .await;
    let frozen = rs_pods(&sim);
    assert_eq!(
        frozen.len(),
        before.len() - 1,
        "no replacement while frozen"
    );
    assert_eq!(clock.now(), t0, "time stood still");

    clock.step(Duration::from_secs(1));
    until("the replacement", || rs_pods(&sim).len() == before.len()).await;
    assert_eq!(clock.now(), t0 + jiff::SignedDuration::from_secs(1));
    assert!(!rs_pods(&sim).contains(&victim));

    clock.thaw();
    assert!(!clock.is_frozen());
    sim.stop().await;
}
