//! The workflow's update logic: keys, dialogs and confirmations (the executor's messages are
//! in `incoming`).

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::app::model::{Model, Pane, View};
use crate::app::msg::{Cmd, NodeAction};
use crate::drain::journal;
use crate::drain::plan::Verdict;

pub(super) fn flash(m: &mut Model, text: impl Into<String>) {
    m.say(text);
}

/// Why a drain plan can be seen but not started here (read-only, or no client for changes).
pub fn preview_only(m: &Model, node: &str) -> Option<String> {
    if m.readonly {
        return Some("read-only: this plan is a preview, the drain will not start (Esc)".into());
    }
    let why = m.flow.cannot_change.as_ref()?;
    Some(format!(
        "cannot drain {node}: {why} (this plan is a preview)"
    ))
}

/// `c` / `u` / `r` on the selected node: opens the matching dialog.
pub fn open(m: &mut Model, action: NodeAction, node: String) -> Vec<Cmd> {
    // Read-only may still look at a drain's plan (as `kubedrain plan` does); it cannot start.
    if m.readonly && action != NodeAction::Drain {
        flash(m, "read-only: kubedrain will not change the cluster");
        return Vec::new();
    }
    if let Some(why) = m
        .flow
        .cannot_change
        .as_ref()
        .filter(|_| action != NodeAction::Drain)
    {
        let text = format!("cannot {} {node}: {why}", action.verb());
        flash(m, text);
        return Vec::new();
    }
    let Some(n) = m.cache.nodes.get(&node) else {
        return Vec::new();
    };
    match action {
        NodeAction::Cordon if n.unschedulable => flash(
            m,
            format!("{node} is already cordoned (SchedulingDisabled)"),
        ),
        NodeAction::Cordon => m.flow.dialog = Some(Dialog::Cordon { node }),
        NodeAction::Uncordon if !n.unschedulable => {
            flash(m, format!("{node} is already schedulable"))
        }
        NodeAction::Uncordon => m.flow.dialog = Some(Dialog::Uncordon { node }),
        NodeAction::Drain => match &m.flow.live {
            Some(l) if l.outcome.is_none() && l.node == node => {
                let text = format!("{node} is being drained: its panel shows it (x cancels)");
                flash(m, text);
                m.flow.focus_panel();
            }
            Some(l) if l.outcome.is_none() => flash(
                m,
                format!("{} is being drained: one drain at a time", l.node),
            ),
            _ => {
                let owners = daemonset_owners(m, &node);
                m.flow.daemonsets = None;
                let form = match &m.flow.last_options {
                    Some(last) => OptionsForm::again(last, &node),
                    None => OptionsForm::new(&node),
                };
                m.flow.dialog = Some(Dialog::Options(form));
                if !owners.is_empty() {
                    return vec![Cmd::Flow(FlowCmd::CheckDaemonSets { node, owners })];
                }
            }
        },
    }
    Vec::new()
}

/// Keys for the workflow. `None`: not ours, the normal keymap handles it.
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    let Some(c) = ctx(m) else {
        // The nodes pane's demo key.
        if m.view == View::Main
            && m.focus == Pane::Nodes
            && lookup(m, Ctx::NodesDemo, k) == Some(FlowAction::Upgrade)
        {
            let node = m.selected_node.clone()?;
            return Some(upgrade(m, &node));
        }
        if m.view == View::Main && m.focus == Pane::Nodes && demo_key(k) {
            let why = if m.readonly {
                "read-only: U (simulated upgrade) is off"
            } else {
                "U (simulated upgrade) works on the built-in demo cluster only"
            };
            flash(m, why);
            return Some(Vec::new());
        }
        return None;
    };
    let action = lookup(m, c, k);
    let on_text = matches!(&m.flow.dialog, Some(Dialog::Options(f)) if !f.field().is_bool());
    let cmds = match (c, action) {
        (Ctx::Options, None) if on_text || k.code != KeyCode::Char('?') => {
            if !options_typing(m, k) {
                not_here(m, c, k);
            }
            Vec::new()
        }
        (Ctx::Plan, None) if k.code == KeyCode::Enter && preview_only(m, "").is_some() => start(m),
        // Help stays reachable from every dialog.
        (_, None) if k.code == KeyCode::Char('?') => return None,
        (Ctx::Live, None) if k.code == KeyCode::Char('q') => {
            quit(m);
            Vec::new()
        }
        // The drain is a pane: any other key leaves it and works where the focus goes.
        (Ctx::Live, None) => {
            m.flow.dialog = None;
            return None;
        }
        // Never silent: say which keys this dialog takes.
        (_, None) => {
            not_here(m, c, k);
            Vec::new()
        }
        (_, Some(a)) => act(m, c, a),
    };
    Some(cmds)
}

