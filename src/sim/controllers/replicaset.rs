//! ReplicaSets: keep `spec.replicas` live pods (replacements for deleted or evicted pods
//! appear at once) and count them available after `minReadySeconds` of readiness. The
//! Deployments that own them are in `deployment.rs`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::podspec::pod_from_template;
use super::rollout::replicas;
use super::util::{add_secs, is_active, owner_ref, parse_time, pod_ready};
use super::{Manager, Timer, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{ObjKey, random_suffix};

/// The alphabet Kubernetes uses for safe generated strings.
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The pod-template-hash of a template: FNV-32a of its JSON, safe-encoded like the
/// deployment controller does.
pub fn template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in template.to_string().bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x01000193);
    }
    h.to_string()
        .bytes()
        .map(|b| SAFE[b as usize % SAFE.len()] as char)
        .collect()
}

impl Manager {
    /// Keeps a ReplicaSet's pod count and status.
    pub(super) fn replicaset_sync(&mut self, k: &ObjKey) {
        // Long: the ReplicaSet controller's pass: the pods it owns, those to create or delete
        // (the least useful first), then the status they leave.
        let Some(rs) = self.index.get(Kind::ReplicaSet, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        if self.being_deleted(&rs) {
            return;
        }
        let uid = rs["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let want = replicas(&rs);
        let mut active: Vec<Arc<Value>> = self
            .index
            .owned(&uid)
            .into_iter()
            .filter(|p| is_active(p))
            .collect();
        let have = active.len() as i64;
        if have < want {
            for _ in have..want {
                let name = format!("{}-{}", k.1, random_suffix(5));
                let pod = pod_from_template(
                    &rs["spec"]["template"],
                    &k.0,
                    &name,
                    Some(owner_ref(&rs)),
                    &[],
                );
                if let Ok(p) = self.store.create(Kind::Pod, pod) {
                    self.saw(Kind::Pod, &p);
                    events::record(
                        &self.store,
                        &rs,
                        "Normal",
                        "SuccessfulCreate",
                        &format!("Created pod: {name}"),
                        "replicaset-controller",
                    );
                    active.push(p);
                }
            }
        } else if have > want {
            // Unscheduled first, then not ready, then the newest — like the real ranking.
            active.sort_by_key(|p| {
                (
                    !p["spec"]["nodeName"].is_null(),
                    pod_ready(p),
                    std::cmp::Reverse(
                        p["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                    ),
                )
            });
            let extra: Vec<Arc<Value>> = active.drain(..(have - want) as usize).collect();
            for p in extra {
                self.delete_pod(&p);
                events::record(
                    &self.store,
                    &rs,
                    "Normal",
                    "SuccessfulDelete",
                    &format!(
                        "Deleted pod: {}",
                        p["metadata"]["name"].as_str().unwrap_or("")
                    ),
                    "replicaset-controller",
                );
            }
        }
        let ready = active.iter().filter(|p| pod_ready(p)).count();
        let available = self.available_pods(&rs, k, &active);
        let status = json!({
            "replicas": active.len(),
            "fullyLabeledReplicas": active.len(),
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": rs["metadata"]["generation"],
        });
        self.set_status(Kind::ReplicaSet, k, status);
    }

    /// Pods Ready for at least the ReplicaSet's `minReadySeconds`; a timer comes back for
    /// the next one to get there.
    fn available_pods(&mut self, rs: &Value, k: &ObjKey, pods: &[Arc<Value>]) -> usize {
        let min_ready = rs["spec"]["minReadySeconds"].as_f64().unwrap_or(0.0);
        let now = self.store.clock().now();
        let mut next: Option<jiff::Timestamp> = None;
        let n = pods
            .iter()
            .filter(|p| pod_ready(p))
            .filter(|p| {
                if min_ready <= 0.0 {
                    return true;
                }
                let since = p["status"]["conditions"]
                    .as_array()
                    .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                    .and_then(|c| parse_time(&c["lastTransitionTime"]));
                let Some(at) = since.map(|t| add_secs(t, min_ready)) else {
                    return true;
                };
                if at <= now {
                    return true;
                }
                next = Some(next.map_or(at, |n| n.min(at)));
                false
            })
            .count();
        if let Some(at) = next {
            self.arm(at, Timer::ReplicaSet(k.clone()));
        }
        n
    }

    /// Replaces `status` (dropping zero counts the real controllers omit).
    pub(super) fn set_status(&mut self, kind: Kind, k: &ObjKey, mut status: Value) {
        if let Some(m) = status.as_object_mut() {
            // DaemonSet counts are required fields; other zero counts are omitted.
            m.retain(|key, v| {
                v != &json!(0)
                    || key == "replicas"
                    || key == "observedGeneration"
                    || key == "collisionCount"
                    || key.starts_with("number")
                    || key.contains("Number")
            });
        }
        // Skip the store (which clones the object) when nothing changed: the common case.
        if self
            .index
            .get(kind, k)
            .is_some_and(|o| o["status"] == status)
        {
            return;
        }
        if let Ok(o) = self.store.update(kind, &k.0, &k.1, |o| {
            o["status"] = status;
            Ok(())
        }) {
            self.saw(kind, &o);
        }
    }
}

/// The ReplicaSet a Deployment owns for template hash `hash`.
pub fn new_replicaset(dep: &Value, hash: &str, replicas: i64) -> Value {
    let (ns, name) = super::util::key_of(dep);
    let mut template = dep["spec"]["template"].clone();
    template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = dep["spec"]["selector"].clone();
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let want = super::rollout::replicas(dep);
    let max = want + super::rollout::fenceposts(dep).0;
    json!({
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": ns,
            "labels": labels,
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": want.to_string(),
                "deployment.kubernetes.io/max-replicas": max.to_string(),
                "deployment.kubernetes.io/revision": "1",
            },
            "ownerReferences": [owner_ref(dep)],
            "creationTimestamp": dep["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": replicas, "selector": selector, "template": template},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_safe_encoded() {
        let h = template_hash(&json!({"spec": {"containers": [{"name": "a"}]}}));
        assert!(!h.is_empty() && h.len() <= 10);
        assert!(h.bytes().all(|b| SAFE.contains(&b)));
    }
}
