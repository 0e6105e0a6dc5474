//! The placement forecast in the order the drain would really create replacements: pods that
//! can go at once first (their PDB allows it, or none covers them), then, as replacements
//! become Ready, the pods their PDB held back. A PDB whose replacements cannot be scheduled
//! never allows the rest: those pods are blocked and the drain would never finish.

use std::collections::HashMap;

use super::super::capacity::{CapacityReport, Forecast, replaced};
use super::{BlockKind, ClusterView, Finding, PdbFinding, PlanInput, PodAction, PodPlan, Severity};

struct Run<'a, 'b> {
    input: &'b PlanInput<'a>,
    forecast: Forecast<'a>,
    report: CapacityReport,
}

impl Run<'_, '_> {
    /// Places pod `i`'s replacement; whether it lands somewhere.
    fn place(&mut self, i: usize) -> bool {
        let row = self.input.pods[i];
        if row.phase.is_finished() {
            return false;
        }
        if !replaced(row) {
            self.report.not_replaced.push(row.key());
            return false;
        }
        let p = self.forecast.place(row);
        let lands = p.lands();
        self.report.placements.push(p);
        lands
    }
}

pub(super) fn run(
    input: &PlanInput,
    c: ClusterView,
    pods: &mut [PodPlan],
    pdbs: &[PdbFinding],
    findings: &mut Vec<Finding>,
) -> CapacityReport {
    let forecast = Forecast::new(input.node.name(), c.nodes, c.pods);
    let mut run = Run {
        input,
        report: CapacityReport {
            targets: forecast.targets(),
            ..Default::default()
        },
        forecast,
    };
    let delete = input.opts.disable_eviction;
    // The PDB the server checks each eviction against (pods under several are blocked already).
    let gate: Vec<Option<&PdbFinding>> = pods
        .iter()
        .map(|p| {
            let key = p.key();
            (!delete)
                .then(|| pdbs.iter().find(|b| b.pods.contains(&key)))
                .flatten()
        })
        .collect();
    let mut allowance: HashMap<&str, i32> = pdbs
        .iter()
        .map(|b| (b.pdb.as_str(), b.disruptions_allowed.max(0)))
        .collect();
    let mut credit: HashMap<&str, i32> = HashMap::new();
    let mut waiting = Vec::new();
    for i in (0..pods.len()).filter(|&i| pods[i].removed()) {
        match gate[i] {
            Some(b) if allowance[b.pdb.as_str()] > 0 => {
                *allowance.get_mut(b.pdb.as_str()).expect("pdb") -= 1;
                if run.place(i) {
                    *credit.entry(b.pdb.as_str()).or_default() += 1;
                }
            }
            Some(_) => waiting.push(i),
            None => {
                run.place(i);
            }
        }
    }
    // A Ready replacement lets the PDB allow one more eviction.
    loop {
        let before = waiting.len();
        let mut still = Vec::new();
        for i in waiting {
            let b = gate[i].expect("waiting pods have a PDB");
            match credit.get_mut(b.pdb.as_str()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    if run.place(i) {
                        *n += 1;
                    }
                }
                _ => still.push(i),
            }
        }
        waiting = still;
        if waiting.len() == before {
            break;
        }
    }
    let mut stuck: Vec<(&PdbFinding, Vec<String>)> = Vec::new();
    for i in waiting {
        let b = gate[i].expect("waiting pods have a PDB");
        if b.disruptions_allowed > 0 {
            // It allowed some evictions, but our own replacements cannot start: it never
            // allows the rest.
            let key = pods[i].key();
            pods[i].action = PodAction::Blocked {
                reason: format!(
                    "PodDisruptionBudget {} allows no more evictions: the replacements of the pods evicted first cannot be scheduled",
                    b.pdb
                ),
                block: BlockKind::PdbStuck,
            };
            match stuck.iter_mut().find(|(s, _)| s.pdb == b.pdb) {
                Some((_, v)) => v.push(key),
                None => stuck.push((b, vec![key])),
            }
        } else {
            // It waits for pods elsewhere to become Ready (the `pdb-zero` warning); placed last.
            run.place(i);
        }
    }
    for (b, keys) in stuck {
        findings.push(Finding {
            severity: Severity::Blocker,
            kind: "pdb-stuck",
            message: format!(
                "PodDisruptionBudget {} allows {} disruption(s) now, but the replacements of those pods cannot be scheduled, so it never allows evicting the rest: the drain would never finish",
                b.pdb, b.disruptions_allowed
            ),
            pods: keys,
        });
    }
    no_room(&run.report, findings);
    run.report
}

fn no_room(report: &CapacityReport, findings: &mut Vec<Finding>) {
    let pending: Vec<_> = report.pending().collect();
    let Some(first) = pending.first() else {
        return;
    };
    findings.push(Finding {
        severity: Severity::Warning,
        kind: "no-room",
        message: format!(
            "no node can take {} replacement(s): they stay Pending until this node is uncordoned ({})",
            pending.len(),
            first.misfit_text()
        ),
        pods: pending.iter().map(|p| p.pod.clone()).collect(),
    });
}
