//! Where would the evicted pods' replacements go? A forecast like kube-scheduler's defaults:
//! its filters (unschedulable, taints and tolerations, nodeSelector, required node affinity,
//! CPU, memory and pod count) and its scoring (least allocated + balanced allocation, and
//! `PreferNoSchedule` taints as `TaintToleration` scores them, `cluster::scheduling`), placing pods one after another so earlier placements
//! count. Where nodes tie, kube-scheduler picks one at random: the forecast names them all.
//! In a cluster of 100 nodes or more it scores only a sample of the nodes that fit
//! (`scheduling::nodes_to_score`): the forecast also names every node that can be the best of
//! such a sample.
//! Pods with required pod (anti-)affinity or topology spread constraints are not predicted.
//! kubectl never checks any of this (drain-semantics §2.18.11).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cluster::rows::{ClusterPod, NodeReady, NodeRow, PodRow, Taint};
use crate::cluster::scheduling::{self, NodeLoad, Res};

/// How many alternative nodes a placement names (a big pool of equal nodes ties everywhere).
pub const MAX_OR: usize = 3;

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

/// Why one node cannot take a pod.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeMisfit {
    pub node: String,
    /// Short, e.g. `cordoned`, `taint control-plane`, `cpu`.
    pub why: String,
}

/// Where one pod's replacement would go.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Placement {
    /// `namespace/name` of the evicted pod.
    pub pod: String,
    /// The node its replacement would be scheduled on; `None`: Pending, or not predicted.
    pub node: Option<String>,
    /// Other nodes it may land on: ties (kube-scheduler picks among them at random), or
    /// another order of the pods evicted with it; the first [`MAX_OR`] by name.
    pub or: Vec<String>,
    /// How many more such nodes there are beyond `or`.
    pub or_more: usize,
    /// It lands in the order shown, but may stay Pending in another order.
    pub maybe_pending: bool,
    /// Why it is not predicted (`pod (anti-)affinity`, `topology spread`), if so.
    pub unmodelled: Option<String>,
    /// For Pending: the scheduler's message (`0/3 nodes are available: ...`).
    pub reason: Option<String>,
    /// For Pending: why each node does not fit.
    pub misfits: Vec<NodeMisfit>,
}

impl Placement {
    /// Stays Pending (predicted, not merely unpredicted).
    pub fn is_pending(&self) -> bool {
        self.node.is_none() && self.unmodelled.is_none()
    }

    /// Will be scheduled somewhere (or is not predicted but some node passes the filters).
    pub fn lands(&self) -> bool {
        !self.is_pending()
    }

    /// `node1`, `node1 or node2`, `not predicted: topology spread`, `Pending`.
    pub fn target_text(&self) -> String {
        match (&self.node, &self.unmodelled) {
            (Some(n), _) => {
                let mut t = std::iter::once(n.as_str())
                    .chain(self.or.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" or ");
                if self.or_more > 0 {
                    t.push_str(&format!(" or {} more", self.or_more));
                }
                if self.maybe_pending {
                    t.push_str(" or Pending");
                }
                t
            }
            (None, Some(why)) => format!("not predicted: {why}"),
            (None, None) if self.or.is_empty() => "Pending".into(),
            (None, None) if self.or_more == 0 => format!("Pending or {}", self.or.join(" or ")),
            (None, None) => format!(
                "Pending or {} or {} more",
                self.or.join(" or "),
                self.or_more
            ),
        }
    }

    /// For Pending: the nodes by reason, shortest first (`node0 cordoned; master0 taint ...`).
    pub fn misfit_text(&self) -> String {
        let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for m in &self.misfits {
            by.entry(&m.why).or_default().push(&m.node);
        }
        let mut parts: Vec<String> = by
            .into_iter()
            .map(|(why, nodes)| match nodes.as_slice() {
                [one] => format!("{one}: {why}"),
                [a, b] => format!("{a}, {b}: {why}"),
                [a, rest @ ..] => format!("{a} and {} more: {why}", rest.len()),
                [] => String::new(),
            })
            .collect();
        parts.sort_by_key(|p| p.len());
        parts.join("; ")
    }
}

/// The capacity part of a drain plan.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct CapacityReport {
    /// Candidate nodes, by name.
    pub targets: Vec<TargetNode>,
    /// One entry per pod whose controller will recreate it, in the order they would be placed.
    pub placements: Vec<Placement>,
    /// Pods that will not come back anywhere (no controller): `namespace/name`.
    pub not_replaced: Vec<String>,
}

