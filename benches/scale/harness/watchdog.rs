//! The campaign benchmark's referee: follows every pod change in the simulator's store (its
//! own watch feed, not the API, so it costs no request) and keeps, per PodDisruptionBudget,
//! the number of healthy pods (Ready, not terminating), and per pod the time it spent Pending.
//! A PDB below its desired health at any change is a violation; each episode counts once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kubedrain::sim::Kind;
use kubedrain::sim::store::{ChangeType, Store};
use serde_json::Value;
use tokio::sync::broadcast::error::TryRecvError;

use super::*;

/// What the watchdog saw between start and stop.
#[derive(Debug, Clone, Default)]
pub(crate) struct WatchFigures {
    /// Episodes of a PDB with fewer healthy pods than desired.
    pub(crate) violations: usize,
    /// Episodes of a PDB exactly at its desired health (its one disruption in use): proof
    /// that the budgets constrained the run.
    pub(crate) at_limit: usize,
    /// The first few violations, in words.
    pub(crate) violation_notes: Vec<String>,
    /// Seconds (wall clock) summed over every pod that was Pending.
    pub(crate) pending_s: f64,
    /// Pods seen Pending at least once.
    pub(crate) pending_pods: usize,
    /// The longest a single pod was Pending, seconds.
    pub(crate) max_pending_s: f64,
    /// Pods still Pending when the watchdog stopped.
    pub(crate) still_pending: usize,
    /// PDBs already below their desired health when the watchdog started.
    pub(crate) below_at_start: usize,
    /// PDBs watched.
    pub(crate) pdbs: usize,
    /// Pod changes processed.
    pub(crate) changes: u64,
    /// Times the feed overflowed and the state was rebuilt from a list (moments may be lost).
    pub(crate) resyncs: u64,
}

/// One budget: whom it selects and how many of them must stay healthy.
struct Budget {
    name: String,
    namespace: String,
    selector: serde_json::Map<String, Value>,
    desired: i64,
    healthy: i64,
    violated: bool,
    at_limit: bool,
}

struct PodState {
    budgets: Vec<usize>,
    healthy: bool,
    pending_since: Option<Instant>,
}

struct State {
    budgets: Vec<Budget>,
    pods: HashMap<(String, String), PodState>,
    figures: WatchFigures,
    /// Pending seconds per pod (summed when a pod is Pending more than once).
    pending: BTreeMap<(String, String), f64>,
}

fn key(p: &Value) -> (String, String) {
    key_of(p)
}

