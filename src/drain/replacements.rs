//! Replacement tracking: new pods of the same controller as an evicted pod, seen through the
//! drain's one pod watch, reported as [`DrainEvent::Replacement`]. The watch starts at the
//! version of the plan's listing, so a pod it reports as added was created after the drain
//! began: no listing of "pods that were already there" is needed.

use std::collections::HashMap;

use super::events::DrainEvent;
use super::feed::FeedEvent;
use crate::cluster::rows::PodRow;

/// A replacement's node, phase and readiness, as last reported.
type Seen = (Option<String>, String, bool);

/// Matches new pods to evicted ones (by controller UID, first come first served).
#[derive(Debug, Default)]
pub struct Replacements {
    node: String,
    /// Controller UID → evicted pods (`namespace/name`) still without a replacement.
    waiting: HashMap<String, Vec<String>>,
    /// New pod UID → (evicted key, last reported state).
    seen: HashMap<String, (String, Seen)>,
}

impl Replacements {
    /// `evicted`: (key, controller UID) of each pod to evict.
    pub fn new(node: &str, evicted: &[(String, String)]) -> Self {
        let mut waiting: HashMap<String, Vec<String>> = HashMap::new();
        for (key, ctrl) in evicted {
            waiting.entry(ctrl.clone()).or_default().push(key.clone());
        }
        Replacements {
            node: node.to_string(),
            waiting,
            seen: HashMap::new(),
        }
    }

    /// Turns a watch event into a `Replacement` event when it concerns a replacement.
    /// Only pods first seen `Added` can be replacements: a pod first seen modified existed
    /// before the watch started (or was created while a 410 gap hid it: that replacement is
    /// not reported, which is harmless as they are informational).
    pub fn on_event(&mut self, ev: &FeedEvent<PodRow>) -> Option<DrainEvent> {
        let (p, added) = match ev {
            FeedEvent::Added(p) => (p, true),
            FeedEvent::Modified(p) => (p, false),
            _ => return None,
        };
        let uid = p.uid().to_string();
        if p.node_name.as_deref() == Some(self.node.as_str()) {
            return None;
        }
        let now = (
            p.node_name.as_deref().map(str::to_string),
            p.phase.as_str().to_string(),
            p.ready,
        );
        let evicted = match self.seen.get_mut(&uid) {
            Some((key, last)) => {
                if *last == now {
                    return None;
                }
                *last = now.clone();
                key.clone()
            }
            None if !added => return None,
            None => {
                let ctrl = p.controller()?.uid.clone();
                let list = self.waiting.get_mut(&ctrl)?;
                if list.is_empty() {
                    return None;
                }
                let key = list.remove(0);
                self.seen.insert(uid, (key.clone(), now.clone()));
                key
            }
        };
        Some(DrainEvent::Replacement {
            node: self.node.clone(),
            evicted,
            pod: p.key(),
            on_node: now.0,
            phase: now.1,
            ready: now.2,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, node: Option<&str>, owner: &str) -> PodRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "d", "uid": uid,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                    "uid": owner, "controller": true}]},
            "spec": {"nodeName": node}, "status": {"phase": "Pending"}
        }))
        .unwrap()
    }

    fn replaced(e: Option<DrainEvent>) -> Option<(String, String, Option<String>)> {
        match e? {
            DrainEvent::Replacement {
                evicted,
                pod,
                on_node,
                ..
            } => Some((evicted, pod, on_node)),
            _ => None,
        }
    }

    #[test]
    fn only_new_pods_of_the_same_controller_elsewhere() {
        let mut r = Replacements::new("n0", &[("d/a".into(), "rs1".into())]);
        // Existed before (first seen modified), on the drained node, or another controller.
        assert!(
            r.on_event(&FeedEvent::Modified(pod("old", "1", Some("n1"), "rs1")))
                .is_none()
        );
        assert!(
            r.on_event(&FeedEvent::Added(pod("back", "2", Some("n0"), "rs1")))
                .is_none()
        );
        assert!(
            r.on_event(&FeedEvent::Added(pod("other", "3", None, "rs2")))
                .is_none()
        );
        // Created unscheduled, then bound: reported both times.
        let first = replaced(r.on_event(&FeedEvent::Added(pod("new", "4", None, "rs1"))));
        assert_eq!(first, Some(("d/a".into(), "d/new".into(), None)));
        let bound = replaced(r.on_event(&FeedEvent::Modified(pod("new", "4", Some("n1"), "rs1"))));
        assert_eq!(
            bound,
            Some(("d/a".into(), "d/new".into(), Some("n1".into())))
        );
        // Nothing changed: no event; and the evicted pod has its replacement already.
        assert!(
            r.on_event(&FeedEvent::Modified(pod("new", "4", Some("n1"), "rs1")))
                .is_none()
        );
        assert!(
            r.on_event(&FeedEvent::Added(pod("more", "5", None, "rs1")))
                .is_none()
        );
    }
}
