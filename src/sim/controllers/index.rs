//! The controllers' shared view of the store, kept current from change notifications, with
//! the lookups they need so that no controller scans every pod on a change.
//!
//! Pods and workloads are held as the store's own [`Stored`] versions (shared, not copied) and
//! decoded when a controller looks at one; only nodes are kept decoded (few, and read by
//! every scheduling decision).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use super::skeleton::skeleton;
use super::util::{Requests, controller_uid, is_finished, is_terminating, pod_requests};
use crate::sim::kinds::Kind;
use crate::sim::store::{ChangeType, ObjKey, Store, Stored};

/// Requested resources and pod count bound to one node (the scheduler's view of it).
pub type Usage = crate::cluster::scheduling::NodeLoad;

/// Indexed objects.
#[derive(Default)]
pub struct Index {
    pub pods: HashMap<ObjKey, Arc<Stored>>,
    /// Pods bound to each node.
    pub by_node: HashMap<String, HashSet<ObjKey>>,
    /// Pods by their controller's uid.
    pub by_owner: HashMap<String, HashSet<ObjKey>>,
    /// Pods by namespace.
    pub by_ns: HashMap<String, HashSet<ObjKey>>,
    /// Pending pods without a node (the scheduler's queue).
    pub unbound: BTreeSet<ObjKey>,
    /// Requests of the (unfinished) pods bound to each node, terminating ones included.
    pub usage: HashMap<String, Usage>,
    pub nodes: BTreeMap<String, Arc<Value>>,
    /// Node versions (`nodes` holds them decoded).
    node_rvs: HashMap<String, u64>,
    /// Workloads and PDBs.
    pub objs: HashMap<Kind, BTreeMap<ObjKey, Arc<Stored>>>,
    /// uid → (kind, key) for workloads, to find a pod's controller.
    pub owners: HashMap<String, (Kind, ObjKey)>,
    /// Workload objects (ReplicaSets) by their controller's uid.
    pub children: HashMap<String, HashSet<(Kind, ObjKey)>>,
}

/// Kinds the index follows.
pub fn indexed(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Pod
            | Kind::Node
            | Kind::PodDisruptionBudget
            | Kind::DaemonSet
            | Kind::ReplicaSet
            | Kind::Deployment
            | Kind::StatefulSet
            | Kind::Job
    )
}

fn contribution(pod: &Value) -> Option<(String, Requests)> {
    let node = pod["spec"]["nodeName"].as_str()?;
    if is_finished(pod) {
        return None;
    }
    Some((node.to_string(), pod_requests(pod)))
}

fn key(obj: &Stored) -> ObjKey {
    (obj.namespace().to_string(), obj.name().to_string())
}

impl Index {
    /// Builds the index from the store's current contents.
    pub fn load(store: &Store) -> Self {
        let mut ix = Index::default();
        for kind in Kind::ALL {
            if !indexed(kind) {
                continue;
            }
            for o in store.list_stored(kind, None, |_| true).1 {
                ix.apply(kind, ChangeType::Added, o);
            }
        }
        ix
    }

    /// The version the index holds (0: none).
    fn current_rv(&self, kind: Kind, k: &ObjKey) -> u64 {
        match kind {
            Kind::Pod => self.pods.get(k).map_or(0, |o| o.rv()),
            Kind::Node => self.node_rvs.get(&k.1).copied().unwrap_or(0),
            _ => self
                .objs
                .get(&kind)
                .and_then(|m| m.get(k))
                .map_or(0, |o| o.rv()),
        }
    }

    /// The version the index holds: nodes whole, other kinds as their skeleton.
    fn current(&self, kind: Kind, k: &ObjKey) -> Option<Arc<Value>> {
        let stored = match kind {
            Kind::Node => return self.nodes.get(&k.1).cloned(),
            Kind::Pod => self.pods.get(k)?,
            _ => self.objs.get(&kind)?.get(k)?,
        };
        Some(Arc::new(skeleton(stored.json())))
    }

