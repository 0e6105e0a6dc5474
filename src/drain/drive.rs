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
use tokio::task::JoinSet;

use super::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState};
use super::evict::{self, Ended, Target};
use super::exec::{MAX_IN_FLIGHT, Run, Started, cancelled};
use super::feed::{self, FeedEvent, Relist};
use super::fetch;
use super::journal::Action;
use super::live::{LivePods, NodeSignal};
use super::options::format_go_duration;
use super::replacements::Replacements;
use crate::cluster::rows::{PdbRow, PodRow};

/// After a pod's grace period, how long to trust the watch alone before one GET checks it.
const RECHECK_SLACK: Duration = Duration::from_secs(5);
/// Between two such checks of the same pod.
const RECHECK_EVERY: Duration = Duration::from_secs(10);

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

impl Run {
    /// GETs terminating pods that are overdue (past grace + slack) to catch a deletion the
    /// watch missed; found gone (404 or new UID) → back to `Waiting` with `recheck_at` cleared
    /// so the main loop reports them. Errors are ignored: the next round retries.
    async fn recheck_overdue(&self, tracked: &mut HashMap<String, Tracked>) {
        let now = tokio::time::Instant::now();
        let overdue = tracked
            .values_mut()
            .filter(|t| t.step == Step::Waiting && t.recheck_at.is_some_and(|r| r <= now))
            .take(MAX_IN_FLIGHT);
        for t in overdue {
            t.recheck_at = Some(now + RECHECK_EVERY);
            let api = Api::<PodRow>::namespaced(self.client.clone(), &t.target.namespace);
            let got = tokio::time::timeout(RECHECK_EVERY, api.get_opt(&t.target.name)).await;
            if let Ok(Ok(p)) = got
                && p.is_none_or(|p| p.uid() != t.uid)
            {
                t.recheck_at = None;
                t.ok = true;
            }
        }
    }

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

