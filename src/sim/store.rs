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

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub type ObjKey = (String, String);

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change, as watchers see it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The resourceVersion the change produced.
    pub rv: u64,
    pub kind: Kind,
    pub change: ChangeType,
    /// The object after the change (for deletes: its last state, with the new resourceVersion),
    /// serialised once and shared by every watcher.
    pub object: Arc<Stored>,
    /// The object before a MODIFIED change, so a filtered watch can tell an object entering or
    /// leaving its selection (ADDED / DELETED), as the real watch cache does.
    pub prev: Option<Arc<Stored>>,
}

impl Change {
    /// The changed object, decoded.
    pub fn value(&self) -> Value {
        self.object.value()
    }
}

/// Why a store operation failed; the API layer maps these to `Status` objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    NotFound {
        kind: Kind,
        name: String,
    },
    AlreadyExists {
        kind: Kind,
        name: String,
    },
    /// The requested watch resourceVersion is older than the kept history.
    Gone {
        requested: u64,
        oldest: u64,
    },
    Invalid(String),
    Conflict(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::NotFound { kind, name } => {
                write!(f, "{} \"{name}\" not found", resource_label(*kind))
            }
            StoreError::AlreadyExists { kind, name } => {
                write!(f, "{} \"{name}\" already exists", resource_label(*kind))
            }
            StoreError::Gone { requested, oldest } => {
                write!(f, "too old resource version: {requested} ({oldest})")
            }
            StoreError::Invalid(m) | StoreError::Conflict(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StoreError {}

/// `pods` or `daemonsets.apps`: how the API server names a resource in messages.
pub fn resource_label(kind: Kind) -> String {
    if kind.group().is_empty() {
        kind.plural().to_string()
    } else {
        format!("{}.{}", kind.plural(), kind.group())
    }
}

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

    /// One object, decoded.
    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Option<Arc<Value>> {
        let s = self.get_stored(kind, ns, name)?;
        Some(Arc::new(s.value()))
    }

    /// One object as stored.
    pub fn get_stored(&self, kind: Kind, ns: &str, name: &str) -> Option<Arc<Stored>> {
        let inner = self.inner.lock().unwrap();
        inner
            .stored(kind, &(ns_for(kind, ns), name.to_string()))
            .cloned()
    }

    /// All objects of a kind (in one namespace, or all), sorted by namespace and name, with the
    /// resourceVersion of the snapshot. Decodes every object: large kinds want
    /// [`Store::list_stored`].
    pub fn list(&self, kind: Kind, ns: Option<&str>) -> (u64, Vec<Arc<Value>>) {
        let (rv, items) = self.list_stored(kind, ns, |_| true);
        (rv, decode_all(&items))
    }

    /// Like [`Store::list`], keeping only objects that satisfy `keep`.
    pub fn list_where(
        &self,
        kind: Kind,
        ns: Option<&str>,
        keep: impl Fn(&Value) -> bool,
    ) -> (u64, Vec<Arc<Value>>) {
        let (rv, items) = self.list_stored(kind, ns, |_| true);
        let items = items
            .iter()
            .map(|s| s.value())
            .filter(|v| keep(v))
            .map(Arc::new)
            .collect();
        (rv, items)
    }

    /// Stored versions of a kind (in one namespace, or all) that satisfy `keep` (which sees
    /// the selectable fields and labels, not the object), sorted by namespace and name.
    pub fn list_stored(
        &self,
        kind: Kind,
        ns: Option<&str>,
        keep: impl Fn(&Stored) -> bool,
    ) -> (u64, Vec<Arc<Stored>>) {
        let inner = self.inner.lock().unwrap();
        let Some(map) = inner.objects.get(&kind) else {
            return (inner.rv, Vec::new());
        };
        let items = match ns {
            Some(ns) if kind.namespaced() => map
                .range((ns.to_string(), String::new())..)
                .take_while(|((n, _), _)| n == ns)
                .map(|(_, v)| v)
                .filter(|v| keep(v))
                .cloned()
                .collect(),
            _ => map.values().filter(|v| keep(v)).cloned().collect(),
        };
        (inner.rv, items)
    }

    /// The objects of `kind` (in `ns`) that `keep` selects, as they were at resourceVersion
    /// `at` (`resourceVersionMatch=Exact`): today's with every later change undone from the
    /// history. `Gone` when those changes are no longer all kept; `None` for a version not
    /// reached yet.
    pub fn list_stored_at(
        &self,
        kind: Kind,
        ns: Option<&str>,
        keep: impl Fn(&Stored) -> bool,
        at: u64,
    ) -> Result<Option<Vec<Arc<Stored>>>, StoreError> {
        let inner = self.inner.lock().unwrap();
        if at > inner.rv {
            return Ok(None);
        }
        if at < inner.compacted_rv {
            return Err(StoreError::Gone {
                requested: at,
                oldest: inner.compacted_rv + 1,
            });
        }
        let mut then: BTreeMap<ObjKey, Arc<Stored>> =
            inner.objects.get(&kind).cloned().unwrap_or_default();
        let later = inner.history.iter().rev().take_while(|c| c.rv > at);
        for c in later.filter(|c| c.kind == kind) {
            let key = (
                c.object.namespace().to_string(),
                c.object.name().to_string(),
            );
            match (c.change, &c.prev) {
                (ChangeType::Added, _) => {
                    then.remove(&key);
                }
                (_, Some(before)) => {
                    then.insert(key, before.clone());
                }
                (_, None) => {}
            }
        }
        let in_ns = |k: &ObjKey| match ns {
            Some(ns) if kind.namespaced() => k.0 == ns,
            _ => true,
        };
        Ok(Some(
            then.into_iter()
                .filter(|(k, v)| in_ns(k) && keep(v))
                .map(|(_, v)| v)
                .collect(),
        ))
    }

    /// Keys of every object of a kind.
    pub fn keys(&self, kind: Kind) -> Vec<ObjKey> {
        let inner = self.inner.lock().unwrap();
        inner
            .objects
            .get(&kind)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Pods bound to `node` ("" = unscheduled), optionally in one namespace, that satisfy
    /// `keep`, sorted by namespace and name, with the snapshot's resourceVersion. Uses an index.
    pub fn list_pods_on_node(
        &self,
        node: &str,
        ns: Option<&str>,
        keep: impl Fn(&Value) -> bool,
    ) -> (u64, Vec<Arc<Value>>) {
        let (rv, items) = self.pods_on_node_stored(node, ns, |_| true);
        let items = items
            .iter()
            .map(|s| s.value())
            .filter(|v| keep(v))
            .map(Arc::new)
            .collect();
        (rv, items)
    }

    /// [`Store::list_pods_on_node`] without decoding: `keep` sees the stored version.
    pub fn pods_on_node_stored(
        &self,
        node: &str,
        ns: Option<&str>,
        keep: impl Fn(&Stored) -> bool,
    ) -> (u64, Vec<Arc<Stored>>) {
        let inner = self.inner.lock().unwrap();
        let (Some(keys), Some(pods)) =
            (inner.pods_by_node.get(node), inner.objects.get(&Kind::Pod))
        else {
            return (inner.rv, Vec::new());
        };
        let items = keys
            .iter()
            .filter(|(n, _)| ns.is_none_or(|ns| ns == n))
            .filter_map(|k| pods.get(k))
            .filter(|v| keep(v))
            .cloned()
            .collect();
        (inner.rv, items)
    }

    /// Number of objects of a kind.
    pub fn count(&self, kind: Kind) -> usize {
        let inner = self.inner.lock().unwrap();
        inner.objects.get(&kind).map_or(0, |m| m.len())
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

    /// Starts a watch on `kind`.
    ///
    /// `from = None` (or `Some(0)`) replays every current object as ADDED, as the real server
    /// does for an unset or "0" resourceVersion. `Some(rv)` replays the changes after `rv`, or
    /// fails with [`StoreError::Gone`] when they are no longer all in history.
    pub fn watch(&self, kind: Kind, from: Option<u64>) -> Result<WatchStart, StoreError> {
        let inner = self.inner.lock().unwrap();
        let live = self.tx.subscribe();
        let backlog = match from {
            None | Some(0) => inner
                .objects
                .get(&kind)
                .map(|m| {
                    m.values()
                        .map(|o| {
                            Arc::new(Change {
                                rv: o.rv(),
                                kind,
                                change: ChangeType::Added,
                                object: o.clone(),
                                prev: None,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Some(rv) => {
                // A version from the future means the client saw another server (e.g. the
                // simulator restarted): answer 410 so it relists instead of trusting its cache.
                if rv < inner.compacted_rv || rv > inner.rv {
                    return Err(StoreError::Gone {
                        requested: rv,
                        oldest: inner.compacted_rv + 1,
                    });
                }
                inner
                    .history
                    .iter()
                    .filter(|c| c.rv > rv && c.kind == kind)
                    .cloned()
                    .collect()
            }
        };
        Ok(WatchStart {
            backlog,
            live,
            rv: inner.rv,
        })
    }

    /// Drops all watch history (fault injection: the next watch from an old version gets 410).
    pub fn compact(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.history.clear();
        inner.history_bytes = 0;
        inner.compacted_rv = inner.rv;
    }

    /// The oldest resourceVersion a watch may still start from.
    pub fn oldest_watchable(&self) -> u64 {
        self.inner.lock().unwrap().compacted_rv
    }

    /// Changes kept for watches to resume from, and their objects' bytes.
    pub fn history_len(&self) -> (usize, usize) {
        let inner = self.inner.lock().unwrap();
        (inner.history.len(), inner.history_bytes)
    }

    fn record(
        &self,
        inner: &mut Inner,
        kind: Kind,
        change: ChangeType,
        object: Arc<Stored>,
        prev: Option<Arc<Stored>>,
    ) {
        let c = Arc::new(Change {
            rv: inner.rv,
            kind,
            change,
            object,
            prev,
        });
        inner.history_bytes += c.object.size();
        inner.history.push_back(c.clone());
        // Bounded by count and by bytes; the newest change always stays.
        while inner.history.len() > self.history_cap
            || (inner.history_bytes > self.history_bytes_cap && inner.history.len() > 1)
        {
            if let Some(old) = inner.history.pop_front() {
                inner.history_bytes -= old.object.size();
                inner.compacted_rv = old.rv;
            }
        }
        // No receivers is fine: nobody is watching.
        let _ = self.tx.send(c);
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
mod tests {
    use super::*;

    fn store() -> Arc<Store> {
        Store::new(Arc::new(SimClock::new(1.0)), 4)
    }

    #[test]
    fn create_fills_identity_and_bumps_rv() {
        let s = store();
        let p = s
            .create(Kind::Pod, json!({"metadata": {"generateName": "web-"}}))
            .unwrap();
        assert!(p["metadata"]["name"].as_str().unwrap().starts_with("web-"));
        assert_eq!(p["metadata"]["namespace"], "default");
        assert_eq!(rv_of(&p), 2);
        assert_eq!(p["kind"], "Pod");
        let err = s.create(Kind::Pod, (*p).clone()).unwrap_err();
        assert!(matches!(err, StoreError::AlreadyExists { .. }));
    }

    #[test]
    fn pods_are_indexed_by_node() {
        let s = store();
        for (name, node) in [("a", "n1"), ("b", "n2"), ("c", "n1")] {
            s.create(
                Kind::Pod,
                json!({"metadata": {"name": name}, "spec": {"nodeName": node}}),
            )
            .unwrap();
        }
        s.create(Kind::Pod, json!({"metadata": {"name": "p"}}))
            .unwrap();
        let names = |node: &str| {
            s.list_pods_on_node(node, None, |_| true)
                .1
                .iter()
                .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("n1"), ["a", "c"]);
        assert_eq!(names(""), ["p"]);
        s.update(Kind::Pod, "default", "p", |p| {
            p["spec"]["nodeName"] = json!("n2");
            Ok(())
        })
        .unwrap();
        s.delete(Kind::Pod, "default", "a").unwrap();
        assert_eq!(names("n1"), ["c"]);
        assert_eq!(names("n2"), ["b", "p"]);
        assert!(names("").is_empty());
    }

    #[test]
    fn noop_update_keeps_resource_version() {
        let s = store();
        s.create(Kind::Node, json!({"metadata": {"name": "n"}}))
            .unwrap();
        let rv = s.resource_version();
        s.update(Kind::Node, "", "n", |_| Ok(())).unwrap();
        assert_eq!(s.resource_version(), rv);
        s.update(Kind::Node, "", "n", |o| {
            o["spec"]["unschedulable"] = json!(true);
            Ok(())
        })
        .unwrap();
        assert_eq!(s.resource_version(), rv + 1);
    }

    #[test]
    fn watch_replays_history_and_reports_gone_after_compaction() {
        let s = store();
        for i in 0..3 {
            s.create(Kind::Node, json!({"metadata": {"name": format!("n{i}")}}))
                .unwrap();
        }
        let w = s.watch(Kind::Node, Some(2)).unwrap();
        assert_eq!(
            w.backlog.iter().map(|c| c.rv).collect::<Vec<_>>(),
            vec![3, 4]
        );
        // History holds 4 changes: creating 3 more drops the oldest ones.
        for i in 3..6 {
            s.create(Kind::Node, json!({"metadata": {"name": format!("n{i}")}}))
                .unwrap();
        }
        assert!(matches!(
            s.watch(Kind::Node, Some(2)),
            Err(StoreError::Gone { .. })
        ));
        assert!(matches!(
            s.watch(Kind::Node, Some(s.resource_version() + 5)),
            Err(StoreError::Gone { .. })
        ));
        let all = s.watch(Kind::Node, None).unwrap();
        assert_eq!(all.backlog.len(), 6);
    }
}
