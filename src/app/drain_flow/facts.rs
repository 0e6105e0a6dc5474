//! Facts computed from the watch cache (pure; render and tests use the same functions).

use jiff::Timestamp;

use crate::app::model::{Model, WatchState};
use crate::cluster::rows::{ClusterPod, NodeReady, NodeRow, PodRow};
use crate::cluster::watch::Kind;
use crate::drain::journal::{self, ann};
use crate::drain::options::DrainOptions;
use crate::drain::plan::{DrainPlan, PlanInput, PodAction, Severity};
use crate::drain::{ClusterView, DsLookup};

// Facts computed from the watch cache (pure; render and tests use the same functions).

/// The pods on `node` that a drain leaves alone (DaemonSet, mirror) or that are finished,
/// and the others: (stay, others).
pub fn node_pods<'a>(m: &'a Model, node: &str) -> (Vec<&'a PodRow>, Vec<&'a PodRow>) {
    m.cache
        .index
        .pods_on(node)
        .filter_map(|k| m.cache.pods.get(k))
        .partition(|p| p.is_daemonset_pod() || p.is_mirror() || p.phase.is_finished())
}

/// Why the pod cache cannot back a verdict (RBAC hides namespaces, or the first list is
/// still loading), if so.
pub fn pods_unknown(m: &Model) -> Option<&str> {
    m.pods_hidden().or_else(|| {
        matches!(
            m.watch.get(&Kind::Pods),
            None | Some(WatchState::Connecting)
        )
        .then_some("pods are still loading")
    })
}

/// Plans the drain of `node` from the watch caches, over every namespace (the `-n` filter is
/// for display only). DaemonSets are not watched: the last check
/// (`FlowCmd::CheckDaemonSets`) says whether they exist; unchecked ones are assumed to (the
/// engine checks again after the cordon).
pub fn plan_from_cache(m: &Model, node: &str, opts: &DrainOptions) -> Option<DrainPlan> {
    let n = m.cache.nodes.get(node)?;
    let pods: Vec<&PodRow> = m
        .cache
        .index
        .pods_on(node)
        .filter_map(|k| m.cache.pods.get(k))
        .collect();
    let pdbs: Vec<_> = m.cache.pdbs.values().collect();
    let nodes: Vec<&NodeRow> = m.cache.nodes.values().collect();
    let all: Vec<&dyn ClusterPod> = m.cache.pods.values().map(|p| p as _).collect();
    let checked = m.flow.daemonsets.as_ref().filter(|(n, _)| n == node);
    let lookup = |ns: &str, name: &str| {
        checked
            .and_then(|(_, found)| found.get(&(ns.to_string(), name.to_string())))
            .cloned()
            .unwrap_or(DsLookup::Exists)
    };
    Some(crate::drain::plan(&PlanInput {
        node: n,
        pods: &pods,
        pdbs: &pdbs,
        cluster: Some(ClusterView {
            nodes: &nodes,
            pods: &all,
        }),
        daemonset_exists: &lookup,
        opts,
        now: m.now,
        hidden: pods_unknown(m),
    }))
}

/// The DaemonSets owning pods on `node`, as (namespace, name), each once.
pub fn daemonset_owners(m: &Model, node: &str) -> Vec<(String, String)> {
    let mut owners: Vec<(String, String)> = m
        .cache
        .index
        .pods_on(node)
        .filter_map(|k| m.cache.pods.get(k))
        .filter_map(|p| {
            let c = p.controller()?;
            (c.kind == "DaemonSet").then(|| (p.namespace().to_string(), c.name.clone()))
        })
        .collect();
    owners.sort();
    owners.dedup();
    owners
}

