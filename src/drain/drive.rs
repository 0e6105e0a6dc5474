//! The eviction and wait phase of a drain: evictions with bounded concurrency, one pod watch
//! (the node's pods going, replacements arriving), the node watch, timeout and cancel.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams, WatchParams};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::{self, JoinError, JoinSet};

use super::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState};
use super::evict::{self, Ended, Target};
use super::exec::{MAX_IN_FLIGHT, Run, Started, cancelled, deadline_reached, unless_stopped};
use super::feed::{self, FeedEvent, Relist};
use super::fetch;
use super::journal::Action;
use super::live::{LivePods, NodeSignal};
use super::options::format_go_duration;
use super::recheck::{RECHECK_EVERY, overdue, recheck, verify_every, verify_listed};
use super::replacements::Replacements;
use crate::cluster::liveness::Liveness;
use crate::cluster::rows::{PdbRow, PodRow};

/// After a pod's grace period, how long to trust the watch alone before one GET checks it.
const RECHECK_SLACK: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Evicting,
    Waiting,
    Done,
}

pub(super) struct Tracked {
    pub(super) target: Target,
    pub(super) uid: String,
    /// UID of its controller (to spot its replacement).
    pub(super) controller: Option<String>,
    pub(super) grace: i64,
    pub(super) step: Step,
    pub(super) ok: bool,
    /// When to double-check with a GET that a terminating pod is gone (the watch is the
    /// primary signal; this only catches events a watch lost).
    pub(super) recheck_at: Option<tokio::time::Instant>,
}

/// What an eviction task returned: its pod and how it ended. A task that panicked (or was
/// aborted) fails its pod with the reason, found through the task's id, so no pod is left
/// waiting for a task that is gone. `None` only for a task id it does not know.
pub(super) fn joined(
    res: Result<(task::Id, (String, Ended)), JoinError>,
    owners: &HashMap<task::Id, String>,
) -> Option<(String, Ended)> {
    let e = match res {
        Ok((_, done)) => return Some(done),
        Err(e) => e,
    };
    let key = owners.get(&e.id())?.clone();
    let why = if e.is_panic() {
        let payload = e.into_panic();
        let text = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        format!("eviction task panicked: {text}")
    } else {
        "eviction task was stopped".to_string()
    };
    let (ns, name) = key.split_once('/').unwrap_or(("", &key));
    let reason = format!("error when evicting pods/\"{name}\" -n \"{ns}\": {why}");
    Some((key, Ended::Failed(reason)))
}

