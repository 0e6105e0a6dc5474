//! Controllers that make the simulated cluster behave like a real one.
//!
//! One task runs them all over a shared [`index::Index`] kept current from the store's change
//! feed: every change marks what it affects as dirty (a pod marks its owner, its PDBs and the
//! kubelet's interest in it), and each pass reconciles only what is dirty or whose timer fired.
//! An idle cluster costs nothing, whatever its size.

pub mod bootstrap;
mod changes;
pub mod containers;
pub mod daemonset;
pub mod declare;
mod deployment;
mod deployment_status;
pub mod disruption;
pub mod endpoints;
pub mod events;
pub mod gc;
pub mod index;
pub mod job;
pub mod kubelet;
mod kubelet_start;
pub mod leases;
mod lifecycle;
pub mod mirror;
pub mod nodes;
pub mod podspec;
pub mod replicaset;
pub mod rollout;
pub mod scheduler;
pub mod skeleton;
pub mod statefulset;
pub mod system;
pub mod util;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::oneshot;

use super::kinds::Kind;
use super::store::{Change, ObjKey, Store};
use index::Index;

pub use nodes::{
    UpgradeTarget, apiserver_version, default_upgrade_target, set_node_ready, start_upgrade,
    start_upgrade_with,
};

/// The running controllers; dropping this stops them.
///
/// They run on their own thread (with a current-thread runtime), so a long pass over a huge
/// cluster never stalls the API server's runtime.
pub struct Controllers {
    stop: Option<oneshot::Sender<()>>,
    /// Set once the controllers have indexed the store and started reacting.
    ready: Arc<Flag>,
    /// Set once the first pass (everything reconciled once) has ended.
    settled: Arc<Flag>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// A one-way flag another thread can wait for.
#[derive(Default)]
struct Flag(Mutex<bool>, Condvar);

impl Flag {
    fn set(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }

    /// False on timeout.
    fn wait(&self, timeout: std::time::Duration) -> bool {
        let set = self.0.lock().unwrap();
        let (set, _) = self.1.wait_timeout_while(set, timeout, |s| !*s).unwrap();
        *set
    }
}

impl Controllers {
    /// Waits until the controllers have indexed the store (at 150k pods that takes seconds
    /// after the API already answers); false on timeout.
    pub fn wait_ready(&self, timeout: std::time::Duration) -> bool {
        self.ready.wait(timeout)
    }

    /// Waits until the first pass has ended: every object reconciled once, every node's
    /// Lease written (at 150k pods, seconds of the simulator's CPU after `wait_ready`). A
    /// frozen clock allows no pass, so this waits for a step; false on timeout.
    pub fn wait_settled(&self, timeout: std::time::Duration) -> bool {
        self.settled.wait(timeout)
    }

