//! Table tests for the pure drain planner: one per kubectl filter and option, combinations,
//! PDB and capacity findings.

use kubedrain::cluster::rows::{NodeRow, PdbRow, PodRow};
use kubedrain::drain::plan::Severity;
use kubedrain::drain::selector::PodSelector;
use kubedrain::drain::{
    ClusterView, DrainOptions, DrainPlan, DsLookup, PlanInput, PodAction, SkipReason, plan,
};
use serde_json::{Value, json};

const NOW: &str = "2026-11-25T12:00:00Z";

fn pod(name: &str, patch: Value) -> PodRow {
    let mut v = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
            "labels": {"app": "web"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1",
                "uid": "rs", "controller": true}]},
        "spec": {"nodeName": "node0", "containers": [{"name": "c",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
    });
    merge(&mut v, patch);
    serde_json::from_value(v).unwrap()
}

fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

fn node(name: &str, patch: Value) -> NodeRow {
    let mut v = json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}
    });
    merge(&mut v, patch);
    serde_json::from_value(v).unwrap()
}

fn pdb(name: &str, app: &str, allowed: i32, healthy: i32, desired: i32, expected: i32) -> PdbRow {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": app}}, "minAvailable": desired},
        "status": {"disruptionsAllowed": allowed, "currentHealthy": healthy,
            "desiredHealthy": desired, "expectedPods": expected, "observedGeneration": 1}
    }))
    .unwrap()
}

fn ds_owner(name: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
        "name": name, "uid": "ds", "controller": true}]}})
}

fn bare() -> Value {
    json!({"metadata": {"ownerReferences": []}})
}

fn ds_lookup(ns: &str, name: &str) -> DsLookup {
    match (ns, name) {
        (_, "gone") => DsLookup::NotFound,
        (_, "forbidden") => DsLookup::Error(
            "daemonsets.apps \"forbidden\" is forbidden: User \"x\" cannot get resource".into(),
        ),
        _ => DsLookup::Exists,
    }
}

struct Case {
    pods: Vec<PodRow>,
    pdbs: Vec<PdbRow>,
    node: NodeRow,
    others: Vec<NodeRow>,
    other_pods: Vec<PodRow>,
    opts: DrainOptions,
}

impl Case {
    fn new(pods: Vec<PodRow>) -> Self {
        Case {
            pods,
            pdbs: vec![],
            node: node("node0", json!({})),
            others: vec![],
            other_pods: vec![],
            opts: DrainOptions::default(),
        }
    }
    fn opts(mut self, f: impl FnOnce(&mut DrainOptions)) -> Self {
        f(&mut self.opts);
        self
    }
    fn run(&self) -> DrainPlan {
        let pods: Vec<&PodRow> = self.pods.iter().collect();
        let pdbs: Vec<&PdbRow> = self.pdbs.iter().collect();
        let nodes: Vec<&NodeRow> = self.others.iter().collect();
        let other_pods: Vec<&PodRow> = self.other_pods.iter().collect();
        plan(&PlanInput {
            node: &self.node,
            pods: &pods,
            pdbs: &pdbs,
            cluster: (!nodes.is_empty()).then_some(ClusterView {
                nodes: &nodes,
                pods: &other_pods,
            }),
            daemonset_exists: &ds_lookup,
            opts: &self.opts,
            now: NOW.parse().unwrap(),
        })
    }
}

fn action<'a>(p: &'a DrainPlan, name: &str) -> &'a PodAction {
    &p.pods.iter().find(|x| x.name == name).unwrap().action
}

fn blocked(reason: &str) -> PodAction {
    PodAction::Blocked {
        reason: reason.into(),
    }
}

fn skip(reason: SkipReason) -> PodAction {
    PodAction::Skip { reason }
}

#[test]
fn replicaset_pod_is_evicted_and_plan_proceeds() {
    let p = Case::new(vec![pod("web", json!({}))]).run();
    assert_eq!(action(&p, "web"), &PodAction::Evict);
    assert!(p.can_proceed());
    assert!(p.errors.is_empty() && p.warning.is_none());
}

#[test]
fn daemonset_pod_without_ignore_is_an_error() {
    let p = Case::new(vec![pod("kube-proxy-x", ds_owner("kube-proxy"))]).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/kube-proxy-x"
        ]
    );
    assert!(!p.can_proceed());
}

#[test]
fn daemonset_pods_ignored_are_grouped_in_one_warning() {
    let p = Case::new(vec![
        pod("kube-proxy-x", ds_owner("kube-proxy")),
        pod("weave-net-y", ds_owner("weave-net")),
        pod("web", json!({})),
    ])
    .opts(|o| o.ignore_daemonsets = true)
    .run();
    assert_eq!(
        action(&p, "kube-proxy-x"),
        &skip(SkipReason::DaemonSetIgnored)
    );
    assert_eq!(
        p.warning_line().unwrap(),
        "Warning: ignoring DaemonSet-managed Pods: default/kube-proxy-x, default/weave-net-y"
    );
    assert!(p.can_proceed());
}

