//! Replacement tracking: new pods of the same controller as an evicted pod, seen through
//! watches on the evicted pods' namespaces, reported as [`DrainEvent::Replacement`].

use std::collections::{HashMap, HashSet};

use futures::stream::{BoxStream, StreamExt};
use kube::Client;
use kube::api::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};

use super::events::DrainEvent;
use crate::cluster::rows::PodRow;

/// A replacement's node, phase and readiness, as last reported.
type Seen = (Option<String>, String, bool);

/// Matches new pods to evicted ones (by controller UID, first come first served).
#[derive(Debug, Default)]
pub struct Replacements {
    node: String,
    /// Controller UID → evicted pods (`namespace/name`) still without a replacement.
    waiting: HashMap<String, Vec<String>>,
    /// Pods that existed when the drain started: never replacements.
    original: HashSet<String>,
    /// New pod UID → (evicted key, last reported state).
    seen: HashMap<String, (String, Seen)>,
}

impl Replacements {
    /// `evicted`: (key, controller UID) of each pod to evict; `original`: UIDs of pods
    /// existing now (in the evicted pods' namespaces or on the node).
    pub fn new(node: &str, evicted: &[(String, String)], original: HashSet<String>) -> Self {
        let mut waiting: HashMap<String, Vec<String>> = HashMap::new();
        for (key, ctrl) in evicted {
            waiting.entry(ctrl.clone()).or_default().push(key.clone());
        }
        Replacements {
            node: node.to_string(),
            waiting,
            original,
            seen: HashMap::new(),
        }
    }

    /// Watches the namespaces of the evicted pods, merged into one stream.
    pub fn stream(
        client: &Client,
        namespaces: &HashSet<String>,
    ) -> BoxStream<'static, Event<PodRow>> {
        let streams = namespaces.iter().map(|ns| {
            watcher::watcher(
                Api::<PodRow>::namespaced(client.clone(), ns),
                watcher::Config::default(),
            )
            .default_backoff()
            // Errors are retried by the backoff; replacements are informative only.
            .filter_map(|r| async move { r.ok() })
            .boxed()
        });
        futures::stream::select_all(streams).boxed()
    }

    /// Turns a watch event into a `Replacement` event when it concerns a replacement.
    pub fn on_event(&mut self, ev: Event<PodRow>) -> Option<DrainEvent> {
        let p = match ev {
            Event::Apply(p) | Event::InitApply(p) => p,
            _ => return None,
        };
        let uid = p.uid().to_string();
        if self.original.contains(&uid) || p.node_name.as_deref() == Some(self.node.as_str()) {
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
