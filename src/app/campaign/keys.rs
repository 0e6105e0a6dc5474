//! The campaign's keys: one table read by the key handler, the help overlay, the hint bar
//! and the dialogs' bottom lines.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::{CampaignDialog, CampaignUi};
use crate::app::keymap::Key;
use crate::app::model::{Model, View};

/// Where campaign keys apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CCtx {
    Form,
    Plan,
    /// The campaign view (`:campaign`).
    View,
    /// The campaign panel in the main view, between nodes and pods.
    Panel,
}

impl CCtx {
    /// Heading in the help screen.
    pub fn title(self) -> &'static str {
        match self {
            CCtx::Form => "Campaign form",
            CCtx::Plan => "Campaign plan",
            CCtx::View => "Campaign view",
            CCtx::Panel => "Campaign panel",
        }
    }
}

impl CCtx {
    /// Its name in a config's `keys:`.
    pub fn slug(self) -> &'static str {
        match self {
            CCtx::Form => "campaign-form",
            CCtx::Plan => "campaign-plan",
            CCtx::View => "campaign-view",
            CCtx::Panel => "campaign-panel",
        }
    }
}

/// What a campaign key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CAction {
    Next,
    Prev,
    Left,
    Right,
    Plan,
    Start,
    Cancel,
    Pause,
    Abort,
    Resume,
    Up,
    Down,
    Back,
    /// The panel's campaign over the whole body (`:campaign`).
    Zoom,
    /// Out of the panel to the next / previous pane (the campaign goes on).
    NextPane,
    PrevPane,
    /// Put the panel away (`v` brings it back).
    Hide,
}

impl CAction {
    /// Its name in a config's `keys:`.
    pub fn slug(self) -> &'static str {
        match self {
            CAction::Next => "next",
            CAction::Prev => "prev",
            CAction::Left => "left",
            CAction::Right => "right",
            CAction::Plan => "plan",
            CAction::Start => "start",
            CAction::Cancel => "cancel",
            CAction::Pause => "pause",
            CAction::Abort => "abort",
            CAction::Resume => "resume",
            CAction::Up => "up",
            CAction::Down => "down",
            CAction::Back => "back",
            CAction::Zoom => "zoom",
            CAction::NextPane => "next-pane",
            CAction::PrevPane => "prev-pane",
            CAction::Hide => "hide",
        }
    }
}

/// One campaign key binding.
#[derive(Debug, Clone, Copy)]
pub struct CBinding {
    pub keys: &'static [Key],
    pub action: CAction,
    /// Where it applies (the view and the panel share most keys).
    pub ctxs: &'static [CCtx],
    pub help: &'static str,
    pub hint: &'static str,
    /// Changes the cluster: refused with `--readonly`.
    pub mutating: bool,
}

impl CBinding {
    /// Its name in a config's `keys:`: `campaign.` for the keys the view and the panel share.
    pub fn name(&self) -> String {
        let place = match self.ctxs {
            [one] => one.slug(),
            _ => "campaign",
        };
        format!("{place}.{}", self.action.slug())
    }

    /// Its keys in this session (the config may remap them).
    pub fn keys(&self) -> &'static [Key] {
        crate::app::remap::named_keys(self.keys, || self.name())
    }
}

/// The campaign's bindings as key remapping sees them.
pub fn named_bindings() -> Vec<crate::app::remap::Named> {
    CAMPAIGN_BINDINGS
        .iter()
        .map(|b| crate::app::remap::Named {
            name: b.name(),
            places: b.ctxs.iter().map(|c| c.slug()).collect(),
            keys: b.keys,
        })
        .collect()
}

const fn cb(
    keys: &'static [Key],
    action: CAction,
    ctxs: &'static [CCtx],
    help: &'static str,
    hint: &'static str,
    mutating: bool,
) -> CBinding {
    CBinding {
        keys,
        action,
        ctxs,
        help,
        hint,
        mutating,
    }
}

use Key::{Ch, Code};

