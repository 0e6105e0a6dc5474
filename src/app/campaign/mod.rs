//! The campaign inside the TUI: nodes marked with Space, the campaign form (`C`), the plan it
//! makes (the same `campaign::prepare` as `kubedrain campaign`), and the campaign view
//! (`:campaign`) that follows the running campaign's events. State and pure `update` logic
//! only; `campaign_exec.rs` runs the engine.

mod form;
mod keys;
mod run;
mod update;

pub use form::*;
pub use keys::*;
pub use run::*;
pub use update::*;

use std::collections::BTreeSet;

use crate::campaign::events::CampaignEvent;
use crate::campaign::journal::{Progress, Spec};
use crate::campaign::prepare::Request;

/// Results coming back from the campaign executor. Errors are the text the model shows:
/// messages are `Clone` and never matched on, so the executor renders them once.
#[derive(Debug, Clone)]
pub enum CampaignMsg {
    /// The plan for the form's request, or why there is none.
    Planned(Result<Box<PlanView>, String>),
    /// The campaign started (its id), or could not.
    Started(Result<String, String>),
    /// An event of the running campaign.
    Event(Box<CampaignEvent>),
    /// Where the report was written (Markdown, JSON), or why it was not.
    Report(Result<(String, String), String>),
    /// The campaign journal's last unfinished campaign against this cluster (read on start).
    Unfinished(Box<Progress>),
}

/// Side effects of the campaign.
#[derive(Debug, Clone, PartialEq)]
pub enum CampaignCmd {
    /// Read the cluster and plan `Request` (→ `CampaignMsg::Planned`).
    Prepare(Request),
    /// Start this campaign.
    Start(Box<Spec>),
    /// Resume the journaled campaign.
    Resume(Box<Progress>),
    Pause,
    Continue,
    Abort,
}

/// The plan shown before a campaign starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub spec: Spec,
    /// The order and the first wave's pre-check, as `kubedrain campaign --dry-run` prints them.
    pub lines: Vec<String>,
    /// Why it must not start (version skew policy, or the first wave's pre-check).
    pub held: Option<String>,
}

/// What is drawn over the screen for the campaign.
#[derive(Debug, Clone, PartialEq)]
pub enum CampaignDialog {
    Form(CampaignForm),
    /// The form was sent; the plan is being made.
    Preparing(CampaignForm),
    Plan {
        form: CampaignForm,
        plan: Box<PlanView>,
        scroll: usize,
    },
}

/// The campaign's part of the model.
#[derive(Debug, Default)]
pub struct CampaignUi {
    /// Nodes marked with Space in the nodes pane.
    pub marked: BTreeSet<String>,
    pub dialog: Option<CampaignDialog>,
    /// The running (or last) campaign.
    pub run: Option<CampaignRun>,
    /// An unfinished campaign found in the journal at start.
    pub unfinished: Option<Box<Progress>>,
    /// `A` was pressed once: the next `A` aborts.
    pub abort_armed: bool,
    /// The campaign panel was put away (`v` in it); `v` brings it back.
    pub panel_hidden: bool,
    /// The campaign panel has the keyboard.
    pub panel_focused: bool,
}

impl CampaignUi {
    /// A campaign is running (started and not finished).
    pub fn running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| r.finished.is_none())
    }

    /// The campaign panel is on screen (focused or not): a campaign ran and was not put away.
    pub fn panel_shown(&self) -> bool {
        self.run.is_some() && !self.panel_hidden
    }
}
