//! The campaign view (`:campaign`): per node a row of phases with their times, what the
//! campaign waits for, the wave's forecast, and the selected node's live drain below.

use crate::ui::canvas::Canvas;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Row, Table, TableState, Wrap};

use crate::app::campaign::{CCtx, CampaignRun, NodeProgress, Phase};
use crate::app::model::Model;
use crate::campaign::events::CampaignState;
use crate::campaign::exec::outcome_text;
use crate::ui::dialogs::campaign::keys_line;
use crate::ui::dialogs::drain::render_live;
use crate::ui::theme;

/// Draws the campaign view over the whole body.
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    let Some(run) = &m.campaign.run else {
        return unfinished(m, f, area);
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(border(run))
        .title(title(run))
        .title_bottom(keys_line(m, CCtx::View).right_aligned());
    body(m, run, f, area, block);
}

/// Draws the campaign panel between the nodes and pods panes; `focused`: it has the keys.
pub fn render_panel(m: &Model, f: &mut Canvas, area: Rect, focused: bool) {
    let Some(run) = &m.campaign.run else {
        return;
    };
    let keys = if focused {
        keys_line(m, CCtx::Panel)
    } else {
        let mut spans = crate::ui::dialogs::drain::unfocused_panel_hint(" · ");
        spans.push(Span::styled(":campaign", theme::key()));
        spans.push(Span::styled(" full view ", theme::dim()));
        Line::from(spans)
    };
    // Its state's colour either way; the thick border says it has the keyboard.
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(match (&run.finished, focused) {
            (None, false) if !run.paused && run.waiting.is_none() => theme::border(),
            _ => border(run),
        })
        .title(title(run))
        .title_bottom(keys.right_aligned());
    f.render_widget(ratatui::widgets::Clear, area);
    body(m, run, f, area, block);
}

/// The node table, what the campaign waits for, and the selected node's drain when there
/// is room for it.
fn body(m: &Model, run: &CampaignRun, f: &mut Canvas, area: Rect, block: Block) {
    let inner = block.inner(area);
    f.render_widget(block, area);
    let inner = Rect::new(
        inner.x + 1,
        inner.y,
        inner.width.saturating_sub(2),
        inner.height,
    );
    let info = info_lines(run);
    // Wrapped lines take more than one row each.
    let wrapped: u16 = info
        .iter()
        .map(|l| (l.width() as u16).div_ceil(inner.width.max(1)).max(1))
        .sum();
    // The heading and at least the selected node's row (scrolled to) come first; the drain
    // below is drawn only with room for its head and a few pods, else the table takes it.
    let table_want = run.nodes.len() as u16 + 1;
    let info_h = wrapped.min(inner.height.saturating_sub(table_want.min(2)));
    let rest = inner.height - info_h;
    const DRAIN_MIN: u16 = 6;
    let drain = run.selected_drain().filter(|_| rest >= 2 + DRAIN_MIN);
    let table_h = match drain {
        Some(_) => table_want.min(rest - DRAIN_MIN),
        None => table_want.min(rest),
    };
    let drain_y = inner.y + table_h + info_h;
    let drain_h = inner.bottom().saturating_sub(drain_y);
    phases_table(run, f, Rect::new(inner.x, inner.y, inner.width, table_h));
    f.render_widget(
        Paragraph::new(info).wrap(Wrap { trim: false }),
        Rect::new(inner.x, inner.y + table_h, inner.width, info_h),
    );
    if let Some(live) = drain {
        let keys = Line::from(Span::styled(" j/k another node ", theme::dim()));
        render_live(
            m,
            live,
            f,
            Rect::new(inner.x, drain_y, inner.width, drain_h),
            keys,
            true,
        );
    }
}

fn border(run: &CampaignRun) -> Style {
    match &run.finished {
        Some(s) if s.completed() => theme::ok(),
        Some(_) => theme::bad(),
        None if run.paused || run.waiting.is_some() => theme::warn(),
        None => theme::focus_border(),
    }
}

