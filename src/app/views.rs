//! Rebuilding the row lists of each table from the cache (only the views whose inputs
//! changed, see `Model::dirty`) and keeping selections and scroll offsets valid.

use jiff::Timestamp;

use super::cells::{self, PodMatcher};
use super::key_text::KeyText;
use super::layout;
use super::model::{Dirty, Filter, Model, Nav, PodScope, Table};
use crate::cluster::index::Key;
use crate::cluster::rows::{EventRow, NodeReady, PodRow};

/// Rebuilds the views of `m` marked in `m.dirty` (nodes first: a new node selection makes
/// pods and events dirty too) and clamps their selections.
pub fn rebuild(m: &mut Model) {
    if m.dirty.nodes {
        rebuild_nodes(m);
    }
    if m.dirty.pods {
        rebuild_pods(m);
    }
    if m.dirty.events {
        rebuild_events(m);
    }
    if m.dirty.pdbs {
        rebuild_pdbs(m);
    }
    m.dirty = Dirty::default();
    combine_youngest(m);
}

/// `Views::youngest` from its parts.
pub fn combine_youngest(m: &mut Model) {
    let v = &mut m.views;
    v.youngest = [v.youngest_pod, v.youngest_event, v.youngest_node]
        .into_iter()
        .flatten()
        .max();
}

/// The non-empty filter of `t`.
fn filter(m: &Model, t: Table) -> Option<Filter> {
    m.filters.get(&t).filter(|f| !f.text.is_empty()).cloned()
}

fn rebuild_nodes(m: &mut Model) {
    m.views.rebuilds.nodes += 1;
    // Nodes: the cache is a BTreeMap, so already sorted by name.
    let f = filter(m, Table::Nodes);
    m.views.nodes = m
        .cache
        .nodes
        .values()
        .filter(|n| f.as_ref().is_none_or(|f| f.matches(&cells::node(m, n))))
        .map(|n| n.name().to_string())
        .collect();
    let (mut cordoned, mut not_ready, mut young) = (0, 0, None);
    for n in m.cache.nodes.values() {
        cordoned += usize::from(n.unschedulable);
        not_ready += usize::from(n.ready != NodeReady::True);
        young = young.max(n.created());
    }
    m.views.nodes_cordoned = cordoned;
    m.views.nodes_not_ready = not_ready;
    m.views.youngest_node = young;
    // The selection follows the node by name across re-sorts and filters.
    let mut nav = m.nav(Table::Nodes);
    if let Some(name) = &m.selected_node
        && let Ok(i) = m.views.nodes.binary_search(name)
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
        m.dirty.pods = true;
        m.dirty.events = true;
    }
}

/// Width of the pods' NAME column for a pod key (`namespace/name`).
pub fn pod_name_width(key: &str) -> usize {
    key.len().saturating_sub(key.find('/').map_or(0, |i| i + 1))
}

/// Clamps a pod NAME width to the column's bounds.
pub fn clamp_pod_name_w(w: usize) -> u16 {
    w.clamp(20, 63) as u16
}

/// Whether pod `p` belongs in the pods view by scope and namespace (not the filter).
pub fn pod_in_scope(m: &Model, key: &str, p: &PodRow) -> bool {
    let scoped = match m.pod_scope {
        PodScope::Node => {
            p.node_name.is_some() && p.node_name.as_deref() == m.selected_node.as_deref()
        }
        PodScope::Pending => m.cache.index.pending.contains(key),
        PodScope::All => true,
    };
    scoped && m.namespace.as_deref().is_none_or(|ns| p.namespace() == ns)
}

fn rebuild_pods(m: &mut Model) {
    m.views.rebuilds.pods += 1;
    let f = filter(m, Table::Pods);
    let matcher = f.as_ref().map(|f| PodMatcher::for_pods(f, &m.cache.pods));
    let idx = &m.cache.index;
    let keys: Box<dyn Iterator<Item = &Key>> = match m.pod_scope {
        PodScope::Node => match &m.selected_node {
            Some(n) => Box::new(idx.pods_on(n)),
            None => Box::new(std::iter::empty()),
        },
        PodScope::Pending => Box::new(idx.pending.iter()),
        PodScope::All => match &m.namespace {
            Some(ns) => Box::new(idx.by_ns.get(ns.as_str()).into_iter().flatten()),
            None => Box::new(idx.all.iter()),
        },
    };
    // The index holds exactly the cache's keys: a row is looked up only when the filter
    // did not match its namespace or name (at 150,000 pods the lookups are most of a key).
    let mut pods: Vec<Key> = Vec::new();
    let mut text = KeyText::default();
    for k in keys {
        let listed = m
            .namespace
            .as_deref()
            .is_none_or(|ns| key_namespace(k) == ns)
            && matcher.as_ref().is_none_or(|mt| pod_key_matches(m, mt, k));
        if listed {
            text.push(k);
            pods.push(k.clone());
        }
    }
    set_pods(m, pods, text);
}

/// Whether the filter of `mt` matches pod `key`: its namespace or name, else its row.
fn pod_key_matches(m: &Model, mt: &PodMatcher, key: &str) -> bool {
    mt.matches_key(key)
        || (mt.reads_rows() && m.cache.pods.get(key).is_some_and(|p| mt.matches_rest(m, p)))
}

/// The namespace in a pod key (`namespace/name`).
fn key_namespace(key: &str) -> &str {
    key.split_once('/').map_or("", |(ns, _)| ns)
}

