//! Turning a scenario file into objects: nodes, namespaces, workloads with their pods already
//! placed and Running, PDBs with a current status.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use color_eyre::Result;
use color_eyre::eyre::eyre;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::format::{PdbSpec, ScenarioFile, WorkloadSpec};
use super::objects::{ago, labels_of, namespace_object, node_object, template};
use crate::sim::controllers::daemonset::{ds_pod, ds_template, should_run};
use crate::sim::controllers::index::Usage;
use crate::sim::controllers::job::job_pod;
use crate::sim::controllers::kubelet::allocate_ip;
use crate::sim::controllers::podspec::{
    RunningOpts, pod_from_template, running_status, succeeded_status,
};
use crate::sim::controllers::replicaset::{new_replicaset, template_hash};
use crate::sim::controllers::statefulset::sts_pod;
use crate::sim::controllers::util::{
    controller_selector, fmt, owner_ref, parse_age, pod_requests, random_hex,
};
use crate::sim::controllers::{disruption, scheduler};
use crate::sim::kinds::Kind;
use crate::sim::store::{Store, random_suffix};

mod history;

struct Builder<'a> {
    store: &'a Store,
    version: String,
    now: Timestamp,
    nodes: BTreeMap<String, Arc<Value>>,
    node_order: Vec<String>,
    usage: HashMap<String, Usage>,
    used_ips: HashSet<String>,
    pods: Vec<Arc<Value>>,
    /// Pods given the events of their recent start (see `recent_events`).
    past_events: usize,
    /// Where the scheduler's next search for nodes starts (see `scheduler::pick`).
    next_node: usize,
}

fn err(e: impl std::fmt::Display) -> color_eyre::Report {
    eyre!("{e}")
}

