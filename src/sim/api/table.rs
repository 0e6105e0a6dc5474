//! Server-side `Table` responses (`Accept: application/json;as=Table;...`): the columns and cells
//! the real apiserver's printers produce, so `kubectl get` prints exactly what it prints there.

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::sim::kinds::Kind;

/// What `rows[].object` carries (`includeObject` query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    /// Parses the query value; the apiserver's default is `Metadata`.
    pub fn parse(s: Option<&str>) -> Result<Self, String> {
        match s {
            None | Some("") | Some("Metadata") => Ok(Self::Metadata),
            Some("None") => Ok(Self::None),
            Some("Object") => Ok(Self::Object),
            Some(o) => Err(format!("includeObject: Unsupported value: {o:?}")),
        }
    }
}

/// Whether an `Accept` header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let p: Vec<&str> = part.split(';').map(str::trim).collect();
        p.contains(&"as=Table") && !p.contains(&"g=apidiscovery.k8s.io")
    })
}

/// kubectl's `HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
pub fn human_duration(secs: i64) -> String {
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    if secs < 120 {
        return format!("{secs}s");
    }
    let minutes = secs / 60;
    if minutes < 10 {
        let s = secs % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = secs / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: the age of an RFC 3339 timestamp, `<unknown>` when absent.
pub fn since(ts: &Value, now: Timestamp) -> String {
    match ts.as_str().and_then(|s| s.parse::<Timestamp>().ok()) {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn or_none(v: &str) -> String {
    if v.is_empty() {
        "<none>".into()
    } else {
        v.to_string()
    }
}

fn col(name: &str, ty: &str, priority: u8, description: &str) -> Value {
    let mut c = json!({"name": name, "type": ty, "format": "", "description": description, "priority": priority});
    if name == "Name" {
        c["format"] = json!("name");
    }
    c
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// The column definitions for a kind (wide columns have priority 1).
pub fn columns(kind: Kind) -> Value {
    let name = col("Name", "string", 0, NAME_DOC);
    let age = col("Age", "string", 0, AGE_DOC);
    let c = |n: &str, p: u8, d: &str| col(n, "string", p, d);
    let workload_wide = || {
        vec![
            c("Containers", 1, "Names of each container in the template."),
            c(
                "Images",
                1,
                "Images referenced by each container in the template.",
            ),
            c("Selector", 1, "Label selector for pods."),
        ]
    };
    let mut cols = match kind {
        Kind::Pod => vec![
            name,
            c(
                "Ready",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            c(
                "Status",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            c(
                "Restarts",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age,
            c(
                "IP",
                1,
                "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            c(
                "Node",
                1,
                "NodeName is a request to schedule this pod onto a specific node.",
            ),
            c(
                "Nominated Node",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            c(
                "Readiness Gates",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        Kind::Node => vec![
            name,
            c("Status", 0, "The status of the node"),
            c("Roles", 0, "The roles of the node"),
            age,
            c("Version", 0, "Kubelet Version reported by the node."),
            c("Internal-IP", 1, "List of addresses reachable to the node."),
            c("External-IP", 1, "List of addresses reachable to the node."),
            c(
                "OS-Image",
                1,
                "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
            ),
            c(
                "Kernel-Version",
                1,
                "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
            ),
            c(
                "Container-Runtime",
                1,
                "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
            ),
        ],
        Kind::Event => vec![
            c(
                "Last Seen",
                0,
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            c(
                "Type",
                0,
                "Type of this event (Normal, Warning), new types could be added in the future",
            ),
            c(
                "Reason",
                0,
                "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
            ),
            c("Object", 0, "The object that this event is about."),
            c(
                "Subobject",
                1,
                "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
            ),
            c(
                "Source",
                1,
                "The component reporting this event. Should be a short machine understandable string.",
            ),
            c(
                "Message",
                0,
                "A human-readable description of the status of this operation.",
            ),
            c(
                "First Seen",
                1,
                "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
            ),
            c("Count", 1, "The number of times this event has occurred."),
            col("Name", "string", 1, NAME_DOC),
        ],
        Kind::PodDisruptionBudget => vec![
            name,
            c(
                "Min Available",
                0,
                "The minimum number of pods that must be available.",
            ),
            c(
                "Max Unavailable",
                0,
                "The maximum number of pods that may be unavailable.",
            ),
            col(
                "Allowed Disruptions",
                "integer",
                0,
                "Calculated number of pods that may be disrupted at this time.",
            ),
            age,
        ],
        Kind::Namespace => vec![name, c("Status", 0, "The status of the namespace"), age],
        Kind::Deployment => {
            let mut v = vec![
                name,
                c("Ready", 0, "Number of the pod with ready state"),
                col(
                    "Up-to-date",
                    "integer",
                    0,
                    "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                ),
                col(
                    "Available",
                    "integer",
                    0,
                    "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                ),
                age,
            ];
            v.extend(workload_wide());
            v
        }
        Kind::ReplicaSet => {
            let mut v = vec![
                name,
                col(
                    "Desired",
                    "integer",
                    0,
                    "Replicas is the number of desired replicas.",
                ),
                col(
                    "Current",
                    "integer",
                    0,
                    "Replicas is the most recently observed number of replicas.",
                ),
                col(
                    "Ready",
                    "integer",
                    0,
                    "The number of ready replicas for this replica set.",
                ),
                age,
            ];
            v.extend(workload_wide());
            v
        }
        Kind::DaemonSet => {
            let mut v = vec![
                name,
                col(
                    "Desired",
                    "integer",
                    0,
                    "The total number of nodes that should be running the daemon pod.",
                ),
                col(
                    "Current",
                    "integer",
                    0,
                    "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.",
                ),
                col(
                    "Ready",
                    "integer",
                    0,
                    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.",
                ),
                col(
                    "Up-to-date",
                    "integer",
                    0,
                    "The total number of nodes that are running updated daemon pod",
                ),
                col(
                    "Available",
                    "integer",
                    0,
                    "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.",
                ),
                c(
                    "Node Selector",
                    0,
                    "NodeSelector is a selector which must be true for the pod to fit on a node.",
                ),
                age,
            ];
            v.extend(workload_wide());
            v
        }
        Kind::StatefulSet => vec![
            name,
            c("Ready", 0, "Number of the pod with ready state"),
            age,
            c("Containers", 1, "Names of each container in the template."),
            c(
                "Images",
                1,
                "Images referenced by each container in the template.",
            ),
        ],
        Kind::Job => {
            let mut v = vec![
                name,
                c(
                    "Completions",
                    0,
                    "The desired number of successfully finished pods the job should be run with.",
                ),
                c("Duration", 0, "Time required to complete the job."),
                age,
            ];
            v.extend(workload_wide());
            v
        }
    };
    for c in &mut cols {
        if c["format"] == "" {
            c.as_object_mut().unwrap().remove("format");
        }
    }
    Value::Array(cols)
}

/// The cells of one object's row, every column including the wide ones.
pub fn cells(kind: Kind, o: &Value, now: Timestamp) -> Vec<Value> {
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
        json!(format_selector(&o["spec"]["selector"])),
    ]
}

/// `metav1.FormatLabelSelector`.
fn format_selector(sel: &Value) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(ml) = sel["matchLabels"].as_object() {
        let mut kv: Vec<String> = ml.iter().map(|(k, v)| format!("{k}={}", s(v))).collect();
        kv.sort();
        parts.extend(kv);
    }
    if let Some(exprs) = sel["matchExpressions"].as_array() {
        for e in exprs {
            let vals: Vec<&str> = e["values"]
                .as_array()
                .map(|a| a.iter().map(s).collect())
                .unwrap_or_default();
            let key = s(&e["key"]);
            parts.push(match s(&e["operator"]) {
                "In" => format!("{key} in ({})", vals.join(",")),
                "NotIn" => format!("{key} notin ({})", vals.join(",")),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                _ => String::new(),
            });
        }
    }
    if parts.is_empty() {
        "<none>".into()
    } else {
        parts.join(",")
    }
}

fn pod_cells(pod: &Value, now: Timestamp) -> Vec<Value> {
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

/// One row: cells plus the object as `includeObject` asks.
pub fn row(kind: Kind, o: &Value, now: Timestamp, include: IncludeObject) -> Value {
    let mut r = json!({"cells": cells(kind, o, now)});
    match include {
        IncludeObject::None => {}
        IncludeObject::Metadata => {
            r["object"] = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": o["metadata"],
            });
        }
        IncludeObject::Object => r["object"] = o.clone(),
    }
    let phase = s(&o["status"]["phase"]);
    if kind == Kind::Pod && (phase == "Succeeded" || phase == "Failed") {
        r["conditions"] = json!([{"type": "Completed", "status": "True", "reason": phase, "message": format!("The pod has completed {}", if phase == "Succeeded" { "successfully." } else { "and failed." })}]);
    }
    r
}

/// A whole Table for a list page.
pub fn table<'a>(
    kind: Kind,
    items: impl IntoIterator<Item = &'a Value>,
    now: Timestamp,
    include: IncludeObject,
    list_meta: Value,
) -> Value {
    let rows: Vec<Value> = items
        .into_iter()
        .map(|o| row(kind, o, now, include))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "columnDefinitions": columns(kind),
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        for (secs, want) in [
            (8, "8s"),
            (95, "95s"),
            (286, "4m46s"),
            (300, "5m"),
            (41 * 60, "41m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (10 * 3600, "10h"),
            (77 * 86400, "77d"),
            (3 * 86400 + 3600, "3d1h"),
            (800 * 86400, "2y70d"),
        ] {
            assert_eq!(human_duration(secs), want);
        }
    }

    #[test]
    fn accept_detection() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
        assert!(!wants_table(
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        ));
    }
}