/// Makes `pods` (with `text`, the same keys) the pods view: its NAME width, and the
/// selection kept in range. The keys it replaces are retired, not dropped.
fn set_pods(m: &mut Model, pods: Vec<Key>, text: KeyText) {
    debug_assert_eq!(pods.len(), text.len());
    let widest = (0..text.len()).map(|i| pod_name_width(text.get(i))).max();
    m.views.pod_name_w = clamp_pod_name_w(widest.unwrap_or(0));
    let old = std::mem::replace(&mut m.views.pods, pods);
    retire(m, old);
    m.views.pods_text = Some(text);
    let nav = m.nav(Table::Pods);
    set_nav(m, Table::Pods, nav);
}

/// Keeps keys the view let go of until the frame is out (`Model::after_frame`); a caller
/// that draws without saying so (tests, benchmarks) keeps the last few sets only.
fn retire(m: &mut Model, keys: Vec<Key>) {
    if keys.is_empty() {
        return;
    }
    if m.views.retired.len() >= 8 {
        m.views.retired.clear();
    }
    m.views.retired.push(keys);
}

/// Applies a pods filter to the rows of the view instead of every pod when those rows are
/// all it can match: at 150,000 pods, each key typed reads only what the previous one
/// matched. `from_filtered`: the view holds what a filter this one narrows matched (see
/// [`Filter::narrows`]), else every pod in scope. The view must be up to date (not dirty).
/// A filter that could match an age does not narrow a filtered view: the clock alone may
/// have made a row the view left out match since.
pub fn narrow_pods(m: &mut Model, f: &Filter, from_filtered: bool) -> bool {
    if m.stale || m.dirty.nodes || m.dirty.pods {
        return false;
    }
    let mt = PodMatcher::for_pods(f, &m.cache.pods);
    if from_filtered && mt.reads_clock() {
        return false;
    }
    let pods = std::mem::take(&mut m.views.pods);
    // The keys' copy if it is in step (it is not after a pod came or went in place).
    let text = m.views.pods_text.take().filter(|t| t.len() == pods.len());
    let mut kept = Vec::new();
    let mut kept_text = KeyText::default();
    let mut gone = Vec::new();
    for (i, k) in pods.into_iter().enumerate() {
        let key = text.as_ref().map_or(&*k, |t| t.get(i));
        let keep = pod_key_matches(m, &mt, key);
        if keep {
            kept_text.push(key);
            kept.push(k);
        } else {
            gone.push(k);
        }
    }
    retire(m, gone);
    m.views.rebuilds.pods_narrowed += 1;
    set_pods(m, kept, kept_text);
    true
}

/// The youngest creation or restart among the pods on screen: while it is young, their
/// ages tick every second (the rows off screen show no age).
pub fn visible_youngest_pod(m: &Model) -> Option<Timestamp> {
    let nav = m.nav(Table::Pods);
    let rows = layout::table_rows(m, Table::Pods).max(1);
    m.views
        .pods
        .iter()
        .skip(nav.offset)
        .take(rows)
        .filter_map(|k| m.cache.pods.get(k))
        .flat_map(|p| [p.created(), p.last_restart])
        .flatten()
        .max()
}

/// Whether event `e` belongs in the events view by namespace and node (not the filter).
pub fn event_in_scope(m: &Model, e: &EventRow) -> bool {
    let ns_ok = m.namespace.as_deref().is_none_or(|ns| {
        e.object_namespace
            .as_deref()
            .is_none_or(|o| o.is_empty() || o == ns)
    });
    ns_ok
        && (m.events_all
            || m.selected_node
                .as_deref()
                .is_some_and(|n| event_is_about(m, e, n)))
}

fn rebuild_events(m: &mut Model) {
    m.views.rebuilds.events += 1;
    // Events: newest first; by default only the selected node's and its pods' (including
    // pods that already left, so a drain's Killing events stay visible).
    let f = filter(m, Table::Events);
    let mut events: Vec<(&String, &EventRow)> = m
        .cache
        .events
        .iter()
        .filter(|(_, e)| event_in_scope(m, e))
        .filter(|(_, e)| f.as_ref().is_none_or(|f| f.matches(&cells::event(m, e))))
        .collect();
    events.sort_by(|a, b| b.1.last_seen.cmp(&a.1.last_seen).then_with(|| a.0.cmp(b.0)));
    m.views.event_object_w = events
        .iter()
        .map(|(_, e)| e.object_kind.len() + 1 + e.object_name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(20, 60) as u16;
    m.views.youngest_event = events.first().and_then(|(_, e)| e.last_seen);
    m.views.events = events.into_iter().map(|(k, _)| k.to_string()).collect();
    let nav = m.nav(Table::Events);
    set_nav(m, Table::Events, nav);
}

fn rebuild_pdbs(m: &mut Model) {
    m.views.rebuilds.pdbs += 1;
    let f = filter(m, Table::Pdbs);
    let mut pdbs: Vec<String> = m
        .cache
        .pdbs
        .iter()
        .filter(|(_, p)| f.as_ref().is_none_or(|f| f.matches(&cells::pdb(m, p))))
        .map(|(k, _)| k.to_string())
        .collect();
    pdbs.sort_unstable();
    m.views.pdbs = pdbs;
    let nav = m.nav(Table::Pdbs);
    set_nav(m, Table::Pdbs, nav);
}

fn event_is_about(m: &Model, e: &EventRow, node: &str) -> bool {
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
