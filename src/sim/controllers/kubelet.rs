//! The kubelet: takes bound pods through ContainerCreating to Running and Ready, stops
//! terminating pods and removes them when their grace period is up, finishes Job pods. On a
//! NotReady node it does nothing (it is "down"): terminating pods stay, which is how a real
//! drain hangs.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::declare::declared;
use super::podspec::{creating_status, set_ready, succeeded_status};
use super::skeleton::skeleton;
use super::util::{
    READY_AFTER, SHUTDOWN_AFTER, add_secs, annotation_secs, fmt, is_terminating, node_ready,
    parse_time, phase, pod_ready,
};
use super::{Manager, Timer, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{ObjKey, StoreError};

/// The node's InternalIP.
pub fn host_ip(node: &Value) -> String {
    node["status"]["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["type"] == "InternalIP")
        .and_then(|a| a["address"].as_str())
        .unwrap_or("")
        .to_string()
}

/// The lowest free address in `cidr` (`10.40.0.0/16`) not in `used`.
pub fn allocate_ip(cidr: &str, used: &HashSet<String>) -> Option<String> {
    let (base, len) = cidr.split_once('/')?;
    let base: Ipv4Addr = base.parse().ok()?;
    let len: u32 = len.parse().ok()?;
    let size = 1u64 << (32 - len.min(32));
    let base = u32::from(base);
    (1..size.saturating_sub(1).max(2))
        .map(|i| Ipv4Addr::from(base.wrapping_add(i as u32)).to_string())
        .find(|ip| !used.contains(ip))
}

pub(super) fn owner_kind(pod: &Value) -> Option<&str> {
    pod["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["controller"] == true)?["kind"]
        .as_str()
}

impl Manager {
    /// Updates pod `k` if it is still the one with `uid`; the index sees the write at once.
    pub(super) fn update_pod(
        &mut self,
        k: &ObjKey,
        uid: &str,
        f: impl FnOnce(&mut Value),
    ) -> Option<Arc<Value>> {
        let r = self.store.update(Kind::Pod, &k.0, &k.1, |p| {
            if p["metadata"]["uid"] != uid {
                return Err(StoreError::Conflict("replaced".into()));
            }
            f(p);
            Ok(())
        });
        let p = r.ok()?;
        self.saw(Kind::Pod, &p);
        Some(p)
    }

    fn pod_node(&self, pod: &Value) -> Option<(String, Arc<Value>)> {
        let name = pod["spec"]["nodeName"].as_str()?;
        Some((name.to_string(), self.index.nodes.get(name)?.clone()))
    }

    /// Brings one pod's state a step closer to what the kubelet would show.
    pub(super) fn kubelet_sync(&mut self, k: &ObjKey) {
        // Long: one pod's next kubelet step by its state (gone node, terminating, declared,
        // pending, ready), each a few lines; the early return keeps large clusters cheap.
        // Most pods of a large cluster are Running and Ready on a Ready node: nothing to do,
        // which the skeleton tells without decoding the whole pod.
        let Some(view) = self.index.pods.get(k).map(|s| skeleton(s.json())) else {
            return;
        };
        if !is_terminating(&view)
            && pod_ready(&view)
            && self.pod_node(&view).is_some_and(|(_, n)| node_ready(&n))
        {
            return;
        }
        let Some(pod) = self.index.pod(k) else {
            return;
        };
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let Some((node_name, node)) = self.pod_node(&pod) else {
            let orphan = !pod["spec"]["nodeName"].is_null();
            if orphan || is_terminating(&pod) {
                // Never ran anywhere (nothing to stop), or its node is gone (pod GC).
                let _ = self.store.delete(Kind::Pod, &k.0, &k.1);
            }
            return;
        };
        let ready_node = node_ready(&node);
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        let source = format!("kubelet@{node_name}");
        if is_terminating(&pod) {
            if ready_node {
                self.kubelet_stop(k, &uid, &pod, &source);
            }
            return;
        }
        if declared(&pod) && self.declared_sync(k, &pod, ready_node) {
            return;
        }
        match phase(&pod) {
            "Pending" => {
                if !ready_node {
                    return;
                }
                let t = Timer::Start(k.clone(), uid.clone());
                if self.armed.contains(&t) {
                    return;
                }
                let hip = host_ip(&node);
                let creating = self.update_pod(k, &uid, |p| {
                    let mut st = creating_status(p, &hip, &now);
                    // Keep the scheduler's PodScheduled transition time.
                    if let Some(ps) = p["status"]["conditions"]
                        .as_array()
                        .and_then(|a| a.iter().find(|c| c["type"] == "PodScheduled"))
                    {
                        for c in st["conditions"].as_array_mut().unwrap() {
                            if c["type"] == "PodScheduled" {
                                *c = ps.clone();
                            }
                        }
                    }
                    p["status"] = st;
                });
                // The pull starts now; the container starts when the Start timer fires, so
                // the pod's events come in the kubelet's order at increasing times.
                if let Some(p) = creating {
                    self.pulling_events(&p, &node_name);
                }
                let delay = rand::random_range(1.0..4.0);
                self.arm(add_secs(now_t, delay), t);
            }
            "Running" => {
                if !ready_node {
                    if pod_ready(&pod) {
                        self.update_pod(k, &uid, |p| set_ready(p, false, &now));
                    }
                } else if !pod_ready(&pod) {
                    let delay = annotation_secs(&pod, READY_AFTER)
                        .unwrap_or(0.0)
                        .max(rand::random_range(1.0..3.0));
                    self.arm(add_secs(now_t, delay), Timer::Ready(k.clone(), uid));
                }
            }
            _ => {}
        }
    }

    /// `Pulling` for each container whose image is pulled every time (the rest is told
    /// when the container starts).
    fn pulling_events(&self, pod: &Value, node_name: &str) {
        let source = format!("kubelet@{node_name}");
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            if c["imagePullPolicy"] != "Always" {
                continue;
            }
            let name = c["name"].as_str().unwrap_or("");
            let image = c["image"].as_str().unwrap_or("");
            events::record_at(
                &self.store,
                pod,
                Some(&format!("spec.containers{{{name}}}")),
                "Normal",
                "Pulling",
                &format!("Pulling image \"{image}\""),
                &source,
            );
        }
    }

    /// Remembers when a pod's deletion was written (`at`), for its kubelet: a new or
    /// earlier `deletionTimestamp` (a second delete may shorten the grace period).
    pub(super) fn note_deletion(
        &mut self,
        old: Option<&Value>,
        new: Option<&Value>,
        at: Timestamp,
    ) {
        let Some(pod) = new.filter(|p| is_terminating(p)) else {
            return;
        };
        let stamp = |p: &Value| p["metadata"]["deletionTimestamp"].clone();
        if old.is_some_and(|o| stamp(o) == stamp(pod)) {
            return;
        }
        if let Some(uid) = pod["metadata"]["uid"].as_str() {
            self.deletions.insert(uid.to_string(), at);
        }
    }

    /// A terminating pod on a Ready node: a mirror pod's object goes at once; otherwise its
    /// containers are told to stop and the pod is removed when its grace period is up,
    /// counted from when the deletion was written (a kubelet watches its own pods).
    fn kubelet_stop(&mut self, k: &ObjKey, uid: &str, pod: &Value, source: &str) {
        let uid = uid.to_string();
        let pass_t = self.store.clock().now();
        let now_t = self
            .deletions
            .remove(&uid)
            .map_or(pass_t, |written| written.min(pass_t));
        if super::mirror::is_mirror(pod) {
            // The static pod goes on running: only its API object goes (and comes back).
            let _ = self.store.delete(Kind::Pod, &k.0, &k.1);
            return;
        }
        let deadline = grace_deadline(pod, now_t);
        if let Some(due) = self.killing.get(&uid).copied() {
            // A second delete may shorten the grace period: honour the earlier time.
            if deadline < due {
                self.killing.insert(uid.clone(), deadline);
                self.arm_again(deadline, Timer::Remove(k.clone(), uid));
            }
            return;
        }
        // Finished containers have nothing to stop.
        let containers = if super::util::is_finished(pod) {
            None
        } else {
            pod["spec"]["containers"].as_array()
        };
        for c in containers.into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            events::record_at(
                &self.store,
                pod,
                Some(&format!("spec.containers{{{name}}}")),
                "Normal",
                "Killing",
                &format!("Stopping container {name}"),
                source,
            );
        }
        let due = match annotation_secs(pod, SHUTDOWN_AFTER) {
            Some(s) => deadline.min(add_secs(now_t, s)),
            None => deadline,
        };
        self.killing.insert(uid.clone(), due);
        self.arm(due, Timer::Remove(k.clone(), uid));
    }

    /// A kubelet timer fired.
    pub(super) fn kubelet_timer(&mut self, t: Timer) {
        let (k, uid) = match &t {
            Timer::Start(k, u)
            | Timer::Ready(k, u)
            | Timer::Complete(k, u)
            | Timer::Remove(k, u)
            | Timer::Containers(k, u) => (k.clone(), u.clone()),
            Timer::Pdb(_)
            | Timer::Node(_)
            | Timer::Job(_)
            | Timer::ReplicaSet(_)
            | Timer::Mirror(_) => return,
        };
        let Some(pod) = self.index.pod(&k) else {
            return;
        };
        if pod["metadata"]["uid"] != uid.as_str() {
            return;
        }
        let Some((node_name, node)) = self.pod_node(&pod) else {
            return;
        };
        if !node_ready(&node) {
            // The kubelet is down; it picks the pod up again when the node is back.
            self.killing.remove(&uid);
            return;
        }
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        match t {
            Timer::Remove(..) => {
                let _ = self.store.delete(Kind::Pod, &k.0, &k.1);
            }
            Timer::Start(..) => {
                if is_terminating(&pod) || phase(&pod) != "Pending" {
                    return;
                }
                self.kubelet_start(&k, &uid, &pod, &node_name, &node);
            }
            Timer::Ready(..) => {
                if is_terminating(&pod) || phase(&pod) != "Running" || pod_ready(&pod) {
                    return;
                }
                self.update_pod(&k, &uid, |p| set_ready(p, true, &now));
            }
            Timer::Complete(..) => {
                if is_terminating(&pod) || phase(&pod) != "Running" {
                    return;
                }
                let hip = host_ip(&node);
                self.update_pod(&k, &uid, |p| {
                    let ip = p["status"]["podIP"].as_str().unwrap_or("").to_string();
                    let start = p["status"]["startTime"]
                        .as_str()
                        .unwrap_or(&now)
                        .to_string();
                    p["status"] = succeeded_status(p, &hip, &ip, &start, &now);
                });
            }
            Timer::Containers(..) => {
                if !is_terminating(&pod) {
                    self.declared_advance(&k, &uid);
                }
            }
            Timer::Pdb(_)
            | Timer::Node(_)
            | Timer::Job(_)
            | Timer::ReplicaSet(_)
            | Timer::Mirror(_) => {}
        }
    }
}

/// When a terminating pod's containers are killed if they have not stopped: the kubelet
/// stops them when it sees the deletion and kills them `deletionGracePeriodSeconds` later.
/// `deletionTimestamp` has whole seconds only, so counting from it removed pods up to a
/// second early. Never later than a second past it: a restarted simulator has forgotten
/// when it began stopping the pod, and does not grant a second grace period.
fn grace_deadline(pod: &Value, now: Timestamp) -> Timestamp {
    let stamped = parse_time(&pod["metadata"]["deletionTimestamp"]);
    let grace = pod["metadata"]["deletionGracePeriodSeconds"].as_i64();
    match (stamped, grace) {
        (Some(at), Some(g)) => add_secs(now, g as f64).min(add_secs(at, 1.0)),
        (Some(at), None) => at,
        (None, Some(g)) => add_secs(now, g as f64),
        (None, None) => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_grace_period_counts_from_when_the_kubelet_saw_the_deletion() {
        let t = |s: &str| s.parse::<Timestamp>().unwrap();
        // Deleted at 12:00:00.600 with 2 s: the API shows 12:00:02 (whole seconds).
        let pod = json!({"metadata": {"deletionTimestamp": "2026-12-02T12:00:02Z",
                                      "deletionGracePeriodSeconds": 2}});
        let seen = t("2026-12-02T12:00:00.650Z");
        assert_eq!(grace_deadline(&pod, seen), t("2026-12-02T12:00:02.650Z"));
        // Seen long after (a restarted simulator): a second past the stamp, not a new grace.
        let late = t("2026-12-02T12:05:00Z");
        assert_eq!(grace_deadline(&pod, late), t("2026-12-02T12:00:03Z"));
        // Without the grace field, the stamp; without either, now.
        let stamp_only = json!({"metadata": {"deletionTimestamp": "2026-12-02T12:00:02Z"}});
        assert_eq!(grace_deadline(&stamp_only, seen), t("2026-12-02T12:00:02Z"));
        assert_eq!(grace_deadline(&json!({"metadata": {}}), seen), seen);
    }

    #[test]
    fn allocates_lowest_free_ip() {
        let used: HashSet<String> = ["10.40.0.1", "10.40.0.2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(allocate_ip("10.40.0.0/16", &used).unwrap(), "10.40.0.3");
        assert_eq!(
            allocate_ip("10.32.0.0/24", &HashSet::new()).unwrap(),
            "10.32.0.1"
        );
    }
}
