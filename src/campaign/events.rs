//! What a running campaign reports, in order; the last event is [`CampaignEvent::Finished`].

use serde::Serialize;

use super::journal::Step;
use super::plan::WaveCheck;
use super::report::Report;
use crate::drain::events::DrainEvent;

/// How a campaign ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum CampaignState {
    /// Every wave went through every step.
    Completed,
    /// A wave's pre-check held it before it started.
    Held { wave: usize, reason: String },
    /// A step failed (a drain that did not finish, an uncordon refused ...).
    Failed {
        node: String,
        step: Step,
        reason: String,
    },
    /// Aborted through the handle (Ctrl-C): nodes stay as they are, the journal says where.
    Aborted { node: Option<String>, step: Step },
}

impl CampaignState {
    /// Whether the campaign went all the way.
    pub fn completed(&self) -> bool {
        matches!(self, CampaignState::Completed)
    }
}

/// Everything a campaign reports.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum CampaignEvent {
    /// A wave's pre-check.
    Checked(Box<WaveCheck>),
    /// A node finished a step (`detail`: e.g. versions after the gate).
    Phase {
        node: Option<String>,
        wave: usize,
        step: Step,
        detail: Option<String>,
    },
    /// The operator has to upgrade `node` now: the commands to run on its host. With a hook
    /// (`by_hook`), the campaign started the upgrade itself.
    UpgradeNow {
        node: String,
        commands: Vec<String>,
        by_hook: bool,
    },
    /// What the campaign waits for, in one line (sent when it changes).
    Waiting {
        node: Option<String>,
        message: String,
    },
    /// Paused through the handle (`true`) or resumed (`false`).
    Paused(bool),
    /// An event of a node's drain.
    Drain(Box<DrainEvent>),
    /// Something worth a line that changes nothing.
    Notice(String),
    /// The end (and the report).
    Finished {
        state: CampaignState,
        report: Box<Report>,
    },
}
