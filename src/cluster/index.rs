//! Incremental indexes over pods, so nothing scans every pod per node per frame:
//! pods by node (with request sums), pods by namespace, pending pods, PDB ↔ pods.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::cache::Pods;
use super::rows::{PdbRow, PodRow};

/// What the pods bound to one node add up to (finished pods excluded, like kubectl).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeLoad {
    /// Pods that are not Succeeded/Failed.
    pub pods: u64,
    pub cpu_m: u64,
    pub mem: u64,
}

/// A pod key (`namespace/name`), shared with the cache's row: every index entry is a pointer.
pub type Key = Arc<str>;

/// Indexes kept in step with every pod and PDB change.
#[derive(Debug, Default)]
pub struct Index {
    /// Pod keys per node name.
    pub by_node: HashMap<Arc<str>, BTreeSet<Key>>,
    /// Every pod key, sorted (the all-pods view without a sort per change).
    pub all: BTreeSet<Key>,
    /// Pod keys per namespace.
    pub by_ns: HashMap<Arc<str>, BTreeSet<Key>>,
    /// Unscheduled, unfinished pods.
    pub pending: BTreeSet<Key>,
    /// Request sums per node.
    pub load: HashMap<Arc<str>, NodeLoad>,
    /// Pod keys each PDB selects.
    pub pdb_pods: HashMap<String, BTreeSet<Key>>,
    /// PDB keys per namespace.
    pub pdbs_by_ns: HashMap<String, BTreeSet<String>>,
    /// The node a pod was last seen on; kept after the pod goes so its events stay with the node.
    pub last_node: HashMap<Key, Arc<str>>,
}

impl Index {
    /// Adds `pod` (stored under its shared key); `pdbs` resolves PDB keys of its namespace.
    pub fn add_pod(&mut self, pod: &PodRow, pdbs: &HashMap<String, PdbRow>) {
        let key = pod.shared_key();
        self.all.insert(key.clone());
        self.by_ns
            .entry(pod.shared_namespace().clone())
            .or_default()
            .insert(key.clone());
        match &pod.node_name {
            Some(node) => {
                self.by_node
                    .entry(node.clone())
                    .or_default()
                    .insert(key.clone());
                self.last_node.insert(key.clone(), node.clone());
                if !pod.phase.is_finished() {
                    let l = self.load.entry(node.clone()).or_default();
                    l.pods += 1;
                    l.cpu_m += pod.cpu_request_m;
                    l.mem += pod.mem_request;
                }
            }
            None if !pod.phase.is_finished() => {
                self.pending.insert(key.clone());
            }
            None => {}
        }
        if let Some(keys) = self.pdbs_by_ns.get(pod.namespace()) {
            for pk in keys {
                if pdbs.get(pk).is_some_and(|p| p.selects(pod)) {
                    self.pdb_pods
                        .entry(pk.clone())
                        .or_default()
                        .insert(key.clone());
                }
            }
        }
    }

    /// Removes what `add_pod(pod)` added (except `last_node`).
    pub fn remove_pod(&mut self, pod: &PodRow) {
        let key: &str = pod.shared_key();
        self.all.remove(key);
        remove_from(&mut self.by_ns, pod.namespace(), key);
        match &pod.node_name {
            Some(node) => {
                remove_from(&mut self.by_node, node, key);
                if !pod.phase.is_finished()
                    && let Some(l) = self.load.get_mut(&**node)
                {
                    l.pods = l.pods.saturating_sub(1);
                    l.cpu_m = l.cpu_m.saturating_sub(pod.cpu_request_m);
                    l.mem = l.mem.saturating_sub(pod.mem_request);
                }
            }
            None => {
                self.pending.remove(key);
            }
        }
        if let Some(keys) = self.pdbs_by_ns.get(pod.namespace()) {
            for pk in keys {
                if let Some(set) = self.pdb_pods.get_mut(pk) {
                    set.remove(key);
                }
            }
        }
    }

