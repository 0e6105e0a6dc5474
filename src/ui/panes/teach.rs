//! Teach mode: the narration pane (the latest steps, explained) and the timeline view
//! (`:log`: every step, action and message with its time).

use crate::ui::canvas::Canvas;
use jiff::tz::TimeZone;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::model::Model;
use crate::app::teach::{Entry, Kind};
use crate::ui::table;
use crate::ui::theme;
use crate::ui::wrap::hang;

/// `HH:MM:SS` in the operator's time zone (read at start; UTC without one).
fn clock(m: &Model, e: &Entry) -> String {
    let tz = m.teach.tz.clone().unwrap_or(TimeZone::UTC);
    e.at.to_zoned(tz).strftime("%H:%M:%S").to_string()
}

/// An entry as lines `width` wide: time and text, then the API fact (dim) under it; wrapped
/// lines hang under the text, so each entry reads as one block.
fn entry_lines(m: &Model, e: &Entry, with_time: bool, width: u16) -> Vec<Line<'static>> {
    let (mark, style) = match e.kind {
        Kind::Step => ("▸ ", theme::text()),
        Kind::Action => ("» ", theme::title()),
        Kind::Message => ("· ", theme::dim()),
    };
    let lead = if with_time {
        format!("{} ", clock(m, e))
    } else {
        String::new()
    };
    let indent = " ".repeat(lead.chars().count() + 2);
    let w = width as usize;
    let mut out = hang(
        Line::from(vec![
            Span::styled(lead, theme::dim()),
            Span::styled(mark, theme::key()),
            Span::styled(e.text.clone(), style),
        ]),
        w,
    );
    if let Some(fact) = &e.fact {
        out.extend(hang(
            Line::from(vec![
                Span::raw(indent),
                Span::styled(format!("API: {fact}"), theme::dim()),
            ]),
            w,
        ));
    }
    out
}

/// Rows `lines` take at `width` once wrapped.
fn rows(lines: &[Line], width: u16) -> usize {
    let w = width.max(1) as usize;
    lines.iter().map(|l| l.width().max(1).div_ceil(w)).sum()
}

/// The narration pane: the newest steps and actions that fit, the newest at the bottom.
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    let steps: Vec<&Entry> = m
        .teach
        .timeline
        .iter()
        .filter(|e| e.kind != Kind::Message)
        .collect();
    let title = Line::from(vec![
        Span::styled(" Teach ", theme::title()),
        Span::styled(
            "· each step explained · :log keeps them all · t hides ",
            theme::dim(),
        ),
    ]);
    let block = table::block(title, false);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut shown: Vec<Line> = Vec::new();
    // From the newest back, as many whole entries as fit.
    for e in steps.iter().rev() {
        let mut lines = entry_lines(m, e, false, inner.width);
        if rows(&shown, inner.width) + rows(&lines, inner.width) > inner.height as usize
            && !shown.is_empty()
        {
            break;
        }
        lines.append(&mut shown);
        shown = lines;
    }
    if shown.is_empty() {
        shown.push(Line::from(Span::styled(
            "nothing yet: cordon (c) or drain (r) a node and each step is explained here",
            theme::dim(),
        )));
    }
    // Only a newest entry taller than the pane overflows: its start (the sentence) shows,
    // its API line is cut (`:log` has it whole).
    f.render_widget(Paragraph::new(shown).wrap(Wrap { trim: false }), inner);
}

/// The timeline (`:log`) over the whole body, from entry `scroll` on.
pub fn render_log(m: &Model, f: &mut Canvas, area: Rect) {
    let t = &m.teach;
    let detail = if t.dropped > 0 {
        format!("the last {}; {} older dropped", t.timeline.len(), t.dropped)
    } else {
        "steps, your actions and messages".into()
    };
    let title = table::title("Timeline", &detail, t.timeline.len(), None);
    let block = table::block(title, true);
    let inner = block.inner(area);
    f.render_widget(block, area);
    if t.timeline.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled(
                "nothing yet: steps, actions and messages are kept here as they happen",
                theme::dim(),
            )),
            inner,
        );
        return;
    }
    // The last page ends with the newest entry: scroll no further than that.
    let mut last_top = t.timeline.len();
    let mut used = 0;
    while last_top > 0 {
        let r = rows(
            &entry_lines(m, &t.timeline[last_top - 1], true, inner.width),
            inner.width,
        );
        if used + r > inner.height as usize {
            break;
        }
        used += r;
        last_top -= 1;
    }
    let top = t.scroll.min(last_top);
    let lines: Vec<Line> = t
        .timeline
        .iter()
        .skip(top)
        .flat_map(|e| entry_lines(m, e, true, inner.width))
        .take(inner.height as usize)
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
