//! Planner tests beyond kubectl: PDB findings, capacity simulation, NotReady nodes, JSON.

use crate::drain_support;

use drain_support::*;
use kubedrain::cluster::rows::{NodeRow, PodRow};
use kubedrain::drain::plan::{Severity, Verdict};
use kubedrain::drain::{DrainPlan, PodAction, SkipReason};
use serde_json::json;

#[test]
fn disable_eviction_deletes_and_says_which_budgets_it_breaks() {
    // Reproduction 2 of issue 8: ticking --disable-eviction used to hide every PDB.
    let mut c = Case::new(vec![pod("web", json!({}))]).opts(|o| o.disable_eviction = true);
    c.pdbs = vec![pdb("web-pdb", "web", 0, 1, 1, 1)];
    let p = c.run();
    assert_eq!(action(&p, "web"), &PodAction::Delete);
    assert!(p.pdbs[0].broken, "{:#?}", p.pdbs);
    let f = p.findings.iter().find(|f| f.kind == "breaks-pdb").unwrap();
    assert_eq!(f.severity, Severity::Outage);
    assert_eq!(f.pods, ["default/web"]);
    assert!(
        f.message
            .contains("default/web-pdb, which never allows a disruption"),
        "{}",
        f.message
    );
    assert_eq!(p.verdict, Verdict::Outage);
    assert!(!p.can_proceed(), "breaking a budget needs --allow-outage");
    assert_eq!(p.exit_code(), 3);
    let accepted = c.opts(|o| o.allow_outage = true).run();
    assert!(accepted.can_proceed());
    assert_eq!(accepted.exit_code(), 0);
    // Within the budget: nothing is broken.
    let mut c = Case::new(vec![pod("web", json!({}))]).opts(|o| o.disable_eviction = true);
    c.pdbs = vec![pdb("web-pdb", "web", 1, 3, 2, 3)];
    let p = c.run();
    assert!(!p.pdbs[0].broken);
    assert_eq!(p.verdict, Verdict::Proceed);
}

#[test]
fn pdb_with_zero_disruptions_is_reported_with_its_pods() {
    let mut c = Case::new(vec![pod("web-a", json!({})), pod("web-b", json!({}))]);
    c.pdbs = vec![pdb("web-pdb", "web", 0, 2, 2, 3)];
    let p = c.run();
    let f = &p.pdbs[0];
    assert_eq!(f.pdb, "default/web-pdb");
    assert!(f.blocks_now && !f.never_allows);
    assert_eq!(f.pods, vec!["default/web-a", "default/web-b"]);
    let finding = p.findings.iter().find(|f| f.kind == "pdb-zero").unwrap();
    assert_eq!(finding.severity, Severity::Warning);
    assert!(p.can_proceed(), "it waits, it does not block");
}

#[test]
fn pdb_allowing_fewer_disruptions_than_pods_means_waiting() {
    let mut c = Case::new(vec![pod("web-a", json!({})), pod("web-b", json!({}))]);
    c.pdbs = vec![pdb("web-pdb", "web", 1, 3, 2, 3)];
    let p = c.run();
    assert!(!p.pdbs[0].blocks_now);
    let f = p.findings.iter().find(|f| f.kind == "pdb-wait").unwrap();
    assert_eq!(f.severity, Severity::Warning);
    assert!(p.can_proceed());
}

#[test]
fn pdb_that_never_allows_blocks() {
    let mut c = Case::new(vec![pod("web-a", json!({}))]);
    c.pdbs = vec![pdb("all", "web", 0, 3, 3, 3)];
    let p = c.run();
    assert!(p.pdbs[0].never_allows);
    assert!(!p.can_proceed());
}

#[test]
fn pdb_ignored_for_pods_not_running() {
    let mut c = Case::new(vec![pod("web-p", json!({"status": {"phase": "Pending"}}))]);
    c.pdbs = vec![pdb("web-pdb", "web", 0, 2, 2, 3)];
    let p = c.run();
    assert!(p.pdbs.is_empty());
}

#[test]
fn pod_under_two_pdbs_is_a_blocker() {
    let mut c = Case::new(vec![pod("web", json!({}))]);
    c.pdbs = vec![pdb("one", "web", 1, 3, 2, 3), pdb("two", "web", 1, 3, 2, 3)];
    let p = c.run();
    let f = p
        .findings
        .iter()
        .find(|f| f.kind == "multiple-pdbs")
        .unwrap();
    assert_eq!(f.pods, vec!["default/web (default/one, default/two)"]);
    assert!(!p.can_proceed());
}

