//! The cells of a table pane, written straight into the frame's buffer. Same cells as
//! ratatui's `Table` widget with our settings (header row, column spacing 1, no highlight
//! symbol, row highlight patched over the row), which styled each cell five times over
//! (table, row, cell, text, line) and went through the grapheme machinery for every
//! character: a third of the TUI's CPU under churn. Here a plain-ASCII span (nearly every
//! cell) is one cell write per character; anything else goes through ratatui's `Span` widget.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use super::table::Col;
use super::theme;

/// Draws the header (if `header`) and `rows` in `inner`, the pane's inside; each row is
/// (its place in the window: 0 is the first shown, its cells). `keep` are the shown columns
/// (index, width) and `selected` the highlighted place.
#[allow(clippy::too_many_arguments)]
pub fn draw(
    buf: &mut Buffer,
    inner: Rect,
    cols: &[Col],
    keep: &[(usize, u16)],
    header: bool,
    rows: &[(usize, Vec<Line>)],
    selected: Option<usize>,
    highlight: Style,
) {
    let inner = inner.intersection(buf.area);
    if inner.is_empty() {
        return;
    }
    let columns = columns(cols, keep, inner.width);
    if header {
        for (&(i, _), c) in keep.iter().zip(&columns) {
            let cell = Rect::new(inner.x + c.x, inner.y, c.width, 1);
            // The header's style covers the whole column, as a styled table cell does.
            buf.set_style(cell, theme::header());
            write_line(buf, cell, &Line::from(cols[i].title));
        }
    }
    let body_rows = inner.height as usize - 1;
    for (n, cells) in rows.iter().filter(|(n, _)| *n < body_rows) {
        let y = inner.y + 1 + *n as u16;
        for (line, c) in cells.iter().zip(&columns) {
            write_line(buf, Rect::new(inner.x + c.x, y, c.width, 1), line);
        }
        if selected == Some(*n) {
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), highlight);
        }
    }
}

/// The pane's border and title: the cells [`super::table::block`] draws (ratatui's `Block`,
/// which also styled every cell inside with its default style, a no-op that cost a fifth of
/// the panes' time).
pub fn frame(buf: &mut Buffer, area: Rect, title: &Line, focused: bool) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let (set, style) = if focused {
        (border::THICK, theme::focus_border())
    } else {
        (border::ROUNDED, theme::border())
    };
    let (left, top) = (area.left(), area.top());
    let (right, bottom) = (area.right() - 1, area.bottom() - 1);
    let mut put = |x: u16, y: u16, symbol: &str| {
        buf[(x, y)].set_symbol(symbol).set_style(style);
    };
    for y in top..=bottom {
        put(left, y, set.vertical_left);
        put(right, y, set.vertical_right);
    }
    for x in left..=right {
        put(x, top, set.horizontal_top);
        put(x, bottom, set.horizontal_bottom);
    }
    put(right, bottom, set.bottom_right);
    put(right, top, set.top_right);
    put(left, bottom, set.bottom_left);
    put(left, top, set.top_left);
    let room = area.width.saturating_sub(2);
    if room > 0 {
        let width = u16::try_from(title.width()).unwrap_or(u16::MAX).min(room);
        write_line(buf, Rect::new(left + 1, top, width, 1), title);
    }
}

/// Each shown column's x (from the inside's left) and width: the layout ratatui's `Table`
/// makes of the same constraints (spare width to a flexible column, else to the right edge).
fn columns(cols: &[Col], keep: &[(usize, u16)], width: u16) -> Vec<Rect> {
    let widths = constraints(cols, keep);
    // Layout caches its answers: the same panes cost one solve, not one per frame.
    let mut rects = Layout::horizontal(widths)
        .flex(Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, width, 1))
        .to_vec();
    rects.truncate(keep.len());
    rects
}

/// The shown columns' constraints, as the panes gave them to ratatui's `Table`: a flexible
/// column takes the spare width, else an empty last column does.
fn constraints(cols: &[Col], keep: &[(usize, u16)]) -> Vec<Constraint> {
    let mut widths: Vec<Constraint> = keep
        .iter()
        .map(|&(i, w)| {
            if cols[i].flex {
                Constraint::Min(w)
            } else {
                Constraint::Length(w)
            }
        })
        .collect();
    if !keep.iter().any(|&(i, _)| cols[i].flex) {
        widths.push(Constraint::Fill(1));
    }
    widths
}

