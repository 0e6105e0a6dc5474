//! The panel between the nodes and pods panes: the live drain, or the running campaign.
//! One slot, so the two never fight over the screen; `v` shows (and focuses) whichever
//! belongs there, and the panel's own `v` puts it away.

use super::model::{Model, Pane, View};

/// What the panel slot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Drain,
    Campaign,
}

/// The panel on screen in the main view, if any. A running campaign wins over a finished
/// drain; a drain shown after a campaign wins over the campaign's last state.
pub fn shown(m: &Model) -> Option<Panel> {
    if m.view != View::Main {
        return None;
    }
    let campaign = m.campaign.panel_shown();
    match (m.flow.panel_shown(), campaign) {
        (true, true) if m.campaign.running() => Some(Panel::Campaign),
        (true, _) => Some(Panel::Drain),
        (false, true) => Some(Panel::Campaign),
        (false, false) => None,
    }
}

/// The panel that has the keyboard, if any.
pub fn focused(m: &Model) -> Option<Panel> {
    let p = shown(m)?;
    let has_keys = match p {
        Panel::Drain => m.flow.panel_focused(),
        Panel::Campaign => m.campaign.panel_focused,
    };
    has_keys.then_some(p)
}

/// `v` outside the panel: shows and focuses what belongs in it, or says there is nothing.
pub fn show(m: &mut Model) {
    // A running campaign first; then the last drain; then the last campaign.
    let campaign = m.campaign.run.is_some()
        && (m.campaign.running() || m.flow.live.is_none() || m.flow.panel_hidden);
    if m.flow.live.is_none() && m.campaign.run.is_none() {
        let text = "no drain or campaign to show: r on a node plans a drain, C a campaign";
        m.say(text);
        return;
    }
    m.view = View::Main;
    m.focus = Pane::Nodes;
    m.stale = true;
    if campaign {
        focus_campaign(m);
    } else {
        m.campaign.panel_focused = false;
        m.flow.focus_panel();
    }
}

/// Puts the campaign panel on screen with the keyboard (a drain panel steps aside).
pub fn focus_campaign(m: &mut Model) {
    m.campaign.panel_hidden = false;
    m.campaign.panel_focused = true;
    m.flow.panel_hidden = true;
    if matches!(m.flow.dialog, Some(super::drain_flow::Dialog::Live)) {
        m.flow.dialog = None;
    }
}

/// A single drain starts: the campaign panel steps aside (`v` shows the drain's).
pub fn drain_started(m: &mut Model) {
    m.campaign.panel_hidden = true;
    m.campaign.panel_focused = false;
}
