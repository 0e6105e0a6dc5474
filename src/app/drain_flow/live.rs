//! The live drain view's state: each pod's progress, replacements, counters and timers.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::drain::events::{DrainEvent, DrainOutcome, NodeState, PodState};

/// A replacement pod of an evicted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub pod: String,
    pub on_node: Option<String>,
    pub phase: String,
    pub ready: bool,
}

/// One pod's row in the live view.
#[derive(Debug, Clone, PartialEq)]
pub struct PodProgress {
    /// `namespace/name`.
    pub key: String,
    pub state: PodState,
    /// When it entered this state.
    pub since: Timestamp,
}

/// The drain the live view shows.
#[derive(Debug, Clone)]
pub struct LiveDrain {
    pub node: String,
    pub started: Timestamp,
    /// `--timeout`, in seconds.
    pub timeout: Option<u64>,
    pub state: NodeState,
    /// `Some(already)` once the cordon is done.
    pub cordoned: Option<bool>,
    /// The pods the drain removes, in plan order.
    pub rows: Vec<PodProgress>,
    /// Pods the engine's plan leaves alone (DaemonSet, mirror, not selected).
    pub skipped: usize,
    /// By evicted pod.
    pub replacements: BTreeMap<String, Replacement>,
    /// Non-fatal messages, most recent last.
    pub notices: Vec<String>,
    pub outcome: Option<DrainOutcome>,
    pub finished_at: Option<Timestamp>,
    /// `x` was pressed.
    pub cancel_sent: bool,
    pub scroll: usize,
}

impl LiveDrain {
    /// A drain about to start.
    pub fn new(node: &str, now: Timestamp, timeout: Option<u64>) -> LiveDrain {
        LiveDrain {
            node: node.to_string(),
            started: now,
            timeout,
            state: NodeState::Cordoning,
            cordoned: None,
            rows: Vec::new(),
            skipped: 0,
            replacements: BTreeMap::new(),
            notices: Vec::new(),
            outcome: None,
            finished_at: None,
            cancel_sent: false,
            scroll: 0,
        }
    }

    /// Pods still to go.
    pub fn left(&self) -> usize {
        self.rows.iter().filter(|r| !r.state.is_final()).count()
    }

    /// Ended `Drained`.
    pub fn is_drained(&self) -> bool {
        self.outcome
            .as_ref()
            .is_some_and(|o| o.state == NodeState::Drained)
    }

    /// Seconds since the start (frozen at the end).
    pub fn elapsed(&self, now: Timestamp) -> i64 {
        (self.finished_at.unwrap_or(now) - self.started)
            .get_seconds()
            .max(0)
    }

    pub(super) fn apply(&mut self, ev: DrainEvent, now: Timestamp) {
        match ev {
            DrainEvent::State { state, .. } => self.state = state,
            DrainEvent::Cordoned { already, .. } => self.cordoned = Some(already),
            DrainEvent::Planned { plan, .. } => {
                // The engine's plan (made after the cordon) is the one that runs: pods that left
                // meanwhile drop out, new ones join.
                self.skipped = plan.pods.len() - plan.removals().count();
                let old = std::mem::take(&mut self.rows);
                self.rows = plan
                    .removals()
                    .map(|p| {
                        let key = p.key();
                        old.iter()
                            .find(|r| r.key == key)
                            .cloned()
                            .unwrap_or(PodProgress {
                                key,
                                state: PodState::Queued,
                                since: now,
                            })
                    })
                    .collect();
            }
            DrainEvent::Pod { pod, state, .. } => match self.rows.iter_mut().find(|r| r.key == pod)
            {
                Some(r) => {
                    if std::mem::discriminant(&r.state) != std::mem::discriminant(&state) {
                        r.since = now;
                    }
                    r.state = state;
                }
                None => self.rows.push(PodProgress {
                    key: pod,
                    state,
                    since: now,
                }),
            },
            DrainEvent::Replacement {
                evicted,
                pod,
                on_node,
                phase,
                ready,
                ..
            } => {
                self.replacements.insert(
                    evicted,
                    Replacement {
                        pod,
                        on_node,
                        phase,
                        ready,
                    },
                );
            }
            DrainEvent::Notice { message, .. } => {
                if self.notices.last() != Some(&message) {
                    self.notices.push(message);
                }
                if self.notices.len() > 5 {
                    self.notices.remove(0);
                }
            }
            DrainEvent::Finished(o) => {
                self.state = o.state;
                self.outcome = Some(o);
                self.finished_at = Some(now);
            }
        }
    }
}
