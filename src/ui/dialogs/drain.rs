//! The live drain: one row per pod moving through queued → evicting → blocked by PDB →
//! terminating (grace countdown) → gone → its replacement elsewhere; a gauge of pods left,
//! elapsed time and the timeout countdown; and, at the end, what state the node is in.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use super::drain_rows::{mark_style, pod_cells, workload_lines};
use super::{ellipsize, ellipsize_mid, keys_line};
use crate::app::drain_flow::{self, Ctx, LiveDrain};
use crate::app::model::Model;
use crate::drain::events::NodeState;
use crate::ui::theme;

/// kube-client's wording for transport errors, in plain words for the operator.
pub fn plain(s: &str) -> String {
    s.replace(
        "failed to start watching object: ServiceError: client error (Connect)",
        "the API server cannot be reached",
    )
    .replace(
        "ServiceError: client error (Connect)",
        "the API server cannot be reached",
    )
    .replace("ServiceError: ", "")
}

/// `m:ss`.
fn clock(secs: i64) -> String {
    let s = secs.max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn state_word(s: NodeState) -> &'static str {
    match s {
        NodeState::Cordoning => "cordoning",
        NodeState::Evicting => "evicting",
        NodeState::Waiting => "waiting for pods to go",
        NodeState::Drained => "drained",
        NodeState::Failed => "failed",
        NodeState::TimedOut => "timed out",
        NodeState::Cancelled => "cancelled",
        NodeState::Interrupted => "interrupted",
    }
}

/// A text gauge: `▰▰▰▱▱▱`.
fn gauge(done: usize, total: usize, width: usize) -> Vec<Span<'static>> {
    let filled = (done * width).checked_div(total).unwrap_or(width);
    vec![
        Span::styled("▰".repeat(filled), theme::ok()),
        Span::styled("▱".repeat(width - filled), theme::dim()),
    ]
}

/// Draws the drain panel into `area` (below the nodes pane); its keys only when `focused`.
pub fn render(m: &Model, f: &mut Canvas, area: Rect, focused: bool) {
    let Some(live) = &m.flow.live else {
        return;
    };
    let keys = if focused {
        keys_line(m, Ctx::Live)
    } else {
        Line::from(unfocused_panel_hint(" "))
    };
    render_live(m, live, f, area, keys, focused);
}

/// `v or Tab to it` on an unfocused panel's border, then `end`.
pub fn unfocused_panel_hint(end: &'static str) -> Vec<Span<'static>> {
    vec![
        Span::styled(" v", theme::key()),
        Span::styled(" or ", theme::dim()),
        Span::styled("Tab", theme::key()),
        Span::styled(format!(" to it{end}"), theme::dim()),
    ]
}

/// Draws `live` in `area`, with `keys` on its bottom border (a campaign's drains too); an
/// unfocused running drain gets the plain border of a pane without the keyboard.
pub fn render_live(
    m: &Model,
    live: &LiveDrain,
    f: &mut Canvas,
    area: Rect,
    keys: Line<'static>,
    focused: bool,
) {
    f.render_widget(Clear, area);
    let block = live_block(live, keys, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(2),
        inner.height,
    );
    let head = head_lines(m, live, inner.width as usize);
    // Long lines wrap (errors, narrow terminals): count the rendered rows.
    let ww = inner.width.max(1) as usize;
    let head_rows: usize = head.iter().map(|l| l.width().max(1).div_ceil(ww)).sum();
    let head_h = (head_rows as u16).min(inner.height);
    let head_area = Rect::new(inner.x, inner.y, inner.width, head_h);
    f.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);
    // Pod rows.
    // A blank line between head and rows, unless the panel is too short to spare it.
    let gap = u16::from(inner.height > 6);
    let rows_area = Rect::new(
        inner.x,
        inner.y + head_h + gap,
        inner.width,
        inner.height.saturating_sub(head_h + gap),
    );
    let lines = pod_lines(m, live, inner.width as usize);
    let max = lines.len().saturating_sub(rows_area.height as usize);
    let top = live.scroll.min(max);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((top as u16, 0)),
        rows_area,
    );
}

