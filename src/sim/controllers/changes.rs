//! The controllers' view of the store's change feed: every change (and every write the
//! controllers make themselves, whose echo the index ignores as stale) marks what it affects
//! as dirty for the next pass.

use super::util::{self, controller_uid, selector_matches};
use super::{Manager, index};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, ObjKey};

/// Whether a pod's change from `old` to `new` touches what the ReplicaSet, DaemonSet and
/// StatefulSet controllers and the disruption controller read of their pods: its name,
/// labels, owners and deletion, its spec (the node), its phase and conditions (readiness).
/// Container statuses alone (restart counts), the resource version and managed fields are
/// not read.
fn owner_reads_change(old: &serde_json::Value, new: &serde_json::Value) -> bool {
    const META: [&str; 4] = ["name", "labels", "ownerReferences", "deletionTimestamp"];
    META.iter()
        .any(|f| old["metadata"][f] != new["metadata"][f])
        || old["spec"] != new["spec"]
        || old["status"]["phase"] != new["status"]["phase"]
        || old["status"]["conditions"] != new["status"]["conditions"]
}

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
                self.note_deletion(old.as_deref(), new.as_deref(), c.at);
                if new.is_none() {
                    if super::mirror::is_mirror(&obj) {
                        // The index keeps a skeleton: the kubelet needs the whole pod.
                        self.mirror_removed(&k, &c.object.value());
                    }
                    self.unschedulable.remove(&k);
                    if let Some(uid) = obj["metadata"]["uid"].as_str() {
                        self.killing.remove(uid);
                        self.deletions.remove(uid);
                        self.runs.remove(uid);
                    }
                }
                self.pod_touched(&k, old.as_deref(), new.as_deref(), true);
            }
            Kind::Node => {
                self.nodes_dirty.insert(k.1.clone());
                self.retry_unschedulable = true;
                let ds = self.daemonsets_for_node(old.as_deref(), new.as_deref());
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
        // A change its controller does not read (a restart count) leaves a ReplicaSet,
        // DaemonSet or StatefulSet clean: a DaemonSet's pass visits every node, and one per
        // restart of any of its pods kept the controllers busy at 5,000 nodes. A Job counts
        // restarts against its backoff limit. The PDBs selecting the pod stay clean too: a
        // PDB's pass reads every pod of its namespace, and one per restart held the watch
        // events the simulator serves behind it for ~2.6 ms at 150,000 pods.
        let unread = matches!((old, new), (Some(o), Some(n)) if !owner_reads_change(o, n));
        for p in [old, new].into_iter().flatten() {
            if let Some(uid) = controller_uid(p)
                && let Some((kind, key)) = self.index.owners.get(uid).cloned()
                && !(unread && kind != Kind::Job)
            {
                self.dirty(kind, key);
            }
        }
        if !pdbs || unread {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::sim::clock::SimClock;
    use crate::sim::store::Store;

    /// A pod of `owner` (kind, uid), Running and Ready on n0, restarted `restarts` times.
    fn pod(name: &str, owner: (&str, &str), restarts: u64) -> serde_json::Value {
        json!({
            "metadata": {"name": name, "namespace": "ns", "labels": {"app": name},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": owner.0, "name": owner.1,
                    "uid": owner.1, "controller": true}]},
            "spec": {"nodeName": "n0", "containers": [{"name": "c", "image": "i"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "c", "ready": true, "restartCount": restarts}]},
        })
    }

    fn restart(store: &Store, name: &str, n: u64) {
        store
            .update(Kind::Pod, "ns", name, |p| {
                p["status"]["containerStatuses"][0]["restartCount"] = json!(n);
                Ok(())
            })
            .unwrap();
    }

    /// Applies the store's queued changes and returns the kinds left dirty.
    fn dirtied(
        m: &mut Manager,
        rx: &mut tokio::sync::broadcast::Receiver<Arc<Change>>,
    ) -> Vec<Kind> {
        while let Ok(c) = rx.try_recv() {
            m.on_change(&c);
        }
        let mut kinds: Vec<Kind> = std::mem::take(&mut m.dirty)
            .into_iter()
            .filter(|(_, keys)| !keys.is_empty())
            .map(|(k, _)| k)
            .collect();
        kinds.sort_by_key(|k| format!("{k:?}"));
        kinds
    }

    #[test]
    fn a_restart_dirties_a_job_but_not_a_daemonset_or_a_pdb() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 1000);
        for (kind, name) in [(Kind::DaemonSet, "agent"), (Kind::Job, "batch")] {
            let obj = json!({"metadata": {"name": name, "namespace": "ns", "uid": name},
                "spec": {"selector": {"matchLabels": {"app": name}}, "template": {}}});
            store.create(kind, obj).unwrap();
        }
        let pdb = json!({"metadata": {"name": "agent", "namespace": "ns", "uid": "agent-pdb"},
            "spec": {"selector": {"matchLabels": {"app": "agent-x"}}, "minAvailable": 1}});
        store.create(Kind::PodDisruptionBudget, pdb).unwrap();
        store
            .create(Kind::Pod, pod("agent-x", ("DaemonSet", "agent"), 0))
            .unwrap();
        store
            .create(Kind::Pod, pod("batch-x", ("Job", "batch"), 0))
            .unwrap();
        let mut m = Manager::new(store.clone());
        let mut rx = super::super::subscribe(&store);
        m.dirty.clear();

        restart(&store, "agent-x", 1);
        assert_eq!(
            dirtied(&mut m, &mut rx),
            Vec::<Kind>::new(),
            "a restart alone"
        );
        // The Job counts restarts against its backoff limit.
        restart(&store, "batch-x", 1);
        assert_eq!(dirtied(&mut m, &mut rx), vec![Kind::Job]);
        // Readiness is what a DaemonSet and a PDB count.
        store
            .update(Kind::Pod, "ns", "agent-x", |p| {
                p["status"]["conditions"][0]["status"] = json!("False");
                Ok(())
            })
            .unwrap();
        let both = vec![Kind::DaemonSet, Kind::PodDisruptionBudget];
        assert_eq!(dirtied(&mut m, &mut rx), both);
        store.delete(Kind::Pod, "ns", "agent-x").unwrap();
        assert_eq!(dirtied(&mut m, &mut rx), both);
    }

    #[test]
    fn a_cordon_leaves_daemonsets_clean_a_taint_they_do_not_tolerate_does_not() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 1000);
        let ds = json!({"metadata": {"name": "agent", "namespace": "ns", "uid": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {}}}});
        store.create(Kind::DaemonSet, ds).unwrap();
        let node = json!({"metadata": {"name": "n0", "uid": "n0"}, "spec": {},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        store.create(Kind::Node, node).unwrap();
        let mut m = Manager::new(store.clone());
        let mut rx = super::super::subscribe(&store);
        m.dirty.clear();
        let patch_node = |f: fn(&mut serde_json::Value)| {
            store
                .update(Kind::Node, "", "n0", |n| {
                    f(n);
                    Ok(())
                })
                .unwrap();
        };

        // What `kubectl cordon` and the node lifecycle controller write.
        patch_node(|n| {
            n["spec"]["unschedulable"] = json!(true);
            n["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unschedulable",
                "effect": "NoSchedule"}]);
        });
        assert_eq!(dirtied(&mut m, &mut rx), Vec::<Kind>::new(), "a cordon");
        patch_node(|n| {
            let taint = json!({"key": "dedicated", "value": "db", "effect": "NoExecute"});
            n["spec"]["taints"].as_array_mut().unwrap().push(taint);
        });
        assert_eq!(
            dirtied(&mut m, &mut rx),
            vec![Kind::DaemonSet],
            "a NoExecute taint"
        );
        store.delete(Kind::Node, "", "n0").unwrap();
        assert_eq!(
            dirtied(&mut m, &mut rx),
            vec![Kind::DaemonSet],
            "a node gone"
        );
    }

    #[test]
    fn what_owners_read_of_a_pod() {
        let p = pod("p", ("ReplicaSet", "rs"), 0);
        let changed = |f: fn(&mut serde_json::Value)| {
            let mut n = p.clone();
            f(&mut n);
            owner_reads_change(&p, &n)
        };
        assert!(!changed(
            |n| n["status"]["containerStatuses"][0]["restartCount"] = json!(7)
        ));
        assert!(!changed(|n| n["metadata"]["resourceVersion"] = json!("9")));
        assert!(changed(
            |n| n["metadata"]["deletionTimestamp"] = json!("2026-12-02T00:00:00Z")
        ));
        assert!(changed(|n| n["metadata"]["labels"]["app"] = json!("other")));
        assert!(changed(|n| n["spec"]["nodeName"] = json!("n1")));
        assert!(changed(|n| n["status"]["phase"] = json!("Failed")));
        assert!(changed(
            |n| n["status"]["conditions"][0]["status"] = json!("False")
        ));
    }
}
