//! The pure campaign planner: which nodes, in which order, in which waves, and each wave's
//! pre-check. The pre-check reads the drain engine's one verdict model (`drain::plan`) for
//! every node of the wave and the drain engine's placement forecast (`capacity::Forecast`)
//! for the whole wave at once: a wave that would leave pods Pending is held before it starts.

use std::collections::HashMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::cluster::rows::{ClusterPod, NodeRow, PdbRow, PodRow};
use crate::drain::capacity::{self, Forecast};
use crate::drain::plan::{DrainPlan, Severity, Verdict};
use crate::drain::{ClusterView, DrainOptions, DsLookup, PlanInput, plan};

/// Which nodes a campaign takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// These nodes, by name (a label selector is resolved to names by the caller).
    Names(Vec<String>),
    /// Every node without a control-plane role.
    AllWorkers,
    /// The control-plane nodes.
    ControlPlane,
    /// Every node.
    All,
}

/// Whether the node has a control-plane (or legacy master) role.
pub fn is_control_plane(n: &NodeRow) -> bool {
    n.roles
        .iter()
        .any(|r| r == "control-plane" || r == "master")
}

/// Nodes taken out of service together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wave {
    /// 0-based position in the campaign.
    pub index: usize,
    pub nodes: Vec<String>,
    /// A control-plane wave (always one node).
    pub control_plane: bool,
}

/// A node named in a selection that the cluster does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node \"{0}\" not found")]
pub struct NoSuchNode(pub String);

/// The nodes `sel` names, or why not (a name that does not exist).
pub fn select<'a>(nodes: &'a [NodeRow], sel: &Selection) -> Result<Vec<&'a NodeRow>, NoSuchNode> {
    match sel {
        Selection::Names(names) => {
            let mut out: Vec<&NodeRow> = Vec::new();
            for name in names {
                let n = nodes
                    .iter()
                    .find(|n| n.name() == name)
                    .ok_or_else(|| NoSuchNode(name.clone()))?;
                if !out.iter().any(|o| o.name() == name) {
                    out.push(n);
                }
            }
            Ok(out)
        }
        Selection::AllWorkers => Ok(nodes.iter().filter(|n| !is_control_plane(n)).collect()),
        Selection::ControlPlane => Ok(nodes.iter().filter(|n| is_control_plane(n)).collect()),
        Selection::All => Ok(nodes.iter().collect()),
    }
}

/// The campaign's order: control-plane nodes first, one at a time, then the rest in waves of
/// `max_unavailable` (at least 1), each group by name.
pub fn waves(selected: &[&NodeRow], max_unavailable: usize) -> Vec<Wave> {
    let mut cp: Vec<&str> = selected
        .iter()
        .filter(|n| is_control_plane(n))
        .map(|n| n.name())
        .collect();
    let mut rest: Vec<&str> = selected
        .iter()
        .filter(|n| !is_control_plane(n))
        .map(|n| n.name())
        .collect();
    cp.sort();
    rest.sort();
    let mut out: Vec<Wave> = cp
        .into_iter()
        .map(|n| (vec![n.to_string()], true))
        .chain(
            rest.chunks(max_unavailable.max(1))
                .map(|c| (c.iter().map(|n| n.to_string()).collect(), false)),
        )
        .enumerate()
        .map(|(index, (nodes, control_plane))| Wave {
            index,
            nodes,
            control_plane,
        })
        .collect();
    out.shrink_to_fit();
    out
}

/// The cluster as the pre-check sees it (every namespace).
pub struct ClusterState<'a> {
    pub nodes: &'a [NodeRow],
    pub pods: &'a [PodRow],
    pub pdbs: &'a [PdbRow],
    /// kubectl's DaemonSet GET: `(namespace, name) -> exists?`.
    pub daemonset_exists: &'a dyn Fn(&str, &str) -> DsLookup,
}

/// One node's drain plan, summarised.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NodeCheck {
    pub node: String,
    pub verdict: Verdict,
    /// Pods the drain evicts (or deletes).
    pub removals: usize,
    /// kubectl's errors and the findings worth a line, worst first (`[severity] message`).
    pub lines: Vec<String>,
}

