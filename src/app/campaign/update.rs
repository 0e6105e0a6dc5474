//! The campaign's pure update: keys, and results from the executor.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::*;
use crate::app::model::{Model, Pane, View};
use crate::app::msg::Cmd;

fn flash(m: &mut Model, text: impl Into<String>) {
    m.say(text);
}

fn cmd(c: CampaignCmd) -> Vec<Cmd> {
    vec![Cmd::Campaign(c)]
}

/// Handles `k` if the campaign has the keyboard (its dialogs and view); `None` lets the rest
/// of the keymap have it (Space and `C` in the nodes pane are in `keymap`).
pub fn key(m: &mut Model, k: &KeyEvent) -> Option<Vec<Cmd>> {
    let c = cctx(m)?;
    let Some(b) = lookup(c, k) else {
        return match c {
            CCtx::Form if k.code != KeyCode::Char('?') => {
                form_typing(m, k);
                Some(Vec::new())
            }
            // The plan is modal: nothing else acts under it, but help stays reachable.
            CCtx::Plan if k.code != KeyCode::Char('?') => Some(Vec::new()),
            CCtx::Panel if k.code == KeyCode::Char('q') => {
                crate::app::drain_flow::quit(m);
                Some(Vec::new())
            }
            // The campaign is a pane: any other key leaves it and works where the focus goes.
            CCtx::Panel if k.code != KeyCode::Char('?') => {
                m.campaign.panel_focused = false;
                m.stale = true;
                None
            }
            _ => None,
        };
    };
    if !available(m, b) {
        let why = if b.mutating && m.readonly {
            "read-only: kubedrain will not change the cluster".to_string()
        } else {
            match b.action {
                CAction::Pause | CAction::Abort => "no campaign is running".into(),
                CAction::Resume if m.campaign.running() => "a campaign is running".into(),
                CAction::Resume => "no unfinished campaign to resume".into(),
                CAction::Start => "the campaign is held: it cannot start (see the plan)".into(),
                _ => "not available now".into(),
            }
        };
        flash(m, why);
        return Some(Vec::new());
    }
    Some(act(m, b.action))
}

fn act(m: &mut Model, a: CAction) -> Vec<Cmd> {
    match a {
        CAction::Next | CAction::Prev | CAction::Left | CAction::Right => {
            if let Some(CampaignDialog::Form(f)) = &mut m.campaign.dialog {
                match a {
                    CAction::Next => f.move_by(1),
                    CAction::Prev => f.move_by(-1),
                    CAction::Left => f.cycle(-1),
                    _ => f.cycle(1),
                }
            }
        }
        CAction::Plan => return plan(m),
        CAction::Cancel => m.campaign.dialog = None,
        CAction::Back => match m.campaign.dialog.take() {
            Some(CampaignDialog::Plan { form, .. }) => {
                m.campaign.dialog = Some(CampaignDialog::Form(form));
            }
            _ if m.view == View::Campaign => {
                m.view = View::Main;
                m.stale = true;
            }
            _ => leave_panel(m, Pane::Nodes),
        },
        CAction::NextPane => leave_panel(m, Pane::Pods),
        CAction::PrevPane => leave_panel(m, Pane::Nodes),
        CAction::Hide => {
            m.campaign.panel_hidden = true;
            leave_panel(m, Pane::Nodes);
        }
        CAction::Zoom => {
            m.campaign.panel_focused = false;
            m.view = View::Campaign;
            m.stale = true;
        }
        CAction::Up | CAction::Down => scroll(m, if a == CAction::Up { -1 } else { 1 }),
        CAction::Start => return start(m),
        CAction::Pause => {
            let paused = m.campaign.run.as_ref().is_some_and(|r| r.paused);
            return cmd(if paused {
                CampaignCmd::Continue
            } else {
                CampaignCmd::Pause
            });
        }
        CAction::Abort => {
            if m.campaign.abort_armed {
                m.campaign.abort_armed = false;
                flash(m, "aborting the campaign: nodes stay as they are");
                return cmd(CampaignCmd::Abort);
            }
            m.campaign.abort_armed = true;
            flash(
                m,
                "press A again to abort the campaign (nodes stay as they are)",
            );
        }
        CAction::Resume => {
            if let Some(p) = m.campaign.unfinished.take() {
                m.campaign.run = Some(CampaignRun::resumed(&p, m.now));
                m.campaign.panel_hidden = false;
                return cmd(CampaignCmd::Resume(p));
            }
        }
    }
    Vec::new()
}

/// Space in the nodes pane: marks or unmarks the selected node.
pub fn mark(m: &mut Model) {
    let Some(node) = m.selected_node.clone() else {
        return;
    };
    let marked = &mut m.campaign.marked;
    let text = if marked.remove(&node) {
        format!("{node} unmarked ({} marked)", marked.len())
    } else {
        marked.insert(node.clone());
        format!(
            "{node} marked for a campaign ({} marked; C plans it)",
            marked.len()
        )
    };
    flash(m, text);
    m.dirty.nodes = true;
}

