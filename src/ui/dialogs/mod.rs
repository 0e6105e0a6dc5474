//! The maintenance workflow's dialogs (cordon / uncordon confirmation, drain options, the
//! start-up resume offer), the plan view and the live drain pane. Pure functions of the model.

pub mod campaign;
mod confirm;
pub mod drain;
mod drain_rows;
pub mod picker;
pub mod plan;

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::theme;
use crate::app::drain_flow::{self, Ctx, Dialog, FLOW_BINDINGS, Field, OptionsForm};
use crate::app::layout::Areas;
use crate::app::model::Model;
use crate::cluster::age;
use crate::drain::journal::Pending;

/// Draws whatever the workflow shows over the screen.
pub fn render(m: &Model, f: &mut Canvas, l: &Areas) {
    if let Some(d) = &m.flow.dialog {
        dialog(m, f, l, d);
    }
    if let Some(d) = &m.campaign.dialog {
        campaign::dialog(m, f, d);
    }
    if let Some(p) = &m.picker {
        picker::render(p, f);
    }
}

fn dialog(m: &Model, f: &mut Canvas, l: &Areas, d: &Dialog) {
    let area = f.area();
    match d {
        // A pane of the main view (drawn with the panes), not an overlay.
        Dialog::Live => {}
        Dialog::Plan {
            form,
            plan,
            scroll,
            confirm_outage,
        } => plan::render(m, f, lower(l), form, plan, *scroll, *confirm_outage),
        Dialog::Cordon { node } => confirm::cordon(m, f, area, node),
        Dialog::Uncordon { node } => match drain_flow::uncordon_facts(m, node) {
            Some(facts) => confirm::uncordon(m, f, area, &facts),
            None => {
                let inner = popup(m, f, area, 50, 3, " Uncordon ", theme::bad(), Ctx::Confirm);
                f.render_widget(
                    Paragraph::new(format!("node {node} is gone")).style(theme::bad()),
                    inner,
                );
            }
        },
        Dialog::Options(form) => options(m, f, area, form),
        Dialog::Resume { items, selected } => resume(m, f, area, items, *selected),
        Dialog::Quit { node, back } => {
            if let Some(b) = back {
                dialog(m, f, l, b);
            }
            quit(m, f, area, node);
        }
    }
}

/// "Quit while a drain runs?": what quitting does to the node, before it happens.
fn quit(m: &Model, f: &mut Canvas, area: Rect, node: &str) {
    const WIDTH: u16 = 64;
    let name = || Span::styled(node.to_string(), theme::title());
    let lines = if m.campaign.running() {
        vec![
            Line::raw(""),
            Line::from(vec![
                Span::raw("A campaign is running (now at "),
                name(),
                Span::raw("). Quitting stops it where it is:"),
            ]),
            Line::from(Span::styled(
                "the nodes stay as they are (a cordoned node stays cordoned),",
                theme::warn(),
            )),
            Line::from(vec![
                Span::raw("and the next start offers to resume it ("),
                Span::styled(":campaign", theme::key()),
                Span::raw(", "),
                Span::styled("R", theme::key()),
                Span::raw(")."),
            ]),
        ]
    } else {
        vec![
            Line::raw(""),
            Line::from(vec![
                Span::raw("A drain of "),
                name(),
                Span::raw(" is running. Quitting cancels it:"),
            ]),
            Line::from(vec![
                name(),
                Span::styled(" stays cordoned", theme::warn()),
                Span::raw(", with the pods not yet evicted."),
            ]),
            Line::from(vec![
                Span::raw("Later, "),
                Span::styled("r", theme::key()),
                Span::raw(" drains it again and "),
                Span::styled("u", theme::key()),
                Span::raw(" lifts the cordon."),
            ]),
        ]
    };
    // Long node names wrap: room for every row.
    let rows: usize = lines
        .iter()
        .map(|l| l.width().div_ceil(usize::from(WIDTH)).max(1))
        .sum();
    let inner = popup(
        m,
        f,
        area,
        WIDTH + 2,
        rows as u16,
        " Quit kubedrain? ",
        theme::warn(),
        Ctx::Quit,
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The space below the nodes pane (pods and events panes together).
fn lower(l: &Areas) -> Rect {
    Rect::new(
        l.pods.x,
        l.pods.y,
        l.pods.width,
        l.events.bottom().saturating_sub(l.pods.y),
    )
}

/// The footer's hints while the workflow has the keyboard.
pub fn hints(m: &Model) -> Option<Vec<(String, &'static str)>> {
    if let Some(c) = drain_flow::ctx(m) {
        return Some(drain_flow::hints(m, c));
    }
    crate::app::campaign::cctx(m).map(|c| crate::app::campaign::hints(m, c))
}

/// The nodes pane's extra hints (the demo upgrade key).
pub fn node_hints(m: &Model) -> Vec<(String, &'static str)> {
    drain_flow::hints(m, Ctx::NodesDemo)
}

/// Help sections for the workflow's keys, generated from the same table they are looked up in.
pub fn help_sections(m: &Model) -> Vec<Vec<Line<'static>>> {
    let mut out = Vec::new();
    // The open dialog's keys, else the nodes pane's extra (demo) key: help stays one screen.
    let now = drain_flow::ctx(m).unwrap_or(Ctx::NodesDemo);
    for c in Ctx::ALL.into_iter().filter(|c| *c == now) {
        let rows: Vec<_> = FLOW_BINDINGS
            .iter()
            // Secondary keys (k beside j) are named in their partner's help line.
            .filter(|b| b.ctx == c && !b.hint.is_empty() && drain_flow::in_help(m, b))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut sec = vec![Line::from(Span::styled(c.title(), theme::title()))];
        for b in rows {
            let keys: Vec<String> = b.keys().iter().map(|k| drain_flow::key_label(*k)).collect();
            sec.push(Line::from(vec![
                Span::styled(format!(" {:<11} ", keys.join(" ")), theme::key()),
                Span::styled(b.help, theme::text()),
            ]));
        }
        out.push(sec);
    }
    out.extend(campaign::help_sections(m));
    out
}

/// `Enter confirm · Esc cancel`, for a dialog's bottom border.
pub fn keys_line(m: &Model, c: Ctx) -> Line<'static> {
    hint_line(drain_flow::hints(m, c))
}