/// Where one of the wave's evicted pods' replacement goes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WavePlacement {
    /// `namespace/name` of the evicted pod.
    pub pod: String,
    /// `node1`, `node1 or node2`, `Pending`, `not predicted: ...`.
    pub target: String,
    pub pending: bool,
    /// For Pending: the scheduler's message.
    pub reason: Option<String>,
}

/// A wave's pre-check: every node's verdict and the forecast for the whole wave.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WaveCheck {
    pub wave: Wave,
    pub nodes: Vec<NodeCheck>,
    /// Replacements of every pod the wave evicts, placed with every wave node cordoned.
    pub placements: Vec<WavePlacement>,
    /// Why the wave must not start, if so.
    pub held: Option<String>,
    /// Outages accepted with `--allow-outage` (one line each).
    pub overrides: Vec<String>,
}

impl WaveCheck {
    /// Replacements that would stay Pending.
    pub fn pending(&self) -> impl Iterator<Item = &WavePlacement> {
        self.placements.iter().filter(|p| p.pending)
    }
}

fn severity_text(s: Severity) -> &'static str {
    match s {
        Severity::Blocker => "blocker",
        Severity::Unknown => "cannot tell",
        Severity::Outage => "outage",
        Severity::Warning => "warning",
    }
}

/// Checks `wave` against `cluster`: each node's drain plan (with every other node of the wave
/// cordoned) and one placement forecast of all the wave's replacements. Pure.
pub fn check_wave(
    wave: &Wave,
    cluster: &ClusterState,
    opts: &DrainOptions,
    now: Timestamp,
) -> WaveCheck {
    let marked = cordoned(wave, cluster.nodes);
    let node_refs: Vec<&NodeRow> = marked.iter().collect();
    let pod_refs: Vec<&dyn ClusterPod> = cluster.pods.iter().map(|p| p as _).collect();
    let pdb_refs: Vec<&PdbRow> = cluster.pdbs.iter().collect();
    let mut by_node: HashMap<&str, Vec<&PodRow>> = HashMap::new();
    for p in cluster.pods {
        if let Some(n) = p.node_name.as_deref() {
            by_node.entry(n).or_default().push(p);
        }
    }
    // The forecast leaves out one drained node and counts it as unschedulable in its
    // messages; the wave's other nodes are in as cordoned: `0/N nodes` stays the cluster's N.
    let first = wave.nodes.first().map(String::as_str).unwrap_or_default();
    let mut forecast = Forecast::new(first, &node_refs, &pod_refs);
    let mut check = WaveCheck {
        wave: wave.clone(),
        nodes: vec![],
        placements: vec![],
        held: None,
        overrides: vec![],
    };
    let mut reasons: Vec<String> = Vec::new();
    // Pods of outages accepted with --allow-outage: their Pending replacements are part of
    // what was accepted, not a reason to hold the wave.
    let mut accepted: Vec<String> = Vec::new();
    for name in &wave.nodes {
        let Some(node) = cluster.nodes.iter().find(|n| n.name() == name) else {
            reasons.push(format!("node/{name} no longer exists"));
            continue;
        };
        let pods = by_node.remove(name.as_str()).unwrap_or_default();
        let p = plan(&PlanInput {
            node,
            pods: &pods,
            pdbs: &pdb_refs,
            cluster: Some(ClusterView {
                nodes: &node_refs,
                pods: &pod_refs,
            }),
            daemonset_exists: cluster.daemonset_exists,
            opts,
            now,
            hidden: None,
        });
        for (pp, row) in p.pods.iter().zip(&pods) {
            if pp.removed() && capacity::replaced(row) {
                let placed = forecast.place(row);
                check.placements.push(WavePlacement {
                    pod: placed.pod.clone(),
                    target: placed.target_text(),
                    pending: placed.is_pending(),
                    reason: placed.reason.clone(),
                });
            }
        }
        let mut lines: Vec<String> = p.errors.clone();
        lines.extend(
            p.findings
                .iter()
                .map(|f| format!("[{}] {}", severity_text(f.severity), f.message)),
        );
        reasons.extend(hold_reason(name, &p, opts, &mut check, &mut accepted));
        check.nodes.push(NodeCheck {
            node: name.clone(),
            verdict: p.verdict,
            removals: p.counts().removed,
            lines,
        });
    }
    reasons.extend(pending_reason(&check, &accepted));
    check.held = (!reasons.is_empty()).then(|| reasons.join("; "));
    check
}

