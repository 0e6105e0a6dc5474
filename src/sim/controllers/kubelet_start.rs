//! The kubelet starting a pod's containers: an IP from the node's range, Running (Ready at once
//! or after its readiness delay), the kubelet's Pulled / Created / Started events per
//! container, and a Job pod's (or a declared run's) end.

use std::collections::HashSet;

use jiff::Timestamp;
use serde_json::Value;

use super::declare::declared;
use super::kubelet::{allocate_ip, host_ip, owner_kind};
use super::podspec::{RunningOpts, host_network, running_status, set_ready};
use super::util::{READY_AFTER, RUN_FOR, add_secs, annotation_secs, fmt};
use super::{Manager, Timer, events};
use crate::sim::store::ObjKey;

impl Manager {
    /// Starts the containers of Pending `pod` (`k`, `uid`) on `node`.
    pub(super) fn kubelet_start(
        &mut self,
        k: &ObjKey,
        uid: &str,
        pod: &Value,
        node_name: &str,
        node: &Value,
    ) {
        let hip = host_ip(node);
        let ip = if host_network(pod) {
            hip.clone()
        } else {
            let used: HashSet<String> = self
                .index
                .on_node(node_name)
                .iter()
                .filter_map(|p| p["status"]["podIP"].as_str().map(String::from))
                .collect();
            let cidr = node["spec"]["podCIDR"].as_str().unwrap_or("10.244.0.0/24");
            allocate_ip(cidr, &used).unwrap_or_default()
        };
        if declared(pod) {
            self.declared_start(k, uid, &hip, &ip);
            return;
        }
        let now_t = self.store.clock().now();
        let now = fmt(now_t);
        let ready_after = annotation_secs(pod, READY_AFTER).unwrap_or(0.0);
        let ready = ready_after <= 0.0;
        let start = pod["status"]["startTime"]
            .as_str()
            .unwrap_or(&now)
            .to_string();
        let updated = self.update_pod(k, uid, |p| {
            let mut st = running_status(
                p,
                &RunningOpts {
                    host_ip: &hip,
                    pod_ip: &ip,
                    start: &start,
                    started_at: &now,
                    ready,
                    restarts: None,
                },
            );
            st["conditions"] = p["status"]["conditions"].clone();
            p["status"] = st;
            set_ready(p, ready, &now);
        });
        let Some(p) = updated else { return };
        self.start_events(&p, &start, now_t, &format!("kubelet@{node_name}"));
        if !ready {
            let at = add_secs(now_t, ready_after);
            self.arm(at, Timer::Ready(k.clone(), uid.to_string()));
        }
        let run_for =
            annotation_secs(pod, RUN_FOR).or((owner_kind(pod) == Some("Job")).then_some(5.0));
        if let Some(secs) = run_for {
            self.arm(
                add_secs(now_t, secs),
                Timer::Complete(k.clone(), uid.to_string()),
            );
        }
    }

    /// The kubelet's events of a start, per container in order: Pulled (the pull took from
    /// `start`, or the image was there), Created, Started.
    fn start_events(&self, p: &Value, start: &str, now_t: Timestamp, source: &str) {
        for c in p["spec"]["containers"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("");
            let image = c["image"].as_str().unwrap_or("");
            let fp = format!("spec.containers{{{name}}}");
            let pulled = if c["imagePullPolicy"] == "Always" {
                // Pulling was told when the pod went ContainerCreating.
                let took = start
                    .parse::<Timestamp>()
                    .map_or(0.0, |s| now_t.duration_since(s).as_secs_f64());
                format!("Successfully pulled image \"{image}\" in {took:.6}s")
            } else {
                format!("Container image \"{image}\" already present on machine")
            };
            for (reason, message) in [
                ("Pulled", pulled),
                ("Created", format!("Created container {name}")),
                ("Started", format!("Started container {name}")),
            ] {
                events::record_at(
                    &self.store,
                    p,
                    Some(&fp),
                    "Normal",
                    reason,
                    &message,
                    source,
                );
            }
        }
    }
}
