//! The kubelet's side of pods with a declared fate (failing pulls, exiting containers): starts
//! them through [`super::containers`], keeps one timer per pod for the next transition, and
//! records the kubelet's events. Pods without a declaration never come here.

use std::sync::Arc;

use serde_json::{Value, json};

use super::containers::{self, Ev, Track};
use super::podspec::{RunningOpts, running_status, set_ready};
use super::util::{fmt, pod_ready};
use super::{Manager, Timer, events};
use crate::sim::store::ObjKey;

impl Manager {
    /// Starts a declared pod's containers (it has been given its IPs).
    pub(super) fn declared_start(&mut self, k: &ObjKey, uid: &str, hip: &str, ip: &str) {
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        let mut tracks = Vec::new();
        let mut evs = Vec::new();
        let updated = self.update_pod(k, uid, |p| {
            let start = p["status"]["startTime"]
                .as_str()
                .unwrap_or(&now)
                .to_string();
            // The running status gives IPs, start time and the kept conditions; the state
            // machine then sets what each container really does.
            let mut st = running_status(
                p,
                &RunningOpts {
                    host_ip: hip,
                    pod_ip: ip,
                    start: &start,
                    started_at: &now,
                    ready: false,
                    restarts: None,
                },
            );
            st["conditions"] = p["status"]["conditions"].clone();
            p["status"] = st;
            set_ready(p, false, &now);
            evs = containers::start(p, &mut tracks, now_t);
        });
        self.after_transitions(k, uid, updated, tracks, evs);
    }

    /// The pod's next container transition is due.
    pub(super) fn declared_advance(&mut self, k: &ObjKey, uid: &str) {
        let now_t = self.store.clock().now();
        let Some(mut tracks) = self.runs.remove(uid) else {
            return;
        };
        if containers::next_due(&tracks).is_none_or(|d| d > now_t) {
            // A stale firing: the timer for the real due time is pending already.
            self.runs.insert(uid.to_string(), tracks);
            return;
        }
        let mut evs = Vec::new();
        let updated = self.update_pod(k, uid, |p| {
            evs = containers::advance(p, &mut tracks, now_t, Vec::new());
        });
        self.after_transitions(k, uid, updated, tracks, evs);
    }

    /// The kubelet looks at a declared pod (a pod change, its node back): picks it up again
    /// if the controllers restarted, and puts readiness right after its node was down.
    /// False when the pod is not started here yet and the ordinary path applies.
    pub(super) fn declared_sync(&mut self, k: &ObjKey, pod: &Value, node_ready: bool) -> bool {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let tracked = self.runs.contains_key(&uid);
        if !tracked && super::util::phase(pod) == "Pending" {
            return false;
        }
        if super::util::is_finished(pod) {
            return true;
        }
        let now_t = self.store.clock().now();
        if !node_ready {
            if pod_ready(pod) {
                let now = fmt(now_t);
                self.update_pod(k, &uid, |p| set_ready(p, false, &now));
            }
            return true;
        }
        let mut tracks = match self.runs.remove(&uid) {
            Some(t) => t,
            None => containers::resume(pod, now_t),
        };
        let mut next = pod.clone();
        // Containers that run are ready again (a down node had made them unready).
        for s in next["status"]["containerStatuses"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            s["ready"] = json!(s["state"]["running"].is_object());
        }
        let evs = containers::advance(&mut next, &mut tracks, now_t, Vec::new());
        // Most looks change nothing: no write then.
        let updated = if next["status"] == pod["status"] {
            Some(Arc::new(next))
        } else {
            let status = next["status"].take();
            self.update_pod(k, &uid, |p| p["status"] = status)
        };
        self.after_transitions(k, &uid, updated, tracks, evs);
        true
    }

    /// Records the transitions' events, keeps the tracks and arms the next one.
    fn after_transitions(
        &mut self,
        k: &ObjKey,
        uid: &str,
        updated: Option<Arc<Value>>,
        tracks: Vec<Track>,
        evs: Vec<Ev>,
    ) {
        let Some(p) = updated else { return };
        let source = format!("kubelet@{}", p["spec"]["nodeName"].as_str().unwrap_or(""));
        for e in evs {
            events::record_at(
                &self.store,
                &p,
                Some(&e.field_path),
                e.type_,
                e.reason,
                &e.message,
                &source,
            );
        }
        self.arm_containers(k, uid, &tracks);
        self.runs.insert(uid.to_string(), tracks);
    }

    /// Arms the pod's timer at its next transition. Always a new entry: one pending for an
    /// earlier or later time finds nothing due and does not re-arm, so entries never pile up.
    fn arm_containers(&mut self, k: &ObjKey, uid: &str, tracks: &[Track]) {
        if let Some(due) = containers::next_due(tracks) {
            self.arm_again(due, Timer::Containers(k.clone(), uid.to_string()));
        }
    }
}
