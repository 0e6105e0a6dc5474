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
    /// The drain panel between nodes and pods (zero height when not shown).
    pub drain: Rect,
    /// Teach mode's narration, between pods and events (zero height when off).
    pub teach: Rect,
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
    let shown = super::panel::shown(m);
    let panel = shown.is_some();
    let focused = super::panel::focused(m).is_some();
    let nodes_h = if small && (m.focus != Pane::Nodes || focused) {
        4
    } else {
        want_nodes.clamp(5, (body_h * 2 / 5).max(5))
    };
    let mut events_h = match (small, m.focus) {
        (false, _) => (body_h * 3 / 10).max(5),
        (true, Pane::Events) if !focused => body_h.saturating_sub(nodes_h + 3),
        (true, _) => 3,
    };
    // Teach mode's narration: a few lines, taken before the drain panel's share.
    let teach_want = match (m.view == View::Main && m.teach.on, body_h >= 30) {
        (false, _) => 0,
        (true, true) => 8,
        (true, false) => 5,
    };
    let drain_h = match (panel, focused, small) {
        (false, ..) => 0,
        // Focused, it takes what pods and events can spare (they keep a few rows).
        (true, true, _) => {
            // Pods keep their title (and on taller screens a few rows, as do the events; on
            // short ones the events give their rows to the drain).
            let keep = if body_h < 30 { 3 } else { 5 };
            events_h = if body_h < 30 { 0 } else { events_h.min(keep) };
            let room = body_h.saturating_sub(nodes_h + events_h + keep + teach_want);
            // No taller than its rows, head and workload lines need: the pods get the rest.
            let need = match shown {
                Some(super::panel::Panel::Campaign) => campaign_rows(m),
                // Rows and workload lines, and its head, gauge and borders.
                _ => m.flow.live.as_ref().map_or(0, |l| {
                    l.rows.len() + super::drain_flow::workloads(m, l).len() + 8
                }),
            };
            room.min(need as u16)
        }
        // Beside another pane: its gauge, state and a few pods.
        (true, false, false) => 9.min(body_h.saturating_sub(nodes_h + events_h + teach_want + 5)),
        (true, false, true) => 4.min(body_h.saturating_sub(nodes_h + events_h + teach_want + 3)),
    };
    // The pods keep their title at least.
    let teach_h = teach_want.min(body_h.saturating_sub(nodes_h + drain_h + events_h + 3));
    let pods_h = body_h.saturating_sub(nodes_h + drain_h + teach_h + events_h);
    let drain_y = body_y + nodes_h;
    let pods_y = drain_y + drain_h;
    let teach_y = pods_y + pods_h;
    Areas {
        header,
        nodes: Rect::new(area.x, body_y, area.width, nodes_h),
        drain: Rect::new(area.x, drain_y, area.width, drain_h),
        pods: Rect::new(area.x, pods_y, area.width, pods_h),
        teach: Rect::new(area.x, teach_y, area.width, teach_h),
        events: Rect::new(area.x, teach_y + teach_h, area.width, events_h),
        full,
        footer,
    }
}

/// Rows the campaign panel can use: borders, its node table, the lines on what it waits
/// for (as `ui::panes::campaign` writes them, unwrapped), and the selected node's drain.
fn campaign_rows(m: &Model) -> usize {
    let Some(run) = &m.campaign.run else {
        return 0;
    };
    let info = usize::from(run.finished.is_some()) * 2
        + usize::from(run.paused)
        + usize::from(run.waiting.is_some())
        + run.upgrade_now.as_ref().map_or(0, |(_, c)| 1 + c.len())
        + usize::from(run.check.is_some())
        + usize::from(!run.notices.is_empty());
    let drain = run.selected_drain().map_or(0, |l| {
        l.rows.len() + super::drain_flow::workloads(m, l).len() + 8
    });
    2 + run.nodes.len() + 1 + info + drain
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