    /// Stops the loop and waits for its thread, including dropping its index (seconds at
    /// 150k pods: a benchmark must not measure the next run while that happens).
    pub fn stop_and_join(mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Controllers {
    fn drop(&mut self) {
        // Dropping the sender wakes the loop, which returns.
        self.stop.take();
    }
}

/// Starts every controller against `store`. Changes made after this call are all seen.
pub fn spawn(store: Arc<Store>) -> Controllers {
    let rx = subscribe(&store);
    let (stop, stop_rx) = oneshot::channel();
    let ready = Arc::new(Flag::default());
    let settled = Arc::new(Flag::default());
    let (ready_tx, settled_tx) = (ready.clone(), settled.clone());
    let thread = std::thread::Builder::new()
        .name("sim-controllers".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("controller runtime");
            rt.block_on(async move {
                let mgr = Manager::new(store);
                ready_tx.set();
                mgr.run(rx, stop_rx, settled_tx).await;
            });
        })
        .expect("controller thread");
    Controllers {
        stop: Some(stop),
        ready,
        settled,
        thread: Some(thread),
    }
}

fn subscribe(store: &Store) -> broadcast::Receiver<Arc<Change>> {
    let rv = store.resource_version();
    match store.watch(Kind::Namespace, Some(rv)) {
        Ok(w) => w.live,
        Err(_) => store.watch(Kind::Namespace, None).unwrap().live,
    }
}

/// Something to do at a simulated instant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Timer {
    /// Containers of pod (key, uid) start.
    Start(ObjKey, String),
    /// Pod becomes Ready.
    Ready(ObjKey, String),
    /// Job pod completes.
    Complete(ObjKey, String),
    /// Terminating pod is removed.
    Remove(ObjKey, String),
    /// A container of a pod with a declared fate changes state (exits, restarts, pulls).
    Containers(ObjKey, String),
    /// A Job's back-off after a failed pod is over.
    Job(ObjKey),
    /// ReplicaSet re-evaluation (a pod has been Ready for `minReadySeconds`).
    ReplicaSet(ObjKey),
    /// PDB re-evaluation (a disruptedPods entry expires).
    Pdb(ObjKey),
    /// Node re-evaluation (a NoExecute toleration runs out).
    Node(String),
    /// A deleted mirror pod's kubelet syncs (and creates it again).
    Mirror(ObjKey),
}

/// Clusters with more pods than this skip the periodic full resync.
const RESYNC_MAX_PODS: usize = 5_000;
/// Simulated seconds between periodic resyncs (small clusters only).
const RESYNC_EVERY: f64 = 10.0;
/// Simulated seconds between retries of unschedulable pods when nothing changed (the real
/// scheduler's backoff is similar; a cluster change retries them at once).
const UNSCHEDULABLE_RETRY: f64 = 60.0;

pub(crate) struct Manager {
    store: Arc<Store>,
    index: Index,
    timers: BinaryHeap<Reverse<(i64, u64, Timer)>>,
    timer_seq: u64,
    /// Timers pending, to avoid scheduling one twice.
    armed: HashSet<Timer>,
    dirty: HashMap<Kind, HashSet<ObjKey>>,
    nodes_dirty: HashSet<String>,
    kubelet_dirty: HashSet<ObjKey>,
    retry_unschedulable: bool,
    unschedulable: HashSet<ObjKey>,
    /// Where the scheduler's next search for nodes starts (kube-scheduler's
    /// `nextStartNodeIndex`).
    next_node: usize,
    /// Last seen readiness per node (the kubelet reacts to transitions).
    node_ready: HashMap<String, bool>,
    /// Pods (uid) whose termination the kubelet has begun, with when they will be removed.
    killing: HashMap<String, Timestamp>,
    /// Pods (uid) whose deletion was written but not yet seen by their kubelet, with when it
    /// was written: a pass that places 100 replacements first would otherwise start their
    /// grace periods a quarter second late.
    deletions: HashMap<String, Timestamp>,
    /// Mirror pods deleted through the API, which their kubelets create again.
    mirrors: mirror::Gone,
    /// Pods (uid) with a declared fate: what the kubelet remembers of their containers.
    runs: HashMap<String, Vec<containers::Track>>,
    last_resync: Timestamp,
    last_unschedulable_retry: Timestamp,
    /// Garbage collection and namespace termination.
    gc: gc::GcState,
    /// Namespace defaults, endpoints, heartbeats.
    sys: system::SystemState,
}

fn millis(t: Timestamp) -> i64 {
    t.as_millisecond()
}

impl Manager {
    fn new(store: Arc<Store>) -> Self {
        let index = Index::load(&store);
        let gc = gc::GcState::load(&store);
        let sys = system::SystemState::load(&store);
        let now = store.clock().now();
        let mut m = Manager {
            store,
            index,
            timers: BinaryHeap::new(),
            timer_seq: 0,
            armed: HashSet::new(),
            dirty: HashMap::new(),
            nodes_dirty: HashSet::new(),
            kubelet_dirty: HashSet::new(),
            retry_unschedulable: true,
            unschedulable: HashSet::new(),
            next_node: 0,
            node_ready: HashMap::new(),
            killing: HashMap::new(),
            deletions: HashMap::new(),
            mirrors: HashMap::new(),
            runs: HashMap::new(),
            last_resync: now,
            last_unschedulable_retry: now,
            gc,
            sys,
        };
        m.mark_all();
        m.kubelet_dirty = m.index.pods.keys().cloned().collect();
        m
    }

    fn mark_all(&mut self) {
        for kind in [
            Kind::Deployment,
            Kind::ReplicaSet,
            Kind::StatefulSet,
            Kind::Job,
            Kind::DaemonSet,
            Kind::PodDisruptionBudget,
        ] {
            let keys: HashSet<ObjKey> = self.index.of(kind).map(|(k, _)| k.clone()).collect();
            self.dirty.entry(kind).or_default().extend(keys);
        }
        self.nodes_dirty.extend(self.index.nodes.keys().cloned());
    }

