//! A PodDisruptionBudget's status follows its pods at once, as a real disruption controller's
//! does (it watches pods): on a frozen clock stepped a second at a time, `currentHealthy` and
//! `disruptionsAllowed` agree with the Ready pods after every step, not only at the
//! controllers' 10 s resync; `pdb-blocked` still holds its drain while the replacement is
//! not Ready.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::EvictParams;
use kubedrain::sim::{Kind, SimOptions, Simulator};

use crate::common::clock::step;
use crate::drain_support::sim::client;

/// (Ready checkout pods not terminating, the PDB's currentHealthy, disruptionsAllowed).
fn counts(sim: &Simulator) -> (i64, i64, i64) {
    let (_, pods) = sim.store().list_where(Kind::Pod, Some("shop"), |p| {
        p["metadata"]["labels"]["app"] == "checkout"
    });
    let ready = pods
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count() as i64;
    let pdb = sim
        .store()
        .get(Kind::PodDisruptionBudget, "shop", "checkout")
        .unwrap();
    let n = |f: &str| pdb["status"][f].as_i64().unwrap_or(0);
    (ready, n("currentHealthy"), n("disruptionsAllowed"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_status_follows_pod_readiness_after_every_step() {
    let sim = Simulator::start(SimOptions {
        scenario: "pdb-blocked".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert!(sim.wait_controllers_ready(Duration::from_secs(30)));
    sim.clock().freeze();
    let pods: Api<Pod> = Api::namespaced(client(&sim).await, "shop");
    let (_, on_node0) = sim.store().list_where(Kind::Pod, Some("shop"), |p| {
        p["metadata"]["labels"]["app"] == "checkout" && p["spec"]["nodeName"] == "node0"
    });
    let names: Vec<String> = on_node0
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(counts(&sim), (3, 3, 1));
    pods.evict(&names[0], &EvictParams::default())
        .await
        .unwrap();
    // Refused while the replacement is not Ready: the budget holds the second pod.
    let refused = pods.evict(&names[1], &EvictParams::default()).await;
    assert!(refused.is_err(), "the second eviction is refused");
    let mut held = 0;
    for _ in 0..40 {
        step(&sim, 1).await;
        let (ready, healthy, allowed) = counts(&sim);
        assert_eq!(healthy, ready, "currentHealthy after the step");
        assert_eq!(
            allowed,
            (ready - 2).max(0),
            "disruptionsAllowed after the step"
        );
        if ready == 3 {
            break;
        }
        held += 1;
    }
    assert_eq!(counts(&sim), (3, 3, 1), "the replacement became Ready");
    assert!(
        held >= 10,
        "the scenario still holds its drain a while: {held} s"
    );
    pods.evict(&names[1], &EvictParams::default())
        .await
        .unwrap();
    sim.stop().await;
}
