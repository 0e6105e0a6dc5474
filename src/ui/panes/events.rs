//! The events pane: newest first, for the selected node and its pods, or all.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;

use crate::app::cells::object;
use crate::app::model::{Model, Table};
use crate::cluster::age;
use crate::ui::table::{self, Col, fixed, flex};
use crate::ui::theme;

/// Every column of the pane, in order.
pub const COLS: &[Col] = &[
    fixed("LAST SEEN", 9, 1),
    fixed("TYPE", 7, 2),
    fixed("REASON", 18, 0),
    fixed("OBJECT", 28, 0),
    fixed("COUNT", 5, 3),
    flex("MESSAGE", 16, 0),
];

/// Draws the events pane.
pub fn render(m: &Model, f: &mut Canvas, area: Rect, focused: bool) {
    let filter = m.filters.get(&Table::Events).map(|f| f.text.as_str());
    let detail = if m.events_all {
        "all".to_string()
    } else {
        m.selected_node
            .clone()
            .map(|n| format!("{n} and its pods"))
            .unwrap_or_default()
    };
    let title = table::title("Events", &detail, m.views.events.len(), filter);
    let mut cols = COLS.to_vec();
    cols[3].width = m.views.event_object_w;
    crate::ui::columns::apply("events", &mut cols);
    table::render(
        f,
        area,
        title,
        &cols,
        m.views.events.len(),
        m.nav(Table::Events),
        focused,
        if filter.is_some() {
            "no event matches the filter (Esc clears it)"
        } else {
            "no events"
        },
        None,
        |i, keep| {
            let Some(e) = m.cache.events.get(&m.views.events[i]) else {
                return Vec::new();
            };
            let warn = e.is_warning();
            keep.iter()
                .map(|&c| match c {
                    0 => table::cell(age::since(e.last_seen, m.cluster_now()), theme::dim()),
                    1 => table::cell(
                        e.type_.clone(),
                        if warn { theme::bad() } else { theme::dim() },
                    ),
                    2 => table::cell(
                        e.reason.clone(),
                        if warn { theme::bad() } else { theme::text() },
                    ),
                    3 => table::cell(object(e), theme::text()),
                    4 => table::cell(e.count.to_string(), theme::dim()),
                    _ => table::cell(
                        e.message.clone(),
                        if warn { theme::warn() } else { theme::text() },
                    ),
                })
                .collect()
        },
    );
}
