//! Workloads the drain would take down. A workload (the controller of the removed pods:
//! ReplicaSet — named by its Deployment —, StatefulSet, ...) whose every ready replica is on
//! this node and whose replacements cannot be scheduled anywhere would have no ready replica
//! until the node is back: an outage. If its replacements can start elsewhere but nothing
//! (no PDB) makes the drain wait for them, there is a gap while they start: a warning.

use std::collections::BTreeMap;

use super::super::capacity::CapacityReport;
use super::{ClusterView, Finding, PlanInput, PodPlan, Severity};
use crate::cluster::rows::PodRow;

/// `Deployment ns/name` for a ReplicaSet named `<deployment>-<pod-template-hash>`, else
/// `Kind ns/name` of the controller.
pub fn workload_name(p: &PodRow) -> Option<String> {
    let c = p.controller()?;
    let ns = p.namespace();
    if c.kind == "ReplicaSet"
        && let Some(hash) = p.labels().get("pod-template-hash")
        && let Some(deploy) = c.name.strip_suffix(&format!("-{hash}"))
    {
        return Some(format!("Deployment {ns}/{deploy}"));
    }
    Some(format!("{} {ns}/{}", c.kind, c.name))
}

#[derive(Default)]
struct Group {
    name: String,
    pods: Vec<String>,
    /// Its pods here that serve or are about to (not terminating, not finished).
    live_here: usize,
    /// Ready pods of it on this node that the drain leaves (blocked ones keep serving).
    staying: usize,
    ready_elsewhere: usize,
    /// Cordoned nodes holding its ready replicas elsewhere (when all of them are cordoned).
    elsewhere_cordoned: Vec<String>,
    elsewhere_open: bool,
    landed: usize,
    landed_on: Vec<String>,
    /// More nodes than named (a pool of equal nodes).
    more_nodes: bool,
    pending_why: Option<String>,
    budgeted: bool,
    /// Has a PDB that `--disable-eviction` ignores.
    bypassed: bool,
}

/// Outage and gap findings, and the pods no controller recreates.
pub(super) fn findings(
    input: &PlanInput,
    c: ClusterView,
    pods: &[PodPlan],
    cap: &CapacityReport,
    findings: &mut Vec<Finding>,
) {
    let mut groups = groups(input, pods, cap);
    if groups.is_empty() {
        return;
    }
    ready_elsewhere(input, c, &mut groups);
    for g in groups.values() {
        group_findings(g, findings);
    }
    if !cap.not_replaced.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "not-replaced",
            message: "no controller recreates these pods: once removed they are gone".into(),
            pods: cap.not_replaced.clone(),
        });
    }
}

/// The removed pods' workloads (DaemonSets and Jobs aside), keyed by controller uid: what
/// stays on the node, what leaves, and where the forecast puts the replacements.
fn groups(input: &PlanInput, pods: &[PodPlan], cap: &CapacityReport) -> BTreeMap<String, Group> {
    let delete = input.opts.disable_eviction;
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (row, plan) in input.pods.iter().zip(pods) {
        let Some(ctrl) = row.controller() else {
            continue;
        };
        // DaemonSet pods are not replaced elsewhere; Job pods serve nobody.
        if matches!(ctrl.kind.as_str(), "DaemonSet" | "Job") || row.phase.is_finished() {
            continue;
        }
        let g = groups.entry(ctrl.uid.clone()).or_default();
        g.name = workload_name(row).unwrap_or_default();
        let live = !row.is_terminating();
        if !plan.removed() {
            g.staying += usize::from(live && row.ready);
            continue;
        }
        g.pods.push(plan.key());
        g.live_here += usize::from(live);
        g.budgeted |= !delete && !plan.pdbs.is_empty();
        g.bypassed |= delete && !plan.pdbs.is_empty();
        match cap.of(&plan.key()) {
            Some(p) if p.lands() => {
                g.landed += 1;
                // Every node a replacement may land on, each once (`node1 or node2` of one
                // pod and `node2` of another read as `node1, node2`).
                let names = p.node.iter().chain(&p.or).cloned();
                let names =
                    names.chain(p.unmodelled.as_ref().map(|w| format!("not predicted: {w}")));
                for n in names {
                    if !g.landed_on.contains(&n) {
                        g.landed_on.push(n);
                    }
                }
                g.more_nodes |= p.or_more > 0;
            }
            Some(p) => {
                g.pending_why.get_or_insert_with(|| p.misfit_text());
            }
            None => {}
        }
    }
    groups
}

/// Counts each workload's ready replicas on other nodes, and whether any of those nodes is
/// open (not cordoned).
fn ready_elsewhere(input: &PlanInput, c: ClusterView, groups: &mut BTreeMap<String, Group>) {
    let node = input.node.name();
    let cordoned = |name: &str| c.nodes.iter().any(|n| n.name() == name && n.unschedulable);
    for p in c
        .pods
        .iter()
        .filter(|p| p.node().is_some_and(|n| n != node) && p.serving())
    {
        if let Some(g) = p.controller_uid().and_then(|uid| groups.get_mut(uid)) {
            g.ready_elsewhere += 1;
            let on = p.node().unwrap_or_default();
            if !cordoned(on) {
                g.elsewhere_open = true;
            } else if !g.elsewhere_cordoned.iter().any(|n| n == on) {
                g.elsewhere_cordoned.push(on.to_string());
            }
        }
    }
}

/// A workload the drain leaves without a ready replica: an outage when no replacement can
/// land, a gap when nothing makes the drain wait for one, at risk when the replicas left are
/// all on cordoned nodes.
fn group_findings(g: &Group, findings: &mut Vec<Finding>) {
    // Only ready replicas elsewhere count as serving; a replica here that is still
    // starting counts as one the drain takes away.
    if g.live_here == 0 || g.staying > 0 {
        return;
    }
    if g.ready_elsewhere > 0 {
        at_risk(g, findings);
        return;
    }
    if g.landed == 0 {
        findings.push(Finding {
            severity: Severity::Outage,
            kind: "outage",
            message: format!(
                "{} has every replica on this node and no node can take a replacement ({}): it has no ready replica until this node is back",
                g.name,
                g.pending_why.as_deref().unwrap_or("nothing recreates them")
            ),
            pods: g.pods.clone(),
        });
    } else if !g.budgeted {
        let why = if g.bypassed {
            "--disable-eviction does not wait for its PodDisruptionBudget"
        } else {
            "no PodDisruptionBudget makes the drain wait"
        };
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "gap",
            message: format!(
                "{} has every replica on this node and {why}: it has none ready until a replacement starts (→ {})",
                g.name,
                g.landed_on.join(", ") + if g.more_nodes { ", …" } else { "" }
            ),
            pods: g.pods.clone(),
        });
    }
}

/// Replacements stay Pending and every ready replica left is on a cordoned node: the next
/// drain of one of those takes the workload down.
fn at_risk(g: &Group, findings: &mut Vec<Finding>) {
    let pending = g.pods.len() - g.landed;
    if pending == 0 || g.elsewhere_open {
        return;
    }
    findings.push(Finding {
        severity: Severity::Warning,
        kind: "at-risk",
        message: format!(
            "{}: {pending} replacement(s) stay Pending and its {} ready replica(s) left are all on cordoned node(s) {}: draining those next leaves it with none",
            g.name,
            g.ready_elsewhere,
            g.elsewhere_cordoned.join(", ")
        ),
        pods: g.pods.clone(),
    });
}
