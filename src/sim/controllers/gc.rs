//! The garbage collector (ownerReferences: background, foreground and orphan propagation) and
//! the namespace controller (a `Terminating` namespace loses its contents, then itself), as
//! `kube-controller-manager` runs them, plus the deletion rules the API shares with them.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{Value, json};

use super::skeleton::skeleton;
use super::util::{is_terminating, key_of, set_condition};
use super::{Manager, graceful_delete};
use crate::sim::kinds::Kind;
use crate::sim::store::{Change, ChangeType, ObjKey, Store, StoreError};
use crate::sim::stored::Stored;

/// The finalizer of an owner waiting for its blocking dependents to go.
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer of an owner whose dependents are to be orphaned first.
pub const ORPHAN: &str = "orphan";
/// Clusters up to this many pods also look for non-controller ownerReferences (a full scan).
const SCAN_MAX_PODS: usize = 5_000;

/// `propagationPolicy` of a DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

impl Propagation {
    /// From the API's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Background" => Some(Self::Background),
            "Foreground" => Some(Self::Foreground),
            "Orphan" => Some(Self::Orphan),
            _ => None,
        }
    }

    /// The kind's default when a DELETE names none: batch/v1 Jobs orphan their pods (as on
    /// v1.25), everything else is collected in the background.
    pub fn default_for(kind: Kind) -> Self {
        if kind == Kind::Job {
            Self::Orphan
        } else {
            Self::Background
        }
    }
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum Deletion {
    /// Removed from the store (its last state).
    Gone(Arc<Value>),
    /// Still there with a deletionTimestamp (finalizers or a grace period to wait for).
    Pending(Arc<Value>),
}