impl CapacityReport {
    /// Pods whose replacements would stay Pending.
    pub fn pending(&self) -> impl Iterator<Item = &Placement> {
        self.placements.iter().filter(|p| p.is_pending())
    }

    /// The placement of `pod` (`namespace/name`).
    pub fn of(&self, pod: &str) -> Option<&Placement> {
        self.placements.iter().find(|p| p.pod == pod)
    }
}

#[derive(Clone)]
struct Room<'a> {
    node: &'a NodeRow,
    alloc: Res,
    load: NodeLoad,
}

impl Room<'_> {
    fn free(&self) -> Res {
        self.alloc.minus(self.load.requested)
    }

    fn pods_free(&self) -> i64 {
        self.node.pods_allocatable as i64 - self.load.pods
    }
}

fn requests(p: &PodRow) -> Res {
    Res {
        cpu: p.cpu_request_m as i64,
        mem: p.mem_request as i64,
    }
}

fn tolerated(pod: &PodRow, taint: &Taint) -> bool {
    pod.tolerations.iter().any(|t| t.tolerates(taint))
}

fn label<'a>(node: &'a NodeRow, key: &str) -> Option<&'a str> {
    node.meta.labels.as_ref()?.get(key).map(String::as_str)
}

/// How many `PreferNoSchedule` taints of `node` the pod does not tolerate.
fn preferred_against(node: &NodeRow, pod: &PodRow) -> i64 {
    node.taints
        .iter()
        .filter(|t| t.effect == "PreferNoSchedule" && !tolerated(pod, t))
        .count() as i64
}

/// The filters that do not depend on what runs on the node, in the scheduler's order:
/// (scheduler message, short reason).
fn static_misfit(node: &NodeRow, pod: &PodRow, tolerates_cordon: bool) -> Option<(String, String)> {
    if node.unschedulable && !tolerates_cordon {
        return Some(("node(s) were unschedulable".into(), "cordoned".into()));
    }
    for taint in &node.taints {
        // The unschedulable taint is covered above (it lags spec.unschedulable anyway).
        if taint.key == UNSCHEDULABLE_TAINT || taint.effect == "PreferNoSchedule" {
            continue;
        }
        if !tolerated(pod, taint) {
            let v = taint.value.as_deref().unwrap_or("");
            // Short: `node-role.kubernetes.io/control-plane` reads as `control-plane`.
            let short = taint.key.rsplit('/').next().unwrap_or(&taint.key);
            return Some((
                format!("node(s) had untolerated taint {{{}: {v}}}", taint.key),
                format!("taint {short}"),
            ));
        }
    }
    // The node lifecycle controller taints a NotReady node shortly after; don't count on the gap.
    if node.ready != NodeReady::True {
        return Some(("node(s) were not ready".into(), "NotReady".into()));
    }
    let selector_ok = pod
        .node_selector
        .iter()
        .all(|(k, v)| label(node, k) == Some(v.as_str()));
    let affinity_ok = pod
        .constraints
        .as_ref()
        .is_none_or(|c| c.node_matches(node.name(), |k| label(node, k)));
    if !(selector_ok && affinity_ok) {
        return Some((
            "node(s) didn't match Pod's node affinity/selector".into(),
            "node selector/affinity".into(),
        ));
    }
    None
}

/// Resource fit: every short resource, as the scheduler reports them.
fn fit_misfits(room: &Room, req: Res) -> Vec<(String, String)> {
    let n = room.node;
    let free = room.free();
    let mut out = Vec::new();
    // Allocatable 0 means "not reported": don't block on it.
    if n.pods_allocatable > 0 && room.pods_free() < 1 {
        out.push(("Too many pods".into(), "pods full".into()));
    }
    if n.cpu_allocatable_m > 0 && req.cpu > 0 && req.cpu > free.cpu {
        out.push(("Insufficient cpu".into(), "cpu".into()));
    }
    if n.mem_allocatable > 0 && req.mem > 0 && req.mem > free.mem {
        out.push(("Insufficient memory".into(), "memory".into()));
    }
    out
}

/// What the filters make of the nodes for one pod.
#[derive(Default)]
struct Filtered {
    /// Nodes that pass, with their scores.
    fits: Vec<(usize, i64)>,
    /// Why each other node does not.
    misfits: Vec<NodeMisfit>,
    /// The scheduler's reasons, counted.
    reasons: BTreeMap<String, usize>,
}

/// The other nodes and what runs on them; [`Forecast::place`] commits each placement.
#[derive(Clone)]
pub struct Forecast<'a> {
    rooms: Vec<Room<'a>>,
}

