//! Issue 8's reproductions of false verdicts, through the real binary against the simulator:
//! the plan names why replacements go Pending and catches an outage; `--disable-eviction`
//! names every budget it breaks; "blocked" means one thing, everywhere, and a drain that could
//! never finish does not start.

use kubedrain::sim::{Kind, Simulator};

use crate::drain_many::kubedrain;
use crate::drain_support::sim::sim;

fn unschedulable(sim: &Simulator, node: &str) -> bool {
    let (_, nodes) = sim.store().list(Kind::Node, None);
    nodes
        .iter()
        .any(|n| n["metadata"]["name"] == node && n["spec"]["unschedulable"] == true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cordoned_and_tainted_nodes_are_named_and_an_outage_exits_3() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &'static [&'static str]| kubedrain(&sim, dir.path(), args);
    assert_eq!(run(&["cordon", "node0"]).await.code, 0);
    // http-spring keeps its five ready replicas on node0: degraded, not down. The reason for
    // Pending is the cordon and the taint, not a lack of room.
    let o = run(&["plan", "node1", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(
        o.stdout
            .contains("→ Pending (node0: cordoned; master0: taint control-plane)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.contains("Deployment default/http-spring: 5 replacement(s) stay Pending and its 5 ready replica(s) left are all on cordoned node(s) node0"),
        "{}",
        o.stdout
    );
    // Now everything runs on node1 and node0 stays cordoned: draining node1 takes every
    // workload down (the "all 11 pods → Pending").
    let d = run(&[
        "drain",
        "node0",
        "--ignore-daemonsets",
        "--grace-period",
        "0",
    ])
    .await;
    assert_eq!(d.code, 0, "{}{}", d.stdout, d.stderr);
    let o = run(&["plan", "node1", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 3, "exit 3 = outage: {}", o.stdout);
    for workload in [
        "[OUTAGE] Deployment default/http-spring has every replica on this node and no node can take a replacement (node0: cordoned; master0: taint control-plane)",
        "[OUTAGE] Deployment ingress-nginx/ingress-nginx-controller has every replica on this node",
    ] {
        assert!(o.stdout.contains(workload), "{workload}\n{}", o.stdout);
    }
    assert!(
        o.stdout.contains("The drain would cause an outage"),
        "{}",
        o.stdout
    );
    let j = run(&["plan", "node1", "--ignore-daemonsets", "-o", "json"]).await;
    let plan: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(plan["verdict"], "outage");
    assert_eq!(j.code, 3);
    // The drain refuses before it changes anything; --allow-outage accepts.
    let d = run(&["drain", "node1", "--ignore-daemonsets"]).await;
    assert_eq!(d.code, 3, "{}", d.stderr);
    assert!(d.stderr.contains("node/node1 not drained: it would cause an outage; --allow-outage accepts it; nothing was changed"), "{}", d.stderr);
    assert!(!unschedulable(&sim, "node1"));
    let o = run(&["plan", "node1", "--ignore-daemonsets", "--allow-outage"]).await;
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("outage accepted (--allow-outage)"),
        "{}",
        o.stdout
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_mode_names_every_budget_it_breaks() {
    let sim = sim("mixed").await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "plan",
        "node0",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
        "--disable-eviction",
    ];
    let o = kubedrain(&sim, dir.path(), &args).await;
    assert_eq!(o.code, 3, "breaking budgets needs acceptance: {}", o.stdout);
    for line in [
        "data/postgres: 0 disruption(s) allowed, 1 healthy, needs 1, expects 1; holds data/postgres-0  BROKEN BY --disable-eviction",
        "[OUTAGE] --disable-eviction deletes 1 pod(s) under PodDisruptionBudget data/postgres, which never allows a disruption",
        "[OUTAGE] --disable-eviction deletes 1 pod(s) under PodDisruptionBudget web/storefront, which never allows a disruption",
        "StatefulSet data/postgres has every replica on this node and --disable-eviction does not wait for its PodDisruptionBudget",
    ] {
        assert!(o.stdout.contains(line), "{line}\n{}", o.stdout);
    }
    // frontend-tier allows the one disruption: it is named, not broken.
    let tier = o
        .stdout
        .lines()
        .find(|l| l.contains("web/frontend-tier: 1 disruption(s) allowed"))
        .unwrap();
    assert!(!tier.contains("BROKEN"), "{tier}");
    let accepted = kubedrain(&sim, dir.path(), &[&args[..], &["--allow-outage"]].concat()).await;
    assert_eq!(accepted.code, 0, "{}", accepted.stdout);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_means_one_thing_and_a_drain_that_cannot_finish_does_not_start() {
    let sim = sim("mixed").await;
    let dir = tempfile::tempdir().unwrap();
    let flags = [
        "node0",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--force",
    ];
    let o = kubedrain(&sim, dir.path(), &[&["plan"], &flags[..]].concat()).await;
    assert_eq!(o.code, 1, "{}", o.stdout);
    let blocked: Vec<&str> = o
        .stdout
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("BLOCKED"))
        .collect();
    assert_eq!(
        blocked.len(),
        2,
        "postgres-0 (PDB never allows) and storefront (two PDBs): {}",
        o.stdout
    );
    assert!(blocked.iter().any(|l| l.starts_with("data/postgres-0 ")
        && l.contains("PodDisruptionBudget data/postgres needs 1 healthy of 1 expected pods: it never allows an eviction")));
    assert!(blocked.iter().any(|l| l.starts_with("web/storefront-")
        && l.contains("under 2 PodDisruptionBudgets")));
    assert!(
        o.stdout
            .contains("The drain is blocked: 2 pod(s) keep it from starting or finishing."),
        "{}",
        o.stdout
    );
    let json = kubedrain(
        &sim,
        dir.path(),
        &[&["plan"], &flags[..], &["-o", "json"]].concat(),
    )
    .await;
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(plan["verdict"], "blocked");
    let kinds: Vec<&str> = plan["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["block"].as_str())
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(
        kinds.contains(&"pdb-never") && kinds.contains(&"multiple-pdbs"),
        "{kinds:?}"
    );
    // The drain with the same flags does not start: no cordon, no eviction (it used to retry
    // postgres forever with the default --timeout 0s).
    sim.stats().reset();
    let d = kubedrain(&sim, dir.path(), &[&["drain"], &flags[..]].concat()).await;
    assert_eq!(d.code, 1, "{}{}", d.stdout, d.stderr);
    assert!(
        d.stderr.contains(
            "error: node/node0 not drained: the drain could never finish; nothing was changed"
        ),
        "{}",
        d.stderr
    );
    assert!(
        d.stderr.contains("never allows an eviction"),
        "{}",
        d.stderr
    );
    assert!(!unschedulable(&sim, "node0"));
    assert_eq!(sim.stats().count("create", "pods/eviction"), 0);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_every_namespace_the_plan_cannot_tell_and_the_drain_does_not_start() {
    let sim = sim("seed").await;
    let dir = tempfile::tempdir().unwrap();
    // Credentials that may not list pods cluster-wide.
    sim.faults().forbid("/api/v1/pods");
    let o = kubedrain(&sim, dir.path(), &["plan", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(o.code, 4, "exit 4 = cannot tell: {}{}", o.stdout, o.stderr);
    assert!(
        o.stderr
            .contains("kubedrain cannot tell whether draining node/node0 is safe"),
        "{}",
        o.stderr
    );
    let d = kubedrain(&sim, dir.path(), &["drain", "node0", "--ignore-daemonsets"]).await;
    assert_eq!(d.code, 4, "{}", d.stderr);
    assert!(d.stderr.contains("nothing was changed"), "{}", d.stderr);
    assert!(!unschedulable(&sim, "node0"));
    sim.stop().await;
}