    async fn run(
        mut self,
        mut rx: broadcast::Receiver<Arc<Change>>,
        mut stop: oneshot::Receiver<()>,
        settled: Arc<Flag>,
    ) {
        let mut settled = Some(settled);
        loop {
            // A frozen clock (the demo's pause) stops reconciling; a step allows one pass.
            if self.store.clock().take_pass() {
                let started = std::time::Instant::now();
                self.pass();
                let took = started.elapsed();
                // A long pass holds every reaction behind it: worth a line when tuning.
                if took > Duration::from_millis(50) {
                    tracing::debug!(?took, first = settled.is_some(), "controllers' pass");
                }
                if let Some(s) = settled.take() {
                    s.set();
                }
            }
            let wait = self.next_wait();
            tokio::select! {
                _ = &mut stop => return,
                r = rx.recv() => match r {
                    Ok(c) => self.on_change(&c),
                    Err(RecvError::Lagged(_)) => self.resync(),
                    Err(RecvError::Closed) => return,
                },
                _ = tokio::time::sleep(wait) => {}
            }
            // Take everything already queued before reconciling, so bursts coalesce.
            for _ in 0..100_000 {
                match rx.try_recv() {
                    Ok(c) => self.on_change(&c),
                    Err(TryRecvError::Lagged(_)) => self.resync(),
                    Err(_) => break,
                }
            }
        }
    }

    /// Real time until the next timer or batch of heartbeats (bounded, so clock jumps and
    /// speed changes are noticed).
    fn next_wait(&self) -> Duration {
        let cap = Duration::from_millis(250);
        let clock = self.store.clock();
        let now = millis(clock.now());
        let until = |due: i64| clock.real_duration(Duration::from_millis((due - now) as u64));
        let timer = match self.timers.peek() {
            Some(Reverse((due, _, _))) if *due <= now => return Duration::ZERO,
            Some(Reverse((due, _, _))) => until(*due),
            None => cap,
        };
        // Heartbeats come at least a batch apart: waking for each would cost a pass per
        // renewal, waiting the full cap would renew a quarter second's worth in one run.
        let heartbeat = self
            .sys
            .leases
            .next_due()
            .map_or(cap, |due| until(due.max(now + leases::HEARTBEAT_BATCH_MS)));
        timer.min(heartbeat).min(cap)
    }

    /// Rebuilds the index after missing changes (the feed lagged).
    fn resync(&mut self) {
        self.index = Index::load(&self.store);
        self.mark_all();
        self.retry_unschedulable = true;
        self.kubelet_dirty = self.index.pods.keys().cloned().collect();
        // Changes were missed: the kubelets count from this pass instead.
        self.deletions.clear();
        self.system_resync();
    }

    fn dirty(&mut self, kind: Kind, k: ObjKey) {
        self.dirty.entry(kind).or_default().insert(k);
    }

