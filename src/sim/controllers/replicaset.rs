//! Deployments (one ReplicaSet each, named by the pod-template-hash) and ReplicaSets (keep
//! `spec.replicas` live pods; replacements for deleted or evicted pods appear at once).

use std::sync::Arc;

use serde_json::{Value, json};

use super::podspec::pod_from_template;
use super::util::{controller_uid, fmt, is_active, owner_ref, pod_ready};
use super::{Manager, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{ChangeType, ObjKey, random_suffix};

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
        let Some(rs) = self.index.get(Kind::ReplicaSet, k).cloned() else {
            return;
        };
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
                    let _ = self.index.apply(Kind::Pod, ChangeType::Added, p.clone());
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
            m.retain(|key, v| {
                !(v == &json!(0)
                    && key != "replicas"
                    && !key.contains("Number")
                    && key != "observedGeneration")
            });
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
        let Some(dep) = self.index.get(Kind::Deployment, k).cloned() else {
            return;
        };
        let uid = dep["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let want = replicas(&dep);
        let rs = self
            .index
            .of(Kind::ReplicaSet)
            .filter(|(rk, r)| rk.0 == k.0 && controller_uid(r) == Some(uid.as_str()))
            .map(|(_, r)| r.clone())
            .next();
        let rs = match rs {
            Some(rs) => {
                if replicas(&rs) != want {
                    let (ns, name) = super::util::key_of(&rs);
                    let up = want > replicas(&rs);
                    if let Ok(r) = self.store.update(Kind::ReplicaSet, &ns, &name, |r| {
                        r["spec"]["replicas"] = json!(want);
                        r["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] =
                            json!(want.to_string());
                        Ok(())
                    }) {
                        self.saw(Kind::ReplicaSet, &r);
                        self.dirty(Kind::ReplicaSet, (ns, name.clone()));
                        events::record(
                            &self.store,
                            &dep,
                            "Normal",
                            "ScalingReplicaSet",
                            &format!(
                                "Scaled {} replica set {name} to {want}",
                                if up { "up" } else { "down" }
                            ),
                            "deployment-controller",
                        );
                    }
                }
                self.index
                    .get(Kind::ReplicaSet, &super::util::key_of(&rs))
                    .cloned()
                    .unwrap_or(rs)
            }
            None => {
                let Some(rs) = self.create_replicaset(&dep, want) else {
                    return;
                };
                rs
            }
        };
        let st = &rs["status"];
        let n = |f: &str| st[f].as_i64().unwrap_or(0);
        let available = n("availableReplicas");
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
        let progressed = available >= want;
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
            "replicas": n("replicas"),
            "updatedReplicas": n("replicas"),
            "readyReplicas": n("readyReplicas"),
            "availableReplicas": available,
            "conditions": conditions,
        });
        if unavailable > 0 {
            status["unavailableReplicas"] = json!(unavailable);
        }
        self.set_status(Kind::Deployment, k, status);
    }

    fn create_replicaset(&mut self, dep: &Value, want: i64) -> Option<Arc<Value>> {
        let (ns, name) = super::util::key_of(dep);
        let hash = template_hash(&dep["spec"]["template"]);
        let rs = new_replicaset(dep, &hash, want);
        let rs_name = format!("{name}-{hash}");
        let r = self.store.create(Kind::ReplicaSet, rs).ok()?;
        let _ = self
            .index
            .apply(Kind::ReplicaSet, ChangeType::Added, r.clone());
        self.dirty(Kind::ReplicaSet, (ns, rs_name.clone()));
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
