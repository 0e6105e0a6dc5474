//! A small seed-like cluster built in memory, for `update` tests, snapshots and benchmarks.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::model::{ConnInfo, Model};
use super::msg::Msg;
use super::update::update;
use crate::cluster::rows::{EventRow, NodeRow, PdbRow, PodRow};
use crate::cluster::watch::{Ev, Feed, WatchReport};

/// The fixed "now" of fixtures: ages in snapshots never drift.
pub fn now() -> Timestamp {
    "2026-11-20T12:00:00Z".parse().unwrap()
}

fn ago(secs: i64) -> String {
    (now() - jiff::SignedDuration::from_secs(secs)).to_string()
}

/// A node; `role` is `control-plane` or empty.
pub fn node(name: &str, role: &str, cordoned: bool, ready: bool) -> NodeRow {
    let mut labels = json!({"kubernetes.io/hostname": name});
    if !role.is_empty() {
        labels[format!("node-role.kubernetes.io/{role}")] = json!("");
    }
    serde_json::from_value(json!({
        "metadata": {"name": name, "uid": format!("uid-{name}"), "labels": labels,
            "creationTimestamp": ago(77 * 86400)},
        "spec": {"unschedulable": cordoned},
        "status": {
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                "lastTransitionTime": ago(3600)}],
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"},
            "nodeInfo": {"kubeletVersion": "v1.33.1", "osImage": "Ubuntu 24.04", "kernelVersion": "6.8.0",
                "containerRuntimeVersion": "containerd://1.7", "bootID": "b1"}
        }
    }))
    .unwrap()
}

/// A pod; `status` is `Running`, `Pending`, `ContainerCreating`, `Completed` or `CrashLoopBackOff`.
pub fn pod(ns: &str, name: &str, node: Option<&str>, status: &str, age_secs: i64) -> PodRow {
    let (phase, waiting, ready) = match status {
        "Running" => ("Running", Value::Null, true),
        "Completed" => ("Succeeded", Value::Null, false),
        "ContainerCreating" | "CrashLoopBackOff" => ("Pending", json!({"reason": status}), false),
        _ => ("Pending", Value::Null, false),
    };
    let state = if waiting.is_null() {
        json!({"running": {}})
    } else {
        json!({"waiting": waiting})
    };
    let restarts = if status == "CrashLoopBackOff" { 4 } else { 0 };
    let mut cs = json!([{"name": "app", "ready": ready, "restartCount": restarts, "state": state}]);
    if restarts > 0 {
        cs[0]["lastState"] = json!({"terminated": {"exitCode": 1, "finishedAt": ago(300)}});
    }
    let app = name.rsplitn(3, '-').last().unwrap_or(name);
    let mut v = json!({
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"),
            "labels": {"app": app}, "creationTimestamp": ago(age_secs)},
        "spec": {"containers": [{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
        "status": {"phase": phase, "containerStatuses": if node.is_some() { cs } else { json!([]) },
            "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}
    });
    if let Some(n) = node {
        v["spec"]["nodeName"] = json!(n);
        let ip = 1 + name.bytes().map(u32::from).sum::<u32>() % 250;
        v["status"]["podIP"] = json!(format!("10.32.0.{ip}"));
    } else {
        v["status"]["conditions"] = json!([{"type": "PodScheduled", "status": "False",
            "message": "0/3 nodes are available"}]);
    }
    serde_json::from_value(v).unwrap()
}

/// An event about `kind/name`.
pub fn event(
    ns: &str,
    kind: &str,
    name: &str,
    reason: &str,
    warning: bool,
    msg: &str,
    secs: i64,
) -> EventRow {
    serde_json::from_value(json!({
        "metadata": {"name": format!("{name}.{reason}.{secs}"), "namespace": ns, "creationTimestamp": ago(secs)},
        "type": if warning {"Warning"} else {"Normal"}, "reason": reason, "message": msg,
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "count": 1, "lastTimestamp": ago(secs)
    }))
    .unwrap()
}

/// A PDB selecting `app=<app>`.
pub fn pdb(ns: &str, name: &str, app: &str, min_available: i32, allowed: i32) -> PdbRow {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": ago(86400 * 3)},
        "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": app}}},
        "status": {"currentHealthy": 10, "desiredHealthy": min_available, "disruptionsAllowed": allowed, "expectedPods": 10}
    }))
    .unwrap()
}

