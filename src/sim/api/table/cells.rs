//! Row cells per kind: the apiserver printers' logic (pkg/printers/internalversion).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{human_duration, since};
use crate::sim::api::selectors::LabelSelector;
use crate::sim::kinds::Kind;

pub(super) fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

/// The cells of one object's row, every column including the wide ones.
pub fn cells(kind: Kind, o: &Value, now: Timestamp) -> Vec<Value> {
    // Long: one arm per kind: each the row of kubectl's printer for that kind.
    let name = json!(s(&o["metadata"]["name"]));
    let age = json!(since(&o["metadata"]["creationTimestamp"], now));
    match kind {
        Kind::Pod => pod_cells(o, now),
        Kind::Node => node_cells(o, now),
        Kind::Event => event_cells(o, now),
        Kind::PodDisruptionBudget => {
            let int_or = |v: &Value| match v {
                Value::Null => "N/A".to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            vec![
                name,
                json!(int_or(&o["spec"]["minAvailable"])),
                json!(int_or(&o["spec"]["maxUnavailable"])),
                json!(o["status"]["disruptionsAllowed"].as_i64().unwrap_or(0)),
                age,
            ]
        }
        Kind::Namespace => vec![name, json!(s(&o["status"]["phase"])), age],
        Kind::Deployment => {
            let st = &o["status"];
            let mut v = vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(&st["readyReplicas"]),
                    o["spec"]["replicas"].as_i64().unwrap_or(1)
                )),
                json!(int(&st["updatedReplicas"])),
                json!(int(&st["availableReplicas"])),
                age,
            ];
            v.extend(template_cells(o));
            v
        }
        Kind::ReplicaSet => {
            let mut v = vec![
                name,
                json!(o["spec"]["replicas"].as_i64().unwrap_or(1)),
                json!(int(&o["status"]["replicas"])),
                json!(int(&o["status"]["readyReplicas"])),
                age,
            ];
            v.extend(template_cells(o));
            v
        }
        Kind::DaemonSet => {
            let st = &o["status"];
            let ns = o["spec"]["template"]["spec"]["nodeSelector"]
                .as_object()
                .map(|m| {
                    let mut kv: Vec<String> =
                        m.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
                    kv.sort();
                    kv.join(",")
                })
                .unwrap_or_default();
            let mut v = vec![
                name,
                json!(int(&st["desiredNumberScheduled"])),
                json!(int(&st["currentNumberScheduled"])),
                json!(int(&st["numberReady"])),
                json!(int(&st["updatedNumberScheduled"])),
                json!(int(&st["numberAvailable"])),
                json!(or_none(&ns)),
                age,
            ];
            v.extend(template_cells(o));
            v
        }
        Kind::StatefulSet => {
            let mut v = vec![
                name,
                json!(format!(
                    "{}/{}",
                    int(&o["status"]["readyReplicas"]),
                    o["spec"]["replicas"].as_i64().unwrap_or(1)
                )),
                age,
            ];
            v.extend(template_cells(o).into_iter().take(2));
            v
        }
        Kind::Job => {
            let completions = match o["spec"]["completions"].as_i64() {
                Some(c) => format!("{}/{c}", int(&o["status"]["succeeded"])),
                None => format!(
                    "{}/1 of {}",
                    int(&o["status"]["succeeded"]),
                    o["spec"]["parallelism"].as_i64().unwrap_or(1)
                ),
            };
            let start = o["status"]["startTime"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok());
            let end = o["status"]["completionTime"]
                .as_str()
                .and_then(|t| t.parse::<Timestamp>().ok());
            let duration = match (start, end) {
                (Some(a), Some(b)) => human_duration(b.as_second() - a.as_second()),
                (Some(a), None) => human_duration(now.as_second() - a.as_second()),
                _ => String::new(),
            };
            let mut v = vec![name, json!(completions), json!(duration), age];
            v.extend(template_cells(o));
            v
        }
        other => std::iter::once(name)
            .chain(super::corekinds::cells(other, o, age).unwrap_or_default())
            .collect(),
    }
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// CONTAINERS, IMAGES, SELECTOR of a workload's pod template.
fn template_cells(o: &Value) -> Vec<Value> {
    let containers = o["spec"]["template"]["spec"]["containers"].as_array();
    let join = |field: &str| {
        containers
            .map(|cs| {
                cs.iter()
                    .map(|c| s(&c[field]))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    vec![
        json!(join("name")),
        json!(join("image")),
        json!(LabelSelector::format_object(&o["spec"]["selector"])),
    ]
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    // Long: the STATUS reason as kubectl's printPod works it out, step after step in its order.
    let spec = &pod["spec"];
    let status = &pod["status"];
    let phase = s(&status["phase"]);
    let mut reason = phase.to_string();
    if !s(&status["reason"]).is_empty() {
        reason = s(&status["reason"]).to_string();
    }
    let empty = Vec::new();
    let conditions = status["conditions"].as_array().unwrap_or(&empty);
    if conditions
        .iter()
        .any(|c| s(&c["type"]) == "PodScheduled" && s(&c["reason"]) == "SchedulingGated")
    {
        reason = "SchedulingGated".into();
    }
    let init_specs = spec["initContainers"].as_array().unwrap_or(&empty);
    let is_sidecar = |name: &str| {
        init_specs
            .iter()
            .any(|c| s(&c["name"]) == name && s(&c["restartPolicy"]) == "Always")
    };
    let mut total = spec["containers"].as_array().map_or(0, Vec::len);
    total += init_specs
        .iter()
        .filter(|c| s(&c["restartPolicy"]) == "Always")
        .count();
    let mut ready = 0;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut last_sidecar_restart: Option<Timestamp> = None;
    let finished_at = |c: &Value| {
        c["lastState"]["terminated"]["finishedAt"]
            .as_str()
            .and_then(|t| t.parse::<Timestamp>().ok())
    };
    let mut initializing = false;
    let init_statuses = status["initContainerStatuses"].as_array().unwrap_or(&empty);
    for (i, c) in init_statuses.iter().enumerate() {
        restarts += int(&c["restartCount"]);
        if let Some(t) = finished_at(c) {
            last_restart = last_restart.max(Some(t));
        }
        let sidecar = is_sidecar(s(&c["name"]));
        if sidecar {
            sidecar_restarts += int(&c["restartCount"]);
            if let Some(t) = finished_at(c) {
                last_sidecar_restart = last_sidecar_restart.max(Some(t));
            }
        }
        let term = &c["state"]["terminated"];
        let wait = &c["state"]["waiting"];
        if term.is_object() && int(&term["exitCode"]) == 0 {
            continue;
        } else if sidecar && c["started"].as_bool() == Some(true) {
            if c["ready"].as_bool() == Some(true) {
                ready += 1;
            }
            continue;
        } else if term.is_object() {
            reason = if !s(&term["reason"]).is_empty() {
                format!("Init:{}", s(&term["reason"]))
            } else if int(&term["signal"]) != 0 {
                format!("Init:Signal:{}", int(&term["signal"]))
            } else {
                format!("Init:ExitCode:{}", int(&term["exitCode"]))
            };
        } else if !s(&wait["reason"]).is_empty() && s(&wait["reason"]) != "PodInitializing" {
            reason = format!("Init:{}", s(&wait["reason"]));
        } else {
            reason = format!("Init:{i}/{}", init_specs.len());
        }
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .any(|c| s(&c["type"]) == "Initialized" && s(&c["status"]) == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        let statuses = status["containerStatuses"].as_array().unwrap_or(&empty);
        for c in statuses.iter().rev() {
            restarts += int(&c["restartCount"]);
            if let Some(t) = finished_at(c) {
                last_restart = last_restart.max(Some(t));
            }
            let term = &c["state"]["terminated"];
            let wait = &c["state"]["waiting"];
            if !s(&wait["reason"]).is_empty() {
                reason = s(&wait["reason"]).to_string();
            } else if !s(&term["reason"]).is_empty() {
                reason = s(&term["reason"]).to_string();
            } else if term.is_object() {
                reason = if int(&term["signal"]) != 0 {
                    format!("Signal:{}", int(&term["signal"]))
                } else {
                    format!("ExitCode:{}", int(&term["exitCode"]))
                };
            } else if c["ready"].as_bool() == Some(true) && c["state"]["running"].is_object() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let has_ready = conditions
                .iter()
                .any(|c| s(&c["type"]) == "Ready" && s(&c["status"]) == "True");
            reason = if has_ready {
                "Running".into()
            } else {
                "NotReady".into()
            };
        }
    }
    let deleting = !pod["metadata"]["deletionTimestamp"].is_null();
    if deleting && s(&status["reason"]) == "NodeLost" {
        reason = "Unknown".into();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".into();
    }
    let restarts_str = match last_restart {
        Some(t) if restarts != 0 => {
            format!(
                "{restarts} ({} ago)",
                human_duration(now.as_second() - t.as_second())
            )
        }
        _ => restarts.to_string(),
    };
    let ip = status["podIPs"][0]["ip"]
        .as_str()
        .or(status["podIP"].as_str())
        .unwrap_or("");
    let gates = spec["readinessGates"]
        .as_array()
        .filter(|g| !g.is_empty())
        .map(|gates| {
            let ok = gates
                .iter()
                .filter(|g| {
                    conditions
                        .iter()
                        .find(|c| c["type"] == g["conditionType"])
                        .is_some_and(|c| s(&c["status"]) == "True")
                })
                .count();
            format!("{ok}/{}", gates.len())
        });
    vec![
        json!(s(&pod["metadata"]["name"])),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts_str),
        json!(since(&pod["metadata"]["creationTimestamp"], now)),
        json!(or_none(ip)),
        json!(or_none(s(&spec["nodeName"]))),
        json!(or_none(s(&status["nominatedNodeName"]))),
        json!(gates.unwrap_or_else(|| "<none>".into())),
    ]
}

/// ROLES: `node-role.kubernetes.io/<role>` label keys and the `kubernetes.io/role` value, sorted.
pub fn node_roles(node: &Value) -> String {
    let mut roles: Vec<&str> = Vec::new();
    if let Some(labels) = node["metadata"]["labels"].as_object() {
        for (k, v) in labels {
            if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                if !r.is_empty() {
                    roles.push(r);
                }
            } else if k == "kubernetes.io/role" && !s(v).is_empty() {
                roles.push(s(v));
            }
        }
    }
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        "<none>".into()
    } else {
        roles.join(",")
    }
}

/// STATUS of a node: `Ready`/`NotReady`/`Unknown`, plus `SchedulingDisabled`.
pub fn node_status(node: &Value) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(c) = node["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| s(&c["type"]) == "Ready"))
    {
        parts.push(if s(&c["status"]) == "True" {
            "Ready"
        } else {
            "NotReady"
        });
    }
    if parts.is_empty() {
        parts.push("Unknown");
    }
    if node["spec"]["unschedulable"].as_bool() == Some(true) {
        parts.push("SchedulingDisabled");
    }
    parts.join(",")
}

fn node_cells(node: &Value, now: Timestamp) -> Vec<Value> {
    let info = &node["status"]["nodeInfo"];
    let addr = |ty: &str| {
        node["status"]["addresses"]
            .as_array()
            .and_then(|a| a.iter().find(|x| s(&x["type"]) == ty))
            .map(|x| s(&x["address"]).to_string())
            .unwrap_or_else(|| "<none>".into())
    };
    let unknown = |v: &Value| {
        let v = s(v);
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    vec![
        json!(s(&node["metadata"]["name"])),
        json!(node_status(node)),
        json!(node_roles(node)),
        json!(since(&node["metadata"]["creationTimestamp"], now)),
        json!(s(&info["kubeletVersion"])),
        json!(addr("InternalIP")),
        json!(addr("ExternalIP")),
        json!(unknown(&info["osImage"])),
        json!(unknown(&info["kernelVersion"])),
        json!(unknown(&info["containerRuntimeVersion"])),
    ]
}

fn event_cells(e: &Value, now: Timestamp) -> Vec<Value> {
    let first = if e["firstTimestamp"].is_string() {
        since(&e["firstTimestamp"], now)
    } else {
        since(&e["eventTime"], now)
    };
    let mut last = if e["lastTimestamp"].is_string() {
        since(&e["lastTimestamp"], now)
    } else {
        first.clone()
    };
    let mut count = e["count"].as_i64().unwrap_or(0);
    if e["series"].is_object() {
        last = since(&e["series"]["lastObservedTime"], now);
        count = int(&e["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let io = &e["involvedObject"];
    let kind = s(&io["kind"]).to_ascii_lowercase();
    let target = if s(&io["name"]).is_empty() {
        kind
    } else {
        format!("{kind}/{}", s(&io["name"]))
    };
    let component = [s(&e["source"]["component"]), s(&e["reportingComponent"])]
        .into_iter()
        .find(|x| !x.is_empty())
        .unwrap_or("");
    let instance = [s(&e["source"]["host"]), s(&e["reportingInstance"])]
        .into_iter()
        .find(|x| !x.is_empty())
        .unwrap_or("");
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(s(&e["type"])),
        json!(s(&e["reason"])),
        json!(target),
        json!(s(&io["fieldPath"])),
        json!(source),
        json!(s(&e["message"]).trim()),
        json!(first),
        json!(count),
        json!(s(&e["metadata"]["name"])),
    ]
}
