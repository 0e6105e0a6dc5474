//! The drain executor: one tokio task per node running
//! Cordoning → Evicting → Waiting → Drained | Failed | TimedOut | Cancelled,
//! reporting [`DrainEvent`]s. Pods are waited for through a watch on the node's pods
//! (gone, or same name with a new UID), never by polling each pod.

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ListParams, WatchParams};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::drive::{Step, Tracked};
use super::events::{DrainEvent, DrainOutcome, NodeState, PodState};
use super::evict::Target;
use super::feed::{self, FeedEvent, Relist};
use super::fetch;
use super::journal::{Action, Journal};
use super::live::NodeWatch;
use super::node_ops;
use super::options::DrainOptions;
use super::plan::DrainPlan;
use crate::cluster::rows::{NodeRow, PodRow};

/// Evictions in flight at once per node (kubectl has no limit; client-go throttles to ~5/s).
pub const MAX_IN_FLIGHT: usize = 32;

/// Receives every event of a drain.
pub type Sink = Arc<dyn Fn(DrainEvent) + Send + Sync>;

/// A running drain: cancel it, or wait for its outcome. Dropping the handle does not stop it.
pub struct DrainHandle {
    node: String,
    cancel: watch::Sender<bool>,
    interrupted: Arc<std::sync::atomic::AtomicBool>,
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

    /// Cancels because of a signal: the drain ends `Interrupted` (annotated and journaled so),
    /// the node stays cordoned, and the next run offers to resume it.
    pub fn interrupt(&self) {
        self.interrupted
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.cancel();
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
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run = Run {
        interrupted: interrupted.clone(),
        client,
        node: node.to_string(),
        opts,
        journal,
        sink: Arc::new(sink),
        cancel: cancel_rx.clone(),
        uid: Default::default(),
    };
    DrainHandle {
        node: node.to_string(),
        cancel,
        interrupted,
        task: tokio::spawn(supervised(run, cancel_rx)),
    }
}

/// Runs a drain so that a bug (a panic) inside it ends it like any other failure: reported
/// as a `Finished` event, journaled, and annotated `failed` on the node it cordoned (which
/// stays cordoned) — never a drain that stops without a word.
async fn supervised(run: Run, cancel: watch::Receiver<bool>) -> DrainOutcome {
    use futures::FutureExt;
    let after = run.clone();
    let panic = match std::panic::AssertUnwindSafe(run.run(cancel))
        .catch_unwind()
        .await
    {
        Ok(outcome) => return outcome,
        Err(panic) => panic,
    };
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    // Only a node whose uid we read (so: the one we cordoned) gets an annotation.
    let cordoned = after.uid.get().is_some();
    let mut message = format!("internal error: the drain stopped ({what})");
    if cordoned {
        message = format!("{message}; {}", after.left_cordoned());
    }
    let errors = vec![format!("drain task panicked: {what}")];
    after
        .finish(NodeState::Failed, errors, vec![], message, cordoned)
        .await
}

/// One drain's context (shared by the pre-flight here and the eviction phase in `drive.rs`).
#[derive(Clone)]
pub(super) struct Run {
    pub(super) client: Client,
    pub(super) node: String,
    pub(super) opts: DrainOptions,
    pub(super) journal: Journal,
    pub(super) sink: Sink,
    /// Cancellation, for `finish` (the steps before take theirs as an argument).
    pub(super) cancel: watch::Receiver<bool>,
    /// The cancel came from a signal (SIGTERM, SIGHUP, SIGINT): the drain ends `Interrupted`.
    pub(super) interrupted: Arc<std::sync::atomic::AtomicBool>,
    /// The node's uid as read at the start (shared with the clone that reports a panic):
    /// every later write to the node carries it as a
    /// precondition, and the end-of-drain check compares it (`None` until the node is read).
    pub(super) uid: Arc<std::sync::OnceLock<String>>,
}

/// Resolves when cancellation is asked for; never if the handle is gone.
pub(super) async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves at the drain's deadline (`--timeout`); never without one.
pub(super) async fn deadline_reached(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Why a step of the drain was abandoned before it finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    Cancelled,
    TimedOut,
}

/// Runs one step of the drain (a request, a listing) unless cancel or the deadline come
/// first: whatever the API server does, the drain answers both at once.
pub(super) async fn unless_stopped<T>(
    step: impl std::future::Future<Output = T>,
    cancel: &mut watch::Receiver<bool>,
    deadline: Option<tokio::time::Instant>,
) -> Result<T, Stop> {
    tokio::select! {
        biased;
        _ = cancelled(cancel) => Err(Stop::Cancelled),
        _ = deadline_reached(deadline) => Err(Stop::TimedOut),
        v = step => Ok(v),
    }
}

impl Run {
    pub(super) fn emit(&self, e: DrainEvent) {
        (self.sink)(e);
    }

