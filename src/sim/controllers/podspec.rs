//! Building pods the way the API server and kubelet shape them: spec defaults from a template,
//! and the status at each lifecycle stage (pending, creating, running, succeeded).

use serde_json::{Value, json};

use super::util::{bytes, cpu_millis, random_hex};
use crate::sim::store::random_suffix;

/// The tolerations the DefaultTolerationSeconds admission plugin adds to every pod.
fn default_tolerations() -> Vec<Value> {
    ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        .iter()
        .map(|k| json!({"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}))
        .collect()
}

/// The tolerations the DaemonSet controller adds to its pods (why they survive a cordon).
pub fn daemonset_tolerations(host_network: bool) -> Vec<Value> {
    let mut t = vec![
        json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}),
        json!({"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"}),
        json!({"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}),
    ];
    if host_network {
        t.push(json!({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists", "effect": "NoSchedule"}));
    }
    t
}

/// Fills the defaults the API server applies to a pod template's containers (in place), as
/// stored in workload objects.
pub fn default_template_spec(spec: &mut Value) {
    for key in ["containers", "initContainers"] {
        // `get_mut`, not indexing: indexing a missing key would insert `null`.
        for c in spec
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            default_container(c);
        }
    }
    let obj = spec.as_object_mut().unwrap();
    obj.entry("dnsPolicy").or_insert(json!("ClusterFirst"));
    obj.entry("restartPolicy").or_insert(json!("Always"));
    obj.entry("schedulerName")
        .or_insert(json!("default-scheduler"));
    obj.entry("securityContext").or_insert(json!({}));
    obj.entry("terminationGracePeriodSeconds")
        .or_insert(json!(30));
}

fn default_container(c: &mut Value) {
    let image = c["image"].as_str().unwrap_or("").to_string();
    let o = c.as_object_mut().unwrap();
    let latest =
        !image.rsplit('/').next().unwrap_or("").contains(':') || image.ends_with(":latest");
    o.entry("imagePullPolicy")
        .or_insert(json!(if latest { "Always" } else { "IfNotPresent" }));
    o.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    o.entry("terminationMessagePolicy").or_insert(json!("File"));
    let res = o.entry("resources").or_insert(json!({}));
    // Requests default to limits when only limits are given.
    if res.get("requests").is_none()
        && let Some(l) = res.get("limits").cloned()
    {
        res["requests"] = l;
    }
    if let Some(ports) = o.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports {
            p.as_object_mut()
                .unwrap()
                .entry("protocol")
                .or_insert(json!("TCP"));
        }
    }
}

/// A pod created from a workload's `template` (metadata + spec), with admission defaults
/// (service-account token volume, default tolerations) applied.
pub fn pod_from_template(
    template: &Value,
    namespace: &str,
    name: &str,
    owner: Option<Value>,
    extra_labels: &[(&str, String)],
) -> Value {
    let mut meta = template["metadata"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    meta.remove("creationTimestamp");
    meta.insert("name".into(), json!(name));
    meta.insert("namespace".into(), json!(namespace));
    let labels = meta.entry("labels").or_insert(json!({}));
    for (k, v) in extra_labels {
        labels[*k] = json!(v);
    }
    if let Some(o) = owner {
        meta.insert("ownerReferences".into(), json!([o]));
    }
    let mut spec = template["spec"].clone();
    if !spec.is_object() {
        spec = json!({});
    }
    default_template_spec(&mut spec);
    admit_spec(&mut spec);
    let mut pod = json!({"metadata": Value::Object(meta), "spec": spec});
    pod["status"] = json!({"phase": "Pending", "qosClass": qos_class(&pod)});
    pod
}

const SA_MOUNT: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// What admission adds on create: service account, token volume and mount, default
/// tolerations, priority.
pub fn admit_spec(spec: &mut Value) {
    let sa = spec["serviceAccountName"]
        .as_str()
        .unwrap_or("default")
        .to_string();
    let o = spec.as_object_mut().unwrap();
    o.insert("serviceAccountName".into(), json!(sa));
    o.insert("serviceAccount".into(), json!(sa));
    o.entry("enableServiceLinks").or_insert(json!(true));
    o.entry("preemptionPolicy")
        .or_insert(json!("PreemptLowerPriority"));
    o.entry("priority").or_insert(json!(0));
    let tolerations = o.entry("tolerations").or_insert(json!([]));
    let mut none = Vec::new();
    let arr = tolerations.as_array_mut().unwrap_or(&mut none);
    for d in default_tolerations() {
        if !arr
            .iter()
            .any(|t| t["key"] == d["key"] && t["effect"] == d["effect"])
        {
            arr.push(d);
        }
    }
    // The ServiceAccount admission plugin mounts a token unless told not to or already there.
    let mounted = o
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| c["volumeMounts"].as_array().into_iter().flatten())
        .any(|m| m["mountPath"] == SA_MOUNT);
    if mounted || o.get("automountServiceAccountToken") == Some(&json!(false)) {
        return;
    }
    let vol_name = format!("kube-api-access-{}", random_suffix(5));
    let volumes = o.entry("volumes").or_insert(json!([]));
    let Some(volumes) = volumes.as_array_mut() else {
        return;
    };
    volumes.push(json!({
        "name": vol_name,
        "projected": {
            "defaultMode": 420,
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]
        }
    }));
    for c in o
        .get_mut("containers")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        let mounts = c
            .as_object_mut()
            .unwrap()
            .entry("volumeMounts")
            .or_insert(json!([]));
        let Some(mounts) = mounts.as_array_mut() else {
            continue;
        };
        mounts.push(json!({
            "name": vol_name,
            "mountPath": SA_MOUNT,
            "readOnly": true
        }));
    }
}

/// BestEffort / Burstable / Guaranteed, from the containers' requests and limits.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers: Vec<&Value> = pod["spec"]["containers"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let any = containers.iter().any(|c| {
        let r = &c["resources"];
        r["requests"].as_object().is_some_and(|m| !m.is_empty())
            || r["limits"].as_object().is_some_and(|m| !m.is_empty())
    });
    if !any {
        return "BestEffort";
    }
    let guaranteed = containers.iter().all(|c| {
        let r = &c["resources"];
        ["cpu", "memory"].iter().all(|k| {
            let (req, lim) = (&r["requests"][k], &r["limits"][k]);
            !lim.is_null()
                && (req.is_null()
                    || if *k == "cpu" {
                        cpu_millis(req) == cpu_millis(lim)
                    } else {
                        bytes(req) == bytes(lim)
                    })
        })
    });
    if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

