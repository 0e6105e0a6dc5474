//! Will the evicted pods fit elsewhere? A greedy first-fit simulation of the scheduler's
//! main filters (requests vs allocatable, pod count, taints, unschedulable, NotReady,
//! nodeSelector). kubectl never checks this (drain-semantics §2.18.11).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::rows::{NodeReady, NodeRow, PodRow};

/// The scheduler's taint for cordoned nodes.
pub const UNSCHEDULABLE_TAINT: &str = "node.kubernetes.io/unschedulable";

/// Room left on a candidate node (before the simulated placements).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetNode {
    /// Node name.
    pub name: String,
    /// Why no pod can go there at all (cordoned, NotReady), if so.
    pub excluded: Option<String>,
    /// NoSchedule/NoExecute taints (`key=value:effect`): only pods tolerating them go there.
    pub taints: Vec<String>,
    /// Free CPU in millicores (allocatable − requests of its pods).
    pub cpu_free_m: i64,
    /// Free memory in bytes.
    pub mem_free: i64,
    /// Free pod slots.
    pub pods_free: i64,
}

/// Where one pod's replacement would go.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Placement {
    /// `namespace/name` of the evicted pod.
    pub pod: String,
    /// The node its replacement would be scheduled on; `None` = stays Pending.
    pub node: Option<String>,
    /// For Pending: a scheduler-style explanation (`0/3 nodes are available: ...`).
    pub reason: Option<String>,
}

/// The capacity part of a drain plan.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct CapacityReport {
    /// Candidate nodes, by name.
    pub targets: Vec<TargetNode>,
    /// One entry per pod whose controller will recreate it.
    pub placements: Vec<Placement>,
    /// Pods that will not come back anywhere (no controller): `namespace/name`.
    pub not_replaced: Vec<String>,
}

impl CapacityReport {
    /// Pods whose replacements would stay Pending.
    pub fn pending(&self) -> impl Iterator<Item = &Placement> {
        self.placements.iter().filter(|p| p.node.is_none())
    }
}

struct Room<'a> {
    node: &'a NodeRow,
    cpu: i64,
    mem: i64,
    pods: i64,
}

fn static_reason(node: &NodeRow, pod: &PodRow) -> Option<String> {
    if node.unschedulable
        && !pod.tolerations.iter().any(|t| {
            t.tolerates(&crate::cluster::rows::Taint {
                key: UNSCHEDULABLE_TAINT.into(),
                value: None,
                effect: "NoSchedule".into(),
            })
        })
    {
        return Some("node(s) were unschedulable".into());
    }
    if node.ready != NodeReady::True {
        return Some("node(s) were not ready".into());
    }
    for taint in &node.taints {
        // The unschedulable taint is covered above (it lags spec.unschedulable anyway).
        if taint.key == UNSCHEDULABLE_TAINT || taint.effect == "PreferNoSchedule" {
            continue;
        }
        if !pod.tolerations.iter().any(|t| t.tolerates(taint)) {
            let v = taint
                .value
                .as_deref()
                .map(|v| format!(": {v}"))
                .unwrap_or_default();
            return Some(format!(
                "node(s) had untolerated taint {{{}{v}}}",
                taint.key
            ));
        }
    }
    let labels = node.meta.labels.as_ref();
    if !pod
        .node_selector
        .iter()
        .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
    {
        return Some("node(s) didn't match Pod's node affinity/selector".into());
    }
    None
}

fn fit_reason(room: &Room, pod: &PodRow) -> Option<String> {
    // Allocatable 0 means "not reported": don't block on it.
    let n = room.node;
    if n.pods_allocatable > 0 && room.pods < 1 {
        return Some("Too many pods".into());
    }
    if n.cpu_allocatable_m > 0 && (pod.cpu_request_m as i64) > room.cpu {
        return Some("Insufficient cpu".into());
    }
    if n.mem_allocatable > 0 && (pod.mem_request as i64) > room.mem {
        return Some("Insufficient memory".into());
    }
    None
}

/// Simulates scheduling the replacements of `evicted` (pods leaving `drained`) onto `nodes`.
/// `pods` are all pods of the cluster (those on `drained` are ignored).
pub fn simulate(
    drained: &NodeRow,
    evicted: &[&PodRow],
    nodes: &[&NodeRow],
    pods: &[&PodRow],
) -> CapacityReport {
    let mut rooms: Vec<Room> = nodes
        .iter()
        .filter(|n| n.name() != drained.name())
        .map(|n| Room {
            node: n,
            cpu: n.cpu_allocatable_m as i64,
            mem: n.mem_allocatable as i64,
            pods: n.pods_allocatable as i64,
        })
        .collect();
    rooms.sort_by(|a, b| a.node.name().cmp(b.node.name()));
    let index: BTreeMap<&str, usize> = rooms
        .iter()
        .enumerate()
        .map(|(i, r)| (r.node.name(), i))
        .collect();
    for p in pods {
        if p.phase.is_finished() {
            continue;
        }
        if let Some(&i) = p.node_name.as_deref().and_then(|n| index.get(n)) {
            rooms[i].cpu -= p.cpu_request_m as i64;
            rooms[i].mem -= p.mem_request as i64;
            rooms[i].pods -= 1;
        }
    }
    let mut report = CapacityReport {
        targets: rooms
            .iter()
            .map(|r| TargetNode {
                name: r.node.name().to_string(),
                excluded: if r.node.unschedulable {
                    Some("cordoned".into())
                } else if r.node.ready != NodeReady::True {
                    Some("NotReady".into())
                } else {
                    None
                },
                taints: r
                    .node
                    .taints
                    .iter()
                    .filter(|t| t.effect != "PreferNoSchedule" && t.key != UNSCHEDULABLE_TAINT)
                    .map(|t| match &t.value {
                        Some(v) => format!("{}={v}:{}", t.key, t.effect),
                        None => format!("{}:{}", t.key, t.effect),
                    })
                    .collect(),
                cpu_free_m: r.cpu,
                mem_free: r.mem,
                pods_free: r.pods,
            })
            .collect(),
        ..Default::default()
    };
    for pod in evicted {
        let replaced =
            pod.controller().is_some_and(|c| c.kind != "DaemonSet") && !pod.phase.is_finished();
        if !replaced {
            report.not_replaced.push(pod.key());
            continue;
        }
        let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
        // The drained node itself is cordoned: the scheduler counts it too.
        *reasons
            .entry("node(s) were unschedulable".into())
            .or_default() += 1;
        let mut chosen = None;
        for (i, room) in rooms.iter().enumerate() {
            match static_reason(room.node, pod).or_else(|| fit_reason(room, pod)) {
                Some(r) => *reasons.entry(r).or_default() += 1,
                None => {
                    chosen = Some(i);
                    break;
                }
            }
        }
        match chosen {
            Some(i) => {
                let r = &mut rooms[i];
                r.cpu -= pod.cpu_request_m as i64;
                r.mem -= pod.mem_request as i64;
                r.pods -= 1;
                report.placements.push(Placement {
                    pod: pod.key(),
                    node: Some(r.node.name().to_string()),
                    reason: None,
                });
            }
            None => {
                let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
                report.placements.push(Placement {
                    pod: pod.key(),
                    node: None,
                    reason: Some(format!(
                        "0/{} nodes are available: {}.",
                        rooms.len() + 1,
                        list.join(", ")
                    )),
                });
            }
        }
    }
    report
}