fn capacity_case(others: Vec<NodeRow>, other_pods: Vec<PodRow>, evicted: usize) -> DrainPlan {
    let pods = (0..evicted)
        .map(|i| {
            pod(
                &format!("web-{i}"),
                json!({"spec": {"containers": [{"name": "c",
            "resources": {"requests": {"cpu": "300m", "memory": "64Mi"}}}]}}),
            )
        })
        .collect();
    let mut c = Case::new(pods);
    c.node = node("node0", json!({"spec": {"unschedulable": true}}));
    c.others = others;
    c.other_pods = other_pods;
    c.run()
}

#[test]
fn capacity_fits() {
    let p = capacity_case(vec![node("node1", json!({}))], vec![], 3);
    let cap = p.capacity.unwrap();
    assert_eq!(cap.pending().count(), 0);
    assert!(
        cap.placements
            .iter()
            .all(|x| x.node.as_deref() == Some("node1"))
    );
    assert!(!p.findings.iter().any(|f| f.kind == "no-room"));
}

#[test]
fn capacity_overflow_goes_pending() {
    // node1 has 1 CPU, 500m already used: one 300m pod fits, two stay Pending.
    let used = pod(
        "big",
        json!({"spec": {"nodeName": "node1", "containers": [{"name": "c",
        "resources": {"requests": {"cpu": "500m"}}}]}}),
    );
    let p = capacity_case(vec![node("node1", json!({}))], vec![used], 3);
    let cap = p.capacity.as_ref().unwrap();
    let pending: Vec<_> = cap.pending().collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[0].reason.as_deref(),
        Some("0/2 nodes are available: 1 Insufficient cpu, 1 node(s) were unschedulable.")
    );
    let f = p.findings.iter().find(|f| f.kind == "no-room").unwrap();
    assert_eq!(f.pods.len(), 2);
    assert!(
        p.can_proceed(),
        "Pending is a warning, as in the seed's workflow"
    );
}

