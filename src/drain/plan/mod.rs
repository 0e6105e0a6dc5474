//! The one verdict model of a drain: every pod is evict / delete / skip / blocked (and why),
//! with what kubectl never tells you (blocking PDBs, multi-PDB pods, emptyDir data loss, where
//! replacements land, workloads left without a ready replica, hanging terminations), and one
//! [`Verdict`] derived from those rows and findings. The TUI plan, `kubedrain plan`,
//! `kubedrain drain` and the live view all read it. Pure: no I/O, deterministic.

mod forecast;
mod node;
mod pdb;
mod types;
mod workloads;

pub use types::*;

use jiff::Timestamp;

use super::capacity::CapacityReport;
use super::filters::{self, DsLookup};
use super::options::DrainOptions;
use crate::cluster::rows::{ClusterPod, NodeRow, PdbRow, PodRow};

/// The rest of the cluster, for the placement forecast and the workload checks.
#[derive(Debug, Clone, Copy)]
pub struct ClusterView<'a> {
    /// All nodes (the drained one is ignored).
    pub nodes: &'a [&'a NodeRow],
    /// All pods (those on the drained node are ignored where it matters): the cache's rows,
    /// or the headless pre-flight's slimmer [`crate::cluster::rows::PodLoad`]s.
    pub pods: &'a [&'a dyn ClusterPod],
}

/// Everything [`plan`] looks at.
pub struct PlanInput<'a> {
    pub node: &'a NodeRow,
    /// The node's pods.
    pub pods: &'a [&'a PodRow],
    /// PDBs (any namespace; matched by namespace and selector).
    pub pdbs: &'a [&'a PdbRow],
    /// Other nodes and their pods; `None` skips the forecast and the workload checks.
    pub cluster: Option<ClusterView<'a>>,
    /// kubectl's DaemonSet GET: `(namespace, name) -> exists?`.
    pub daemonset_exists: &'a dyn Fn(&str, &str) -> DsLookup,
    pub opts: &'a DrainOptions,
    pub now: Timestamp,
    /// Why kubedrain does not see every namespace's pods (RBAC), if it does not: the verdict
    /// is then "cannot tell".
    pub hidden: Option<&'a str>,
}

/// Groups `(message, pod)` pairs by message in first-seen order (kubectl uses a random map order).
fn group(items: impl Iterator<Item = (String, String)>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (msg, pod) in items {
        match out.iter_mut().find(|(m, _)| *m == msg) {
            Some((_, pods)) => pods.push(pod),
            None => out.push((msg, vec![pod])),
        }
    }
    out
}

fn pod_plan(input: &PlanInput, p: &PodRow) -> PodPlan {
    let (action, warning) = filters::classify(p, input.opts, input.daemonset_exists, input.now);
    PodPlan {
        namespace: p.namespace().to_string(),
        name: p.name().to_string(),
        uid: p.uid().to_string(),
        action,
        warning,
        controller: p.controller().map(|c| format!("{}/{}", c.kind, c.name)),
        phase: p.phase.as_str(),
        ready: p.ready,
        terminating: p.is_terminating(),
        empty_dirs: p.empty_dirs.iter().map(|d| d.to_string()).collect(),
        pdbs: input
            .pdbs
            .iter()
            .filter(|b| b.selects(p))
            .map(|b| b.key())
            .collect(),
    }
}

/// kubectl's pre-flight errors (`cannot delete <msg>: ns/a, ns/b`) and warning line.
fn kubectl_lines(pods: &[PodPlan]) -> (Vec<String>, Option<String>) {
    let errors = group(pods.iter().filter_map(|p| match &p.action {
        PodAction::Blocked { reason, block } if block.is_kubectl() => {
            Some((reason.clone(), p.key()))
        }
        _ => None,
    }))
    .into_iter()
    .map(|(m, ps)| format!("cannot delete {m}: {}", ps.join(", ")))
    .collect();
    let warnings = group(
        pods.iter()
            .filter_map(|p| Some((p.warning.clone()?, p.key()))),
    );
    let warning = (!warnings.is_empty()).then(|| {
        warnings
            .iter()
            .map(|(m, ps)| format!("{m}: {}", ps.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    });
    (errors, warning)
}

/// Plans the drain of `input.node`. Pure: no I/O, deterministic.
pub fn plan(input: &PlanInput) -> DrainPlan {
    let mut pods: Vec<PodPlan> = input.pods.iter().map(|p| pod_plan(input, p)).collect();
    let (errors, warning) = kubectl_lines(&pods);
    let mut findings = Vec::new();
    if let Some(why) = input.hidden {
        findings.push(Finding {
            severity: Severity::Unknown,
            kind: "cannot-tell",
            message: format!(
                "{why}: kubedrain cannot tell what else runs on this node, whether PDBs block it, or where replacements fit"
            ),
            pods: vec![],
        });
    }
    let pdbs = pdb::findings(input, &mut pods, &mut findings);
    node::findings(input, &mut pods, &mut findings);
    let capacity: Option<CapacityReport> = input.cluster.map(|c| {
        let cap = forecast::run(input, c, &mut pods, &pdbs, &mut findings);
        workloads::findings(input, c, &pods, &cap, &mut findings);
        cap
    });
    findings.sort_by_key(|f| f.severity);
    let verdict = Verdict::derive(&pods, &errors, &findings);
    pods.shrink_to_fit();
    DrainPlan {
        node: input.node.name().to_string(),
        node_unschedulable: input.node.unschedulable,
        options: input.opts.clone(),
        verdict,
        pods,
        errors,
        warning,
        pdbs,
        capacity,
        findings,
    }
}
