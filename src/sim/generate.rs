//! Large generated clusters for benchmarks and scale tests: `nodes` workers with
//! `pods_per_node` pods each (two of them DaemonSet pods), plus one node packed with 110 pods.
//! Objects are built directly, already bound and Running, shaped like production ones
//! (sidecar, env, probes, token volume, managedFields: ~6–8 KB per pod), with the statuses
//! the controllers would compute, so starting the controllers writes nothing.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::clock::format_time;
use super::controllers::podspec::{RunningOpts, pod_from_template, running_status};
use super::controllers::replicaset::new_replicaset;
use super::controllers::util::owner_ref;
use super::kinds::Kind;
use super::scenario::format::{Capacity, NodeSpec};
use super::scenario::objects::{ago, namespace_object, node_object};
use super::store::{Store, random_suffix};

/// Pods per Deployment in generated clusters.
pub const REPLICAS: usize = 10;
/// Namespaces the generated workloads are spread over.
pub const NAMESPACES: usize = 20;
/// Pods on the extra, packed node.
pub const PACKED_PODS: usize = 110;
/// The server version generated clusters report.
pub const VERSION: &str = "v1.29.4";

/// Managed-fields set (`fieldsV1`) describing the fields of `v` down to `depth` levels.
/// Real sets go all the way down, but every small map costs a ~600-byte BTreeMap node in the
/// store; below the cap, leaves are empty maps, which allocate nothing.
fn fields_of(v: &Value, depth: usize) -> Value {
    if depth == 0 {
        return json!({});
    }
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(format!("f:{k}"), fields_of(v, depth - 1));
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let mut out = Map::new();
            for item in a {
                let key = ["name", "type", "ip", "containerPort", "key", "mountPath"]
                    .iter()
                    .find_map(|k| item.get(*k).map(|v| (k, v)));
                if let Some((k, id)) = key {
                    let mut f = fields_of(item, depth - 1);
                    if let Some(m) = f.as_object_mut()
                        && !m.is_empty()
                    {
                        m.insert(".".into(), json!({}));
                    }
                    out.insert(format!("k:{{\"{k}\":{id}}}"), f);
                }
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

fn managed(manager: &str, time: &str, fields: Value, subresource: Option<&str>) -> Value {
    let mut m = json!({"manager": manager, "operation": "Update", "apiVersion": "v1", "time": time,
        "fieldsType": "FieldsV1", "fieldsV1": fields});
    if let Some(s) = subresource {
        m["subresource"] = json!(s);
    }
    m
}

/// A production-shaped pod template: app container with env and probes, plus a log sidecar.
fn app_template(app: &str, team: usize) -> Value {
    let env: Vec<Value> = (0..10)
        .map(|i| match i {
            0 => json!({"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}),
            1 => json!({"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}}),
            _ => json!({"name": format!("APP_SETTING_{i}"), "value": format!("value-{app}-{i}")}),
        })
        .collect();
    let probe = |path: &str, delay: u32| {
        json!({"httpGet": {"path": path, "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": delay,
               "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3})
    };
    json!({
        "metadata": {"labels": {"app": app, "team": format!("team-{team:02}"), "version": "v1"},
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}},
        "spec": {
            "containers": [
                {"name": "app", "image": format!("registry.example.com/team-{team:02}/{app}:1.{}.0", team % 7),
                 "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}, {"containerPort": 9090, "name": "metrics", "protocol": "TCP"}],
                 "env": env,
                 "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                 "livenessProbe": probe("/healthz", 10), "readinessProbe": probe("/ready", 5),
                 "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "logs", "mountPath": "/var/log/app"}]},
                {"name": "log-shipper", "image": "fluent/fluent-bit:2.2.0",
                 "args": ["--config=/fluent-bit/etc/fluent-bit.conf"],
                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
                 "volumeMounts": [{"name": "logs", "mountPath": "/var/log/app", "readOnly": true}]},
            ],
            "volumes": [
                {"name": "config", "configMap": {"name": format!("{app}-config"), "defaultMode": 420}},
                {"name": "logs", "emptyDir": {}},
            ],
            "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": app}}, "topologyKey": "kubernetes.io/hostname"}}]}},
        }
    })
}

fn ds_template(name: &str, image: &str) -> Value {
    json!({
        "metadata": {"labels": {"k8s-app": name}},
        "spec": {
            "containers": [{"name": name, "image": image, "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}}}],
            "hostNetwork": true,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "tolerations": [{"operator": "Exists"}],
        }
    })
}

/// Per-workload prebuilt pod: cloned and patched per replica (building each from scratch
/// would dominate the run time).
struct Base {
    pod: Value,
}

impl Base {
    fn new(template: &Value, ns: &str, owner: &Value, time: &str) -> Self {
        let mut pod = pod_from_template(template, ns, "x", Some(owner_ref(owner)), &[]);
        pod["metadata"]["generateName"] = json!(format!(
            "{}-",
            owner["metadata"]["name"].as_str().unwrap_or("")
        ));
        pod["status"] = running_status(
            &pod,
            &RunningOpts {
                host_ip: "0.0.0.0",
                pod_ip: "0.0.0.0",
                start: time,
                started_at: time,
                ready: true,
                restarts: None,
            },
        );
        // kubelet 1.29 also reports PodReadyToStartContainers.
        pod["status"]["conditions"].as_array_mut().unwrap().insert(0, json!({
            "type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": time}));
        let spec_fields = json!({"f:metadata": fields_of(&json!({
            "generateName": 0, "labels": pod["metadata"]["labels"], "annotations": pod["metadata"]["annotations"],
            "ownerReferences": 0}), 1), "f:spec": fields_of(&pod["spec"], 1)});
        let status_fields = json!({"f:status": fields_of(&pod["status"], 1)});
        pod["metadata"]["managedFields"] = json!([
            managed("kube-controller-manager", time, spec_fields, None),
            managed("kubelet", time, status_fields, Some("status")),
        ]);
        Base { pod }
    }

    /// Sets one replica's own fields on the prebuilt pod, which is reused for every replica
    /// (cloning a production-sized pod per replica was most of the start time).
    fn instance(
        &mut self,
        name: &str,
        node: &str,
        host_ip: &str,
        pod_ip: &str,
        created: &str,
    ) -> &mut Value {
        let p = &mut self.pod;
        let m = &mut p["metadata"];
        if let Some(m) = m.as_object_mut() {
            // The store gives every pod its own.
            m.remove("uid");
        }
        m["name"] = json!(name);
        m["creationTimestamp"] = json!(created);
        let vol = format!("kube-api-access-{}", random_suffix(5));
        let spec = &mut p["spec"];
        spec["nodeName"] = json!(node);
        if let Some(v) = spec["volumes"].as_array_mut().and_then(|v| v.last_mut()) {
            v["name"] = json!(vol);
        }
        for c in spec["containers"].as_array_mut().into_iter().flatten() {
            if let Some(m) = c["volumeMounts"].as_array_mut().and_then(|m| m.last_mut()) {
                m["name"] = json!(vol);
            }
        }
        let st = &mut p["status"];
        st["hostIP"] = json!(host_ip);
        st["hostIPs"] = json!([{"ip": host_ip}]);
        st["podIP"] = json!(pod_ip);
        st["podIPs"] = json!([{"ip": pod_ip}]);
        for c in st["containerStatuses"].as_array_mut().into_iter().flatten() {
            c["containerID"] = json!(format!(
                "containerd://{:016x}{:016x}{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>(),
                rand::random::<u64>(),
                rand::random::<u64>()
            ));
        }
        p
    }
}

fn node_spec(name: String, i: usize, pods: u32) -> NodeSpec {
    NodeSpec {
        name,
        roles: Vec::new(),
        kubelet_version: Some(VERSION.into()),
        os_image: Some("Ubuntu 22.04.4 LTS".into()),
        kernel_version: Some("6.5.0-1017-aws".into()),
        container_runtime: Some("containerd://1.7.13".into()),
        capacity: Capacity {
            cpu: json!("16"),
            memory: "64Gi".into(),
            pods,
        },
        labels: [
            (
                "topology.kubernetes.io/zone".to_string(),
                format!("eu-west-1{}", ['a', 'b', 'c'][i % 3]),
            ),
            (
                "topology.kubernetes.io/region".to_string(),
                "eu-west-1".to_string(),
            ),
            (
                "node.kubernetes.io/instance-type".to_string(),
                "m6i.4xlarge".to_string(),
            ),
            ("nodepool".to_string(), format!("pool-{}", i % 4)),
        ]
        .into_iter()
        .collect(),
        taints: Vec::new(),
        age: Some(format!("{}d", 10 + i % 80)),
        internal_ip: Some(format!(
            "10.{}.{}.{}",
            i / 62500 % 250,
            i / 250 % 250,
            i % 250 + 2
        )),
        pod_cidr: Some(format!("100.{}.{}.0/24", 64 + i / 256 % 64, i % 256)),
        ready: true,
        unschedulable: false,
        reboot_fails: false,
    }
}

fn images() -> Value {
    let list: Vec<Value> = (0..20)
        .map(|i| json!({"names": [
            format!("registry.example.com/team-{:02}/service@sha256:{:064x}", i, i as u128 * 0x9e37_79b9_7f4a_7c15),
            format!("registry.example.com/team-{i:02}/service:1.{i}.0")], "sizeBytes": 50_000_000 + i * 7_000_000}))
        .collect();
    Value::Array(list)
}

fn ip_in(cidr: &str, n: usize) -> String {
    let base = cidr.split('/').next().unwrap_or("100.64.0.0");
    let mut parts: Vec<u32> = base.split('.').filter_map(|p| p.parse().ok()).collect();
    parts.resize(4, 0);
    parts[3] = n as u32 + 1;
    format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[3])
}

struct NodeSlot {
    name: String,
    host_ip: String,
    cidr: String,
    next: usize,
}

/// Creates the generated cluster in `store`.
pub fn populate(store: &Store, nodes: usize, pods_per_node: usize) {
    let now: Timestamp = store.clock().now();
    let old = format_time(ago(now, "90d"));
    let t = format_time(ago(now, "3d"));
    for ns in ["default", "kube-node-lease", "kube-public", "kube-system"]
        .into_iter()
        .map(String::from)
        .chain((0..NAMESPACES).map(|i| format!("team-{i:02}")))
    {
        let _ = store.create(Kind::Namespace, namespace_object(&ns, &old));
    }
    let mut slots = create_nodes(store, nodes, pods_per_node, now);
    // DaemonSets: one pod each per node.
    let ds_per_node = pods_per_node.min(2);
    create_daemonsets(store, &mut slots, ds_per_node, &old, &t);
    let plans = app_plans(&mut slots, nodes, pods_per_node, ds_per_node);
    // The objects are built by a few threads at once (building them is most of the start
    // time; the store takes one write at a time).
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let (slots, plans, t) = (&slots, &plans, &t);
    std::thread::scope(|scope| {
        for w in 0..workers {
            scope.spawn(move || {
                for (d, plan) in plans.iter().enumerate().skip(w).step_by(workers) {
                    deployment(store, d, plan, slots, t);
                }
            });
        }
    });
}

/// The nodes: the workers, then the packed one; returns where each one's pods go.
fn create_nodes(
    store: &Store,
    nodes: usize,
    pods_per_node: usize,
    now: Timestamp,
) -> Vec<NodeSlot> {
    let imgs = images();
    let mut slots = Vec::with_capacity(nodes + 1);
    for i in 0..=nodes {
        let packed = i == nodes;
        let name = if packed {
            "node-packed".to_string()
        } else {
            format!("node-{i:05}")
        };
        let spec = node_spec(
            name.clone(),
            i,
            if packed {
                110
            } else {
                110.max(pods_per_node as u32)
            },
        );
        let mut n = node_object(&spec, VERSION, now, i);
        n["status"]["images"] = imgs.clone();
        let _ = store.create(Kind::Node, n);
        slots.push(NodeSlot {
            name,
            host_ip: spec.internal_ip.clone().unwrap_or_default(),
            cidr: spec.pod_cidr.clone().unwrap_or_default(),
            next: 0,
        });
    }
    slots
}

/// The DaemonSets (at most `ds_per_node`, at least one object), each with one pod per node
/// unless `ds_per_node` is 0.
fn create_daemonsets(
    store: &Store,
    slots: &mut [NodeSlot],
    ds_per_node: usize,
    old: &str,
    t: &str,
) {
    for (name, image) in [
        ("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.4"),
        ("node-exporter", "quay.io/prometheus/node-exporter:v1.7.0"),
    ]
    .into_iter()
    .take(ds_per_node.max(1))
    {
        // Created with the status its pods give it (one write per object, not two).
        let count = slots.len();
        let n = if ds_per_node > 0 { count } else { 0 };
        let Ok(ds) = store.create(Kind::DaemonSet, json!({
            "metadata": {"name": name, "namespace": "kube-system", "labels": {"k8s-app": name}, "creationTimestamp": old,
                         "annotations": {"deprecated.daemonset.template.generation": "1"}},
            "spec": {"selector": {"matchLabels": {"k8s-app": name}}, "template": ds_template(name, image),
                     "revisionHistoryLimit": 10, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
            "status": {"currentNumberScheduled": n, "desiredNumberScheduled": count, "numberMisscheduled": 0,
                "numberReady": n, "numberAvailable": n, "updatedNumberScheduled": n, "observedGeneration": 1},
        })) else { continue };
        let tpl = super::controllers::daemonset::ds_template(&ds);
        let base_pod = super::controllers::daemonset::ds_pod(&ds, &tpl, "x");
        let mut base = Base::new(
            &json!({"metadata": base_pod["metadata"], "spec": base_pod["spec"]}),
            "kube-system",
            &ds,
            t,
        );
        base.pod["metadata"]["name"] = json!("");
        if ds_per_node > 0 {
            for s in slots.iter_mut() {
                let p = base.instance(
                    &format!("{name}-{}", random_suffix(5)),
                    &s.name,
                    &s.host_ip,
                    &s.host_ip,
                    t,
                );
                p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
                    ["nodeSelectorTerms"][0]["matchFields"][0]["values"] = json!([s.name]);
                let _ = store.create_in_place(Kind::Pod, p);
                s.next += 1;
            }
        }
    }
}

/// App pods fill every worker to `pods_per_node` and the packed node to 110: each
/// Deployment's pods, as (node slot, pod IP), decided here.
fn app_plans(
    slots: &mut [NodeSlot],
    nodes: usize,
    pods_per_node: usize,
    ds_per_node: usize,
) -> Vec<Vec<(usize, String)>> {
    let mut placements: Vec<usize> = Vec::new();
    for round in 0..PACKED_PODS.max(pods_per_node) {
        for i in 0..slots.len() {
            let cap = if i == nodes {
                PACKED_PODS
            } else {
                pods_per_node
            };
            if round >= ds_per_node && round < cap {
                placements.push(i);
            }
        }
    }
    placements
        .chunks(REPLICAS)
        .map(|chunk| {
            chunk
                .iter()
                .map(|&i| {
                    let s = &mut slots[i];
                    s.next += 1;
                    (i, ip_in(&s.cidr, s.next - 1))
                })
                .collect()
        })
        .collect()
}

/// Deployment number `d` with its ReplicaSet, its pods (`plan`: node slot and pod IP each)
/// and, for every 100th, a PDB.
fn deployment(store: &Store, d: usize, plan: &[(usize, String)], slots: &[NodeSlot], t: &str) {
    let team = d % NAMESPACES;
    let ns = format!("team-{team:02}");
    let app = format!("svc-{d:05}");
    let replicas = plan.len() as i64;
    let template = app_template(&app, team);
    let hash = super::controllers::replicaset::template_hash(&template);
    let rs_name = format!("{app}-{hash}");
    // Created with the statuses their pods give them (one write per object, not two).
    let Ok(dep) = store.create(Kind::Deployment, json!({
        "metadata": {"name": app, "namespace": ns, "labels": {"app": app}, "creationTimestamp": t,
                     "annotations": {"deployment.kubernetes.io/revision": "1"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}}, "template": template,
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas, "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.", "lastUpdateTime": t, "lastTransitionTime": t},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": format!("ReplicaSet \"{rs_name}\" has successfully progressed."), "lastUpdateTime": t, "lastTransitionTime": t}]},
    })) else { return };
    let mut rs = new_replicaset(&dep, &hash, replicas);
    rs["status"] = json!({"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
        "availableReplicas": replicas, "observedGeneration": 1});
    let Ok(rs) = store.create(Kind::ReplicaSet, rs) else {
        return;
    };
    let mut base = Base::new(&rs["spec"]["template"], &ns, &rs, t);
    for (i, ip) in plan {
        let s = &slots[*i];
        let p = base.instance(
            &format!("{rs_name}-{}", random_suffix(5)),
            &s.name,
            &s.host_ip,
            ip,
            t,
        );
        let _ = store.create_in_place(Kind::Pod, p);
    }
    // Every 100th service has a PDB (maxUnavailable 1).
    if d.is_multiple_of(100) {
        let _ = store.create(Kind::PodDisruptionBudget, json!({
            "metadata": {"name": app, "namespace": ns, "creationTimestamp": t},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": app}}},
            "status": {"currentHealthy": replicas, "desiredHealthy": replicas - 1, "disruptionsAllowed": 1,
                "expectedPods": replicas, "observedGeneration": 1, "conditions": [{"type": "DisruptionAllowed",
                "status": "True", "reason": "SufficientPods", "message": "", "observedGeneration": 1, "lastTransitionTime": t}]},
        }));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::sim::clock::SimClock;

    #[test]
    fn generated_sizes() {
        let store = Store::new(Arc::new(SimClock::new(1.0)), 1000);
        populate(&store, 20, 30);
        assert_eq!(store.count(Kind::Node), 21);
        assert_eq!(store.count(Kind::Pod), 20 * 30 + PACKED_PODS);
        let (_, pods) = store.list(Kind::Pod, None);
        let packed = pods
            .iter()
            .filter(|p| p["spec"]["nodeName"] == "node-packed")
            .count();
        assert_eq!(packed, PACKED_PODS);
        let avg = pods
            .iter()
            .map(|p| serde_json::to_vec(&**p).unwrap().len())
            .sum::<usize>()
            / pods.len();
        assert!((4_000..12_000).contains(&avg), "average pod size {avg}");
        let app = pods
            .iter()
            .find(|p| p["metadata"]["namespace"] == "team-00")
            .unwrap();
        assert_eq!(app["status"]["phase"], "Running");
        assert_eq!(
            app["metadata"]["managedFields"].as_array().unwrap().len(),
            2
        );
        assert_eq!(app["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        // Every pod its own uid and container ids (the prebuilt pod is reused).
        let uids: std::collections::HashSet<&str> = pods
            .iter()
            .map(|p| p["metadata"]["uid"].as_str().unwrap())
            .collect();
        assert_eq!(uids.len(), pods.len());
        let ids: std::collections::HashSet<&str> = pods
            .iter()
            .map(|p| {
                p["status"]["containerStatuses"][0]["containerID"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(ids.len(), pods.len());
        // No duplicate pod IPs on a node.
        let mut seen = std::collections::HashSet::new();
        for p in pods.iter().filter(|p| p["spec"]["hostNetwork"] != true) {
            assert!(seen.insert(p["status"]["podIP"].as_str().unwrap().to_string()));
        }
    }
}
