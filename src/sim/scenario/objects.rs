//! Object builders shared by scenario files and generated clusters: nodes, namespaces, pod
//! templates from a workload spec.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::format::{NodeSpec, WorkloadSpec};
use crate::sim::controllers::podspec::default_template_spec;
use crate::sim::controllers::util::{
    READY_AFTER, REBOOT_FAILS, RUN_FOR, SHUTDOWN_AFTER, fmt, parse_age, random_hex,
};

/// `now - age`.
pub fn ago(now: Timestamp, age: &str) -> Timestamp {
    let d = parse_age(age).unwrap_or_default();
    now.checked_sub(SignedDuration::try_from(d).unwrap_or_default())
        .unwrap_or(now)
}

/// Memory as the kubelet reports it (`8165556Ki`).
pub fn kib(q: &str) -> String {
    let b = crate::sim::controllers::util::bytes(&json!(q));
    format!("{}Ki", b / 1024)
}

/// A uuid-looking random string.
pub fn uuid() -> String {
    let h = random_hex(32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The Node object for a node spec.
pub fn node_object(n: &NodeSpec, server_version: &str, now: Timestamp, index: usize) -> Value {
    // Long: one Node object, field by field in the order the API server writes them.
    let created = fmt(ago(now, n.age.as_deref().unwrap_or("30d")));
    let hb = fmt(now);
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
    });
    for r in &n.roles {
        labels[format!("node-role.kubernetes.io/{r}")] = json!("");
        if r == "control-plane" {
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
        }
    }
    for (k, v) in &n.labels {
        labels[k] = json!(v);
    }
    let ip = n
        .internal_ip
        .clone()
        .unwrap_or_else(|| format!("10.0.{}.{}", index / 250, index % 250 + 2));
    let cidr = n
        .pod_cidr
        .clone()
        .unwrap_or_else(|| format!("10.{}.{}.0/24", 100 + index / 256 % 100, index % 256));
    let kubelet = n
        .kubelet_version
        .clone()
        .unwrap_or_else(|| server_version.to_string());
    let cpu = match &n.capacity.cpu {
        Value::Number(x) => x.to_string(),
        v => v.as_str().unwrap_or("4").to_string(),
    };
    let mem = kib(&n.capacity.memory);
    let resources = json!({
        "cpu": cpu, "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
        "memory": mem, "pods": n.capacity.pods.to_string(),
    });
    let mut allocatable = resources.clone();
    allocatable["ephemeral-storage"] = json!("93478772582");
    let (rs, reason, msg) = if n.ready {
        ("True", "KubeletReady", "kubelet is posting ready status")
    } else {
        (
            "Unknown",
            "NodeStatusUnknown",
            "Kubelet stopped posting node status.",
        )
    };
    let cond = |t: &str, s: &str, r: &str, m: &str| json!({"type": t, "status": s, "reason": r, "message": m, "lastHeartbeatTime": hb, "lastTransitionTime": created});
    let mut taints: Vec<Value> = n
        .taints
        .iter()
        .map(|t| {
            let mut v = json!({"key": t.key, "effect": t.effect});
            if let Some(val) = &t.value {
                v["value"] = json!(val);
            }
            v
        })
        .collect();
    if n.unschedulable {
        taints.push(json!({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": hb}));
    }
    let mut spec = json!({"podCIDR": cidr, "podCIDRs": [cidr]});
    if !taints.is_empty() {
        spec["taints"] = json!(taints);
    }
    if n.unschedulable {
        spec["unschedulable"] = json!(true);
    }
    let mut annotations = json!({
        "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
        "node.alpha.kubernetes.io/ttl": "0",
        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
    });
    if n.reboot_fails {
        annotations[REBOOT_FAILS] = json!("true");
    }
    json!({
        "metadata": {
            "name": n.name,
            "labels": labels,
            "annotations": annotations,
            "creationTimestamp": created,
        },
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": n.name}],
            "allocatable": allocatable,
            "capacity": resources,
            "conditions": [
                cond("MemoryPressure", if n.ready {"False"} else {"Unknown"}, if n.ready {"KubeletHasSufficientMemory"} else {"NodeStatusUnknown"}, if n.ready {"kubelet has sufficient memory available"} else {msg}),
                cond("DiskPressure", if n.ready {"False"} else {"Unknown"}, if n.ready {"KubeletHasNoDiskPressure"} else {"NodeStatusUnknown"}, if n.ready {"kubelet has no disk pressure"} else {msg}),
                cond("PIDPressure", if n.ready {"False"} else {"Unknown"}, if n.ready {"KubeletHasSufficientPID"} else {"NodeStatusUnknown"}, if n.ready {"kubelet has sufficient PID available"} else {msg}),
                cond("Ready", rs, reason, msg),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": uuid(),
                "containerRuntimeVersion": n.container_runtime.clone().unwrap_or_else(|| "containerd://1.6.12".into()),
                "kernelVersion": n.kernel_version.clone().unwrap_or_else(|| "5.15.0-56-generic".into()),
                "kubeProxyVersion": kubelet,
                "kubeletVersion": kubelet,
                "machineID": random_hex(32),
                "operatingSystem": "linux",
                "osImage": n.os_image.clone().unwrap_or_else(|| "Ubuntu 22.04.1 LTS".into()),
                "systemUUID": uuid(),
            },
        },
    })
}

/// A Namespace object.
pub fn namespace_object(name: &str, created: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}, "creationTimestamp": created},
           "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

/// A workload's pod labels (default `app: <name>`).
pub fn labels_of(w: &WorkloadSpec) -> BTreeMap<String, String> {
    if w.labels.is_empty() {
        BTreeMap::from([("app".to_string(), w.name.clone())])
    } else {
        w.labels.clone()
    }
}

/// The pod template of a workload spec (API defaults applied).
pub fn template(w: &WorkloadSpec) -> Value {
    // Long: one pod template, field by field in the order the API server writes them.
    let mut annotations: BTreeMap<String, String> = w.annotations.clone();
    if let Some(s) = w.readiness_delay_seconds {
        annotations.insert(READY_AFTER.into(), s.to_string());
    }
    if let Some(s) = w.shutdown_seconds {
        annotations.insert(SHUTDOWN_AFTER.into(), s.to_string());
    }
    if let Some(s) = w.run_seconds {
        annotations.insert(RUN_FOR.into(), s.to_string());
    }
    let containers: Vec<Value> = w
        .containers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut v = json!({"name": c.name, "image": c.image, "resources": {}});
            if !c.requests.is_empty() {
                v["resources"]["requests"] = json!(c.requests);
            }
            if !c.limits.is_empty() {
                v["resources"]["limits"] = json!(c.limits);
            }
            if !c.ports.is_empty() {
                v["ports"] = json!(
                    c.ports
                        .iter()
                        .map(|p| json!({"containerPort": p, "protocol": "TCP"}))
                        .collect::<Vec<_>>()
                );
            }
            if !c.args.is_empty() {
                v["args"] = json!(c.args);
            }
            if i == 0 && !w.empty_dir.is_empty() {
                v["volumeMounts"] = json!(
                    w.empty_dir
                        .iter()
                        .map(|n| json!({"name": n, "mountPath": format!("/{n}")}))
                        .collect::<Vec<_>>()
                );
            }
            v
        })
        .collect();
    let mut spec = json!({"containers": containers});
    if !w.empty_dir.is_empty() {
        spec["volumes"] = json!(
            w.empty_dir
                .iter()
                .map(|n| json!({"name": n, "emptyDir": {}}))
                .collect::<Vec<_>>()
        );
    }
    if !w.node_selector.is_empty() {
        spec["nodeSelector"] = json!(w.node_selector);
    }
    if !w.tolerations.is_empty() {
        spec["tolerations"] = json!(w.tolerations);
    }
    if w.host_network {
        spec["hostNetwork"] = json!(true);
        spec["dnsPolicy"] = json!("ClusterFirstWithHostNet");
    }
    if let Some(p) = &w.priority_class_name {
        spec["priorityClassName"] = json!(p);
        spec["priority"] = json!(if p == "system-node-critical" {
            2000001000
        } else {
            2000000000
        });
    }
    if let Some(g) = w.termination_grace_period_seconds {
        spec["terminationGracePeriodSeconds"] = json!(g);
    }
    default_template_spec(&mut spec);
    let mut meta = json!({"creationTimestamp": null, "labels": labels_of(w)});
    if !annotations.is_empty() {
        meta["annotations"] = json!(annotations);
    }
    json!({"metadata": meta, "spec": spec})
}
