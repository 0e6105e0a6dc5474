//! The roles in `assets/rbac.yaml` against what kubedrain really sends (the simulator's
//! request log): the default `kubedrain` role covers a drain and an uncordon but cannot
//! delete pods (that bypasses PodDisruptionBudgets); `kubedrain-delete` adds exactly that for
//! `--disable-eviction`; `kubedrain-view` covers a plan.

use crate::drain_support::sim::*;
use kubedrain::drain::events::NodeState;
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::{DrainOptions, fetch, node_ops};

const RBAC: &str = include_str!("../../assets/rbac.yaml");

/// (verb, resource) pairs a role allows; resources carry their subresource (`pods/eviction`).
fn role(name: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for v in serde_saphyr::from_multiple::<serde_json::Value>(RBAC).unwrap() {
        if v["metadata"]["name"].as_str() != Some(name) {
            continue;
        }
        for rule in v["rules"].as_array().unwrap() {
            for r in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    out.push((
                        verb.as_str().unwrap().to_string(),
                        r.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    assert!(!out.is_empty(), "role {name} in assets/rbac.yaml");
    out
}

/// The resource requests in the log (discovery and /version need no role).
fn requests(sim: &kubedrain::sim::Simulator) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = sim
        .stats()
        .log()
        .into_iter()
        // Non-resource URLs (`/version`, discovery) are open to every user
        // (system:public-info-viewer, system:discovery).
        .filter(|r| r.verb != "other" && !r.resource.starts_with('/'))
        .map(|r| (r.verb.to_string(), r.resource.clone()))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn uncovered(reqs: &[(String, String)], roles: &[&str]) -> Vec<(String, String)> {
    let allowed: Vec<(String, String)> = roles.iter().flat_map(|r| role(r)).collect();
    reqs.iter()
        .filter(|q| !allowed.contains(q))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_roles_cover_what_kubedrain_sends_and_no_more() {
    assert!(!role("kubedrain").contains(&("delete".into(), "pods".into())));
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();

    sim.stats().reset();
    let snap = fetch::snapshot(&c, "node0", fetch::Cluster::ask(&c).await)
        .await
        .unwrap();
    drop(snap);
    let plan = requests(&sim);
    assert!(!plan.is_empty());
    assert_eq!(uncovered(&plan, &["kubedrain-view"]), vec![], "a plan");

    sim.stats().reset();
    let (h, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    assert_eq!(
        finish(h, &mut rx, &mut vec![]).await.state,
        NodeState::Drained
    );
    node_ops::uncordon(&c, "node0", false, &journal(&sim, &dir))
        .await
        .unwrap();
    let drain = requests(&sim);
    assert!(
        drain.contains(&("create".into(), "pods/eviction".into())),
        "{drain:?}"
    );
    assert_eq!(
        uncovered(&drain, &["kubedrain"]),
        vec![],
        "a drain and an uncordon"
    );

    sim.stats().reset();
    let opts = DrainOptions {
        disable_eviction: true,
        grace_period: Some(0),
        ..ignore_ds()
    };
    let (h, mut rx) = start_drain(c.clone(), "node1", opts, journal(&sim, &dir));
    assert_eq!(
        finish(h, &mut rx, &mut vec![]).await.state,
        NodeState::Drained
    );
    let delete = requests(&sim);
    assert_eq!(
        uncovered(&delete, &["kubedrain"]),
        vec![("delete".to_string(), "pods".to_string())],
        "only the deletions need more than the default role"
    );
    assert_eq!(
        uncovered(&delete, &["kubedrain", "kubedrain-delete"]),
        vec![]
    );
    sim.stop().await;
}
