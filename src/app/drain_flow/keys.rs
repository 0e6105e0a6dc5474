//! The workflow's keys: one table read by the key handler, the help overlay, the hint bar
//! and each dialog's bottom line.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::app::keymap::Key;
use crate::app::model::Model;

/// Which keys apply (one per dialog, plus the nodes pane's demo key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ctx {
    Confirm,
    Options,
    Plan,
    Live,
    Resume,
    NodesDemo,
    /// Quitting while a drain runs.
    Quit,
}

impl Ctx {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            Ctx::Confirm => "Cordon / uncordon dialog",
            Ctx::Options => "Drain options",
            Ctx::Plan => "Drain plan",
            Ctx::Live => "Drain progress",
            Ctx::Resume => "Unfinished maintenance (on start)",
            Ctx::NodesDemo => "Nodes pane (demo cluster)",
            Ctx::Quit => "Quit during a drain",
        }
    }

    /// Its name in a config's `keys:` (`drain-panel.cancel-drain`).
    pub fn slug(self) -> &'static str {
        match self {
            Ctx::Confirm => "confirm",
            Ctx::Options => "drain-options",
            Ctx::Plan => "drain-plan",
            Ctx::Live => "drain-panel",
            Ctx::Resume => "resume",
            Ctx::NodesDemo => "nodes-demo",
            Ctx::Quit => "quit-dialog",
        }
    }

    /// Every context, in help order.
    pub const ALL: [Ctx; 7] = [
        Ctx::Confirm,
        Ctx::Options,
        Ctx::Plan,
        Ctx::Live,
        Ctx::Resume,
        Ctx::NodesDemo,
        Ctx::Quit,
    ];
}

/// What a workflow key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowAction {
    Confirm,
    Cancel,
    Up,
    Down,
    Toggle,
    Plan,
    Start,
    Back,
    CancelDrain,
    Close,
    Upgrade,
    Resume,
    Uncordon,
    /// Out of the drain panel to the next / previous pane (the drain goes on).
    NextPane,
    PrevPane,
    /// Put the drain panel away (`v` brings it back).
    Hide,
}

impl FlowAction {
    /// Its name in a config's `keys:`.
    pub fn slug(self) -> &'static str {
        match self {
            FlowAction::Confirm => "confirm",
            FlowAction::Cancel => "cancel",
            FlowAction::Up => "up",
            FlowAction::Down => "down",
            FlowAction::Toggle => "toggle",
            FlowAction::Plan => "plan",
            FlowAction::Start => "start",
            FlowAction::Back => "back",
            FlowAction::CancelDrain => "cancel-drain",
            FlowAction::Close => "close",
            FlowAction::Upgrade => "upgrade",
            FlowAction::Resume => "resume",
            FlowAction::Uncordon => "uncordon",
            FlowAction::NextPane => "next-pane",
            FlowAction::PrevPane => "prev-pane",
            FlowAction::Hide => "hide",
        }
    }
}

/// One workflow key binding.
#[derive(Debug, Clone, Copy)]
pub struct FlowBinding {
    pub keys: &'static [Key],
    pub action: FlowAction,
    pub ctx: Ctx,
    pub help: &'static str,
    pub hint: &'static str,
}

impl FlowBinding {
    /// Its name in a config's `keys:`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.ctx.slug(), self.action.slug())
    }

    /// Its keys in this session (the config may remap them).
    pub fn keys(&self) -> &'static [Key] {
        crate::app::remap::named_keys(self.keys, || self.name())
    }
}

/// The workflow's bindings as key remapping sees them.
pub fn named_bindings() -> Vec<crate::app::remap::Named> {
    FLOW_BINDINGS
        .iter()
        .map(|b| crate::app::remap::Named {
            name: b.name(),
            places: vec![b.ctx.slug()],
            keys: b.keys,
        })
        .collect()
}

const fn fb(
    keys: &'static [Key],
    action: FlowAction,
    ctx: Ctx,
    help: &'static str,
    hint: &'static str,
) -> FlowBinding {
    FlowBinding {
        keys,
        action,
        ctx,
        help,
        hint,
    }
}

use Key::{Ch, Code};

