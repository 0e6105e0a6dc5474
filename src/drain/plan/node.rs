//! Findings about the node and the data on it: emptyDir data lost, and a NotReady node whose
//! terminating pods never finish (those pods are blocked: the drain would hang on them).

use super::{BlockKind, Finding, PlanInput, PodAction, PodPlan, Severity};
use crate::cluster::rows::NodeReady;

pub(super) fn findings(input: &PlanInput, pods: &mut [PodPlan], findings: &mut Vec<Finding>) {
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
    let node = input.node.name();
    let skip_set = input.opts.skip_wait_for_delete_timeout.is_some();
    if !skip_set {
        let message = format!(
            "node {node} is NotReady: these terminating pods never finish and the drain would hang (use --skip-wait-for-delete-timeout)"
        );
        let mut stuck = Vec::new();
        for p in pods.iter_mut().filter(|p| p.removed() && p.terminating) {
            p.action = PodAction::Blocked {
                reason: format!("terminating on NotReady node {node}: it never finishes"),
                block: BlockKind::TerminatingOnNotReady,
            };
            stuck.push(p.key());
        }
        if !stuck.is_empty() {
            findings.push(Finding {
                severity: Severity::Blocker,
                kind: "terminating-on-notready",
                message,
                pods: stuck,
            });
        }
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
                "node {node} is NotReady: evicted pods stay Terminating until its kubelet returns{}",
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
