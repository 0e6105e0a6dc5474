//! What each key of the keymap does once `update` has found its action: moving, focusing,
//! switching scopes and views, and the node keys that open the workflow's dialogs.

use super::keymap::Action;
use super::model::{Filter, Input, Model, Nav, Overlay, Pane, PodCoverage, PodScope, Table, View};
use super::msg::{Cmd, NodeAction};
use super::views::set_nav;

/// Gives `p` the keyboard, in the main view. No view depends on the focus: nothing is
/// rebuilt (`Model::refresh` keeps the selections in the resized panes).
pub(super) fn focus(m: &mut Model, p: Pane) {
    m.view = View::Main;
    m.focus = p;
}

fn move_by(m: &mut Model, delta: isize) {
    if m.view == View::Timeline {
        let last = m.teach.timeline.len().saturating_sub(1);
        m.teach.scroll = m
            .teach
            .scroll
            .min(last)
            .saturating_add_signed(delta)
            .min(last);
        m.redraw = true;
        return;
    }
    if m.view == View::Versions {
        m.versions.scroll = m.versions.scroll.saturating_add_signed(delta);
        m.redraw = true;
        return;
    }
    let t = m.active_table();
    let len = m.views.len(t);
    if len == 0 {
        return;
    }
    let mut nav = m.nav(t);
    nav.selected = nav.selected.saturating_add_signed(delta).min(len - 1);
    if t == Table::Nodes {
        m.selected_node = m.views.nodes.get(nav.selected).cloned();
        m.nav.insert(Table::Pods, Nav::default());
        m.nav.insert(Table::Events, Nav::default());
        // The node list itself is unchanged: only the node's pods and events.
        m.dirty.pods = true;
        m.dirty.events = true;
    }
    set_nav(m, t, nav);
}

/// Runs the keymap action `a` (a key found in `BINDINGS` for the focused pane).
pub(super) fn action(m: &mut Model, a: Action) -> Vec<Cmd> {
    // Long: one arm per keymap action; each arm is a line or two.
    let page = crate::app::layout::table_rows(m, m.active_table()).max(1) as isize;
    // The PDB view covers the panes: their own keys would act out of sight.
    if m.view == View::Pdbs
        && matches!(
            a,
            Action::Enter | Action::PodsAll | Action::PodsPending | Action::EventsAll
        )
    {
        let text = "the PDB view covers the panes: Esc goes back to them";
        m.say(text);
        return Vec::new();
    }
    match a {
        Action::Quit => super::drain_flow::quit(m),
        Action::Up => move_by(m, -1),
        Action::Down => move_by(m, 1),
        Action::Top => move_by(m, isize::MIN / 2),
        Action::Bottom => move_by(m, isize::MAX / 2),
        Action::PageUp => move_by(m, -page),
        Action::PageDown => move_by(m, page),
        Action::NextPane | Action::PrevPane => {
            // The drain panel, when shown, sits between nodes and pods in the Tab order.
            let into_panel = match a {
                Action::NextPane => m.focus == Pane::Nodes,
                _ => m.focus == Pane::Pods,
            };
            if into_panel && let Some(p) = super::panel::shown(m) {
                m.focus = Pane::Nodes;
                match p {
                    super::panel::Panel::Drain => m.flow.focus_panel(),
                    super::panel::Panel::Campaign => super::panel::focus_campaign(m),
                }
                m.stale = true;
                return Vec::new();
            }
            let i = Pane::ALL.iter().position(|p| *p == m.focus).unwrap_or(0);
            let step = if a == Action::NextPane {
                1
            } else {
                Pane::ALL.len() - 1
            };
            focus(m, Pane::ALL[(i + step) % Pane::ALL.len()]);
        }
        // Enter goes deeper: a node to its pods; a pod, PDB or event to its full text.
        Action::Enter => {
            use super::describe::{Mode, open};
            match (m.view, m.focus) {
                (View::Main, Pane::Nodes) => {
                    set_scope(m, PodScope::Node);
                    focus(m, Pane::Pods);
                }
                (View::Main, Pane::Events) => return open(m, Mode::Events),
                _ => return open(m, Mode::Describe),
            }
        }
        Action::Back => back(m),
        Action::Filter => {
            let current = m.filters.get(&m.active_table()).map(|f| f.text.clone());
            m.input = Input::Filter(current.unwrap_or_default());
        }
        Action::Command => m.input = Input::Command(String::new()),
        Action::Help => m.overlay = Some(Overlay::Help),
        Action::AllNamespaces => all_namespaces(m),
        Action::PodsAll => toggle_scope(m, PodScope::All),
        Action::PodsPending => toggle_scope(m, PodScope::Pending),
        Action::EventsAll => {
            m.events_all = !m.events_all;
            m.nav.insert(Table::Events, Nav::default());
            m.stale = true;
        }
        Action::Mark => super::campaign::mark(m),
        // `describe::key` opens the page before the keymap is asked; kept for completeness.
        Action::Look => return super::describe::open(m, super::describe::Mode::Describe),
        Action::DrainPanel => super::panel::show(m),
        Action::Teach => super::teach::toggle(m),
        Action::Campaign => return super::campaign::open(m),
        Action::Cordon | Action::Uncordon | Action::Drain => {
            let action = match a {
                Action::Cordon => NodeAction::Cordon,
                Action::Uncordon => NodeAction::Uncordon,
                _ => NodeAction::Drain,
            };
            // `open` says why read-only refuses cordon/uncordon and lets a drain plan be seen.
            if let Some(node) = m.selected_node.clone() {
                return super::drain_flow::open(m, action, node);
            }
            m.say("no node selected");
        }
    }
    Vec::new()
}