#[test]
fn capacity_excludes_tainted_cordoned_and_notready_nodes() {
    let others = vec![
        node(
            "master0",
            json!({"spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}}),
        ),
        node("node1", json!({"spec": {"unschedulable": true}})),
        node(
            "node2",
            json!({"status": {"conditions": [{"type": "Ready", "status": "False"}]}}),
        ),
    ];
    let p = capacity_case(others, vec![], 1);
    let cap = p.capacity.unwrap();
    let r = cap.placements[0].reason.as_deref().unwrap();
    assert!(r.starts_with("0/4 nodes are available:"), "{r}");
    assert!(
        r.contains("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
        "{r}"
    );
    assert!(r.contains("2 node(s) were unschedulable"), "{r}");
    assert!(r.contains("1 node(s) were not ready"), "{r}");
    assert_eq!(
        cap.targets.iter().filter(|t| t.excluded.is_some()).count(),
        2
    );
}

#[test]
fn capacity_tolerated_taint_and_pod_count() {
    let tolerant = pod(
        "tol",
        json!({"spec": {"tolerations": [{"operator": "Exists"}]}}),
    );
    let mut c = Case::new(vec![tolerant]);
    c.others = vec![node(
        "master0",
        json!({"spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        "status": {"allocatable": {"pods": "1"}}}),
    )];
    let p = c.run();
    assert_eq!(
        p.capacity.as_ref().unwrap().placements[0].node.as_deref(),
        Some("master0")
    );
    // A second pod exceeds the pod count.
    let mut c = Case::new(vec![
        pod(
            "a",
            json!({"spec": {"tolerations": [{"operator": "Exists"}]}}),
        ),
        pod(
            "b",
            json!({"spec": {"tolerations": [{"operator": "Exists"}]}}),
        ),
    ]);
    c.others = vec![node(
        "master0",
        json!({"status": {"allocatable": {"pods": "1"}}}),
    )];
    let p = c.run();
    let cap = p.capacity.unwrap();
    assert!(
        cap.placements[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("Too many pods")
    );
}

#[test]
fn bare_pods_are_not_replaced() {
    let mut c = Case::new(vec![pod("debug", bare())]).opts(|o| o.force = true);
    c.others = vec![node("node1", json!({}))];
    let p = c.run();
    assert_eq!(p.capacity.unwrap().not_replaced, vec!["default/debug"]);
}

#[test]
fn terminating_pods_on_notready_node_would_hang() {
    let mut c = Case::new(vec![
        pod(
            "stuck",
            json!({"metadata": {"deletionTimestamp": "2026-11-25T11:59:00Z"}}),
        ),
        pod("web", json!({})),
    ]);
    c.node = node(
        "node0",
        json!({"status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}),
    );
    let p = c.run();
    let f = p
        .findings
        .iter()
        .find(|f| f.kind == "terminating-on-notready")
        .unwrap();
    assert_eq!(f.pods, vec!["default/stuck"]);
    assert!(!p.can_proceed());
    assert!(p.findings.iter().any(|f| f.kind == "node-notready"));
    let p = {
        c.opts.skip_wait_for_delete_timeout = Some(30);
        c.run()
    };
    assert!(p.can_proceed());
    assert_eq!(action(&p, "stuck"), &skip(SkipReason::DeletedTooLong));
}

#[test]
fn plan_serializes_to_json() {
    let p = Case::new(vec![pod("web", json!({})), pod("kp", ds_owner("kp"))])
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    let v = serde_json::to_value(&p).unwrap();
    assert_eq!(v["node"], "node0");
    assert_eq!(v["pods"][0]["action"], "evict");
    assert_eq!(v["pods"][1]["action"], "skip");
    assert_eq!(v["pods"][1]["reason"], "daemon-set-ignored");
}

#[test]
fn tied_nodes_are_all_named_and_unmodelled_constraints_are_not_guessed() {
    let mut c = Case::new(vec![pod("web-a", json!({}))]);
    c.node = node("node0", json!({"spec": {"unschedulable": true}}));
    c.others = vec![node("node1", json!({})), node("node2", json!({}))];
    let p = c.run();
    let x = &p.capacity.as_ref().unwrap().placements[0];
    assert_eq!(x.node.as_deref(), Some("node1"));
    assert_eq!(x.or, ["node2"], "equal scores: kube-scheduler picks either");
    assert_eq!(x.target_text(), "node1 or node2");
    // A busier node2 scores lower: one name.
    c.other_pods = vec![pod(
        "busy",
        json!({"spec": {"nodeName": "node2", "containers": [{"name": "c",
            "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}]}}),
    )];
    let p = c.run();
    assert_eq!(
        p.capacity.as_ref().unwrap().placements[0].target_text(),
        "node1"
    );
    // Topology spread is not modelled: no name is guessed, and it is not called Pending.
    c.pods = vec![pod(
        "web-a",
        json!({"spec": {"topologySpreadConstraints": [{"maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app": "web"}}}]}}),
    )];
    let p = c.run();
    let x = &p.capacity.as_ref().unwrap().placements[0];
    assert_eq!(x.target_text(), "not predicted: topology spread");
    assert!(x.lands() && !x.is_pending());
    assert!(!p.findings.iter().any(|f| f.kind == "no-room"));
}

#[test]
fn required_node_affinity_is_a_filter() {
    let mut c = Case::new(vec![pod(
        "web-a",
        json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}]}}}}}),
    )]);
    c.node = node("node0", json!({"spec": {"unschedulable": true}}));
    c.others = vec![
        node("node1", json!({})),
        node("node2", json!({"metadata": {"labels": {"disk": "ssd"}}})),
    ];
    let p = c.run();
    assert_eq!(
        p.capacity.as_ref().unwrap().placements[0].target_text(),
        "node2"
    );
    c.others.pop();
    let p = c.run();
    let x = &p.capacity.as_ref().unwrap().placements[0];
    assert!(x.is_pending());
    assert_eq!(x.misfit_text(), "node1: node selector/affinity");
}

#[test]
fn a_pool_of_equal_nodes_is_named_by_count_not_by_list() {
    let mut c = Case::new(vec![pod("web-a", json!({}))]);
    c.node = node("node0", json!({"spec": {"unschedulable": true}}));
    c.others = (1..=40)
        .map(|i| node(&format!("n{i:02}"), json!({})))
        .collect();
    let p = c.run();
    let x = &p.capacity.as_ref().unwrap().placements[0];
    assert_eq!(x.or.len(), 3);
    assert_eq!(
        x.or_more, 36,
        "40 tied nodes: one named, three more, 36 counted"
    );
    assert_eq!(x.target_text(), "n01 or n02 or n03 or n04 or 36 more");
}
