//! The cluster as the UI knows it: rows per kind, kept current by watcher events, with
//! relists staged apart and swapped in whole so stale objects never show as live.

use std::collections::{BTreeMap, HashMap};

use kube::ResourceExt;

use super::index::Index;
use super::rows::{EventRow, NodeRow, PdbRow, PodRow};
use super::watch::{Ev, Feed};

/// Every watched object, plus indexes.
#[derive(Debug, Default)]
pub struct Cache {
    /// Nodes by name (sorted: the node pane's order).
    pub nodes: BTreeMap<String, NodeRow>,
    /// Pods by `namespace/name`.
    pub pods: HashMap<String, PodRow>,
    /// Events by `namespace/name`.
    pub events: HashMap<String, EventRow>,
    /// PDBs by `namespace/name`.
    pub pdbs: HashMap<String, PdbRow>,
    /// Pod and PDB indexes.
    pub index: Index,
    staging_nodes: Option<BTreeMap<String, NodeRow>>,
    staging_pods: Option<HashMap<String, PodRow>>,
    staging_events: Option<HashMap<String, EventRow>>,
    staging_pdbs: Option<HashMap<String, PdbRow>>,
}

fn ns_key<K: kube::Resource>(k: &K) -> String {
    format!("{}/{}", k.namespace().unwrap_or_default(), k.name_any())
}

impl Cache {
    /// Applies one watcher event. Returns true when the visible data changed.
    pub fn apply(&mut self, feed: Feed) -> bool {
        match feed {
            Feed::Nodes(ev) => match ev {
                Ev::Init => stage(&mut self.staging_nodes),
                Ev::InitApply(n) => put(&mut self.staging_nodes, n.name_any(), n),
                Ev::InitDone => swap(&mut self.staging_nodes, &mut self.nodes),
                Ev::Apply(n) => {
                    self.nodes.insert(n.name_any(), n);
                    true
                }
                Ev::Delete(n) => self.nodes.remove(&n.name_any()).is_some(),
            },
            Feed::Pods(ev) => match ev {
                Ev::Init => stage(&mut self.staging_pods),
                Ev::InitApply(p) => put(&mut self.staging_pods, ns_key(&p), p),
                Ev::InitDone => {
                    let changed = swap(&mut self.staging_pods, &mut self.pods);
                    if changed {
                        self.index.rebuild(&self.pods, &self.pdbs);
                    }
                    changed
                }
                Ev::Apply(p) => {
                    let key = ns_key(&p);
                    if let Some(old) = self.pods.remove(&key) {
                        self.index.remove_pod(&key, &old);
                    }
                    self.index.add_pod(&key, &p, &self.pdbs);
                    self.pods.insert(key, p);
                    true
                }
                Ev::Delete(p) => {
                    let key = ns_key(&p);
                    match self.pods.remove(&key) {
                        Some(old) => {
                            self.index.remove_pod(&key, &old);
                            true
                        }
                        None => false,
                    }
                }
            },
            Feed::Events(ev) => match ev {
                Ev::Init => stage(&mut self.staging_events),
                Ev::InitApply(e) => put(&mut self.staging_events, ns_key(&e), e),
                Ev::InitDone => swap(&mut self.staging_events, &mut self.events),
                Ev::Apply(e) => {
                    self.events.insert(ns_key(&e), e);
                    true
                }
                Ev::Delete(e) => self.events.remove(&ns_key(&e)).is_some(),
            },
            Feed::Pdbs(ev) => match ev {
                Ev::Init => stage(&mut self.staging_pdbs),
                Ev::InitApply(p) => put(&mut self.staging_pdbs, ns_key(&p), p),
                Ev::InitDone => {
                    let changed = swap(&mut self.staging_pdbs, &mut self.pdbs);
                    if changed {
                        self.index.rebuild(&self.pods, &self.pdbs);
                    }
                    changed
                }
                Ev::Apply(p) => {
                    let key = ns_key(&p);
                    if let Some(old) = self.pdbs.remove(&key) {
                        self.index.remove_pdb(&key, &old);
                    }
                    self.index.add_pdb(&key, &p, &self.pods);
                    self.pdbs.insert(key, p);
                    true
                }
                Ev::Delete(p) => {
                    let key = ns_key(&p);
                    match self.pdbs.remove(&key) {
                        Some(old) => {
                            self.index.remove_pdb(&key, &old);
                            true
                        }
                        None => false,
                    }
                }
            },
        }
    }

    /// Forgets everything (a new connection generation starts).
    pub fn clear(&mut self) {
        *self = Cache::default();
    }
}

fn stage<M: Default>(staging: &mut Option<M>) -> bool {
    *staging = Some(M::default());
    false
}

fn put<M: Extend<(String, V)> + Default, V>(staging: &mut Option<M>, key: String, v: V) -> bool {
    // An InitApply without Init cannot happen with kube's watcher; stage anyway.
    staging
        .get_or_insert_with(M::default)
        .extend(std::iter::once((key, v)));
    false
}

fn swap<M: Default>(staging: &mut Option<M>, live: &mut M) -> bool {
    match staging.take() {
        Some(set) => {
            *live = set;
            true
        }
        None => false,
    }
}
