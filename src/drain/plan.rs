//! The pure drain planner: kubectl's pre-flight plus what kubectl never tells you
//! (blocking PDBs, multi-PDB pods, emptyDir data loss, capacity, hanging terminations).

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use super::capacity::{self, CapacityReport};
use super::filters::{self, DsLookup};
use super::options::DrainOptions;
use crate::cluster::rows::{NodeReady, NodeRow, PdbRow, PodRow};

/// What the drain will do with one pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum PodAction {
    /// POST a policy/v1 Eviction (honours PDBs).
    Evict,
    /// DELETE the pod (`--disable-eviction`; bypasses PDBs).
    Delete,
    /// Left alone.
    Skip {
        /// Why.
        reason: SkipReason,
    },
    /// Stops the whole drain in pre-flight (kubectl's "cannot delete" errors).
    Blocked {
        /// kubectl's message, e.g. `Pods that declare no controller (use --force to override)`.
        reason: String,
    },
}

/// Why a pod is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Mirror pod of a static pod (cannot be deleted through the API).
    Mirror,
    /// DaemonSet pod with `--ignore-daemonsets`.
    DaemonSetIgnored,
    /// Deletion started longer ago than `--skip-wait-for-delete-timeout`.
    DeletedTooLong,
    /// Does not match `--pod-selector`.
    NotSelected,
}

impl SkipReason {
    /// Short human text.
    pub fn text(self) -> &'static str {
        match self {
            SkipReason::Mirror => "mirror pod (static)",
            SkipReason::DaemonSetIgnored => "DaemonSet-managed (ignored)",
            SkipReason::DeletedTooLong => "deleted longer than --skip-wait-for-delete-timeout ago",
            SkipReason::NotSelected => "not selected by --pod-selector",
        }
    }
}

/// The plan for one pod.
#[derive(Debug, Clone, Serialize)]
pub struct PodPlan {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    /// What happens to it.
    #[serde(flatten)]
    pub action: PodAction,
    /// kubectl's warning message for it (grouped into [`DrainPlan::warning`]).
    pub warning: Option<String>,
    /// `Kind/name` of its controller.
    pub controller: Option<String>,
    pub phase: &'static str,
    pub terminating: bool,
    /// emptyDir volumes whose data is lost when it leaves.
    pub empty_dirs: Vec<String>,
    /// PDBs (`namespace/name`) selecting it.
    pub pdbs: Vec<String>,
}

impl PodPlan {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Whether the pod will be evicted or deleted.
    pub fn removed(&self) -> bool {
        matches!(self.action, PodAction::Evict | PodAction::Delete)
    }
}

/// A PDB covering pods this drain evicts.
#[derive(Debug, Clone, Serialize)]
pub struct PdbFinding {
    /// `namespace/name`.
    pub pdb: String,
    pub disruptions_allowed: i32,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub expected_pods: i32,
    /// Running pods of this node it covers (the ones the server checks against it).
    pub pods: Vec<String>,
    /// Allows 0 disruptions right now: their evictions get 429 until replacements are Ready.
    pub blocks_now: bool,
    /// Can never allow a disruption as configured (desired ≥ expected): the drain would hang.
    pub never_allows: bool,
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The drain cannot complete.
    Blocker,
    /// The drain can run, but something will wait, hang or be lost.
    Warning,
}

/// A pre-flight finding beyond kubectl's own errors and warnings.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier: `pdb-zero`, `pdb-never`, `pdb-wait`, `multiple-pdbs`, `emptydir-data-loss`,
    /// `no-room`, `terminating-on-notready`, `node-notready`.
    pub kind: &'static str,
    /// One line for humans.
    pub message: String,
    /// The pods concerned (`namespace/name`).
    pub pods: Vec<String>,
}

/// The whole plan for draining one node.
#[derive(Debug, Clone, Serialize)]
pub struct DrainPlan {
    pub node: String,
    /// Already cordoned.
    pub node_unschedulable: bool,
    pub options: DrainOptions,
    /// One entry per pod on the node, in listing order.
    pub pods: Vec<PodPlan>,
    /// kubectl's grouped pre-flight errors: `cannot delete <msg>: ns/a, ns/b`.
    pub errors: Vec<String>,
    /// kubectl's warning (without the `Warning: ` prefix): `<msg>: ns/a, ns/b; <msg>: ...`.
    pub warning: Option<String>,
    /// PDBs covering evicted pods.
    pub pdbs: Vec<PdbFinding>,
    /// Capacity simulation (absent when the caller gave no cluster view).
    pub capacity: Option<CapacityReport>,
    /// Everything kubectl does not tell you.
    pub findings: Vec<Finding>,
}

