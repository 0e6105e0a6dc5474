//! The simulator's object store: every object version serialised once ([`Stored`]: JSON bytes
//! plus the fields selectors and indexes read), one global resourceVersion, and a history of
//! changes, bounded by count and bytes, from which watches are served.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::clock::{SimClock, format_time};
use super::kinds::Kind;
pub use super::stored::Stored;

mod history;
mod read;
mod types;

pub use types::*;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub type ObjKey = (String, String);

/// Bytes of object versions the watch history keeps at most (besides its count bound): under
/// churn every change supersedes a version that only the history still holds.
pub const HISTORY_BYTES: usize = 32 << 20;

/// Changes the live feed buffers for slow watchers (each pins the version it carries; a
/// watcher further behind gets 410 Gone and relists).
const FEED_CAPACITY: usize = 8_192;

struct Inner {
    rv: u64,
    objects: HashMap<Kind, BTreeMap<ObjKey, Arc<Stored>>>,
    history: VecDeque<Arc<Change>>,
    /// [`Stored::size`] of the objects in `history`.
    history_bytes: usize,
    /// Every change with rv <= this has been dropped from history.
    compacted_rv: u64,
    uid_seq: u64,
    /// Pod keys by `spec.nodeName` ("" for unscheduled pods): `fieldSelector=spec.nodeName=X`
    /// (kubectl drain, kubelets) must not scan every pod of a large cluster.
    pods_by_node: HashMap<String, BTreeSet<ObjKey>>,
}

fn node_name(pod: &Stored) -> &str {
    pod.field("spec.nodeName").unwrap_or("")
}

impl Inner {
    fn index_pod(&mut self, key: &ObjKey, old: Option<&Stored>, new: Option<&Stored>) {
        let (old_node, new_node) = (old.map(node_name), new.map(node_name));
        if old_node == new_node {
            return;
        }
        if let Some(n) = old_node
            && let Some(set) = self.pods_by_node.get_mut(n)
        {
            set.remove(key);
            if set.is_empty() {
                self.pods_by_node.remove(n);
            }
        }
        if let Some(n) = new_node {
            self.pods_by_node
                .entry(n.to_string())
                .or_default()
                .insert(key.clone());
        }
    }

    fn stored(&self, kind: Kind, key: &ObjKey) -> Option<&Arc<Stored>> {
        self.objects.get(&kind)?.get(key)
    }
}

/// The in-memory store. Cheap to share (`Arc<Store>`); every method takes `&self`.
pub struct Store {
    inner: Mutex<Inner>,
    tx: broadcast::Sender<Arc<Change>>,
    clock: Arc<SimClock>,
    history_cap: usize,
    history_bytes_cap: usize,
}

/// A watch's starting point: past changes to replay, then the live feed.
pub struct WatchStart {
    pub backlog: Vec<Arc<Change>>,
    pub live: broadcast::Receiver<Arc<Change>>,
    /// The store's resourceVersion when the watch started.
    pub rv: u64,
}

/// `current` changed by `f`, with its identity kept and its generation moved as the server
/// moves it.
fn next_version(
    kind: Kind,
    current: &Value,
    f: impl FnOnce(&mut Value) -> Result<(), StoreError>,
) -> Result<Value, StoreError> {
    let mut next = current.clone();
    f(&mut next)?;
    // Identity fields are not the caller's to change.
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "resourceVersion",
    ] {
        match current["metadata"].get(field) {
            Some(v) => next["metadata"][field] = v.clone(),
            None => {
                if let Some(m) = next["metadata"].as_object_mut() {
                    m.remove(field);
                }
            }
        }
    }
    if has_generation(kind) {
        let bump = current.get("spec") != next.get("spec");
        let generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
        next["metadata"]["generation"] = json!(generation + i64::from(bump));
    }
    Ok(next)
}

