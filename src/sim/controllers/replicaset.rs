//! Deployments (one ReplicaSet each, named by the pod-template-hash) and ReplicaSets (keep
//! `spec.replicas` live pods; replacements for deleted or evicted pods appear at once).

use std::sync::Arc;

use serde_json::{Value, json};

use super::podspec::pod_from_template;
use super::util::{fmt, is_active, owner_ref, pod_ready};
use super::{Manager, events};
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

fn replicas(obj: &Value) -> i64 {
    obj["spec"]["replicas"].as_i64().unwrap_or(1)
}

impl Manager {
    /// Keeps a ReplicaSet's pod count and status.
    pub(super) fn replicaset_sync(&mut self, k: &ObjKey) {
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
        let status = json!({
            "replicas": active.len(),
            "fullyLabeledReplicas": active.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"]["generation"],
        });
        self.set_status(Kind::ReplicaSet, k, status);
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

    /// Keeps a Deployment's ReplicaSet and status.
    pub(super) fn deployment_sync(&mut self, k: &ObjKey) {
        let Some(dep) = self.index.get(Kind::Deployment, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        if self.being_deleted(&dep) {
            return;
        }
        let uid = dep["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let want = replicas(&dep);
        let all = self.index.children_of(&uid, Kind::ReplicaSet);
        let (mut current, mut old): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|r| template_matches(r, &dep));
        let rs = match current.pop() {
            Some(rs) => self.scale_rs(&dep, &rs, want),
            None => {
                // A changed template (e.g. `kubectl rollout restart`): a new revision.
                let revision = old.iter().map(revision_of).max().unwrap_or(0) + 1;
                let Some(rs) = self.create_replicaset(&dep, want, revision) else {
                    return;
                };
                rs
            }
        };
        old.extend(current);
        // Old revisions keep what the new one can't serve yet (availability first), newest
        // first, and go to 0 once the new pods are available.
        old.sort_by_key(|r| std::cmp::Reverse(revision_of(r)));
        let new_available = rs["status"]["availableReplicas"].as_i64().unwrap_or(0);
        let mut keep = (want - new_available).max(0);
        let mut olds = Vec::new();
        for o in old {
            let to = keep.min(replicas(&o));
            keep -= to;
            olds.push(self.scale_rs(&dep, &o, to));
        }
        let sum = |f: &str| {
            std::iter::once(&rs)
                .chain(olds.iter())
                .map(|r| r["status"][f].as_i64().unwrap_or(0))
                .sum::<i64>()
        };
        let available = sum("availableReplicas");
        let old_left: i64 = olds.iter().map(|r| replicas(r)).sum();
        let now = fmt(self.store.clock().now());
        let max_unavailable = (want as f64 * 0.25).floor() as i64;
        let avail_ok = available >= want - max_unavailable;
        let rs_name = rs["metadata"]["name"].as_str().unwrap_or("");
        let mut conditions = dep["status"]["conditions"].clone();
        let (a_reason, a_msg) = if avail_ok {
            (
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        super::util::set_condition(
            &mut conditions,
            json!({"type": "Available", "status": if avail_ok {"True"} else {"False"},
            "reason": a_reason, "message": a_msg, "lastUpdateTime": now}),
            &now,
        );
        let progressed = new_available >= want && old_left == 0;
        let (p_reason, p_msg) = if progressed {
            (
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            )
        } else {
            (
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
            )
        };
        super::util::set_condition(
            &mut conditions,
            json!({"type": "Progressing", "status": "True",
            "reason": p_reason, "message": p_msg, "lastUpdateTime": now}),
            &now,
        );
        // lastUpdateTime only moves with the condition, or every status write would churn.
        for (c, old) in conditions.as_array_mut().unwrap().iter_mut().zip(
            dep["status"]["conditions"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .chain(std::iter::repeat(&Value::Null)),
        ) {
            if old["type"] == c["type"]
                && old["status"] == c["status"]
                && old["reason"] == c["reason"]
            {
                c["lastUpdateTime"] = old["lastUpdateTime"].clone();
            }
        }
        let unavailable = (want - available).max(0);
        let mut status = json!({
            "observedGeneration": dep["metadata"]["generation"],
            "replicas": sum("replicas"),
            "updatedReplicas": rs["status"]["replicas"].as_i64().unwrap_or(0),
            "readyReplicas": sum("readyReplicas"),
            "availableReplicas": available,
            "conditions": conditions,
        });
        if unavailable > 0 {
            status["unavailableReplicas"] = json!(unavailable);
        }
        self.set_status(Kind::Deployment, k, status);
    }

    /// Sets a ReplicaSet's replicas (with the deployment controller's event); returns it.
    fn scale_rs(&mut self, dep: &Value, rs: &Arc<Value>, to: i64) -> Arc<Value> {
        let from = replicas(rs);
        if from == to {
            return rs.clone();
        }
        let (ns, name) = super::util::key_of(rs);
        let Ok(r) = self.store.update(Kind::ReplicaSet, &ns, &name, |r| {
            r["spec"]["replicas"] = json!(to);
            r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                json!(replicas(dep).to_string());
            Ok(())
        }) else {
            return rs.clone();
        };
        self.saw(Kind::ReplicaSet, &r);
        self.dirty(Kind::ReplicaSet, (ns, name.clone()));
        let dir = if to > from { "up" } else { "down" };
        events::record(
            &self.store,
            dep,
            "Normal",
            "ScalingReplicaSet",
            &format!("Scaled {dir} replica set {name} to {to}"),
            "deployment-controller",
        );
        r
    }

    fn create_replicaset(&mut self, dep: &Value, want: i64, revision: i64) -> Option<Arc<Value>> {
        let (ns, name) = super::util::key_of(dep);
        let hash = template_hash(&dep["spec"]["template"]);
        let mut rs = new_replicaset(dep, &hash, want);
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
            json!(revision.to_string());
        rs["metadata"]["creationTimestamp"] = Value::Null;
        if let Some(m) = rs["metadata"].as_object_mut() {
            m.remove("creationTimestamp");
        }
        let rs_name = format!("{name}-{hash}");
        let r = self.store.create(Kind::ReplicaSet, rs).ok()?;
        self.saw(Kind::ReplicaSet, &r);
        self.dirty(Kind::ReplicaSet, (ns.clone(), rs_name.clone()));
        // The revision annotation, from the first ReplicaSet on (a new Deployment gets "1").
        if dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
            != json!(revision.to_string())
        {
            let _ = self.store.update(Kind::Deployment, &ns, &name, |d| {
                d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
                    json!(revision.to_string());
                Ok(())
            });
        }
        events::record(
            &self.store,
            dep,
            "Normal",
            "ScalingReplicaSet",
            &format!("Scaled up replica set {rs_name} to {want}"),
            "deployment-controller",
        );
        Some(r)
    }
}

fn revision_of(rs: &Arc<Value>) -> i64 {
    rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// Whether a ReplicaSet runs the Deployment's current template (ignoring the hash label).
fn template_matches(rs: &Value, dep: &Value) -> bool {
    let mut t = rs["spec"]["template"].clone();
    if let Some(l) = t["metadata"]["labels"].as_object_mut() {
        l.remove("pod-template-hash");
    }
    let mut d = dep["spec"]["template"].clone();
    if let Some(l) = d["metadata"]["labels"].as_object_mut() {
        l.remove("pod-template-hash");
    }
    t == d
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
    let surge = ((replicas as f64) * 0.25).ceil() as i64;
    json!({
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": ns,
            "labels": labels,
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                "deployment.kubernetes.io/max-replicas": (replicas + surge).to_string(),
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