/// `key label · key label`, for a dialog's (or view's) bottom border.
pub fn hint_line(hints: Vec<(String, &'static str)>) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (i, (k, h)) in hints.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme::dim()));
        }
        spans.push(Span::styled(k, theme::key()));
        spans.push(Span::styled(format!(" {h}"), theme::dim()));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A centred box of at most `w`×`h` inner cells; returns its inner area.
#[allow(clippy::too_many_arguments)]
fn popup(
    m: &Model,
    f: &mut Canvas,
    area: Rect,
    w: u16,
    h: u16,
    title: &str,
    border: Style,
    c: Ctx,
) -> Rect {
    popup_keys(f, area, (w, h), title, border, keys_line(m, c))
}

/// A centred box of at most `w`×`h` inner cells with `keys` on its bottom border; returns
/// its inner area.
pub fn popup_keys(
    f: &mut Canvas,
    area: Rect,
    (w, h): (u16, u16),
    title: &str,
    border: Style,
    keys: Line<'static>,
) -> Rect {
    let w = (w + 2).min(area.width.saturating_sub(2));
    let h = (h + 2).min(area.height.saturating_sub(2));
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(border)
        .title(Line::from(Span::styled(
            title.to_string(),
            theme::title().patch(border),
        )))
        .title_bottom(keys.right_aligned());
    let inner = block.inner(r);
    f.render_widget(block, r);
    Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(2),
        inner.height,
    )
}

/// Cuts `s` to `w` characters with an ellipsis in the middle, keeping the end (pod names
/// differ in their suffix).
pub fn ellipsize_mid(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n <= w || w < 5 {
        return ellipsize(s, w);
    }
    let head = w / 2;
    let tail = w - head - 1;
    let mut t: String = s.chars().take(head).collect();
    t.push('…');
    t.extend(s.chars().skip(n - tail));
    t
}

