//! Runs the campaign's `CampaignCmd`s on the campaign engine: plan (the same
//! `campaign::prepare` as the headless command), start or resume, pause, abort; writes the
//! report at the end. Events come back as `Msg::Campaign`, like everything else.

use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use super::campaign::{CampaignCmd, CampaignMsg, PlanView};
use super::drain_flow::OptionsForm;
use super::flow_exec::{FlowSetup, UpgradeFn};
use super::msg::Msg;
use crate::campaign::events::CampaignEvent;
use crate::campaign::exec::{CampaignControl, Setup, Start, start_campaign};
use crate::campaign::journal::{CampaignJournal, last_unfinished};
use crate::campaign::prepare::{PrepareError, Request, prepare};
use crate::campaign::report;
use crate::campaign::text::{check_lines, order_lines};
use crate::drain::journal::{Journal, state_dir};
use crate::drain::options::DrainOptions;

/// The executor's campaign half.
pub struct CampaignExec {
    /// The drain client, or why there is none.
    client: Result<kube::Client, String>,
    journal: CampaignJournal,
    drain_journal: Journal,
    upgrade: Option<UpgradeFn>,
    tx: mpsc::Sender<Msg>,
    control: Option<CampaignControl>,
}

impl CampaignExec {
    /// `drain_journal`: the TUI's drain journal (one writer per file).
    pub fn new(setup: &FlowSetup, drain_journal: Journal, tx: mpsc::Sender<Msg>) -> CampaignExec {
        CampaignExec {
            client: setup.client.clone(),
            journal: CampaignJournal::open(setup.target.clone()),
            drain_journal,
            upgrade: setup.upgrade.clone(),
            tx,
            control: None,
        }
    }

    /// Reads the campaign journal: an unfinished campaign against this cluster is offered.
    pub fn start(&self) {
        let journal = self.journal.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(p) = last_unfinished(&journal.entries(), &journal.target.server) {
                let _ = tx.blocking_send(Msg::Campaign(CampaignMsg::Unfinished(Box::new(p))));
            }
        });
    }

    /// Aborts a running campaign (on quit): nodes stay as they are, the journal says where.
    pub fn stop(&mut self) {
        if let Some(c) = self.control.take() {
            c.abort();
        }
    }

    pub fn run(&mut self, cmd: CampaignCmd) {
        let client = match &self.client {
            Ok(c) => c.clone(),
            Err(why) => {
                let _ = self
                    .tx
                    .try_send(Msg::Flash(format!("cannot run a campaign: {why}")));
                return;
            }
        };
        match cmd {
            CampaignCmd::Prepare(req) => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    // The model only shows why: the message carries the text.
                    let planned = plan(&client, &req)
                        .await
                        .map(Box::new)
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::Campaign(CampaignMsg::Planned(planned))).await;
                });
            }
            CampaignCmd::Start(spec) => self.launch(client, Start::New(*spec)),
            CampaignCmd::Resume(p) => self.launch(client, Start::Resume(*p)),
            CampaignCmd::Pause => self.control.iter().for_each(|c| c.pause()),
            CampaignCmd::Continue => self.control.iter().for_each(|c| c.resume()),
            CampaignCmd::Abort => self.control.iter().for_each(|c| c.abort()),
        }
    }

    fn launch(&mut self, client: kube::Client, start: Start) {
        let setup = Setup {
            client,
            journal: self.journal.clone(),
            drain_journal: self.drain_journal.clone(),
            opts: drain_options(match &start {
                Start::New(s) => s.allow_outage,
                Start::Resume(p) => p.spec.allow_outage,
            }),
            upgrade: self.upgrade.clone(),
            poll: Duration::from_secs(1),
        };
        // The engine's sink is synchronous: events go through an unbounded queue to a task
        // that forwards them in order (and writes the report at the end).
        let (etx, erx) = mpsc::unbounded_channel::<CampaignEvent>();
        let handle = start_campaign(setup, start, move |e| {
            let _ = etx.send(e);
        });
        let _ = self
            .tx
            .try_send(Msg::Campaign(CampaignMsg::Started(Ok(handle
                .id()
                .to_string()))));
        self.control = Some(handle.control());
        tokio::spawn(forward(erx, self.tx.clone()));
    }
}

/// Forwards the campaign's events; on its end, writes the report where the headless command
/// writes it (the state directory) and says where.
async fn forward(mut erx: mpsc::UnboundedReceiver<CampaignEvent>, tx: mpsc::Sender<Msg>) {
    while let Some(e) = erx.recv().await {
        let report = match &e {
            CampaignEvent::Finished { report: r, .. } => Some(r.clone()),
            _ => None,
        };
        if tx
            .send(Msg::Campaign(CampaignMsg::Event(Box::new(e))))
            .await
            .is_err()
        {
            return;
        }
        if let Some(r) = report {
            let prefix = state_dir().join(format!("campaign-{}", r.campaign));
            let written = tokio::task::spawn_blocking(move || report::write(&r, &prefix))
                .await
                .map_err(|e| e.to_string())
                .and_then(|w| w.map_err(|e| format!("cannot write the report: {e}")));
            let _ = tx.send(Msg::Campaign(CampaignMsg::Report(written))).await;
        }
    }
}

/// The drain options of a campaign's nodes: the drain form's defaults.
fn drain_options(allow_outage: bool) -> DrainOptions {
    DrainOptions {
        allow_outage,
        ..OptionsForm::new("").options().unwrap_or_default()
    }
}

/// [`drain_options`] as `kubedrain campaign` flags.
pub const DRAIN_FLAGS: &str = "--ignore-daemonsets";

/// The plan for `req`: the order, and the first wave's pre-check on the cluster as it is now
/// (each later wave is checked again before it starts, as the engine does).
async fn plan(client: &kube::Client, req: &Request) -> Result<PlanView, PrepareError> {
    let p = prepare(client, req).await?;
    let mut lines = order_lines(&p.spec);
    lines.push(format!("  each node drained with {DRAIN_FLAGS}"));
    let mut held = p.held.clone();
    if held.is_none()
        && let Some(first) = p.spec.waves.first()
    {
        let opts = drain_options(req.allow_outage);
        let check = p.cluster.check(first, &opts, Timestamp::now());
        lines.extend(check_lines(&check, p.spec.waves.len()));
        if p.spec.waves.len() > 1 {
            lines.push("(each later wave is checked the same way before it starts)".into());
        }
        held = check.held.map(|r| format!("wave 1 would be held: {r}"));
    }
    Ok(PlanView {
        spec: p.spec,
        lines,
        held,
    })
}