    /// Applies a change; returns `(old, new)` decoded (nodes whole, other kinds as their
    /// [`skeleton`]), or `None` when the change is stale (the index already holds this
    /// version or a newer one, e.g. after a controller's own write).
    #[allow(clippy::type_complexity)]
    pub fn apply(
        &mut self,
        kind: Kind,
        change: ChangeType,
        obj: Arc<Stored>,
    ) -> Option<(Option<Arc<Value>>, Option<Arc<Value>>)> {
        let k = key(&obj);
        let held = self.current_rv(kind, &k);
        if held > 0 && held >= obj.rv() {
            return None;
        }
        if change == ChangeType::Deleted && held == 0 {
            return None;
        }
        let old = self.current(kind, &k);
        let new = (change != ChangeType::Deleted).then(|| {
            Arc::new(match kind {
                Kind::Node => obj.value(),
                _ => skeleton(obj.json()),
            })
        });
        match kind {
            Kind::Pod => {
                let stored = new.is_some().then_some(obj);
                self.apply_pod(&k, old.as_deref(), new.as_deref(), stored);
            }
            Kind::Node => {
                match &new {
                    Some(n) => {
                        self.node_rvs.insert(k.1.clone(), obj.rv());
                        self.nodes.insert(k.1.clone(), n.clone())
                    }
                    None => {
                        self.node_rvs.remove(&k.1);
                        self.nodes.remove(&k.1)
                    }
                };
            }
            _ => {
                if let Some(o) = &old {
                    if let Some(uid) = o["metadata"]["uid"].as_str() {
                        self.owners.remove(uid);
                    }
                    if let Some(owner) = controller_uid(o)
                        && let Some(s) = self.children.get_mut(owner)
                    {
                        s.remove(&(kind, k.clone()));
                        if s.is_empty() {
                            self.children.remove(owner);
                        }
                    }
                }
                let map = self.objs.entry(kind).or_default();
                match &new {
                    Some(n) => {
                        if let Some(uid) = n["metadata"]["uid"].as_str() {
                            self.owners.insert(uid.to_string(), (kind, k.clone()));
                        }
                        if let Some(owner) = controller_uid(n) {
                            self.children
                                .entry(owner.to_string())
                                .or_default()
                                .insert((kind, k.clone()));
                        }
                        map.insert(k, obj);
                    }
                    None => {
                        map.remove(&k);
                    }
                }
            }
        }
        Some((old, new))
    }

    fn apply_pod(
        &mut self,
        k: &ObjKey,
        old: Option<&Value>,
        new: Option<&Value>,
        stored: Option<Arc<Stored>>,
    ) {
        if let Some(o) = old {
            if let Some((node, r)) = contribution(o) {
                self.usage.entry(node).or_default().add(r, -1);
            }
            if let Some(node) = o["spec"]["nodeName"].as_str()
                && let Some(s) = self.by_node.get_mut(node)
            {
                s.remove(k);
            }
            if let Some(uid) = controller_uid(o)
                && let Some(s) = self.by_owner.get_mut(uid)
            {
                s.remove(k);
                if s.is_empty() {
                    self.by_owner.remove(uid);
                }
            }
            self.unbound.remove(k);
        }
        match (new, stored) {
            (Some(n), Some(stored)) => {
                if let Some((node, r)) = contribution(n) {
                    self.usage.entry(node).or_default().add(r, 1);
                }
                match n["spec"]["nodeName"].as_str() {
                    Some(node) => {
                        self.by_node
                            .entry(node.to_string())
                            .or_default()
                            .insert(k.clone());
                    }
                    None => {
                        if !is_terminating(n) && !is_finished(n) {
                            self.unbound.insert(k.clone());
                        }
                    }
                }
                if let Some(uid) = controller_uid(n) {
                    self.by_owner
                        .entry(uid.to_string())
                        .or_default()
                        .insert(k.clone());
                }
                self.by_ns.entry(k.0.clone()).or_default().insert(k.clone());
                self.pods.insert(k.clone(), stored);
            }
            _ => {
                if let Some(s) = self.by_ns.get_mut(&k.0) {
                    s.remove(k);
                }
                self.pods.remove(k);
            }
        }
    }

    /// Objects of a workload kind, as stored.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = (&ObjKey, &Arc<Stored>)> {
        self.objs.get(&kind).into_iter().flatten()
    }

    /// One workload object, decoded.
    pub fn get(&self, kind: Kind, k: &ObjKey) -> Option<Arc<Value>> {
        Some(Arc::new(self.objs.get(&kind)?.get(k)?.value()))
    }

    /// One pod, decoded.
    pub fn pod(&self, k: &ObjKey) -> Option<Arc<Value>> {
        Some(Arc::new(self.pods.get(k)?.value()))
    }

    /// The pods a controller (by uid) owns.
    pub fn owned(&self, uid: &str) -> Vec<Arc<Value>> {
        self.by_owner
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.pod(k))
            .collect()
    }

    /// Workload objects of `kind` controlled by `uid`.
    pub fn children_of(&self, uid: &str, kind: Kind) -> Vec<Arc<Value>> {
        self.children
            .get(uid)
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k == kind)
            .filter_map(|(k, key)| self.get(*k, key))
            .collect()
    }

    /// The pods bound to a node.
    pub fn on_node(&self, node: &str) -> Vec<Arc<Value>> {
        self.by_node
            .get(node)
            .into_iter()
            .flatten()
            .filter_map(|k| self.pod(k))
            .collect()
    }
}
