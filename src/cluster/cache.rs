//! The cluster as the UI knows it: rows per kind, kept current by watcher events. Pods, the
//! bulk, are relisted in place (mark and sweep: each relisted pod is upserted and marked, and
//! at `InitDone` the unmarked ones go), so an old and a new set are never both whole in
//! memory; the other kinds are small, so their relists are staged apart and swapped in whole.
//! Either way no stale object is left once `InitDone` has arrived.

use std::collections::{BTreeMap, HashMap, HashSet};

use kube::ResourceExt;

use super::index::{Index, Key};
use super::pod_texts::PodTexts;
use super::rows::{EventRow, NodeRow, PdbRow, PodRow};
use super::watch::{Ev, Feed};

/// Every watched object, plus indexes.
#[derive(Debug, Default)]
pub struct Cache {
    /// Nodes by name (sorted: the node pane's order).
    pub nodes: BTreeMap<String, NodeRow>,
    /// Pods by `namespace/name`.
    pub pods: Pods,
    /// Events by `namespace/name`.
    pub events: HashMap<String, EventRow>,
    /// PDBs by `namespace/name`.
    pub pdbs: HashMap<String, PdbRow>,
    /// Pod and PDB indexes.
    pub index: Index,
    staging_nodes: Option<BTreeMap<String, NodeRow>>,
    /// The mark of the pod relist in progress, if one is.
    pod_relist: Option<u32>,
    /// The last relist mark handed out.
    pod_marks: u32,
    staging_events: Option<HashMap<String, EventRow>>,
    staging_pdbs: Option<HashMap<String, PdbRow>>,
    /// Keys of pods gone from `pods` whose `last_node` entry the next prune looks at: it
    /// visits these, not every pod (at 150,000 pods a visit of all stalled the screen for
    /// 57 ms once a minute, LTO-off build).
    departed: foldhash::HashSet<Key>,
}

fn ns_key<K: kube::Resource>(k: &K) -> String {
    format!("{}/{}", k.namespace().unwrap_or_default(), k.name_any())
}

