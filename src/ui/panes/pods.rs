//! The pods pane: `kubectl get pods -o wide` columns for the selected node, all pods, or
//! Pending pods cluster-wide.

use crate::ui::canvas::Canvas;
use ratatui::layout::Rect;

use crate::app::cells::restarts;
use crate::app::model::{Model, PodScope, Table};
use crate::cluster::age;
use crate::cluster::rows::PodRow;
use crate::ui::table::{self, Cell, Col, fixed, flex};
use crate::ui::theme;

/// Every column of the pane, in order.
pub const COLS: &[Col] = &[
    fixed("NAMESPACE", 14, 2),
    fixed("NAME", 24, 0),
    fixed("READY", 5, 1),
    fixed("STATUS", 17, 0),
    fixed("RESTARTS", 12, 3),
    fixed("AGE", 5, 1),
    fixed("IP", 15, 4),
    fixed("NODE", 12, 5),
    flex("WHY PENDING", 16, 0),
];

/// Draws the pods pane.
pub fn render(m: &Model, f: &mut Canvas, area: Rect, focused: bool) {
    render_rows(m, f, area, focused, None);
}

/// Draws the pods pane, or with `only` just those rows of the view (and the border).
pub fn render_rows(m: &Model, f: &mut Canvas, area: Rect, focused: bool, only: Option<&[usize]>) {
    let filter = m.filters.get(&Table::Pods).map(|f| f.text.as_str());
    let (name, detail, empty) = scope_title(m);
    let title = table::title(name, &detail, m.views.pods.len(), filter);
    let empty = if filter.is_some() {
        "no pod matches the filter (Esc clears it)".into()
    } else {
        empty
    };
    let cols = scoped_columns(m);
    table::render(
        f,
        area,
        title,
        &cols,
        m.views.pods.len(),
        m.nav(Table::Pods),
        focused,
        &empty,
        only,
        |i, keep| {
            let Some(p) = m.cache.pods.get(&m.views.pods[i]) else {
                return Vec::new();
            };
            let arrived = m.arrivals.contains_key(&*m.views.pods[i]);
            keep.iter().map(|&c| pod_cell(m, p, arrived, c)).collect()
        },
    );
}

/// The pane's name, what the title adds, and what an empty pane says, for the pod scope.
fn scope_title(m: &Model) -> (&'static str, String, String) {
    let ns = m
        .namespace
        .as_deref()
        .map(|n| format!(" in {n}"))
        .unwrap_or_default();
    match m.pod_scope {
        PodScope::Node => {
            let node = m.selected_node.clone().unwrap_or_else(|| "no node".into());
            let empty = format!("no pods on {node}{ns}");
            let cordoned = m.cache.nodes.get(&node).is_some_and(|n| n.unschedulable);
            let state = if cordoned { " (cordoned)" } else { "" };
            ("Pods", format!("{node}{state}{ns}"), empty)
        }
        PodScope::All => (
            "Pods",
            m.namespace
                .clone()
                .map(|n| format!("namespace {n}"))
                .unwrap_or_else(|| "all namespaces".into()),
            "no pods".into(),
        ),
        PodScope::Pending => (
            "Pending pods",
            format!("cluster-wide{ns}"),
            "no Pending pods: everything is scheduled".into(),
        ),
    }
}

/// The columns for the pod scope: what the scope makes redundant is hidden, and what
/// matters most across nodes gives way last.
fn scoped_columns(m: &Model) -> Vec<Col> {
    let mut cols = COLS.to_vec();
    cols[1].width = m.views.pod_name_w;
    cols[1].min = m.views.pod_name_w.min(24);
    crate::ui::columns::apply("pods", &mut cols);
    match m.pod_scope {
        // The node is in the title: no NODE column repeating it on every row.
        PodScope::Node => {
            cols[7].width = 0;
            cols[8].width = 0;
        }
        // Across nodes, where a pod runs matters more than its IP; which pod it is (namespace
        // and name) more than where: NODE goes before NAMESPACE when room is short.
        PodScope::All => {
            cols[0].prio = 1;
            cols[7].prio = 1;
            // READY and AGE give way first (STATUS says most of READY).
            cols[2].prio = 2;
            cols[5].prio = 2;
            cols[8].width = 0;
        }
        // Unscheduled pods have no IP or node, but the scheduler says why.
        PodScope::Pending => {
            cols[6].width = 0;
            cols[7].width = 0;
        }
    }
    cols
}

/// Column `c` of pod `p`'s row (`arrived`: a drain's replacement that just landed).
fn pod_cell(m: &Model, p: &PodRow, arrived: bool, c: usize) -> Cell<'static> {
    let status = p.status_text();
    let all_ready = p.ready_containers == p.total_containers;
    match c {
        0 => table::cell(p.namespace().to_string(), theme::dim()),
        1 => table::cell(
            p.name().to_string(),
            if arrived {
                theme::arrived()
            } else {
                theme::text()
            },
        ),
        2 => table::cell(
            format!("{}/{}", p.ready_containers, p.total_containers),
            if all_ready || p.phase.is_finished() {
                theme::text()
            } else {
                theme::warn()
            },
        ),
        3 => table::cell(status.to_string(), theme::pod_status(status)),
        4 => table::cell(
            restarts(m, p),
            if p.restarts > 0 {
                theme::warn()
            } else {
                theme::text()
            },
        ),
        5 => table::cell(age::since(p.created(), m.cluster_now()), theme::dim()),
        6 => table::cell(
            p.pod_ip.as_deref().unwrap_or("<none>").to_string(),
            theme::dim(),
        ),
        7 => table::cell(
            p.node_name.as_deref().unwrap_or("<none>").to_string(),
            theme::dim(),
        ),
        _ => table::cell(
            p.unschedulable_message
                .as_deref()
                .unwrap_or_default()
                .to_string(),
            theme::warn(),
        ),
    }
}