impl Run {
    /// The one pod watch of the drain: every pod, from the version of the plan's listing of
    /// the node's pods. It shows the node's pods going and their replacements arriving
    /// elsewhere, with no listing beyond the plan's (after a 410, only the node's pods are
    /// listed again).
    fn pod_feed(&self, rv: String) -> BoxStream<'static, FeedEvent<PodRow>> {
        let api = Api::<PodRow>::all(self.client.clone());
        let fields = format!("spec.nodeName={}", self.node);
        // Without a version the watch would start by sending every pod in the cluster.
        let params = if rv.is_empty() {
            WatchParams::default().fields(&fields)
        } else {
            WatchParams::default()
        };
        let relist_api = api.clone();
        let relist: Relist<PodRow> = Box::new(move || {
            let (api, lp) = (relist_api.clone(), ListParams::default().fields(&fields));
            Box::pin(async move { fetch::list_all(&api, lp).await })
        });
        feed::feed(api, params, rv, relist)
    }

    /// PDBs from the version of the plan's listing, watched once an eviction is refused: a
    /// PDB that starts allowing disruptions wakes the waiting evictions.
    fn pdb_feed(&self, rv: String) -> BoxStream<'static, FeedEvent<PdbRow>> {
        let api = Api::<PdbRow>::all(self.client.clone());
        let relist_api = api.clone();
        let relist: Relist<PdbRow> = Box::new(move || {
            let api = relist_api.clone();
            Box::pin(async move { fetch::list_all(&api, ListParams::default()).await })
        });
        feed::feed(api, WatchParams::default(), rv, relist)
    }

    /// Reports every tracked pod queued and starts one eviction (or delete) task per pod;
    /// returns the tasks and which pod each is for (to fail that pod if its task panics).
    fn spawn_evictions(
        &self,
        tracked: &HashMap<String, Tracked>,
        slots: &Arc<Semaphore>,
        pdb_changed: &Arc<Notify>,
        refused: &Arc<Notify>,
    ) -> (JoinSet<(String, Ended)>, HashMap<task::Id, String>) {
        let delete = self.opts.disable_eviction;
        let mut tasks: JoinSet<(String, Ended)> = JoinSet::new();
        let mut owners: HashMap<task::Id, String> = HashMap::new();
        let mut keys: Vec<&String> = tracked.keys().collect();
        keys.sort();
        for key in keys {
            self.pod(key.clone(), PodState::Queued);
        }
        for (key, t) in tracked {
            let (client, target, slots, sink, node, key) = (
                self.client.clone(),
                t.target.clone(),
                slots.clone(),
                self.sink.clone(),
                self.node.clone(),
                key.clone(),
            );
            let grace = self.opts.grace_period;
            let wake = pdb_changed.clone();
            let refused = refused.clone();
            let owner = key.clone();
            let journal = self.journal.clone();
            let spawned = tasks.spawn(async move {
                // The intent is on disk before the first request: a kill mid-request leaves
                // a line for every eviction the server may have accepted.
                let action = if delete {
                    Action::Delete
                } else {
                    Action::Evict
                };
                let _ = journal
                    .record_durable(&node, action, "requesting", Some(&key), None)
                    .await;
                let report = |state: PodState| {
                    if matches!(state, PodState::BlockedByPdb { .. }) {
                        refused.notify_one();
                    }
                    sink(DrainEvent::Pod {
                        node: node.clone(),
                        pod: key.clone(),
                        state,
                    })
                };
                let ended = evict::run(client, target, grace, delete, slots, wake, report).await;
                (key, ended)
            });
            owners.insert(spawned.id(), owner);
        }
        (tasks, owners)
    }

    /// Marks done the waited-for pods that the pod watch (or a re-check) says are gone.
    fn mark_gone(&self, tracked: &mut HashMap<String, Tracked>, live: &LivePods) {
        let delete = self.opts.disable_eviction;
        let gone: Vec<String> = tracked
            .iter()
            .filter(|(k, t)| t.step == Step::Waiting && (t.ok || live.gone(k, &t.uid)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            let t = tracked.get_mut(&k).expect("tracked");
            t.step = Step::Done;
            t.ok = true;
            let (action, outcome, how) = if delete {
                (Action::Delete, "deleted", GoneHow::Deleted)
            } else {
                (Action::Evict, "evicted", GoneHow::Evicted)
            };
            self.journal
                .record(&self.node, action, outcome, Some(&k), None);
            self.pod(k, PodState::Gone { how });
        }
    }

    /// Records how `key`'s eviction task ended: accepted (now waited for), already gone, or
    /// failed (`errors` gets the reason).
    fn on_ended(&self, t: &mut Tracked, key: String, ended: Ended, errors: &mut Vec<String>) {
        let action = if self.opts.disable_eviction {
            Action::Delete
        } else {
            Action::Evict
        };
        let node = &self.node;
        match ended {
            Ended::Accepted => {
                t.step = Step::Waiting;
                t.recheck_at = Some(
                    tokio::time::Instant::now()
                        + Duration::from_secs(t.grace.max(0) as u64)
                        + RECHECK_SLACK,
                );
                let deadline = Timestamp::now()
                    .checked_add(SignedDuration::from_secs(t.grace))
                    .ok();
                self.journal
                    .record(node, action, "accepted", Some(&key), None);
                self.pod(
                    key,
                    PodState::Terminating {
                        grace_deadline: deadline,
                    },
                );
            }
            Ended::AlreadyGone => {
                t.step = Step::Done;
                t.ok = true;
                self.journal
                    .record(node, action, "already-gone", Some(&key), None);
                self.pod(
                    key,
                    PodState::Gone {
                        how: GoneHow::AlreadyGone,
                    },
                );
            }
            Ended::Failed(reason) => {
                t.step = Step::Done;
                errors.push(reason.clone());
                self.journal
                    .record(node, action, "failed", Some(&key), Some(&reason));
                self.pod(key, PodState::Failed { reason });
            }
        }
    }

    /// `--skip-wait-for-delete-timeout`: pods whose deletion started longer ago than that are
    /// no longer waited for.
    fn skip_old_deletions(&self, tracked: &mut HashMap<String, Tracked>, live: &LivePods) {
        let Some(limit) = self.opts.skip_wait_for_delete_timeout else {
            return;
        };
        let now = Timestamp::now();
        for (k, t) in tracked.iter_mut().filter(|(_, t)| t.step == Step::Waiting) {
            let old = live
                .deletion(k)
                .is_some_and(|d| now.duration_since(d).as_secs() > limit as i64);
            if old {
                t.step = Step::Done;
                t.ok = true;
                self.pod(k.clone(), PodState::SkippedWait { seconds: limit });
            }
        }
    }

    /// At the deadline: every pod not done fails with kubectl's words (into `errors`);
    /// returns the timeout as kubectl writes it.
    fn time_out_pods(
        &self,
        tracked: &HashMap<String, Tracked>,
        errors: &mut Vec<String>,
    ) -> String {
        let d = format_go_duration(self.opts.timeout.unwrap_or_default());
        let mut keys: Vec<&String> = tracked.keys().collect();
        keys.sort();
        for k in keys {
            let t = &tracked[k];
            let reason = match t.step {
                Step::Done => continue,
                Step::Evicting => format!(
                    "error when evicting pods/\"{}\" -n \"{}\": global timeout reached: {d}",
                    t.target.name, t.target.namespace
                ),
                Step::Waiting => format!(
                    "error when waiting for pod \"{}\" in namespace \"{}\" to terminate: global timeout reached: {d}",
                    t.target.name, t.target.namespace
                ),
            };
            errors.push(reason.clone());
            self.pod(k.clone(), PodState::Failed { reason });
        }
        d
    }

    /// A half-open or frozen watch says nothing at all: while it is stale, one list of the
    /// node's pods (at most every few seconds, one round at a time) tells which of the
    /// waited-for ones are gone.
    fn verify_if_stale(
        &self,
        tracked: &HashMap<String, Tracked>,
        pod_live: &Liveness,
        next_verify: &mut tokio::time::Instant,
        rechecks: &mut JoinSet<Vec<String>>,
    ) {
        let now = tokio::time::Instant::now();
        if !(pod_live.is_stale(now) && rechecks.is_empty() && now >= *next_verify) {
            return;
        }
        *next_verify = now + verify_every(pod_live.interval());
        let waiting: Vec<(String, String)> = tracked
            .iter()
            .filter(|(_, t)| t.step == Step::Waiting && !t.ok)
            .map(|(k, t)| (k.clone(), t.uid.clone()))
            .collect();
        if !waiting.is_empty() {
            let within = pod_live
                .interval()
                .clamp(Duration::from_secs(1), RECHECK_EVERY);
            rechecks.spawn(verify_listed(
                self.client.clone(),
                self.node.clone(),
                waiting,
                within,
            ));
        }
    }

    /// Every pod done: "drained" only if a fresh node-scoped list agrees (verify.rs); cancel
    /// and the deadline are answered during that list too.
    async fn conclude(
        &self,
        tracked: &HashMap<String, Tracked>,
        mut errors: Vec<String>,
        cancel: &mut watch::Receiver<bool>,
        deadline: Option<tokio::time::Instant>,
    ) -> DrainOutcome {
        let node = &self.node;
        let pending = pending_names(tracked);
        match unless_stopped(self.confirm_drained(&errors), cancel, deadline).await {
            Ok(more) => errors.extend(more),
            Err(stop) => {
                return self
                    .stopped(stop, "confirming the node is empty", true)
                    .await;
            }
        }
        if errors.is_empty() {
            self.finish(
                NodeState::Drained,
                errors,
                pending,
                format!("node/{node} drained"),
                true,
            )
            .await
        } else {
            let msg = self.left_cordoned();
            self.finish(NodeState::Failed, errors, pending, msg, true)
                .await
        }
    }

    /// Evicts the tracked pods and waits until each is gone, the deadline passes, the drain
    /// is cancelled or the node goes away.
    pub(super) async fn drive(
        self,
        mut tracked: HashMap<String, Tracked>,
        started: Started,
        deadline: Option<tokio::time::Instant>,
        mut cancel: watch::Receiver<bool>,
    ) -> DrainOutcome {
        // Long: one `select!` loop over the drain's event sources, whose arms share its state.
        let node = self.node.clone();
        let delete = self.opts.disable_eviction;
        let Started {
            mut nodes,
            mut node_watch,
            pods: listed,
            versions,
        } = started;
        // Started before the first eviction, from the listing's version: no change is missed.
        let mut pods = self.pod_feed(versions.pods);
        let mut live = LivePods::new(&node, &listed);
        drop(listed);
        let evicted: Vec<(String, String)> = tracked
            .iter()
            .filter_map(|(k, t)| Some((k.clone(), t.controller.clone()?)))
            .collect();
        let mut repl = Replacements::new(&node, &evicted);
        let mut watch_trouble = false;
        // The pod watch's liveness: while it is stale (a bookmark is late), the pods the
        // drain still waits for are listed every few seconds instead of trusted to it.
        let mut pod_live = Liveness::new(tokio::time::Instant::now());
        let mut next_verify = tokio::time::Instant::now();
        self.state(NodeState::Evicting);
        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let pdb_changed = Arc::new(Notify::new());
        // Set by the first refused eviction; only then is the PDB watch worth a request.
        let refused = Arc::new(Notify::new());
        let mut pdb_rv = (!delete).then_some(versions.pdbs);
        let mut pdbs: BoxStream<'static, FeedEvent<PdbRow>> = futures::stream::pending().boxed();
        // At most one round of re-check GETs at a time, off the loop (dropped with it).
        let mut rechecks: JoinSet<Vec<String>> = JoinSet::new();
        let (mut tasks, owners) = self.spawn_evictions(&tracked, &slots, &pdb_changed, &refused);
        let mut errors: Vec<String> = Vec::new();
        let mut waiting_reported = false;
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            self.mark_gone(&mut tracked, &live);
            if tracked.values().all(|t| t.step == Step::Done) {
                break;
            }
            if !waiting_reported && tracked.values().all(|t| t.step != Step::Evicting) {
                waiting_reported = true;
                self.state(NodeState::Waiting);
            }
            let timeout = deadline_reached(deadline);
            tokio::select! {
                Some(res) = tasks.join_next_with_id() => {
                    let Some((key, ended)) = joined(res, &owners) else { continue };
                    let t = tracked.get_mut(&key).expect("tracked");
                    self.on_ended(t, key, ended, &mut errors);
                }
                Some(ev) = pods.next() => {
                    // The feed retries with backoff; a transient error is not fatal.
                    match &ev {
                        FeedEvent::Failed(e) => {
                            watch_trouble = true;
                            self.notice(format!("watching pods on node/{node} failed, retrying: {e}"));
                        }
                        FeedEvent::Bookmark => pod_live.bookmark(tokio::time::Instant::now()),
                        _ => pod_live.heard(tokio::time::Instant::now()),
                    }
                    live.apply(&ev);
                    if let Some(e) = repl.on_event(&ev) {
                        self.emit(e);
                    }
                }
                _ = refused.notified(), if pdb_rv.is_some() => {
                    pdbs = self.pdb_feed(pdb_rv.take().unwrap_or_default());
                }
                Some(ev) = pdbs.next() => {
                    let allows = match &ev {
                        FeedEvent::Added(p) | FeedEvent::Modified(p) => p.disruptions_allowed > 0,
                        FeedEvent::Relisted(v) => v.iter().any(|p| p.disruptions_allowed > 0),
                        _ => false,
                    };
                    if allows {
                        pdb_changed.notify_waiters();
                    }
                }
                Some(ev) = nodes.next() => match node_watch.apply(&ev) {
                    NodeSignal::Deleted => {
                        tasks.abort_all();
                        let pending = pending_names(&tracked);
                        let msg = format!("node {node} was deleted during the drain");
                        return self.finish(NodeState::Failed, vec![msg.clone()], pending, msg, false).await;
                    }
                    NodeSignal::Replaced(why) => {
                        tasks.abort_all();
                        let pending = pending_names(&tracked);
                        let msg = super::node_ops::replaced_text(&node, &why);
                        return self.finish(NodeState::Failed, vec![msg.clone()], pending, msg, false).await;
                    }
                    NodeSignal::Uncordoned => {
                        self.notice(format!("node/{node} was uncordoned by someone else during the drain"));
                    }
                    NodeSignal::Nothing => if let FeedEvent::Failed(e) = &ev {
                        self.notice(format!("watching node/{node} failed, retrying: {e}"));
                    },
                },
                Some(res) = rechecks.join_next() => {
                    for k in res.unwrap_or_default() {
                        if let Some(t) = tracked.get_mut(&k).filter(|t| t.step == Step::Waiting) {
                            t.recheck_at = None;
                            t.ok = true;
                        }
                    }
                }
                _ = tick.tick() => {
                    // The feed resumes where it stopped, so a healthy watch loses nothing: GETs
                    // only after it failed (a slow server must not cost one GET per pod).
                    self.verify_if_stale(&tracked, &pod_live, &mut next_verify, &mut rechecks);
                    if watch_trouble && rechecks.is_empty() {
                        let due = overdue(&mut tracked);
                        if !due.is_empty() {
                            rechecks.spawn(recheck(self.client.clone(), due));
                        }
                    }
                    self.skip_old_deletions(&mut tracked, &live);
                }
                _ = timeout => {
                    tasks.abort_all();
                    let d = self.time_out_pods(&tracked, &mut errors);
                    let pending = pending_names(&tracked);
                    let msg = format!("drain of node/{node} timed out after {d}; {}", self.left_cordoned());
                    return self.finish(NodeState::TimedOut, errors, pending, msg, true).await;
                }
                _ = cancelled(&mut cancel) => {
                    tasks.abort_all();
                    let pending = pending_names(&tracked);
                    let msg = format!("drain of node/{node} cancelled; {}", self.left_cordoned());
                    errors.push("drain cancelled".into());
                    return self.finish(NodeState::Cancelled, errors, pending, msg, true).await;
                }
            }
        }
        self.conclude(&tracked, errors, &mut cancel, deadline).await
    }
}