impl Cache {
    /// Applies one watcher event. Returns true when the visible data changed.
    pub fn apply(&mut self, feed: Feed) -> bool {
        // Long: one arm per kind and watcher event, the same staging steps side by side.
        match feed {
            Feed::Nodes(ev) => match ev {
                Ev::Init => stage(&mut self.staging_nodes),
                Ev::InitApply(n) => put(&mut self.staging_nodes, n.name_any(), n),
                Ev::InitPage(ns) => {
                    for n in ns {
                        put(&mut self.staging_nodes, n.name_any(), n);
                    }
                    false
                }
                Ev::InitDone => swap(&mut self.staging_nodes, &mut self.nodes),
                Ev::Apply(n) => {
                    self.nodes.insert(n.name_any(), n);
                    true
                }
                Ev::Delete(n) => self.nodes.remove(&n.name_any()).is_some(),
            },
            Feed::Pods(ev) => match ev {
                Ev::Init => {
                    self.pod_marks = self.pod_marks.wrapping_add(1);
                    self.pod_relist = Some(self.pod_marks);
                    false
                }
                // List objects are applied at once but not reported as a change: redrawing
                // per page cost more CPU than the sync itself (~200 frames over 150k pods).
                // `InitDone` reports the whole list.
                Ev::InitApply(p) => {
                    self.upsert_pod(p);
                    false
                }
                Ev::InitPage(ps) => {
                    for p in ps {
                        self.upsert_pod(p);
                    }
                    false
                }
                Ev::Apply(p) => {
                    self.upsert_pod(p);
                    true
                }
                Ev::InitDone => self.sweep_pods(),
                Ev::Delete(p) => match self.pods.remove(p.shared_key()) {
                    Some(old) => {
                        self.index.remove_pod(&old);
                        self.departed.insert(old.shared_key().clone());
                        true
                    }
                    None => false,
                },
            },
            Feed::Events(ev) => match ev {
                Ev::Init => stage(&mut self.staging_events),
                Ev::InitApply(e) => put(&mut self.staging_events, ns_key(&e), e),
                Ev::InitPage(es) => {
                    for e in es {
                        put(&mut self.staging_events, ns_key(&e), e);
                    }
                    false
                }
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
                Ev::InitPage(ps) => {
                    for p in ps {
                        put(&mut self.staging_pdbs, ns_key(&p), p);
                    }
                    false
                }
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

    /// Inserts or replaces a pod, marked as seen by the relist in progress (if any).
    fn upsert_pod(&mut self, mut p: PodRow) {
        p.settle();
        let mark = self.pod_relist.unwrap_or(self.pod_marks);
        // A relist lists nearly every pod as the cache already has it: those keep their row
        // and index entries, so a relist neither reallocates every row nor takes every pod
        // out of the indexes and puts it back.
        if self.pods.keep_if_same(&mut p, mark) {
            return;
        }
        p.mark = mark;
        if let Some(old) = self.pods.remove(p.shared_key()) {
            self.index.remove_pod(&old);
            // Keep the key the indexes (`last_node`) already hold: one copy per pod.
            p.share_key(old.shared_key());
        }
        self.index.add_pod(&p, &self.pdbs);
        self.pods.insert(p);
    }

    /// Ends a pod relist: the pods it did not list are gone. Returns whether any were.
    fn sweep_pods(&mut self) -> bool {
        let Some(mark) = self.pod_relist.take() else {
            return false;
        };
        let stale: Vec<Key> = self
            .pods
            .values()
            .filter(|p| p.mark != mark)
            .map(|p| p.shared_key().clone())
            .collect();
        for k in stale {
            if let Some(old) = self.pods.remove(&k) {
                self.index.remove_pod(&old);
            }
            self.departed.insert(k);
        }
        // The first list ends here too: whatever was applied is now complete.
        true
    }

    /// Forgets where departed pods ran once no cached event mentions them: `last_node` keeps
    /// a gone pod's node only so its events stay with the node, and would otherwise grow with
    /// every pod a long session sees come and go. Returns how many entries went.
    pub fn prune_departed(&mut self) -> usize {
        if self.departed.is_empty() {
            return 0;
        }
        let mentioned: HashSet<String> = self
            .events
            .values()
            .filter(|e| e.object_kind == "Pod")
            .map(|e| {
                format!(
                    "{}/{}",
                    e.object_namespace.as_deref().unwrap_or(""),
                    e.object_name
                )
            })
            .collect();
        let before = self.index.last_node.len();
        let (pods, last_node) = (&self.pods, &mut self.index.last_node);
        // A pod back under its name is live again; a mentioned one is looked at next time.
        self.departed.retain(|k| {
            if pods.contains_key(k) {
                return false;
            }
            if mentioned.contains(&**k) {
                return true;
            }
            last_node.remove(k);
            false
        });
        before - self.index.last_node.len()
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

/// The pods, by `namespace/name`. Rows are boxed so the table's spare capacity costs a
/// pointer per slot, not a whole row.
#[derive(Debug, Default)]
pub struct Pods {
    map: foldhash::HashMap<Key, Box<PodRow>>,
    /// The strings their STATUS, NODE and message cells show, kept with every change.
    texts: PodTexts,
}

impl Pods {
    /// The pod stored under `key` (`namespace/name`).
    pub fn get(&self, key: &str) -> Option<&PodRow> {
        self.map.get(key).map(|b| &**b)
    }

    /// Whether a pod is stored under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Number of pods.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every pod, in no particular order.
    pub fn values(&self) -> impl Iterator<Item = &PodRow> {
        self.map.values().map(|b| &**b)
    }

    /// Every pod with its key, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &PodRow)> {
        self.map.iter().map(|(k, b)| (k, &**b))
    }

    /// Stores `p` under its key, returning the pod it replaces.
    pub fn insert(&mut self, p: PodRow) -> Option<PodRow> {
        self.texts.add(p.shown_texts());
        let old = self.map.insert(p.shared_key().clone(), Box::new(p))?;
        self.texts.remove(old.shown_texts());
        Some(*old)
    }

    /// Keeps the stored row of `p`'s pod if it holds the same facts as `p` (the relist mark
    /// aside), marking it `mark`; returns whether it did.
    pub(crate) fn keep_if_same(&mut self, p: &mut PodRow, mark: u32) -> bool {
        let Some(old) = self.map.get_mut(p.shared_key()) else {
            return false;
        };
        let own = std::mem::replace(&mut p.mark, old.mark);
        let same = **old == *p;
        p.mark = own;
        if same {
            old.mark = mark;
        }
        same
    }

    /// Removes the pod stored under `key`.
    pub fn remove(&mut self, key: &str) -> Option<PodRow> {
        let old = self.map.remove(key)?;
        self.texts.remove(old.shown_texts());
        Some(*old)
    }

    /// Every distinct STATUS reason, NODE name and unschedulable message some pod shows
    /// (see [`PodTexts`]).
    pub fn shown_texts(&self) -> impl Iterator<Item = &str> {
        self.texts.iter()
    }
}

impl std::ops::Index<&str> for Pods {
    type Output = PodRow;
    fn index(&self, key: &str) -> &PodRow {
        self.get(key).expect("no pod under this key")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::app::fixtures::{event, pdb, pod};

    fn pods(c: &mut Cache, evs: Vec<Ev<PodRow>>) {
        for e in evs {
            c.apply(Feed::Pods(e));
        }
    }

    fn names(c: &Cache) -> Vec<&str> {
        let mut v: Vec<&str> = c.pods.values().map(|p| p.name()).collect();
        v.sort();
        v
    }

    /// A relist that lists a pod as the cache has it keeps the cached row, which stays; a
    /// pod listed with other facts gets the new row.
    #[test]
    fn a_relist_keeps_the_row_of_a_pod_it_lists_unchanged() {
        let mut c = Cache::default();
        let mut a = pod("d", "web-a-1", Some("n0"), "Running", 1);
        a.image = Some(Arc::from("web:1"));
        let b = pod("d", "web-b-1", Some("n0"), "Running", 1);
        pods(
            &mut c,
            vec![
                Ev::Init,
                Ev::InitPage(vec![a.clone(), b.clone()]),
                Ev::InitDone,
            ],
        );
        let cached = c.pods["d/web-a-1"].image.clone().unwrap();
        // The same facts in a row of its own, as a relist decodes them.
        let mut a2 = a.clone();
        a2.image = Some(Arc::from("web:1"));
        let mut b2 = b.clone();
        b2.restarts = 3;
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitPage(vec![a2, b2]), Ev::InitDone],
        );
        let kept = c.pods["d/web-a-1"].image.as_ref().unwrap();
        assert!(Arc::ptr_eq(kept, &cached), "the cached row was replaced");
        assert_eq!(c.pods["d/web-b-1"].restarts, 3);
        assert_eq!(
            names(&c),
            ["web-a-1", "web-b-1"],
            "the kept row survives the sweep"
        );
        assert_eq!(c.index.load["n0"].pods, 2);
    }

    #[test]
    fn relist_in_place_drops_what_it_did_not_list() {
        let mut c = Cache::default();
        c.apply(Feed::Pdbs(Ev::InitPage(vec![pdb("d", "web", "web", 1, 0)])));
        c.apply(Feed::Pdbs(Ev::InitDone));
        let a = pod("d", "web-a-1", Some("n0"), "Running", 1);
        let b = pod("d", "web-b-1", Some("n0"), "Running", 1);
        let p = pod("d", "web-p-1", None, "Pending", 1);
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitPage(vec![a, b, p]), Ev::InitDone],
        );
        assert_eq!(names(&c), ["web-a-1", "web-b-1", "web-p-1"]);
        assert_eq!(c.index.pdb_pods["d/web"].len(), 3);
        // A relist during which b and the pending pod were deleted and c was created.
        pods(&mut c, vec![Ev::Init]);
        let a2 = pod("d", "web-a-1", Some("n1"), "Running", 1);
        let new = pod("d", "web-c-1", Some("n0"), "Running", 1);
        pods(&mut c, vec![Ev::InitApply(a2), Ev::InitPage(vec![new])]);
        // Until InitDone the old objects are still there (the UI says "resyncing").
        assert_eq!(c.pods.len(), 4);
        pods(&mut c, vec![Ev::InitDone]);
        assert_eq!(names(&c), ["web-a-1", "web-c-1"], "stale pods are gone");
        assert_eq!(c.index.all.len(), 2);
        assert!(c.index.pending.is_empty());
        assert_eq!(c.index.load["n0"].pods, 1);
        assert_eq!(c.index.load["n1"].pods, 1);
        assert_eq!(c.index.pdb_pods["d/web"].len(), 2);
        assert_eq!(c.index.by_ns["d"].len(), 2);
        let on = |n: &str| {
            c.index
                .pods_on(n)
                .map(|k| k.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(on("n0"), ["d/web-c-1"]);
        assert_eq!(on("n1"), ["d/web-a-1"]);
        // The index matches one built from scratch.
        let mut fresh = Index::default();
        fresh.rebuild(&c.pods, &c.pdbs);
        assert_eq!(fresh.by_node, c.index.by_node);
        assert_eq!(fresh.all, c.index.all);
        assert_eq!(fresh.pdb_pods, c.index.pdb_pods);
        // A relist that lists nothing empties the set.
        pods(&mut c, vec![Ev::Init, Ev::InitDone]);
        assert!(c.pods.is_empty());
        assert!(c.index.all.is_empty() && c.index.by_node.is_empty());
    }

    #[test]
    fn departed_pods_are_forgotten_once_no_event_mentions_them() {
        let mut c = Cache::default();
        let a = pod("d", "a", Some("n0"), "Running", 1);
        let b = pod("d", "b", Some("n0"), "Running", 1);
        let live = pod("d", "c", Some("n1"), "Running", 1);
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitApply(a.clone()), Ev::InitApply(b.clone())],
        );
        pods(&mut c, vec![Ev::InitApply(live), Ev::InitDone]);
        pods(&mut c, vec![Ev::Delete(a), Ev::Delete(b)]);
        let ev = event("d", "Pod", "b", "Killing", false, "", 5);
        c.apply(Feed::Events(Ev::Apply(ev.clone())));
        assert_eq!(c.index.last_node.len(), 3, "gone pods are remembered first");
        assert_eq!(c.prune_departed(), 1, "a: gone and unmentioned");
        assert!(c.index.last_node.contains_key("d/b"), "b's event keeps it");
        assert!(c.index.last_node.contains_key("d/c"), "live pods stay");
        // The same event (same name) now about another pod.
        let mut moved = event("d", "Pod", "c", "Killing", false, "", 5);
        moved.meta.name = ev.meta.name.clone();
        c.apply(Feed::Events(Ev::Apply(moved)));
        assert_eq!(c.prune_departed(), 1, "b's event now names another pod");
        assert_eq!(c.index.last_node.len(), 1);
    }

    #[test]
    fn pods_a_relist_misses_or_that_come_back_are_pruned_as_departures() {
        let mut c = Cache::default();
        let a = pod("d", "a", Some("n0"), "Running", 1);
        let b = pod("d", "b", Some("n0"), "Running", 1);
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitApply(a.clone()), Ev::InitApply(b.clone())],
        );
        pods(&mut c, vec![Ev::InitDone]);
        assert_eq!(c.prune_departed(), 0, "nothing departed");
        // A relist without b: b is swept, then forgotten.
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitApply(a.clone()), Ev::InitDone],
        );
        assert_eq!(c.index.last_node.len(), 2);
        assert_eq!(c.prune_departed(), 1);
        assert!(!c.index.last_node.contains_key("d/b"));
        // a goes and comes back on another node before the prune: it is live, kept.
        pods(&mut c, vec![Ev::Delete(a.clone())]);
        let back = pod("d", "a", Some("n1"), "Running", 1);
        pods(&mut c, vec![Ev::Apply(back)]);
        assert_eq!(c.prune_departed(), 0);
        assert_eq!(c.index.last_node.get("d/a").map(|n| &**n), Some("n1"));
        // Nothing is left to look at.
        assert!(c.departed.is_empty());
    }

    #[test]
    fn a_pod_key_is_stored_once() {
        let mut c = Cache::default();
        let p = pod("d", "web-a-1", Some("n0"), "Running", 1);
        pods(
            &mut c,
            vec![Ev::Init, Ev::InitApply(p.clone()), Ev::InitDone],
        );
        let key = c.pods.get("d/web-a-1").unwrap().shared_key().clone();
        // Updates keep the same key allocation everywhere (`last_node` outlives the pod).
        pods(&mut c, vec![Ev::Apply(p.clone()), Ev::Apply(p)]);
        let row = c.pods.get("d/web-a-1").unwrap();
        assert!(Arc::ptr_eq(row.shared_key(), &key));
        assert!(Arc::ptr_eq(c.index.all.first().unwrap(), &key));
        let (k, n) = c.index.last_node.iter().next().unwrap();
        assert!(Arc::ptr_eq(k, &key));
        // Decoded rows share their repeated strings.
        let other = pod("d", "web-b-1", Some("n0"), "Running", 1);
        assert!(Arc::ptr_eq(
            other.shared_namespace(),
            row.shared_namespace()
        ));
        assert!(Arc::ptr_eq(
            other.node_name.as_ref().unwrap(),
            row.node_name.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(n, row.node_name.as_ref().unwrap()));
        assert!(row.resource_version().is_none(), "watcher metadata dropped");
    }
}
