//! What one watch event changes on screen. At 150,000 pods a pod event must not rebuild the
//! node list or every view, and must not cost a frame unless something visible moved: this
//! marks only the views whose inputs changed (`Model::dirty`), keeps the pods view in step
//! in place, and asks for a frame only for a visible change: the rows of one pane
//! (`Model::damage`) when that is all it changed, else the whole screen (`Model::redraw`).

use std::sync::Arc;

use kube::ResourceExt;

use super::layout;
use super::model::{Model, Table, View};
use super::views::{self, clamp_pod_name_w, pod_name_width, set_nav};
use crate::cluster::index::NodeLoad;
use crate::cluster::rows::{NodeReady, PodRow};
use crate::cluster::watch::{Ev, Feed};

/// Applies `feed` to the cache and marks what it changed.
pub fn apply(m: &mut Model, feed: Feed) {
    // The versions view reads nodes' versions and kube-system pods' images.
    if super::versions::touches(m, &feed) {
        m.versions.dirty = true;
        m.redraw |= m.view == View::Versions;
    }
    match feed {
        Feed::Pods(ev @ (Ev::Apply(_) | Ev::Delete(_))) => {
            let key = match &ev {
                Ev::Apply(p) | Ev::Delete(p) => p.key(),
                _ => unreachable!("matched above"),
            };
            let before = PodBefore::capture(m, key);
            if m.cache.apply(Feed::Pods(ev)) {
                pod_changed(m, before);
            }
        }
        Feed::Nodes(Ev::Apply(n)) => {
            let name = n.name().to_string();
            let before = m
                .cache
                .nodes
                .get(&name)
                .map(|o| (o.unschedulable, o.ready != NodeReady::True));
            m.cache.apply(Feed::Nodes(Ev::Apply(n)));
            node_changed(m, &name, before);
        }
        Feed::Events(ev @ (Ev::Apply(_) | Ev::Delete(_))) => {
            let key = match &ev {
                Ev::Apply(e) | Ev::Delete(e) => {
                    format!("{}/{}", e.namespace().unwrap_or_default(), e.name_any())
                }
                _ => unreachable!("matched above"),
            };
            let shown_before = event_shown(m, &key);
            if m.cache.apply(Feed::Events(ev)) && (shown_before || event_shown(m, &key)) {
                m.dirty.events = true;
                m.redraw = true;
            }
            if m.flow.dialog.is_some() || super::panel::shown(m).is_some() {
                m.redraw = true;
            }
        }
        Feed::Pdbs(ev @ (Ev::Apply(_) | Ev::Delete(_))) => {
            if m.cache.apply(Feed::Pdbs(ev)) {
                m.dirty.pdbs = true;
                m.redraw = true;
            }
        }
        // A relisted set of pods (swapped in whole): every pod view, the events of pods by
        // their node, PDB pod counts; the node names only under a filter on counters.
        Feed::Pods(Ev::InitDone) => {
            if m.cache.apply(Feed::Pods(Ev::InitDone)) {
                m.dirty.pods = true;
                m.dirty.events = true;
                m.dirty.pdbs = true;
                m.dirty.nodes |= nodes_filtered(m);
                m.redraw = true;
            }
        }
        Feed::Events(Ev::InitDone) => {
            if m.cache.apply(Feed::Events(Ev::InitDone)) {
                m.dirty.events = true;
                m.redraw = true;
            }
        }
        // Node relists and deletions (the selection may move), PDB relists: everything.
        feed => {
            if m.cache.apply(feed) {
                m.stale = true;
                m.redraw = true;
            }
        }
    }
}

/// Whether the event stored under `key` belongs in the events view (by scope; a filter only
/// narrows, so this may ask for a rebuild that ends up showing nothing new).
fn event_shown(m: &Model, key: &str) -> bool {
    m.cache
        .events
        .get(key)
        .is_some_and(|e| views::event_in_scope(m, e))
}

/// A pod as the views knew it before an event.
struct PodBefore {
    key: String,
    node: Option<Arc<str>>,
    /// What its node's pods added up to (the node's counters on screen).
    load: Option<NodeLoad>,
    last_node: Option<Arc<str>>,
    pending: usize,
}

impl PodBefore {
    fn capture(m: &Model, key: String) -> PodBefore {
        let node = m.cache.pods.get(&key).and_then(|p| p.node_name.clone());
        PodBefore {
            load: node_load(m, node.as_deref()),
            node,
            last_node: m.cache.index.last_node.get(key.as_str()).cloned(),
            pending: m.cache.index.pending.len(),
            key,
        }
    }
}

/// The counters of node `name` (pods, requests) as the nodes pane shows them.
fn node_load(m: &Model, name: Option<&str>) -> Option<NodeLoad> {
    name.and_then(|n| m.cache.index.load.get(n).copied())
}

/// Whether row `i` of table `t` is inside its pane.
fn row_visible(m: &Model, t: Table, i: usize) -> bool {
    let offset = m.nav(t).offset;
    i >= offset && i < offset + layout::table_rows(m, t)
}

/// Whether node `name` is a row inside the nodes pane (its counters are on screen).
fn node_visible(m: &Model, name: &str) -> bool {
    m.views
        .nodes
        .binary_search_by(|n| n.as_str().cmp(name))
        .is_ok_and(|i| row_visible(m, Table::Nodes, i))
}

fn nodes_filtered(m: &Model) -> bool {
    m.filters
        .get(&Table::Nodes)
        .is_some_and(|f| !f.text.is_empty())
}

