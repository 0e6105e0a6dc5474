//! The scenario YAML format (documented in `assets/scenarios/README.md`). Unknown fields are
//! errors, so typos are reported with their line.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

fn default_version() -> String {
    "v1.25.4".into()
}
fn one() -> f64 {
    1.0
}
fn one_i() -> i64 {
    1
}
fn yes() -> bool {
    true
}
fn default_ns() -> String {
    "default".into()
}

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScenarioFile {
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_version")]
    pub server_version: String,
    /// Suggested time speed.
    #[serde(default = "one")]
    pub speed: f64,
    #[serde(default)]
    pub namespaces: Vec<String>,
    pub nodes: Vec<NodeSpec>,
    #[serde(default)]
    pub deployments: Vec<WorkloadSpec>,
    #[serde(default)]
    pub replicasets: Vec<WorkloadSpec>,
    #[serde(default)]
    pub daemonsets: Vec<WorkloadSpec>,
    #[serde(default)]
    pub statefulsets: Vec<WorkloadSpec>,
    #[serde(default)]
    pub jobs: Vec<WorkloadSpec>,
    /// Bare pods (and static/mirror pods with `mirrorOf`).
    #[serde(default)]
    pub pods: Vec<WorkloadSpec>,
    #[serde(default)]
    pub pdbs: Vec<PdbSpec>,
}

/// Node resources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    #[serde(default = "cpu4")]
    pub cpu: Value,
    #[serde(default = "mem8")]
    pub memory: String,
    #[serde(default = "pods110")]
    pub pods: u32,
}
fn cpu4() -> Value {
    Value::String("4".into())
}
fn mem8() -> String {
    "8Gi".into()
}
fn pods110() -> u32 {
    110
}
impl Default for Capacity {
    fn default() -> Self {
        Self {
            cpu: cpu4(),
            memory: mem8(),
            pods: pods110(),
        }
    }
}

/// A taint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintSpec {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    pub effect: String,
}

/// A node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSpec {
    pub name: String,
    /// e.g. `[control-plane]` → label `node-role.kubernetes.io/control-plane`.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Defaults to the server version.
    #[serde(default)]
    pub kubelet_version: Option<String>,
    #[serde(default)]
    pub os_image: Option<String>,
    #[serde(default)]
    pub kernel_version: Option<String>,
    #[serde(default)]
    pub container_runtime: Option<String>,
    #[serde(default)]
    pub capacity: Capacity,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
    /// e.g. `77d`.
    #[serde(default)]
    pub age: Option<String>,
    #[serde(default, rename = "internalIP")]
    pub internal_ip: Option<String>,
    #[serde(default, rename = "podCIDR")]
    pub pod_cidr: Option<String>,
    #[serde(default = "yes")]
    pub ready: bool,
    #[serde(default)]
    pub unschedulable: bool,
    /// After a simulated upgrade's reboot the kubelet never reports Ready again.
    #[serde(default)]
    pub reboot_fails: bool,
}

/// A container.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// `{cpu: 100m, memory: 128Mi}`.
    #[serde(default)]
    pub requests: BTreeMap<String, Value>,
    #[serde(default)]
    pub limits: BTreeMap<String, Value>,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub args: Vec<String>,
}