/// `0`: drop the `-n` display filter. The pods of every namespace are already in the cache,
/// unless RBAC hid them: then the key says so and the filter stays.
fn all_namespaces(m: &mut Model) {
    let text = match (&m.namespace, &m.pod_coverage) {
        // Back to the `-n` namespace: `0` is a toggle.
        (None, _) if m.namespace_arg.is_some() => {
            m.namespace = m.namespace_arg.clone();
            m.nav.insert(Table::Pods, Nav::default());
            m.nav.insert(Table::Events, Nav::default());
            m.stale = true;
            format!(
                "showing namespace {} again (0: all namespaces)",
                m.namespace.as_deref().unwrap_or_default()
            )
        }
        (None, _) => "already showing all namespaces (there was no -n)".to_string(),
        (Some(_), PodCoverage::Namespace { reason, .. }) => {
            format!("cannot show all namespaces: {reason}")
        }
        (Some(_), _) => {
            m.namespace = None;
            m.nav.insert(Table::Pods, Nav::default());
            m.nav.insert(Table::Events, Nav::default());
            m.stale = true;
            "showing all namespaces (0 again: back to the -n namespace)".to_string()
        }
    };
    m.say(text);
}

fn toggle_scope(m: &mut Model, s: PodScope) {
    set_scope(m, if m.pod_scope == s { PodScope::Node } else { s });
    m.nav.insert(Table::Pods, Nav::default());
}

/// Which pods the pods pane lists; only a change rebuilds that view.
fn set_scope(m: &mut Model, s: PodScope) {
    if m.pod_scope != s {
        m.pod_scope = s;
        m.dirty.pods = true;
    }
}

/// Esc: undo the most recent narrowing, one step at a time.
fn back(m: &mut Model) {
    let t = m.active_table();
    if m.filters.contains_key(&t) {
        set_filter(m, "");
    } else if m.view != View::Main {
        m.view = View::Main;
    } else if m.focus == Pane::Pods && m.pod_scope != PodScope::Node {
        set_scope(m, PodScope::Node);
    } else if m.focus != Pane::Nodes {
        m.focus = Pane::Nodes;
    } else {
        // Never silent, even at the top: say where Esc would lead and how to leave.
        m.say("nothing to go back from: no filter, the main view, the nodes pane (q quits)");
    }
}

/// Sets (or with empty `text` clears) the filter of the table the keyboard is in.
pub(super) fn set_filter(m: &mut Model, text: &str) {
    let t = m.active_table();
    let before = if text.is_empty() {
        m.filters.remove(&t)
    } else {
        m.filters.insert(t, Filter::new(text))
    };
    let mut nav = m.nav(t);
    nav.selected = 0;
    nav.offset = 0;
    // Keep the node selection by name when filtering nodes.
    m.nav.insert(t, nav);
    let narrowed = t == Table::Pods
        && match (before, m.filters.get(&t).cloned()) {
            // The view holds every pod in scope: any filter keeps what it matches of them.
            (None, Some(now)) => super::views::narrow_pods(m, &now, false),
            (Some(before), Some(now)) => {
                now.narrows(&before) && super::views::narrow_pods(m, &now, true)
            }
            (_, None) => false,
        };
    // Else only the filtered table (a new node selection rebuilds pods and events in turn).
    if !narrowed {
        m.dirty.mark(t);
    }
}
