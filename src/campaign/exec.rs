//! The campaign executor: one tokio task taking the waves in order — pre-check, cordon the
//! wave's nodes, then per node drain (the drain engine) → upgrade (hook or operator) →
//! return-to-service gate → uncordon (only what it cordoned), then the wave's soak. Every
//! step is journaled; pause and abort act at step boundaries and in every wait. Around it:
//! the queued taint on the nodes waiting their turn (`taints`), and hold points where the
//! campaign pauses itself (`holds`).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use kube::Client;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::events::{CampaignEvent, CampaignState};
use super::journal::{CampaignJournal, Entry, Progress, Spec, Step};
use super::read;
use super::report::{self, Extras};
use super::stages::sample_pending;
use super::upgrade::UpgradeHook;
use crate::drain::journal::Journal;
use crate::drain::options::DrainOptions;

/// Everything the executor needs besides the campaign itself.
#[derive(Clone)]
pub struct Setup {
    /// From `drain::client::client_without_retry` (PDB 429s reach the drain at once).
    pub client: Client,
    pub journal: CampaignJournal,
    /// The drain journal (cordons, evictions, uncordons).
    pub drain_journal: Journal,
    pub opts: DrainOptions,
    /// Runs each node's upgrade in-process; `None`: the operator does it on the host.
    pub upgrade: Option<UpgradeHook>,
    /// How often the gate, the soak and the Pending sampler read the cluster.
    pub poll: Duration,
}