/// What to change to unblock a blocked plan, one line per blocker. `--disable-eviction` is
/// never offered as a fix without saying that it breaks the budget.
pub fn unblock_hints(plan: &DrainPlan) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // kubectl's reasons name the flag: "Pods with local storage (use --delete-emptydir-data to
    // override)". One line per reason: what, which pods, which flag.
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for p in &plan.pods {
        if let PodAction::Blocked { reason, block } = &p.action
            && block.is_kubectl()
        {
            match groups.iter_mut().find(|(r, _)| r == reason) {
                Some((_, pods)) => pods.push(p.key()),
                None => groups.push((reason, vec![p.key()])),
            }
        }
    }
    for (reason, pods) in groups {
        let flag = reason
            .split_once("(use ")
            .and_then(|(_, rest)| rest.split_once(" to override)"))
            .map(|(f, _)| f);
        let what = reason.split(" (use ").next().unwrap_or(reason);
        out.push(match flag {
            Some(f) => format!("{what}: {} → tick {f}", pods.join(", ")),
            None => format!("{what}: {}", pods.join(", ")),
        });
    }
    // Errors not tied to a pod's action (e.g. a DaemonSet lookup failure).
    if out.is_empty() {
        out.extend(plan.errors.iter().cloned());
    }
    for f in plan.findings_of(Severity::Blocker) {
        // Short: the findings below give the whole story.
        let pods: Vec<&str> = f
            .pods
            .iter()
            .map(|p| p.split(" (").next().unwrap_or(p))
            .collect();
        let pods = pods.join(", ");
        out.push(match f.kind {
            "multiple-pdbs" => format!(
                "under two PDBs: {pods} → make one PDB cover each pod (--disable-eviction would delete them and break both budgets)"
            ),
            "pdb-never" => format!(
                "a PDB never allows evicting {pods} → change the PDB (--disable-eviction would delete them and break it)"
            ),
            "pdb-stuck" => format!(
                "replacements cannot be scheduled, so their PDB holds {pods} forever → make room elsewhere first"
            ),
            "terminating-on-notready" => format!(
                "terminating on a NotReady node: {pods} → set --skip-wait-for-delete-timeout"
            ),
            _ => f.message.clone(),
        });
    }
    out
}

/// What the uncordon confirmation shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncordonFacts {
    pub node: String,
    pub ready: NodeReady,
    /// Seconds in the current Ready state.
    pub ready_for: Option<i64>,
    /// (what, when cordoned, now).
    pub versions: Vec<(&'static str, Option<String>, String)>,
    pub cordoned_at: Option<Timestamp>,
    /// Why kubedrain would not lift this cordon on its own (asks explicitly instead).
    pub not_ours: Option<String>,
    /// Unscheduled Pending pods, and how many of them would fit on this node.
    pub pending: usize,
    pub pending_fit: usize,
}

/// The uncordon confirmation's facts about `node`, from the cache.
pub fn uncordon_facts(m: &Model, node: &str) -> Option<UncordonFacts> {
    let n = m.cache.nodes.get(node)?;
    let versions = vec![
        (
            "OS image",
            n.annotation(ann::PRE_OS_IMAGE).map(str::to_string),
            n.os_image.clone(),
        ),
        (
            "kernel",
            n.annotation(ann::PRE_KERNEL).map(str::to_string),
            n.kernel_version.clone(),
        ),
        (
            "kubelet",
            n.annotation(ann::PRE_KUBELET).map(str::to_string),
            n.kubelet_version.clone(),
        ),
    ];
    let pending: Vec<&PodRow> = m
        .cache
        .pods
        .values()
        .filter(|p| p.node_name.is_none() && !p.phase.is_finished() && !p.is_terminating())
        .collect();
    // Would they fit here once it is schedulable? The capacity check, on this node alone.
    let mut open = n.clone();
    open.unschedulable = false;
    let mut ghost = NodeRow::default();
    ghost.meta.name = Some("\u{0}".into());
    let all: Vec<&PodRow> = m.cache.pods.values().collect();
    let fit = crate::drain::capacity::simulate(&ghost, &pending, &[&open], &all)
        .placements
        .iter()
        .filter(|p| p.node.is_some())
        .count();
    Some(UncordonFacts {
        node: node.to_string(),
        ready: n.ready,
        ready_for: n.ready_since.map(|t| (m.now - t).get_seconds().max(0)),
        versions,
        cordoned_at: n.annotation(ann::CORDONED_AT).and_then(|t| t.parse().ok()),
        not_ours: journal::may_uncordon(n).err().map(|e| e.to_string()),
        pending: pending.len(),
        pending_fit: fit,
    })
}
