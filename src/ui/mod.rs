//! Rendering: panes, help and theme. Pure functions of the model.

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

use ratatui::Frame;

use crate::app::layout;
use crate::app::panel::{self, Panel};
use ratatui::layout::{HorizontalAlignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::model::{Model, Overlay, Pane, View};

/// Smallest usable terminal.
pub const MIN_SIZE: (u16, u16) = (60, 15);

/// Draws the whole screen for `m`.
pub fn render(m: &Model, f: &mut Frame) {
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

fn too_small(f: &mut Frame, area: Rect) {
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