/// Cuts `s` to `w` characters with an ellipsis.
pub fn ellipsize(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn options(m: &Model, f: &mut Canvas, area: Rect, form: &OptionsForm) {
    let wide = area.width >= 100;
    let inline_help = wide;
    let mut lines = vec![Line::raw("")];
    for (i, field) in Field::ALL.iter().enumerate() {
        let at = i == form.cursor;
        let mut l = vec![Span::styled(if at { "▸ " } else { "  " }, theme::key())];
        let flag_style = if at { theme::title() } else { theme::text() };
        if field.is_bool() {
            let on = form.get_bool(*field);
            l.push(Span::styled(
                if on { "[x] " } else { "[ ] " },
                if on { theme::ok() } else { theme::dim() },
            ));
            l.push(Span::styled(format!("{:<31}", field.flag()), flag_style));
            l.push(Span::raw(format!("{:<12}", "")));
        } else {
            l.push(Span::raw("    "));
            l.push(Span::styled(format!("{:<31}", field.flag()), flag_style));
            let v = form.text(*field);
            let shown = if at { format!("{v}█") } else { v.to_string() };
            l.push(Span::styled(
                format!("{:<12}", ellipsize(&shown, 11)),
                if at { theme::key() } else { theme::warn() },
            ));
        }
        if inline_help {
            l.push(Span::styled(field.help(), theme::dim()));
        }
        lines.push(Line::from(l));
    }
    lines.push(Line::raw(""));
    if !inline_help {
        lines.push(Line::from(vec![
            Span::styled(format!("{}: ", form.field().flag()), theme::key()),
            Span::styled(form.field().help(), theme::text()),
        ]));
    }
    lines.push(Line::from(Span::styled(
        "--ignore-daemonsets is ticked for you (kubectl's default is off):",
        theme::dim(),
    )));
    lines.push(Line::from(Span::styled(
        "DaemonSet pods cannot move, and kubectl refuses to drain without it.",
        theme::dim(),
    )));
    lines.push(Line::from(Span::styled(
        format!("$ {}", form.kubectl()),
        theme::dim(),
    )));
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!("✖ {e}"), theme::bad())));
    }
    let w = if wide { 96 } else { 76 };
    let h = lines.len() as u16;
    let inner = popup(
        m,
        f,
        area,
        w,
        h,
        &format!(" Drain {} · options ", form.node),
        theme::focus_border(),
        Ctx::Options,
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn resume(
    m: &Model,
    f: &mut Canvas,
    area: Rect,
    items: &[crate::drain::journal::Unfinished],
    selected: usize,
) {
    let mut lines = vec![
        Line::from("kubedrain left these nodes cordoned or half-drained:"),
        Line::raw(""),
    ];
    for (i, u) in items.iter().enumerate() {
        let at = i == selected;
        let what = match (u.pending, u.interrupted) {
            (Pending::ResumeDrain, true) => "drain interrupted".to_string(),
            (Pending::ResumeDrain, false) => {
                format!("drain {}", u.drain_state.as_deref().unwrap_or("unfinished"))
            }
            (Pending::Uncordon, _) => "drained, still cordoned".to_string(),
        };
        let style = match u.pending {
            Pending::ResumeDrain => theme::warn(),
            Pending::Uncordon => theme::ok(),
        };
        let mut l = vec![
            Span::styled(if at { "▸ " } else { "  " }, theme::key()),
            Span::styled(
                format!("{:<16}", u.node),
                if at { theme::title() } else { theme::text() },
            ),
            Span::styled(format!("{what:<26}"), style),
        ];
        if let Some(at) = u.cordoned_at.as_deref().and_then(|t| t.parse().ok()) {
            let at: jiff::Timestamp = at;
            l.push(Span::styled(
                format!("cordoned {} ago", age::human((m.now - at).get_seconds())),
                theme::dim(),
            ));
        }
        lines.push(Line::from(l));
        if u.was_unschedulable {
            lines.push(Line::from(Span::styled(
                "    was already cordoned before kubedrain: uncordoning asks explicitly",
                theme::bad(),
            )));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        "Resume re-runs the drain: options and plan first, as always.",
        theme::dim(),
    )));
    let inner = popup(
        m,
        f,
        area,
        80,
        lines.len() as u16,
        " Unfinished maintenance ",
        theme::warn(),
        Ctx::Resume,
    );
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The describe page's keys, for the help overlay (from the table they are looked up in).
pub fn describe_help() -> Vec<Line<'static>> {
    use crate::app::describe::keys::{HELP_TITLE, PAGE_BINDINGS};
    let mut sec = vec![Line::from(Span::styled(HELP_TITLE, theme::title()))];
    for b in PAGE_BINDINGS {
        let keys: Vec<String> = b.keys().iter().map(|k| drain_flow::key_label(*k)).collect();
        sec.push(Line::from(vec![
            Span::styled(format!(" {:<11} ", keys.join(" ")), theme::key()),
            Span::styled(b.help, theme::text()),
        ]));
    }
    for (keys, help) in [("?", "this help"), ("Ctrl-C", "quit")] {
        sec.push(Line::from(vec![
            Span::styled(format!(" {keys:<11} "), theme::key()),
            Span::styled(help, theme::text()),
        ]));
    }
    sec
}
