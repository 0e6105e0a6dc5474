//! The controllers' view of the store's change feed: every change (and every write the
//! controllers make themselves, whose echo the index ignores as stale) marks what it affects
//! as dirty for the next pass.

use super::util::{self, controller_uid, selector_matches};
use super::{Manager, index};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, ObjKey};

impl Manager {
    pub(super) fn on_change(&mut self, c: &Change) {
        self.gc_observe(c);
        self.system_observe(c);
        if !index::indexed(c.kind) {
            return;
        }
        let Some((old, new)) = self.index.apply(c.kind, c.change, c.object.clone()) else {
            return;
        };
        let obj = new.as_ref().or(old.as_ref()).unwrap().clone();
        let k = util::key_of(&obj);
        match c.kind {
            Kind::Pod => {
                self.kubelet_dirty.insert(k.clone());
                if new.is_none() {
                    if super::mirror::is_mirror(&obj) {
                        // The index keeps a skeleton: the kubelet needs the whole pod.
                        self.mirror_removed(&k, &c.object.value());
                    }
                    self.unschedulable.remove(&k);
                    if let Some(uid) = obj["metadata"]["uid"].as_str() {
                        self.killing.remove(uid);
                        self.runs.remove(uid);
                    }
                }
                self.pod_touched(&k, old.as_deref(), new.as_deref(), true);
            }
            Kind::Node => {
                self.nodes_dirty.insert(k.1.clone());
                self.retry_unschedulable = true;
                let ds: Vec<ObjKey> = self
                    .index
                    .of(Kind::DaemonSet)
                    .map(|(k, _)| k.clone())
                    .collect();
                self.dirty.entry(Kind::DaemonSet).or_default().extend(ds);
            }
            kind => {
                if kind == Kind::ReplicaSet
                    && let Some(uid) = controller_uid(&obj)
                    && let Some((Kind::Deployment, key)) = self.index.owners.get(uid).cloned()
                {
                    self.dirty(Kind::Deployment, key);
                }
                if new.is_some() {
                    self.dirty(kind, k);
                }
            }
        }
    }

    /// What a pod change makes dirty: its owner, the unschedulable pods when it frees room,
    /// and with `pdbs` the PDBs selecting it.
    fn pod_touched(
        &mut self,
        k: &ObjKey,
        old: Option<&serde_json::Value>,
        new: Option<&serde_json::Value>,
        pdbs: bool,
    ) {
        let freed = match (old, new) {
            (_, None) => true,
            (Some(o), Some(n)) => !util::is_finished(o) && util::is_finished(n),
            _ => false,
        };
        if freed {
            self.retry_unschedulable = true;
        }
        for p in [old, new].into_iter().flatten() {
            if let Some(uid) = controller_uid(p)
                && let Some((kind, key)) = self.index.owners.get(uid).cloned()
            {
                self.dirty(kind, key);
            }
        }
        if !pdbs {
            return;
        }
        let pdbs: Vec<ObjKey> =
            self.index
                .of(Kind::PodDisruptionBudget)
                .filter(|(pk, _)| pk.0 == k.0)
                .filter(|(_, pdb)| {
                    let pdb = pdb.value();
                    [old, new].into_iter().flatten().any(|p| {
                        selector_matches(&pdb["spec"]["selector"], &p["metadata"]["labels"])
                    })
                })
                .map(|(pk, _)| pk.clone())
                .collect();
        for pk in pdbs {
            self.dirty(Kind::PodDisruptionBudget, pk);
        }
    }

    /// Applies the controller's own write to the index at once (the feed echoes it later,
    /// and the echo is ignored as stale). The index takes the store's version of the object,
    /// which shares the stored bytes.
    pub(super) fn saw(&mut self, kind: Kind, obj: &serde_json::Value) {
        let (ns, name) = util::key_of(obj);
        let Some(s) = self.store.get_stored(kind, &ns, &name) else {
            return;
        };
        let applied = self.index.apply(kind, ChangeType::Modified, s);
        let Some((old, Some(new))) = applied else {
            return;
        };
        // The echo of this write will be ignored as stale, so whoever watches the object must
        // hear of it here: a pod's owner (a kubelet's Ready reaches the ReplicaSet's status,
        // and the Deployment's, in the next pass), a ReplicaSet's Deployment, and the PDBs
        // selecting the pod (a replacement's readiness frees the budget at once, as on a real
        // cluster; `pdb-blocked` holds its drain by its readiness delay instead).
        match kind {
            Kind::Pod => {
                let k = util::key_of(&new);
                self.pod_touched(&k, old.as_deref(), Some(&new), true);
                // Our write may carry someone else's newer change (a DELETE's
                // deletionTimestamp): the kubelet must still hear of it.
                if old.as_deref().is_some_and(|o| !util::is_terminating(o))
                    && util::is_terminating(&new)
                {
                    self.kubelet_dirty.insert(k);
                }
            }
            Kind::ReplicaSet => {
                if let Some(uid) = controller_uid(&new)
                    && let Some((Kind::Deployment, key)) = self.index.owners.get(uid).cloned()
                {
                    self.dirty(Kind::Deployment, key);
                }
            }
            _ => {}
        }
    }
}
