//! `/version` and legacy discovery (`/api`, `/api/v1`, `/apis`, `/apis/{group}/{version}`),
//! listing exactly what the simulator serves.

use serde_json::{Value, json};

use crate::sim::kinds::Kind;

/// `/version` for a gitVersion like `v1.25.4`.
pub fn version(git_version: &str) -> Value {
    let v = git_version.trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next().unwrap_or("1").to_string();
    let minor = parts.next().unwrap_or("0").to_string();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2022-11-09T13:29:58Z",
        "goVersion": "go1.19.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// The group of the access reviews (`kubectl auth can-i`), which store nothing.
const AUTHORIZATION: &str = "authorization.k8s.io";

/// The API groups served besides core, in discovery order.
pub fn groups() -> Vec<&'static str> {
    let mut g: Vec<&'static str> = Vec::new();
    for k in Kind::ALL {
        if !k.group().is_empty() && !g.contains(&k.group()) {
            g.push(k.group());
        }
    }
    g.push(AUTHORIZATION);
    g
}

fn group_entry(group: &str) -> Value {
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`.
pub fn api_group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups().into_iter().map(group_entry).collect::<Vec<_>>(),
    })
}

/// `/apis/{group}`, if served.
pub fn api_group(group: &str) -> Option<Value> {
    groups().contains(&group).then(|| {
        let mut g = group_entry(group);
        g["kind"] = json!("APIGroup");
        g["apiVersion"] = json!("v1");
        g
    })
}

const VERBS: [&str; 7] = [
    "create", "delete", "get", "list", "patch", "update", "watch",
];

fn categories(kind: Kind) -> Option<Value> {
    matches!(
        kind,
        Kind::Pod
            | Kind::Deployment
            | Kind::ReplicaSet
            | Kind::DaemonSet
            | Kind::StatefulSet
            | Kind::Job
            | Kind::Service
    )
    .then(|| json!(["all"]))
}

/// `/api/v1` (group "") or `/apis/{group}/v1`, if served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    // Long: the discovery document: one entry per resource each group serves.
    if version != "v1" || (!group.is_empty() && !groups().contains(&group)) {
        return None;
    }
    let mut resources = Vec::new();
    if group == AUTHORIZATION {
        resources.push(json!({
            "name": "selfsubjectaccessreviews", "singularName": "selfsubjectaccessreview",
            "namespaced": false, "kind": "SelfSubjectAccessReview", "verbs": ["create"],
        }));
    }
    for k in Kind::ALL.into_iter().filter(|k| k.group() == group) {
        let mut r = json!({
            "name": k.plural(),
            "singularName": k.singular(),
            "namespaced": k.namespaced(),
            "kind": k.name(),
            "verbs": VERBS,
        });
        if !k.short_names().is_empty() {
            r["shortNames"] = json!(k.short_names());
        }
        if let Some(c) = categories(k) {
            r["categories"] = c;
        }
        resources.push(r);
        if matches!(k, Kind::Pod) {
            // kubectl drain looks for this entry to pick policy/v1 evictions.
            resources.push(json!({
                "name": "pods/eviction", "singularName": "pod", "namespaced": true,
                "group": "policy", "version": "v1", "kind": "Eviction", "verbs": ["create"],
            }));
            // Served by the built-in kubelet's stand-in (`pod_io.rs`).
            for (sub, kind, verbs) in [
                ("log", "Pod", json!(["get"])),
                ("exec", "PodExecOptions", json!(["create", "get"])),
                ("attach", "PodAttachOptions", json!(["create", "get"])),
                (
                    "portforward",
                    "PodPortForwardOptions",
                    json!(["create", "get"]),
                ),
            ] {
                resources.push(json!({
                    "name": format!("pods/{sub}"), "singularName": "pod", "namespaced": true,
                    "kind": kind, "verbs": verbs,
                }));
            }
        }
        if matches!(k, Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet) {
            resources.push(json!({
                "name": format!("{}/scale", k.plural()), "singularName": k.singular(), "namespaced": true,
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"],
            }));
        }
        if matches!(
            k,
            Kind::Pod
                | Kind::Node
                | Kind::Namespace
                | Kind::PodDisruptionBudget
                | Kind::Deployment
                | Kind::ReplicaSet
                | Kind::DaemonSet
                | Kind::StatefulSet
                | Kind::Job
                | Kind::Service
        ) {
            resources.push(json!({
                "name": format!("{}/status", k.plural()), "singularName": k.singular(),
                "namespaced": k.namespaced(), "kind": k.name(), "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