/// `C`: the form, unless a campaign runs (then its view).
pub fn open(m: &mut Model) -> Vec<Cmd> {
    if let Some(why) = &m.flow.cannot_change {
        let text = format!("cannot run a campaign: {why}");
        flash(m, text);
        return Vec::new();
    }
    if m.campaign.running() {
        crate::app::panel::show(m);
        flash(m, "a campaign is running (p pauses, A aborts)");
        return Vec::new();
    }
    if m.flow.live.as_ref().is_some_and(|l| l.outcome.is_none()) {
        flash(m, "a drain is running: a campaign starts after it");
        return Vec::new();
    }
    let marked: Vec<String> = m.campaign.marked.iter().cloned().collect();
    m.campaign.dialog = Some(CampaignDialog::Form(CampaignForm::new(marked)));
    Vec::new()
}

fn form_typing(m: &mut Model, k: &KeyEvent) {
    let Some(CampaignDialog::Form(f)) = &mut m.campaign.dialog else {
        return;
    };
    match k.code {
        KeyCode::Char(c) => f.type_char(c),
        KeyCode::Backspace => f.backspace(),
        _ => return,
    }
    f.error = None;
}

fn plan(m: &mut Model) -> Vec<Cmd> {
    let Some(CampaignDialog::Form(f)) = &mut m.campaign.dialog else {
        return Vec::new();
    };
    match f.request() {
        Ok(req) => {
            let form = f.clone();
            m.campaign.dialog = Some(CampaignDialog::Preparing(form));
            cmd(CampaignCmd::Prepare(req))
        }
        Err(e) => {
            f.error = Some(e.to_string());
            Vec::new()
        }
    }
}

fn start(m: &mut Model) -> Vec<Cmd> {
    let Some(CampaignDialog::Plan { plan, .. }) = m.campaign.dialog.take() else {
        return Vec::new();
    };
    m.campaign.marked.clear();
    m.campaign.unfinished = None;
    m.campaign.run = Some(CampaignRun::new(plan.spec.clone(), m.now));
    // The campaign is a panel, like a drain: the panes stay usable while it runs.
    crate::app::panel::show(m);
    cmd(CampaignCmd::Start(Box::new(plan.spec)))
}

/// Out of the campaign panel to pane `to`; the campaign goes on.
fn leave_panel(m: &mut Model, to: Pane) {
    m.campaign.panel_focused = false;
    m.focus = to;
    m.stale = true;
}

fn scroll(m: &mut Model, by: isize) {
    match (&mut m.campaign.dialog, &mut m.campaign.run) {
        (Some(CampaignDialog::Plan { scroll, .. }), _) => {
            *scroll = scroll.saturating_add_signed(by);
        }
        (None, Some(r)) if !r.nodes.is_empty() => {
            let to = r.selected.saturating_add_signed(by).min(r.nodes.len() - 1);
            if to == r.selected {
                let end = if by < 0 { "first" } else { "last" };
                flash(m, format!("the campaign's {end} node is selected"));
                return;
            }
            r.selected = to;
        }
        _ => {}
    }
}

/// `:campaign`: the view (the form when there is no campaign to show).
pub fn command(m: &mut Model) -> Vec<Cmd> {
    if m.campaign.run.is_some() || m.campaign.unfinished.is_some() {
        m.view = View::Campaign;
        m.stale = true;
        return Vec::new();
    }
    open(m)
}

/// A result from the executor.
pub fn on_msg(m: &mut Model, msg: CampaignMsg) -> Vec<Cmd> {
    m.redraw = true;
    match msg {
        CampaignMsg::Planned(result) => {
            let Some(CampaignDialog::Preparing(mut form)) = m.campaign.dialog.take() else {
                // Cancelled meanwhile.
                return Vec::new();
            };
            m.campaign.dialog = Some(match result {
                Ok(plan) => CampaignDialog::Plan {
                    form,
                    plan,
                    scroll: 0,
                },
                Err(e) => {
                    form.error = Some(e);
                    CampaignDialog::Form(form)
                }
            });
        }
        CampaignMsg::Started(Ok(id)) => {
            if let Some(r) = &mut m.campaign.run {
                r.id = Some(id);
            }
        }
        CampaignMsg::Started(Err(e)) => {
            m.campaign.run = None;
            flash(m, format!("the campaign did not start: {e}"));
        }
        CampaignMsg::Event(e) => {
            let now = m.now;
            if let Some(r) = &mut m.campaign.run {
                let finished =
                    matches!(*e, crate::campaign::events::CampaignEvent::Finished { .. });
                r.apply(*e, now);
                if finished {
                    m.campaign.abort_armed = false;
                    let text = match &r.finished {
                        Some(s) if s.completed() => "campaign completed".to_string(),
                        Some(s) => format!(
                            "campaign stopped: {}",
                            crate::campaign::exec::outcome_text(s)
                        ),
                        None => String::new(),
                    };
                    flash(m, text);
                }
            }
        }
        CampaignMsg::Report(r) => {
            if let Some(run) = &mut m.campaign.run {
                run.report = Some(r);
            }
        }
        CampaignMsg::Unfinished(p) => {
            let at = match p.next() {
                Some((n, s)) => format!("node/{n}, step {}", s.name()),
                None => "its end".into(),
            };
            if !m.campaign.running() {
                flash(
                    m,
                    format!(
                        "an unfinished campaign stopped at {at}: :campaign shows it, R resumes"
                    ),
                );
                m.campaign.unfinished = Some(p);
            }
        }
    }
    Vec::new()
}
