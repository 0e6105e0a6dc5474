//! Screen geometry. Pure, so `update` can compute page sizes and scroll offsets with the
//! same numbers `render` uses.

use ratatui::layout::Rect;

use super::model::{Model, Pane, Table, View};

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Areas {
    pub header: Rect,
    pub nodes: Rect,
    pub pods: Rect,
    pub events: Rect,
    /// The body when a full-screen view (PDBs) replaces the panes.
    pub full: Rect,
    pub footer: Rect,
}

/// Splits `area` for `m`: header, nodes (as tall as the node list, up to 40 %), pods, events
/// (about 30 %), footer.
pub fn split(m: &Model, area: Rect) -> Areas {
    let header = Rect::new(area.x, area.y, area.width, 1);
    let footer = Rect::new(area.x, area.bottom().saturating_sub(1), area.width, 1);
    let body_h = area.height.saturating_sub(2);
    let body_y = area.y + 1;
    let full = Rect::new(area.x, body_y, area.width, body_h);
    let want_nodes = (m.views.nodes.len().max(1) as u16).saturating_add(3);
    // On short terminals the focused pane gets the rows; the others keep their title (with
    // its count) and one row at most.
    let small = body_h < 20;
    let nodes_h = if small && m.focus != Pane::Nodes {
        4
    } else {
        want_nodes.clamp(5, (body_h * 2 / 5).max(5))
    };
    let events_h = match (small, m.focus) {
        (false, _) => (body_h * 3 / 10).max(5),
        (true, Pane::Events) => body_h.saturating_sub(nodes_h + 3),
        (true, _) => 3,
    };
    let pods_h = body_h.saturating_sub(nodes_h + events_h);
    Areas {
        header,
        nodes: Rect::new(area.x, body_y, area.width, nodes_h),
        pods: Rect::new(area.x, body_y + nodes_h, area.width, pods_h),
        events: Rect::new(area.x, body_y + nodes_h + pods_h, area.width, events_h),
        full,
        footer,
    }
}

/// How many data rows table `t` shows (area minus borders and the column header).
pub fn table_rows(m: &Model, t: Table) -> usize {
    let (w, h) = m.size;
    let a = split(m, Rect::new(0, 0, w, h));
    let r = match (m.view, t) {
        (View::Pdbs, _) | (_, Table::Pdbs) => a.full,
        (_, Table::Nodes) => a.nodes,
        (_, Table::Pods) => a.pods,
        (_, Table::Events) => a.events,
    };
    r.height.saturating_sub(3) as usize
}
