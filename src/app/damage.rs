//! What a frame must redraw when less than the whole screen changed. A pod changing in place
//! on screen changes one row of the pods pane; a pod's requests, one node's counters. The
//! run loop's screen (`screen.rs`) then redraws, compares and writes those rows alone instead
//! of the 10,000 cells of a 200×50 terminal. Anything else sets `Model::redraw` (the whole
//! screen), and so does any state in which a pane's rows are not alone on screen.

use std::ops::Range;

use ratatui::layout::Rect;

use super::layout;
use super::model::{Model, Table, View};

/// Smallest terminal the panes are drawn in (below it the screen says it is too small).
pub const MIN_SIZE: (u16, u16) = (60, 15);

/// Parts of the main view that changed in place since the last frame.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The nodes pane (a node's pod counters on screen changed).
    pub nodes: bool,
    /// Rows of the pods view (indices into `views.pods`, on screen) whose pod changed.
    pub pod_rows: Vec<usize>,
}

impl Damage {
    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        !self.nodes && self.pod_rows.is_empty()
    }

    /// Marks row `i` of the pods view (once).
    pub fn pod_row(&mut self, i: usize) {
        if !self.pod_rows.contains(&i) {
            self.pod_rows.push(i);
        }
    }
}

/// Whether the main view's panes are alone on screen: nothing is drawn over them or beside
/// them that the damage does not track (dialogs, help, pickers, describe pages, the drain
/// or campaign panel, teach mode's narration), and the terminal is large enough for panes.
fn panes_alone(m: &Model, area: Rect) -> bool {
    m.view == View::Main
        && m.overlay.is_none()
        && m.flow.dialog.is_none()
        && m.campaign.dialog.is_none()
        && m.picker.is_none()
        && m.describe.page.is_none()
        && super::panel::shown(m).is_none()
        && !m.teach.on
        && area.width >= MIN_SIZE.0
        && area.height >= MIN_SIZE.1
}

/// Whether the next frame must be whole whatever the damage: the screen changed
/// (`Model::redraw`) or a view is to be rebuilt (asked before `Model::refresh` does it).
pub fn whole(m: &Model) -> bool {
    m.redraw || m.stale || m.dirty.any()
}

/// The screen rows the next frame must redraw for `m.damage` on a screen of `area`, or
/// `None` when the frame must be whole: `Model::redraw`, or panes that are not alone on
/// screen. Asked after `Model::refresh` (and after [`whole`]).
pub fn rows(m: &Model, area: Rect) -> Option<Vec<Range<u16>>> {
    if m.redraw || !panes_alone(m, area) {
        return None;
    }
    let l = layout::split(m, area);
    let mut rows = Vec::new();
    if m.damage.nodes {
        rows.push(l.nodes.y..l.nodes.bottom());
    }
    let nav = m.nav(Table::Pods);
    let shown = l.pods.height.saturating_sub(3) as usize;
    for &i in &m.damage.pod_rows {
        // Below the border and the column header; a row scrolled out of view needs nothing.
        if i >= nav.offset && i < nav.offset + shown {
            let y = l.pods.y + 2 + (i - nav.offset) as u16;
            rows.push(y..y + 1);
        }
    }
    rows.sort_by_key(|r| r.start);
    Some(rows)
}
