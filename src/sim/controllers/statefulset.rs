//! StatefulSets: pods `<sts>-0..n`, created in order, recreated under the same name with a new
//! uid after deletion.

use serde_json::{Value, json};

use super::podspec::pod_from_template;
use super::util::{is_active, is_terminating, owner_ref, pod_ready};
use super::{Manager, events};
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

/// The pod `<sts>-<ordinal>` of a StatefulSet.
pub fn sts_pod(sts: &Value, ordinal: i64) -> Value {
    let (ns, name) = super::util::key_of(sts);
    let pod_name = format!("{name}-{ordinal}");
    let rev = format!(
        "{name}-{}",
        super::replicaset::template_hash(&sts["spec"]["template"])
    );
    let mut pod = pod_from_template(
        &sts["spec"]["template"],
        &ns,
        &pod_name,
        Some(owner_ref(sts)),
        &[
            ("controller-revision-hash", rev),
            ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
            ("apps.kubernetes.io/pod-index", ordinal.to_string()),
        ],
    );
    pod["spec"]["hostname"] = json!(pod_name);
    if let Some(svc) = sts["spec"]["serviceName"].as_str() {
        pod["spec"]["subdomain"] = json!(svc);
    }
    pod
}

impl Manager {
    /// Keeps pods `<sts>-0..replicas` (OrderedReady: the next is created once the previous is
    /// Ready), removes higher ordinals, and the status.
    pub(super) fn statefulset_sync(&mut self, k: &ObjKey) {
        let Some(sts) = self.index.get(Kind::StatefulSet, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        if self.being_deleted(&sts) {
            return;
        }
        let want = sts["spec"]["replicas"].as_i64().unwrap_or(1);
        let uid = sts["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let owned = self.index.owned(&uid);
        let (mut replicas, mut ready) = (0, 0);
        for i in 0..want {
            let name = format!("{}-{i}", k.1);
            match self.index.pod(&(k.0.clone(), name.clone())) {
                Some(p) => {
                    replicas += 1;
                    if pod_ready(&p) && !is_terminating(&p) {
                        ready += 1;
                    } else if sts["spec"]["podManagementPolicy"] != "Parallel" {
                        break;
                    }
                }
                None => {
                    let pod = sts_pod(&sts, i);
                    if let Ok(p) = self.store.create(Kind::Pod, pod) {
                        self.saw(Kind::Pod, &p);
                        replicas += 1;
                        events::record(
                            &self.store,
                            &sts,
                            "Normal",
                            "SuccessfulCreate",
                            &format!("create Pod {name} in StatefulSet {} successful", k.1),
                            "statefulset-controller",
                        );
                    }
                    if sts["spec"]["podManagementPolicy"] != "Parallel" {
                        break;
                    }
                }
            }
        }
        for p in owned {
            let name = p["metadata"]["name"].as_str().unwrap_or("");
            let ordinal = name
                .rsplit('-')
                .next()
                .and_then(|o| o.parse::<i64>().ok())
                .unwrap_or(0);
            if ordinal >= want && is_active(&p) {
                self.delete_pod(&p);
                events::record(
                    &self.store,
                    &sts,
                    "Normal",
                    "SuccessfulDelete",
                    &format!("delete Pod {name} in StatefulSet {} successful", k.1),
                    "statefulset-controller",
                );
            }
        }
        let rev = format!(
            "{}-{}",
            k.1,
            super::replicaset::template_hash(&sts["spec"]["template"])
        );
        let status = json!({
            "replicas": replicas,
            "readyReplicas": ready,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": ready,
            "currentRevision": rev,
            "updateRevision": rev,
            "collisionCount": 0,
            "observedGeneration": sts["metadata"]["generation"],
        });
        self.set_status(Kind::StatefulSet, k, status);
    }
}
