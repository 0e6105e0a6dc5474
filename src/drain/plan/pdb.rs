//! PodDisruptionBudgets against the pods this drain removes. With evictions: pods under two
//! PDBs and pods whose PDB never allows a disruption are blocked (the drain would fail or
//! hang); a PDB at 0 makes evictions wait. With `--disable-eviction`: every budget the
//! deletions break is an outage finding, never silence.

use std::collections::BTreeMap;

use super::{BlockKind, Finding, PdbFinding, PlanInput, PodAction, PodPlan, Severity};
use crate::cluster::rows::{Phase, PodRow};

/// The server checks a PDB only for pods that are Running and not already terminating
/// (drain-semantics §2.9); a deletion breaks a budget only by removing such a pod too.
fn counted(row: &PodRow, plan: &PodPlan) -> bool {
    plan.removed() && row.phase == Phase::Running && !row.is_terminating()
}

/// Blocks pods and reports PDB findings; returns the PDBs covering removed pods.
pub(super) fn findings(
    input: &PlanInput,
    pods: &mut [PodPlan],
    findings: &mut Vec<Finding>,
) -> Vec<PdbFinding> {
    let delete = input.opts.disable_eviction;
    let checked: Vec<usize> = (0..pods.len())
        .filter(|&i| counted(input.pods[i], &pods[i]))
        .collect();
    if !delete {
        block_multi(&checked, pods, findings);
    }
    let mut by_pdb: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for &i in checked.iter().filter(|&&i| pods[i].removed()) {
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
            blocks_now: pdb.disruptions_allowed <= 0,
            never_allows: never,
            broken: delete && held.len() as i32 > pdb.disruptions_allowed.max(0),
            pods: held,
        };
        if delete {
            broken(&f, findings);
        } else {
            evictions(&f, pods, findings);
        }
        out.push(f);
    }
    out
}

/// Pods under several PDBs: the eviction API answers 500 for them.
fn block_multi(checked: &[usize], pods: &mut [PodPlan], findings: &mut Vec<Finding>) {
    let mut multi = Vec::new();
    let many: Vec<usize> = checked
        .iter()
        .copied()
        .filter(|&i| pods[i].pdbs.len() > 1)
        .collect();
    for i in many {
        let p = &mut pods[i];
        p.action = PodAction::Blocked {
            reason: format!(
                "under {} PodDisruptionBudgets ({}): the API server refuses to evict it",
                p.pdbs.len(),
                p.pdbs.join(", ")
            ),
            block: BlockKind::MultiplePdbs,
        };
        multi.push(format!("{} ({})", p.key(), p.pdbs.join(", ")));
    }
    if !multi.is_empty() {
        findings.push(Finding {
            severity: Severity::Blocker,
            kind: "multiple-pdbs",
            message: "pods covered by more than one PodDisruptionBudget cannot be evicted (the API server answers 500)".into(),
            pods: multi,
        });
    }
}

fn evictions(f: &PdbFinding, pods: &mut [PodPlan], findings: &mut Vec<Finding>) {
    if f.never_allows {
        let reason = format!(
            "PodDisruptionBudget {} needs {} healthy of {} expected pods: it never allows an eviction",
            f.pdb, f.desired_healthy, f.expected_pods
        );
        for p in pods.iter_mut().filter(|p| f.pods.contains(&p.key())) {
            p.action = PodAction::Blocked {
                reason: reason.clone(),
                block: BlockKind::PdbNever,
            };
        }
        findings.push(Finding {
            severity: Severity::Blocker,
            kind: "pdb-never",
            message: reason,
            pods: f.pods.clone(),
        });
    } else if f.blocks_now {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "pdb-zero",
            message: format!(
                "PodDisruptionBudget {} allows 0 disruptions now ({} healthy, needs {}): these evictions wait until other pods are Ready",
                f.pdb, f.current_healthy, f.desired_healthy
            ),
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
}

/// `--disable-eviction`: deleting more pods than a budget allows breaks it.
fn broken(f: &PdbFinding, findings: &mut Vec<Finding>) {
    if !f.broken {
        return;
    }
    let allows = if f.never_allows {
        "never allows a disruption".to_string()
    } else {
        format!("allows {} disruption(s) now", f.disruptions_allowed.max(0))
    };
    findings.push(Finding {
        severity: Severity::Outage,
        kind: "breaks-pdb",
        message: format!(
            "--disable-eviction deletes {} pod(s) under PodDisruptionBudget {}, which {allows} ({} healthy, needs {}): the budget is broken",
            f.pods.len(),
            f.pdb,
            f.current_healthy,
            f.desired_healthy
        ),
        pods: f.pods.clone(),
    });
}
