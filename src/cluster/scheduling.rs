//! kube-scheduler's default node scoring for resources, as integer arithmetic exactly like
//! its plugins: `NodeResourcesFit` with the `LeastAllocated` strategy and
//! `NodeResourcesBalancedAllocation`, each weight 1, each 0–100, and `TaintToleration`'s score
//! (weight 3: nodes with fewer untolerated `PreferNoSchedule` taints win). Shared by the
//! simulator's scheduler and the drain plan's placement forecast, so the forecast and the
//! built-in cluster agree by construction on what they both model, and how many nodes it
//! scores in a big cluster (`nodes_to_score`).
//!
//! Not modelled (the forecast says so where it matters): the default topology spreading
//! score, image locality, preferred node affinity and inter-pod affinity.

/// The CPU kube-scheduler assumes for a container that requests none (millicores).
pub const DEFAULT_CPU_REQUEST_M: i64 = 100;
/// The memory kube-scheduler assumes for a container that requests none (bytes).
pub const DEFAULT_MEM_REQUEST: i64 = 200 << 20;
/// The best node score of one plugin.
const MAX_SCORE: i64 = 100;

/// CPU (millicores) and memory (bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Res {
    /// Millicores.
    pub cpu: i64,
    /// Bytes.
    pub mem: i64,
}

impl Res {
    /// The request kube-scheduler scores with: zero becomes the defaults above.
    pub fn non_zero(self) -> Res {
        Res {
            cpu: if self.cpu == 0 {
                DEFAULT_CPU_REQUEST_M
            } else {
                self.cpu
            },
            mem: if self.mem == 0 {
                DEFAULT_MEM_REQUEST
            } else {
                self.mem
            },
        }
    }

    /// Component-wise sum.
    pub fn plus(self, o: Res) -> Res {
        Res {
            cpu: self.cpu + o.cpu,
            mem: self.mem + o.mem,
        }
    }

    /// Component-wise difference.
    pub fn minus(self, o: Res) -> Res {
        Res {
            cpu: self.cpu - o.cpu,
            mem: self.mem - o.mem,
        }
    }
}

/// What is already requested on a node: the real sums and the sums with zero requests
/// counted as the defaults (the scheduler keeps both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLoad {
    /// Requests as written.
    pub requested: Res,
    /// Requests with zero replaced by the defaults.
    pub non_zero: Res,
    /// Pods bound to the node.
    pub pods: i64,
}

impl NodeLoad {
    /// Adds (`sign` 1) or removes (`sign` -1) one pod with request `req`.
    pub fn add(&mut self, req: Res, sign: i64) {
        let nz = req.non_zero();
        self.requested.cpu += sign * req.cpu;
        self.requested.mem += sign * req.mem;
        self.non_zero.cpu += sign * nz.cpu;
        self.non_zero.mem += sign * nz.mem;
        self.pods += sign;
    }
}

fn least_allocated_one(capacity: i64, requested: i64) -> i64 {
    if capacity <= 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_SCORE / capacity
}

/// `NodeResourcesFit` (LeastAllocated): the share of CPU and memory left free after placing
/// the pod, counted with the non-zero defaults.
pub fn least_allocated(alloc: Res, load: &NodeLoad, req: Res) -> i64 {
    let after = load.non_zero.plus(req.non_zero());
    (least_allocated_one(alloc.cpu, after.cpu) + least_allocated_one(alloc.mem, after.mem)) / 2
}

/// `NodeResourcesBalancedAllocation`: how evenly CPU and memory would be used (1 − the
/// standard deviation of the two fractions), with the requests as written.
pub fn balanced_allocation(alloc: Res, load: &NodeLoad, req: Res) -> i64 {
    let after = load.requested.plus(req);
    let frac = |used: i64, cap: i64| {
        if cap <= 0 {
            0.0
        } else {
            (used as f64 / cap as f64).min(1.0)
        }
    };
    let (c, m) = (frac(after.cpu, alloc.cpu), frac(after.mem, alloc.mem));
    // The standard deviation of two values is half their distance.
    let std = (c - m).abs() / 2.0;
    ((1.0 - std) * MAX_SCORE as f64) as i64
}

/// kube-scheduler's `minFeasibleNodesToFind`: with fewer nodes every node is scored.
pub const MIN_NODES_TO_SCORE: usize = 100;
/// kube-scheduler's floor on its adaptive `percentageOfNodesToScore`.
const MIN_PERCENT_TO_SCORE: usize = 5;

