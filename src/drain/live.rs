//! The pods on the drained node as one watch sees them: enough to tell when an evicted pod is
//! gone (deleted, or its name reused by a pod with a new UID).

use std::collections::HashMap;

use jiff::Timestamp;

use super::feed::FeedEvent;
use crate::cluster::rows::{NodeRow, PodRow};

type Entry = (String, Option<Timestamp>);

/// `namespace/name` → (UID, deletionTimestamp) of the drained node's pods: the plan's
/// listing, then the pod watch's events.
#[derive(Debug, Default)]
pub struct LivePods {
    node: String,
    live: HashMap<String, Entry>,
}

fn entry(p: &PodRow) -> Entry {
    (p.uid().to_string(), p.deletion_timestamp())
}

impl LivePods {
    /// Starts from a listing of the node's pods.
    pub fn new(node: &str, listed: &[PodRow]) -> Self {
        let mut l = LivePods {
            node: node.to_string(),
            live: HashMap::new(),
        };
        l.reset(listed);
        l
    }

    fn reset(&mut self, listed: &[PodRow]) {
        self.live = listed
            .iter()
            .filter(|p| self.on_node(p))
            .map(|p| (p.key(), entry(p)))
            .collect();
    }

    fn on_node(&self, p: &PodRow) -> bool {
        p.node_name.as_deref() == Some(self.node.as_str())
    }

    /// Applies one event of a pod watch (pods of other nodes are ignored).
    pub fn apply(&mut self, ev: &FeedEvent<PodRow>) {
        match ev {
            FeedEvent::Added(p) | FeedEvent::Modified(p) if self.on_node(p) => {
                self.live.insert(p.key(), entry(p));
            }
            // Only if it is the same pod (not a newer one that reused the name).
            FeedEvent::Deleted(p)
                if self
                    .live
                    .get(&p.key())
                    .is_some_and(|(uid, _)| uid == p.uid()) =>
            {
                self.live.remove(&p.key());
            }
            FeedEvent::Relisted(items) => self.reset(items),
            _ => {}
        }
    }

    /// Whether the pod `key` with `uid` is known to be gone.
    pub fn gone(&self, key: &str, uid: &str) -> bool {
        self.live.get(key).is_none_or(|(u, _)| u != uid)
    }

    /// When the pod's deletion started, per the watch.
    pub fn deletion(&self, key: &str) -> Option<Timestamp> {
        self.live.get(key).and_then(|(_, d)| *d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, node: &str) -> PodRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "d", "uid": uid},
            "spec": {"nodeName": node}, "status": {}
        }))
        .unwrap()
    }

    #[test]
    fn gone_after_delete_or_uid_change() {
        let mut l = LivePods::new("n", &[pod("a", "1", "n"), pod("b", "2", "n")]);
        assert!(!l.gone("d/a", "1"));
        assert!(l.gone("d/c", "3"), "never listed: gone");
        l.apply(&FeedEvent::Added(pod("x", "7", "other")));
        assert!(l.gone("d/x", "7"), "pods of other nodes are not tracked");
        l.apply(&FeedEvent::Added(pod("a", "9", "n")));
        assert!(l.gone("d/a", "1"), "name reused by a new pod");
        l.apply(&FeedEvent::Deleted(pod("b", "2", "n")));
        assert!(l.gone("d/b", "2"));
        // A stale delete of the old pod does not remove the new one.
        l.apply(&FeedEvent::Deleted(pod("a", "1", "n")));
        assert!(!l.gone("d/a", "9"));
        // A relist after a 410 replaces everything.
        l.apply(&FeedEvent::Relisted(vec![pod("z", "5", "n")]));
        assert!(l.gone("d/a", "9") && !l.gone("d/z", "5"));
    }

    fn node(unschedulable: bool, rv: &str) -> NodeRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n", "resourceVersion": rv},
            "spec": {"unschedulable": unschedulable}, "status": {}
        }))
        .unwrap()
    }

    #[test]
    fn uncordon_is_reported_only_after_our_cordon_was_seen() {
        let mut w = NodeWatch::after_cordon("7", "5", "");
        let m = |u, rv| FeedEvent::Modified(node(u, rv));
        assert_eq!(
            w.apply(&m(false, "6")),
            NodeSignal::Nothing,
            "before our cordon"
        );
        assert_eq!(w.apply(&m(true, "7")), NodeSignal::Nothing);
        assert_eq!(w.apply(&m(false, "8")), NodeSignal::Uncordoned);
        assert_eq!(w.apply(&FeedEvent::Relisted(vec![])), NodeSignal::Deleted);
        assert_eq!(
            w.apply(&FeedEvent::Deleted(node(true, "9"))),
            NodeSignal::Deleted
        );
        // Already cordoned, nothing patched: every later schedulable node is an uncordon.
        let mut w = NodeWatch::after_cordon("5", "5", "");
        assert_eq!(w.apply(&m(false, "6")), NodeSignal::Uncordoned);
    }

    #[test]
    fn a_node_with_another_uid_is_a_replacement() {
        let with_uid = |uid: &str| {
            let mut n = node(true, "9");
            n.meta.uid = Some(uid.into());
            n
        };
        let mut w = NodeWatch::after_cordon("5", "5", "u1");
        assert_eq!(
            w.apply(&FeedEvent::Modified(with_uid("u1"))),
            NodeSignal::Nothing
        );
        assert_eq!(
            w.apply(&FeedEvent::Relisted(vec![with_uid("u2")])),
            NodeSignal::Replaced("uid u1 at the start, u2 now".into())
        );
        assert_eq!(
            w.apply(&FeedEvent::Added(with_uid("u3"))),
            NodeSignal::Replaced("uid u1 at the start, u3 now".into())
        );
    }
}