/// The cluster's nodes as they will be during `wave`: its own nodes cordoned (nodes already
/// cordoned stay so).
fn cordoned(wave: &Wave, nodes: &[NodeRow]) -> Vec<NodeRow> {
    nodes
        .iter()
        .map(|n| {
            let mut n = n.clone();
            if wave.nodes.iter().any(|w| w == n.name()) {
                n.unschedulable = true;
            }
            n
        })
        .collect()
}

/// Why node `name`'s plan `p` holds the wave, if it does. An outage accepted with
/// `--allow-outage` is an override instead, and its pods go into `accepted` (their Pending
/// replacements are part of what was accepted).
fn hold_reason(
    name: &str,
    p: &DrainPlan,
    opts: &DrainOptions,
    check: &mut WaveCheck,
    accepted: &mut Vec<String>,
) -> Option<String> {
    let first = |s: Severity| p.findings_of(s).next().map(|f| f.message.clone());
    match p.verdict {
        Verdict::Proceed => None,
        Verdict::Blocked => {
            let why = p
                .errors
                .first()
                .cloned()
                .or_else(|| p.blocker_messages().into_iter().next())
                .unwrap_or_else(|| "a pod is blocked".into());
            Some(format!("node/{name} is blocked: {why}"))
        }
        Verdict::CannotTell => Some(format!(
            "node/{name}: kubedrain cannot tell: {}",
            first(Severity::Unknown).unwrap_or_default()
        )),
        Verdict::Outage if opts.allow_outage => {
            check.overrides.push(format!(
                "node/{name}: outage accepted (--allow-outage): {}",
                first(Severity::Outage).unwrap_or_default()
            ));
            accepted.extend(p.findings_of(Severity::Outage).flat_map(|f| {
                f.pods
                    .iter()
                    .map(|k| k.split(" (").next().unwrap_or(k).to_string())
            }));
            None
        }
        Verdict::Outage => Some(format!(
            "node/{name} would cause an outage: {} (--allow-outage accepts it)",
            first(Severity::Outage).unwrap_or_default()
        )),
    }
}