impl<'a> Forecast<'a> {
    /// The cluster as it is, minus the node being drained (`drained`).
    pub fn new<P: ClusterPod + ?Sized>(drained: &str, nodes: &[&'a NodeRow], pods: &[&P]) -> Self {
        let mut rooms: Vec<Room> = nodes
            .iter()
            .filter(|n| n.name() != drained)
            .map(|n| Room {
                node: n,
                alloc: Res {
                    cpu: n.cpu_allocatable_m as i64,
                    mem: n.mem_allocatable as i64,
                },
                load: NodeLoad::default(),
            })
            .collect();
        rooms.sort_by(|a, b| a.node.name().cmp(b.node.name()));
        let index: BTreeMap<&str, usize> = rooms
            .iter()
            .enumerate()
            .map(|(i, r)| (r.node.name(), i))
            .collect();
        // Terminating pods still hold their node's resources, as for the scheduler.
        for p in pods.iter().filter(|p| !p.finished()) {
            if let Some(&i) = p.node().and_then(|n| index.get(n)) {
                let (cpu, mem) = p.requests();
                let req = Res {
                    cpu: cpu as i64,
                    mem: mem as i64,
                };
                rooms[i].load.add(req, 1);
            }
        }
        Forecast { rooms }
    }

    /// The candidate nodes as they are now.
    pub fn targets(&self) -> Vec<TargetNode> {
        self.rooms
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
                cpu_free_m: r.free().cpu,
                mem_free: r.free().mem,
                pods_free: r.pods_free(),
            })
            .collect()
    }

    /// Scores every node that passes the filters; the others' reasons, as the scheduler
    /// counts them and per node.
    fn filter(&self, pod: &PodRow, req: Res) -> Filtered {
        let cordon = Taint {
            key: UNSCHEDULABLE_TAINT.into(),
            value: None,
            effect: "NoSchedule".into(),
        };
        let tolerates_cordon = tolerated(pod, &cordon);
        // The drained node is cordoned: the scheduler counts it as well.
        let mut out = Filtered {
            reasons: BTreeMap::from([("node(s) were unschedulable".to_string(), 1)]),
            ..Default::default()
        };
        let mut prefer_not = Vec::new();
        for (i, room) in self.rooms.iter().enumerate() {
            let bad = match static_misfit(room.node, pod, tolerates_cordon) {
                Some(m) => vec![m],
                None => fit_misfits(room, req),
            };
            if bad.is_empty() {
                out.fits
                    .push((i, scheduling::score(room.alloc, &room.load, req)));
                prefer_not.push(preferred_against(room.node, pod));
                continue;
            }
            let why: Vec<&str> = bad.iter().map(|(_, w)| w.as_str()).collect();
            out.misfits.push(NodeMisfit {
                node: room.node.name().to_string(),
                why: why.join(", "),
            });
            for (msg, _) in bad {
                *out.reasons.entry(msg).or_default() += 1;
            }
        }
        // TaintToleration normalises over the nodes that passed the filters.
        for (fit, t) in out
            .fits
            .iter_mut()
            .zip(scheduling::taint_toleration(&prefer_not))
        {
            fit.1 += t;
        }
        out
    }

    /// Schedules `pod`'s replacement like kube-scheduler would and commits it.
    pub fn place(&mut self, pod: &PodRow) -> Placement {
        let req = requests(pod);
        let Filtered {
            fits,
            misfits,
            reasons,
        } = self.filter(pod, req);
        let placement = Placement {
            pod: pod.key(),
            ..Default::default()
        };
        let Some(best) = fits.iter().map(|&(_, s)| s).max() else {
            let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
            // Affinity rules can only remove nodes: Pending is Pending, modelled or not.
            return Placement {
                reason: Some(format!(
                    "0/{} nodes are available: {}.",
                    self.rooms.len() + 1,
                    list.join(", ")
                )),
                misfits,
                ..placement
            };
        };
        let tied: Vec<usize> = fits
            .iter()
            .filter(|&&(_, s)| s == best)
            .map(|&(i, _)| i)
            .collect();
        // Of the tied nodes, the built-in cluster takes the one with the fewest pods (then the
        // first by name); kube-scheduler takes any of them.
        let chosen = *tied
            .iter()
            .min_by_key(|&&i| self.rooms[i].load.pods)
            .expect("a best score has a node");
        self.rooms[chosen].load.add(req, 1);
        if let Some(why) = pod.constraints.as_ref().and_then(|c| c.unmodelled()) {
            return Placement {
                unmodelled: Some(why.to_string()),
                ..placement
            };
        }
        // MAX_OR + 1: `or` leaves out the chosen node when it is among them.
        let (first, count) = choosable(&fits, self.rooms.len() + 1, MAX_OR + 1);
        let name = |i: usize| self.rooms[i].node.name().to_string();
        let or: Vec<String> = first
            .into_iter()
            .filter(|&i| i != chosen)
            .take(MAX_OR)
            .map(name)
            .collect();
        Placement {
            node: Some(name(chosen)),
            or_more: count.saturating_sub(1 + or.len()),
            or,
            ..placement
        }
    }
}