    pub(super) fn state(&self, state: NodeState) {
        self.emit(DrainEvent::State {
            node: self.node.clone(),
            state,
        });
    }

    pub(super) fn pod(&self, pod: String, state: PodState) {
        self.emit(DrainEvent::Pod {
            node: self.node.clone(),
            pod,
            state,
        });
    }

    pub(super) fn notice(&self, message: String) {
        self.emit(DrainEvent::Notice {
            node: self.node.clone(),
            message,
        });
    }
}

impl Run {
    /// The node is cordoned: its uid is kept (to spot a re-created node), the cordon is
    /// said, and the node watch goes on from the cordon's versions.
    fn on_cordoned(&self, c: node_ops::Cordoned) -> (NodeRow, NodeWatch) {
        if let Some(uid) = &c.before.meta.uid {
            let _ = self.uid.set(uid.clone());
        }
        self.emit(DrainEvent::Cordoned {
            node: self.node.clone(),
            already: c.already,
        });
        crate::crash::injected("after-cordon");
        let rv = |n: &NodeRow| n.meta.resource_version.clone().unwrap_or_default();
        let uid = self.uid.get().cloned().unwrap_or_default();
        let watch = NodeWatch::after_cordon(&rv(&c.after), &rv(&c.before), &uid);
        (c.after, watch)
    }

