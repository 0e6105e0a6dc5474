//! The `:versions` view's report, built from the watch caches (nodes, and the few kube-system
//! pods through the namespace index) when its inputs change, not per frame: at 5,000 nodes a
//! matrix costs milliseconds.

use super::model::Model;
use crate::campaign::render::{Line, view_lines};
use crate::campaign::versions::Inventory;
use crate::cluster::rows::{NodeRow, PodRow};
use crate::cluster::watch::{Ev, Feed};

/// What the report reads of a node.
fn node_facts(n: &NodeRow) -> (&str, &str, &str, &str, &[String]) {
    (
        &n.kubelet_version,
        &n.os_image,
        &n.kernel_version,
        &n.container_runtime,
        &n.roles,
    )
}

/// What the report reads of a kube-system pod.
fn pod_facts(p: &PodRow) -> (Option<&str>, Option<&str>, bool) {
    (
        p.image.as_deref(),
        p.node_name.as_deref(),
        p.is_terminating(),
    )
}

/// Whether `feed` (not yet applied) changes what the report reads: a node's heartbeat or a
/// pod's readiness does not, so 5,000 nodes reporting in do not rebuild it.
pub fn touches(m: &Model, feed: &Feed) -> bool {
    match feed {
        Feed::Nodes(Ev::Apply(n)) => m
            .cache
            .nodes
            .get(n.name())
            .is_none_or(|old| node_facts(old) != node_facts(n)),
        Feed::Pods(Ev::Apply(p)) => {
            p.namespace() == "kube-system"
                && m.cache
                    .pods
                    .get(&p.key())
                    .is_none_or(|old| pod_facts(old) != pod_facts(p))
        }
        Feed::Pods(Ev::Delete(p)) => p.namespace() == "kube-system",
        // Relists and node deletions.
        Feed::Nodes(_) | Feed::Pods(_) => true,
        _ => false,
    }
}

/// What the caches hold of the cluster's versions.
pub fn inventory(m: &Model) -> Inventory {
    let pods = m
        .cache
        .index
        .by_ns
        .get("kube-system")
        .into_iter()
        .flatten()
        .filter_map(|k| m.cache.pods.get(k));
    let server = Some(m.conn.version.as_str()).filter(|v| !v.is_empty());
    Inventory::from_rows(server, m.cache.nodes.values(), pods)
}

/// The report's lines and the title's counts.
pub fn report(m: &Model) -> (Vec<Line>, String) {
    let hidden = (!m.pods_known_in("kube-system")).then(|| m.pods_hidden().unwrap_or_default());
    view_lines(&inventory(m), m.versions.target.as_ref(), hidden)
}

/// Rebuilds the cached report when the view is shown and its inputs changed.
pub fn refresh(m: &mut Model) {
    if m.view == super::model::View::Versions && m.versions.dirty {
        let (lines, detail) = report(m);
        m.versions.lines = lines;
        m.versions.detail = detail;
        m.versions.dirty = false;
    }
}