/// The forecast's Pending replacements (but those of accepted outages) hold the wave.
fn pending_reason(check: &WaveCheck, accepted: &[String]) -> Option<String> {
    let pending: Vec<&WavePlacement> = check
        .pending()
        .filter(|p| !accepted.contains(&p.pod))
        .collect();
    let first = pending.first()?;
    Some(format!(
        "the wave's forecast leaves {} pod(s) Pending: {}{}{}",
        pending.len(),
        pending
            .iter()
            .take(3)
            .map(|p| p.pod.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if pending.len() > 3 { ", …" } else { "" },
        first
            .reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, cp: bool) -> NodeRow {
        let mut labels = json!({"kubernetes.io/hostname": name});
        if cp {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
        }
        serde_json::from_value(json!({
            "metadata": {"name": name, "labels": labels},
            "spec": {},
            "status": {"allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"},
                "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap()
    }

    fn pod(name: &str, on: &str, cpu: &str) -> PodRow {
        pod_of(name, on, cpu, "web-1")
    }

    fn pod_of(name: &str, on: &str, cpu: &str, rs: &str) -> PodRow {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"),
                "labels": {"app": "web"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "name": rs, "uid": rs, "controller": true}]},
            "spec": {"nodeName": on, "containers": [{"name": "c",
                "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        }))
        .unwrap()
    }

    #[test]
    fn an_accepted_outage_does_not_hold_the_wave_for_its_own_pending_pods() {
        // One replica on w0; w1 has no room for it: an outage, and a Pending replacement.
        let nodes = vec![node("w0", false), node("w1", false)];
        let pods = vec![
            pod_of("solo", "w0", "500m", "solo-1"),
            pod_of("big", "w1", "900m", "big-1"),
        ];
        let exists = |_: &str, _: &str| DsLookup::Exists;
        let cluster = ClusterState {
            nodes: &nodes,
            pods: &pods,
            pdbs: &[],
            daemonset_exists: &exists,
        };
        let wave = Wave {
            index: 0,
            nodes: vec!["w0".into()],
            control_plane: false,
        };
        let mut opts = DrainOptions::default();
        let held = check_wave(&wave, &cluster, &opts, Timestamp::now());
        let why = held.held.expect("held without --allow-outage");
        assert!(why.contains("would cause an outage"), "{why}");
        assert!(why.contains("leaves 1 pod(s) Pending"), "{why}");
        assert!(why.contains("0/2 nodes are available"), "{why}");
        opts.allow_outage = true;
        let ok = check_wave(&wave, &cluster, &opts, Timestamp::now());
        assert_eq!(ok.held, None, "{ok:#?}");
        assert_eq!(ok.overrides.len(), 1);
        assert!(
            ok.overrides[0].contains("outage accepted"),
            "{:?}",
            ok.overrides
        );
        assert_eq!(ok.pending().count(), 1, "still shown as Pending");
    }

    #[test]
    fn control_plane_first_one_at_a_time_then_waves_by_name() {
        let nodes = vec![
            node("w3", false),
            node("cp1", true),
            node("w1", false),
            node("cp0", true),
            node("w2", false),
        ];
        let sel = select(&nodes, &Selection::All).unwrap();
        let w = waves(&sel, 2);
        let got: Vec<(Vec<String>, bool)> = w
            .iter()
            .map(|w| (w.nodes.clone(), w.control_plane))
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            vec![
                (s(&["cp0"]), true),
                (s(&["cp1"]), true),
                (s(&["w1", "w2"]), false),
                (s(&["w3"]), false),
            ]
        );
        let workers = select(&nodes, &Selection::AllWorkers).unwrap();
        assert_eq!(waves(&workers, 0).len(), 3, "max-unavailable 0 means 1");
        assert_eq!(
            select(&nodes, &Selection::Names(vec!["nope".into()]))
                .unwrap_err()
                .to_string(),
            "node \"nope\" not found"
        );
    }

    #[test]
    fn a_wave_whose_replacements_do_not_fit_is_held_but_each_node_alone_fits() {
        // Three workers with 600m used each: one node's pods fit on the two others, two
        // nodes' pods do not fit on the third.
        let nodes = vec![node("w0", false), node("w1", false), node("w2", false)];
        let pods: Vec<PodRow> = ["w0", "w1", "w2"]
            .iter()
            .flat_map(|n| (0..2).map(move |i| pod(&format!("p-{n}-{i}"), n, "300m")))
            .collect();
        let exists = |_: &str, _: &str| DsLookup::Exists;
        let cluster = ClusterState {
            nodes: &nodes,
            pods: &pods,
            pdbs: &[],
            daemonset_exists: &exists,
        };
        let opts = DrainOptions::default();
        let one = Wave {
            index: 0,
            nodes: vec!["w0".into()],
            control_plane: false,
        };
        let c = check_wave(&one, &cluster, &opts, Timestamp::now());
        assert_eq!(c.held, None, "{c:#?}");
        assert_eq!(c.placements.len(), 2);
        let two = Wave {
            index: 0,
            nodes: vec!["w0".into(), "w1".into()],
            control_plane: false,
        };
        let c = check_wave(&two, &cluster, &opts, Timestamp::now());
        let held = c.held.clone().expect("held");
        assert!(held.contains("leaves 3 pod(s) Pending"), "{held}");
        assert!(held.contains("Insufficient cpu"), "{held}");
        // The wave's own nodes never receive its replacements.
        assert!(
            c.placements
                .iter()
                .all(|p| !p.target.contains("w0") && !p.target.contains("w1")),
            "{c:#?}"
        );
    }
}