/// The workflow's keys: looked up here, and listed by the help overlay, the hint bar and each
/// dialog's bottom line.
pub const FLOW_BINDINGS: &[FlowBinding] = &[
    fb(
        &[Code(KeyCode::Enter), Ch('y')],
        FlowAction::Confirm,
        Ctx::Confirm,
        "do it",
        "confirm",
    ),
    fb(
        &[Code(KeyCode::Esc), Ch('n')],
        FlowAction::Cancel,
        Ctx::Confirm,
        "leave the node as it is",
        "cancel",
    ),
    fb(
        &[Code(KeyCode::Up), Code(KeyCode::BackTab)],
        FlowAction::Up,
        Ctx::Options,
        "move; type to edit",
        "move",
    ),
    fb(
        &[Code(KeyCode::Down), Code(KeyCode::Tab)],
        FlowAction::Down,
        Ctx::Options,
        "next option (type to edit a value)",
        "",
    ),
    fb(
        &[Ch(' ')],
        FlowAction::Toggle,
        Ctx::Options,
        "tick / untick a flag",
        "toggle",
    ),
    fb(
        &[Code(KeyCode::Enter)],
        FlowAction::Plan,
        Ctx::Options,
        "show the plan",
        "plan",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Cancel,
        Ctx::Options,
        "cancel",
        "cancel",
    ),
    fb(
        &[Code(KeyCode::Enter)],
        FlowAction::Start,
        Ctx::Plan,
        "start (unless blocked; an outage asks once more)",
        "start drain",
    ),
    fb(
        &[Code(KeyCode::Enter)],
        FlowAction::Start,
        Ctx::Plan,
        "on the second Enter: accept the outage (--allow-outage)",
        "accept the outage",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Plan,
        "scroll (k up)",
        "scroll",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Plan,
        "scroll up",
        "",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Back,
        Ctx::Plan,
        "back to the options",
        "options",
    ),
    fb(
        &[Ch('x')],
        FlowAction::CancelDrain,
        Ctx::Live,
        "cancel; stays cordoned",
        "cancel drain",
    ),
    fb(
        &[Ch('U')],
        FlowAction::Upgrade,
        Ctx::Live,
        "simulated OS upgrade",
        "upgrade (demo)",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Live,
        "scroll (k up)",
        "scroll",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Live,
        "scroll up",
        "",
    ),
    fb(
        &[Ch('u')],
        FlowAction::Uncordon,
        Ctx::Live,
        "uncordon the node (when over; asks first)",
        "uncordon",
    ),
    fb(
        &[Ch('r')],
        FlowAction::Resume,
        Ctx::Live,
        "drain it again (when over)",
        "drain again",
    ),
    fb(
        &[Code(KeyCode::Esc), Code(KeyCode::Enter)],
        FlowAction::Close,
        Ctx::Live,
        "close (when over)",
        "close",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Back,
        Ctx::Live,
        "back to the nodes; the drain goes on",
        "nodes",
    ),
    fb(
        &[Code(KeyCode::Tab)],
        FlowAction::NextPane,
        Ctx::Live,
        "next pane; the drain goes on (Shift-Tab back)",
        "pane",
    ),
    fb(
        &[Code(KeyCode::BackTab)],
        FlowAction::PrevPane,
        Ctx::Live,
        "previous pane",
        "",
    ),
    fb(
        &[Ch('v')],
        FlowAction::Hide,
        Ctx::Live,
        "put the panel away (v brings it back)",
        "hide",
    ),
    fb(
        &[Ch('j'), Code(KeyCode::Down)],
        FlowAction::Down,
        Ctx::Resume,
        "move (k up)",
        "move",
    ),
    fb(
        &[Ch('k'), Code(KeyCode::Up)],
        FlowAction::Up,
        Ctx::Resume,
        "previous node",
        "",
    ),
    fb(
        &[Ch('r')],
        FlowAction::Resume,
        Ctx::Resume,
        "drain it again",
        "resume drain",
    ),
    fb(
        &[Ch('u')],
        FlowAction::Uncordon,
        Ctx::Resume,
        "uncordon (asks first)",
        "uncordon",
    ),
    fb(
        &[Code(KeyCode::Esc)],
        FlowAction::Cancel,
        Ctx::Resume,
        "leave them for now",
        "later",
    ),
    fb(
        &[Ch('U')],
        FlowAction::Upgrade,
        Ctx::NodesDemo,
        "simulated OS upgrade",
        "upgrade (demo)",
    ),
    fb(
        &[Ch('y'), Code(KeyCode::Enter)],
        FlowAction::Confirm,
        Ctx::Quit,
        "quit: cancels the drain; the node stays cordoned",
        "quit",
    ),
    fb(
        &[Ch('n'), Code(KeyCode::Esc)],
        FlowAction::Cancel,
        Ctx::Quit,
        "stay: the drain goes on",
        "stay",
    ),
];