/// Kinds whose `metadata.generation` moves when `spec` changes (pods had none before 1.33).
fn has_generation(kind: Kind) -> bool {
    !matches!(
        kind,
        Kind::Event
            | Kind::Namespace
            | Kind::Node
            | Kind::Pod
            | Kind::Service
            | Kind::Endpoints
            | Kind::ConfigMap
            | Kind::Secret
            | Kind::ServiceAccount
            | Kind::Lease
    )
}

/// Decodes stored versions.
pub fn decode_all(items: &[Arc<Stored>]) -> Vec<Arc<Value>> {
    items.iter().map(|s| Arc::new(s.value())).collect()
}

impl Store {
    /// An empty store keeping the last `history_cap` changes (and at most [`HISTORY_BYTES`]
    /// of them) for watches.
    pub fn new(clock: Arc<SimClock>, history_cap: usize) -> Arc<Self> {
        Self::with_history(clock, history_cap, HISTORY_BYTES)
    }

    /// Like [`Store::new`] with the history's byte bound given.
    pub fn with_history(clock: Arc<SimClock>, history_cap: usize, bytes: usize) -> Arc<Self> {
        let (tx, _) = broadcast::channel(FEED_CAPACITY);
        Arc::new(Self {
            inner: Mutex::new(Inner {
                rv: 1,
                objects: HashMap::new(),
                history: VecDeque::new(),
                history_bytes: 0,
                compacted_rv: 0,
                uid_seq: 0,
                pods_by_node: HashMap::new(),
            }),
            tx,
            clock,
            history_cap: history_cap.max(1),
            history_bytes_cap: bytes,
        })
    }

