//! Column definitions per kind, as the apiserver's printers declare them (wide ones: priority 1).

use serde_json::{Value, json};

use crate::sim::kinds::Kind;

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
    // Long: a table: each kind's columns as the apiserver defines them, one arm per kind.
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
        other => {
            let rest = super::corekinds::columns(other).unwrap_or_default();
            std::iter::once(name)
                .chain(rest.into_iter().map(|(n, p, d)| match n {
                    "Age" => age.clone(),
                    _ => c(n, p, d),
                }))
                .collect()
        }
    };
    for c in &mut cols {
        if c["format"] == "" {
            c.as_object_mut().unwrap().remove("format");
        }
    }
    Value::Array(cols)
}