    /// The pods the plan removes, each with its grace period (the flag's, else the pod's,
    /// else 30 s), to be evicted.
    fn tracked(&self, plan: &DrainPlan, pods: &[PodRow]) -> HashMap<String, Tracked> {
        let mut tracked: HashMap<String, Tracked> = HashMap::new();
        for (pp, row) in plan.pods.iter().zip(pods).filter(|(pp, _)| pp.removed()) {
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
                        uid: pp.uid.clone(),
                    },
                    uid: pp.uid.clone(),
                    controller: row.controller().map(|c| c.uid.clone()),
                    grace,
                    step: Step::Evicting,
                    ok: false,
                    recheck_at: None,
                },
            );
        }
        tracked
    }

    /// Unlike kubectl, never evict from a node we could not cordon.
    async fn cordon_failed(&self, e: node_ops::NodeOpError) -> DrainOutcome {
        let err = match e {
            node_ops::NodeOpError::NotFound(_) | node_ops::NodeOpError::Replaced(_) => {
                e.to_string()
            }
            _ => format!("unable to cordon node \"{}\": {e}", self.node),
        };
        self.finish(
            NodeState::Failed,
            vec![err],
            vec![],
            "nothing was evicted because the cordon failed".into(),
            false,
        )
        .await
    }

    /// The drain: cordon, list and plan, then (unless the plan is blocked) evict and wait.
    async fn run(self, mut cancel: watch::Receiver<bool>) -> DrainOutcome {
        let node = self.node.clone();
        let started = tokio::time::Instant::now();
        // A deadline past what the clock can hold is no deadline (never a panic).
        let deadline = self.opts.timeout.and_then(|t| started.checked_add(t));
        let opts_json = serde_json::to_string(&self.opts).unwrap_or_default();
        self.state(NodeState::Cordoning);
        // The node watch runs for the whole drain; its first event is the node itself, which
        // the cordon needs (no separate GET).
        let mut nodes = node_feed(&self.client, &node);
        let cordon = unless_stopped(
            async {
                // On disk before the cordon: a crash from here on shows as an interrupted drain.
                let _ = self
                    .journal
                    .record_durable(&node, Action::DrainStart, "started", None, Some(&opts_json))
                    .await;
                let n = first_node(&self.client, &node, &mut nodes).await?;
                node_ops::cordon_node(&self.client, n, true, &self.journal).await
            },
            &mut cancel,
            deadline,
        )
        .await;
        let cordon = match cordon {
            Ok(c) => c,
            Err(stop) => return self.stopped(stop, "cordoning", false).await,
        };
        let (cordoned, node_watch) = match cordon {
            Ok(c) => self.on_cordoned(c),
            Err(e) => return self.cordon_failed(e).await,
        };
        let listing = fetch::snapshot_of(&self.client, cordoned);
        let (snap, versions) = match unless_stopped(listing, &mut cancel, deadline).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                let msg = self.left_cordoned();
                return self
                    .finish(NodeState::Failed, vec![e.to_string()], vec![], msg, true)
                    .await;
            }
            Err(stop) => return self.stopped(stop, "listing its pods", true).await,
        };
        let plan = snap.plan(&self.opts, Timestamp::now());
        self.emit(DrainEvent::Planned {
            node: node.clone(),
            plan: Box::new(plan.clone()),
        });
        // kubectl's pre-flight errors, and kubedrain's blockers (a PDB that never allows an
        // eviction, ...): a drain that cannot finish does not start evicting.
        if plan.is_blocked() {
            let msg = self.left_cordoned();
            // kubectl's own errors, worded as kubectl prints them, when there are any (fixing
            // them shows the rest); else kubedrain's blockers.
            let mut errors = plan.errors.clone();
            if errors.is_empty() {
                errors = plan.blocker_messages();
            }
            return self
                .finish(NodeState::Failed, errors, vec![], msg, true)
                .await;
        }
        let tracked = self.tracked(&plan, &snap.pods);
        let started = Started {
            nodes,
            node_watch,
            pods: snap.pods,
            versions,
        };
        self.drive(tracked, started, deadline, cancel).await
    }
}

/// What the eviction phase continues from: the node watch and the plan's listings.
pub(super) struct Started {
    pub(super) nodes: BoxStream<'static, FeedEvent<NodeRow>>,
    pub(super) node_watch: NodeWatch,
    /// The node's pods as listed for the plan.
    pub(super) pods: Vec<PodRow>,
    pub(super) versions: fetch::Versions,
}

/// A watch on the one node, starting with its current state.
fn node_feed(client: &Client, node: &str) -> BoxStream<'static, FeedEvent<NodeRow>> {
    let api = Api::<NodeRow>::all(client.clone());
    let fields = format!("metadata.name={node}");
    let params = WatchParams::default().fields(&fields);
    let relist_api = api.clone();
    let relist: Relist<NodeRow> = Box::new(move || {
        let (api, lp) = (relist_api.clone(), ListParams::default().fields(&fields));
        Box::pin(async move { fetch::list_all(&api, lp).await })
    });
    feed::feed(api, params, String::new(), relist)
}

/// How long the node watch may take to show the node before a GET asks instead (a watch on
/// a node that does not exist says nothing).
const FIRST_NODE_WAIT: Duration = Duration::from_secs(1);

/// The node as the node watch first shows it; a GET when the watch is slow or failing.
async fn first_node(
    client: &Client,
    node: &str,
    nodes: &mut BoxStream<'static, FeedEvent<NodeRow>>,
) -> Result<NodeRow, node_ops::NodeOpError> {
    match tokio::time::timeout(FIRST_NODE_WAIT, nodes.next()).await {
        Ok(Some(FeedEvent::Added(n) | FeedEvent::Modified(n))) => Ok(n),
        Ok(Some(FeedEvent::Deleted(_))) => Err(node_ops::NodeOpError::NotFound(node.into())),
        Ok(Some(FeedEvent::Relisted(v))) => v
            .into_iter()
            .next()
            .ok_or_else(|| node_ops::NodeOpError::NotFound(node.into())),
        _ => node_ops::get_node(client, node).await,
    }
}
