//! The plan's vocabulary: what happens to each pod, findings, and the verdict.

use serde::Serialize;

use super::super::capacity::CapacityReport;
use super::super::options::DrainOptions;

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
    /// Keeps the drain from starting or from finishing.
    Blocked {
        /// For kubectl's own blocks its message, e.g. `Pods that declare no controller (use
        /// --force to override)`; for kubedrain's, one line saying why.
        reason: String,
        /// What kind of block.
        block: BlockKind,
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

/// The kinds of block. kubectl's own (DaemonSet, local storage, unmanaged, lookup) stop the
/// drain in its pre-flight, after the cordon; kubedrain's would make it hang or fail later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// A DaemonSet pod without `--ignore-daemonsets`.
    DaemonSet,
    /// emptyDir data without `--delete-emptydir-data`.
    LocalStorage,
    /// No controller, without `--force`.
    Unmanaged,
    /// kubectl's DaemonSet lookup failed (not found, forbidden).
    Lookup,
    /// Its PDB can never allow an eviction as configured.
    PdbNever,
    /// Covered by several PDBs: the API server refuses (500).
    MultiplePdbs,
    /// Its PDB allows no more evictions once the first replacements stay Pending.
    PdbStuck,
    /// Terminating on a NotReady node: it never finishes.
    TerminatingOnNotReady,
}

impl BlockKind {
    /// One of kubectl's pre-flight errors (the `cannot delete ...` lines).
    pub fn is_kubectl(self) -> bool {
        matches!(
            self,
            BlockKind::DaemonSet
                | BlockKind::LocalStorage
                | BlockKind::Unmanaged
                | BlockKind::Lookup
        )
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
    /// Its Ready condition.
    pub ready: bool,
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

    /// Whether it is blocked.
    pub fn blocked(&self) -> Option<BlockKind> {
        match self.action {
            PodAction::Blocked { block, .. } => Some(block),
            _ => None,
        }
    }
}

/// A PDB covering pods this drain removes.
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
    /// `--disable-eviction` deletes more of its pods than it allows: the budget is broken.
    pub broken: bool,
}

/// How bad a finding is (in the order the plan lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The drain cannot start or cannot finish.
    Blocker,
    /// kubedrain cannot see enough to judge.
    Unknown,
    /// The drain can finish, but a workload loses every ready replica or its budget.
    Outage,
    /// The drain can run, but something will wait, go Pending or be lost.
    Warning,
}

/// A pre-flight finding beyond kubectl's own errors and warnings.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// Stable identifier: `pdb-zero`, `pdb-never`, `pdb-wait`, `pdb-stuck`, `multiple-pdbs`,
    /// `breaks-pdb`, `emptydir-data-loss`, `no-room`, `outage`, `gap`, `at-risk`, `not-replaced`,
    /// `terminating-on-notready`, `node-notready`, `cannot-tell`.
    pub kind: &'static str,
    /// One line for humans.
    pub message: String,
    /// The pods concerned (`namespace/name`).
    pub pods: Vec<String>,
}

/// The plan's answer, derived from its rows and findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nothing blocks the drain and no workload loses its last ready replica or its budget.
    Proceed,
    /// It would finish, but take a workload down or break a budget: only if accepted.
    Outage,
    /// It cannot start, or it would never finish.
    Blocked,
    /// kubedrain cannot see enough of the cluster to say.
    CannotTell,
}

impl Verdict {
    /// Blocked if any pod is blocked or kubectl would refuse; else cannot-tell, outage or proceed
    /// by the worst finding.
    pub fn derive(pods: &[PodPlan], errors: &[String], findings: &[Finding]) -> Verdict {
        let worst = findings.iter().map(|f| f.severity).min();
        if !errors.is_empty()
            || pods.iter().any(|p| p.blocked().is_some())
            || worst == Some(Severity::Blocker)
        {
            Verdict::Blocked
        } else if worst == Some(Severity::Unknown) {
            Verdict::CannotTell
        } else if worst == Some(Severity::Outage) {
            Verdict::Outage
        } else {
            Verdict::Proceed
        }
    }
}