/// How many feasible nodes kube-scheduler finds before it stops filtering and scores them
/// (`numFeasibleNodesToFind` with the default adaptive `percentageOfNodesToScore`: 50 % less
/// 1 % per 125 nodes, at least 5 %, and at least 100 nodes). Each pod's search starts where the
/// previous one stopped, so in a big cluster a pod goes to the best node of a rotating sample.
pub fn nodes_to_score(all: usize) -> usize {
    if all < MIN_NODES_TO_SCORE {
        return all;
    }
    let percent = 50usize.saturating_sub(all / 125).max(MIN_PERCENT_TO_SCORE);
    (all * percent / 100).max(MIN_NODES_TO_SCORE)
}

/// The node's total score for a pod requesting `req` (higher is better; ties are broken at
/// random by kube-scheduler).
pub fn score(alloc: Res, load: &NodeLoad, req: Res) -> i64 {
    least_allocated(alloc, load, req) + balanced_allocation(alloc, load, req)
}

/// `TaintToleration`'s weight among kube-scheduler's default score plugins.
pub const TAINT_TOLERATION_WEIGHT: i64 = 3;

/// `TaintToleration`'s weighted scores for the nodes that passed the filters, given each one's
/// count of `PreferNoSchedule` taints the pod does not tolerate: normalised like the plugin
/// (`NormalizeReduce(100, reverse)`: the node with the most such taints scores 0, a node with
/// none 100; all equal → all 100), times its weight.
pub fn taint_toleration(counts: &[i64]) -> Vec<i64> {
    let max = counts.iter().copied().max().unwrap_or(0);
    counts
        .iter()
        .map(|&c| {
            let s = if max == 0 {
                MAX_SCORE
            } else {
                MAX_SCORE - MAX_SCORE * c / max
            };
            s * TAINT_TOLERATION_WEIGHT
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_to_score_follows_kube_schedulers_adaptive_percentage() {
        // Below 100 nodes: all of them; then 50 % less 1 % per 125 nodes, at least 100 nodes.
        assert_eq!(nodes_to_score(0), 0);
        assert_eq!(nodes_to_score(99), 99);
        assert_eq!(nodes_to_score(100), 100);
        assert_eq!(nodes_to_score(250), 120);
        assert_eq!(nodes_to_score(1_000), 420);
        assert_eq!(nodes_to_score(5_000), 500);
        // The floor of 5 %: 10,000 nodes (50 − 80 < 5) score 500, 20,000 score 1,000.
        assert_eq!(nodes_to_score(10_000), 500);
        assert_eq!(nodes_to_score(20_000), 1_000);
    }

    #[test]
    fn prefer_no_schedule_taints_outweigh_the_resource_scores() {
        assert_eq!(taint_toleration(&[0, 0]), [300, 300]);
        assert_eq!(taint_toleration(&[0, 1, 2]), [300, 150, 0]);
        assert_eq!(taint_toleration(&[]), Vec::<i64>::new());
        // The best resource score (200) cannot make up for a tainted node's 0 against 300.
        assert!(2 * MAX_SCORE < taint_toleration(&[0, 1])[0] - taint_toleration(&[0, 1])[1]);
    }

    const GI: i64 = 1 << 30;

    #[test]
    fn least_allocated_prefers_the_emptier_node_and_counts_defaults() {
        let alloc = Res {
            cpu: 4000,
            mem: 8 * GI,
        };
        let empty = NodeLoad::default();
        let mut busy = NodeLoad::default();
        busy.add(
            Res {
                cpu: 2000,
                mem: 4 * GI,
            },
            1,
        );
        let req = Res {
            cpu: 250,
            mem: 256 << 20,
        };
        assert!(score(alloc, &empty, req) > score(alloc, &busy, req));
        // (4000-250)*100/4000 = 93, (8Gi-256Mi)*100/8Gi = 96 → 94; balanced: |.0625-.03125|/2.
        assert_eq!(least_allocated(alloc, &empty, req), 94);
        assert_eq!(balanced_allocation(alloc, &empty, req), 98);
        // A pod requesting nothing is scored as 100m / 200Mi, and so are such pods on the node.
        let mut zero = NodeLoad::default();
        zero.add(Res::default(), 1);
        assert_eq!(zero.non_zero, Res::default().non_zero());
        assert_eq!(zero.requested, Res::default());
        assert!(score(alloc, &zero, Res::default()) < score(alloc, &empty, Res::default()));
    }

    #[test]
    fn over_capacity_scores_zero_and_removal_undoes_add() {
        let alloc = Res { cpu: 1000, mem: GI };
        let req = Res {
            cpu: 2000,
            mem: 2 * GI,
        };
        assert_eq!(least_allocated(alloc, &NodeLoad::default(), req), 0);
        let mut l = NodeLoad::default();
        l.add(req, 1);
        l.add(req, -1);
        assert_eq!(l, NodeLoad::default());
    }
}
