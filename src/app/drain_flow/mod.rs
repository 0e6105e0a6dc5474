//! The maintenance workflow inside the TUI: cordon / uncordon confirmations, drain options →
//! plan → live drain, the demo OS upgrade, and the start-up offer to resume what kubedrain
//! left unfinished. State and pure `update` logic only; `flow_exec.rs` runs the side effects.

mod facts;
mod incoming;
mod keys;
mod live;
mod live_truth;
mod options_form;
mod update;

pub use facts::*;
pub use incoming::*;
pub use keys::*;
pub use live::*;
pub use live_truth::*;
pub use options_form::*;
pub use update::*;

use std::collections::BTreeMap;

use crate::drain::DsLookup;
use crate::drain::events::DrainEvent;
use crate::drain::journal::{NodeHistory, Unfinished};
use crate::drain::plan::DrainPlan;

/// Results coming back from the executor.
#[allow(clippy::large_enum_variant)]
/// Errors here are the text the model shows: messages are `Clone` and never matched on, so
/// the executor renders them once.
#[derive(Debug, Clone)]
pub enum FlowMsg {
    /// An event of the running drain.
    Drain(DrainEvent),
    /// A cordon / uncordon finished: `Ok(what happened)` or `Err(why, in plain words)`.
    NodeOp {
        node: String,
        verb: &'static str,
        result: Result<String, String>,
    },
    /// The journal, read once at start (for the resume offer).
    Journal(NodeHistory),
    /// The demo upgrade was started (or could not be).
    Upgrade {
        node: String,
        result: Result<(), String>,
    },
    /// Whether the DaemonSets owning `node`'s pods exist (DaemonSets are not watched).
    DaemonSets { node: String, found: DsChecks },
}

/// DaemonSet lookups by (namespace, name), as kubectl's filter needs them.
pub type DsChecks = BTreeMap<(String, String), DsLookup>;

/// Side effects of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowCmd {
    Cordon {
        node: String,
    },
    /// `force`: the user confirmed lifting a cordon kubedrain did not put there.
    Uncordon {
        node: String,
        force: bool,
    },
    Drain {
        node: String,
        form: OptionsForm,
    },
    /// Cancel the running drain (the node stays cordoned).
    CancelDrain,
    /// Demo only: simulate the node's OS upgrade (reboot, new versions).
    Upgrade {
        node: String,
    },
    /// GET each DaemonSet owning one of `node`'s pods, for the plan (kubectl does the same).
    CheckDaemonSets {
        node: String,
        owners: Vec<(String, String)>,
    },
}

/// The workflow's part of the model.
#[derive(Debug, Default)]
pub struct Flow {
    pub dialog: Option<Dialog>,
    /// The current (or last) drain.
    pub live: Option<LiveDrain>,
    /// The demo upgrade is available (built-in cluster only).
    pub demo_upgrade: bool,
    /// Why kubedrain cannot change the cluster (the drain client could not be built): cordon,
    /// uncordon and drain say this instead of acting.
    pub cannot_change: Option<String>,
    /// The journal, once read: each node's last line (not the whole file).
    pub journal: Option<NodeHistory>,
    /// The start-up resume check was done.
    pub resume_checked: bool,
    /// Demo upgrades in progress: node → boot ID and kubelet before.
    pub upgrading: BTreeMap<String, (String, String)>,
    /// The last DaemonSet check: the node it was for, and what was found.
    pub daemonsets: Option<(String, DsChecks)>,
    /// The drain options last started with (the next drain's form starts from them).
    pub last_options: Option<OptionsForm>,
    /// The drain panel was put away (`v`, or closed once over); `v` brings it back.
    pub panel_hidden: bool,
}

impl Flow {
    /// The drain panel is on screen (focused or not): a drain exists and was not put away.
    pub fn panel_shown(&self) -> bool {
        self.live.is_some() && !self.panel_hidden
    }

    /// The drain panel has the keyboard.
    pub fn panel_focused(&self) -> bool {
        match &self.dialog {
            Some(Dialog::Live) => true,
            // "Quit?" asked from the panel: the panel stays as it was under the question.
            Some(Dialog::Quit { back: Some(b), .. }) => matches!(**b, Dialog::Live),
            _ => false,
        }
    }

    /// Puts the drain panel on screen with the keyboard.
    pub fn focus_panel(&mut self) {
        self.panel_hidden = false;
        self.dialog = Some(Dialog::Live);
    }
}

/// What is drawn over the screen.
#[derive(Debug, Clone)]
pub enum Dialog {
    Cordon {
        node: String,
    },
    /// The facts are recomputed from the cache at every frame (Ready may change meanwhile).
    Uncordon {
        node: String,
    },
    Options(OptionsForm),
    Plan {
        form: OptionsForm,
        plan: Box<DrainPlan>,
        scroll: usize,
        /// Enter was pressed on an outage verdict: the next Enter accepts it.
        confirm_outage: bool,
    },
    /// The keyboard is in the drain panel (`Flow::live`), which stays on screen without it.
    Live,
    Resume {
        items: Vec<Unfinished>,
        selected: usize,
    },
    /// "Quit while `node` is being drained?" over `back`, the dialog it returns to.
    Quit {
        node: String,
        back: Option<Box<Dialog>>,
    },
}
