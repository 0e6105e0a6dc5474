//! Interning of the values many pods repeat (namespaces, node names, reasons, label sets,
//! toleration lists, controllers): one shared `Arc` per distinct value instead of a heap copy
//! per pod. At 150k pods most of a row's strings are repeats, so this is most of its memory.
//!
//! The pools are process-wide because rows are decoded on the watcher tasks, before the model
//! sees them; each pool drops values nobody else holds whenever it has doubled since its last
//! sweep, so churn (pods gone, reasons changed) cannot grow it without bound.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use hashbrown::HashTable;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::raw_pod::{OwnerRef, Pairs, Str};
use super::rows::Toleration;

/// A value the pools hold, fed to the hasher the same way as every key that looks it up.
trait Stored {
    fn feed(&self, h: &mut impl Hasher);
}

/// What looks up a `T`: the value itself, or a borrowed form of it, so a hit allocates nothing.
trait Key<T: ?Sized> {
    /// Feeds exactly what `T::feed` feeds for the value this key equals.
    fn feed(&self, h: &mut impl Hasher);
    fn matches(&self, stored: &T) -> bool;
    fn make(&self) -> Arc<T>;
}

/// A set of shared values with amortized sweeping of unused ones.
struct Pool<T: ?Sized> {
    table: HashTable<Arc<T>>,
    state: foldhash::fast::RandomState,
    /// Sweep when the set reaches this size.
    sweep_at: usize,
}

impl<T: ?Sized + Stored> Pool<T> {
    fn new() -> Self {
        Pool {
            table: HashTable::new(),
            state: foldhash::fast::RandomState::default(),
            sweep_at: 1024,
        }
    }

    fn get(&mut self, key: &impl Key<T>) -> Arc<T> {
        let mut h = self.state.build_hasher();
        key.feed(&mut h);
        let hash = h.finish();
        if let Some(a) = self.table.find(hash, |a| key.matches(a)) {
            return a.clone();
        }
        if self.table.len() >= self.sweep_at {
            self.table.retain(|a| Arc::strong_count(a) > 1);
            self.sweep_at = (self.table.len() * 2).max(1024);
        }
        let a = key.make();
        let state = &self.state;
        self.table.insert_unique(hash, a.clone(), |a| {
            let mut h = state.build_hasher();
            a.feed(&mut h);
            h.finish()
        });
        a
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }
}

static STRS: LazyLock<Mutex<Pool<str>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static MAPS: LazyLock<Mutex<Pool<StrMap>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static TOLS: LazyLock<Mutex<Pool<[Toleration]>>> = LazyLock::new(|| Mutex::new(Pool::new()));
static OWNERS: LazyLock<Mutex<Pool<Owner>>> = LazyLock::new(|| Mutex::new(Pool::new()));

/// A string map (labels, node selectors).
pub type StrMap = BTreeMap<String, String>;

/// The shared copy of `s`.
pub fn str(s: &str) -> Arc<str> {
    lock(&STRS).get(&s)
}

/// The shared copy of a string map (labels of one ReplicaSet's pods are all equal).
pub fn map(m: StrMap) -> Arc<StrMap> {
    lock(&MAPS).get(&m)
}

/// The shared copy of a string map read off the wire; the empty one when it has no pairs.
pub(crate) fn pairs(p: &Pairs) -> Arc<StrMap> {
    if p.is_empty() {
        return empty_map();
    }
    lock(&MAPS).get(p)
}

/// The shared empty map.
pub fn empty_map() -> Arc<StrMap> {
    static EMPTY: LazyLock<Arc<StrMap>> = LazyLock::new(|| map(StrMap::new()));
    EMPTY.clone()
}

/// The shared copy of a toleration list (most pods carry the same defaults).
pub fn tolerations(v: Vec<Toleration>) -> Arc<[Toleration]> {
    lock(&TOLS).get(&v.as_slice())
}

/// The shared copy of a toleration list read off the wire.
pub(crate) fn wire_tolerations(v: &[super::raw_pod::Toleration]) -> Arc<[Toleration]> {
    lock(&TOLS).get(&v)
}

/// A controller reference, hashable so it can be pooled (`OwnerReference` is not `Hash`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Owner(pub OwnerReference);

impl Eq for Owner {}

impl Hash for Owner {
    fn hash<H: Hasher>(&self, h: &mut H) {
        Stored::feed(self, h);
    }
}