impl Builder<'_> {
    fn create(&self, kind: Kind, obj: Value) -> Result<Arc<Value>> {
        self.store.create(kind, obj).map_err(err)
    }

    fn workload_meta(&self, w: &WorkloadSpec) -> Value {
        let age = w.age.as_deref().or(w.pod_age.as_deref()).unwrap_or("1h");
        json!({"name": w.name, "namespace": w.namespace, "labels": labels_of(w),
               "creationTimestamp": fmt(ago(self.now, age))})
    }

    /// Places (unless pending), starts and creates one pod.
    fn place(
        &mut self,
        w: &WorkloadSpec,
        i: usize,
        mut pod: Value,
        node: Option<String>,
    ) -> Result<Arc<Value>> {
        // Long: one pod's name, age, placement, addresses and start, in the controllers' order.
        if let Some(name) = w.pod_names.get(i) {
            pod["metadata"]["name"] = json!(name);
        }
        let age = w
            .pod_ages
            .get(i)
            .map(String::as_str)
            .or(w.pod_age.as_deref())
            .or(w.age.as_deref())
            .unwrap_or("1h");
        let created = ago(self.now, age);
        pod["metadata"]["creationTimestamp"] = json!(fmt(created));
        if w.pending {
            return self.create(Kind::Pod, pod);
        }
        let node = match node.or_else(|| w.nodes.get(i).cloned()) {
            Some(n) => Some(n),
            None => {
                let nodes: Vec<&Value> = self.node_order.iter().map(|n| &*self.nodes[n]).collect();
                scheduler::pick(&pod, &nodes, &self.usage, &mut self.next_node).ok()
            }
        };
        let Some(node_name) = node else {
            // Nothing fits: the pod waits, and the scheduler reports why.
            return self.create(Kind::Pod, pod);
        };
        let node = self.nodes[&node_name].clone();
        let host_ip = crate::sim::controllers::kubelet::host_ip(&node);
        let ip = if w.host_network {
            host_ip.clone()
        } else if let Some(ip) = w.pod_ips.get(i) {
            ip.clone()
        } else {
            let cidr = node["spec"]["podCIDR"].as_str().unwrap_or("10.244.0.0/24");
            allocate_ip(cidr, &self.used_ips).unwrap_or_default()
        };
        self.used_ips.insert(ip.clone());
        pod["spec"]["nodeName"] = json!(node_name);
        let start = fmt(created);
        let started_at = fmt(created
            .checked_add(SignedDuration::from_secs(2))
            .unwrap_or(created));
        if w.completed {
            let end = fmt(created
                .checked_add(SignedDuration::from_secs(20))
                .unwrap_or(created));
            pod["status"] = succeeded_status(&pod, &host_ip, &ip, &start, &end);
        } else {
            let last = w.last_restart_age.as_deref().map(|a| fmt(ago(self.now, a)));
            let running_since = last.clone().unwrap_or(started_at.clone());
            pod["status"] = running_status(
                &pod,
                &RunningOpts {
                    host_ip: &host_ip,
                    pod_ip: &ip,
                    start: &start,
                    started_at: &running_since,
                    ready: true,
                    restarts: (w.restarts > 0)
                        .then(|| (w.restarts, last.as_deref().unwrap_or(&started_at))),
                },
            );
            self.usage
                .entry(node_name)
                .or_default()
                .add(pod_requests(&pod), 1);
        }
        let p = self.create(Kind::Pod, pod)?;
        self.recent_events(&p, created);
        self.pods.push(p.clone());
        Ok(p)
    }

    fn set_status(&self, kind: Kind, obj: &Value, status: Value) -> Result<()> {
        let (ns, name) = crate::sim::controllers::util::key_of(obj);
        self.store
            .update(kind, &ns, &name, |o| {
                o["status"] = status;
                Ok(())
            })
            .map(|_| ())
            .map_err(err)
    }

    fn deployment(&mut self, w: &WorkloadSpec) -> Result<()> {
        let labels = labels_of(w);
        let dep = json!({
            "metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {
                "replicas": w.replicas, "selector": {"matchLabels": labels}, "template": template(w),
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            },
        });
        let mut dep = dep;
        merge_meta(&mut dep, self.workload_meta(w));
        let dep = self.create(Kind::Deployment, dep)?;
        let hash = w
            .pod_template_hash
            .clone()
            .unwrap_or_else(|| template_hash(&dep["spec"]["template"]));
        let rs = self.create(Kind::ReplicaSet, new_replicaset(&dep, &hash, w.replicas))?;
        let n = self.rs_pods(w, &rs)?;
        self.recent_scaling(&dep, &rs);
        let now = fmt(self.now);
        let created = dep["metadata"]["creationTimestamp"].clone();
        self.set_status(Kind::Deployment, &dep, json!({
            "observedGeneration": 1, "replicas": n, "updatedReplicas": n, "readyReplicas": n, "availableReplicas": n,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastUpdateTime": created, "lastTransitionTime": created},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{}\" has successfully progressed.", rs["metadata"]["name"].as_str().unwrap_or("")), "lastUpdateTime": now, "lastTransitionTime": created},
            ],
        }))
    }

    fn rs_pods(&mut self, w: &WorkloadSpec, rs: &Arc<Value>) -> Result<i64> {
        let (ns, name) = crate::sim::controllers::util::key_of(rs);
        let mut running = 0;
        for i in 0..w.replicas as usize {
            let pod = pod_from_template(
                &rs["spec"]["template"],
                &ns,
                &format!("{name}-{}", random_suffix(5)),
                Some(owner_ref(rs)),
                &[],
            );
            let p = self.place(w, i, pod, None)?;
            self.recent_create(rs, &p);
            running += i64::from(p["status"]["phase"] == "Running");
        }
        self.set_status(
            Kind::ReplicaSet,
            rs,
            json!({"replicas": w.replicas, "fullyLabeledReplicas": w.replicas,
            "readyReplicas": running, "availableReplicas": running, "observedGeneration": 1}),
        )?;
        Ok(running)
    }

    fn replicaset(&mut self, w: &WorkloadSpec) -> Result<()> {
        let mut rs = json!({"spec": {"replicas": w.replicas, "selector": {"matchLabels": labels_of(w)}, "template": template(w)}});
        merge_meta(&mut rs, self.workload_meta(w));
        let rs = self.create(Kind::ReplicaSet, rs)?;
        self.rs_pods(w, &rs).map(|_| ())
    }

    fn daemonset(&mut self, w: &WorkloadSpec) -> Result<()> {
        let mut ds = json!({"spec": {
            "selector": {"matchLabels": labels_of(w)}, "template": template(w), "revisionHistoryLimit": 10,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
        }});
        merge_meta(&mut ds, self.workload_meta(w));
        ds["metadata"]["annotations"] = json!({"deprecated.daemonset.template.generation": "1"});
        let ds = self.create(Kind::DaemonSet, ds)?;
        let t = ds_template(&ds);
        let mut n = 0;
        for node in self.node_order.clone() {
            if !should_run(&t, &self.nodes[&node]) {
                continue;
            }
            let pod = ds_pod(&ds, &t, &node);
            self.place(w, n, pod, Some(node))?;
            n += 1;
        }
        self.set_status(Kind::DaemonSet, &ds, json!({"currentNumberScheduled": n, "desiredNumberScheduled": n,
            "numberMisscheduled": 0, "numberReady": n, "numberAvailable": n, "updatedNumberScheduled": n, "observedGeneration": 1}))
    }

    fn statefulset(&mut self, w: &WorkloadSpec) -> Result<()> {
        let mut sts = json!({"spec": {
            "replicas": w.replicas, "selector": {"matchLabels": labels_of(w)}, "template": template(w),
            "serviceName": w.service_name.clone().unwrap_or_else(|| w.name.clone()),
            "podManagementPolicy": "OrderedReady", "revisionHistoryLimit": 10,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        }});
        merge_meta(&mut sts, self.workload_meta(w));
        let sts = self.create(Kind::StatefulSet, sts)?;
        for i in 0..w.replicas {
            self.place(w, i as usize, sts_pod(&sts, i), None)?;
        }
        let rev = format!("{}-{}", w.name, template_hash(&sts["spec"]["template"]));
        let n = w.replicas;
        self.set_status(Kind::StatefulSet, &sts, json!({"replicas": n, "readyReplicas": n, "currentReplicas": n,
            "updatedReplicas": n, "availableReplicas": n, "currentRevision": rev, "updateRevision": rev,
            "collisionCount": 0, "observedGeneration": 1}))
    }

    fn job(&mut self, w: &WorkloadSpec) -> Result<()> {
        let mut t = template(w);
        t["spec"]["restartPolicy"] = json!("Never");
        let mut job = json!({"spec": {"completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
            "suspend": false, "template": t}});
        merge_meta(&mut job, self.workload_meta(w));
        let job = self.create(Kind::Job, job)?;
        let uid = job["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let (ns, name) = crate::sim::controllers::util::key_of(&job);
        // The selector and template labels the API server adds (needs the uid).
        let job = self
            .store
            .update(Kind::Job, &ns, &name, |j| {
                j["spec"]["selector"] = json!({"matchLabels": {"controller-uid": uid}});
                for (k, v) in [
                    ("controller-uid", uid.as_str()),
                    ("job-name", name.as_str()),
                ] {
                    j["spec"]["template"]["metadata"]["labels"][k] = json!(v);
                }
                Ok(())
            })
            .map_err(err)?;
        let p = self.place(w, 0, job_pod(&job), None)?;
        let start = job["metadata"]["creationTimestamp"].clone();
        let status = if w.completed {
            let end =
                p["status"]["containerStatuses"][0]["state"]["terminated"]["finishedAt"].clone();
            json!({"startTime": start, "completionTime": end, "succeeded": 1, "ready": 0,
                   "conditions": [{"type": "Complete", "status": "True", "lastProbeTime": end, "lastTransitionTime": end}]})
        } else {
            json!({"startTime": start, "active": 1, "ready": 1})
        };
        self.set_status(Kind::Job, &job, status)
    }

    fn bare_pod(&mut self, w: &WorkloadSpec) -> Result<()> {
        let name = match &w.mirror_of {
            Some(node) => format!("{}-{node}", w.name),
            None => w.name.clone(),
        };
        let mut pod = pod_from_template(&template(w), &w.namespace, &name, None, &[]);
        if let Some(node) = &w.mirror_of {
            let n = self.nodes[node].clone();
            let hash = random_hex(32);
            pod["metadata"]["annotations"]["kubernetes.io/config.hash"] = json!(hash);
            pod["metadata"]["annotations"]["kubernetes.io/config.mirror"] = json!(hash);
            pod["metadata"]["annotations"]["kubernetes.io/config.seen"] =
                json!(n["metadata"]["creationTimestamp"]);
            pod["metadata"]["annotations"]["kubernetes.io/config.source"] = json!("file");
            pod["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "Node", "name": node,
                "uid": n["metadata"]["uid"], "controller": true}]);
            // Static pods have no service account token.
            let spec = pod["spec"].as_object_mut().unwrap();
            spec.remove("serviceAccount");
            spec.remove("serviceAccountName");
            spec.insert(
                "tolerations".into(),
                json!([{"operator": "Exists", "effect": "NoExecute"}]),
            );
            let vols: Vec<Value> = spec["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["projected"].is_null())
                .cloned()
                .collect();
            spec.insert("volumes".into(), json!(vols));
            for c in spec["containers"].as_array_mut().unwrap() {
                let mounts: Vec<Value> = c["volumeMounts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["mountPath"] != "/var/run/secrets/kubernetes.io/serviceaccount")
                    .cloned()
                    .collect();
                c["volumeMounts"] = json!(mounts);
            }
            self.place(w, 0, pod, Some(node.clone()))?;
        } else {
            self.place(w, 0, pod, None)?;
        }
        Ok(())
    }

    fn pdb(&mut self, p: &PdbSpec) -> Result<()> {
        let mut spec = json!({"selector": {"matchLabels": p.selector}});
        if let Some(v) = &p.min_available {
            spec["minAvailable"] = v.clone();
        }
        if let Some(v) = &p.max_unavailable {
            spec["maxUnavailable"] = v.clone();
        }
        let pdb = self.create(Kind::PodDisruptionBudget, json!({
            "metadata": {"name": p.name, "namespace": p.namespace, "creationTimestamp": fmt(ago(self.now, "1h"))},
            "spec": spec,
        }))?;
        // Read once for all the pods.
        let selector = controller_selector(&pdb["spec"]["selector"]);
        let matching: Vec<&Arc<Value>> = self
            .pods
            .iter()
            .filter(|pod| {
                pod["metadata"]["namespace"] == p.namespace.as_str()
                    && selector
                        .as_ref()
                        .is_some_and(|s| s.matches_labels(&pod["metadata"]["labels"]))
                    && pod["status"]["phase"] != "Succeeded"
            })
            .collect();
        let count = matching.len() as i64;
        let (expected, desired) = disruption::desired(&pdb["spec"], count, count);
        let healthy = count;
        let allowed = (healthy - desired).max(0);
        let now = fmt(self.now);
        let (s, r) = if allowed > 0 {
            ("True", "SufficientPods")
        } else {
            ("False", "InsufficientPods")
        };
        self.set_status(Kind::PodDisruptionBudget, &pdb, json!({
            "currentHealthy": healthy, "desiredHealthy": desired, "disruptionsAllowed": allowed,
            "expectedPods": expected, "observedGeneration": 1,
            "conditions": [{"type": "DisruptionAllowed", "status": s, "reason": r, "message": "",
                "observedGeneration": 1, "lastTransitionTime": now}],
        }))
    }
}