/// What the watch on the drained node says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeSignal {
    /// The node object is gone (a Delete event, or a relist without it).
    Deleted,
    /// Someone made it schedulable again mid-drain.
    Uncordoned,
    /// A node with another uid has the name now (re-created, or another cluster behind the
    /// same server URL): the text says which uids.
    Replaced(String),
    /// Nothing worth acting on.
    Nothing,
}

/// Follows the watch on the drained node.
#[derive(Debug, Default)]
pub struct NodeWatch {
    /// The resourceVersion of our cordon, until the watch has shown it: older events show the
    /// node schedulable because it was, not because someone uncordoned it.
    cordon_rv: Option<String>,
    /// The uid of the node being drained (empty: unknown, not checked).
    uid: String,
}

impl NodeWatch {
    /// After a cordon that made the node version `cordon_rv`, on a watch that has already
    /// delivered version `seen_rv` (equal when the cordon changed nothing).
    /// `uid` is the node's, as read before the cordon.
    pub fn after_cordon(cordon_rv: &str, seen_rv: &str, uid: &str) -> Self {
        NodeWatch {
            cordon_rv: (cordon_rv != seen_rv && !cordon_rv.is_empty())
                .then(|| cordon_rv.to_string()),
            uid: uid.to_string(),
        }
    }

    /// Interprets one event of the node's watch.
    pub fn apply(&mut self, ev: &FeedEvent<NodeRow>) -> NodeSignal {
        let n = match ev {
            FeedEvent::Deleted(_) => return NodeSignal::Deleted,
            // A relist that no longer has the node: its Delete event was missed.
            FeedEvent::Relisted(v) => match v.first() {
                Some(n) => {
                    self.cordon_rv = None;
                    n
                }
                None => return NodeSignal::Deleted,
            },
            FeedEvent::Added(n) | FeedEvent::Modified(n) => n,
            FeedEvent::Failed(_) | FeedEvent::Bookmark => return NodeSignal::Nothing,
        };
        let now = n.meta.uid.as_deref().unwrap_or("");
        if !self.uid.is_empty() && now != self.uid {
            return NodeSignal::Replaced(format!("uid {} at the start, {now} now", self.uid));
        }
        if let Some(rv) = &self.cordon_rv {
            if n.meta.resource_version.as_ref() == Some(rv) {
                self.cordon_rv = None;
            }
            return NodeSignal::Nothing;
        }
        if n.unschedulable {
            NodeSignal::Nothing
        } else {
            NodeSignal::Uncordoned
        }
    }
}