#[test]
fn finished_daemonset_pod_is_deleted() {
    let p = Case::new(vec![pod(
        "ds-done",
        json!({"metadata": ds_owner("x")["metadata"], "status": {"phase": "Succeeded"}}),
    )])
    .run();
    assert_eq!(action(&p, "ds-done"), &PodAction::Evict);
}

#[test]
fn orphaned_daemonset_pod_needs_force() {
    let pods = vec![pod("orphan", ds_owner("gone"))];
    let p = Case::new(pods.clone())
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert_eq!(
        action(&p, "orphan"),
        &blocked("daemonsets.apps \"gone\" not found")
    );
    assert_eq!(
        p.errors,
        vec!["cannot delete daemonsets.apps \"gone\" not found: default/orphan"]
    );
    let p = Case::new(pods).opts(|o| o.force = true).run();
    assert_eq!(action(&p, "orphan"), &PodAction::Evict);
    // kubectl: the DaemonSet filter's warning is overwritten by the later filters' OK.
    assert!(p.warning.is_none());
}

#[test]
fn daemonset_lookup_error_is_shown_verbatim() {
    let p = Case::new(vec![pod("x", ds_owner("forbidden"))])
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert!(p.errors[0].starts_with("cannot delete daemonsets.apps \"forbidden\" is forbidden"));
}

#[test]
fn non_apps_v1_daemonset_is_an_ordinary_managed_pod() {
    let p = Case::new(vec![pod("kruise", json!({"metadata": {"ownerReferences": [{
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "DaemonSet", "name": "d", "uid": "u", "controller": true}]}}))])
    .run();
    assert_eq!(action(&p, "kruise"), &PodAction::Evict);
}

#[test]
fn mirror_pod_is_skipped_silently() {
    let p = Case::new(vec![pod("etcd-node0", json!({"metadata": {
        "annotations": {"kubernetes.io/config.mirror": "abc"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "node0", "uid": "n", "controller": true}]}}))])
    .run();
    assert_eq!(action(&p, "etcd-node0"), &skip(SkipReason::Mirror));
    assert!(p.errors.is_empty() && p.warning.is_none());
}

#[test]
fn emptydir_needs_delete_emptydir_data_and_data_loss_is_reported() {
    let pods = vec![pod(
        "cache",
        json!({"spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}}),
    )];
    let p = Case::new(pods.clone()).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache"
        ]
    );
    let p = Case::new(pods)
        .opts(|o| o.delete_emptydir_data = true)
        .run();
    assert_eq!(action(&p, "cache"), &PodAction::Evict);
    // kubectl's own local-storage warning is overwritten by the next filter; ours is not.
    assert!(p.warning.is_none());
    let f = p
        .findings
        .iter()
        .find(|f| f.kind == "emptydir-data-loss")
        .unwrap();
    assert_eq!(f.pods, vec!["default/cache (scratch)"]);
    assert!(p.can_proceed());
}

#[test]
fn bare_pod_needs_force() {
    let p = Case::new(vec![pod("debug", bare())]).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods that declare no controller (use --force to override): default/debug"
        ]
    );
    let p = Case::new(vec![pod("debug", bare())])
        .opts(|o| o.force = true)
        .run();
    assert_eq!(action(&p, "debug"), &PodAction::Evict);
    assert_eq!(
        p.warning.as_deref(),
        Some("deleting Pods that declare no controller: default/debug")
    );
}

#[test]
fn finished_bare_pod_is_deleted_without_force() {
    let p = Case::new(vec![pod(
        "job-done",
        json!({"metadata": bare()["metadata"], "status": {"phase": "Failed"}}),
    )])
    .run();
    assert_eq!(action(&p, "job-done"), &PodAction::Evict);
    assert!(p.errors.is_empty());
}

#[test]
fn daemonset_with_emptydir_errors_on_daemonset_first() {
    let mut v = ds_owner("fluentd");
    merge(
        &mut v,
        json!({"spec": {"volumes": [{"name": "buf", "emptyDir": {}}]}}),
    );
    let p = Case::new(vec![pod("fluentd-x", v.clone())]).run();
    assert_eq!(
        action(&p, "fluentd-x"),
        &blocked("DaemonSet-managed Pods (use --ignore-daemonsets to ignore)")
    );
    let p = Case::new(vec![pod("fluentd-x", v)])
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert_eq!(action(&p, "fluentd-x"), &skip(SkipReason::DaemonSetIgnored));
    assert!(p.errors.is_empty());
}

