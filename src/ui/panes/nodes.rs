//! The nodes pane.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::cells::{UNKNOWN, pct, roles};
use crate::app::model::{Model, PodCoverage, Table};
use crate::cluster::age;
use crate::cluster::index::NodeLoad;
use crate::cluster::rows::{NodeReady, NodeRow};
use crate::ui::table::{self, Cell, Col, fixed};
use crate::ui::theme;

/// Every column of the pane, in order.
pub const COLS: &[Col] = &[
    fixed("NAME", 12, 0),
    fixed("STATUS", 27, 0),
    fixed("ROLES", 13, 2),
    fixed("VERSION", 9, 1),
    fixed("PODS", 7, 1),
    fixed("CPU REQ", 10, 1),
    fixed("MEM REQ", 10, 3),
    fixed("AGE", 5, 1),
    fixed("INTERNAL-IP", 15, 4),
    fixed("KERNEL", 18, 5),
    fixed("OS-IMAGE", 22, 6),
];

/// `▰▰▱▱▱ 45%`: a 5-cell bar so a glance finds the full node; `?` when the pods are not
/// all known.
fn usage_cell(used: u64, total: u64, known: bool) -> Cell<'static> {
    if !known {
        return Cell::from(Line::from(vec![
            Span::styled("▱".repeat(5), theme::dim()),
            Span::styled(format!("{UNKNOWN:>5}"), theme::warn()),
        ]));
    }
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
pub fn render(m: &Model, f: &mut Canvas, area: Rect, focused: bool) {
    let filter = m.filters.get(&Table::Nodes).map(|f| f.text.as_str());
    let marked = &m.campaign.marked;
    let detail = title_detail(m);
    let title = table::title("Nodes", &detail.join(", "), m.views.nodes.len(), filter);
    let mut cols = COLS.to_vec();
    // Room for the campaign mark in front of the name.
    cols[0].width = m.views.node_name_w + if marked.is_empty() { 0 } else { 2 };
    crate::ui::columns::apply("nodes", &mut cols);
    let known = m.pods_hidden().is_none();
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
        title,
        &cols,
        m.views.nodes.len(),
        m.nav(Table::Nodes),
        focused,
        empty,
        None,
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
                .map(|&c| node_cell(m, n, &load, c, known, roles_shown))
                .collect()
        },
    );
}

/// What the title says besides the count: cordoned and not-ready nodes, pending pods, pods
/// the RBAC hides, nodes marked for a campaign.
fn title_detail(m: &Model) -> Vec<String> {
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
    let coverage = &m.pod_coverage;
    if pending > 0 {
        let s = if pending == 1 { "" } else { "s" };
        let scope = match coverage {
            PodCoverage::Namespace { namespace, .. } => format!(" in {namespace}"),
            _ => String::new(),
        };
        detail.push(format!("{pending} pod{s} pending{scope}"));
    }
    // Never a namespace's pods passed off as the node's: say the counts are unknown.
    match coverage {
        PodCoverage::All => {}
        PodCoverage::Namespace { namespace, .. } => {
            detail.push(format!(
                "PODS/CPU/MEM ?: only {namespace}'s pods are visible"
            ));
        }
        PodCoverage::Forbidden { .. } => detail.push("PODS/CPU/MEM ?: pods not visible".into()),
    }
    let marked = &m.campaign.marked;
    if !marked.is_empty() {
        detail.push(format!("{} marked for a campaign", marked.len()));
    }
    detail
}

/// Column `c` of node `n`'s row (`known`: pod counts are complete; `roles_shown`: the ROLES
/// column fits, so the name needs no `(cp)`).
fn node_cell(
    m: &Model,
    n: &NodeRow,
    load: &NodeLoad,
    c: usize,
    known: bool,
    roles_shown: bool,
) -> Cell<'static> {
    let marked = &m.campaign.marked;
    match c {
        0 => {
            let mut spans = Vec::new();
            if marked.contains(n.name()) {
                spans.push(Span::styled("✚ ", theme::key()));
            } else if !marked.is_empty() {
                spans.push(Span::raw("  "));
            }
            spans.push(Span::styled(n.name().to_string(), theme::text()));
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
        4 if !known => table::cell(format!("{UNKNOWN}/{}", n.pods_allocatable), theme::warn()),
        4 => {
            let p = pct(load.pods, n.pods_allocatable);
            table::cell(
                format!("{}/{}", load.pods, n.pods_allocatable),
                theme::usage(p),
            )
        }
        5 => usage_cell(load.cpu_m, n.cpu_allocatable_m, known),
        6 => usage_cell(load.mem, n.mem_allocatable, known),
        7 => table::cell(age::since(n.created(), m.cluster_now()), theme::dim()),
        8 => table::cell(
            n.internal_ip.clone().unwrap_or_else(|| "<none>".into()),
            theme::dim(),
        ),
        9 => table::cell(n.kernel_version.clone(), theme::dim()),
        _ => table::cell(n.os_image.clone(), theme::dim()),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::app::cells;
    use crate::app::fixtures::seed_model;
    use crate::app::model::PodCoverage;

    fn screen(m: &crate::app::model::Model) -> String {
        let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
        t.draw(|f| crate::ui::render(m, f)).unwrap();
        let buf = t.backend().buffer();
        (0..m.size.1)
            .map(|y| {
                (0..m.size.0)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect()
    }

    #[test]
    fn a_partial_pod_cache_shows_unknown_node_counts_not_smaller_ones() {
        let mut m = seed_model((160, 30));
        let node0 = m.cache.nodes["node0"].clone();
        let known = cells::node(&m, &node0);
        assert_eq!(known[4], "7/110", "{known:?}");
        m.pod_coverage = PodCoverage::namespace("default", "access denied (403): forbidden");
        let partial = cells::node(&m, &node0);
        assert_eq!(partial[4..7], ["?/110", "?", "?"], "{partial:?}");
        let s = screen(&m);
        assert!(
            s.contains("PODS/CPU/MEM ?: only default's pods are visible"),
            "{s}"
        );
        let row = s.lines().find(|l| l.contains("node0")).unwrap();
        assert!(row.contains("?/110") && !row.contains("7/110"), "{row}");
        assert!(!row.contains('%'), "no percentage of a partial sum: {row}");
    }
}
