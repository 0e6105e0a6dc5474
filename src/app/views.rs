//! Rebuilding the row lists of each table from the cache (on data or filter change only)
//! and keeping selections and scroll offsets valid.

use super::model::{Model, Nav, PodScope, Table};
use crate::ui::{layout, panes};

/// Rebuilds every view of `m` and clamps selections.
pub fn rebuild(m: &mut Model) {
    let filter = |m: &Model, t: Table| m.filters.get(&t).filter(|f| !f.text.is_empty()).cloned();

    // Nodes: the cache is a BTreeMap, so already sorted by name.
    let f = filter(m, Table::Nodes);
    m.views.nodes = m
        .cache
        .nodes
        .values()
        .filter(|n| {
            f.as_ref()
                .is_none_or(|f| f.matches(&panes::nodes::cells(m, n)))
        })
        .map(|n| n.name().to_string())
        .collect();
    // The selection follows the node by name across re-sorts and filters.
    let mut nav = m.nav(Table::Nodes);
    if let Some(name) = &m.selected_node
        && let Some(i) = m.views.nodes.iter().position(|n| n == name)
    {
        nav.selected = i;
    }
    set_nav(m, Table::Nodes, nav);
    m.views.node_name_w = m
        .views
        .nodes
        .iter()
        .map(|n| n.chars().count() + 5)
        .max()
        .unwrap_or(0)
        .clamp(8, 40) as u16;
    let new_sel = m.views.nodes.get(m.nav(Table::Nodes).selected).cloned();
    if new_sel != m.selected_node {
        m.selected_node = new_sel;
        m.nav.insert(Table::Pods, Nav::default());
        m.nav.insert(Table::Events, Nav::default());
    }

    // Pods.
    let f = filter(m, Table::Pods);
    let idx = &m.cache.index;
    let keys: Vec<&str> = match m.pod_scope {
        PodScope::Node => match &m.selected_node {
            Some(n) => idx.pods_on(n).map(|k| &**k).collect(),
            None => Vec::new(),
        },
        PodScope::Pending => idx.pending.iter().map(|k| &**k).collect(),
        PodScope::All => match &m.namespace {
            Some(ns) => idx
                .by_ns
                .get(ns.as_str())
                .into_iter()
                .flatten()
                .map(|k| &**k)
                .collect(),
            None => idx.all.iter().map(|k| &**k).collect(),
        },
    };
    let pods: Vec<String> = keys
        .into_iter()
        .filter_map(|k| m.cache.pods.get(k).map(|p| (k, p)))
        .filter(|(_, p)| m.namespace.as_deref().is_none_or(|ns| p.namespace() == ns))
        .filter(|(_, p)| {
            f.as_ref()
                .is_none_or(|f| f.matches(&panes::pods::cells(m, p)))
        })
        .map(|(k, _)| k.to_string())
        .collect();
    m.views.pod_name_w = pods
        .iter()
        .map(|k| k.len().saturating_sub(k.find('/').map_or(0, |i| i + 1)))
        .max()
        .unwrap_or(0)
        .clamp(20, 63) as u16;
    let young_pod = pods
        .iter()
        .filter_map(|k| m.cache.pods.get(k))
        .flat_map(|p| [p.created(), p.last_restart])
        .flatten()
        .max();
    m.views.pods = pods;
    let nav = m.nav(Table::Pods);
    set_nav(m, Table::Pods, nav);

    // Events: newest first; by default only the selected node's and its pods' (including
    // pods that already left, so a drain's Killing events stay visible).
    let f = filter(m, Table::Events);
    let node = m.selected_node.clone();
    let mut events: Vec<(&String, &crate::cluster::rows::EventRow)> = m
        .cache
        .events
        .iter()
        .filter(|(_, e)| {
            m.namespace.as_deref().is_none_or(|ns| {
                e.object_namespace
                    .as_deref()
                    .is_none_or(|o| o.is_empty() || o == ns)
            })
        })
        .filter(|(_, e)| m.events_all || node.as_deref().is_some_and(|n| event_is_about(m, e, n)))
        .filter(|(_, e)| {
            f.as_ref()
                .is_none_or(|f| f.matches(&panes::events::cells(m, e)))
        })
        .collect();
    events.sort_by(|a, b| b.1.last_seen.cmp(&a.1.last_seen).then_with(|| a.0.cmp(b.0)));
    m.views.event_object_w = events
        .iter()
        .map(|(_, e)| e.object_kind.len() + 1 + e.object_name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(20, 60) as u16;
    let young_event = events.first().and_then(|(_, e)| e.last_seen);
    let young_node = m.cache.nodes.values().filter_map(|n| n.created()).max();
    m.views.youngest = [young_pod, young_event, young_node]
        .into_iter()
        .flatten()
        .max();
    m.views.events = events.into_iter().map(|(k, _)| k.to_string()).collect();
    let nav = m.nav(Table::Events);
    set_nav(m, Table::Events, nav);

    // PDBs.
    let f = filter(m, Table::Pdbs);
    let mut pdbs: Vec<String> = m
        .cache
        .pdbs
        .iter()
        .filter(|(_, p)| {
            f.as_ref()
                .is_none_or(|f| f.matches(&panes::pdbs::cells(m, p)))
        })
        .map(|(k, _)| k.to_string())
        .collect();
    pdbs.sort_unstable();
    m.views.pdbs = pdbs;
    let nav = m.nav(Table::Pdbs);
    set_nav(m, Table::Pdbs, nav);
}

fn event_is_about(m: &Model, e: &crate::cluster::rows::EventRow, node: &str) -> bool {
    match e.object_kind.as_str() {
        "Node" => e.object_name == node,
        "Pod" => {
            let key = format!(
                "{}/{}",
                e.object_namespace.as_deref().unwrap_or(""),
                e.object_name
            );
            m.cache
                .index
                .last_node
                .get(key.as_str())
                .is_some_and(|n| **n == *node)
        }
        _ => false,
    }
}

/// Stores `nav` for `t`, clamped to the rows and scrolled so the selection is visible.
pub fn set_nav(m: &mut Model, t: Table, mut nav: Nav) {
    let len = m.views.len(t);
    let height = layout::table_rows(m, t).max(1);
    nav.selected = nav.selected.min(len.saturating_sub(1));
    if nav.selected < nav.offset {
        nav.offset = nav.selected;
    } else if nav.selected >= nav.offset + height {
        nav.offset = nav.selected + 1 - height;
    }
    // Don't leave empty space at the bottom when rows are removed.
    nav.offset = nav.offset.min(len.saturating_sub(height));
    m.nav.insert(t, nav);
}