fn title(run: &CampaignRun) -> Line<'static> {
    let state = match &run.finished {
        Some(CampaignState::Completed) => "completed".to_string(),
        Some(s) => format!("stopped: {}", short(s)),
        None if run.paused => "paused".into(),
        None => format!("wave {}/{}", run.wave + 1, run.spec.waves.len()),
    };
    let target = match &run.spec.target {
        Some(t) => format!("to {t}"),
        None => "OS only".into(),
    };
    Line::from(vec![
        Span::styled(" Campaign ", theme::title()),
        Span::styled(
            format!(
                "{target} · {} nodes · max-unavailable {} · ",
                run.nodes.len(),
                run.spec.max_unavailable
            ),
            theme::text(),
        ),
        Span::styled(format!("{state} "), theme::title()),
    ])
}

fn short(s: &CampaignState) -> &'static str {
    match s {
        CampaignState::Completed => "completed",
        CampaignState::Held { .. } => "held",
        CampaignState::Failed { .. } => "failed",
        CampaignState::Aborted { .. } => "aborted",
    }
}

fn phase_cell(run: &CampaignRun, n: &NodeProgress, p: Phase, compact: bool) -> Span<'static> {
    let format = if compact { "%H:%M" } else { "%H:%M:%S" };
    match n.done.get(&p) {
        Some(t) => Span::styled(
            t.to_zoned(jiff::tz::TimeZone::UTC)
                .strftime(format)
                .to_string(),
            theme::ok(),
        ),
        None if n.journaled.contains(&p) => Span::styled("✓", theme::ok()),
        // Only the phase the node is working towards is "…".
        None if run.doing(n).is_some()
            && n.last().map_or(Some(Phase::Cordoned), next) == Some(p) =>
        {
            Span::styled("…", theme::warn())
        }
        None => Span::styled("·", theme::dim()),
    }
}

fn next(p: Phase) -> Option<Phase> {
    let i = Phase::ALL.iter().position(|x| *x == p)?;
    Phase::ALL.get(i + 1).copied()
}

/// The gate's versions after; narrow: only the kubelet's `a → b` (the rest is in the report).
fn after_text(after: Option<&str>, compact: bool) -> String {
    let after = after.unwrap_or_default();
    if !compact {
        return after.to_string();
    }
    after
        .split(", ")
        .find(|p| p.starts_with("kubelet "))
        .unwrap_or(after)
        .to_string()
}

fn phases_table(run: &CampaignRun, f: &mut Canvas, area: Rect) {
    let name_w = run
        .nodes
        .iter()
        .map(|n| n.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4) as u16
        + 2;
    // Below 100 columns: HH:MM and short headings, so names and NOW keep their room.
    let compact = area.width < 100;
    let heading = |p: Phase| if compact { p.short_title() } else { p.title() };
    let mut header = vec![
        Span::styled("NODE", theme::header()),
        Span::styled("WAVE", theme::header()),
    ];
    header.extend(Phase::ALL.map(|p| Span::styled(heading(p), theme::header())));
    header.push(Span::styled("NOW", theme::header()));
    let rows = run.nodes.iter().enumerate().map(|(i, n)| {
        let mut cells = vec![
            Span::styled(
                format!("{}{}", if i == run.selected { "▸ " } else { "  " }, n.name),
                theme::text(),
            ),
            Span::styled(format!("{}", n.wave + 1), theme::dim()),
        ];
        cells.extend(Phase::ALL.map(|p| phase_cell(run, n, p, compact)));
        cells.push(match run.doing(n) {
            Some(d) => Span::styled(d, theme::warn()),
            None => Span::styled(after_text(n.after.as_deref(), compact), theme::dim()),
        });
        let row = Row::new(cells);
        if i == run.selected {
            row.style(theme::selected())
        } else {
            row
        }
    });
    let mut widths = vec![Constraint::Length(name_w), Constraint::Length(4)];
    let time_w = if compact { 5 } else { 8 };
    widths.extend(Phase::ALL.map(|p| Constraint::Length((heading(p).len() as u16).max(time_w))));
    widths.push(Constraint::Min(8));
    // Short areas (the panel) scroll to keep the selected node in sight.
    let mut state = TableState::default().with_selected(Some(run.selected));
    f.render_stateful_widget(
        Table::new(rows, widths)
            .header(Row::new(header))
            .column_spacing(1),
        area,
        &mut state,
    );
}

