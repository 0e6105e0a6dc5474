//! The live drain view's state: each pod's progress, replacements, counters and timers.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;

use crate::cluster::cache::Cache;
use crate::cluster::rows::PodRow;
use crate::cluster::watch::Ev;
use crate::drain::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState, workload};
use crate::drain::plan::{PodAction, PodPlan};

/// A replacement: a new pod of a workload the drain evicts from, as the engine last reported
/// it (the TUI's pod watch, when it has the pod, is fresher: see `live_truth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub on_node: Option<String>,
    pub phase: String,
    pub ready: bool,
}

/// One pod's row in the live view.
#[derive(Debug, Clone, PartialEq)]
pub struct PodProgress {
    /// `namespace/name`.
    pub key: String,
    /// Its UID, to tell it from a new pod that reuses the name (empty: not known).
    pub uid: String,
    /// Its controller, as [`workload`] names it.
    pub workload: Option<String>,
    /// Removed with a DELETE (`--disable-eviction`) rather than an eviction.
    pub delete: bool,
    /// The API accepted its eviction (or deletion) at some point.
    pub accepted: bool,
    pub state: PodState,
    /// When it entered this state.
    pub since: Timestamp,
}

impl PodProgress {
    /// A queued row for a pod of a plan.
    pub fn planned(p: &PodPlan, now: Timestamp) -> PodProgress {
        PodProgress {
            key: p.key(),
            uid: p.uid.clone(),
            workload: p
                .controller
                .as_deref()
                .and_then(|c| c.split_once('/'))
                .map(|(kind, name)| workload(kind, &p.namespace, name)),
            delete: matches!(p.action, PodAction::Delete),
            accepted: false,
            state: PodState::Queued,
            since: now,
        }
    }

    /// A row for a pod only known by its key (an event for a pod no plan listed).
    pub fn bare(key: String, state: PodState, now: Timestamp) -> PodProgress {
        PodProgress {
            key,
            uid: String::new(),
            workload: None,
            delete: false,
            accepted: false,
            state,
            since: now,
        }
    }

    fn set(&mut self, state: PodState, now: Timestamp) {
        if std::mem::discriminant(&self.state) != std::mem::discriminant(&state) {
            self.since = now;
        }
        self.accepted |= matches!(
            state,
            PodState::Terminating { .. }
                | PodState::Gone {
                    how: GoneHow::Evicted | GoneHow::Deleted
                }
        );
        self.state = state;
    }
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
    /// Replacements by workload, then by pod (`namespace/name`): reported by the engine, and
    /// seen by the TUI's pod watch (which goes on after the engine stopped).
    pub replacements: BTreeMap<String, BTreeMap<String, Replacement>>,
    /// Controller UID → workload, of the pods the drain removes.
    pub controllers: HashMap<String, String>,
    /// UIDs of those workloads' pods that existed when the drain started (not replacements).
    pub before: HashSet<String>,
    /// Non-fatal messages, most recent last.
    pub notices: Vec<String>,
    pub outcome: Option<DrainOutcome>,
    pub finished_at: Option<Timestamp>,
    /// `x` was pressed.
    pub cancel_sent: bool,
    /// A campaign's drain (the campaign cordoned the node just before).
    pub in_campaign: bool,
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
            controllers: HashMap::new(),
            before: HashSet::new(),
            notices: Vec::new(),
            outcome: None,
            finished_at: None,
            cancel_sent: false,
            in_campaign: false,
            scroll: 0,
        }
    }

    /// Learns the rows' workloads from the cache, and which of their pods exist already, so
    /// that the pod watch can tell replacements ([`LiveDrain::on_pod_event`]).
    pub fn track_workloads(&mut self, cache: &Cache) {
        for r in &self.rows {
            if let (Some(p), Some(w)) = (cache.pods.get(&r.key), &r.workload)
                && let Some(c) = p.controller()
            {
                self.controllers.insert(c.uid.clone(), w.clone());
            }
        }
        if self.controllers.is_empty() {
            return;
        }
        self.before = cache
            .pods
            .values()
            .filter(|p| {
                p.controller()
                    .is_some_and(|c| self.controllers.contains_key(&c.uid))
            })
            .map(|p| p.uid().to_string())
            .collect();
    }

    /// One event of the TUI's pod watch: a new pod of a drained workload elsewhere is a
    /// replacement; a replacement deleted is no longer one.
    pub fn on_pod_event(&mut self, ev: &Ev<PodRow>) {
        if self.controllers.is_empty() {
            return;
        }
        match ev {
            Ev::Apply(p) | Ev::InitApply(p) => self.note_pod(p),
            Ev::InitPage(ps) => ps.iter().for_each(|p| self.note_pod(p)),
            Ev::Delete(p) => {
                for pods in self.replacements.values_mut() {
                    pods.remove(&p.key());
                }
            }
            Ev::Init | Ev::InitDone => {}
        }
    }

    fn note_pod(&mut self, p: &PodRow) {
        if p.node_name.as_deref() == Some(self.node.as_str()) || self.before.contains(p.uid()) {
            return;
        }
        let Some(w) = p.controller().and_then(|c| self.controllers.get(&c.uid)) else {
            return;
        };
        self.replacements.entry(w.clone()).or_default().insert(
            p.key(),
            Replacement {
                on_node: p.node_name.as_deref().map(str::to_string),
                phase: p.phase.as_str().to_string(),
                ready: p.ready,
            },
        );
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

    /// Applies one engine event.
    pub fn apply(&mut self, ev: DrainEvent, now: Timestamp) {
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
                        let fresh = PodProgress::planned(p, now);
                        match old.iter().find(|r| r.key == fresh.key) {
                            Some(r) if r.uid.is_empty() || r.uid == fresh.uid => PodProgress {
                                state: r.state.clone(),
                                since: r.since,
                                accepted: r.accepted,
                                ..fresh
                            },
                            _ => fresh,
                        }
                    })
                    .collect();
            }
            DrainEvent::Pod { pod, state, .. } => {
                match self.rows.iter_mut().find(|r| r.key == pod) {
                    Some(r) => r.set(state, now),
                    None => {
                        let mut r = PodProgress::bare(pod, PodState::Queued, now);
                        r.set(state, now);
                        self.rows.push(r);
                    }
                }
            }
            DrainEvent::Replacement {
                workload,
                pod,
                on_node,
                phase,
                ready,
                ..
            } => {
                let pods = self.replacements.entry(workload).or_default();
                if phase == "Deleted" {
                    pods.remove(&pod);
                } else {
                    pods.insert(
                        pod,
                        Replacement {
                            on_node,
                            phase,
                            ready,
                        },
                    );
                }
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
