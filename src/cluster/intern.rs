//! Interning of the values many pods repeat (namespaces, node names, reasons, label sets,
//! toleration lists, controllers): one shared `Arc` per distinct value instead of a heap copy
//! per pod. At 150k pods most of a row's strings are repeats, so this is most of its memory.
//!
//! The pools are process-wide because rows are decoded on the watcher tasks, before the model
//! sees them; each pool drops values nobody else holds whenever it has doubled since its last
//! sweep, so churn (pods gone, reasons changed) cannot grow it without bound.

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::rows::Toleration;

/// A set of shared values with amortized sweeping of unused ones.
struct Pool<T: ?Sized> {
    set: foldhash::HashSet<Arc<T>>,
    /// Sweep when the set reaches this size.
    sweep_at: usize,
}

impl<T: ?Sized + Hash + Eq> Pool<T> {
    fn new() -> Self {
        Pool {
            set: foldhash::HashSet::default(),
            sweep_at: 1024,
        }
    }

    fn get<Q>(&mut self, v: &Q, make: impl FnOnce() -> Arc<T>) -> Arc<T>
    where
        Arc<T>: Borrow<Q>,
        Q: ?Sized + Hash + Eq,
    {
        if let Some(a) = self.set.get(v) {
            return a.clone();
        }
        if self.set.len() >= self.sweep_at {
            self.set.retain(|a| Arc::strong_count(a) > 1);
            self.sweep_at = (self.set.len() * 2).max(1024);
        }
        let a = make();
        self.set.insert(a.clone());
        a
    }
}

// `Arc<T>: Borrow<T>` lets the sets be looked up by `&T`, so a hit allocates nothing.
static STRS: LazyLock<Mutex<Pool<str>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static MAPS: LazyLock<Mutex<Pool<StrMap>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static TOLS: LazyLock<Mutex<Pool<[Toleration]>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static OWNERS: LazyLock<Mutex<Pool<Owner>>> = LazyLock::new(|| Mutex::new(Pool::new()));

/// A string map (labels, node selectors).
pub type StrMap = BTreeMap<String, String>;

/// The shared copy of `s`.
pub fn str(s: &str) -> Arc<str> {
    lock(&STRS).get(s, || Arc::from(s))
}

/// The shared copy of a string map (labels of one ReplicaSet's pods are all equal).
pub fn map(m: StrMap) -> Arc<StrMap> {
    lock(&MAPS).get(&m, || Arc::new(m.clone()))
}

/// The shared empty map.
pub fn empty_map() -> Arc<StrMap> {
    static EMPTY: LazyLock<Arc<StrMap>> = LazyLock::new(|| map(StrMap::new()));
    EMPTY.clone()
}

/// The shared copy of a toleration list (most pods carry the same defaults).
pub fn tolerations(v: Vec<Toleration>) -> Arc<[Toleration]> {
    lock(&TOLS).get(v.as_slice(), || Arc::from(v.clone()))
}

/// A controller reference, hashable so it can be pooled (`OwnerReference` is not `Hash`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Owner(pub OwnerReference);

impl Eq for Owner {}

impl Hash for Owner {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let o = &self.0;
        (&o.api_version, &o.kind, &o.name, &o.uid).hash(h);
        (o.controller, o.block_owner_deletion).hash(h);
    }
}

/// The shared copy of a controller reference (all pods of one ReplicaSet have the same).
pub fn owner(o: OwnerReference) -> Arc<Owner> {
    let o = Owner(o);
    lock(&OWNERS).get(&o, || Arc::new(o.clone()))
}

fn lock<T: ?Sized>(m: &'static Mutex<Pool<T>>) -> std::sync::MutexGuard<'static, Pool<T>> {
    // A panic while holding the lock leaves the set valid (inserts are atomic to it).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_storage() {
        let a = str(&format!("kube-{}", "system"));
        let b = str("kube-system");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &str("default")));
        let l = |v: &str| StrMap::from([("app".to_string(), v.to_string())]);
        assert!(Arc::ptr_eq(&map(l("web")), &map(l("web"))));
        assert!(!Arc::ptr_eq(&map(l("web")), &map(l("db"))));
        let t = || {
            vec![Toleration {
                key: Some("node.kubernetes.io/not-ready".into()),
                operator: Some("Exists".into()),
                ..Default::default()
            }]
        };
        assert!(Arc::ptr_eq(&tolerations(t()), &tolerations(t())));
        let o = |uid: &str| OwnerReference {
            kind: "ReplicaSet".into(),
            name: "web-1".into(),
            uid: uid.into(),
            ..Default::default()
        };
        assert!(Arc::ptr_eq(&owner(o("u1")), &owner(o("u1"))));
        assert!(!Arc::ptr_eq(&owner(o("u1")), &owner(o("u2"))));
    }

    #[test]
    fn unused_values_are_swept() {
        let mut p: Pool<str> = Pool::new();
        let kept = p.get("kept", || Arc::from("kept"));
        for i in 0..5000 {
            let s = format!("gone-{i}");
            drop(p.get(s.as_str(), || Arc::from(s.as_str())));
        }
        assert!(p.set.len() < 2100, "swept: {}", p.set.len());
        assert!(Arc::ptr_eq(&kept, &p.get("kept", || Arc::from("new"))));
    }
}
