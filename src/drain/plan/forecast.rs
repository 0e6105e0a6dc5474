//! The placement forecast in the order the drain would really create replacements: pods that
//! can go at once first (their PDB allows it, or none covers them), then, as replacements
//! become Ready, the pods their PDB held back. A PDB whose replacements cannot be scheduled
//! never allows the rest: those pods are blocked and the drain would never finish.
//!
//! Pods evicted together reach the scheduler in no fixed order, and the order changes where
//! each lands. So the batch is placed in every distinct order of its pod shapes when there
//! are few enough, else in a sample of orders; a pod's forecast names every node it landed
//! on in any of them (`or`), and Pending when it stayed Pending in any.

use std::collections::{BTreeSet, HashMap};

use super::super::capacity::{CapacityReport, Forecast, MAX_OR, Placement, replaced};
use super::{BlockKind, ClusterView, Finding, PdbFinding, PlanInput, PodAction, PodPlan, Severity};

/// At most this many orders are tried.
const MAX_ORDERS: usize = 2000;
/// Node evaluations (pods × nodes × orders) the forecast may spend.
const BUDGET: usize = 4_000_000;

/// One placement run in one order.
struct Run<'a, 'b> {
    input: &'b PlanInput<'a>,
    forecast: Forecast<'a>,
    placed: HashMap<usize, Placement>,
    not_replaced: Vec<usize>,
}

impl Run<'_, '_> {
    /// Places pod `i`'s replacement; whether it lands somewhere.
    fn place(&mut self, i: usize) -> bool {
        let row = self.input.pods[i];
        if row.phase.is_finished() {
            return false;
        }
        if !replaced(row) {
            self.not_replaced.push(i);
            return false;
        }
        let p = self.forecast.place(row);
        let lands = p.lands();
        self.placed.insert(i, p);
        lands
    }
}

/// The PDB gating each pod's eviction, if any.
type Gates<'p> = Vec<Option<&'p PdbFinding>>;

