//! The nodes pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;

use crate::app::model::{Model, Table};
use crate::cluster::age;
use crate::cluster::rows::{NodeReady, NodeRow};
use crate::ui::table::{self, Col, fixed};
use crate::ui::theme;

const COLS: &[Col] = &[
    fixed("NAME", 12, 0),
    fixed("STATUS", 27, 0),
    fixed("ROLES", 13, 2),
    fixed("VERSION", 9, 1),
    fixed("PODS", 7, 1),
    fixed("CPU", 10, 1),
    fixed("MEM", 10, 3),
    fixed("AGE", 5, 1),
    fixed("INTERNAL-IP", 15, 4),
    fixed("KERNEL", 18, 5),
    fixed("OS-IMAGE", 22, 6),
];

/// Percent of `used` in `total` (0 when unknown).
fn pct(used: u64, total: u64) -> u64 {
    (used * 100).checked_div(total).unwrap_or(0)
}

/// Visible text of every column (what `/` filters on).
pub fn cells(m: &Model, n: &NodeRow) -> Vec<String> {
    let load = m
        .cache
        .index
        .load
        .get(n.name())
        .copied()
        .unwrap_or_default();
    vec![
        n.name().to_string(),
        n.status_text(),
        roles(n),
        n.kubelet_version.clone(),
        format!("{}/{}", load.pods, n.pods_allocatable),
        format!("{}%", pct(load.cpu_m, n.cpu_allocatable_m)),
        format!("{}%", pct(load.mem, n.mem_allocatable)),
        age::since(n.created(), m.now),
        n.internal_ip.clone().unwrap_or_else(|| "<none>".into()),
        n.kernel_version.clone(),
        n.os_image.clone(),
    ]
}

fn roles(n: &NodeRow) -> String {
    if n.roles.is_empty() {
        "<none>".into()
    } else {
        n.roles.join(",")
    }
}

/// `▰▰▱▱▱ 45%`: a 5-cell bar so a glance finds the full node.
fn usage_cell(used: u64, total: u64) -> Cell<'static> {
    let p = pct(used, total);
    let filled = (p.min(100) as usize).div_ceil(20);
    Cell::from(Line::from(vec![
        Span::styled("▰".repeat(filled), theme::usage(p)),
        Span::styled("▱".repeat(5 - filled), theme::dim()),
        Span::styled(format!("{p:>4}%"), theme::usage(p)),
    ]))
}

fn status_cell(n: &NodeRow) -> Cell<'static> {
    let (base, style) = match n.ready {
        NodeReady::True => ("Ready", theme::ok()),
        // kubectl prints NotReady for Unknown too (the kubelet stopped reporting).
        NodeReady::False | NodeReady::Unknown => ("NotReady", theme::bad()),
    };
    let mut spans = vec![Span::styled(base, style)];
    if n.unschedulable {
        // Cordoned is deliberate, not broken: yellow, never red.
        spans.push(Span::styled(",SchedulingDisabled", theme::warn()));
    }
    Cell::from(Line::from(spans))
}

/// Draws the nodes pane.
pub fn render(m: &Model, f: &mut Frame, area: Rect, focused: bool) {
    let filter = m.filters.get(&Table::Nodes).map(|f| f.text.as_str());
    // Kept with the node list: counting 5,000 nodes per frame is what a frame must not do.
    let (cordoned, not_ready) = (m.views.nodes_cordoned, m.views.nodes_not_ready);
    let mut detail = Vec::new();
    if cordoned > 0 {
        detail.push(format!("{cordoned} cordoned"));
    }
    if not_ready > 0 {
        detail.push(format!("{not_ready} not ready"));
    }
    // Pods with nowhere to go: what a drain on a full cluster produces (press p in pods).
    let pending = m.cache.index.pending.len();
    if pending > 0 {
        let s = if pending == 1 { "" } else { "s" };
        detail.push(format!("{pending} pod{s} pending"));
    }
    let title = table::title("Nodes", &detail.join(", "), m.views.nodes.len(), filter);
    let mut cols = COLS.to_vec();
    cols[0].width = m.views.node_name_w;
    let roles_shown = table::fit(&cols, area.width.saturating_sub(2))
        .iter()
        .any(|&(i, _)| i == 2);
    let empty = if m.cache.nodes.is_empty() {
        "waiting for the node list…"
    } else {
        "no node matches the filter (Esc clears it)"
    };
    table::render(
        f,
        area,
        table::block(title, focused),
        &cols,
        m.views.nodes.len(),
        m.nav(Table::Nodes),
        focused,
        empty,
        |i, keep| {
            let Some(n) = m.cache.nodes.get(&m.views.nodes[i]) else {
                return Vec::new();
            };
            let load = m
                .cache
                .index
                .load
                .get(n.name())
                .copied()
                .unwrap_or_default();
            keep.iter()
                .map(|&c| match c {
                    0 => {
                        let mut spans = vec![Span::styled(n.name().to_string(), theme::text())];
                        if n.is_control_plane() && !roles_shown {
                            spans.push(Span::styled(" (cp)", theme::dim()));
                        }
                        Cell::from(Line::from(spans))
                    }
                    1 => status_cell(n),
                    2 => table::cell(
                        roles(n),
                        if n.is_control_plane() {
                            theme::header()
                        } else {
                            theme::dim()
                        },
                    ),
                    3 => table::cell(n.kubelet_version.clone(), theme::text()),
                    4 => {
                        let p = pct(load.pods, n.pods_allocatable);
                        table::cell(
                            format!("{}/{}", load.pods, n.pods_allocatable),
                            theme::usage(p),
                        )
                    }
                    5 => usage_cell(load.cpu_m, n.cpu_allocatable_m),
                    6 => usage_cell(load.mem, n.mem_allocatable),
                    7 => table::cell(age::since(n.created(), m.now), theme::dim()),
                    8 => table::cell(
                        n.internal_ip.clone().unwrap_or_else(|| "<none>".into()),
                        theme::dim(),
                    ),
                    9 => table::cell(n.kernel_version.clone(), theme::dim()),
                    _ => table::cell(n.os_image.clone(), theme::dim()),
                })
                .collect()
        },
    );
}