/// A workload (Deployment, ReplicaSet, DaemonSet, StatefulSet, Job) or bare pod.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadSpec {
    pub name: String,
    #[serde(default = "default_ns")]
    pub namespace: String,
    #[serde(default = "one_i")]
    pub replicas: i64,
    /// Pod labels (default `app: <name>`); also the selector.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    pub containers: Vec<ContainerSpec>,
    /// emptyDir volumes, mounted at `/<name>` in the first container.
    #[serde(default)]
    pub empty_dir: Vec<String>,
    /// Seconds from container start until Ready (0: at once).
    #[serde(default)]
    pub readiness_delay_seconds: Option<f64>,
    /// Seconds containers take to stop (default: the whole grace period).
    #[serde(default)]
    pub shutdown_seconds: Option<f64>,
    #[serde(default)]
    pub termination_grace_period_seconds: Option<i64>,
    /// Seconds a Job's pod runs before it Succeeds.
    #[serde(default)]
    pub run_seconds: Option<f64>,
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub tolerations: Vec<Value>,
    #[serde(default)]
    pub host_network: bool,
    #[serde(default)]
    pub priority_class_name: Option<String>,
    /// Deployments: the ReplicaSet's hash (e.g. `766c586cb9`); computed when absent.
    #[serde(default)]
    pub pod_template_hash: Option<String>,
    /// Fixed pod names, in creation order (DaemonSets: in node order).
    #[serde(default)]
    pub pod_names: Vec<String>,
    /// Fixed pod IPs, aligned with the pods.
    #[serde(default, rename = "podIPs")]
    pub pod_ips: Vec<String>,
    /// Per-pod ages, aligned with the pods (default `podAge`).
    #[serde(default)]
    pub pod_ages: Vec<String>,
    /// Workload age (default `podAge`, else 1h).
    #[serde(default)]
    pub age: Option<String>,
    #[serde(default)]
    pub pod_age: Option<String>,
    /// Node per pod (default: the scheduler's choice). Bare pods: first entry.
    #[serde(default)]
    pub nodes: Vec<String>,
    /// Restarts of the first container, and how long ago the last one was.
    #[serde(default)]
    pub restarts: i64,
    #[serde(default)]
    pub last_restart_age: Option<String>,
    /// Static pod: the mirror pod of this node's kubelet.
    #[serde(default)]
    pub mirror_of: Option<String>,
    /// Jobs: already finished (pods Succeeded).
    #[serde(default)]
    pub completed: bool,
    /// Pods start unscheduled (the controllers place and start them).
    #[serde(default)]
    pub pending: bool,
    /// StatefulSets: the headless service name.
    #[serde(default)]
    pub service_name: Option<String>,
}

/// A PodDisruptionBudget.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PdbSpec {
    pub name: String,
    #[serde(default = "default_ns")]
    pub namespace: String,
    /// Integer or percentage.
    #[serde(default)]
    pub min_available: Option<Value>,
    #[serde(default)]
    pub max_unavailable: Option<Value>,
    /// matchLabels.
    pub selector: BTreeMap<String, String>,
}

/// A scenario file whose objects do not fit together: which object, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// A workload on a node the file does not have.
    #[error("{section}.{name}: nodes: unknown node {node:?}")]
    UnknownNode {
        section: &'static str,
        name: String,
        node: String,
    },
    /// A workload without containers.
    #[error("{section}.{name}: containers: at least one is required")]
    NoContainers { section: &'static str, name: String },
    /// A PDB with both or neither of its budgets.
    #[error("pdbs.{0}: exactly one of minAvailable and maxUnavailable is required")]
    PdbBudget(String),
}

impl ScenarioFile {
    /// Checks references between objects.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let known = |n: &str| self.nodes.iter().any(|x| x.name == n);
        let all = [
            ("deployments", &self.deployments),
            ("replicasets", &self.replicasets),
            ("daemonsets", &self.daemonsets),
            ("statefulsets", &self.statefulsets),
            ("jobs", &self.jobs),
            ("pods", &self.pods),
        ];
        for (section, list) in all {
            for w in list {
                for n in w.nodes.iter().chain(w.mirror_of.iter()) {
                    if !known(n) {
                        return Err(ScenarioError::UnknownNode {
                            section,
                            name: w.name.clone(),
                            node: n.clone(),
                        });
                    }
                }
                if w.containers.is_empty() {
                    return Err(ScenarioError::NoContainers {
                        section,
                        name: w.name.clone(),
                    });
                }
            }
        }
        for p in &self.pdbs {
            if p.min_available.is_some() == p.max_unavailable.is_some() {
                return Err(ScenarioError::PdbBudget(p.name.clone()));
            }
        }
        Ok(())
    }
}