/// Names (without namespace, as kubectl prints them) of pods not known to be gone.
fn pending_names(tracked: &HashMap<String, Tracked>) -> Vec<String> {
    let mut v: Vec<String> = tracked
        .values()
        .filter(|t| !t.ok)
        .map(|t| t.target.name.clone())
        .collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_eviction_task_fails_its_pod() {
        let mut tasks: JoinSet<(String, Ended)> = JoinSet::new();
        let mut owners = HashMap::new();
        let h = tasks.spawn(async { panic!("boom in the eviction") });
        owners.insert(h.id(), "shop/checkout-1".to_string());
        let h = tasks.spawn(async { ("shop/cart-1".to_string(), Ended::Accepted) });
        owners.insert(h.id(), "shop/cart-1".to_string());
        let mut got = Vec::new();
        while let Some(res) = tasks.join_next_with_id().await {
            got.push(joined(res, &owners).expect("a known task"));
        }
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got[0], ("shop/cart-1".to_string(), Ended::Accepted));
        assert_eq!(got[1].0, "shop/checkout-1");
        assert_eq!(
            got[1].1,
            Ended::Failed(
                "error when evicting pods/\"checkout-1\" -n \"shop\": eviction task panicked: boom in the eviction"
                    .into()
            )
        );
    }

    #[tokio::test]
    async fn an_aborted_eviction_task_fails_its_pod_too() {
        let mut tasks: JoinSet<(String, Ended)> = JoinSet::new();
        let h = tasks.spawn(std::future::pending());
        let owners = HashMap::from([(h.id(), "default/web-1".to_string())]);
        h.abort();
        let res = tasks.join_next_with_id().await.unwrap();
        let (key, ended) = joined(res, &owners).unwrap();
        assert_eq!(key, "default/web-1");
        assert!(
            matches!(&ended, Ended::Failed(r) if r.ends_with("eviction task was stopped")),
            "{ended:?}"
        );
    }
}