    /// The simulated clock.
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.clock
    }

    /// The current (latest) resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.inner.lock().unwrap().rv
    }

    /// Creates an object. Fills `apiVersion`, `kind`, `uid`, `resourceVersion`,
    /// `creationTimestamp` (unless given) and a name from `generateName`.
    pub fn create(&self, kind: Kind, mut obj: Value) -> Result<Arc<Value>, StoreError> {
        self.create_in_place(kind, &mut obj)?;
        Ok(Arc::new(obj))
    }

    /// [`Store::create`] filling `obj` in place and returning the stored version: a generator
    /// can reuse one object for many (clearing `metadata.uid` between them), so none is cloned.
    pub fn create_in_place(&self, kind: Kind, obj: &mut Value) -> Result<Arc<Stored>, StoreError> {
        if !obj.is_object() {
            return Err(StoreError::Invalid("object must be a JSON object".into()));
        }
        let now = format_time(self.clock.now());
        let mut inner = self.inner.lock().unwrap();
        inner.uid_seq += 1;
        let uid_seq = inner.uid_seq;
        obj["apiVersion"] = json!(kind.api_version());
        obj["kind"] = json!(kind.name());
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let meta = obj["metadata"].as_object_mut().unwrap();
        let name = match meta.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => match meta.get("generateName").and_then(Value::as_str) {
                Some(prefix) => {
                    let n = format!("{prefix}{}", random_suffix(5));
                    meta.insert("name".into(), json!(n));
                    n
                }
                None => {
                    return Err(StoreError::Invalid(
                        "metadata.name: Required value: name or generateName is required".into(),
                    ));
                }
            },
        };
        let ns = if kind.namespaced() {
            let ns = meta
                .get("namespace")
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string();
            meta.insert("namespace".into(), json!(ns));
            ns
        } else {
            meta.remove("namespace");
            String::new()
        };
        let key = (ns, name.clone());
        if inner.stored(kind, &key).is_some() {
            return Err(StoreError::AlreadyExists { kind, name });
        }
        if !meta.contains_key("uid") {
            meta.insert("uid".into(), json!(make_uid(uid_seq)));
        }
        if !meta.contains_key("creationTimestamp") {
            meta.insert("creationTimestamp".into(), json!(now));
        }
        if has_generation(kind) {
            meta.insert("generation".into(), json!(1));
        }
        inner.rv += 1;
        let rv = inner.rv;
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
        let stored = Arc::new(Stored::new(kind, obj));
        if kind == Kind::Pod {
            inner.index_pod(&key, None, Some(&stored));
        }
        inner
            .objects
            .entry(kind)
            .or_default()
            .insert(key, stored.clone());
        self.record(&mut inner, kind, ChangeType::Added, stored.clone(), None);
        Ok(stored)
    }

    /// What `update` would make of an object, changing nothing (a `dryRun=All` update: the
    /// server's whole update path, generation included, without storing).
    pub fn preview_update(
        &self,
        kind: Kind,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value) -> Result<(), StoreError>,
    ) -> Result<Arc<Value>, StoreError> {
        let current = self
            .get(kind, ns, name)
            .ok_or_else(|| StoreError::NotFound {
                kind,
                name: name.to_string(),
            })?;
        next_version(kind, &current, f).map(Arc::new)
    }

    /// Changes an object in place through `f`. Emits MODIFIED only when something changed
    /// (a no-op update keeps the resourceVersion, as the real server does).
    pub fn update(
        &self,
        kind: Kind,
        ns: &str,
        name: &str,
        f: impl FnOnce(&mut Value) -> Result<(), StoreError>,
    ) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.inner.lock().unwrap();
        let key = (ns_for(kind, ns), name.to_string());
        let stored = inner
            .stored(kind, &key)
            .cloned()
            .ok_or_else(|| StoreError::NotFound {
                kind,
                name: name.to_string(),
            })?;
        let current = stored.value();
        let mut next = next_version(kind, &current, f)?;
        if next == current {
            return Ok(Arc::new(current));
        }
        inner.rv += 1;
        let rv = inner.rv;
        next["metadata"]["resourceVersion"] = json!(rv.to_string());
        let new = Arc::new(Stored::new(kind, &next));
        if kind == Kind::Pod {
            inner.index_pod(&key, Some(&stored), Some(&new));
        }
        inner
            .objects
            .get_mut(&kind)
            .unwrap()
            .insert(key, new.clone());
        self.record(&mut inner, kind, ChangeType::Modified, new, Some(stored));
        Ok(Arc::new(next))
    }

    /// Removes an object for good (the grace period, if any, is the caller's business).
    pub fn delete(&self, kind: Kind, ns: &str, name: &str) -> Result<Arc<Value>, StoreError> {
        let mut inner = self.inner.lock().unwrap();
        let key = (ns_for(kind, ns), name.to_string());
        let removed = inner
            .objects
            .get_mut(&kind)
            .and_then(|m| m.remove(&key))
            .ok_or_else(|| StoreError::NotFound {
                kind,
                name: name.to_string(),
            })?;
        if kind == Kind::Pod {
            inner.index_pod(&key, Some(&removed), None);
        }
        inner.rv += 1;
        let rv = inner.rv;
        let mut last = removed.value();
        last["metadata"]["resourceVersion"] = json!(rv.to_string());
        let stored = Arc::new(Stored::new(kind, &last));
        // The removed version stays with the change: a list at an older resourceVersion
        // (`resourceVersionMatch=Exact`) puts it back as it was.
        self.record(&mut inner, kind, ChangeType::Deleted, stored, Some(removed));
        Ok(Arc::new(last))
    }
}

fn ns_for(kind: Kind, ns: &str) -> String {
    if kind.namespaced() {
        ns.to_string()
    } else {
        String::new()
    }
}

/// The numeric resourceVersion of an object (0 when absent).
pub fn rv_of(obj: &Value) -> u64 {
    obj["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn make_uid(seq: u64) -> String {
    let r: u64 = rand::random();
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        (r >> 32) as u32,
        (r >> 16) as u16,
        (r & 0xfff) as u16,
        (seq >> 48) as u16 & 0xfff,
        seq & 0xffff_ffff_ffff
    )
}

/// A random suffix in the alphabet Kubernetes uses for generated names (no vowels, no 0/1/3).
pub fn random_suffix(len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..len)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests;
