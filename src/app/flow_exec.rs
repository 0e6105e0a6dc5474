//! Runs the workflow's `FlowCmd`s: cordon, uncordon, drain (the engine), cancel, and the demo
//! upgrade. Results and progress come back as `Msg::Flow`, like everything else.

use tokio::sync::mpsc;

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;

use super::drain_flow::{DsChecks, FlowCmd, FlowMsg};
use super::msg::Msg;
use crate::drain::DsLookup;
use crate::drain::exec::{DrainHandle, start_drain};
use crate::drain::journal::{Journal, Target};
use crate::drain::node_ops::{self, NodeOpError};

/// Simulates the upgrade of a node (demo only): `(node, target kubelet version or None for
/// the OS only)`; `Err` says why it could not start. The `U` key and campaigns share it.
pub type UpgradeFn = crate::campaign::upgrade::UpgradeHook;

/// What the workflow needs from the outside world, passed in through `RunOptions`.
#[derive(Clone)]
pub struct FlowSetup {
    /// A client without kube-client's own retries (PDB 429s must reach the engine at once),
    /// or why there is none: then cordon, uncordon and drain say so and do nothing (never the
    /// watchers' retrying client instead). The why is the text those actions say (`Clone`).
    pub client: Result<kube::Client, String>,
    /// Context and server, recorded in the journal.
    pub target: Target,
    /// The demo's in-process simulator upgrade; `None` against a real cluster (no `U` key).
    pub upgrade: Option<UpgradeFn>,
}

impl Default for FlowSetup {
    fn default() -> Self {
        FlowSetup {
            client: Err("no client for changes was set up".into()),
            target: Target::default(),
            upgrade: None,
        }
    }
}

impl std::fmt::Debug for FlowSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowSetup")
            .field("client", &self.client.as_ref().map(|_| "ready"))
            .field("target", &self.target)
            .field("upgrade", &self.upgrade.is_some())
            .finish()
    }
}

/// The executor's workflow half.
pub struct FlowExec {
    /// The drain client, or why there is none.
    client: Result<kube::Client, String>,
    /// The watchers' client, for reads only.
    reader: kube::Client,
    tx: mpsc::Sender<Msg>,
    journal: Journal,
    upgrade: Option<UpgradeFn>,
    drain: Option<DrainHandle>,
}

fn plain(e: &NodeOpError) -> String {
    match e {
        NodeOpError::Api(kube::Error::Api(s)) if s.code == 403 => format!(
            "not allowed (403 Forbidden): your credentials may not change nodes — {}",
            s.message
        ),
        NodeOpError::Api(kube::Error::Api(_)) => e.to_string(),
        NodeOpError::Api(other) => format!("the API server could not be reached ({other})"),
        _ => e.to_string(),
    }
}

/// GETs each DaemonSet, as kubectl's drain filter does: 404 and other errors are kept with
/// kubectl's text, since the plan shows them.
pub async fn check_daemonsets(client: &kube::Client, owners: Vec<(String, String)>) -> DsChecks {
    let mut found = DsChecks::new();
    for (ns, name) in owners {
        let api: Api<DaemonSet> = Api::namespaced(client.clone(), &ns);
        let lookup = match api.get(&name).await {
            Ok(_) => DsLookup::Exists,
            Err(kube::Error::Api(s)) if s.code == 404 => DsLookup::NotFound,
            Err(kube::Error::Api(s)) => DsLookup::Error(s.message),
            Err(e) => DsLookup::Error(e.to_string()),
        };
        found.insert((ns, name), lookup);
    }
    found
}

impl FlowExec {
    pub fn new(setup: FlowSetup, watch_client: kube::Client, tx: mpsc::Sender<Msg>) -> FlowExec {
        FlowExec {
            client: setup.client,
            reader: watch_client,
            tx,
            journal: Journal::open(setup.target),
            upgrade: setup.upgrade,
            drain: None,
        }
    }

    /// The drain journal (campaigns write their drains to it too: one writer per file).
    pub fn journal(&self) -> Journal {
        self.journal.clone()
    }