/// Printable ASCII: one character per cell, of width one, no grapheme to join.
fn plain(s: &str) -> bool {
    s.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Writes `line` left-aligned in the one-row `area`, cut at its right edge as ratatui's
/// `Line` widget does: the spans one after another, stopping at the first character that
/// does not fit.
fn write_line(buf: &mut Buffer, area: Rect, line: &Line) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let all_plain = line.spans.iter().all(|s| plain(&s.content));
    let width = if all_plain {
        line.spans.iter().map(|s| s.content.len()).sum()
    } else {
        line.width()
    };
    if width == 0 {
        return;
    }
    buf.set_style(area, line.style);
    let right = area.right();
    let mut x = area.x;
    for span in &line.spans {
        if x >= right {
            break;
        }
        if plain(&span.content) {
            let n = span.content.len().min(usize::from(right - x));
            let start = buf.index_of(x, area.y);
            for (k, cell) in buf.content[start..start + n].iter_mut().enumerate() {
                cell.set_symbol(&span.content[k..=k]).set_style(span.style);
            }
            if n < span.content.len() {
                break;
            }
            x += n as u16;
        } else {
            let w = span.width();
            let rest = Rect::new(x, area.y, right - x, 1);
            Widget::render(span, rest, buf);
            x = x.saturating_add(u16::try_from(w).unwrap_or(u16::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Modifier, Style};
    use ratatui::text::{Line, Span};
    use ratatui::widgets::{Row, StatefulWidget, Table, TableState};

    use super::constraints;
    use crate::ui::table::{Col, fit, fixed, flex};
    use crate::ui::theme;

    /// What ratatui's `Table` draws for the same pane (the renderer this module replaced).
    fn by_table(
        inner: Rect,
        cols: &[Col],
        rows: &[Vec<Line<'static>>],
        sel: Option<usize>,
    ) -> Buffer {
        let keep = fit(cols, inner.width);
        let widths = constraints(cols, &keep);
        let header = Row::new(
            keep.iter()
                .map(|&(i, _)| ratatui::widgets::Cell::from(cols[i].title).style(theme::header())),
        );
        let table = Table::new(rows.iter().map(|r| Row::new(r.clone())), widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(highlight());
        let mut buf = Buffer::empty(Rect::new(0, 0, inner.right() + 1, inner.bottom() + 1));
        let mut state = TableState::default();
        state.select(sel);
        StatefulWidget::render(table, inner, &mut buf, &mut state);
        buf
    }

    fn by_grid(
        inner: Rect,
        cols: &[Col],
        rows: &[Vec<Line<'static>>],
        sel: Option<usize>,
    ) -> Buffer {
        let keep = fit(cols, inner.width);
        let mut buf = Buffer::empty(Rect::new(0, 0, inner.right() + 1, inner.bottom() + 1));
        let rows: Vec<(usize, Vec<Line>)> = rows.iter().cloned().enumerate().collect();
        super::draw(&mut buf, inner, cols, &keep, true, &rows, sel, highlight());
        buf
    }

    fn highlight() -> Style {
        Style::default()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    }

    fn row(texts: &[&'static str]) -> Vec<Line<'static>> {
        let styles = [
            Style::default().fg(Color::Green),
            Style::default().add_modifier(Modifier::DIM),
        ];
        texts
            .iter()
            .enumerate()
            .map(|(n, t)| Line::from(Span::styled(*t, styles[n % 2])))
            .collect()
    }

    #[test]
    fn draws_what_ratatuis_table_draws() {
        let cols = [
            fixed("NAME", 8, 0),
            fixed("READY", 5, 1),
            fixed("STATUS", 6, 2),
            flex("WHY", 4, 0),
        ];
        let mut rows = vec![
            row(&["short", "1/1", "Running", "x"]),
            // Cut at the column's width, ASCII and not; a wide character that does not fit
            // is left out whole.
            row(&[
                "a-name-longer-than-eight",
                "10/10",
                "Términé",
                "全角の文字がはみ出す",
            ]),
            row(&["", "", "ok", ""]),
            row(&["tab\there", "é", "▰▰▱▱▱", "e\u{301}"]),
            row(&["only"]),
            Vec::new(),
        ];
        // Several spans in one cell, the first cut.
        rows.push(vec![Line::from(vec![
            Span::styled("✚ ", Style::default().fg(Color::Yellow)),
            Span::raw("node-with-a-long-name"),
            Span::styled(" (cp)", Style::default().fg(Color::Gray)),
        ])]);
        rows.push(vec![Line::from(vec![
            Span::raw("ab"),
            Span::styled("cd", Style::default().fg(Color::Red)),
        ])]);
        for width in [10, 14, 19, 27, 40, 61] {
            for height in [1, 2, 5, 9] {
                let inner = Rect::new(1, 1, width, height);
                let shown = &rows[..rows.len().min(usize::from(height - 1))];
                for sel in [None, Some(0), Some(3)] {
                    let sel = sel.filter(|&s| s < shown.len());
                    assert_eq!(
                        by_grid(inner, &cols, shown, sel),
                        by_table(inner, &cols, shown, sel),
                        "width {width}, height {height}, selected {sel:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn without_a_flexible_column_the_spare_width_stays_right() {
        let cols = [fixed("A", 3, 0), fixed("B", 4, 0)];
        let rows = vec![row(&["abc", "defg"]), row(&["x", "y"])];
        let inner = Rect::new(2, 0, 30, 3);
        assert_eq!(
            by_grid(inner, &cols, &rows, Some(1)),
            by_table(inner, &cols, &rows, Some(1))
        );
    }

    #[test]
    fn the_border_and_title_are_ratatuis_blocks() {
        let titles = [
            crate::ui::table::title("Pods", "node-1 · cordoned", 40, Some("svc")),
            Line::from(""),
            Line::from("a title far longer than the narrow panes it is drawn in"),
        ];
        for (w, h) in [(1, 1), (2, 2), (1, 5), (7, 1), (12, 3), (40, 6), (90, 4)] {
            for title in &titles {
                for focused in [true, false] {
                    let area = Rect::new(1, 1, w, h);
                    let full = Rect::new(0, 0, w + 2, h + 2);
                    let mut want = Buffer::empty(full);
                    ratatui::widgets::Widget::render(
                        crate::ui::table::block(title.clone(), focused),
                        area,
                        &mut want,
                    );
                    let mut got = Buffer::empty(full);
                    super::frame(&mut got, area, title, focused);
                    assert_eq!(got, want, "{w}x{h}, focused {focused}, {title:?}");
                }
            }
        }
    }
}