impl DrainPlan {
    /// No pre-flight error and no blocker finding.
    pub fn can_proceed(&self) -> bool {
        self.errors.is_empty()
            && !self
                .findings
                .iter()
                .any(|f| f.severity == Severity::Blocker)
    }

    /// kubectl's stderr warning line (`Warning: ...`), if any.
    pub fn warning_line(&self) -> Option<String> {
        self.warning.as_ref().map(|w| format!("Warning: {w}"))
    }

    /// Pods that will be evicted or deleted.
    pub fn removals(&self) -> impl Iterator<Item = &PodPlan> {
        self.pods.iter().filter(|p| p.removed())
    }
}

/// The rest of the cluster, for the capacity check.
#[derive(Debug, Clone, Copy)]
pub struct ClusterView<'a> {
    /// All nodes (the drained one is ignored).
    pub nodes: &'a [&'a NodeRow],
    /// All pods (those on the drained node are ignored).
    pub pods: &'a [&'a PodRow],
}

/// Everything [`plan`] looks at.
pub struct PlanInput<'a> {
    pub node: &'a NodeRow,
    /// The node's pods.
    pub pods: &'a [&'a PodRow],
    /// PDBs (any namespace; matched by namespace and selector).
    pub pdbs: &'a [&'a PdbRow],
    /// Other nodes and their pods; `None` skips the capacity check.
    pub cluster: Option<ClusterView<'a>>,
    /// kubectl's DaemonSet GET: `(namespace, name) -> exists?`.
    pub daemonset_exists: &'a dyn Fn(&str, &str) -> DsLookup,
    pub opts: &'a DrainOptions,
    pub now: Timestamp,
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