fn merge_meta(obj: &mut Value, meta: Value) {
    for (k, v) in meta.as_object().unwrap() {
        obj["metadata"][k] = v.clone();
    }
}

/// Every list of workloads (and bare pods) in the file.
fn workload_lists(f: &ScenarioFile) -> [&Vec<WorkloadSpec>; 6] {
    [
        &f.deployments,
        &f.replicasets,
        &f.daemonsets,
        &f.statefulsets,
        &f.jobs,
        &f.pods,
    ]
}

/// The built-in namespaces, the file's, and those its objects are in, each once.
fn namespaces(f: &ScenarioFile) -> Vec<String> {
    let mut namespaces: Vec<String> = ["default", "kube-node-lease", "kube-public", "kube-system"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let all = workload_lists(f);
    for ns in f
        .namespaces
        .iter()
        .chain(all.iter().flat_map(|l| l.iter().map(|w| &w.namespace)))
        .chain(f.pdbs.iter().map(|p| &p.namespace))
    {
        if !namespaces.contains(ns) {
            namespaces.push(ns.clone());
        }
    }
    namespaces
}

/// Creates every object of the scenario file in `store`.
pub(super) fn populate(f: &ScenarioFile, store: &Store) -> Result<()> {
    let now = store.clock().now();
    let oldest = f
        .nodes
        .iter()
        .filter_map(|n| n.age.as_deref())
        .max_by_key(|a| parse_age(a).unwrap_or_default())
        .unwrap_or("30d");
    let ns_created = fmt(ago(now, oldest));
    let namespaces = namespaces(f);
    for ns in &namespaces {
        if store.get(Kind::Namespace, "", ns).is_none() {
            store
                .create(Kind::Namespace, namespace_object(ns, &ns_created))
                .map_err(err)?;
        }
    }
    let mut b = Builder {
        store,
        version: f.server_version.clone(),
        now,
        nodes: BTreeMap::new(),
        node_order: Vec::new(),
        usage: HashMap::new(),
        used_ips: workload_lists(f)
            .iter()
            .flat_map(|l| l.iter().flat_map(|w| w.pod_ips.iter().cloned()))
            .collect(),
        pods: Vec::new(),
        past_events: 0,
        next_node: 0,
    };
    for (i, n) in f.nodes.iter().enumerate() {
        let node = b.create(Kind::Node, node_object(n, &b.version, now, i))?;
        b.nodes.insert(n.name.clone(), node);
        b.node_order.push(n.name.clone());
    }
    // Static pods and DaemonSets first: they were there before the workloads.
    for w in f.pods.iter().filter(|w| w.mirror_of.is_some()) {
        b.bare_pod(w)?;
    }
    for w in &f.daemonsets {
        b.daemonset(w)?;
    }
    for w in &f.deployments {
        b.deployment(w)?;
    }
    for w in &f.replicasets {
        b.replicaset(w)?;
    }
    for w in &f.statefulsets {
        b.statefulset(w)?;
    }
    for w in &f.jobs {
        b.job(w)?;
    }
    for w in f.pods.iter().filter(|w| w.mirror_of.is_none()) {
        b.bare_pod(w)?;
    }
    for p in &f.pdbs {
        b.pdb(p)?;
    }
    Ok(())
}
