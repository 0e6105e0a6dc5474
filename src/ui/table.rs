//! A windowed table: rows are built only for what fits on screen, so 150,000 pods cost the
//! same per frame as 15. Columns drop out by priority when the terminal is narrow.

use crate::ui::canvas::Canvas;
use ratatui::layout::{Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};

use super::{grid, theme};
use crate::app::model::Nav;

/// A column: header, width, and priority (0 = always shown; higher drops first).
#[derive(Debug, Clone, Copy)]
pub struct Col {
    pub title: &'static str,
    /// Fixed width, or the minimum width of a flexible column.
    pub width: u16,
    /// A fixed column may shrink down to this before priority-1 columns are dropped
    /// (long pod names are cut rather than losing READY or NODE).
    pub min: u16,
    /// A flexible column takes the remaining space.
    pub flex: bool,
    pub prio: u8,
    /// Where the config's column list puts it (0: before the listed ones, in pane order).
    pub pos: u8,
}

/// Fixed-width column.
pub const fn fixed(title: &'static str, width: u16, prio: u8) -> Col {
    Col {
        title,
        width,
        min: width,
        flex: false,
        prio,
        pos: 0,
    }
}

/// Flexible column with a minimum width.
pub const fn flex(title: &'static str, min: u16, prio: u8) -> Col {
    Col {
        title,
        width: min,
        min,
        flex: true,
        prio,
        pos: 0,
    }
}

/// Which columns fit in `width`, as (index, width) in display order (`pos`, then the pane's
/// order): first the columns of priority 2 and up are dropped (highest first), then
/// shrinkable columns give up their slack, then priority-1 columns go. Width 0 hides a column.
pub fn fit(cols: &[Col], width: u16) -> Vec<(usize, u16)> {
    let mut keep: Vec<(usize, u16)> = (0..cols.len())
        .filter(|&i| cols[i].width > 0)
        .map(|i| (i, cols[i].width))
        .collect();
    let need = |keep: &[(usize, u16)]| -> u16 { keep.iter().map(|(_, w)| w + 1).sum::<u16>() };
    let drop_one = |keep: &mut Vec<(usize, u16)>, min_prio: u8| -> bool {
        let victim = keep
            .iter()
            .enumerate()
            .filter(|(_, (i, _))| cols[*i].prio >= min_prio)
            .max_by_key(|(pos, (i, _))| (cols[*i].prio, *pos))
            .map(|(pos, _)| pos);
        victim.map(|pos| keep.remove(pos)).is_some()
    };
    while need(&keep) > width && drop_one(&mut keep, 2) {}
    let mut over = need(&keep).saturating_sub(width);
    for (i, w) in keep.iter_mut() {
        let slack = w.saturating_sub(cols[*i].min);
        let cut = slack.min(over);
        *w -= cut;
        over -= cut;
    }
    while need(&keep) > width && drop_one(&mut keep, 1) {}
    keep.sort_by_key(|&(i, _)| (cols[i].pos, i));
    keep
}

/// A pane: bordered block with a title, focused or not.
pub fn block(title: Line<'static>, focused: bool) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(if focused {
            theme::focus_border()
        } else {
            theme::border()
        })
        .title(title)
}

/// A table cell: a line of styled spans, cut at the column's width.
pub type Cell<'a> = Line<'a>;

/// Renders `len` rows of which only `nav.offset..` (as many as fit) are built by `row(i)`,
/// in a pane bordered as [`block`] with `title`. With `only`, just those rows are built and
/// written (over a buffer that holds the rest of the pane; the border is written again).
#[allow(clippy::too_many_arguments)]
pub fn render<'a>(
    f: &mut Canvas,
    area: Rect,
    title: Line<'static>,
    cols: &[Col],
    len: usize,
    nav: Nav,
    focused: bool,
    empty: &str,
    only: Option<&[usize]>,
    row: impl Fn(usize, &[usize]) -> Vec<Cell<'a>>,
) {
    let inner_w = area.width.saturating_sub(2);
    let keep = fit(cols, inner_w);
    let idx: Vec<usize> = keep.iter().map(|&(i, _)| i).collect();
    let height = area.height.saturating_sub(3) as usize;
    let end = (nav.offset + height).min(len);
    let window = nav.offset.min(end)..end;
    let rows: Vec<(usize, Vec<Cell>)> = match only {
        None => window
            .clone()
            .map(|i| (i - window.start, row(i, &idx)))
            .collect(),
        Some(only) => only
            .iter()
            .filter(|i| window.contains(i))
            .map(|&i| (i - window.start, row(i, &idx)))
            .collect(),
    };
    let highlight = if focused {
        theme::selected()
    } else {
        theme::selected_dim()
    };
    let selected = (len > 0 && !window.is_empty()).then(|| {
        nav.selected
            .saturating_sub(nav.offset)
            .min(window.len() - 1)
    });
    let inner = Block::bordered().inner(area);
    grid::frame(f.buffer_mut(), area, &title, focused);
    grid::draw(
        f.buffer_mut(),
        inner,
        cols,
        &keep,
        only.is_none(),
        &rows,
        selected,
        highlight,
    );
    if len == 0 && area.height > 3 {
        let msg = Rect::new(area.x + 2, area.y + 2, area.width.saturating_sub(4), 1);
        f.render_widget(
            Paragraph::new(Span::styled(empty.to_string(), theme::dim())),
            msg,
        );
    }
    if len > height && height > 0 {
        // Thumb only: the pane border stays visible as the track.
        let mut sb = ScrollbarState::new(len.saturating_sub(height))
            .viewport_content_length(height)
            .position(nav.offset);
        f.render_stateful_widget(
            Scrollbar::new(ScrollbarOrientation::VerticalRight)
                .begin_symbol(None)
                .end_symbol(None)
                .track_symbol(None)
                .thumb_symbol("▐")
                .thumb_style(if focused { theme::key() } else { theme::text() }),
            area.inner(Margin {
                vertical: 1,
                horizontal: 0,
            }),
            &mut sb,
        );
    }
}

/// A pane title: ` Name ` plus dim details and an optional filter badge.
pub fn title(name: &str, detail: &str, count: usize, filter: Option<&str>) -> Line<'static> {
    let mut spans = vec![
        Span::raw(" "),
        Span::styled(name.to_string(), theme::title()),
    ];
    spans.push(Span::styled(format!(" ({count})"), theme::dim()));
    if !detail.is_empty() {
        spans.push(Span::styled(format!(" · {detail}"), theme::text()));
    }
    if let Some(f) = filter {
        spans.push(Span::styled(format!(" /{f}"), theme::warn()));
    }
    spans.push(Span::raw(" "));
    Line::from(spans)
}

/// A plain cell with a style.
pub fn cell<'a>(text: impl Into<String>, style: Style) -> Cell<'a> {
    Line::from(Span::styled(text.into(), style))
}