/// The panel's border: its colour says how the drain ended; thick when it has the keyboard.
fn live_block(live: &LiveDrain, keys: Line<'static>, focused: bool) -> Block<'static> {
    let border = match live.outcome.as_ref().map(|o| o.state) {
        Some(NodeState::Drained) => theme::ok(),
        Some(NodeState::Failed) => theme::bad(),
        Some(_) => theme::warn(),
        None if focused => theme::focus_border(),
        None => theme::border(),
    };
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(Line::from(vec![
            Span::styled(" Drain ", theme::title()),
            Span::styled(live.node.clone(), theme::title()),
            Span::styled(format!(" · {} ", state_word(live.state)), theme::text()),
        ]))
        .title_bottom(keys.right_aligned())
}

/// The lines above the pods: the gauge, where the node stands, replacements that cannot be
/// scheduled, the last notices and the errors. `w`: the panel's inner width.
fn head_lines(m: &Model, live: &LiveDrain, w: usize) -> Vec<Line<'static>> {
    let mut head: Vec<Line> = vec![gauge_line(m, live, w)];
    head.push(status_line(m, live));
    // Replacements the scheduler cannot place (its own message): the service runs short.
    let unschedulable: Vec<&str> = live
        .replacements
        .values()
        .flat_map(|pods| pods.keys())
        .filter_map(|k| m.cache.pods.get(k))
        .filter(|p| p.node_name.is_none())
        .filter_map(|p| p.unschedulable_message.as_deref())
        .collect();
    if let Some(why) = unschedulable.first() {
        head.push(Line::from(Span::styled(
            format!(
                "⚠ {} replacement(s) cannot be scheduled: {why}",
                unschedulable.len()
            ),
            theme::warn(),
        )));
    }
    for n in live.notices.iter().rev().take(2).rev() {
        head.push(Line::from(Span::styled(
            format!("! {}", ellipsize(&plain(n), w.saturating_sub(2))),
            theme::warn(),
        )));
    }
    if let Some(o) = &live.outcome {
        for e in &o.errors {
            head.push(Line::from(Span::styled(
                format!("✖ {}", plain(e)),
                theme::bad(),
            )));
        }
    }
    head
}

/// Gauge, pods left, elapsed, and the time left before the timeout.
fn gauge_line(m: &Model, live: &LiveDrain, w: usize) -> Line<'static> {
    let total = live.rows.len();
    let left = drain_flow::pods_left(m, live);
    let over = live.outcome.is_some();
    let elapsed = live.elapsed(m.now);
    let mut g = gauge(total - left, total, 20.min(w / 4));
    g.push(Span::styled(
        format!("  {left} of {total} pods left"),
        theme::title(),
    ));
    g.push(Span::styled(
        format!("   elapsed {}", clock(elapsed)),
        theme::dim(),
    ));
    match live.timeout {
        Some(t) if !over => {
            let rest = t as i64 - elapsed;
            g.push(Span::styled(
                format!("   timeout in {}", clock(rest)),
                if rest < 30 {
                    theme::bad()
                } else {
                    theme::warn()
                },
            ));
        }
        None if !over => g.push(Span::styled("   no timeout", theme::dim())),
        _ => {}
    }
    Line::from(g)
}

/// One line per pod, then the workloads and what the drain leaves alone.
fn pod_lines(m: &Model, live: &LiveDrain, w: usize) -> Vec<Line<'static>> {
    // Names as wide as the longest, unless the widest (compact) state text would wrap.
    let longest = live.rows.iter().map(|r| r.key.chars().count()).max();
    let state_w = live
        .rows
        .iter()
        .map(|r| {
            pod_cells(m, live, r, true)
                .1
                .iter()
                .map(|s| s.width())
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0);
    let name_w = longest
        .unwrap_or(10)
        .min(w.saturating_sub(4 + state_w))
        .max(10);
    let mut lines = Vec::new();
    for r in &live.rows {
        // The long wording when the row fits, the compact one otherwise: a wrapped row reads
        // as two pods.
        let fits =
            |spans: &[Span]| 4 + name_w + spans.iter().map(|s| s.width()).sum::<usize>() <= w;
        let (mark, spans) = match pod_cells(m, live, r, w < 110) {
            (mark, spans) if w < 110 || fits(&spans) => (mark, spans),
            _ => pod_cells(m, live, r, true),
        };
        let mut l = vec![
            Span::styled(format!("{mark} "), mark_style(&mark)),
            Span::styled(
                format!("{:<name_w$}  ", ellipsize_mid(&r.key, name_w)),
                if drain_flow::shown(m, live, r).is_gone() {
                    theme::dim()
                } else {
                    theme::text()
                },
            ),
        ];
        l.extend(spans);
        lines.push(Line::from(l));
    }
    for wl in &drain_flow::workloads(m, live) {
        lines.extend(workload_lines(wl, w));
    }
    if live.skipped > 0 {
        lines.push(Line::from(Span::styled(
            format!(
                "  + {} pod(s) left alone (DaemonSet, static, not selected)",
                live.skipped
            ),
            theme::dim(),
        )));
    }
    lines
}