    fn take_dirty(&mut self, kind: Kind) -> Vec<ObjKey> {
        let mut v: Vec<ObjKey> = self
            .dirty
            .get_mut(&kind)
            .map(|s| s.drain().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// Schedules `t` at simulated time `at` unless it is already pending.
    fn arm(&mut self, at: Timestamp, t: Timer) {
        if self.armed.insert(t.clone()) {
            self.timer_seq += 1;
            self.timers.push(Reverse((millis(at), self.timer_seq, t)));
        }
    }

    /// Schedules `t` at `at` even if it is pending already (an earlier time came up; the
    /// later firing finds nothing to do).
    fn arm_again(&mut self, at: Timestamp, t: Timer) {
        self.armed.insert(t.clone());
        self.timer_seq += 1;
        self.timers.push(Reverse((millis(at), self.timer_seq, t)));
    }

    fn fire_timers(&mut self) {
        let now = millis(self.store.clock().now());
        while let Some(Reverse((due, _, _))) = self.timers.peek() {
            if *due > now {
                break;
            }
            let Reverse((_, _, t)) = self.timers.pop().unwrap();
            self.armed.remove(&t);
            match t {
                Timer::Pdb(k) => self.dirty(Kind::PodDisruptionBudget, k),
                Timer::ReplicaSet(k) => self.dirty(Kind::ReplicaSet, k),
                Timer::Job(k) => self.dirty(Kind::Job, k),
                Timer::Node(n) => {
                    self.nodes_dirty.insert(n);
                }
                Timer::Mirror(k) => self.mirror_sync(k),
                t => self.kubelet_timer(t),
            }
        }
    }

    /// One reconcile pass over everything dirty.
    fn pass(&mut self) {
        let now = self.store.clock().now();
        if self.index.pods.len() <= RESYNC_MAX_PODS
            && now.duration_since(self.last_resync).as_secs_f64() >= RESYNC_EVERY
        {
            self.last_resync = now;
            self.mark_all();
        }
        if now
            .duration_since(self.last_unschedulable_retry)
            .as_secs_f64()
            >= UNSCHEDULABLE_RETRY
        {
            self.last_unschedulable_retry = now;
            self.retry_unschedulable = true;
        }
        self.gc_sync();
        for n in std::mem::take(&mut self.nodes_dirty) {
            self.node_sync(&n);
        }
        for k in self.take_dirty(Kind::Deployment) {
            self.deployment_sync(&k);
        }
        for k in self.take_dirty(Kind::ReplicaSet) {
            self.replicaset_sync(&k);
        }
        // Deployments whose ReplicaSets' status just changed: in the same pass, so a pod's
        // readiness reaches the Deployment's status within one step.
        for k in self.take_dirty(Kind::Deployment) {
            self.deployment_sync(&k);
        }
        // And the ReplicaSets those scaled: a pass ends with every ReplicaSet's pods matching
        // its scale, so the next pass's rollout step counts pods that really exist (a new
        // ReplicaSet must not grow beside an old one's surplus, past maxSurge).
        for k in self.take_dirty(Kind::ReplicaSet) {
            self.replicaset_sync(&k);
        }
        for k in self.take_dirty(Kind::StatefulSet) {
            self.statefulset_sync(&k);
        }
        for k in self.take_dirty(Kind::Job) {
            self.job_sync(&k);
        }
        for k in self.take_dirty(Kind::DaemonSet) {
            self.daemonset_sync(&k);
        }
        self.schedule();
        self.fire_timers();
        let pods: Vec<ObjKey> = self.kubelet_dirty.drain().collect();
        for k in pods {
            self.kubelet_sync(&k);
        }
        for k in self.take_dirty(Kind::PodDisruptionBudget) {
            self.pdb_sync(&k);
        }
        self.system_sync();
    }

    /// Deletes a pod the way the API does: with the pod's grace period (deletionTimestamp),
    /// or at once for unbound pods or a zero grace period.
    fn delete_pod(&mut self, pod: &serde_json::Value) {
        graceful_delete(&self.store, pod);
    }
}

/// Deletes a pod gracefully, as `DELETE` with the pod's own grace period would.
pub fn graceful_delete(store: &Store, pod: &serde_json::Value) {
    let (ns, name) = util::key_of(pod);
    let grace = pod["spec"]["terminationGracePeriodSeconds"]
        .as_i64()
        .unwrap_or(30);
    if grace <= 0 || pod["spec"]["nodeName"].is_null() {
        let _ = store.delete(Kind::Pod, &ns, &name);
        return;
    }
    let at = util::fmt(util::add_secs(store.clock().now(), grace as f64));
    let uid = pod["metadata"]["uid"].clone();
    let _ = store.update(Kind::Pod, &ns, &name, |p| {
        if p["metadata"]["uid"] != uid || util::is_terminating(p) {
            return Ok(());
        }
        p["metadata"]["deletionTimestamp"] = serde_json::json!(at);
        p["metadata"]["deletionGracePeriodSeconds"] = serde_json::json!(grace);
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;
    use crate::sim::clock::SimClock;

    #[test]
    fn settled_means_the_first_pass_has_ended() {
        let clock = Arc::new(SimClock::new(1.0));
        clock.freeze();
        let store = Store::new(clock.clone(), 1_000);
        let node = json!({"metadata": {"name": "node-0", "uid": "u0"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        store.create(Kind::Node, node).unwrap();
        let c = spawn(store.clone());
        assert!(c.wait_ready(Duration::from_secs(30)));
        // The loop has come round and been refused its first pass by the frozen clock.
        let deadline = Instant::now() + Duration::from_secs(30);
        while clock.refused_passes() == 0 {
            assert!(Instant::now() < deadline, "the loop never asked for a pass");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!c.wait_settled(Duration::ZERO), "settled before any pass");
        assert!(store.list(Kind::Lease, None).1.is_empty());

        clock.step(Duration::from_secs(1));
        assert!(c.wait_settled(Duration::from_secs(30)));
        assert_eq!(
            store.list(Kind::Lease, None).1.len(),
            1,
            "the pass wrote it"
        );
        c.stop_and_join();
    }
}