fn container_names(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// The pod's IP when it uses the host network.
pub fn host_network(pod: &Value) -> bool {
    pod["spec"]["hostNetwork"] == true
}

/// A stable-looking image digest for an image name.
pub fn image_id(image: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in image.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    let repo = image.split(':').next().unwrap_or(image);
    let repo = if repo.contains('/') {
        if repo.split('/').next().unwrap_or("").contains('.') {
            repo.to_string()
        } else {
            format!("docker.io/{repo}")
        }
    } else {
        format!("docker.io/library/{repo}")
    };
    let mut digest = String::new();
    for i in 0..4u64 {
        digest.push_str(&format!(
            "{:016x}",
            h.rotate_left((i * 17) as u32) ^ i.wrapping_mul(0x9e3779b97f4a7c15)
        ));
    }
    format!("{repo}@sha256:{digest}")
}

fn pod_conditions(
    now: &str,
    initialized: bool,
    ready: bool,
    names: &[String],
    scheduled: bool,
) -> Value {
    let unready = if ready {
        None
    } else {
        Some(format!(
            "containers with unready status: [{}]",
            names.join(" ")
        ))
    };
    let mut ready_c = json!({"type": "Ready", "status": if ready {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now});
    let mut cready = json!({"type": "ContainersReady", "status": if ready {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(m) = &unready {
        for c in [&mut ready_c, &mut cready] {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(m);
        }
    }
    json!([
        {"type": "Initialized", "status": if initialized {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now},
        ready_c,
        cready,
        {"type": "PodScheduled", "status": if scheduled {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now},
    ])
}

/// Status while containers are being created (`ContainerCreating`).
pub fn creating_status(pod: &Value, host_ip: &str, now: &str) -> Value {
    let names = container_names(pod);
    let statuses: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "name": c["name"], "image": c["image"], "imageID": "", "lastState": {},
                "ready": false, "restartCount": 0, "started": false,
                "state": {"waiting": {"reason": "ContainerCreating"}}
            })
        })
        .collect();
    json!({
        "phase": "Pending",
        "conditions": pod_conditions(now, true, false, &names, true),
        "containerStatuses": statuses,
        "hostIP": host_ip,
        "startTime": now,
        "qosClass": qos_class(pod),
    })
}

/// Options for a running pod's status.
pub struct RunningOpts<'a> {
    pub host_ip: &'a str,
    pub pod_ip: &'a str,
    /// When the pod was started (startTime, conditions).
    pub start: &'a str,
    /// When the containers started.
    pub started_at: &'a str,
    pub ready: bool,
    /// Restart count of the first container, with when it last terminated.
    pub restarts: Option<(i64, &'a str)>,
}

/// Status of a Running pod.
pub fn running_status(pod: &Value, o: &RunningOpts) -> Value {
    let names = container_names(pod);
    let runtime = "containerd";
    let statuses: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            let image = c["image"].as_str().unwrap_or("");
            let mut s = json!({
                "name": c["name"], "image": image, "imageID": image_id(image),
                "containerID": format!("{runtime}://{}", random_hex(64)),
                "lastState": {}, "ready": o.ready, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": o.started_at}}
            });
            if let (0, Some((n, at))) = (i, o.restarts)
                && n > 0
            {
                s["restartCount"] = json!(n);
                s["lastState"] = json!({"terminated": {
                    "exitCode": 0, "reason": "Completed", "startedAt": o.start, "finishedAt": at,
                    "containerID": format!("{runtime}://{}", random_hex(64))
                }});
            }
            s
        })
        .collect();
    let ips = json!([{"ip": o.pod_ip}]);
    let mut st = json!({
        "phase": "Running",
        "conditions": pod_conditions(o.start, true, o.ready, &names, true),
        "containerStatuses": statuses,
        "hostIP": o.host_ip,
        "podIP": o.pod_ip,
        "podIPs": ips,
        "startTime": o.start,
        "qosClass": qos_class(pod),
    });
    if o.ready {
        // Ready flipped when the containers came up, not when the pod started.
        for c in st["conditions"].as_array_mut().unwrap() {
            if c["type"] == "Ready" || c["type"] == "ContainersReady" {
                c["lastTransitionTime"] = json!(o.started_at);
            }
        }
    }
    st
}

/// Status of a pod whose containers all exited 0.
pub fn succeeded_status(pod: &Value, host_ip: &str, pod_ip: &str, start: &str, end: &str) -> Value {
    let statuses: Vec<Value> = pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let image = c["image"].as_str().unwrap_or("");
            json!({
                "name": c["name"], "image": image, "imageID": image_id(image),
                "containerID": format!("containerd://{}", random_hex(64)),
                "lastState": {}, "ready": false, "restartCount": 0, "started": false,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start, "finishedAt": end,
                    "containerID": format!("containerd://{}", random_hex(64))}}
            })
        })
        .collect();
    let mut conds = pod_conditions(start, true, false, &container_names(pod), true);
    for c in conds.as_array_mut().unwrap() {
        if c["type"] == "Ready" || c["type"] == "ContainersReady" {
            c["reason"] = json!("PodCompleted");
            c.as_object_mut().unwrap().remove("message");
            c["lastTransitionTime"] = json!(end);
        }
        if c["type"] == "Initialized" {
            c["reason"] = json!("PodCompleted");
        }
    }
    json!({
        "phase": "Succeeded",
        "conditions": conds,
        "containerStatuses": statuses,
        "hostIP": host_ip,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start,
        "qosClass": qos_class(pod),
    })
}

