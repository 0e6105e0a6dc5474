//! Rendering: panes, help and theme. Pure functions of the model.

pub mod canvas;
pub mod columns;
pub mod describe;
pub mod dialogs;
pub mod grid;
pub mod help;
pub mod panes;
pub mod status_bar;
pub mod table;
pub mod theme;
pub mod wrap;

#[cfg(test)]
mod screen_tests;

use ratatui::Frame;
use ratatui::buffer::Buffer;

use crate::app::layout;
use crate::app::panel::{self, Panel};
use ratatui::layout::{HorizontalAlignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::damage::Damage;
use crate::app::model::{Model, Overlay, Pane, View};
use canvas::Canvas;

/// Smallest usable terminal.
pub use crate::app::damage::MIN_SIZE;

/// Draws the whole screen for `m` (ratatui's `Terminal::draw`, as tests use it).
pub fn render(m: &Model, f: &mut Frame) {
    draw(m, f.buffer_mut(), None);
}

/// Draws `m` into `buf`: the whole screen, or with `damage` only the pane rows it names
/// (`buf` already holds the rest of the screen; `app::damage` says when that may be).
pub fn draw(m: &Model, buf: &mut Buffer, damage: Option<&Damage>) {
    let f = &mut Canvas::new(buf);
    match damage {
        None => whole(m, f),
        Some(d) => part(m, f, d),
    }
}

/// The panes `d` names, and in the pods pane only the rows it names.
fn part(m: &Model, f: &mut Canvas, d: &Damage) {
    let l = layout::split(m, f.area());
    let in_panel = panel::focused(m).is_some();
    if d.nodes {
        panes::nodes::render(m, f, l.nodes, m.focus == Pane::Nodes && !in_panel);
    }
    if !d.pod_rows.is_empty() {
        let focused = m.focus == Pane::Pods && !in_panel;
        panes::pods::render_rows(m, f, l.pods, focused, Some(&d.pod_rows));
    }
}

fn whole(m: &Model, f: &mut Canvas) {
    let area = f.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        too_small(f, area);
        return;
    }
    let l = layout::split(m, area);
    status_bar::header(m, f, l.header);
    match m.view {
        View::Main => {
            // The drain panel, when shown, sits between nodes and pods and may hold the focus.
            let in_panel = panel::focused(m).is_some();
            panes::nodes::render(m, f, l.nodes, m.focus == Pane::Nodes && !in_panel);
            match panel::shown(m) {
                _ if l.drain.height == 0 => {}
                Some(Panel::Drain) => dialogs::drain::render(m, f, l.drain, in_panel),
                Some(Panel::Campaign) => panes::campaign::render_panel(m, f, l.drain, in_panel),
                None => {}
            }
            panes::pods::render(m, f, l.pods, m.focus == Pane::Pods && !in_panel);
            if l.teach.height > 0 {
                panes::teach::render(m, f, l.teach);
            }
            panes::events::render(m, f, l.events, m.focus == Pane::Events && !in_panel);
        }
        View::Pdbs => panes::pdbs::render(m, f, l.full),
        View::Versions => panes::versions::render(m, f, l.full),
        View::Campaign => panes::campaign::render(m, f, l.full),
        View::Timeline => panes::teach::render_log(m, f, l.full),
    }
    dialogs::render(m, f, &l);
    describe::render(m, f, l.full);
    status_bar::footer(m, f, l.footer);
    if m.overlay == Some(Overlay::Help) {
        help::render(m, f, area);
    }
}

fn too_small(f: &mut Canvas, area: Rect) {
    let text = vec![
        Line::from("terminal too small"),
        Line::from(format!(
            "need ≥ {}×{}, have {}×{}",
            MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
        )),
        Line::from("enlarge the window, or press q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let inner = Rect::new(area.x, area.y + top, area.width, area.height - top);
    f.render_widget(
        Paragraph::new(text)
            .style(theme::warn())
            .alignment(HorizontalAlignment::Center)
            .wrap(Wrap { trim: true }),
        inner,
    );
}