/// A new campaign, or one to resume from its journal.
pub enum Start {
    New(Spec),
    Resume(Progress),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Control {
    Run,
    Pause,
    Abort,
}

/// Pauses, resumes or aborts a campaign (cloneable; outlives [`CampaignHandle::wait`]).
#[derive(Clone)]
pub struct CampaignControl(Arc<watch::Sender<Control>>);

impl CampaignControl {
    /// Holds the campaign at the next step boundary (a running drain finishes first).
    pub fn pause(&self) {
        let _ = self.0.send(Control::Pause);
    }
    /// Lets a paused campaign go on.
    pub fn resume(&self) {
        let _ = self.0.send(Control::Run);
    }
    /// Stops it: a running drain is cancelled, nodes stay as they are, the journal says where.
    pub fn abort(&self) {
        let _ = self.0.send(Control::Abort);
    }
}

/// A running campaign. Dropping the handle does not stop it.
pub struct CampaignHandle {
    id: String,
    control: CampaignControl,
    task: JoinHandle<CampaignState>,
}

impl CampaignHandle {
    /// The campaign's id (its journal lines carry it).
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Pause, resume and abort, usable while waiting.
    pub fn control(&self) -> CampaignControl {
        self.control.clone()
    }
    /// Holds the campaign at the next step boundary (a running drain finishes first).
    pub fn pause(&self) {
        self.control.pause();
    }
    /// Lets a paused campaign go on.
    pub fn resume(&self) {
        self.control.resume();
    }
    /// Stops it: a running drain is cancelled, nodes stay as they are, the journal says where.
    pub fn abort(&self) {
        self.control.abort();
    }
    /// Whether it is over.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
    /// Waits for the end.
    pub async fn wait(self) -> CampaignState {
        self.task.await.unwrap_or_else(|e| CampaignState::Failed {
            node: String::new(),
            step: Step::Stop,
            reason: format!("the campaign task ended: {e}"),
        })
    }
}

/// Why a step did not complete.
#[derive(Debug)]
pub(super) enum Halt {
    Abort {
        node: Option<String>,
        step: Step,
    },
    Fail {
        node: String,
        step: Step,
        reason: String,
    },
}

pub(super) type Sink = Arc<dyn Fn(CampaignEvent) + Send + Sync>;

pub(super) struct Runner {
    pub(super) s: Setup,
    pub(super) spec: Spec,
    pub(super) progress: Mutex<Progress>,
    pub(super) sink: Sink,
    pub(super) ctl: watch::Receiver<Control>,
    /// The handle's sender too: a hold point pauses the campaign from inside.
    pub(super) ctl_tx: Arc<watch::Sender<Control>>,
    /// Set when one node of a wave fails: the others stop at their next boundary.
    pub(super) stop: watch::Sender<bool>,
    pub(super) paused_said: AtomicBool,
    pub(super) extras: Arc<Mutex<Extras>>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);

fn new_id() -> String {
    format!(
        "{}-{}-{}",
        Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts (or resumes) a campaign; `sink` receives every event.
pub fn start_campaign(
    setup: Setup,
    start: Start,
    sink: impl Fn(CampaignEvent) + Send + Sync + 'static,
) -> CampaignHandle {
    let (control, ctl) = watch::channel(Control::Run);
    let control = Arc::new(control);
    let (resumed, progress) = match start {
        Start::Resume(p) => (true, p),
        Start::New(spec) => (
            false,
            Progress {
                campaign: new_id(),
                spec,
                done: Default::default(),
                checked: Default::default(),
                soaked: Default::default(),
                cordoned_by_us: Default::default(),
                before: Default::default(),
                cordon_started: Default::default(),
                tainted: Default::default(),
                finished: false,
            },
        ),
    };
    let id = progress.campaign.clone();
    let runner = Runner {
        spec: progress.spec.clone(),
        s: setup,
        progress: Mutex::new(progress),
        sink: Arc::new(sink),
        ctl,
        ctl_tx: control.clone(),
        stop: watch::channel(false).0,
        paused_said: AtomicBool::new(false),
        extras: Arc::new(Mutex::new(Extras::default())),
    };
    CampaignHandle {
        id,
        control: CampaignControl(control),
        task: tokio::spawn(runner.run(resumed)),
    }
}

impl Runner {
    pub(super) fn emit(&self, e: CampaignEvent) {
        (self.sink)(e);
    }

    pub(super) fn id(&self) -> String {
        self.progress
            .lock()
            .map(|p| p.campaign.clone())
            .unwrap_or_default()
    }

    pub(super) async fn record(
        &self,
        wave: Option<usize>,
        node: Option<&str>,
        step: Step,
        outcome: &str,
        detail: Option<String>,
    ) {
        let e = Entry {
            time: Timestamp::now(),
            campaign: self.id(),
            context: String::new(),
            server: String::new(),
            wave,
            node: node.map(str::to_string),
            step,
            outcome: outcome.to_string(),
            detail,
        };
        if let Err(err) = self.s.journal.record(e.clone()).await {
            self.emit(CampaignEvent::Notice(format!(
                "could not write the campaign journal {}: {err}",
                self.s.journal.path.display()
            )));
        }
        if let Ok(mut p) = self.progress.lock()
            && let Some(n) = node
            && e.completes()
        {
            p.done.entry(n.to_string()).or_default().insert(step);
        }
    }

    pub(super) fn did(&self, node: &str, step: Step) -> bool {
        self.progress.lock().is_ok_and(|p| p.did(node, step))
    }

    /// Resolves when an abort is asked for (or another node of the wave failed).
    pub(super) async fn stopped(&self) {
        let mut ctl = self.ctl.clone();
        let mut stop = self.stop.subscribe();
        let aborted = async move {
            let gone = ctl.wait_for(|c| *c == Control::Abort).await.is_err();
            if gone {
                std::future::pending::<()>().await
            }
        };
        let failed = async move {
            let _ = stop.wait_for(|s| *s).await.is_ok();
        };
        tokio::select! {
            _ = aborted => {}
            _ = failed => {}
        }
    }

    /// A step boundary: waits while paused; `Err` when aborted.
    pub(super) async fn boundary(&self, node: Option<&str>, step: Step) -> Result<(), Halt> {
        let abort = || Halt::Abort {
            node: node.map(str::to_string),
            step,
        };
        let mut ctl = self.ctl.clone();
        loop {
            if *self.stop.borrow() {
                return Err(abort());
            }
            let c = *ctl.borrow_and_update();
            match c {
                Control::Run => {
                    if self.paused_said.swap(false, Ordering::Relaxed) {
                        self.emit(CampaignEvent::Paused(false));
                    }
                    return Ok(());
                }
                Control::Abort => return Err(abort()),
                Control::Pause => {
                    if !self.paused_said.swap(true, Ordering::Relaxed) {
                        self.emit(CampaignEvent::Paused(true));
                    }
                    if ctl.changed().await.is_err() {
                        // The handle is gone: nobody can resume; carry on.
                        return Ok(());
                    }
                }
            }
        }
    }

    async fn run(self, resumed: bool) -> CampaignState {
        let spec_json = serde_json::to_string(&self.spec).unwrap_or_default();
        let next = self.progress.lock().ok().and_then(|p| p.next());
        let (outcome, detail) = match (resumed, next) {
            (false, _) => ("started", Some(spec_json)),
            (true, Some((n, s))) => ("resumed", Some(format!("at node/{n} step {}", s.name()))),
            (true, None) => ("resumed", None),
        };
        self.record(None, None, Step::Start, outcome, detail).await;
        let sampler = tokio::spawn(sample_pending(
            self.s.client.clone(),
            self.s.poll,
            self.spec.baseline.pending.clone(),
            self.extras.clone(),
        ));
        let result = match self.sync_taints().await {
            Ok(()) => self.waves().await,
            Err(h) => Err(halted(h)),
        };
        sampler.abort();
        // On every way out: a queued node is no longer queued.
        self.lift_taints().await;
        let state = match result {
            Ok(()) => {
                self.record(None, None, Step::Finish, "done", None).await;
                CampaignState::Completed
            }
            Err(state) => {
                let (node, wave, outcome, detail) = match &state {
                    CampaignState::Held { wave, reason } => {
                        (None, Some(*wave), "held", reason.clone())
                    }
                    CampaignState::Failed { node, step, reason } => (
                        Some(node.clone()),
                        None,
                        "failed",
                        format!("{}: {reason}", step.name()),
                    ),
                    CampaignState::Aborted { node, step } => {
                        (node.clone(), None, "aborted", format!("at {}", step.name()))
                    }
                    CampaignState::Completed => (None, None, "done", String::new()),
                };
                self.record(wave, node.as_deref(), Step::Stop, outcome, Some(detail))
                    .await;
                state
            }
        };
        let (journal, id) = (self.s.journal.clone(), self.id());
        let entries = tokio::task::spawn_blocking(move || journal.of(&id))
            .await
            .unwrap_or_default();
        let extras = self.extras.lock().map(|e| e.clone()).unwrap_or_default();
        let report = report::build(&entries, &self.spec, &extras, &outcome_text(&state));
        self.emit(CampaignEvent::Finished {
            state: state.clone(),
            report: Box::new(report),
        });
        state
    }

    async fn waves(&self) -> Result<(), CampaignState> {
        for wave in self.spec.waves.clone() {
            let soaked = self
                .progress
                .lock()
                .is_ok_and(|p| p.soaked.contains(&wave.index));
            if soaked {
                continue;
            }
            // A wave not started yet is checked now, even if an earlier run checked it: the
            // cluster may have changed since.
            let started = wave.nodes.iter().any(|n| self.did(n, Step::Cordon));
            let mut held = None;
            if !started {
                held = self.hold_before_wave(&wave).await.map_err(halted)?;
                self.boundary(None, Step::Precheck).await.map_err(halted)?;
                self.precheck(&wave).await?;
            }
            for n in &wave.nodes {
                if !self.did(n, Step::Cordon) {
                    if held.as_deref() != Some(n.as_str()) {
                        self.hold_before_node(&wave, n).await.map_err(halted)?;
                    }
                    self.boundary(Some(n), Step::Cordon).await.map_err(halted)?;
                    self.cordon(wave.index, n).await.map_err(halted)?;
                }
            }
            let results =
                futures::future::join_all(wave.nodes.iter().map(|n| self.node_steps(&wave, n)))
                    .await;
            // A failure says more than the aborts it caused in the other nodes.
            let mut halt = None;
            for r in results {
                if let Err(h) = r
                    && !matches!(halt, Some(Halt::Fail { .. }))
                {
                    halt = Some(h);
                }
            }
            if let Some(h) = halt {
                return Err(halted(h));
            }
            self.boundary(None, Step::Soak).await.map_err(halted)?;
            self.soak(wave.index).await.map_err(halted)?;
        }
        Ok(())
    }

    /// Journals that wave `index` is held before it starts, and why.
    async fn held(&self, index: usize, reason: String) -> CampaignState {
        self.record(
            Some(index),
            None,
            Step::Precheck,
            "held",
            Some(reason.clone()),
        )
        .await;
        CampaignState::Held {
            wave: index,
            reason,
        }
    }

    async fn precheck(&self, wave: &super::plan::Wave) -> Result<(), CampaignState> {
        let cluster = match read::cluster(&self.s.client).await {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("cannot read the cluster for the pre-check: {e}");
                return Err(self.held(wave.index, reason).await);
            }
        };
        let check = cluster.check(wave, &self.s.opts, Timestamp::now());
        self.emit(CampaignEvent::Checked(Box::new(check.clone())));
        if let Some(reason) = check.held {
            return Err(self.held(wave.index, reason).await);
        }
        if let Ok(mut x) = self.extras.lock() {
            x.overrides.extend(check.overrides.iter().cloned());
        }
        let detail = (!check.overrides.is_empty()).then(|| check.overrides.join("; "));
        self.record(Some(wave.index), None, Step::Precheck, "proceed", detail)
            .await;
        if let Ok(mut p) = self.progress.lock() {
            p.checked.insert(wave.index);
        }
        Ok(())
    }
}

fn halted(h: Halt) -> CampaignState {
    match h {
        Halt::Abort { node, step } => CampaignState::Aborted { node, step },
        Halt::Fail { node, step, reason } => CampaignState::Failed { node, step, reason },
    }
}

/// One line for the report's outcome.
pub fn outcome_text(s: &CampaignState) -> String {
    match s {
        CampaignState::Completed => "completed".into(),
        CampaignState::Held { wave, reason } => format!("held before wave {}: {reason}", wave + 1),
        CampaignState::Failed { node, step, reason } if node.is_empty() => {
            format!("failed at {}: {reason}", step.name())
        }
        CampaignState::Failed { node, step, reason } => {
            format!("failed at node/{node} {}: {reason}", step.name())
        }
        CampaignState::Aborted {
            node: Some(n),
            step,
        } => {
            format!("aborted at node/{n} {}", step.name())
        }
        CampaignState::Aborted { node: None, step } => format!("aborted at {}", step.name()),
    }
}