/// One sentence on where the node stands.
fn status_line(m: &Model, live: &LiveDrain) -> Line<'static> {
    // Long: one sentence per drain state, side by side so the wording stays consistent.
    let node = &live.node;
    match live.outcome.as_ref().map(|o| o.state) {
        None if live.cancel_sent => Line::from(Span::styled(
            format!("cancelling… {node} stays cordoned"),
            theme::warn(),
        )),
        None => match live.cordoned {
            Some(already) => Line::from(vec![
                Span::styled("✔ cordoned", theme::ok()),
                Span::styled(
                    if live.in_campaign {
                        " (by the campaign)"
                    } else if already {
                        " (it already was)"
                    } else {
                        " (SchedulingDisabled)"
                    },
                    theme::dim(),
                ),
                Span::styled(" · replacements start on other nodes (above)", theme::dim()),
            ]),
            None => Line::from(Span::styled(format!("cordoning {node}…"), theme::dim())),
        },
        Some(NodeState::Drained) => {
            let (stay, others) = drain_flow::node_pods(m, node);
            // After an uncordon (a campaign's, or someone's) "safe to upgrade" is no longer true.
            let cordoned = m.cache.nodes.get(node).is_none_or(|n| n.unschedulable);
            if others.is_empty() {
                let (head, tail) = if cordoned {
                    (
                        format!("✔ {node} is drained and safe to upgrade"),
                        "; it stays cordoned",
                    )
                } else {
                    (format!("✔ {node} was drained"), "; it is schedulable again")
                };
                Line::from(vec![
                    Span::styled(
                        head,
                        theme::ok().add_modifier(ratatui::style::Modifier::BOLD),
                    ),
                    Span::styled(
                        format!(" — only {} DaemonSet/static pod(s) left{tail}", stay.len()),
                        theme::dim(),
                    ),
                ])
            } else {
                Line::from(Span::styled(
                    format!(
                        "✔ drained · {} other pod(s) still on {node} (not part of this drain)",
                        others.len()
                    ),
                    theme::warn(),
                ))
            }
        }
        Some(NodeState::Interrupted) => Line::from(Span::styled(
            format!("✖ interrupted: {node} stays cordoned — drain again (r) or uncordon it (u)"),
            theme::warn(),
        )),
        Some(NodeState::Cancelled) => Line::from(Span::styled(
            format!("✖ cancelled: {node} stays cordoned — drain again (r) or uncordon it (u)"),
            theme::warn(),
        )),
        Some(NodeState::TimedOut) => Line::from(Span::styled(
            format!("✖ timed out: {node} stays cordoned — drain again (r) or uncordon it (u)"),
            theme::warn(),
        )),
        Some(_) => {
            let o = live.outcome.as_ref();
            // The errors are listed below. The engine's message names the CLI command; here
            // the keys do it, so say which (only if our cordon happened and the node is there).
            let text = match o {
                Some(_) if live.cordoned.is_some() && m.cache.nodes.contains_key(node) => format!(
                    "✖ the drain failed: {node} stays cordoned — fix what is listed and drain again (r), or uncordon it (u)"
                ),
                Some(o) if o.errors.contains(&o.message) => "✖ the drain failed".to_string(),
                Some(o) => format!("✖ the drain failed: {}", o.message),
                None => String::new(),
            };
            Line::from(Span::styled(text, theme::bad()))
        }
    }
}
