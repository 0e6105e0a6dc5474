//! Incremental indexes over pods, so nothing scans every pod per node per frame:
//! pods by node (with request sums), pods by namespace, pending pods, PDB ↔ pods.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use foldhash::HashMap as FastMap;

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
    pub by_node: FastMap<Arc<str>, BTreeSet<Key>>,
    /// Every pod key, sorted (the all-pods view without a sort per change).
    pub all: BTreeSet<Key>,
    /// Pod keys per namespace.
    pub by_ns: FastMap<Arc<str>, BTreeSet<Key>>,
    /// Unscheduled, unfinished pods.
    pub pending: BTreeSet<Key>,
    /// Request sums per node.
    pub load: FastMap<Arc<str>, NodeLoad>,
    /// Pod keys each PDB selects.
    pub pdb_pods: HashMap<String, BTreeSet<Key>>,
    /// PDB keys per namespace, bucketed by one `key=value` pair their selector requires
    /// (its first matchLabels entry; `""` when it requires none): a pod is checked against
    /// the PDBs of its own labels' buckets, not every PDB of its namespace (10,000 PDBs).
    pub pdbs_by_ns: HashMap<String, HashMap<String, BTreeSet<String>>>,
    /// The node a pod was last seen on; kept after the pod goes so its events stay with the node.
    pub last_node: FastMap<Key, Arc<str>>,
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
        let selecting: Vec<String> = self
            .pdb_candidates(pod)
            .filter(|pk| pdbs.get(*pk).is_some_and(|p| p.selects(pod)))
            .cloned()
            .collect();
        for pk in selecting {
            self.pdb_pods.entry(pk).or_default().insert(key.clone());
        }
    }

    /// The PDBs that may select `pod`: those of its namespace whose required label pair it
    /// has, and those that require none.
    fn pdb_candidates<'a>(&'a self, pod: &PodRow) -> impl Iterator<Item = &'a String> {
        let buckets = self.pdbs_by_ns.get(pod.namespace());
        let pairs: Vec<String> = match buckets {
            Some(_) => std::iter::once(String::new())
                .chain(pod.labels().iter().map(|(k, v)| format!("{k}={v}")))
                .collect(),
            None => Vec::new(),
        };
        pairs
            .into_iter()
            .filter_map(move |pair| buckets?.get(&pair))
            .flatten()
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
        // The PDBs that selected it are among its candidates: its labels have not changed.
        let candidates: Vec<String> = self.pdb_candidates(pod).cloned().collect();
        for pk in candidates {
            if let Some(set) = self.pdb_pods.get_mut(&pk) {
                set.remove(key);
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
            .entry(pdb_bucket(pdb))
            .or_default()
            .insert(key.to_string());
    }

    /// Removes PDB `key`.
    pub fn remove_pdb(&mut self, key: &str, pdb: &PdbRow) {
        self.pdb_pods.remove(key);
        let ns = pdb.meta.namespace.as_deref().unwrap_or("");
        if let Some(buckets) = self.pdbs_by_ns.get_mut(ns) {
            let bucket = pdb_bucket(pdb);
            if let Some(set) = buckets.get_mut(&bucket) {
                set.remove(key);
                if set.is_empty() {
                    buckets.remove(&bucket);
                }
            }
            if buckets.is_empty() {
                self.pdbs_by_ns.remove(ns);
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
                .entry(pdb_bucket(p))
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

/// The bucket of `pdb` in [`Index::pdbs_by_ns`]: `key=value` of the first label its
/// selector requires, or `""`.
fn pdb_bucket(pdb: &PdbRow) -> String {
    pdb.selector
        .as_ref()
        .and_then(|s| s.match_labels.as_ref())
        .and_then(|m| m.iter().next())
        .map_or_else(String::new, |(k, v)| format!("{k}={v}"))
}

fn remove_from(map: &mut FastMap<Arc<str>, BTreeSet<Key>>, bucket: &str, key: &str) {
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

    /// PDBs that require a label pair and PDBs with expressions only (the `""` bucket) all
    /// find their pods through the buckets, and lose them.
    #[test]
    fn pods_are_matched_through_their_label_buckets() {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
            LabelSelector, LabelSelectorRequirement,
        };
        let mut every = pdb("default", "every", "x", 1, 0);
        every.selector = Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "app".into(),
                operator: "Exists".into(),
                values: None,
            }]),
            match_labels: None,
        });
        let mut expr = pdb("default", "expr", "x", 1, 0);
        expr.selector = Some(LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "app".into(),
                operator: "In".into(),
                values: Some(vec!["web".into()]),
            }]),
            match_labels: None,
        });
        let pdbs: HashMap<String, _> = [
            ("default/web", pdb("default", "web", "web", 1, 0)),
            ("default/db", pdb("default", "db", "db", 1, 0)),
            ("other/web", pdb("other", "web", "web", 1, 0)),
            ("default/every", every),
            ("default/expr", expr),
        ]
        .into_iter()
        .map(|(k, p)| (k.to_string(), p))
        .collect();
        let mut pods = Pods::default();
        let mut idx = Index::default();
        for (k, p) in &pdbs {
            idx.add_pdb(k, p, &pods);
        }
        let web = pod("default", "web-1-a", Some("n0"), "Running", 1);
        let db = pod("default", "db-1-a", Some("n0"), "Running", 1);
        for p in [&web, &db] {
            idx.add_pod(p, &pdbs);
            pods.insert(p.clone());
        }
        let selected = |i: &Index, k: &str| {
            i.pdb_pods[k]
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(selected(&idx, "default/web"), ["default/web-1-a"]);
        assert_eq!(selected(&idx, "default/db"), ["default/db-1-a"]);
        assert_eq!(
            selected(&idx, "default/every"),
            ["default/db-1-a", "default/web-1-a"]
        );
        assert_eq!(selected(&idx, "default/expr"), ["default/web-1-a"]);
        assert!(selected(&idx, "other/web").is_empty());
        idx.remove_pod(&web);
        assert!(selected(&idx, "default/web").is_empty());
        assert!(selected(&idx, "default/expr").is_empty());
        assert_eq!(selected(&idx, "default/every"), ["default/db-1-a"]);
        idx.remove_pdb("default/every", &pdbs["default/every"]);
        assert!(
            idx.pdbs_by_ns["default"].contains_key(""),
            "expr stays in the \"\" bucket"
        );
    }

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