/// What the campaign waits for, the operator's upgrade, the forecast, notices, the end.
fn info_lines(run: &CampaignRun) -> Vec<Line<'static>> {
    // Long: one block per thing the campaign can report, top to bottom as drawn.
    let mut out = Vec::new();
    if let Some(s) = &run.finished {
        let style = if s.completed() {
            theme::ok()
        } else {
            theme::bad()
        };
        out.push(Line::from(Span::styled(
            format!(
                "■ {}",
                if s.completed() {
                    "campaign completed".into()
                } else {
                    format!("campaign stopped: {}", outcome_text(s))
                }
            ),
            style,
        )));
        match &run.report {
            Some(Ok((md, json))) => out.push(Line::from(Span::styled(
                format!("report: {md} and {json}"),
                theme::text(),
            ))),
            Some(Err(e)) => out.push(Line::from(Span::styled(
                format!("report: {e}"),
                theme::bad(),
            ))),
            None => {}
        }
    }
    if run.paused {
        out.push(Line::from(Span::styled(
            "paused: p goes on (a running drain finishes first)",
            theme::warn(),
        )));
    }
    if let Some(w) = &run.waiting {
        out.push(Line::from(vec![
            Span::styled("waiting: ", theme::warn()),
            Span::styled(w.clone(), theme::text()),
        ]));
    }
    if let Some((node, cmds)) = &run.upgrade_now {
        out.push(Line::from(Span::styled(
            format!("upgrade {node} now; on its host run:"),
            theme::title(),
        )));
        out.extend(
            cmds.iter()
                .map(|c| Line::from(Span::styled(format!("  {c}"), theme::key()))),
        );
    }
    if let Some(c) = &run.check {
        let pending = c.pending().count();
        let mut spans = vec![Span::styled(
            format!(
                "wave {} forecast: {} replacement(s), ",
                c.wave.index + 1,
                c.placements.len()
            ),
            theme::dim(),
        )];
        spans.push(Span::styled(
            format!("{pending} Pending"),
            if pending > 0 {
                theme::bad()
            } else {
                theme::ok()
            },
        ));
        if let Some(r) = &c.held {
            spans.push(Span::styled(format!(" · held: {r}"), theme::bad()));
        }
        out.push(Line::from(spans));
    }
    if let Some(n) = run.notices.last() {
        out.push(Line::from(Span::styled(format!("note: {n}"), theme::dim())));
    }
    out
}

/// No campaign ran in this session: the unfinished one from the journal, if any.
fn unfinished(m: &Model, f: &mut Canvas, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(theme::warn())
        .title(Line::from(Span::styled(" Campaign ", theme::title())))
        .title_bottom(keys_line(m, CCtx::View).right_aligned());
    let lines = match &m.campaign.unfinished {
        Some(p) => {
            let at = match p.next() {
                Some((n, s)) => format!("node/{n}, step {}", s.name()),
                None => "its end".into(),
            };
            let mut l = vec![
                Line::from(Span::styled(
                    format!("campaign {} stopped at {at}", p.campaign),
                    theme::warn(),
                )),
                Line::from(Span::styled(
                    "R resumes it there (nodes it cordoned stay cordoned until then)",
                    theme::text(),
                )),
            ];
            l.extend(
                crate::campaign::text::order_lines(&p.spec)
                    .into_iter()
                    .map(|s| Line::from(Span::styled(s, theme::dim()))),
            );
            l
        }
        None => vec![Line::from(Span::styled(
            "no campaign: mark nodes with Space in the nodes pane, then C",
            theme::dim(),
        ))],
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