/// A key the dialog `c` does not take: the flash names the ones it does.
fn not_here(m: &mut Model, c: Ctx, k: &KeyEvent) {
    let key = match k.code {
        KeyCode::Char(' ') => "Space".to_string(),
        KeyCode::Char(ch) => ch.to_string(),
        other => super::keys::key_label(crate::app::keymap::Key::Code(other)),
    };
    let offered: Vec<String> = super::keys::hints(m, c)
        .into_iter()
        .map(|(k, what)| format!("{k} {what}"))
        .collect();
    flash(
        m,
        format!(
            "{key}: not in {} · {}",
            c.title().to_lowercase(),
            offered.join(" · ")
        ),
    );
}

/// Typing into the options form; false when the key means nothing there (a letter on a
/// switch, an arrow it does not use).
fn options_typing(m: &mut Model, k: &KeyEvent) -> bool {
    let Some(Dialog::Options(form)) = &mut m.flow.dialog else {
        return false;
    };
    let f = form.field();
    // j/k move, as in every list, except where letters are values (a label selector).
    if let KeyCode::Char(c @ ('j' | 'k')) = k.code
        && f != Field::PodSelector
    {
        form.move_by(if c == 'j' { 1 } else { -1 });
        return true;
    }
    if form.text_mut(f).is_none() {
        return false;
    }
    let fresh = std::mem::replace(&mut form.fresh, false);
    let Some(text) = form.text_mut(f) else {
        return false;
    };
    match k.code {
        KeyCode::Char(ch) => {
            // The first keystroke replaces the default (`5`, not `-15`).
            if fresh {
                text.clear();
            }
            text.push(ch);
        }
        KeyCode::Backspace => {
            text.pop();
        }
        _ => {
            form.fresh = fresh;
            return false;
        }
    }
    form.error = None;
    true
}

/// `q`, `:q`, Ctrl-C: quits at once, unless a drain is running: then asks first (quitting
/// cancels it and leaves the node cordoned).
pub fn quit(m: &mut Model) {
    let running = m.flow.live.as_ref().filter(|l| l.outcome.is_none());
    // A running campaign asks too (its current node is named).
    let campaign_node = || {
        let run = m.campaign.run.as_ref().filter(|_| m.campaign.running())?;
        Some(run.current().map_or(String::new(), |n| n.name.clone()))
    };
    let Some(node) = running.map(|l| l.node.clone()).or_else(campaign_node) else {
        m.quit = true;
        return;
    };
    if matches!(m.flow.dialog, Some(Dialog::Quit { .. })) {
        return;
    }
    // The question gets the keyboard, whatever was being typed or read.
    m.input = crate::app::model::Input::Normal;
    m.overlay = None;
    m.picker = None;
    let back = m.flow.dialog.take().map(Box::new);
    m.flow.dialog = Some(Dialog::Quit { node, back });
}

/// The quit question's answer: y quits (cancelling the drain first), n goes back.
fn quit_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(Dialog::Quit { back, .. }) = m.flow.dialog.take() else {
        return Vec::new();
    };
    if a != FlowAction::Confirm {
        m.flow.dialog = back.map(|b| *b);
        return Vec::new();
    }
    m.quit = true;
    let mut cmds = Vec::new();
    if m.campaign.running() {
        cmds.push(Cmd::Campaign(crate::app::campaign::CampaignCmd::Abort));
    }
    if let Some(l) = &mut m.flow.live
        && l.outcome.is_none()
        && !l.cancel_sent
    {
        l.cancel_sent = true;
        cmds.push(Cmd::Flow(FlowCmd::CancelDrain));
    }
    cmds
}

fn act(m: &mut Model, c: Ctx, a: FlowAction) -> Vec<Cmd> {
    match (c, a) {
        (Ctx::Quit, _) => quit_action(m, a),
        (Ctx::Confirm, FlowAction::Confirm) => confirm(m),
        (_, FlowAction::Cancel) => {
            m.flow.dialog = None;
            Vec::new()
        }
        (Ctx::Options, _) => {
            options_action(m, a);
            Vec::new()
        }
        (Ctx::Plan, _) => plan_action(m, a),
        (Ctx::Live, _) => live_action(m, a),
        (Ctx::Resume, _) => resume_action(m, a),
        _ => Vec::new(),
    }
}

fn confirm(m: &mut Model) -> Vec<Cmd> {
    match m.flow.dialog.take() {
        Some(Dialog::Cordon { node }) => {
            flash(m, format!("cordoning {node}…"));
            vec![Cmd::Flow(FlowCmd::Cordon { node })]
        }
        Some(Dialog::Uncordon { node }) => {
            // The dialog said so in red when the cordon is not kubedrain's: confirming it is
            // the explicit yes.
            let force = m
                .cache
                .nodes
                .get(&node)
                .is_some_and(|n| journal::may_uncordon(n).is_err());
            flash(m, format!("uncordoning {node}…"));
            vec![Cmd::Flow(FlowCmd::Uncordon { node, force })]
        }
        other => {
            m.flow.dialog = other;
            Vec::new()
        }
    }
}

