//! The pods on the drained node as one watch sees them: enough to tell when an evicted pod is
//! gone (deleted, or its name reused by a pod with a new UID).

use std::collections::HashMap;

use jiff::Timestamp;
use kube::runtime::watcher::Event;

use crate::cluster::rows::PodRow;

type Entry = (String, Option<Timestamp>);

/// `namespace/name` → (UID, deletionTimestamp), kept from watch events.
#[derive(Debug, Default)]
pub struct LivePods {
    live: HashMap<String, Entry>,
    init: Option<HashMap<String, Entry>>,
    /// The first full listing has arrived (before that, absence means nothing).
    pub synced: bool,
}

impl LivePods {
    /// Applies one watcher event.
    pub fn apply(&mut self, ev: Event<PodRow>) {
        let entry = |p: &PodRow| (p.uid().to_string(), p.deletion_timestamp());
        match ev {
            Event::Init => self.init = Some(HashMap::new()),
            Event::InitApply(p) => {
                self.init
                    .get_or_insert_with(HashMap::new)
                    .insert(p.key(), entry(&p));
            }
            Event::InitDone => {
                self.live = self.init.take().unwrap_or_default();
                self.synced = true;
            }
            Event::Apply(p) => {
                self.live.insert(p.key(), entry(&p));
            }
            Event::Delete(p) => {
                // Only if it is the same pod (not a newer one that reused the name).
                if self
                    .live
                    .get(&p.key())
                    .is_some_and(|(uid, _)| uid == p.uid())
                {
                    self.live.remove(&p.key());
                }
            }
        }
    }

    /// Whether the pod `key` with `uid` is known to be gone.
    pub fn gone(&self, key: &str, uid: &str) -> bool {
        self.synced && self.live.get(key).is_none_or(|(u, _)| u != uid)
    }

    /// When the pod's deletion started, per the watch.
    pub fn deletion(&self, key: &str) -> Option<Timestamp> {
        self.live.get(key).and_then(|(_, d)| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str) -> PodRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "d", "uid": uid}, "spec": {}, "status": {}
        }))
        .unwrap()
    }

    #[test]
    fn gone_after_delete_or_uid_change() {
        let mut l = LivePods::default();
        l.apply(Event::Init);
        l.apply(Event::InitApply(pod("a", "1")));
        l.apply(Event::InitApply(pod("b", "2")));
        assert!(!l.gone("d/a", "1"), "not synced yet");
        l.apply(Event::InitDone);
        assert!(!l.gone("d/a", "1"));
        assert!(l.gone("d/c", "3"), "never listed: gone");
        l.apply(Event::Apply(pod("a", "9")));
        assert!(l.gone("d/a", "1"), "name reused by a new pod");
        l.apply(Event::Delete(pod("b", "2")));
        assert!(l.gone("d/b", "2"));
        // A stale delete of the old pod does not remove the new one.
        l.apply(Event::Delete(pod("a", "1")));
        assert!(!l.gone("d/a", "9"));
    }
}

/// What the watch on the drained node says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSignal {
    /// The node object is gone (a Delete event, or a relist without it).
    Deleted,
    /// Someone made it schedulable again mid-drain.
    Uncordoned,
    /// Nothing worth acting on.
    Nothing,
}

/// Follows the watch on the drained node.
#[derive(Debug, Default)]
pub struct NodeWatch {
    listed: bool,
}

impl NodeWatch {
    /// Interprets one watcher event.
    pub fn apply(&mut self, ev: Event<crate::cluster::rows::NodeRow>) -> NodeSignal {
        match ev {
            Event::Delete(_) => NodeSignal::Deleted,
            Event::Init => {
                self.listed = false;
                NodeSignal::Nothing
            }
            // A relist that no longer has the node: its Delete event was missed.
            Event::InitDone if !self.listed => NodeSignal::Deleted,
            Event::InitDone => NodeSignal::Nothing,
            Event::InitApply(n) | Event::Apply(n) => {
                self.listed = true;
                if n.unschedulable {
                    NodeSignal::Nothing
                } else {
                    NodeSignal::Uncordoned
                }
            }
        }
    }
}