/// The nodes (of `fits`: room index and score) kube-scheduler may choose: the first `limit`
/// of them, best first (then by name), and how many there are. It scores only a sample of the
/// feasible nodes when more fit than `nodes_to_score` of the cluster's `all` nodes, and takes
/// the best of the sample (any of them on a tie). Whatever order it searches in, a node is
/// never its choice when more nodes outscore it than a sample can leave out; every other node
/// can be. Linear, not a sort: it runs for every pod in every order the plan tries.
fn choosable(fits: &[(usize, i64)], all: usize, limit: usize) -> (Vec<usize>, usize) {
    if fits.is_empty() || limit == 0 {
        return (Vec::new(), 0);
    }
    let slack = fits.len().saturating_sub(scheduling::nodes_to_score(all));
    // At most `slack` nodes outscore a node exactly when its score is at least the
    // (slack + 1)-th best.
    let mut scores: Vec<i64> = fits.iter().map(|&(_, s)| s).collect();
    let floor = *scores
        .select_nth_unstable_by(slack.min(fits.len() - 1), |a, b| b.cmp(a))
        .1;
    let mut can: Vec<(usize, i64)> = fits.iter().filter(|f| f.1 >= floor).copied().collect();
    let count = can.len();
    let rank = |a: &(usize, i64), b: &(usize, i64)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
    if can.len() > limit {
        can.select_nth_unstable_by(limit - 1, rank);
        can.truncate(limit);
    }
    can.sort_by(rank);
    (can.into_iter().map(|(i, _)| i).collect(), count)
}

/// Whether a controller will recreate the pod somewhere else.
pub fn replaced(pod: &PodRow) -> bool {
    pod.controller().is_some_and(|c| c.kind != "DaemonSet") && !pod.phase.is_finished()
}

/// Simulates scheduling the replacements of `evicted` (pods leaving `drained`, in this order)
/// onto `nodes`. `pods` are all pods of the cluster (those on `drained` are ignored).
pub fn simulate(
    drained: &NodeRow,
    evicted: &[&PodRow],
    nodes: &[&NodeRow],
    pods: &[&PodRow],
) -> CapacityReport {
    let mut f = Forecast::new(drained.name(), nodes, pods);
    let mut report = CapacityReport {
        targets: f.targets(),
        ..Default::default()
    };
    for pod in evicted {
        if replaced(pod) {
            report.placements.push(f.place(pod));
        } else {
            report.not_replaced.push(pod.key());
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::choosable;

    #[test]
    fn under_100_nodes_only_the_best_can_be_chosen() {
        // Every node is scored: the best score (9) wins, on any of its tied nodes.
        let fits: Vec<(usize, i64)> = (0..98).map(|i| (i, i as i64 % 10)).collect();
        let best: Vec<usize> = (0..9).map(|t| t * 10 + 9).collect();
        assert_eq!(choosable(&fits, 99, 100), (best.clone(), 9));
        assert_eq!(choosable(&fits, 99, 4), (best[..4].to_vec(), 9));
    }

    #[test]
    fn a_sampling_scheduler_may_choose_any_node_not_outscored_by_too_many() {
        // 200 nodes, 199 fit with scores 0..198 (shuffled): kube-scheduler scores 100 of them,
        // so a sample leaves 99 out, and a node outscored by at most 99 can be a sample's best.
        let fits: Vec<(usize, i64)> = (0..199).map(|i| (i, (i * 73 % 199) as i64)).collect();
        let (first, count) = choosable(&fits, 200, 500);
        assert_eq!(count, 100);
        let scores: Vec<i64> = first.iter().map(|&i| fits[i].1).collect();
        assert_eq!(scores, (99..199).rev().collect::<Vec<i64>>());
        let (top, count) = choosable(&fits, 200, 4);
        assert_eq!((top, count), (first[..4].to_vec(), 100));
        // No more fit than it scores: the best only.
        let few: Vec<(usize, i64)> = (0..100).map(|i| (i, i as i64)).collect();
        assert_eq!(choosable(&few, 200, 4), (vec![99], 1));
    }
}
