//! What a running drain reports: [`DrainEvent`]s, sent in order over a channel (or to a sink
//! callback) so a UI can show per-node and per-pod progress.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::plan::DrainPlan;

/// Where the drain of one node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeState {
    /// Fetching the node and marking it unschedulable.
    Cordoning,
    /// Evictions (or deletions) are being sent; some may be blocked by PDBs.
    Evicting,
    /// Every eviction was accepted; waiting for the pods to be gone.
    Waiting,
    /// Done: every selected pod is gone. The node stays cordoned.
    Drained,
    /// Pre-flight errors, a failed cordon, failed pods, or the node was deleted.
    Failed,
    /// `--timeout` expired. The node stays cordoned.
    TimedOut,
    /// Cancelled by the user. The node stays cordoned.
    Cancelled,
    /// Cancelled by a signal (SIGTERM, SIGHUP, SIGINT): the node stays cordoned.
    Interrupted,
}

impl NodeState {
    /// Whether the drain is over.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            NodeState::Drained
                | NodeState::Failed
                | NodeState::TimedOut
                | NodeState::Cancelled
                | NodeState::Interrupted
        )
    }

    /// The value written to the `kubedrain.io/drain-state` annotation.
    pub fn annotation(self) -> &'static str {
        match self {
            NodeState::Cordoning | NodeState::Evicting | NodeState::Waiting => "draining",
            NodeState::Drained => "drained",
            NodeState::Failed => "failed",
            NodeState::TimedOut => "timed-out",
            NodeState::Cancelled => "cancelled",
            NodeState::Interrupted => "interrupted",
        }
    }
}

/// How a pod left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GoneHow {
    /// After an accepted eviction (kubectl: `pod/x evicted`).
    Evicted,
    /// After a DELETE (`--disable-eviction`; kubectl: `pod/x deleted`).
    Deleted,
    /// It was already gone when we asked (404; kubectl prints nothing).
    AlreadyGone,
}

/// Per-pod progress. Normal path: Queued → Evicting → Terminating → Gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PodState {
    /// Waiting for a free eviction slot.
    Queued,
    /// An eviction (or delete) request is being sent; `attempt` counts from 1.
    Evicting { attempt: u32 },
    /// The API server refused with 429 because of a PodDisruptionBudget; retried after `retry_in`.
    BlockedByPdb {
        /// `namespace/name` of the blocking PDB, from the 429's `details.causes`.
        pdb: Option<String>,
        /// Healthy pods the PDB currently counts.
        healthy: Option<i32>,
        /// Healthy pods it needs.
        needed: Option<i32>,
        /// The server's message (what kubectl prints).
        message: String,
        /// The cause text naming the PDB.
        cause: Option<String>,
        #[serde(with = "secs")]
        retry_in: Duration,
    },
    /// Another retryable refusal (429 without a PDB cause, terminating namespace).
    Retrying {
        message: String,
        #[serde(with = "secs")]
        retry_in: Duration,
    },
    /// Eviction accepted; the pod is shutting down until `grace_deadline` (its grace period).
    Terminating { grace_deadline: Option<Timestamp> },
    /// The pod is gone (or its name now belongs to a new pod).
    Gone { how: GoneHow },
    /// Its deletion started longer ago than `--skip-wait-for-delete-timeout`: no longer waited for.
    SkippedWait { seconds: u64 },
    /// Eviction failed for good (e.g. 500 for several PDBs, 403) or was cut off by the timeout.
    Failed { reason: String },
}

impl PodState {
    /// Whether the pod needs nothing more from this drain.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            PodState::Gone { .. } | PodState::SkippedWait { .. } | PodState::Failed { .. }
        )
    }
}

mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// The end of a drain.
#[derive(Debug, Clone, Serialize)]
pub struct DrainOutcome {
    pub node: String,
    /// Drained, Failed, TimedOut or Cancelled.
    pub state: NodeState,
    /// kubectl-style errors (pre-flight `cannot delete ...`, per-pod `error when evicting ...`).
    pub errors: Vec<String>,
    /// Names (no namespace, as kubectl prints them) of selected pods that are still there.
    pub pending_pods: Vec<String>,
    /// One line for humans, e.g. "node/node0 left cordoned: uncordon it with `kubedrain uncordon node0`".
    pub message: String,
}

/// Everything a running drain reports, in order. The last event is always [`DrainEvent::Finished`].
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum DrainEvent {
    /// The node-level state changed.
    State { node: String, state: NodeState },
    /// The cordon succeeded; `already`: it was cordoned before (kubectl: `already cordoned`).
    Cordoned { node: String, already: bool },
    /// The plan computed after the cordon (what will be evicted, kubectl's warnings and errors).
    Planned { node: String, plan: Box<DrainPlan> },
    /// A pod's progress; `pod` is `namespace/name`.
    Pod {
        node: String,
        pod: String,
        state: PodState,
    },
    /// A new pod of a workload this drain evicts from appeared, changed or went away (phase
    /// `Deleted`) elsewhere. Attributed to the workload, never to one evicted pod: which pod a
    /// controller replaces is not something the API says.
    Replacement {
        node: String,
        /// The workload, as [`workload`] writes it (`ReplicaSet shop/checkout-5d4f`).
        workload: String,
        /// `namespace/name` of the new pod.
        pod: String,
        on_node: Option<String>,
        phase: String,
        /// Its Ready condition (Running is not Ready).
        ready: bool,
    },
    /// Something non-fatal worth showing (watch errors being retried, annotation failures).
    Notice { node: String, message: String },
    /// The drain is over.
    Finished(DrainOutcome),
}

/// A workload as the live view names it: `Kind namespace/name` of a pod's controller.
pub fn workload(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind} {namespace}/{name}")
}