#[test]
fn bare_pod_with_emptydir_stops_at_local_storage() {
    let mut v = bare();
    merge(
        &mut v,
        json!({"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}),
    );
    let p = Case::new(vec![pod("b", v.clone())])
        .opts(|o| o.force = true)
        .run();
    assert_eq!(
        action(&p, "b"),
        &blocked("Pods with local storage (use --delete-emptydir-data to override)")
    );
    let p = Case::new(vec![pod("b", v)])
        .opts(|o| {
            o.force = true;
            o.delete_emptydir_data = true
        })
        .run();
    assert_eq!(action(&p, "b"), &PodAction::Evict);
}

#[test]
fn several_errors_are_grouped_by_message() {
    let p = Case::new(vec![
        pod("a", bare()),
        pod("kp", ds_owner("kube-proxy")),
        pod("b", bare()),
    ])
    .run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods that declare no controller (use --force to override): default/a, default/b",
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/kp",
        ]
    );
}

#[test]
fn terminating_pods_are_evicted_unless_deleted_too_long_ago() {
    let pods = vec![
        pod(
            "old",
            json!({"metadata": {"deletionTimestamp": "2026-11-25T11:58:00Z"}}),
        ),
        pod(
            "young",
            json!({"metadata": {"deletionTimestamp": "2026-11-25T11:59:50Z"}}),
        ),
    ];
    let p = Case::new(pods.clone()).run();
    assert_eq!(action(&p, "old"), &PodAction::Evict);
    let p = Case::new(pods)
        .opts(|o| o.skip_wait_for_delete_timeout = Some(60))
        .run();
    assert_eq!(action(&p, "old"), &skip(SkipReason::DeletedTooLong));
    assert_eq!(action(&p, "young"), &PodAction::Evict);
}

#[test]
fn skip_deleted_runs_before_the_daemonset_check() {
    let mut v = ds_owner("kube-proxy");
    merge(
        &mut v,
        json!({"metadata": {"deletionTimestamp": "2026-11-25T11:00:00Z"}}),
    );
    let p = Case::new(vec![pod("kp", v)])
        .opts(|o| o.skip_wait_for_delete_timeout = Some(10))
        .run();
    assert_eq!(action(&p, "kp"), &skip(SkipReason::DeletedTooLong));
    assert!(p.errors.is_empty());
}

#[test]
fn pod_selector_hides_other_pods() {
    let p = Case::new(vec![
        pod("web", json!({})),
        pod(
            "debug",
            json!({"metadata": {"labels": {"app": "dbg"}, "ownerReferences": []}}),
        ),
    ])
    .opts(|o| o.pod_selector = Some(PodSelector::parse("app in (web)").unwrap()))
    .run();
    assert_eq!(action(&p, "web"), &PodAction::Evict);
    assert_eq!(action(&p, "debug"), &skip(SkipReason::NotSelected));
    assert!(
        p.errors.is_empty(),
        "unselected bare pod is invisible: {:?}",
        p.errors
    );
}

#[test]
fn invalid_flags_give_kubectl_errors() {
    use clap::Parser;
    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        f: kubedrain::cli::DrainFlags,
    }
    let t = T::parse_from(["t", "--pod-selector", "a=b=c"]);
    assert_eq!(
        DrainOptions::from_flags(&t.f).unwrap_err(),
        "--pod-selector=a=b=c must be a valid label selector"
    );
    let t = T::parse_from(["t", "--timeout", "5x"]);
    assert!(
        DrainOptions::from_flags(&t.f)
            .unwrap_err()
            .contains("invalid duration \"5x\"")
    );
    let t = T::parse_from([
        "t",
        "--grace-period",
        "-1",
        "--timeout",
        "90s",
        "--skip-wait-for-delete-timeout",
        "0",
    ]);
    let o = DrainOptions::from_flags(&t.f).unwrap();
    assert_eq!(o.grace_period, None);
    assert_eq!(o.timeout, Some(std::time::Duration::from_secs(90)));
    assert_eq!(o.skip_wait_for_delete_timeout, None);
    let t = T::parse_from(["t", "--grace-period", "0"]);
    assert_eq!(
        DrainOptions::from_flags(&t.f).unwrap().grace_period,
        Some(0)
    );
}

#[test]
fn disable_eviction_deletes_and_ignores_pdbs() {
    let mut c = Case::new(vec![pod("web", json!({}))]).opts(|o| o.disable_eviction = true);
    c.pdbs = vec![pdb("web-pdb", "web", 0, 1, 1, 1)];
    let p = c.run();
    assert_eq!(action(&p, "web"), &PodAction::Delete);
    assert!(p.pdbs.is_empty());
    assert!(p.can_proceed());
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
        r.contains("node(s) had untolerated taint {node-role.kubernetes.io/control-plane}"),
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