fn is_healthy(p: &Value) -> bool {
    p["metadata"]["deletionTimestamp"].is_null()
        && p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn is_pending(p: &Value) -> bool {
    p["status"]["phase"] == "Pending" || p["status"]["phase"].is_null()
}

impl State {
    /// Budgets from the store's PDBs; desired health from `minAvailable`, or the selected
    /// pods minus `maxUnavailable` (integers: the generated cluster has no percentages).
    /// Also returns the resourceVersion of the pod list it started from.
    fn new(store: &Store) -> (State, u64) {
        let (_, pdbs) = store.list(Kind::PodDisruptionBudget, None);
        let (rv, pods) = store.list(Kind::Pod, None);
        let mut budgets: Vec<Budget> = pdbs
            .iter()
            .map(|b| Budget {
                name: format!(
                    "{}/{}",
                    b["metadata"]["namespace"].as_str().unwrap_or(""),
                    b["metadata"]["name"].as_str().unwrap_or("")
                ),
                namespace: b["metadata"]["namespace"].as_str().unwrap_or("").into(),
                selector: b["spec"]["selector"]["matchLabels"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
                desired: b["spec"]["minAvailable"].as_i64().unwrap_or(-1),
                healthy: 0,
                violated: false,
                at_limit: false,
            })
            .collect();
        for (b, pdb) in budgets.iter_mut().zip(pdbs.iter()) {
            if b.desired < 0 {
                let selected = pods.iter().filter(|p| selects(b, p)).count() as i64;
                let max = pdb["spec"]["maxUnavailable"].as_i64().unwrap_or(0);
                b.desired = selected - max;
            }
        }
        let mut s = State {
            figures: WatchFigures {
                pdbs: budgets.len(),
                ..Default::default()
            },
            budgets,
            pods: HashMap::new(),
            pending: BTreeMap::new(),
        };
        for p in pods.iter() {
            s.apply(p, false);
        }
        // Counting starts now: a budget already below its desired health was not broken by
        // this run (it is reported apart).
        s.figures.violations = 0;
        s.figures.at_limit = 0;
        s.figures.violation_notes.clear();
        for b in &mut s.budgets {
            b.violated = b.healthy < b.desired;
            b.at_limit = b.healthy == b.desired;
            s.figures.below_at_start += usize::from(b.violated);
        }
        (s, rv)
    }

    /// Rebuilds the pod state from a list after the feed overflowed (Pending clocks kept).
    fn resync(&mut self, store: &Store) {
        self.figures.resyncs += 1;
        let (_, pods) = store.list(Kind::Pod, None);
        let live: std::collections::HashSet<(String, String)> =
            pods.iter().map(|p| key(p)).collect();
        let gone: Vec<(String, String)> = self
            .pods
            .keys()
            .filter(|k| !live.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            self.remove(&k);
        }
        for p in pods.iter() {
            self.apply(p, false);
        }
    }

    fn apply(&mut self, p: &Value, deleted: bool) {
        let k = key(p);
        if deleted {
            self.remove(&k);
            return;
        }
        let now = Instant::now();
        let healthy = is_healthy(p);
        let pending = is_pending(p) && p["metadata"]["deletionTimestamp"].is_null();
        let entry = self.pods.entry(k.clone()).or_insert_with(|| PodState {
            budgets: Vec::new(),
            healthy: false,
            pending_since: None,
        });
        if entry.budgets.is_empty() {
            entry.budgets = self
                .budgets
                .iter()
                .enumerate()
                .filter(|(_, b)| selects(b, p))
                .map(|(i, _)| i)
                .collect();
        }
        let was_healthy = entry.healthy;
        entry.healthy = healthy;
        let budgets = entry.budgets.clone();
        match (entry.pending_since, pending) {
            (None, true) => entry.pending_since = Some(now),
            (Some(t), false) => {
                entry.pending_since = None;
                *self.pending.entry(k.clone()).or_default() += now.duration_since(t).as_secs_f64();
            }
            _ => {}
        }
        if was_healthy != healthy {
            let d = if healthy { 1 } else { -1 };
            for i in budgets {
                self.budgets[i].healthy += d;
                self.check(i, &k);
            }
        }
    }

    fn remove(&mut self, k: &(String, String)) {
        let Some(st) = self.pods.remove(k) else {
            return;
        };
        if let Some(t) = st.pending_since {
            *self.pending.entry(k.clone()).or_default() += t.elapsed().as_secs_f64();
        }
        if st.healthy {
            for i in st.budgets {
                self.budgets[i].healthy -= 1;
                self.check(i, k);
            }
        }
    }

    fn check(&mut self, i: usize, by: &(String, String)) {
        let b = &mut self.budgets[i];
        let below = b.healthy < b.desired;
        if below && !b.violated {
            self.figures.violations += 1;
            if self.figures.violation_notes.len() < 5 {
                self.figures.violation_notes.push(format!(
                    "{}: {} healthy < desired {} (after a change of pod {}/{})",
                    b.name, b.healthy, b.desired, by.0, by.1
                ));
            }
        }
        b.violated = below;
        let limit = b.healthy == b.desired;
        if limit && !b.at_limit {
            self.figures.at_limit += 1;
        }
        b.at_limit = limit;
    }

    fn finish(mut self) -> WatchFigures {
        let now = Instant::now();
        for (k, st) in &self.pods {
            if let Some(t) = st.pending_since {
                self.figures.still_pending += 1;
                *self.pending.entry(k.clone()).or_default() += now.duration_since(t).as_secs_f64();
            }
        }
        self.figures.pending_pods = self.pending.len();
        self.figures.pending_s = self.pending.values().sum();
        self.figures.max_pending_s = self.pending.values().copied().fold(0.0, f64::max);
        self.figures
    }
}

fn selects(b: &Budget, p: &Value) -> bool {
    p["metadata"]["namespace"] == b.namespace.as_str()
        && !b.selector.is_empty()
        && b.selector
            .iter()
            .all(|(k, v)| &p["metadata"]["labels"][k] == v)
}

/// The watchdog thread; [`Watchdog::stop`] returns what it saw.
pub(crate) struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<WatchFigures>,
}

impl Watchdog {
    /// Starts following `store`'s pods (the PDBs are read once, now); every change after
    /// this call returns is seen.
    pub(crate) fn start(store: Arc<Store>) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        // Subscribed before the list, so no change falls between the two.
        let w = store.watch(Kind::Pod, Some(store.resource_version()));
        let (state, since) = State::new(&store);
        let thread = std::thread::spawn(move || {
            let mut state = state;
            let Ok(w) = w else {
                return state.finish();
            };
            let mut live = w.live;
            loop {
                match live.try_recv() {
                    Ok(c) if c.kind == Kind::Pod && c.rv > since => {
                        state.figures.changes += 1;
                        state.apply(&c.value(), c.change == ChangeType::Deleted);
                    }
                    Ok(_) => {}
                    Err(TryRecvError::Lagged(_)) => state.resync(&store),
                    Err(TryRecvError::Closed) => break,
                    Err(TryRecvError::Empty) => {
                        if s.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            }
            state.finish()
        });
        Watchdog { stop, thread }
    }

    /// Stops after the changes already made are processed.
    pub(crate) fn stop(self) -> WatchFigures {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}
