//! Builders shared by the planner tests.
#![allow(dead_code)]

pub mod proxy;
pub mod sim;

use kubedrain::cluster::rows::{ClusterPod, NodeRow, PdbRow, PodRow};
use kubedrain::drain::plan::BlockKind;
use kubedrain::drain::{
    ClusterView, DrainOptions, DrainPlan, DsLookup, PlanInput, PodAction, SkipReason, plan,
};
use serde_json::{Value, json};

pub const NOW: &str = "2026-11-25T12:00:00Z";

pub fn pod(name: &str, patch: Value) -> PodRow {
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

pub fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (a, b) => *a = b,
    }
}

pub fn node(name: &str, patch: Value) -> NodeRow {
    let mut v = json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}]}
    });
    merge(&mut v, patch);
    serde_json::from_value(v).unwrap()
}

pub fn pdb(
    name: &str,
    app: &str,
    allowed: i32,
    healthy: i32,
    desired: i32,
    expected: i32,
) -> PdbRow {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "default", "generation": 1},
        "spec": {"selector": {"matchLabels": {"app": app}}, "minAvailable": desired},
        "status": {"disruptionsAllowed": allowed, "currentHealthy": healthy,
            "desiredHealthy": desired, "expectedPods": expected, "observedGeneration": 1}
    }))
    .unwrap()
}

pub fn ds_owner(name: &str) -> Value {
    json!({"metadata": {"ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
        "name": name, "uid": "ds", "controller": true}]}})
}

pub fn bare() -> Value {
    json!({"metadata": {"ownerReferences": []}})
}

pub fn ds_lookup(ns: &str, name: &str) -> DsLookup {
    match (ns, name) {
        (_, "gone") => DsLookup::NotFound,
        (_, "forbidden") => DsLookup::Error(
            "daemonsets.apps \"forbidden\" is forbidden: User \"x\" cannot get resource".into(),
        ),
        _ => DsLookup::Exists,
    }
}

pub struct Case {
    pub pods: Vec<PodRow>,
    pub pdbs: Vec<PdbRow>,
    pub node: NodeRow,
    pub others: Vec<NodeRow>,
    pub other_pods: Vec<PodRow>,
    pub opts: DrainOptions,
}

impl Case {
    pub fn new(pods: Vec<PodRow>) -> Self {
        Case {
            pods,
            pdbs: vec![],
            node: node("node0", json!({})),
            others: vec![],
            other_pods: vec![],
            opts: DrainOptions::default(),
        }
    }
    pub fn opts(mut self, f: impl FnOnce(&mut DrainOptions)) -> Self {
        f(&mut self.opts);
        self
    }
    pub fn run(&self) -> DrainPlan {
        let pods: Vec<&PodRow> = self.pods.iter().collect();
        let pdbs: Vec<&PdbRow> = self.pdbs.iter().collect();
        let nodes: Vec<&NodeRow> = self.others.iter().collect();
        let other_pods: Vec<&dyn ClusterPod> = self.other_pods.iter().map(|p| p as _).collect();
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
            hidden: None,
        })
    }
}

pub fn action<'a>(p: &'a DrainPlan, name: &str) -> &'a PodAction {
    &p.pods.iter().find(|x| x.name == name).unwrap().action
}

pub fn blocked(reason: &str, block: BlockKind) -> PodAction {
    PodAction::Blocked {
        reason: reason.into(),
        block,
    }
}

pub fn skip(reason: SkipReason) -> PodAction {
    PodAction::Skip { reason }
}