/// The seed cluster: master0, node0, node1; http-spring ×10, ingress-nginx, coredns,
/// kube-proxy and weave-net on every node, one Pending pod, a few events and a PDB.
pub fn seed() -> (Vec<NodeRow>, Vec<PodRow>, Vec<EventRow>, Vec<PdbRow>) {
    // Long: a fixture: the seed cluster written out object by object.
    let nodes = vec![
        node("master0", "control-plane", false, true),
        node("node0", "", false, true),
        node("node1", "", false, true),
    ];
    let mut pods = Vec::new();
    for (i, n) in ["master0", "node0", "node1"].iter().enumerate() {
        pods.push(pod(
            "kube-system",
            &format!("kube-proxy-{}x{i}q", "abc"),
            Some(n),
            "Running",
            77 * 86400,
        ));
        pods.push(pod(
            "kube-system",
            &format!("weave-net-{}k{i}z", "de"),
            Some(n),
            "Running",
            77 * 86400,
        ));
    }
    pods.push(pod(
        "kube-system",
        "coredns-5d78c9869d-7xk2p",
        Some("master0"),
        "Running",
        77 * 86400,
    ));
    pods.push(pod(
        "ingress-nginx",
        "ingress-nginx-controller-7c6974c4d8-9wz4m",
        Some("node1"),
        "Running",
        5 * 86400,
    ));
    for i in 0..10 {
        let n = if i % 2 == 0 { "node0" } else { "node1" };
        let status = match i {
            3 => "CrashLoopBackOff",
            7 => "ContainerCreating",
            _ => "Running",
        };
        pods.push(pod(
            "default",
            &format!("http-spring-6d9f8b7c5-{:05}", i * 7919 % 99991),
            Some(n),
            status,
            3600 + i * 60,
        ));
    }
    pods.push(pod(
        "default",
        "batch-report-28934-x7d2k",
        Some("node0"),
        "Completed",
        7200,
    ));
    pods.push(pod(
        "default",
        "http-spring-6d9f8b7c5-pend1",
        None,
        "Pending",
        30,
    ));
    let events = vec![
        event(
            "default",
            "Node",
            "node0",
            "NodeReady",
            false,
            "Node node0 status is now: NodeReady",
            3600,
        ),
        event(
            "default",
            "Pod",
            "http-spring-6d9f8b7c5-23757",
            "BackOff",
            true,
            "Back-off restarting failed container app",
            40,
        ),
        event(
            "default",
            "Pod",
            "http-spring-6d9f8b7c5-00000",
            "Scheduled",
            false,
            "Successfully assigned default/http-spring-6d9f8b7c5-00000 to node0",
            3600,
        ),
        event(
            "default",
            "Pod",
            "http-spring-6d9f8b7c5-pend1",
            "FailedScheduling",
            true,
            "0/3 nodes are available: 1 Insufficient cpu",
            25,
        ),
        event(
            "kube-system",
            "Pod",
            "coredns-5d78c9869d-7xk2p",
            "Pulled",
            false,
            "Container image already present on machine",
            86400,
        ),
    ];
    let pdbs = vec![pdb("default", "http-spring", "http-spring", 9, 0)];
    (nodes, pods, events, pdbs)
}

fn relist<K>(m: &mut Model, rows: Vec<K>, wrap: fn(Ev<K>) -> Feed) {
    let g = m.generation;
    let mut send = |f: Feed| {
        update(
            m,
            Msg::Watch {
                generation: g,
                report: WatchReport::Feed(f),
            },
        );
    };
    send(wrap(Ev::Init));
    for r in rows {
        send(wrap(Ev::InitApply(r)));
    }
    send(wrap(Ev::InitDone));
}

/// Feeds a full relist of each kind into `m` through `update`.
pub fn load(m: &mut Model, data: (Vec<NodeRow>, Vec<PodRow>, Vec<EventRow>, Vec<PdbRow>)) {
    let (nodes, pods, events, pdbs) = data;
    relist(m, pdbs, Feed::Pdbs);
    relist(m, nodes, Feed::Nodes);
    relist(m, pods, Feed::Pods);
    relist(m, events, Feed::Events);
    m.refresh();
}

/// A model of the seed cluster at `size`, as `kubedrain` would show it on context `kind-demo`.
pub fn seed_model(size: (u16, u16)) -> Model {
    let conn = ConnInfo {
        context: "kind-demo".into(),
        server: "https://127.0.0.1:6443".into(),
        version: "v1.33.1".into(),
        ..ConnInfo::default()
    };
    let mut m = Model::new(conn, None, false, now());
    m.size = size;
    load(&mut m, seed());
    m
}
