//! The drain executor: one tokio task per node running
//! Cordoning → Evicting → Waiting → Drained | Failed | TimedOut | Cancelled,
//! reporting [`DrainEvent`]s. Pods are waited for through a watch on the node's pods
//! (gone, or same name with a new UID), never by polling each pod.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState};
use super::evict::{self, Ended, Target};
use super::fetch;
use super::journal::{Action, Journal};
use super::live::{LivePods, NodeSignal, NodeWatch};
use super::node_ops;
use super::options::{DrainOptions, format_go_duration};
use super::replacements::Replacements;
use crate::cluster::rows::{NodeRow, PodRow};

/// Evictions in flight at once per node (kubectl has no limit; client-go throttles to ~5/s).
pub const MAX_IN_FLIGHT: usize = 32;

/// How long to wait for the pod and node watches' first listing before evicting anyway.
const SYNC_TIMEOUT: Duration = Duration::from_secs(10);

/// Receives every event of a drain.
pub type Sink = Arc<dyn Fn(DrainEvent) + Send + Sync>;

/// A running drain: cancel it, or wait for its outcome. Dropping the handle does not stop it.
pub struct DrainHandle {
    node: String,
    cancel: watch::Sender<bool>,
    task: JoinHandle<DrainOutcome>,
}

impl DrainHandle {
    /// The node being drained.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Asks the drain to stop: in-flight evictions are abandoned, the node stays cordoned,
    /// and the drain ends `Cancelled`.
    pub fn cancel(&self) {
        let _ = self.cancel.send(true);
    }

    /// Kills the task without any cleanup (as if the process died): annotations and the
    /// journal keep saying "draining", which [`super::journal::find_unfinished`] detects.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Whether the drain is over.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits for the outcome.
    pub async fn wait(self) -> DrainOutcome {
        let node = self.node.clone();
        self.task.await.unwrap_or_else(|e| DrainOutcome {
            node: node.clone(),
            state: NodeState::Failed,
            errors: vec![format!("drain task ended: {e}")],
            pending_pods: vec![],
            message: format!("the drain of node/{node} stopped unexpectedly"),
        })
    }
}

/// Starts draining `node`; events arrive on the returned channel.
///
/// `client` should come from [`super::client::client_without_retry`] so PDB 429s are seen
/// at once instead of being retried silently by kube-client.
pub fn start_drain(
    client: Client,
    node: &str,
    opts: DrainOptions,
    journal: Journal,
) -> (DrainHandle, mpsc::UnboundedReceiver<DrainEvent>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = start_drain_with(client, node, opts, journal, move |e| {
        let _ = tx.send(e);
    });
    (handle, rx)
}