/// Every campaign key.
pub const CAMPAIGN_BINDINGS: &[CBinding] = &[
    cb(
        &[Code(KeyCode::Down), Code(KeyCode::Tab)],
        CAction::Next,
        &[CCtx::Form],
        "next field (type to edit)",
        "move",
        false,
    ),
    cb(
        &[Code(KeyCode::Up), Code(KeyCode::BackTab)],
        CAction::Prev,
        &[CCtx::Form],
        "previous field",
        "",
        false,
    ),
    cb(
        &[Code(KeyCode::Left)],
        CAction::Left,
        &[CCtx::Form],
        "nodes: previous choice",
        "",
        false,
    ),
    cb(
        &[Code(KeyCode::Right)],
        CAction::Right,
        &[CCtx::Form],
        "nodes, hold points: next choice",
        "choose",
        false,
    ),
    cb(
        &[Code(KeyCode::Enter)],
        CAction::Plan,
        &[CCtx::Form],
        "plan the campaign (reads the cluster)",
        "plan",
        false,
    ),
    cb(
        &[Code(KeyCode::Esc)],
        CAction::Cancel,
        &[CCtx::Form],
        "cancel",
        "cancel",
        false,
    ),
    cb(
        &[Code(KeyCode::Enter)],
        CAction::Start,
        &[CCtx::Plan],
        "start the campaign (unless held)",
        "start campaign",
        true,
    ),
    cb(
        &[Ch('j'), Code(KeyCode::Down)],
        CAction::Down,
        &[CCtx::Plan],
        "scroll",
        "",
        false,
    ),
    cb(
        &[Ch('k'), Code(KeyCode::Up)],
        CAction::Up,
        &[CCtx::Plan],
        "scroll",
        "",
        false,
    ),
    cb(
        &[Code(KeyCode::Esc)],
        CAction::Back,
        &[CCtx::Plan],
        "back to the form",
        "back",
        false,
    ),
    cb(
        &[Ch('j'), Code(KeyCode::Down)],
        CAction::Down,
        &[CCtx::View, CCtx::Panel],
        "next node (its drain below)",
        "node",
        false,
    ),
    cb(
        &[Ch('k'), Code(KeyCode::Up)],
        CAction::Up,
        &[CCtx::View, CCtx::Panel],
        "previous node",
        "",
        false,
    ),
    cb(
        &[Ch('p')],
        CAction::Pause,
        &[CCtx::View, CCtx::Panel],
        "pause / go on (at the next step boundary)",
        "pause/go on",
        true,
    ),
    cb(
        &[Ch('A')],
        CAction::Abort,
        &[CCtx::View, CCtx::Panel],
        "abort (press twice; nodes stay as they are)",
        "abort",
        true,
    ),
    cb(
        &[Ch('R')],
        CAction::Resume,
        &[CCtx::View],
        "resume the unfinished campaign",
        "resume",
        true,
    ),
    cb(
        &[Code(KeyCode::Esc)],
        CAction::Back,
        &[CCtx::View],
        "back to the nodes (the campaign goes on)",
        "back",
        false,
    ),
    cb(
        &[Code(KeyCode::Enter)],
        CAction::Zoom,
        &[CCtx::Panel],
        "the whole campaign view (:campaign)",
        "full view",
        false,
    ),
    cb(
        &[Code(KeyCode::Esc)],
        CAction::Back,
        &[CCtx::Panel],
        "back to the nodes; the campaign goes on",
        "",
        false,
    ),
    cb(
        &[Code(KeyCode::Tab)],
        CAction::NextPane,
        &[CCtx::Panel],
        "next pane; the campaign goes on (Shift-Tab back)",
        "",
        false,
    ),
    cb(
        &[Code(KeyCode::BackTab)],
        CAction::PrevPane,
        &[CCtx::Panel],
        "previous pane",
        "",
        false,
    ),
    cb(
        &[Ch('v')],
        CAction::Hide,
        &[CCtx::Panel],
        "put the panel away (v brings it back)",
        "hide",
        false,
    ),
];

/// The campaign context the keyboard is in, if any.
pub fn cctx(m: &Model) -> Option<CCtx> {
    match &m.campaign.dialog {
        Some(CampaignDialog::Form(_) | CampaignDialog::Preparing(_)) => Some(CCtx::Form),
        Some(CampaignDialog::Plan { .. }) => Some(CCtx::Plan),
        None if m.view == View::Campaign => Some(CCtx::View),
        None if crate::app::panel::focused(m) == Some(crate::app::panel::Panel::Campaign) => {
            Some(CCtx::Panel)
        }
        None => None,
    }
}

/// Whether `b` can act now (state-dependent keys come and go).
pub fn available(m: &Model, b: &CBinding) -> bool {
    let c: &CampaignUi = &m.campaign;
    if b.mutating && m.readonly {
        return false;
    }
    match b.action {
        CAction::Pause | CAction::Abort => c.running(),
        CAction::Resume => !c.running() && c.unfinished.is_some(),
        CAction::Start => matches!(
            &c.dialog,
            Some(CampaignDialog::Plan { plan, .. }) if plan.held.is_none()
        ),
        _ => true,
    }
}

/// The action of `k` in `c`, if any (also unavailable ones, so they can say why).
pub fn lookup(c: CCtx, k: &KeyEvent) -> Option<&'static CBinding> {
    CAMPAIGN_BINDINGS
        .iter()
        .find(|b| b.ctxs.contains(&c) && b.keys().iter().any(|key| key.matches(k)))
}

/// Hints for `c`: (key, label), those usable now.
pub fn hints(m: &Model, c: CCtx) -> Vec<(String, &'static str)> {
    CAMPAIGN_BINDINGS
        .iter()
        .filter(|b| b.ctxs.contains(&c) && !b.hint.is_empty() && available(m, b))
        .map(|b| (crate::app::drain_flow::key_label(b.keys()[0]), b.hint))
        .collect()
}
