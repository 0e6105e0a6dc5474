//! Replacement tracking: new pods of the workloads a drain evicts from, seen through the
//! drain's one pod watch, reported as [`DrainEvent::Replacement`] per workload. The watch
//! starts at the version of the plan's listing, so a pod it reports as added was created after
//! the drain began: no listing of "pods that were already there" is needed.
//!
//! A replacement is never paired with one evicted pod: a controller creates a pod to restore
//! its replica count, and the API does not say which pod it stands in for. Pairing them first
//! come first served credited replacements to pods that were never evicted (issue 8).

use std::collections::{HashMap, HashSet};

use super::events::{DrainEvent, workload};
use super::feed::FeedEvent;
use crate::cluster::rows::PodRow;

/// A replacement's node, phase and readiness, as last reported.
type Seen = (Option<String>, String, bool);

/// Follows new pods of the evicted pods' controllers.
#[derive(Debug, Default)]
pub struct Replacements {
    node: String,
    /// UIDs of the controllers of the pods this drain evicts.
    controllers: HashSet<String>,
    /// New pod UID → (workload, last reported state).
    seen: HashMap<String, (String, Seen)>,
}

impl Replacements {
    /// `evicted`: (key, controller UID) of each pod to evict.
    pub fn new(node: &str, evicted: &[(String, String)]) -> Self {
        Replacements {
            node: node.to_string(),
            controllers: evicted.iter().map(|(_, c)| c.clone()).collect(),
            seen: HashMap::new(),
        }
    }

    /// Turns a watch event into a `Replacement` event when it concerns a replacement.
    /// Only pods first seen `Added` can be replacements: a pod first seen modified existed
    /// before the watch started (or was created while a 410 gap hid it: that replacement is
    /// not reported, and the TUI's own pod watch still shows it in the pods pane).
    pub fn on_event(&mut self, ev: &FeedEvent<PodRow>) -> Option<DrainEvent> {
        let (p, added) = match ev {
            FeedEvent::Added(p) => (p, true),
            FeedEvent::Modified(p) => (p, false),
            FeedEvent::Deleted(p) => return self.deleted(p),
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
        let workload = match self.seen.get_mut(&uid) {
            Some((w, last)) => {
                if *last == now {
                    return None;
                }
                *last = now.clone();
                w.clone()
            }
            None if !added => return None,
            None => {
                let c = p.controller()?;
                if !self.controllers.contains(&c.uid) {
                    return None;
                }
                let w = workload(&c.kind, p.namespace(), &c.name);
                self.seen.insert(uid, (w.clone(), now.clone()));
                w
            }
        };
        Some(DrainEvent::Replacement {
            node: self.node.clone(),
            workload,
            pod: p.key(),
            on_node: now.0,
            phase: now.1,
            ready: now.2,
        })
    }

    /// A replacement that went away is reported once, with phase `Deleted`.
    fn deleted(&mut self, p: &PodRow) -> Option<DrainEvent> {
        let (workload, (on_node, ..)) = self.seen.remove(p.uid())?;
        Some(DrainEvent::Replacement {
            node: self.node.clone(),
            workload,
            pod: p.key(),
            on_node,
            phase: "Deleted".into(),
            ready: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, uid: &str, node: Option<&str>, owner: &str) -> PodRow {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "d", "uid": uid,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                    "uid": owner, "controller": true}]},
            "spec": {"nodeName": node}, "status": {"phase": "Pending"}
        }))
        .unwrap()
    }

    fn replaced(e: Option<DrainEvent>) -> Option<(String, String, Option<String>, String)> {
        match e? {
            DrainEvent::Replacement {
                workload,
                pod,
                on_node,
                phase,
                ..
            } => Some((workload, pod, on_node, phase)),
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
        // Created unscheduled, then bound: reported both times, for the workload.
        let first = replaced(r.on_event(&FeedEvent::Added(pod("new", "4", None, "rs1"))));
        let rs = "ReplicaSet d/rs1".to_string();
        assert_eq!(
            first,
            Some((rs.clone(), "d/new".into(), None, "Pending".into()))
        );
        let bound = replaced(r.on_event(&FeedEvent::Modified(pod("new", "4", Some("n1"), "rs1"))));
        assert_eq!(
            bound,
            Some((
                rs.clone(),
                "d/new".into(),
                Some("n1".into()),
                "Pending".into()
            ))
        );
        // Nothing changed: no event.
        assert!(
            r.on_event(&FeedEvent::Modified(pod("new", "4", Some("n1"), "rs1")))
                .is_none()
        );
        // Its deletion is reported once.
        let gone = replaced(r.on_event(&FeedEvent::Deleted(pod("new", "4", Some("n1"), "rs1"))));
        assert_eq!(
            gone,
            Some((rs, "d/new".into(), Some("n1".into()), "Deleted".into()))
        );
        assert!(
            r.on_event(&FeedEvent::Deleted(pod("new", "4", Some("n1"), "rs1")))
                .is_none()
        );
    }

    /// pdb-blocked: two pods of one ReplicaSet, only one evicted so far. The replacement
    /// names the workload and no pod: whatever order the drain tracked the pods in, it
    /// cannot be credited to the one still blocked.
    #[test]
    fn a_replacement_names_the_workload_not_a_pod() {
        for order in [["d/a", "d/b"], ["d/b", "d/a"]] {
            let evicted: Vec<(String, String)> = order
                .iter()
                .map(|k| (k.to_string(), "rs1".to_string()))
                .collect();
            let mut r = Replacements::new("n0", &evicted);
            let e = r.on_event(&FeedEvent::Added(pod("new", "4", Some("n1"), "rs1")));
            match e {
                Some(DrainEvent::Replacement { workload, pod, .. }) => {
                    assert_eq!(workload, "ReplicaSet d/rs1");
                    assert_eq!(pod, "d/new");
                }
                other => panic!("expected a replacement, got {other:?}"),
            }
        }
    }
}