fn options_action(m: &mut Model, a: FlowAction) {
    let Some(Dialog::Options(form)) = &mut m.flow.dialog else {
        return;
    };
    match a {
        FlowAction::Up => form.move_by(-1),
        FlowAction::Down => form.move_by(1),
        FlowAction::Toggle => {
            let f = form.field();
            match form.bool_mut(f) {
                Some(b) => *b = !*b,
                None => {
                    if let Some(t) = form.text_mut(f) {
                        t.push(' ');
                    }
                }
            }
            form.error = None;
        }
        FlowAction::Plan => {
            let form = form.clone();
            match form.options() {
                Err(e) => {
                    if let Some(Dialog::Options(f)) = &mut m.flow.dialog {
                        f.error = Some(e.to_string());
                    }
                }
                Ok(opts) => match plan_from_cache(m, &form.node, &opts) {
                    Some(plan) => {
                        m.flow.dialog = Some(Dialog::Plan {
                            form,
                            plan: Box::new(plan),
                            scroll: 0,
                            confirm_outage: false,
                        })
                    }
                    None => {
                        m.flow.dialog = None;
                        flash(m, format!("node {} is gone", form.node));
                    }
                },
            }
        }
        _ => {}
    }
}

fn plan_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(Dialog::Plan {
        form,
        plan,
        scroll,
        confirm_outage,
    }) = &mut m.flow.dialog
    else {
        return Vec::new();
    };
    match a {
        // Bounded by the plan's length (render bounds it exactly, with wrapping).
        FlowAction::Down => {
            let len = plan.pods.len() + 3 * plan.findings.len() + 12;
            *scroll = (*scroll + 1).min(len);
        }
        FlowAction::Up => *scroll = scroll.saturating_sub(1),
        FlowAction::Back if *confirm_outage => *confirm_outage = false,
        FlowAction::Back => {
            let form = form.clone();
            m.flow.dialog = Some(Dialog::Options(form));
        }
        FlowAction::Start => return start(m),
        _ => {}
    }
    Vec::new()
}

/// Enter on the plan: starts a drain the verdict allows; an outage only after a second Enter.
fn start(m: &mut Model) -> Vec<Cmd> {
    let node = match &m.flow.dialog {
        Some(Dialog::Plan { form, .. }) => form.node.clone(),
        _ => String::new(),
    };
    if let Some(why) = preview_only(m, &node) {
        flash(m, why);
        return Vec::new();
    }
    let Some(Dialog::Plan {
        form,
        plan,
        confirm_outage,
        scroll,
    }) = &mut m.flow.dialog
    else {
        return Vec::new();
    };
    match plan.verdict {
        Verdict::Blocked => {
            let why = unblock_hints(plan).into_iter().next().unwrap_or_default();
            flash(m, format!("blocked, not starting: {why}"));
            return Vec::new();
        }
        Verdict::CannotTell => {
            flash(
                m,
                "not starting: kubedrain cannot see enough of the cluster to tell it is safe",
            );
            return Vec::new();
        }
        Verdict::Outage if !*confirm_outage => {
            *confirm_outage = true;
            *scroll = 0;
            return Vec::new();
        }
        Verdict::Outage => form.allow_outage = true,
        Verdict::Proceed => {}
    }
    let form = form.clone();
    m.flow.last_options = Some(form.clone());
    let timeout = form
        .options()
        .ok()
        .and_then(|o| o.timeout)
        .map(|t| t.as_secs());
    let mut live = LiveDrain::new(&form.node, m.now, timeout);
    // Rows from the plan at once; the engine's own plan (after the cordon) follows.
    for p in plan.removals() {
        live.rows.push(PodProgress::planned(p, m.now));
    }
    live.skipped = plan.pods.len() - live.rows.len();
    live.track_workloads(&m.cache);
    m.flow.live = Some(live);
    m.flow.focus_panel();
    vec![Cmd::Flow(FlowCmd::Drain {
        node: form.node.clone(),
        form,
    })]
}

/// `j`/`k` in the drain panel; at either end it says so (never silent).
fn scroll_live(m: &mut Model, down: bool) -> Vec<Cmd> {
    let max = live_scroll_max(m);
    let Some(live) = &mut m.flow.live else {
        return Vec::new();
    };
    let at = live.scroll.min(max);
    let next = if down {
        (at + 1).min(max)
    } else {
        at.saturating_sub(1)
    };
    live.scroll = next;
    if next == at {
        let total = live.rows.len();
        let text = match (down, max) {
            (_, 0) => format!("all {total} pods of the drain are shown"),
            (true, _) => "the end of the drain's pods".to_string(),
            (false, _) => "the top of the drain's pods".to_string(),
        };
        flash(m, text);
    }
    Vec::new()
}