/// Plans the drain of `input.node`. Pure: no I/O, deterministic.
pub fn plan(input: &PlanInput) -> DrainPlan {
    let opts = input.opts;
    let mut pods: Vec<PodPlan> = input
        .pods
        .iter()
        .map(|p| {
            let (action, warning) = filters::classify(p, opts, input.daemonset_exists, input.now);
            PodPlan {
                namespace: p.namespace().to_string(),
                name: p.name().to_string(),
                uid: p.uid().to_string(),
                action,
                warning,
                controller: p.controller().map(|c| format!("{}/{}", c.kind, c.name)),
                phase: p.phase.as_str(),
                terminating: p.is_terminating(),
                empty_dirs: p.empty_dirs.iter().map(|d| d.to_string()).collect(),
                pdbs: input
                    .pdbs
                    .iter()
                    .filter(|b| b.selects(p))
                    .map(|b| b.key())
                    .collect(),
            }
        })
        .collect();
    let errors = group(pods.iter().filter_map(|p| match &p.action {
        PodAction::Blocked { reason } => Some((reason.clone(), p.key())),
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
    let mut findings = Vec::new();
    let pdbs = pdb_findings(input, &pods, &mut findings);
    data_and_node_findings(input, &pods, &mut findings);
    let capacity = input.cluster.map(|c| {
        let evicted: Vec<&PodRow> = input
            .pods
            .iter()
            .zip(&pods)
            .filter(|(_, pp)| pp.removed())
            .map(|(p, _)| *p)
            .collect();
        capacity::simulate(input.node, &evicted, c.nodes, c.pods)
    });
    if let Some(cap) = &capacity {
        let pending: Vec<String> = cap.pending().map(|p| p.pod.clone()).collect();
        if !pending.is_empty() {
            findings.push(Finding {
                severity: Severity::Warning,
                kind: "no-room",
                message: format!(
                    "no room elsewhere for {} pod(s): their replacements would stay Pending until this node is uncordoned",
                    pending.len()
                ),
                pods: pending,
            });
        }
    }
    pods.shrink_to_fit();
    DrainPlan {
        node: input.node.name().to_string(),
        node_unschedulable: input.node.unschedulable,
        options: opts.clone(),
        pods,
        errors,
        warning,
        pdbs,
        capacity,
        findings,
    }
}

fn pdb_findings(
    input: &PlanInput,
    pods: &[PodPlan],
    findings: &mut Vec<Finding>,
) -> Vec<PdbFinding> {
    if input.opts.disable_eviction {
        return Vec::new(); // DELETE bypasses PDBs entirely.
    }
    // The server ignores PDBs for pods that are not Running or already terminating (§2.9).
    let checked = |i: usize| {
        let p = input.pods[i];
        pods[i].action == PodAction::Evict
            && p.phase == crate::cluster::rows::Phase::Running
            && !p.is_terminating()
    };
    let multi: Vec<String> = (0..pods.len())
        .filter(|&i| checked(i) && pods[i].pdbs.len() > 1)
        .map(|i| format!("{} ({})", pods[i].key(), pods[i].pdbs.join(", ")))
        .collect();
    if !multi.is_empty() {
        findings.push(Finding {
            severity: Severity::Blocker,
            kind: "multiple-pdbs",
            message: "pods covered by more than one PodDisruptionBudget cannot be evicted (the API server answers 500)".into(),
            pods: multi,
        });
    }
    let mut by_pdb: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for i in (0..pods.len()).filter(|&i| checked(i)) {
        for b in &pods[i].pdbs {
            by_pdb.entry(b.clone()).or_default().push(pods[i].key());
        }
    }
    let mut out = Vec::new();
    for pdb in input.pdbs {
        let Some(held) = by_pdb.remove(&pdb.key()) else {
            continue;
        };
        let never = pdb.disruptions_allowed <= 0 && pdb.desired_healthy >= pdb.expected_pods;
        let f = PdbFinding {
            pdb: pdb.key(),
            disruptions_allowed: pdb.disruptions_allowed,
            current_healthy: pdb.current_healthy,
            desired_healthy: pdb.desired_healthy,
            expected_pods: pdb.expected_pods,
            pods: held,
            blocks_now: pdb.disruptions_allowed <= 0,
            never_allows: never,
        };
        if f.blocks_now {
            findings.push(Finding {
                severity: if never { Severity::Blocker } else { Severity::Warning },
                kind: if never { "pdb-never" } else { "pdb-zero" },
                message: if never {
                    format!(
                        "PodDisruptionBudget {} needs {} healthy of {} expected pods: it never allows an eviction",
                        f.pdb, f.desired_healthy, f.expected_pods
                    )
                } else {
                    format!(
                        "PodDisruptionBudget {} allows 0 disruptions now ({} healthy, needs {}): these evictions wait until other pods are Ready",
                        f.pdb, f.current_healthy, f.desired_healthy
                    )
                },
                pods: f.pods.clone(),
            });
        } else if f.pods.len() as i32 > f.disruptions_allowed {
            findings.push(Finding {
                severity: Severity::Warning,
                kind: "pdb-wait",
                message: format!(
                    "PodDisruptionBudget {} allows {} disruption(s) now for {} pods on this node: the rest wait until replacements are Ready",
                    f.pdb,
                    f.disruptions_allowed,
                    f.pods.len()
                ),
                pods: f.pods.clone(),
            });
        }
        out.push(f);
    }
    out
}

fn data_and_node_findings(input: &PlanInput, pods: &[PodPlan], findings: &mut Vec<Finding>) {
    let lost: Vec<String> = pods
        .iter()
        .filter(|p| {
            p.removed() && !p.empty_dirs.is_empty() && !matches!(p.phase, "Succeeded" | "Failed")
        })
        .map(|p| format!("{} ({})", p.key(), p.empty_dirs.join(", ")))
        .collect();
    if !lost.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "emptydir-data-loss",
            message: "emptyDir data will be lost (kubectl does not warn about this)".into(),
            pods: lost,
        });
    }
    if input.node.ready == NodeReady::True {
        return;
    }
    let skip_set = input.opts.skip_wait_for_delete_timeout.is_some();
    let stuck: Vec<String> = pods
        .iter()
        .filter(|p| p.removed() && p.terminating)
        .map(PodPlan::key)
        .collect();
    if !stuck.is_empty() && !skip_set {
        findings.push(Finding {
            severity: Severity::Blocker,
            kind: "terminating-on-notready",
            message: format!(
                "node {} is NotReady: these terminating pods never finish and the drain would hang (use --skip-wait-for-delete-timeout)",
                input.node.name()
            ),
            pods: stuck,
        });
    }
    let others: Vec<String> = pods
        .iter()
        .filter(|p| p.removed() && !p.terminating)
        .map(PodPlan::key)
        .collect();
    if !others.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "node-notready",
            message: format!(
                "node {} is NotReady: evicted pods stay Terminating until its kubelet returns{}",
                input.node.name(),
                if skip_set {
                    ""
                } else {
                    " (consider --skip-wait-for-delete-timeout)"
                }
            ),
            pods: others,
        });
    }
}