/// The context the keyboard is in, if the workflow owns it.
pub fn ctx(m: &Model) -> Option<Ctx> {
    match &m.flow.dialog {
        Some(Dialog::Cordon { .. } | Dialog::Uncordon { .. }) => Some(Ctx::Confirm),
        Some(Dialog::Options(_)) => Some(Ctx::Options),
        Some(Dialog::Plan { .. }) => Some(Ctx::Plan),
        Some(Dialog::Live) => Some(Ctx::Live),
        Some(Dialog::Resume { .. }) => Some(Ctx::Resume),
        Some(Dialog::Quit { .. }) => Some(Ctx::Quit),
        None => None,
    }
}

/// Whether `b` is usable right now (state-dependent keys come and go).
pub fn available(m: &Model, b: &FlowBinding) -> bool {
    let running = m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none());
    match (b.ctx, b.action) {
        (Ctx::NodesDemo, _) => m.flow.demo_upgrade && !m.readonly,
        (Ctx::Live, FlowAction::CancelDrain) => running,
        (Ctx::Live, FlowAction::Close) => !running,
        (Ctx::Live, FlowAction::Back) => running,
        (Ctx::Live, FlowAction::Uncordon) => !running && !m.readonly,
        (Ctx::Live, FlowAction::Resume) => {
            !running && !m.readonly && !m.flow.live.as_ref().is_some_and(|l| l.is_drained())
        }
        (Ctx::Live, FlowAction::Upgrade) => {
            m.flow.demo_upgrade
                && !m.readonly
                && m.flow.live.as_ref().is_some_and(|l| l.is_drained())
        }
        (Ctx::Resume, FlowAction::Resume | FlowAction::Uncordon) => !m.readonly,
        // The plan's Enter reads "accept the outage" while the second confirmation is open.
        (Ctx::Plan, FlowAction::Start) => {
            !m.readonly
                && m.flow.cannot_change.is_none()
                && (b.hint == "accept the outage") == outage_question(m)
        }
        _ => true,
    }
}

/// The plan asks whether to accept its outage (the next Enter starts the drain).
fn outage_question(m: &Model) -> bool {
    matches!(
        m.flow.dialog,
        Some(Dialog::Plan {
            confirm_outage: true,
            ..
        })
    )
}

/// Whether `b` is shown in help (state aside: everything the mode could offer).
pub fn in_help(m: &Model, b: &FlowBinding) -> bool {
    match b.ctx {
        Ctx::NodesDemo => m.flow.demo_upgrade && !m.readonly,
        Ctx::Live if b.action == FlowAction::Upgrade => m.flow.demo_upgrade && !m.readonly,
        Ctx::Plan if b.action == FlowAction::Start => !m.readonly && m.flow.cannot_change.is_none(),
        // Read-only previews a drain's options and plan; it cannot confirm or drain.
        _ => !m.readonly || !matches!(b.ctx, Ctx::Confirm | Ctx::Live),
    }
}

/// Hints for the current dialog: (key, label), as many as the dialog offers now.
pub fn hints(m: &Model, c: Ctx) -> Vec<(String, &'static str)> {
    FLOW_BINDINGS
        .iter()
        .filter(|b| b.ctx == c && !b.hint.is_empty() && available(m, b))
        .map(|b| (key_label(b.keys()[0]), b.hint))
        .collect()
}

/// A key as hints and help write it (`Space` for the space bar).
pub fn key_label(k: Key) -> String {
    match k {
        Key::Ch(' ') => "Space".into(),
        k => k.label(),
    }
}

/// Whether `k` is the nodes pane's demo key, available or not (to say why it is off).
pub(super) fn demo_key(k: &KeyEvent) -> bool {
    FLOW_BINDINGS
        .iter()
        .filter(|b| b.ctx == Ctx::NodesDemo)
        .any(|b| b.keys().iter().any(|key| key.matches(k)))
}

pub(super) fn lookup(m: &Model, c: Ctx, k: &KeyEvent) -> Option<FlowAction> {
    FLOW_BINDINGS
        .iter()
        .filter(|b| b.ctx == c && available(m, b))
        .find(|b| b.keys().iter().any(|key| key.matches(k)))
        .map(|b| b.action)
}
