//! Evictions against PodDisruptionBudgets, and drains with no room for the pods.

use super::*;

/// What the eviction API does (one matching PDB assumed): 429 → false.
fn evict(store: &Store, ns: &str, name: &str, pdb: &str) -> bool {
    let now = kubedrain::sim::clock::format_time(store.clock().now());
    let ok = store
        .update(Kind::PodDisruptionBudget, ns, pdb, |p| {
            let allowed = p["status"]["disruptionsAllowed"].as_i64().unwrap_or(0);
            if allowed <= 0 {
                return Err(kubedrain::sim::store::StoreError::Conflict("429".into()));
            }
            p["status"]["disruptionsAllowed"] = json!(allowed - 1);
            p["status"]["disruptedPods"][name] = json!(now);
            Ok(())
        })
        .is_ok();
    if ok {
        delete_graceful(store, ns, name, 30);
    }
    ok
}

#[tokio::test]
async fn pdb_blocks_until_replacement_is_ready() {
    let (store, _c) = start("pdb-blocked", 10.0);
    let pdb = store
        .get(Kind::PodDisruptionBudget, "shop", "checkout")
        .unwrap();
    assert_eq!(pdb["status"]["disruptionsAllowed"], 1);
    cordon(&store, "node0", true);
    let victims: Vec<String> = pods(&store, Some("shop"))
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"] == "node0" && p["metadata"]["labels"]["app"] == "checkout"
        })
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(victims.len(), 2);
    assert!(evict(&store, "shop", &victims[0], "checkout"));
    assert!(
        !evict(&store, "shop", &victims[1], "checkout"),
        "second eviction is blocked"
    );
    // The controller keeps the budget at 0 while the replacement is not Ready.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pdb = store
        .get(Kind::PodDisruptionBudget, "shop", "checkout")
        .unwrap();
    assert_eq!(pdb["status"]["disruptionsAllowed"], 0);
    assert_eq!(pdb["status"]["currentHealthy"], 2);
    until("second eviction allowed", 30, || {
        evict(&store, "shop", &victims[1], "checkout")
    })
    .await;
    until("drained", 30, || {
        on(&store, "node0", "checkout-") == 0
            && pods(&store, Some("shop")).iter().all(|p| running_ready(p))
            && pods(&store, Some("shop")).len() == 5
    })
    .await;
}

#[tokio::test]
async fn no_room_leaves_pods_pending_until_uncordon() {
    let (store, _c) = start("no-room", 20.0);
    cordon(&store, "node0", true);
    for p in pods(&store, Some("jobs")) {
        if p["spec"]["nodeName"] == "node0" {
            delete_graceful(&store, "jobs", p["metadata"]["name"].as_str().unwrap(), 30);
        }
    }
    let pending = |s: &Store| {
        pods(s, Some("jobs"))
            .iter()
            .filter(|p| p["spec"]["nodeName"].is_null())
            .count()
    };
    until("two pending", 20, || {
        pending(&store) == 2 && on(&store, "node1", "renderer-") == 4
    })
    .await;
    let fs = events(&store, "FailedScheduling");
    assert!(!fs.is_empty());
    assert_eq!(
        fs[0]["message"],
        "0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."
    );
    let p = pods(&store, Some("jobs"))
        .into_iter()
        .find(|p| p["spec"]["nodeName"].is_null())
        .unwrap();
    let cond = p["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .unwrap()
        .clone();
    assert_eq!(cond["reason"], "Unschedulable");
    cordon(&store, "node0", false);
    until("placed after uncordon", 20, || {
        pending(&store) == 0
            && on(&store, "node0", "renderer-") == 2
            && pods(&store, Some("jobs")).iter().all(|p| running_ready(p))
    })
    .await;
}