/// How far the drain panel's rows can scroll: its lines (pods, workloads, the skipped
/// note) beyond what the panel shows under its borders, gauge, status line and gap.
fn live_scroll_max(m: &Model) -> usize {
    let Some(live) = &m.flow.live else {
        return 0;
    };
    let (w, h) = m.size;
    let area = crate::app::layout::split(m, ratatui::layout::Rect::new(0, 0, w, h)).drain;
    let lines = live.rows.len() + workloads(m, live).len() + usize::from(live.skipped > 0);
    lines.saturating_sub(usize::from(area.height.saturating_sub(5)))
}

fn live_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(live) = &mut m.flow.live else {
        m.flow.dialog = None;
        return Vec::new();
    };
    match a {
        FlowAction::Down | FlowAction::Up => return scroll_live(m, a == FlowAction::Down),
        FlowAction::CancelDrain if !live.cancel_sent => {
            live.cancel_sent = true;
            return vec![Cmd::Flow(FlowCmd::CancelDrain)];
        }
        FlowAction::Close | FlowAction::Hide => {
            m.flow.dialog = None;
            m.flow.panel_hidden = true;
        }
        FlowAction::Back | FlowAction::PrevPane => {
            m.flow.dialog = None;
            m.focus = Pane::Nodes;
            m.stale = true;
        }
        FlowAction::NextPane => {
            m.flow.dialog = None;
            m.focus = Pane::Pods;
            m.stale = true;
        }
        // The status line offers these once the drain is over (the node stays cordoned).
        FlowAction::Uncordon | FlowAction::Resume => {
            let node = live.node.clone();
            m.flow.dialog = None;
            let action = if a == FlowAction::Uncordon {
                NodeAction::Uncordon
            } else {
                NodeAction::Drain
            };
            return open(m, action, node);
        }
        FlowAction::Upgrade => {
            let node = live.node.clone();
            m.flow.dialog = None;
            return upgrade(m, &node);
        }
        _ => {}
    }
    Vec::new()
}

fn resume_action(m: &mut Model, a: FlowAction) -> Vec<Cmd> {
    let Some(Dialog::Resume { items, selected }) = &mut m.flow.dialog else {
        return Vec::new();
    };
    match a {
        FlowAction::Down => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        FlowAction::Up => *selected = selected.saturating_sub(1),
        FlowAction::Resume | FlowAction::Uncordon => {
            let Some(node) = items.get(*selected).map(|u| u.node.clone()) else {
                return Vec::new();
            };
            m.flow.dialog = None;
            select_node(m, &node);
            let action = if a == FlowAction::Resume {
                NodeAction::Drain
            } else {
                NodeAction::Uncordon
            };
            return open(m, action, node);
        }
        _ => {}
    }
    Vec::new()
}

/// Moves the nodes selection to `node`.
fn select_node(m: &mut Model, node: &str) {
    if let Some(i) = m.views.nodes.iter().position(|n| n == node) {
        let mut nav = m.nav(crate::app::model::Table::Nodes);
        nav.selected = i;
        crate::app::views::set_nav(m, crate::app::model::Table::Nodes, nav);
        m.selected_node = Some(node.to_string());
        m.stale = true;
    }
}

/// `U` (demo): simulate the OS upgrade of a drained node.
fn upgrade(m: &mut Model, node: &str) -> Vec<Cmd> {
    if !m.flow.demo_upgrade || m.readonly {
        return Vec::new();
    }
    let Some(n) = m.cache.nodes.get(node) else {
        return Vec::new();
    };
    if !n.unschedulable {
        flash(
            m,
            format!("{node} is schedulable: cordon (c) and drain (r) it before the upgrade"),
        );
        return Vec::new();
    }
    if m.flow.upgrading.contains_key(node) {
        flash(m, format!("{node} is already rebooting"));
        return Vec::new();
    }
    let (_, others) = node_pods(m, node);
    if !others.is_empty() {
        let n = others.len();
        flash(
            m,
            format!("{node} still runs {n} pod(s) a drain would move: drain it (r) first"),
        );
        return Vec::new();
    }
    let before = (n.boot_id.clone(), n.kubelet_version.clone());
    m.flow.upgrading.insert(node.to_string(), before);
    flash(m, format!("{node}: upgrading the OS (simulated reboot)…"));
    vec![Cmd::Flow(FlowCmd::Upgrade {
        node: node.to_string(),
    })]
}