fn finalizers(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

/// Whether `obj` carries finalizer `f`.
pub fn has_finalizer(obj: &Value, f: &str) -> bool {
    finalizers(obj).iter().any(|x| x == f)
}

/// Deletes an object as the registry does: pods gracefully; other kinds at once unless a
/// finalizer (their own, or the one `policy` adds) keeps them, with a deletionTimestamp.
pub fn delete_object(
    store: &Store,
    kind: Kind,
    ns: &str,
    name: &str,
    policy: Propagation,
) -> Result<Deletion, StoreError> {
    let cur = store
        .get(kind, ns, name)
        .ok_or_else(|| StoreError::NotFound {
            kind,
            name: name.to_string(),
        })?;
    if kind == Kind::Pod {
        graceful_delete(store, &cur);
        return Ok(match store.get(kind, ns, name) {
            Some(p) if p["metadata"]["uid"] == cur["metadata"]["uid"] => Deletion::Pending(p),
            _ => Deletion::Gone(cur),
        });
    }
    let mut fins = finalizers(&cur);
    fins.retain(|f| f != FOREGROUND && f != ORPHAN);
    match policy {
        Propagation::Foreground => fins.push(FOREGROUND.into()),
        Propagation::Orphan => fins.push(ORPHAN.into()),
        Propagation::Background => {}
    }
    if fins.is_empty() {
        return store.delete(kind, ns, name).map(Deletion::Gone);
    }
    let now = crate::sim::clock::format_time(store.clock().now());
    let out = store.update(kind, ns, name, |o| {
        o["metadata"]["finalizers"] = json!(fins);
        if o["metadata"]["deletionTimestamp"].is_null() {
            o["metadata"]["deletionTimestamp"] = json!(now);
            o["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        }
        Ok(())
    })?;
    Ok(Deletion::Pending(out))
}

/// Removes an object whose deletion only waited for finalizers, once they are all gone
/// (`ShouldDeleteDuringUpdate`: deletionGracePeriodSeconds 0 and no finalizers).
pub fn finish_if_released(store: &Store, kind: Kind, obj: &Value) -> bool {
    let m = &obj["metadata"];
    let released = !m["deletionTimestamp"].is_null()
        && m["deletionGracePeriodSeconds"].as_i64() == Some(0)
        && finalizers(obj).is_empty();
    let (ns, name) = key_of(obj);
    released && store.delete(kind, &ns, &name).is_ok()
}

fn remove_finalizer(store: &Store, kind: Kind, k: &ObjKey, f: &str) {
    if let Ok(o) = store.update(kind, &k.0, &k.1, |o| {
        let rest: Vec<String> = finalizers(o).into_iter().filter(|x| x != f).collect();
        o["metadata"]["finalizers"] = json!(rest);
        Ok(())
    }) {
        finish_if_released(store, kind, &o);
    }
}

/// The GC's and namespace controller's bookkeeping.
#[derive(Default)]
pub struct GcState {
    /// uids of objects removed since the last pass (their dependents may be orphans now).
    gone: Vec<String>,
    /// Objects waiting on the `foregroundDeletion` or `orphan` finalizer.
    deleting: BTreeSet<(Kind, ObjKey)>,
    /// Terminating namespaces.
    pub namespaces: BTreeSet<String>,
    /// New objects with ownerReferences: an owner that went before they came makes them
    /// garbage at once (the real GC checks new dependents too).
    new_dependents: Vec<(Kind, ObjKey)>,
}

impl GcState {
    /// Finds the work already pending in `store` (after a start or resync).
    pub fn load(store: &Store) -> Self {
        let mut s = GcState::default();
        for kind in Kind::ALL {
            if matches!(kind, Kind::Pod | Kind::Event) {
                continue;
            }
            let (_, items) = store.list_where(kind, None, is_terminating);
            for o in items {
                s.note(kind, &o);
            }
        }
        s
    }

    fn note(&mut self, kind: Kind, o: &Value) {
        if !is_terminating(o) {
            return;
        }
        if kind == Kind::Namespace {
            let name = o["metadata"]["name"].as_str().unwrap_or("");
            self.namespaces.insert(name.to_string());
        } else if has_finalizer(o, FOREGROUND) || has_finalizer(o, ORPHAN) {
            self.deleting.insert((kind, key_of(o)));
        }
    }
}

impl Manager {
    /// Notes what a change means for the GC (called for every change, indexed or not).
    pub(super) fn gc_observe(&mut self, c: &Change) {
        // The metadata is all the GC reads; the skeleton decodes no more than that and a spec.
        let object = skeleton(c.object.json());
        match c.change {
            ChangeType::Deleted => {
                if let Some(uid) = object["metadata"]["uid"].as_str() {
                    self.gc.gone.push(uid.to_string());
                }
            }
            ChangeType::Added => {
                let owned = object["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty());
                if owned && super::index::indexed(c.kind) {
                    self.gc.new_dependents.push((c.kind, key_of(&object)));
                }
                self.gc.note(c.kind, &object);
            }
            ChangeType::Modified => self.gc.note(c.kind, &object),
        }
    }

    /// Whether a controller must leave `obj` alone: it is being deleted, or its namespace is.
    pub(super) fn being_deleted(&self, obj: &Value) -> bool {
        is_terminating(obj)
            || obj["metadata"]["namespace"]
                .as_str()
                .is_some_and(|ns| self.gc.namespaces.contains(ns))
    }

    /// One GC pass: orphans of removed owners, owners in foreground/orphan deletion,
    /// terminating namespaces.
    pub(super) fn gc_sync(&mut self) {
        for uid in std::mem::take(&mut self.gc.gone) {
            for (kind, dep) in self.dependents_of(&uid) {
                self.collect_orphan(kind, &dep);
            }
        }
        for (kind, k) in std::mem::take(&mut self.gc.new_dependents) {
            let current = match kind {
                Kind::Pod => self.index.pod(&k),
                _ => self.index.get(kind, &k),
            };
            if let Some(dep) = current {
                self.collect_orphan(kind, &dep);
            }
        }
        for (kind, k) in self.gc.deleting.clone() {
            if self.finish_owner(kind, &k) {
                self.gc.deleting.remove(&(kind, k));
            }
        }
        for ns in self.gc.namespaces.clone() {
            if self.namespace_sync(&ns) {
                self.gc.namespaces.remove(&ns);
            }
        }
    }

    /// Objects with an ownerReference to `uid` (controller references from the index; other
    /// references by a scan on small clusters).
    fn dependents_of(&self, uid: &str) -> Vec<(Kind, Arc<Value>)> {
        let mut out: Vec<(Kind, Arc<Value>)> = Vec::new();
        for p in self.index.owned(uid) {
            out.push((Kind::Pod, p));
        }
        for (kind, k) in self.index.children.get(uid).into_iter().flatten() {
            if let Some(o) = self.index.get(*kind, k) {
                out.push((*kind, o.clone()));
            }
        }
        if self.index.pods.len() <= SCAN_MAX_PODS {
            let refers = |o: &Value| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|r| r["uid"] == uid && r["controller"] != true)
            };
            let pods = self.index.pods.values().map(|p| (Kind::Pod, p));
            let objs =
                (self.index.objs.iter()).flat_map(|(k, objs)| objs.values().map(|o| (*k, o)));
            for (kind, stored) in pods.chain(objs) {
                let o = skeleton(stored.json());
                if refers(&o) {
                    out.push((kind, Arc::new(o)));
                }
            }
        }
        out
    }

    /// Whether the object an ownerReference names exists (same uid). Kinds the simulator
    /// does not serve count as present: the real GC would not delete on an unknown owner.
    fn owner_present(&self, r: &Value, ns: &str) -> bool {
        let Some(kind) = r["kind"].as_str().and_then(Kind::from_name) else {
            return true;
        };
        let name = r["name"].as_str().unwrap_or("");
        let ns = if kind.namespaced() { ns } else { "" };
        let found = match kind {
            Kind::Node => self.index.nodes.get(name).cloned(),
            Kind::Pod => self.index.pod(&(ns.into(), name.into())),
            k if super::index::indexed(k) => self.index.get(kind, &(ns.into(), name.into())),
            _ => self.store.get(kind, ns, name),
        };
        found.is_some_and(|o| o["metadata"]["uid"] == r["uid"])
    }

    /// A dependent one of whose owners went: deleted when no owner is left, otherwise the
    /// dangling references are dropped.
    fn collect_orphan(&mut self, kind: Kind, dep: &Value) {
        let (ns, name) = key_of(dep);
        let refs: Vec<Value> = dep["metadata"]["ownerReferences"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let alive: Vec<Value> = refs
            .iter()
            .filter(|r| self.owner_present(r, &ns))
            .cloned()
            .collect();
        if alive.len() == refs.len() {
            return;
        }
        if alive.is_empty() {
            if !is_terminating(dep) {
                self.gc_delete(kind, &ns, &name, Propagation::Background);
            }
        } else if let Ok(o) = self.store.update(kind, &ns, &name, |o| {
            o["metadata"]["ownerReferences"] = json!(alive);
            Ok(())
        }) {
            self.saw_any(kind, &o);
        }
    }

    /// Deletes through the shared rules and tells the index at once, so no controller acts
    /// on a stale copy in this pass (the echo is then ignored as stale, so what it would have
    /// woken is woken here: the owner of a workload that is gone, the kubelet of a pod).
    fn gc_delete(&mut self, kind: Kind, ns: &str, name: &str, policy: Propagation) {
        match delete_object(&self.store, kind, ns, name, policy) {
            Ok(Deletion::Gone(last)) if kind != Kind::Pod && super::index::indexed(kind) => {
                let gone = Arc::new(Stored::new(kind, &last));
                let _ = self.index.apply(kind, ChangeType::Deleted, gone);
                if let Some(uid) = super::util::controller_uid(&last)
                    && let Some((k, key)) = self.index.owners.get(uid).cloned()
                {
                    self.dirty(k, key);
                }
            }
            Ok(Deletion::Pending(o)) => {
                self.saw_any(kind, &o);
                if kind == Kind::Pod {
                    self.kubelet_dirty.insert(key_of(&o));
                }
            }
            _ => {}
        }
    }

    fn saw_any(&mut self, kind: Kind, o: &Value) {
        if super::index::indexed(kind) {
            self.saw(kind, o);
        }
    }

    /// Advances an owner in foreground or orphan deletion; true when nothing is left to do.
    fn finish_owner(&mut self, kind: Kind, k: &ObjKey) -> bool {
        let Some(owner) = self.store.get(kind, &k.0, &k.1) else {
            return true;
        };
        if !is_terminating(&owner) {
            return true;
        }
        let uid = owner["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let deps = self.dependents_of(&uid);
        if has_finalizer(&owner, ORPHAN) {
            for (dk, d) in deps {
                let (ns, name) = key_of(&d);
                if let Ok(o) = self.store.update(dk, &ns, &name, |o| {
                    if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != uid.as_str());
                    }
                    Ok(())
                }) {
                    self.saw_any(dk, &o);
                }
            }
            remove_finalizer(&self.store, kind, k, ORPHAN);
            return false;
        }
        if !has_finalizer(&owner, FOREGROUND) {
            return true;
        }
        let mut blocking = 0;
        for (dk, d) in deps {
            let blocks = d["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|r| r["uid"] == uid.as_str() && r["blockOwnerDeletion"] == true);
            blocking += usize::from(blocks);
            if !is_terminating(&d) {
                // Dependents with dependents of their own go in the foreground too.
                let has_own = d["metadata"]["uid"]
                    .as_str()
                    .is_some_and(|u| !self.dependents_of(u).is_empty());
                let policy = if has_own {
                    Propagation::Foreground
                } else {
                    Propagation::Background
                };
                let (ns, name) = key_of(&d);
                self.gc_delete(dk, &ns, &name, policy);
            }
        }
        if blocking == 0 {
            remove_finalizer(&self.store, kind, k, FOREGROUND);
        }
        false
    }

    /// Empties a terminating namespace, then removes it; true when it is gone.
    fn namespace_sync(&mut self, ns: &str) -> bool {
        let Some(n) = self.store.get(Kind::Namespace, "", ns) else {
            return true;
        };
        if !is_terminating(&n) {
            return true;
        }
        let mut remaining: Vec<(Kind, usize)> = Vec::new();
        // Workloads before pods, so no controller replaces what goes.
        let order = Kind::ALL
            .into_iter()
            .filter(|k| k.namespaced() && *k != Kind::Pod)
            .chain([Kind::Pod]);
        for kind in order {
            let (_, items) = self.store.list(kind, Some(ns));
            if items.is_empty() {
                continue;
            }
            remaining.push((kind, items.len()));
            for o in items.iter().filter(|o| !is_terminating(o)) {
                let (ons, name) = key_of(o);
                self.gc_delete(kind, &ons, &name, Propagation::Background);
            }
        }
        if remaining.is_empty() {
            return self.release_namespace(ns);
        }
        let total: Vec<String> = remaining
            .iter()
            .map(|(k, c)| format!("{}.{} has {c} resource instances", k.plural(), k.group()))
            .collect();
        let now = super::util::fmt(self.store.clock().now());
        let _ = self.store.update(Kind::Namespace, "", ns, |n| {
            let conds = &mut n["status"]["conditions"];
            for (t, status, reason, msg) in [
                (
                    "NamespaceDeletionDiscoveryFailure",
                    "False",
                    "ResourcesDiscovered",
                    "All resources successfully discovered".to_string(),
                ),
                (
                    "NamespaceDeletionGroupVersionParsingFailure",
                    "False",
                    "ParsedGroupVersions",
                    "All legacy kube types successfully parsed".to_string(),
                ),
                (
                    "NamespaceDeletionContentFailure",
                    "False",
                    "ContentDeleted",
                    "All content successfully deleted, may be waiting on finalization".to_string(),
                ),
                (
                    "NamespaceContentRemaining",
                    "True",
                    "SomeResourcesRemain",
                    format!("Some resources are remaining: {}", total.join(", ")),
                ),
                (
                    "NamespaceFinalizersRemaining",
                    "False",
                    "ContentHasNoFinalizers",
                    "All content-preserving finalizers finished".to_string(),
                ),
            ] {
                let c = json!({"type": t, "status": status, "reason": reason, "message": msg});
                set_condition(conds, c, &now);
            }
            Ok(())
        });
        false
    }

    /// The namespace is empty: its `kubernetes` finalizer goes, and with it the namespace.
    fn release_namespace(&mut self, ns: &str) -> bool {
        let Some(n) = self.store.get(Kind::Namespace, "", ns) else {
            return true;
        };
        if !finalizers(&n).is_empty() {
            // Someone else's finalizer: wait (as the real namespace does).
            let _ = self.store.update(Kind::Namespace, "", ns, |n| {
                n["spec"]["finalizers"] = json!([]);
                Ok(())
            });
            return false;
        }
        self.store.delete(Kind::Namespace, "", ns).is_ok()
            || self.store.get(Kind::Namespace, "", ns).is_none()
    }
}
