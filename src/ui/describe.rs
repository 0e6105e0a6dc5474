//! The describe / YAML / events page: the body between header and footer, in a border,
//! its lines wrapped (never cut) and scrolled as `app::describe` says.

use crate::ui::canvas::Canvas;
use ratatui::layout::{HorizontalAlignment, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use super::theme;
use crate::app::describe::text::{self, Tone};
use crate::app::describe::{Page, geometry};
use crate::app::model::Model;

fn style(t: Tone) -> Style {
    match t {
        Tone::Heading => theme::title(),
        Tone::Label => theme::key(),
        Tone::Text => theme::text(),
        Tone::Dim => theme::dim(),
        Tone::Ok => theme::ok(),
        Tone::Warn => theme::warn(),
        Tone::Bad => theme::bad(),
    }
}

/// Draws the open page over `area` (the body).
pub fn render(m: &Model, f: &mut Canvas, area: Rect) {
    let Some(page) = &m.describe.page else {
        return;
    };
    let (cols, rows) = geometry(m.size);
    let wrapped = text::wrap(&page.lines, cols);
    let top = page.scroll.min(wrapped.len().saturating_sub(rows));
    let shown: Vec<Line> = wrapped
        .iter()
        .skip(top)
        .take(rows)
        .map(|r| {
            Line::from(
                r.iter()
                    .map(|s| Span::styled(s.text.clone(), style(s.tone)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let position = if wrapped.len() <= rows {
        " all shown ".to_string()
    } else {
        format!(
            " {}–{} of {} ",
            top + 1,
            (top + rows).min(wrapped.len()),
            wrapped.len()
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(theme::focus_border())
        .title(Line::from(Span::styled(title(m, page), theme::title())))
        .title_bottom(
            Line::from(Span::styled(position, theme::dim())).alignment(HorizontalAlignment::Right),
        );
    f.render_widget(Clear, area);
    let inner = block.inner(area);
    f.render_widget(block, area);
    f.render_widget(Paragraph::new(shown), inner);
}

fn title(m: &Model, page: &Page) -> String {
    let state = if page.loading() {
        " · reading…".to_string()
    } else {
        match page.fetched {
            Some(t) => format!(
                " · read {} ago",
                crate::cluster::age::human((m.now - t).get_seconds())
            ),
            None => " · live".to_string(),
        }
    };
    format!(" {} · {}{state} ", page.mode.title(), page.subject.label())
}