/// `kubedrain plan`'s exit codes (2 is left to usage errors, as clap exits with it).
pub mod exit {
    /// The drain can proceed (an outage the user accepted with `--allow-outage` included).
    pub const PROCEED: i32 = 0;
    /// Something blocks the drain.
    pub const BLOCKED: i32 = 1;
    /// The drain would take a workload down or break a PDB; `--allow-outage` accepts it.
    pub const OUTAGE: i32 = 3;
    /// kubedrain cannot see enough of the cluster to say (RBAC).
    pub const CANNOT_TELL: i32 = 4;
}

/// The whole plan for draining one node.
#[derive(Debug, Clone, Serialize)]
pub struct DrainPlan {
    pub node: String,
    /// Already cordoned.
    pub node_unschedulable: bool,
    pub options: DrainOptions,
    /// Derived from the rows and findings below.
    pub verdict: Verdict,
    /// One entry per pod on the node, in listing order.
    pub pods: Vec<PodPlan>,
    /// kubectl's grouped pre-flight errors: `cannot delete <msg>: ns/a, ns/b`.
    pub errors: Vec<String>,
    /// kubectl's warning (without the `Warning: ` prefix): `<msg>: ns/a, ns/b; <msg>: ...`.
    pub warning: Option<String>,
    /// PDBs covering removed pods.
    pub pdbs: Vec<PdbFinding>,
    /// Where replacements would go (absent when the caller gave no cluster view).
    pub capacity: Option<CapacityReport>,
    /// Everything kubectl does not tell you, worst first.
    pub findings: Vec<Finding>,
}

/// Pod counts by action, from the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Evicted or deleted.
    pub removed: usize,
    pub skipped: usize,
    pub blocked: usize,
}

impl DrainPlan {
    /// Whether the drain may start: the verdict is proceed, or an outage the options accept.
    pub fn can_proceed(&self) -> bool {
        match self.verdict {
            Verdict::Proceed => true,
            Verdict::Outage => self.options.allow_outage,
            Verdict::Blocked | Verdict::CannotTell => false,
        }
    }

    /// The process exit code of `kubedrain plan` for this plan.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            Verdict::Proceed => exit::PROCEED,
            Verdict::Blocked => exit::BLOCKED,
            Verdict::Outage if self.options.allow_outage => exit::PROCEED,
            Verdict::Outage => exit::OUTAGE,
            Verdict::CannotTell => exit::CANNOT_TELL,
        }
    }

    /// Whether a blocker keeps the drain from starting or finishing (kubectl's or kubedrain's).
    pub fn is_blocked(&self) -> bool {
        self.verdict == Verdict::Blocked
    }

    /// The findings of one severity.
    pub fn findings_of(&self, s: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == s)
    }

    /// kubectl's stderr warning line (`Warning: ...`), if any.
    pub fn warning_line(&self) -> Option<String> {
        self.warning.as_ref().map(|w| format!("Warning: {w}"))
    }

    /// Pods that will be evicted or deleted.
    pub fn removals(&self) -> impl Iterator<Item = &PodPlan> {
        self.pods.iter().filter(|p| p.removed())
    }

    /// Counts by action, from the rows (every summary line reads these).
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for p in &self.pods {
            match p.action {
                PodAction::Evict | PodAction::Delete => c.removed += 1,
                PodAction::Skip { .. } => c.skipped += 1,
                PodAction::Blocked { .. } => c.blocked += 1,
            }
        }
        c
    }

    /// The verb of the removals: `evict`, or `delete` with `--disable-eviction`.
    pub fn verb(&self) -> &'static str {
        if self.options.disable_eviction {
            "delete"
        } else {
            "evict"
        }
    }

    /// Messages of kubedrain's blockers (not kubectl's pre-flight errors), one per finding.
    pub fn blocker_messages(&self) -> Vec<String> {
        self.findings_of(Severity::Blocker)
            .map(|f| {
                let pods: Vec<&str> = f
                    .pods
                    .iter()
                    .map(|p| p.split(" (").next().unwrap_or(p))
                    .collect();
                format!("{}: {}", f.message, pods.join(", "))
            })
            .collect()
    }
}