/// Whether the pod's move or change altered the counters of a node on screen (its old or
/// new node's pods and requests).
fn counters_changed(m: &Model, b: &PodBefore, new_node: Option<&str>) -> bool {
    let old_changed = b
        .node
        .as_deref()
        .is_some_and(|n| node_load(m, Some(n)) != b.load && node_visible(m, n));
    let new_changed = new_node.is_some_and(|n| {
        (b.node.as_deref() != Some(n) || node_load(m, Some(n)) != b.load) && node_visible(m, n)
    });
    old_changed || new_changed
}

fn pod_changed(m: &mut Model, b: PodBefore) {
    let new_node = m.cache.pods.get(&b.key).and_then(|p| p.node_name.clone());
    // Dialogs (drain progress, plans) and the PDB view show facts derived from pods.
    if (m.flow.dialog.is_some() || super::panel::shown(m).is_some()) || m.view == View::Pdbs {
        m.redraw = true;
    }
    if m.view == View::Pdbs {
        m.dirty.pdbs = true;
    }
    // Nodes pane: the old and new node's counters, the pending count in its title. The
    // names and their order do not depend on pods, unless a filter matches on counters.
    if m.cache.index.pending.len() != b.pending {
        m.redraw = true;
    }
    if nodes_filtered(m) {
        m.dirty.nodes = true;
        m.redraw = true;
    } else if m.stale || m.dirty.nodes {
        m.redraw = true;
    } else if counters_changed(m, &b, new_node.as_deref()) {
        m.damage.nodes = true;
    }
    pod_row_changed(m, &b.key);
    // Events pane: the node's events include its pods' (by the node they were last on).
    let last_node = m.cache.index.last_node.get(b.key.as_str()).map(|n| &**n);
    let selected = m.selected_node.as_deref();
    if !m.events_all
        && last_node != b.last_node.as_deref()
        && selected.is_some()
        && (last_node == selected || b.last_node.as_deref() == selected)
    {
        m.dirty.events = true;
        m.redraw = true;
    }
}

/// Keeps the pods view in step with pod `key` in place: a row that stays is redrawn only if
/// on screen; a row that comes or goes is inserted or removed (the view is sorted by key).
fn pod_row_changed(m: &mut Model, key: &str) {
    if m.stale || m.dirty.pods {
        m.redraw = true;
        return;
    }
    let pos = m.views.pods.binary_search_by(|k| (**k).cmp(key));
    let pod = m.cache.pods.get(key);
    let listed = pod.is_some_and(|p| pod_listed(m, key, p));
    match (pos, listed) {
        (Ok(i), true) => {
            if row_visible(m, Table::Pods, i) {
                m.damage.pod_row(i);
            }
        }
        (Ok(i), false) => {
            m.views.pods_text = None;
            let gone = m.views.pods.remove(i);
            if clamp_pod_name_w(pod_name_width(&gone)) >= m.views.pod_name_w {
                let widest = m.views.pods.iter().map(|k| pod_name_width(k)).max();
                m.views.pod_name_w = clamp_pod_name_w(widest.unwrap_or(0));
            }
            set_nav(m, Table::Pods, m.nav(Table::Pods));
            m.redraw = true;
        }
        (Err(i), true) => {
            m.views.pods_text = None;
            let shared = m.cache.pods[key].shared_key().clone();
            m.views.pods.insert(i, shared);
            m.views.pod_name_w = m
                .views
                .pod_name_w
                .max(clamp_pod_name_w(pod_name_width(key)));
            set_nav(m, Table::Pods, m.nav(Table::Pods));
            m.redraw = true;
        }
        (Err(_), false) => {}
    }
}

/// Whether pod `p` (stored under `key`) is a row of the pods view: scope, namespace, filter.
fn pod_listed(m: &Model, key: &str, p: &PodRow) -> bool {
    views::pod_in_scope(m, key, p)
        && m.filters
            .get(&Table::Pods)
            .filter(|f| !f.text.is_empty())
            .is_none_or(|f| super::cells::PodMatcher::new(f).matches(m, p))
}

/// A node was added or changed: an added node (or any, under a filter) changes the list;
/// an update in place only its row and the title's counts.
fn node_changed(m: &mut Model, name: &str, before: Option<(bool, bool)>) {
    let Some((was_cordoned, was_not_ready)) = before else {
        m.dirty.nodes = true;
        m.redraw = true;
        return;
    };
    if nodes_filtered(m) || m.stale || m.dirty.nodes {
        m.dirty.nodes = true;
        m.redraw = true;
        return;
    }
    let Some(n) = m.cache.nodes.get(name) else {
        return;
    };
    let (cordoned, not_ready) = (n.unschedulable, n.ready != NodeReady::True);
    let created = n.created();
    let v = &mut m.views;
    v.nodes_cordoned =
        (v.nodes_cordoned + usize::from(cordoned)).saturating_sub(usize::from(was_cordoned));
    v.nodes_not_ready =
        (v.nodes_not_ready + usize::from(not_ready)).saturating_sub(usize::from(was_not_ready));
    if created > v.youngest_node {
        v.youngest_node = created;
        views::combine_youngest(m);
    }
    if cordoned != was_cordoned
        || not_ready != was_not_ready
        || m.selected_node.as_deref() == Some(name)
        || (m.flow.dialog.is_some() || super::panel::shown(m).is_some())
        || node_visible(m, name)
    {
        m.redraw = true;
    }
}