    pub(super) async fn drive(
        self,
        mut tracked: HashMap<String, Tracked>,
        started: Started,
        deadline: Option<tokio::time::Instant>,
        mut cancel: watch::Receiver<bool>,
    ) -> DrainOutcome {
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
        self.state(NodeState::Evicting);
        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let pdb_changed = Arc::new(Notify::new());
        // Set by the first refused eviction; only then is the PDB watch worth a request.
        let refused = Arc::new(Notify::new());
        let mut pdb_rv = (!delete).then_some(versions.pdbs);
        let mut pdbs: BoxStream<'static, FeedEvent<PdbRow>> = futures::stream::pending().boxed();
        let mut tasks: JoinSet<(String, Ended)> = JoinSet::new();
        let mut keys: Vec<&String> = tracked.keys().collect();
        keys.sort();
        for key in keys {
            self.pod(key.clone(), PodState::Queued);
        }
        for (key, t) in &tracked {
            let (client, target, slots, sink, node, key) = (
                self.client.clone(),
                t.target.clone(),
                slots.clone(),
                self.sink.clone(),
                node.clone(),
                key.clone(),
            );
            let grace = self.opts.grace_period;
            let wake = pdb_changed.clone();
            let refused = refused.clone();
            tasks.spawn(async move {
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
        }
        let mut errors: Vec<String> = Vec::new();
        let mut waiting_reported = false;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let gone_how = if delete {
            GoneHow::Deleted
        } else {
            GoneHow::Evicted
        };
        loop {
            // Pods whose watch state says they are gone.
            {
                let gone: Vec<String> = tracked
                    .iter()
                    .filter(|(k, t)| t.step == Step::Waiting && (t.ok || live.gone(k, &t.uid)))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in gone {
                    let t = tracked.get_mut(&k).expect("tracked");
                    t.step = Step::Done;
                    t.ok = true;
                    let outcome = if delete { "deleted" } else { "evicted" };
                    let _ = self.journal.record(
                        &node,
                        if delete {
                            Action::Delete
                        } else {
                            Action::Evict
                        },
                        outcome,
                        Some(&k),
                        None,
                    );
                    self.pod(k, PodState::Gone { how: gone_how });
                }
            }
            if tracked.values().all(|t| t.step == Step::Done) {
                break;
            }
            if !waiting_reported && tracked.values().all(|t| t.step != Step::Evicting) {
                waiting_reported = true;
                self.state(NodeState::Waiting);
            }
            let timeout = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(res) = tasks.join_next() => {
                    let Ok((key, ended)) = res else { continue };
                    let t = tracked.get_mut(&key).expect("tracked");
                    let action = if delete { Action::Delete } else { Action::Evict };
                    match ended {
                        Ended::Accepted => {
                            t.step = Step::Waiting;
                            t.recheck_at = Some(tokio::time::Instant::now() + Duration::from_secs(t.grace.max(0) as u64) + RECHECK_SLACK);
                            let deadline = Timestamp::now().checked_add(SignedDuration::from_secs(t.grace)).ok();
                            let _ = self.journal.record(&node, action, "accepted", Some(&key), None);
                            self.pod(key, PodState::Terminating { grace_deadline: deadline });
                        }
                        Ended::AlreadyGone => {
                            t.step = Step::Done;
                            t.ok = true;
                            let _ = self.journal.record(&node, action, "already-gone", Some(&key), None);
                            self.pod(key, PodState::Gone { how: GoneHow::AlreadyGone });
                        }
                        Ended::Failed(reason) => {
                            t.step = Step::Done;
                            errors.push(reason.clone());
                            let _ = self.journal.record(&node, action, "failed", Some(&key), Some(&reason));
                            self.pod(key, PodState::Failed { reason });
                        }
                    }
                }
                Some(ev) = pods.next() => {
                    // The feed retries with backoff; a transient error is not fatal.
                    if let FeedEvent::Failed(e) = &ev {
                        watch_trouble = true;
                        self.notice(format!("watching pods on node/{node} failed, retrying: {e}"));
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
                    NodeSignal::Uncordoned => {
                        self.notice(format!("node/{node} was uncordoned by someone else during the drain"));
                    }
                    NodeSignal::Nothing => if let FeedEvent::Failed(e) = &ev {
                        self.notice(format!("watching node/{node} failed, retrying: {e}"));
                    },
                },
                _ = tick.tick() => {
                    // The feed resumes where it stopped, so a healthy watch loses nothing: GETs
                    // only after it failed (a slow server must not cost one GET per pod).
                    if watch_trouble {
                        self.recheck_overdue(&mut tracked).await;
                    }
                    if let Some(limit) = self.opts.skip_wait_for_delete_timeout {
                        let now = Timestamp::now();
                        for (k, t) in tracked.iter_mut().filter(|(_, t)| t.step == Step::Waiting) {
                            let old = live.deletion(k).is_some_and(|d| now.duration_since(d).as_secs() > limit as i64);
                            if old {
                                t.step = Step::Done;
                                t.ok = true;
                                self.pod(k.clone(), PodState::SkippedWait { seconds: limit });
                            }
                        }
                    }
                }
                _ = timeout => {
                    tasks.abort_all();
                    let d = format_go_duration(self.opts.timeout.unwrap_or_default());
                    let mut keys: Vec<&String> = tracked.keys().collect();
                    keys.sort();
                    for k in keys {
                        let t = &tracked[k];
                        let reason = match t.step {
                            Step::Done => continue,
                            Step::Evicting => format!("error when evicting pods/\"{}\" -n \"{}\": global timeout reached: {d}", t.target.name, t.target.namespace),
                            Step::Waiting => format!("error when waiting for pod \"{}\" in namespace \"{}\" to terminate: global timeout reached: {d}", t.target.name, t.target.namespace),
                        };
                        errors.push(reason.clone());
                        self.pod(k.clone(), PodState::Failed { reason });
                    }
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
        let pending = pending_names(&tracked);
        // "Drained" only if a fresh node-scoped list agrees (verify.rs).
        errors.extend(self.confirm_drained(&errors).await);
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