/// Sets every container's `ready` and the Ready/ContainersReady conditions (in place).
pub fn set_ready(pod: &mut Value, ready: bool, now: &str) {
    for s in pod["status"]
        .get_mut("containerStatuses")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        s["ready"] = json!(ready);
    }
    let names = container_names(pod);
    for t in ["Ready", "ContainersReady"] {
        let mut c =
            json!({"type": t, "status": if ready {"True"} else {"False"}, "lastProbeTime": null});
        if !ready {
            c["reason"] = json!("ContainersNotReady");
            c["message"] = json!(format!(
                "containers with unready status: [{}]",
                names.join(" ")
            ));
        }
        super::util::set_condition(&mut pod["status"]["conditions"], c, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_gets_defaults_and_token_volume() {
        let t = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
            {"name": "web", "image": "nginx:1.25", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}
        ]}});
        let p = pod_from_template(
            &t,
            "default",
            "web-abcde",
            None,
            &[("pod-template-hash", "x".into())],
        );
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], "x");
        assert_eq!(
            p["spec"]["containers"][0]["imagePullPolicy"],
            "IfNotPresent"
        );
        assert_eq!(p["spec"]["tolerations"].as_array().unwrap().len(), 2);
        assert!(
            p["spec"]["volumes"][0]["name"]
                .as_str()
                .unwrap()
                .starts_with("kube-api-access-")
        );
        assert_eq!(p["status"]["qosClass"], "Burstable");
        let r = running_status(
            &p,
            &RunningOpts {
                host_ip: "1.2.3.4",
                pod_ip: "10.0.0.1",
                start: "t",
                started_at: "t",
                ready: true,
                restarts: None,
            },
        );
        assert_eq!(r["containerStatuses"][0]["ready"], true);
        assert!(
            r["containerStatuses"][0]["imageID"]
                .as_str()
                .unwrap()
                .starts_with("docker.io/library/nginx@sha256:")
        );
    }
}