/// Starts draining `node`, calling `sink` for each event (e.g. to wrap it into a UI message).
pub fn start_drain_with(
    client: Client,
    node: &str,
    opts: DrainOptions,
    journal: Journal,
    sink: impl Fn(DrainEvent) + Send + Sync + 'static,
) -> DrainHandle {
    let (cancel, cancel_rx) = watch::channel(false);
    let run = Run {
        client,
        node: node.to_string(),
        opts,
        journal,
        sink: Arc::new(sink),
    };
    DrainHandle {
        node: node.to_string(),
        cancel,
        task: tokio::spawn(run.run(cancel_rx)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Evicting,
    Waiting,
    Done,
}

struct Tracked {
    target: Target,
    uid: String,
    /// UID of its controller (to spot its replacement).
    controller: Option<String>,
    grace: i64,
    step: Step,
    ok: bool,
}

struct Run {
    client: Client,
    node: String,
    opts: DrainOptions,
    journal: Journal,
    sink: Sink,
}

/// Resolves when cancellation is asked for; never if the handle is gone.
async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Run {
    fn emit(&self, e: DrainEvent) {
        (self.sink)(e);
    }

    fn state(&self, state: NodeState) {
        self.emit(DrainEvent::State {
            node: self.node.clone(),
            state,
        });
    }

    fn pod(&self, pod: String, state: PodState) {
        self.emit(DrainEvent::Pod {
            node: self.node.clone(),
            pod,
            state,
        });
    }

    fn notice(&self, message: String) {
        self.emit(DrainEvent::Notice {
            node: self.node.clone(),
            message,
        });
    }

    async fn finish(
        &self,
        state: NodeState,
        errors: Vec<String>,
        pending_pods: Vec<String>,
        message: String,
        annotate: bool,
    ) -> DrainOutcome {
        if annotate
            && let Err(e) =
                node_ops::set_drain_state(&self.client, &self.node, state.annotation()).await
        {
            self.notice(format!(
                "could not record drain state on node/{}: {e}",
                self.node
            ));
        }
        let detail = if errors.is_empty() {
            message.clone()
        } else {
            errors.join("; ")
        };
        let _ = self.journal.record(
            &self.node,
            Action::DrainResult,
            state.annotation(),
            None,
            Some(&detail),
        );
        let outcome = DrainOutcome {
            node: self.node.clone(),
            state,
            errors,
            pending_pods,
            message,
        };
        self.state(state);
        self.emit(DrainEvent::Finished(outcome.clone()));
        outcome
    }

    fn left_cordoned(&self) -> String {
        format!(
            "node/{0} left cordoned; uncordon it with `kubedrain uncordon {0}`",
            self.node
        )
    }

    async fn run(self, mut cancel: watch::Receiver<bool>) -> DrainOutcome {
        let node = self.node.clone();
        let started = tokio::time::Instant::now();
        let deadline = self.opts.timeout.map(|t| started + t);
        let opts_json = serde_json::to_string(&self.opts).unwrap_or_default();
        let _ = self
            .journal
            .record(&node, Action::DrainStart, "started", None, Some(&opts_json));
        self.state(NodeState::Cordoning);
        let cordon = tokio::select! {
            r = node_ops::cordon(&self.client, &node, true, &self.journal) => r,
            _ = cancelled(&mut cancel) => {
                return self.finish(NodeState::Cancelled, vec![], vec![], "cancelled before the cordon finished".into(), false).await;
            }
        };
        match cordon {
            Ok(c) => self.emit(DrainEvent::Cordoned {
                node: node.clone(),
                already: c.already,
            }),
            // Unlike kubectl, never evict from a node we could not cordon.
            Err(e) => {
                let err = match e {
                    node_ops::NodeOpError::NotFound(_) => e.to_string(),
                    _ => format!("unable to cordon node \"{node}\": {e}"),
                };
                return self
                    .finish(
                        NodeState::Failed,
                        vec![err],
                        vec![],
                        "nothing was evicted because the cordon failed".into(),
                        false,
                    )
                    .await;
            }
        }
        let snap = match fetch::snapshot(&self.client, &node, false).await {
            Ok(s) => s,
            Err(e) => {
                let msg = self.left_cordoned();
                return self
                    .finish(NodeState::Failed, vec![e.to_string()], vec![], msg, true)
                    .await;
            }
        };
        let plan = snap.plan(&self.opts, Timestamp::now());
        self.emit(DrainEvent::Planned {
            node: node.clone(),
            plan: Box::new(plan.clone()),
        });
        if !plan.errors.is_empty() {
            let msg = self.left_cordoned();
            return self
                .finish(NodeState::Failed, plan.errors.clone(), vec![], msg, true)
                .await;
        }
        let mut tracked: HashMap<String, Tracked> = HashMap::new();
        for (pp, row) in plan
            .pods
            .iter()
            .zip(&snap.pods)
            .filter(|(pp, _)| pp.removed())
        {
            let grace = self
                .opts
                .grace_period
                .map(i64::from)
                .or(row.termination_grace_seconds)
                .unwrap_or(30);
            tracked.insert(
                pp.key(),
                Tracked {
                    target: Target {
                        namespace: pp.namespace.clone(),
                        name: pp.name.clone(),
                    },
                    uid: pp.uid.clone(),
                    controller: row.controller().map(|c| c.uid.clone()),
                    grace,
                    step: Step::Evicting,
                    ok: false,
                },
            );
        }
        self.drive(tracked, deadline, cancel).await
    }

    /// Lists the evicted pods' namespaces (pods there now are not replacements), then watches them.
    async fn replacements(
        &self,
        tracked: &HashMap<String, Tracked>,
    ) -> (
        Replacements,
        futures::stream::BoxStream<'static, Event<PodRow>>,
    ) {
        let evicted: Vec<(String, String)> = tracked
            .iter()
            .filter_map(|(k, t)| Some((k.clone(), t.controller.clone()?)))
            .collect();
        let namespaces: HashSet<String> = tracked
            .values()
            .filter(|t| t.controller.is_some())
            .map(|t| t.target.namespace.clone())
            .collect();
        let mut original = HashSet::new();
        for ns in &namespaces {
            match Api::<PodRow>::namespaced(self.client.clone(), ns)
                .list(&Default::default())
                .await
            {
                Ok(l) => original.extend(l.items.iter().map(|p| p.uid().to_string())),
                Err(e) => self.notice(format!("listing pods in {ns} failed: {e}")),
            }
        }
        let stream = Replacements::stream(&self.client, &namespaces);
        (Replacements::new(&self.node, &evicted, original), stream)
    }

    async fn drive(
        self,
        mut tracked: HashMap<String, Tracked>,
        deadline: Option<tokio::time::Instant>,
        mut cancel: watch::Receiver<bool>,
    ) -> DrainOutcome {
        let node = self.node.clone();
        let delete = self.opts.disable_eviction;
        // Watch first, so a pod deleted right after its eviction cannot be missed.
        let wcfg = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
        let mut pods = watcher::watcher(Api::<PodRow>::all(self.client.clone()), wcfg)
            .default_backoff()
            .boxed();
        let ncfg = watcher::Config::default().fields(&format!("metadata.name={node}"));
        let mut nodes = watcher::watcher(Api::<NodeRow>::all(self.client.clone()), ncfg)
            .default_backoff()
            .boxed();
        let mut live = LivePods::default();
        let mut node_watch = NodeWatch::default();
        // Both watches list before the first eviction, so every later change arrives live.
        let synced = tokio::time::timeout(SYNC_TIMEOUT, async {
            let (mut pods_ok, mut node_ok, mut node_gone) = (false, false, false);
            while !(pods_ok && node_ok) {
                tokio::select! {
                    Some(ev) = pods.next(), if !pods_ok => if let Ok(e) = ev {
                        pods_ok |= matches!(e, Event::InitDone);
                        live.apply(e);
                    },
                    Some(ev) = nodes.next(), if !node_ok => if let Ok(e) = ev {
                        node_ok |= matches!(e, Event::InitDone);
                        node_gone |= node_watch.apply(e) == NodeSignal::Deleted;
                    },
                }
            }
            node_gone
        })
        .await;
        match synced {
            Ok(true) => {
                let msg = format!("node {node} was deleted during the drain");
                return self
                    .finish(NodeState::Failed, vec![msg.clone()], vec![], msg, false)
                    .await;
            }
            Ok(false) => {}
            Err(_) => self.notice(format!(
                "watches on node/{node} are slow to start; evicting anyway"
            )),
        }
        let (mut repl, mut repl_stream) = self.replacements(&tracked).await;
        self.state(NodeState::Evicting);
        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
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
            tasks.spawn(async move {
                let report = |state| {
                    sink(DrainEvent::Pod {
                        node: node.clone(),
                        pod: key.clone(),
                        state,
                    })
                };
                let ended = evict::run(client, target, grace, delete, slots, report).await;
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
                    .filter(|(k, t)| t.step == Step::Waiting && live.gone(k, &t.uid))
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
                ev = pods.next() => match ev {
                    Some(Ok(e)) => live.apply(e),
                    // The watcher retries with backoff; a transient error is not fatal.
                    Some(Err(e)) => self.notice(format!("watching pods on node/{node} failed, retrying: {e}")),
                    _ => {}
                },
                Some(ev) = repl_stream.next() => {
                    if let Some(e) = repl.on_event(ev) {
                        self.emit(e);
                    }
                }
                ev = nodes.next() => match ev.map(|e| e.map(|e| node_watch.apply(e))) {
                    Some(Ok(NodeSignal::Deleted)) => {
                        tasks.abort_all();
                        let pending = pending_names(&tracked);
                        let msg = format!("node {node} was deleted during the drain");
                        return self.finish(NodeState::Failed, vec![msg.clone()], pending, msg, false).await;
                    }
                    Some(Ok(NodeSignal::Uncordoned)) => {
                        self.notice(format!("node/{node} was uncordoned by someone else during the drain"));
                    }
                    Some(Err(e)) => self.notice(format!("watching node/{node} failed, retrying: {e}")),
                    _ => {}
                },
                _ = tick.tick() => {
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
                            Step::Waiting => format!("error when waiting for pod \"{}\" in namespace \"{}\" to terminate: context deadline exceeded", t.target.name, t.target.namespace),
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
                    return self.finish(NodeState::Cancelled, errors, pending, msg, true).await;
                }
            }
        }
        let pending = pending_names(&tracked);
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
