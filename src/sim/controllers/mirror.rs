//! Mirror pods: a static pod's API object, which its node's kubelet keeps. Deleting one through
//! the API removes the object at once (the static pod goes on running: nothing is stopped),
//! and the kubelet creates it again on its next sync, with a new uid, while the node is Ready.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::util::{self, fmt, node_ready};
use super::{Manager, Timer};
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

/// The annotation the kubelet puts on a mirror pod (the static pod's config hash).
pub const MIRROR: &str = "kubernetes.io/config.mirror";
/// Simulated seconds from a mirror pod's removal to the kubelet's sync that creates it again.
const RECREATE_AFTER: f64 = 2.0;
/// Simulated seconds between tries while the node's kubelet is down.
const RETRY_AFTER: f64 = 10.0;

/// Whether `pod` is a mirror pod.
pub fn is_mirror(pod: &Value) -> bool {
    !pod["metadata"]["annotations"][MIRROR].is_null()
}

/// Deleted mirror pods, by key, to create again.
pub(super) type Gone = HashMap<ObjKey, Value>;

impl Manager {
    /// A mirror pod went: its kubelet creates it again soon.
    pub(super) fn mirror_removed(&mut self, k: &ObjKey, old: &Value) {
        if !is_mirror(old) || old["spec"]["nodeName"].is_null() {
            return;
        }
        self.mirrors.insert(k.clone(), old.clone());
        let at = util::add_secs(self.store.clock().now(), RECREATE_AFTER);
        self.arm(at, Timer::Mirror(k.clone()));
    }

    /// The kubelet's sync: the mirror pod again, unless its node is gone or someone created
    /// it meanwhile; later while the node is not Ready.
    pub(super) fn mirror_sync(&mut self, k: ObjKey) {
        let Some(old) = self.mirrors.get(&k) else {
            return;
        };
        let node = old["spec"]["nodeName"].as_str().unwrap_or_default();
        let Some(n) = self.store.get(Kind::Node, "", node) else {
            self.mirrors.remove(&k);
            return;
        };
        if self.store.get(Kind::Pod, &k.0, &k.1).is_some() {
            self.mirrors.remove(&k);
            return;
        }
        if !node_ready(&n) {
            let at = util::add_secs(self.store.clock().now(), RETRY_AFTER);
            self.arm(at, Timer::Mirror(k));
            return;
        }
        let Some(mut pod) = self.mirrors.remove(&k) else {
            return;
        };
        if let Some(m) = pod["metadata"].as_object_mut() {
            for f in [
                "uid",
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "managedFields",
            ] {
                m.remove(f);
            }
        }
        pod["metadata"]["creationTimestamp"] = json!(fmt(self.store.clock().now()));
        if let Ok(p) = self.store.create(Kind::Pod, pod) {
            self.saw(Kind::Pod, &p);
        }
    }
}