    /// Reads the journal (for the resume offer on start).
    pub fn start(&self) {
        let journal = self.journal.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            // Only this cluster's lines (the journal is shared by every cluster and demo),
            // folded per node here, off the UI task.
            let history = journal.history();
            let _ = tx.blocking_send(Msg::Flow(FlowMsg::Journal(history)));
        });
    }

    /// Cancels a running drain (on quit; `signalled`: interrupts it) and waits up to `wait`
    /// for it to end: the node stays cordoned and the journal says the drain was cancelled or
    /// interrupted (if it does not end in time, it shows as unfinished next time).
    pub async fn stop(&mut self, wait: std::time::Duration, signalled: bool) {
        if let Some(h) = self.drain.take() {
            if signalled {
                h.interrupt();
            } else {
                h.cancel();
            }
            let _ = tokio::time::timeout(wait, h.wait()).await;
        }
    }

    pub fn run(&mut self, cmd: FlowCmd) {
        // Long: one arm per command, each spawning its task.
        let journal = self.journal.clone();
        let tx = self.tx.clone();
        if let FlowCmd::CheckDaemonSets { node, owners } = cmd {
            let reader = self.reader.clone();
            tokio::spawn(async move {
                let found = check_daemonsets(&reader, owners).await;
                let _ = tx
                    .send(Msg::Flow(FlowMsg::DaemonSets { node, found }))
                    .await;
            });
            return;
        }
        let client = match (&self.client, &cmd) {
            (Ok(c), _) => c.clone(),
            // These two use no client (a drain handle; the demo's in-process hook).
            (Err(_), FlowCmd::CancelDrain | FlowCmd::Upgrade { .. }) => self.reader.clone(),
            // The dialogs refuse before this: nothing changes the cluster without the drain
            // client.
            (Err(why), _) => {
                let _ = self
                    .tx
                    .try_send(Msg::Flash(format!("cannot change the cluster: {why}")));
                return;
            }
        };
        match cmd {
            FlowCmd::Cordon { node } => {
                tokio::spawn(async move {
                    let result = match node_ops::cordon(&client, &node, false, &journal).await {
                        Ok(c) if c.already => Ok(format!("node/{node} already cordoned")),
                        Ok(_) => Ok(format!("node/{node} cordoned: no new pods will land on it")),
                        Err(e) => Err(plain(&e)),
                    };
                    let verb = "cordon";
                    let _ = tx
                        .send(Msg::Flow(FlowMsg::NodeOp { node, verb, result }))
                        .await;
                });
            }
            FlowCmd::Uncordon { node, force } => {
                tokio::spawn(async move {
                    let result = match node_ops::uncordon(&client, &node, force, &journal).await {
                        Ok(u) if u.already => Ok(format!("node/{node} already uncordoned")),
                        Ok(u) if u.changes.is_empty() => Ok(format!("node/{node} uncordoned")),
                        Ok(u) => Ok(format!("node/{node} uncordoned ({})", u.changes.join(", "))),
                        Err(e) => Err(plain(&e)),
                    };
                    let verb = "uncordon";
                    let _ = tx
                        .send(Msg::Flow(FlowMsg::NodeOp { node, verb, result }))
                        .await;
                });
            }
            FlowCmd::Drain { node, form } => {
                let opts = match form.options() {
                    Ok(o) => o,
                    Err(e) => {
                        let _ = self.tx.try_send(Msg::Flash(format!("drain options: {e}")));
                        return;
                    }
                };
                let (handle, mut rx) = start_drain(client, &node, opts, journal);
                self.drain = Some(handle);
                tokio::spawn(async move {
                    while let Some(ev) = rx.recv().await {
                        if tx.send(Msg::Flow(FlowMsg::Drain(ev))).await.is_err() {
                            break;
                        }
                    }
                });
            }
            FlowCmd::CancelDrain => {
                if let Some(h) = &self.drain {
                    h.cancel();
                }
            }
            FlowCmd::CheckDaemonSets { .. } => {}
            FlowCmd::Upgrade { node } => {
                let result = match &self.upgrade {
                    Some(up) => up(&node, None),
                    None => Err("only the built-in demo cluster can be upgraded".into()),
                };
                let _ = self
                    .tx
                    .try_send(Msg::Flow(FlowMsg::Upgrade { node, result }));
            }
        }
    }
}
