//! The campaign's dialogs: the form (`C`) and the plan it makes before anything changes.

use crate::ui::canvas::Canvas;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::popup_keys;
use crate::app::campaign::{self, CCtx, CampaignDialog, CampaignForm, FIELDS, PlanView};
use crate::app::campaign_exec::DRAIN_FLAGS;
use crate::app::model::Model;
use crate::ui::theme;

/// `Enter plan · Esc cancel`, for a dialog's (or the view's) bottom border.
pub fn keys_line(m: &Model, c: CCtx) -> Line<'static> {
    super::hint_line(campaign::hints(m, c))
}

/// Help sections for the campaign's keys where they apply now (the nodes pane's otherwise).
pub fn help_sections(m: &Model) -> Vec<Vec<Line<'static>>> {
    let Some(now) = campaign::cctx(m) else {
        return Vec::new();
    };
    let rows: Vec<_> = campaign::CAMPAIGN_BINDINGS
        .iter()
        .filter(|b| b.ctxs.contains(&now) && !b.help.is_empty() && !(b.mutating && m.readonly))
        .collect();
    if rows.is_empty() {
        return Vec::new();
    }
    let mut sec = vec![Line::from(Span::styled(now.title(), theme::title()))];
    for b in rows {
        let keys: Vec<String> = b
            .keys()
            .iter()
            .map(|k| crate::app::drain_flow::key_label(*k))
            .collect();
        sec.push(Line::from(vec![
            Span::styled(format!(" {:<11} ", keys.join(" ")), theme::key()),
            Span::styled(b.help, theme::text()),
        ]));
    }
    vec![sec]
}

/// The text width inside a popup `w` wide on a screen `screen_w` wide (see `popup_keys`).
fn inner_width(screen_w: u16, w: u16) -> u16 {
    (w + 2)
        .min(screen_w.saturating_sub(2))
        .saturating_sub(4)
        .max(1)
}

/// Rows `lines` take once wrapped at `width`.
fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    lines
        .iter()
        .map(|l| (l.width() as u16).div_ceil(width).max(1))
        .sum()
}

/// Draws the campaign dialog `d`.
pub fn dialog(m: &Model, f: &mut Canvas, d: &CampaignDialog) {
    match d {
        CampaignDialog::Form(form) => form_dialog(m, f, form, false),
        CampaignDialog::Preparing(form) => form_dialog(m, f, form, true),
        CampaignDialog::Plan { plan, scroll, .. } => plan_dialog(m, f, plan, *scroll),
    }
}

fn value(form: &CampaignForm, i: usize) -> String {
    match i {
        0 => format!("◂ {} ▸", form.pick.label(form.marked.len())),
        1 if form.target.is_empty() => "(none: OS update only)".into(),
        1 => form.target.clone(),
        2 => form.max_unavailable.clone(),
        3 => form.soak.clone(),
        _ => format!("◂ {} ▸", campaign::hold_label(form.hold)),
    }
}

fn form_dialog(m: &Model, f: &mut Canvas, form: &CampaignForm, preparing: bool) {
    let mut lines = vec![Line::raw("")];
    for (i, name) in FIELDS.iter().enumerate() {
        let at = i == form.field;
        let mut v = value(form, i);
        if at && (1..=3).contains(&i) {
            v.push('█');
        }
        lines.push(Line::from(vec![
            Span::styled(if at { "▸ " } else { "  " }, theme::key()),
            Span::styled(
                format!("{name:<17}"),
                if at { theme::title() } else { theme::text() },
            ),
            Span::styled(v, if at { theme::key() } else { theme::warn() }),
        ]));
    }
    lines.push(Line::raw(""));
    if form.pick == campaign::PickChoice::Marked && !form.marked.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("marked: {}", form.marked.join(", ")),
            theme::dim(),
        )));
    }
    lines.push(Line::from(Span::styled(
        "control-plane nodes go first, one at a time; then waves of max-unavailable workers",
        theme::dim(),
    )));
    lines.push(Line::from(Span::styled(
        format!(
            "each node: cordon → drain ({DRAIN_FLAGS}) → upgrade → back Ready → uncordon → soak"
        ),
        theme::dim(),
    )));
    if preparing {
        lines.push(Line::from(Span::styled(
            "reading the cluster and planning…",
            theme::warn(),
        )));
    }
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!("✖ {e}"), theme::bad())));
    }
    let h = wrapped_height(&lines, inner_width(f.area().width, 90));
    let inner = popup_keys(
        f,
        f.area(),
        (90, h),
        " Campaign ",
        theme::focus_border(),
        keys_line(m, CCtx::Form),
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn plan_dialog(m: &Model, f: &mut Canvas, plan: &PlanView, scroll: usize) {
    // The verdict first, so it stays in view however long the plan is.
    let mut lines = vec![match &plan.held {
        Some(r) => Line::from(Span::styled(format!("✖ held: {r}"), theme::bad())),
        None => Line::from(Span::styled(
            "✔ can start: Enter starts the campaign",
            theme::ok(),
        )),
    }];
    let body: Vec<Line> = plan
        .lines
        .iter()
        .skip(scroll.min(plan.lines.len().saturating_sub(1)))
        .map(|l| {
            let style = if l.contains("HELD") || l.contains(": blocked") || l.contains(": outage") {
                theme::bad()
            } else if l.starts_with("campaign:") || l.contains("pre-check") {
                theme::title()
            } else {
                theme::text()
            };
            Line::from(Span::styled(l.clone(), style))
        })
        .collect();
    let area = f.area();
    let width = inner_width(area.width, 100);
    // Wrapped findings continue under their text, not against the border.
    lines.extend(
        body.into_iter()
            .flat_map(|l| crate::ui::wrap::hang(l, width as usize)),
    );
    let h = wrapped_height(&lines, width).min(area.height.saturating_sub(6));
    let inner = popup_keys(
        f,
        area,
        (100, h),
        " Campaign plan ",
        if plan.held.is_some() {
            theme::bad()
        } else {
            theme::focus_border()
        },
        keys_line(m, CCtx::Plan),
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
