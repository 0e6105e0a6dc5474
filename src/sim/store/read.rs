//! Reading the store: one object, lists (now, or at an older resourceVersion from the
//! history), a node's pods, counts.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::*;

impl Store {
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
}
