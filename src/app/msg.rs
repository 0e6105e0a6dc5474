//! Messages into `update` and commands out of it.

use jiff::Timestamp;
use ratatui::crossterm::event::KeyEvent;

use crate::cluster::watch::WatchReport;

/// Everything that can change the model. Background tasks only ever send these.
#[allow(clippy::large_enum_variant)] // see WatchReport
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press.
    Key(KeyEvent),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// The 1 s clock (ages and timers).
    Tick(Timestamp),
    /// The demo cluster's own time (it may run slower, faster or stand still).
    ClusterTime(Timestamp),
    /// A watcher report, tagged with the connection generation it belongs to; reports of an
    /// older generation are dropped.
    Watch {
        generation: u64,
        report: WatchReport,
    },
    /// Result of the periodic `/version` probe: whether the API server answers.
    Health(bool),
    /// The `/version` answer changed (a control-plane upgrade): the header shows the new one.
    ServerVersion(String),
    /// The uid of the kube-system namespace, read on every health probe: a different one
    /// means another cluster answers behind the same URL.
    ClusterUid(String),
    /// A short message for the status line (results of commands).
    Flash(String),
    /// Quit now (Ctrl-C signal, fatal error).
    Quit,
    /// The maintenance workflow (drain events, cordon/uncordon results, journal).
    Flow(super::drain_flow::FlowMsg),
    /// The campaign (plans, events, its report).
    Campaign(super::campaign::CampaignMsg),
    /// The demo cluster's clock changed (frozen, speed).
    Clock(super::demo_clock::ClockState),
    /// What a describe / YAML read found.
    Describe(super::describe::Answer),
}

/// A node-level mutation the keymap asks for (`c`, `u`, `r`); `drain_flow::open` turns it into
/// the matching dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeAction {
    Cordon,
    Uncordon,
    /// Open the drain plan / options for the node (the drain view).
    Drain,
}

impl NodeAction {
    /// The verb, as kubectl spells it.
    pub fn verb(self) -> &'static str {
        match self {
            NodeAction::Cordon => "cordon",
            NodeAction::Uncordon => "uncordon",
            NodeAction::Drain => "drain",
        }
    }
}

/// A side effect `update` asks for; executed by the loop, never by `update` itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Cmd {
    /// A maintenance-workflow side effect (cordon, uncordon, drain, cancel, demo upgrade).
    Flow(super::drain_flow::FlowCmd),
    /// A campaign side effect (plan, start, pause, abort).
    Campaign(super::campaign::CampaignCmd),
    /// Freeze, step or change the speed of the demo cluster's clock.
    Clock(super::demo_clock::ClockCmd),
    /// Stop the watchers and start them again for `generation`: everything is listed anew
    /// (another cluster answers behind the URL).
    Rewatch { generation: u64 },
    /// Read what the describe / YAML page shows (the full object, the node's pods, owners).
    Describe(super::describe::Request),
}