/// The shared copy of a controller reference (all pods of one ReplicaSet have the same).
pub fn owner(o: OwnerReference) -> Arc<Owner> {
    lock(&OWNERS).get(&Owner(o))
}

/// The shared copy of a controller reference read off the wire.
pub(crate) fn wire_owner(o: &OwnerRef) -> Arc<Owner> {
    lock(&OWNERS).get(o)
}

fn lock<T: ?Sized>(m: &'static Mutex<Pool<T>>) -> std::sync::MutexGuard<'static, Pool<T>> {
    // A panic while holding the lock leaves the set valid (inserts are atomic to it).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// How each kind of value is fed to the hasher. A stored value and its wire form feed the same
// sequence, so either finds the other.

fn feed_str(s: &str, h: &mut impl Hasher) {
    h.write(s.as_bytes());
    h.write_u8(0xff);
}

fn feed_opt(s: Option<&str>, h: &mut impl Hasher) {
    match s {
        None => h.write_u8(0),
        Some(s) => {
            h.write_u8(1);
            feed_str(s, h);
        }
    }
}

/// A string map as `len, (key, value)...` in key order (a `BTreeMap`'s, and `Pairs` is sorted).
fn feed_pairs<'s>(
    len: usize,
    pairs: impl Iterator<Item = (&'s str, &'s str)>,
    h: &mut impl Hasher,
) {
    h.write_usize(len);
    for (k, v) in pairs {
        feed_str(k, h);
        feed_str(v, h);
    }
}

/// A toleration list as `len, (key, operator, value, effect)...`.
fn feed_tolerations<'s>(
    len: usize,
    fields: impl Iterator<Item = [Option<&'s str>; 4]>,
    h: &mut impl Hasher,
) {
    h.write_usize(len);
    for f in fields.flatten() {
        feed_opt(f, h);
    }
}

fn feed_owner(
    (api_version, kind, name, uid): (&str, &str, &str, &str),
    flags: (Option<bool>, Option<bool>),
    h: &mut impl Hasher,
) {
    for s in [api_version, kind, name, uid] {
        feed_str(s, h);
    }
    flags.hash(h);
}

impl Stored for str {
    fn feed(&self, h: &mut impl Hasher) {
        feed_str(self, h);
    }
}

impl Key<str> for &str {
    fn feed(&self, h: &mut impl Hasher) {
        feed_str(self, h);
    }
    fn matches(&self, stored: &str) -> bool {
        *self == stored
    }
    fn make(&self) -> Arc<str> {
        Arc::from(*self)
    }
}

impl Stored for StrMap {
    fn feed(&self, h: &mut impl Hasher) {
        feed_pairs(self.len(), self.iter().map(|(k, v)| (&**k, &**v)), h);
    }
}

impl Key<StrMap> for StrMap {
    fn feed(&self, h: &mut impl Hasher) {
        Stored::feed(self, h);
    }
    fn matches(&self, stored: &StrMap) -> bool {
        self == stored
    }
    fn make(&self) -> Arc<StrMap> {
        Arc::new(self.clone())
    }
}

impl Key<StrMap> for Pairs<'_> {
    fn feed(&self, h: &mut impl Hasher) {
        feed_pairs(self.0.len(), self.0.iter().map(|(k, v)| (&**k, &**v)), h);
    }
    fn matches(&self, stored: &StrMap) -> bool {
        self.0.len() == stored.len()
            && self
                .0
                .iter()
                .zip(stored)
                .all(|((k, v), (sk, sv))| **k == **sk && **v == **sv)
    }
    fn make(&self) -> Arc<StrMap> {
        Arc::new(
            self.0
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }
}

impl Stored for [Toleration] {
    fn feed(&self, h: &mut impl Hasher) {
        let fields = self
            .iter()
            .map(|t| [&t.key, &t.operator, &t.value, &t.effect].map(|f| f.as_deref()));
        feed_tolerations(self.len(), fields, h);
    }
}

impl Key<[Toleration]> for &[Toleration] {
    fn feed(&self, h: &mut impl Hasher) {
        Stored::feed(*self, h);
    }
    fn matches(&self, stored: &[Toleration]) -> bool {
        *self == stored
    }
    fn make(&self) -> Arc<[Toleration]> {
        Arc::from(*self)
    }
}

impl Key<[Toleration]> for &[super::raw_pod::Toleration<'_>] {
    fn feed(&self, h: &mut impl Hasher) {
        let fields = self
            .iter()
            .map(|t| [&t.key, &t.operator, &t.value, &t.effect].map(|f| f.as_deref()));
        feed_tolerations(self.len(), fields, h);
    }
    fn matches(&self, stored: &[Toleration]) -> bool {
        let same = |a: &Option<Str>, b: &Option<String>| a.as_deref() == b.as_deref();
        self.len() == stored.len()
            && self.iter().zip(stored).all(|(w, s)| {
                same(&w.key, &s.key)
                    && same(&w.operator, &s.operator)
                    && same(&w.value, &s.value)
                    && same(&w.effect, &s.effect)
            })
    }
    fn make(&self) -> Arc<[Toleration]> {
        let owned = |s: &Option<Str>| s.as_deref().map(str::to_owned);
        self.iter()
            .map(|t| Toleration {
                key: owned(&t.key),
                operator: owned(&t.operator),
                value: owned(&t.value),
                effect: owned(&t.effect),
            })
            .collect()
    }
}

impl Stored for Owner {
    fn feed(&self, h: &mut impl Hasher) {
        let o = &self.0;
        let strs = (&*o.api_version, &*o.kind, &*o.name, &*o.uid);
        feed_owner(strs, (o.controller, o.block_owner_deletion), h);
    }
}

impl Key<Owner> for Owner {
    fn feed(&self, h: &mut impl Hasher) {
        Stored::feed(self, h);
    }
    fn matches(&self, stored: &Owner) -> bool {
        self == stored
    }
    fn make(&self) -> Arc<Owner> {
        Arc::new(self.clone())
    }
}

impl Key<Owner> for OwnerRef<'_> {
    fn feed(&self, h: &mut impl Hasher) {
        let strs = (&*self.api_version, &*self.kind, &*self.name, &*self.uid);
        feed_owner(strs, (self.controller, self.block_owner_deletion), h);
    }
    fn matches(&self, stored: &Owner) -> bool {
        let o = &stored.0;
        *self.api_version == o.api_version
            && *self.kind == o.kind
            && *self.name == o.name
            && *self.uid == o.uid
            && self.controller == o.controller
            && self.block_owner_deletion == o.block_owner_deletion
    }
    fn make(&self) -> Arc<Owner> {
        Arc::new(Owner(OwnerReference {
            api_version: self.api_version.to_string(),
            kind: self.kind.to_string(),
            name: self.name.to_string(),
            uid: self.uid.to_string(),
            controller: self.controller,
            block_owner_deletion: self.block_owner_deletion,
        }))
    }
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
    fn wire_forms_find_the_stored_values() {
        let wire: crate::cluster::raw_pod::Pod = serde_json::from_slice(
            br#"{"metadata":{"labels":{"b":"2","a":"1"},
                "ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"w",
                                    "uid":"u9","controller":true}]},
                "spec":{"tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute"}]}}"#,
        )
        .unwrap();
        let labels = StrMap::from([("a".into(), "1".into()), ("b".into(), "2".into())]);
        let m = &wire.metadata;
        assert!(Arc::ptr_eq(
            &map(labels.clone()),
            &pairs(m.labels.as_ref().unwrap())
        ));
        let mut other = labels;
        other.insert("c".into(), "3".into());
        assert!(!Arc::ptr_eq(
            &map(other),
            &pairs(m.labels.as_ref().unwrap())
        ));
        let tol = Toleration {
            key: Some("k".into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            value: None,
        };
        let from_wire = wire_tolerations(&wire.spec.tolerations);
        assert!(Arc::ptr_eq(&tolerations(vec![tol.clone()]), &from_wire));
        assert!(!Arc::ptr_eq(
            &tolerations(vec![tol.clone(), tol]),
            &from_wire
        ));
        let o = OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "w".into(),
            uid: "u9".into(),
            controller: Some(true),
            block_owner_deletion: None,
        };
        let from_wire = wire_owner(&m.owner_references.as_ref().unwrap()[0]);
        assert_eq!(from_wire.0, o);
        assert!(Arc::ptr_eq(&owner(o), &from_wire));
        assert!(Arc::ptr_eq(&pairs(&Pairs::default()), &empty_map()));
    }

    #[test]
    fn unused_values_are_swept() {
        let mut p: Pool<str> = Pool::new();
        let kept = p.get(&"kept");
        for i in 0..5000 {
            drop(p.get(&format!("gone-{i}").as_str()));
        }
        assert!(p.len() < 2100, "swept: {}", p.len());
        assert!(Arc::ptr_eq(&kept, &p.get(&"kept")));
    }
}
