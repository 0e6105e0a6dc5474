//! The past a fresh scenario's young objects still have: the events of the last hour (the
//! API server keeps events an hour), at times consistent with the objects' own.

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::Builder;
use crate::sim::controllers::events::past;
use crate::sim::controllers::util::{fmt, key_of, parse_time};
use crate::sim::kinds::Kind;

/// Pods (and workloads) given the events of their recent start, at most: a large scenario
/// does not start with thousands.
const CAP: usize = 1_000;

impl Builder<'_> {
    fn young(&self, t: Timestamp) -> bool {
        self.now.duration_since(t) < SignedDuration::from_hours(1) && self.past_events < CAP
    }

    /// The events a pod started less than an hour ago still has (the API server keeps them
    /// an hour): scheduled, image present, created and started, at increasing times. Bounded,
    /// so a large scenario does not start with thousands.
    pub(super) fn recent_events(&mut self, pod: &Value, created: Timestamp) {
        if !self.young(created) {
            return;
        }
        let at = |s: i64| {
            fmt(created
                .checked_add(SignedDuration::from_secs(s))
                .unwrap_or(created))
        };
        let (ns, name) = key_of(pod);
        let node = pod["spec"]["nodeName"].as_str().unwrap_or("");
        let assigned = format!("Successfully assigned {ns}/{name} to {node}");
        let scheduled = ("Normal", "Scheduled", assigned.as_str());
        past(
            self.store,
            pod,
            None,
            scheduled,
            "default-scheduler",
            &at(0),
        );
        let kubelet = format!("kubelet@{node}");
        for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
            let cname = c["name"].as_str().unwrap_or("");
            let image = c["image"].as_str().unwrap_or("");
            let fp = format!("spec.containers{{{cname}}}");
            let present = format!("Container image \"{image}\" already present on machine");
            let created_msg = format!("Created container {cname}");
            let started_msg = format!("Started container {cname}");
            for (reason, message, secs) in [
                ("Pulled", present.as_str(), 1),
                ("Created", created_msg.as_str(), 1),
                ("Started", started_msg.as_str(), 2),
            ] {
                let what = ("Normal", reason, message);
                past(self.store, pod, Some(&fp), what, &kubelet, &at(secs));
            }
        }
        self.past_events += 1;
    }

    /// A young Deployment's scale-ups of its ReplicaSet, told by its pods' ages: each group
    /// of pods created together was one "Scaled up … to N" (`http-spring`: to 1, then to 10
    /// when it was scaled); pods all younger than the Deployment replaced the first ones.
    pub(super) fn recent_scaling(&mut self, dep: &Value, rs: &Value) {
        let Some(created) = parse_time(&dep["metadata"]["creationTimestamp"]) else {
            return;
        };
        if !self.young(created) {
            return;
        }
        let want = rs["spec"]["replicas"].as_i64().unwrap_or(1);
        let uid = rs["metadata"]["uid"].clone();
        let (ns, _) = key_of(rs);
        let (_, pods) = self.store.list_where(Kind::Pod, Some(&ns), |p| {
            p["metadata"]["ownerReferences"][0]["uid"] == uid
        });
        let mut times: Vec<Timestamp> = pods
            .iter()
            .filter_map(|p| parse_time(&p["metadata"]["creationTimestamp"]))
            .collect();
        times.sort();
        let mut steps = vec![];
        for (i, t) in times.iter().enumerate() {
            let n = (i as i64 + 1).min(want);
            match steps.last_mut() {
                Some((at, count)) if at == t => *count = n,
                _ => steps.push((*t, n)),
            }
        }
        if steps.first().is_none_or(|(t, _)| *t > created) {
            steps = vec![(created, want)];
        }
        let rs_name = rs["metadata"]["name"].as_str().unwrap_or("");
        for (at, n) in steps {
            let msg = format!("Scaled up replica set {rs_name} to {n}");
            let what = ("Normal", "ScalingReplicaSet", msg.as_str());
            past(
                self.store,
                dep,
                None,
                what,
                "deployment-controller",
                &fmt(at),
            );
        }
    }

    /// A young pod's creation by its ReplicaSet, at the pod's creation time.
    pub(super) fn recent_create(&mut self, rs: &Value, pod: &Value) {
        let Some(at) = parse_time(&pod["metadata"]["creationTimestamp"]) else {
            return;
        };
        if !self.young(at) {
            return;
        }
        let msg = format!(
            "Created pod: {}",
            pod["metadata"]["name"].as_str().unwrap_or("")
        );
        let what = ("Normal", "SuccessfulCreate", msg.as_str());
        past(
            self.store,
            rs,
            None,
            what,
            "replicaset-controller",
            &fmt(at),
        );
    }
}