/// Places the pods that go at once in `order`, then those their PDBs release; returns the
/// run and the pods still held (never released).
fn run_order<'a, 'b>(
    input: &'b PlanInput<'a>,
    base: &Forecast<'a>,
    order: &[usize],
    gate: &Gates,
) -> (Run<'a, 'b>, Vec<usize>) {
    let mut run = Run {
        input,
        forecast: base.clone(),
        placed: HashMap::new(),
        not_replaced: Vec::new(),
    };
    let mut allowance: HashMap<&str, i32> = HashMap::new();
    let mut credit: HashMap<&str, i32> = HashMap::new();
    let mut waiting = Vec::new();
    for &i in order {
        match gate[i] {
            Some(b) => {
                let left = allowance
                    .entry(b.pdb.as_str())
                    .or_insert(b.disruptions_allowed.max(0));
                if *left > 0 {
                    *left -= 1;
                    if run.place(i) {
                        *credit.entry(b.pdb.as_str()).or_default() += 1;
                    }
                } else {
                    waiting.push(i);
                }
            }
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
    let mut held = Vec::new();
    for i in waiting {
        if gate[i]
            .expect("waiting pods have a PDB")
            .disruptions_allowed
            > 0
        {
            held.push(i);
        } else {
            // It waits for pods elsewhere to become Ready (the `pdb-zero` warning): last.
            run.place(i);
        }
    }
    (run, held)
}

/// What makes two pods interchangeable for the scheduler.
fn shape(input: &PlanInput, i: usize) -> (String, u64, u64) {
    let p = input.pods[i];
    let ctrl = p
        .controller()
        .map(|c| c.uid.clone())
        .unwrap_or_else(|| p.key());
    (ctrl, p.cpu_request_m, p.mem_request)
}

/// Rearranges `v` into the next permutation in lexicographic order (multisets: each distinct
/// arrangement once); false after the last.
fn next_permutation(v: &mut [usize]) -> bool {
    let Some(i) = (1..v.len()).rev().find(|&i| v[i - 1] < v[i]) else {
        return false;
    };
    let j = (i..v.len())
        .rev()
        .find(|&j| v[j] > v[i - 1])
        .expect("a larger element");
    v.swap(i - 1, j);
    v[i..].reverse();
    true
}

/// Number of distinct arrangements of a multiset with these counts, capped.
fn arrangements(counts: &[usize], cap: usize) -> usize {
    let mut total: u128 = 1;
    let mut n: u128 = 0;
    for &c in counts {
        for k in 1..=c as u128 {
            n += 1;
            total = total * n / k;
            if total > cap as u128 {
                return cap + 1;
            }
        }
    }
    total as usize
}

/// The orders to try: the plan's own first, then every distinct order of shapes when there
/// are few enough, else the reverse, largest first and seeded shuffles, within the budget.
fn orders(input: &PlanInput, batch: &[usize], nodes: usize) -> Vec<Vec<usize>> {
    let shapes: Vec<(String, u64, u64)> = batch.iter().map(|&i| shape(input, i)).collect();
    let mut distinct = shapes.clone();
    distinct.sort();
    distinct.dedup();
    let ids: Vec<usize> = shapes
        .iter()
        .map(|s| distinct.binary_search(s).expect("listed"))
        .collect();
    let counts: Vec<usize> = (0..distinct.len())
        .map(|d| ids.iter().filter(|&&x| x == d).count())
        .collect();
    let limit = (BUDGET / (batch.len().max(1) * nodes.max(1))).clamp(1, MAX_ORDERS);
    // The pods of one shape in plan order, for turning a shape sequence into pods.
    let realise = |seq: &[usize]| -> Vec<usize> {
        let mut next = vec![0usize; distinct.len()];
        seq.iter()
            .map(|&d| {
                let pod = batch
                    .iter()
                    .zip(&ids)
                    .filter(|(_, x)| **x == d)
                    .nth(next[d])
                    .map(|(&i, _)| i)
                    .expect("a pod of that shape");
                next[d] += 1;
                pod
            })
            .collect()
    };
    let mut out = vec![batch.to_vec()];
    if distinct.len() < 2 {
        return out;
    }
    if arrangements(&counts, limit) <= limit {
        let mut seq = ids.clone();
        seq.sort();
        loop {
            out.push(realise(&seq));
            if !next_permutation(&mut seq) {
                break;
            }
        }
        return out;
    }
    out.push(batch.iter().rev().copied().collect());
    let mut big = batch.to_vec();
    big.sort_by_key(|&i| {
        std::cmp::Reverse((input.pods[i].cpu_request_m, input.pods[i].mem_request))
    });
    out.push(big);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    while out.len() < limit.min(19) {
        let mut v = batch.to_vec();
        for k in (1..v.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            v.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        out.push(v);
    }
    out
}

/// Folds the other orders' placements into the plan order's: every node a pod reached, and
/// Pending if it stayed Pending in any order.
fn merge(first: &mut HashMap<usize, Placement>, other: &HashMap<usize, Placement>) {
    for (i, p) in first.iter_mut() {
        let Some(o) = other.get(i) else {
            continue;
        };
        let mut names: BTreeSet<String> = p.or.iter().cloned().collect();
        names.extend(o.node.iter().cloned());
        names.extend(o.or.iter().cloned());
        if let Some(n) = &p.node {
            names.remove(n);
        }
        // Beyond MAX_OR names only a count is kept, so the count is a lower bound of how
        // many nodes any order reaches: the larger of the two orders' own.
        let extra = names.len().saturating_sub(MAX_OR);
        p.or_more = p.or_more.max(o.or_more).max(extra);
        p.or = names.into_iter().take(MAX_OR).collect();
        if o.is_pending() && !p.is_pending() {
            p.maybe_pending = true;
        }
        if p.is_pending() && !o.is_pending() {
            p.misfits.clear();
        }
    }
}

pub(super) fn run(
    input: &PlanInput,
    c: ClusterView,
    pods: &mut [PodPlan],
    pdbs: &[PdbFinding],
    findings: &mut Vec<Finding>,
) -> CapacityReport {
    let base = Forecast::new(input.node.name(), c.nodes, c.pods);
    let delete = input.opts.disable_eviction;
    // The PDB the server checks each eviction against (pods under several are blocked already).
    let gate: Gates = pods
        .iter()
        .map(|p| {
            let key = p.key();
            (!delete)
                .then(|| pdbs.iter().find(|b| b.pods.contains(&key)))
                .flatten()
        })
        .collect();
    let batch: Vec<usize> = (0..pods.len()).filter(|&i| pods[i].removed()).collect();
    let all_orders = orders(input, &batch, c.nodes.len());
    let (mut first, held) = run_order(input, &base, &all_orders[0], &gate);
    for order in &all_orders[1..] {
        let (other, _) = run_order(input, &base, order, &gate);
        merge(&mut first.placed, &other.placed);
    }
    let mut report = CapacityReport {
        targets: base.targets(),
        not_replaced: first.not_replaced.iter().map(|&i| pods[i].key()).collect(),
        ..Default::default()
    };
    let mut placed: Vec<(usize, Placement)> = first.placed.into_iter().collect();
    placed.sort_by_key(|(i, _)| *i);
    report.placements = placed.into_iter().map(|(_, p)| p).collect();
    block_held(&held, &gate, pods, findings);
    no_room(&report, findings);
    report
}

/// Pods whose PDB allowed some evictions but whose own replacements cannot start: it never
/// allows the rest, and the drain would never finish.
fn block_held(held: &[usize], gate: &Gates, pods: &mut [PodPlan], findings: &mut Vec<Finding>) {
    let mut stuck: Vec<(&PdbFinding, Vec<String>)> = Vec::new();
    for &i in held {
        let b = gate[i].expect("held pods have a PDB");
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
}

fn no_room(report: &CapacityReport, findings: &mut Vec<Finding>) {
    let pending: Vec<_> = report.pending().collect();
    if let Some(first) = pending.first() {
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
    let maybe: Vec<String> = report
        .placements
        .iter()
        .filter(|p| p.maybe_pending)
        .map(|p| p.pod.clone())
        .collect();
    if !maybe.is_empty() {
        findings.push(Finding {
            severity: Severity::Warning,
            kind: "maybe-pending",
            message: format!(
                "{} replacement(s) may stay Pending, depending on the order the scheduler sees them",
                maybe.len()
            ),
            pods: maybe,
        });
    }
}