    /// Adds PDB `key`, matching it against the pods of its namespace.
    pub fn add_pdb(&mut self, key: &str, pdb: &PdbRow, pods: &Pods) {
        let ns = pdb.meta.namespace.clone().unwrap_or_default();
        let selected: BTreeSet<Key> = self
            .by_ns
            .get(ns.as_str())
            .into_iter()
            .flatten()
            .filter(|k| pods.get(k).is_some_and(|p| pdb.selects(p)))
            .cloned()
            .collect();
        self.pdb_pods.insert(key.to_string(), selected);
        self.pdbs_by_ns
            .entry(ns)
            .or_default()
            .insert(key.to_string());
    }

    /// Removes PDB `key`.
    pub fn remove_pdb(&mut self, key: &str, pdb: &PdbRow) {
        self.pdb_pods.remove(key);
        if let Some(set) = self
            .pdbs_by_ns
            .get_mut(pdb.meta.namespace.as_deref().unwrap_or(""))
        {
            set.remove(key);
            if set.is_empty() {
                self.pdbs_by_ns
                    .remove(pdb.meta.namespace.as_deref().unwrap_or(""));
            }
        }
    }

    /// Rebuilds the pod side from scratch (after the PDB set was replaced).
    pub fn rebuild(&mut self, pods: &Pods, pdbs: &HashMap<String, PdbRow>) {
        let last_node = std::mem::take(&mut self.last_node);
        *self = Index {
            last_node,
            ..Index::default()
        };
        for (k, p) in pdbs {
            self.pdbs_by_ns
                .entry(p.meta.namespace.clone().unwrap_or_default())
                .or_default()
                .insert(k.clone());
            self.pdb_pods.insert(k.clone(), BTreeSet::new());
        }
        for p in pods.values() {
            self.add_pod(p, pdbs);
        }
    }

    /// The pods on `node` (keys, sorted).
    pub fn pods_on(&self, node: &str) -> impl Iterator<Item = &Key> {
        self.by_node.get(node).into_iter().flatten()
    }
}

fn remove_from(map: &mut HashMap<Arc<str>, BTreeSet<Key>>, bucket: &str, key: &str) {
    if let Some(set) = map.get_mut(bucket) {
        set.remove(key);
        if set.is_empty() {
            map.remove(bucket);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::Index;
    use crate::app::fixtures::{pdb, pod};
    use crate::cluster::cache::Pods;

    /// Incremental updates must end where a rebuild from scratch ends.
    #[test]
    fn incremental_matches_rebuild() {
        let mut pdbs = HashMap::new();
        pdbs.insert(
            "default/web".to_string(),
            pdb("default", "web", "web", 1, 0),
        );
        let mut pods = Pods::default();
        let mut idx = Index::default();
        idx.add_pdb("default/web", &pdbs["default/web"], &pods);
        let nodes = [Some("n0"), Some("n1"), None];
        for step in 0..200usize {
            let name = format!("web-{}-a", step % 17);
            let key = format!("default/{name}");
            if let Some(old) = pods.remove(&key) {
                idx.remove_pod(&old);
            }
            if step % 5 != 0 {
                let status = ["Running", "Completed", "Pending"][step % 3];
                let p = pod("default", &name, nodes[step % 3], status, 1);
                idx.add_pod(&p, &pdbs);
                pods.insert(p);
            }
        }
        let mut fresh = Index::default();
        fresh.rebuild(&pods, &pdbs);
        assert_eq!(idx.by_node, fresh.by_node);
        assert_eq!(idx.pending, fresh.pending);
        assert_eq!(idx.all, fresh.all);
        assert_eq!(idx.all.len(), pods.len());
        assert_eq!(idx.pdb_pods, fresh.pdb_pods);
        let nonzero = |i: &Index| {
            let mut v: Vec<_> = i
                .load
                .iter()
                .filter(|(_, l)| l.pods > 0)
                .map(|(k, l)| (k.clone(), *l))
                .collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(nonzero(&idx), nonzero(&fresh));
        assert!(!fresh.pdb_pods["default/web"].is_empty());
    }
}
