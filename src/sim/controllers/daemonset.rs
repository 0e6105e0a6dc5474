//! DaemonSets: one pod per eligible node, pinned by node affinity and tolerating cordons and
//! node problems, as the real controller creates them (the scheduler then binds them).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::podspec::{daemonset_tolerations, pod_from_template};
use super::util::{is_active, owner_ref, pod_ready, tolerates};
use super::{Manager, events};
use crate::sim::kinds::Kind;
use crate::sim::store::{ObjKey, random_suffix};

/// The node a DaemonSet pod is meant for (bound node, or its affinity target).
pub fn target_node(pod: &Value) -> Option<&str> {
    if let Some(n) = pod["spec"]["nodeName"].as_str() {
        return Some(n);
    }
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0]
        ["matchFields"][0]["values"][0]
        .as_str()
}

/// The pod template a DaemonSet's pods get: its own plus the DaemonSet tolerations.
pub fn ds_template(ds: &Value) -> Value {
    let mut t = ds["spec"]["template"].clone();
    let host_net = t["spec"]["hostNetwork"] == true;
    if !t["spec"]["tolerations"].is_array() {
        t["spec"]["tolerations"] = json!([]);
    }
    let arr = t["spec"]["tolerations"].as_array_mut().unwrap();
    for d in daemonset_tolerations(host_net) {
        if !arr
            .iter()
            .any(|x| x["key"] == d["key"] && x["effect"] == d["effect"])
        {
            arr.push(d);
        }
    }
    t
}

/// Whether the DaemonSet should run on `node` (selector and taints; cordons don't matter).
pub fn should_run(template: &Value, node: &Value) -> bool {
    let labels = &node["metadata"]["labels"];
    if let Some(sel) = template["spec"]["nodeSelector"].as_object()
        && sel.iter().any(|(k, v)| labels.get(k) != Some(v))
    {
        return false;
    }
    node["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|t| {
            let e = t["effect"].as_str().unwrap_or("");
            // Condition taints (not-ready...) are tolerated by the added tolerations; others must be.
            !(e == "NoSchedule" || e == "NoExecute")
                || tolerates(&template["spec"]["tolerations"], t)
        })
}

/// A DaemonSet pod for `node`, named `<ds>-<5 random chars>`.
pub fn ds_pod(ds: &Value, template: &Value, node: &str) -> Value {
    let (ns, name) = super::util::key_of(ds);
    let pod_name = format!("{name}-{}", random_suffix(5));
    let generation = ds["metadata"]["generation"]
        .as_i64()
        .unwrap_or(1)
        .to_string();
    let hash = super::replicaset::template_hash(&ds["spec"]["template"]);
    let mut pod = pod_from_template(
        template,
        &ns,
        &pod_name,
        Some(owner_ref(ds)),
        &[
            ("controller-revision-hash", hash),
            ("pod-template-generation", generation),
        ],
    );
    pod["spec"]["affinity"]["nodeAffinity"] = json!({"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}});
    pod
}

impl Manager {
    /// Keeps one pod per eligible node, and the status counts.
    /// The DaemonSets a node change concerns, as the DaemonSet controller's node handler
    /// picks them: every one for a node added or removed, else those whose should-run answer
    /// for the node changed. A cordon changes none (their pods tolerate `unschedulable`),
    /// and a sync decodes every pod a DaemonSet owns: during M5's drain at 5,000 nodes, a
    /// third of the controllers' time went to two DaemonSets that had nothing to do.
    pub(super) fn daemonsets_for_node(
        &self,
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Vec<ObjKey> {
        self.index
            .of(Kind::DaemonSet)
            .filter_map(|(k, _)| {
                let (Some(old), Some(new)) = (old, new) else {
                    return Some(k.clone());
                };
                let ds = self.index.get(Kind::DaemonSet, k)?;
                let template = ds_template(&ds);
                (should_run(&template, old) != should_run(&template, new)).then(|| k.clone())
            })
            .collect()
    }

    pub(super) fn daemonset_sync(&mut self, k: &ObjKey) {
        // Long: the DaemonSet controller's pass: which nodes want a pod, the pods to create
        // and delete (orphans of gone nodes too), then the status counts they leave.
        let Some(ds) = self.index.get(Kind::DaemonSet, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        if self.being_deleted(&ds) {
            return;
        }
        let uid = ds["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let template = ds_template(&ds);
        let mut by_node: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
        for p in self.index.owned(&uid) {
            if is_active(&p)
                && let Some(n) = target_node(&p)
            {
                by_node.entry(n.to_string()).or_default().push(p.clone());
            }
        }
        let (mut desired, mut current, mut ready, mut misscheduled) = (0, 0, 0, 0);
        let nodes: Vec<(String, Arc<Value>)> = self
            .index
            .nodes
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        for (name, node) in &nodes {
            let run = should_run(&template, node);
            let pods = by_node.remove(name).unwrap_or_default();
            if run {
                desired += 1;
                if pods.is_empty() {
                    let pod = ds_pod(&ds, &template, name);
                    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
                    if let Ok(p) = self.store.create(Kind::Pod, pod) {
                        self.saw(Kind::Pod, &p);
                        events::record(
                            &self.store,
                            &ds,
                            "Normal",
                            "SuccessfulCreate",
                            &format!("Created pod: {pod_name}"),
                            "daemonset-controller",
                        );
                    }
                    continue;
                }
                current += 1;
                if pods.iter().any(|p| pod_ready(p)) {
                    ready += 1;
                }
                for extra in pods.iter().skip(1) {
                    self.delete_pod(extra);
                }
            } else if !pods.is_empty() {
                misscheduled += 1;
                for p in &pods {
                    self.delete_pod(p);
                    events::record(
                        &self.store,
                        &ds,
                        "Normal",
                        "SuccessfulDelete",
                        &format!(
                            "Deleted pod: {}",
                            p["metadata"]["name"].as_str().unwrap_or("")
                        ),
                        "daemonset-controller",
                    );
                }
            }
        }
        // Pods for nodes that no longer exist.
        for pods in by_node.into_values() {
            for p in pods {
                let _ = self.store.delete(
                    Kind::Pod,
                    &k.0,
                    p["metadata"]["name"].as_str().unwrap_or(""),
                );
            }
        }
        let status = json!({
            "currentNumberScheduled": current,
            "desiredNumberScheduled": desired,
            "numberMisscheduled": misscheduled,
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": current,
            "observedGeneration": ds["metadata"]["generation"],
        });
        self.set_status(Kind::DaemonSet, k, status);
    }
}
