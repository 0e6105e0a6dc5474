//! The `:ns` / `:ctx` picker: the filter typed so far, the entries it lets through (the
//! selected one highlighted, the current one marked), and its keys on the bottom border.

use crate::ui::canvas::Canvas;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{hint_line, popup_keys};
use crate::app::picker::Picker;
use crate::ui::theme;

/// Draws `p` in the middle of the screen.
pub fn render(p: &Picker, f: &mut Canvas) {
    let area = f.area();
    let shown = p.shown();
    let label_w = p
        .items
        .iter()
        .map(|i| i.label.chars().count())
        .max()
        .unwrap_or(0);
    let detail_w = p
        .items
        .iter()
        .map(|i| i.detail.chars().count())
        .max()
        .unwrap_or(0);
    let w = (label_w + detail_w + 6).clamp(52, 90) as u16;
    // The filter line, then as many entries as fit.
    let rows = (area.height.saturating_sub(8)).max(1) as usize;
    let h = (shown.len().clamp(1, rows) + 1) as u16;
    let keys = hint_line(crate::app::picker::hints());
    let title = format!(" {} ", p.kind.title());
    let inner = popup_keys(f, area, (w, h), &title, theme::focus_border(), keys);
    let mut lines = vec![Line::from(vec![
        Span::styled("> ", theme::key()),
        Span::styled(p.filter.clone(), theme::text()),
        Span::styled(
            format!("   {}/{}", shown.len(), p.items.len()),
            theme::dim(),
        ),
    ])];
    // Keep the selection in sight.
    let visible = inner.height.saturating_sub(1) as usize;
    let top = p.selected.saturating_sub(visible.saturating_sub(1));
    for (i, item) in shown.iter().enumerate().skip(top).take(visible) {
        let mark = if item.current { "● " } else { "  " };
        let line = Line::from(vec![
            Span::raw(mark),
            Span::raw(format!("{:<label_w$}  ", item.label)),
            Span::styled(item.detail.clone(), theme::dim()),
        ]);
        lines.push(if i == p.selected {
            line.style(theme::selected())
        } else {
            line
        });
    }
    if shown.is_empty() {
        lines.push(Line::from(Span::styled(
            "nothing matches: Backspace",
            theme::dim(),
        )));
    }
    f.render_widget(Paragraph::new(lines), inner);
}
