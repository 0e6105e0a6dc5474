//! Slim rows: what kubedrain keeps of each object. Decoded straight from JSON (see `raw.rs`)
//! instead of full `k8s_openapi` objects (~100 KB per pod), and usable by kube-rs watchers
//! because each implements `kube::Resource`. Pods, the many ones, are in `rows/pod.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;

use super::quantity;
use super::raw;

pub mod constraints;
mod load;
mod pod;
pub use constraints::Constraints;
pub use load::{ClusterPod, PodLoad};
pub use pod::{Phase, PodRow, Toleration};

/// Annotation kubelet puts on mirror pods of static pods.
pub const MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";
/// Prefix of the annotations kubedrain itself writes on nodes.
pub const KUBEDRAIN_ANNOTATION_PREFIX: &str = "kubedrain.io/";

/// Keeps only the metadata kubedrain uses; annotations only when they matter to drains.
fn slim_meta(m: raw::Meta) -> ObjectMeta {
    let annotations = m.annotations.map(|a| {
        a.into_iter()
            .filter(|(k, _)| k == MIRROR_ANNOTATION || k.starts_with(KUBEDRAIN_ANNOTATION_PREFIX))
            .collect::<BTreeMap<_, _>>()
    });
    ObjectMeta {
        name: m.name,
        namespace: m.namespace,
        uid: m.uid,
        resource_version: m.resource_version,
        generation: m.generation,
        creation_timestamp: m.creation_timestamp,
        deletion_timestamp: m.deletion_timestamp,
        deletion_grace_period_seconds: m.deletion_grace_period_seconds,
        labels: m.labels,
        annotations: annotations.filter(|a| !a.is_empty()),
        owner_references: m.owner_references,
        ..ObjectMeta::default()
    }
}

macro_rules! resource {
    ($row:ty, $kind:literal, $group:literal, $version:literal, $plural:literal, $scope:ty) => {
        impl kube::Resource for $row {
            type DynamicType = ();
            type Scope = $scope;
            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($kind)
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($group)
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($version)
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed($plural)
            }
            fn meta(&self) -> &ObjectMeta {
                &self.meta
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                &mut self.meta
            }
        }
    };
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// The Ready condition of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NodeReady {
    True,
    False,
    #[default]
    Unknown,
}

/// What kubedrain keeps of a Node.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "raw::Node")]
pub struct NodeRow {
    pub meta: ObjectMeta,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    pub taints: Vec<Taint>,
    pub ready: NodeReady,
    /// When the Ready condition last changed.
    pub ready_since: Option<Timestamp>,
    /// Pressure and other non-Ready conditions that are True (e.g. `DiskPressure`).
    pub problems: Vec<String>,
    pub roles: Vec<String>,
    pub cpu_allocatable_m: u64,
    pub mem_allocatable: u64,
    pub pods_allocatable: u64,
    pub internal_ip: Option<String>,
    pub kubelet_version: String,
    pub os_image: String,
    pub kernel_version: String,
    pub container_runtime: String,
    pub boot_id: String,
    /// Who last set `spec.unschedulable`, per the server's managedFields (`None` when the
    /// server does not say): tells whose cordon the node has.
    pub cordon_owner: Option<FieldOwner>,
}

/// The field manager that last set a field, and when (RFC 3339), from managedFields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldOwner {
    /// e.g. `kubedrain`, `kubectl`, `kubectl-cordon`.
    pub manager: String,
    pub time: Option<String>,
}

resource!(
    NodeRow,
    "Node",
    "",
    "v1",
    "nodes",
    kube::core::ClusterResourceScope
);

impl From<raw::Node> for NodeRow {
    fn from(n: raw::Node) -> Self {
        // Long: one field of the row after another, from the raw node.
        let ready_cond = n.status.conditions.iter().find(|c| c.type_ == "Ready");
        let ready = match ready_cond.map(|c| c.status.as_str()) {
            Some("True") => NodeReady::True,
            Some("False") => NodeReady::False,
            _ => NodeReady::Unknown,
        };
        let mut roles: Vec<String> = n
            .metadata
            .meta
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, v)| {
                if let Some(r) = k.strip_prefix("node-role.kubernetes.io/") {
                    Some(r.to_string())
                } else if k == "kubernetes.io/role" {
                    Some(v.clone())
                } else {
                    None
                }
            })
            .filter(|r| !r.is_empty())
            .collect();
        roles.sort();
        roles.dedup();
        let alloc = &n.status.allocatable;
        let info = n.status.node_info;
        NodeRow {
            unschedulable: n.spec.unschedulable.unwrap_or(false),
            taints: n
                .spec
                .taints
                .into_iter()
                .map(|t| Taint {
                    key: t.key,
                    value: t.value,
                    effect: t.effect,
                })
                .collect(),
            ready,
            ready_since: ready_cond
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
            problems: n
                .status
                .conditions
                .iter()
                .filter(|c| c.type_ != "Ready" && c.status == "True")
                .map(|c| c.type_.clone())
                .collect(),
            roles,
            cpu_allocatable_m: alloc
                .get("cpu")
                .and_then(|q| quantity::cpu_millis(q))
                .unwrap_or(0),
            mem_allocatable: alloc
                .get("memory")
                .and_then(|q| quantity::bytes(q))
                .unwrap_or(0),
            pods_allocatable: alloc
                .get("pods")
                .and_then(|q| quantity::count(q))
                .unwrap_or(0),
            internal_ip: n
                .status
                .addresses
                .iter()
                .find(|a| a.type_ == "InternalIP")
                .map(|a| a.address.clone()),
            kubelet_version: info.kubelet_version,
            os_image: info.os_image,
            kernel_version: info.kernel_version,
            container_runtime: info.container_runtime_version,
            boot_id: info.boot_id,
            cordon_owner: n
                .metadata
                .managed_fields
                .into_iter()
                .find(|e| {
                    e.fields_v1
                        .spec
                        .as_ref()
                        .is_some_and(|s| s.unschedulable.is_some())
                })
                .map(|e| FieldOwner {
                    manager: e.manager,
                    time: e.time,
                }),
            meta: slim_meta(n.metadata.meta),
        }
    }
}

impl NodeRow {
    /// The node's name.
    pub fn name(&self) -> &str {
        self.meta.name.as_deref().unwrap_or("")
    }

    /// Whether the node carries a control-plane (or legacy master) role.
    pub fn is_control_plane(&self) -> bool {
        self.roles
            .iter()
            .any(|r| r == "control-plane" || r == "master")
    }

    /// kubectl's STATUS column: `Ready` or `NotReady` (also for Unknown, as kubectl prints it),
    /// plus `,SchedulingDisabled`.
    pub fn status_text(&self) -> String {
        let base = match self.ready {
            NodeReady::True => "Ready",
            NodeReady::False | NodeReady::Unknown => "NotReady",
        };
        if self.unschedulable {
            format!("{base},SchedulingDisabled")
        } else {
            base.to_string()
        }
    }

    /// A kubedrain annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.meta.annotations.as_ref()?.get(key).map(String::as_str)
    }

    /// When the node was created.
    pub fn created(&self) -> Option<Timestamp> {
        self.meta.creation_timestamp.as_ref().map(|t| t.0)
    }
}

/// What kubedrain keeps of a PodDisruptionBudget.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "raw::Pdb")]
pub struct PdbRow {
    pub meta: ObjectMeta,
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub disruptions_allowed: i32,
    pub expected_pods: i32,
    pub observed_generation: Option<i64>,
}

resource!(
    PdbRow,
    "PodDisruptionBudget",
    "policy",
    "v1",
    "poddisruptionbudgets",
    kube::core::NamespaceResourceScope
);

impl From<raw::Pdb> for PdbRow {
    fn from(p: raw::Pdb) -> Self {
        PdbRow {
            selector: p.spec.selector,
            min_available: p.spec.min_available,
            max_unavailable: p.spec.max_unavailable,
            current_healthy: p.status.current_healthy,
            desired_healthy: p.status.desired_healthy,
            disruptions_allowed: p.status.disruptions_allowed,
            expected_pods: p.status.expected_pods,
            observed_generation: p.status.observed_generation,
            meta: slim_meta(p.metadata),
        }
    }
}

impl PdbRow {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}",
            self.meta.namespace.as_deref().unwrap_or(""),
            self.meta.name.as_deref().unwrap_or("")
        )
    }

    /// Whether this PDB selects `pod` (same namespace, selector matches its labels).
    pub fn selects(&self, pod: &PodRow) -> bool {
        self.meta.namespace.as_deref() == Some(pod.namespace())
            && super::labels::selector_matches(self.selector.as_ref(), pod.labels())
    }
}

/// What kubedrain keeps of a core/v1 Event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "raw::Event")]
pub struct EventRow {
    pub meta: ObjectMeta,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    pub object_kind: String,
    pub object_name: String,
    pub object_namespace: Option<String>,
    pub count: i32,
    /// When it was last seen (lastTimestamp, else eventTime, else creation).
    pub last_seen: Option<Timestamp>,
    pub source: String,
}

resource!(
    EventRow,
    "Event",
    "",
    "v1",
    "events",
    kube::core::NamespaceResourceScope
);

impl From<raw::Event> for EventRow {
    fn from(e: raw::Event) -> Self {
        let event_time = e
            .event_time
            .as_ref()
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Timestamp>().ok());
        let series_time = e
            .series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_deref())
            .and_then(|s| s.parse::<Timestamp>().ok());
        let last_seen = e
            .last_timestamp
            .as_ref()
            .map(|t| t.0)
            .or(series_time)
            .or(event_time)
            .or(e.metadata.creation_timestamp.as_ref().map(|t| t.0));
        EventRow {
            type_: e.type_.unwrap_or_else(|| "Normal".into()),
            reason: e.reason.unwrap_or_default(),
            message: e.message.unwrap_or_default().trim_end().to_string(),
            object_kind: e.involved_object.kind.unwrap_or_default(),
            object_name: e.involved_object.name.unwrap_or_default(),
            object_namespace: e.involved_object.namespace,
            count: e.series.and_then(|s| s.count).or(e.count).unwrap_or(1),
            last_seen,
            source: e
                .reporting_component
                .filter(|s| !s.is_empty())
                .or(e.source.component)
                .unwrap_or_default(),
            meta: slim_meta(e.metadata),
        }
    }
}

impl EventRow {
    /// Whether this is a Warning event.
    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-objects");

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
    }

    #[test]
    fn decodes_real_pods() {
        for f in ["po.json", "po_init.json", "po_sidecar.json"] {
            let full: k8s_openapi::api::core::v1::Pod = serde_json::from_str(&fixture(f)).unwrap();
            let row: PodRow = serde_json::from_str(&fixture(f)).unwrap();
            // Borrowed from the text or decoded from owned values: the same row.
            let value: serde_json::Value = serde_json::from_str(&fixture(f)).unwrap();
            let owned: PodRow = serde_json::from_value(value).unwrap();
            assert_eq!(format!("{row:?}"), format!("{owned:?}"), "{f}");
            assert_eq!(Some(row.name()), full.metadata.name.as_deref(), "{f}");
            let labels = full.metadata.labels.clone().unwrap_or_default();
            assert_eq!(row.labels(), &labels, "{f}");
            let mut controller = full.metadata.owner_references.iter().flatten();
            let controller = controller.find(|o| o.controller == Some(true));
            assert_eq!(row.controller(), controller, "{f}");
            let spec = full.spec.unwrap();
            assert_eq!(row.node_name.as_deref(), spec.node_name.as_deref(), "{f}");
            assert_eq!(row.total_containers as usize, spec.containers.len(), "{f}");
            let status = full.status.unwrap();
            let restarts: i32 = status
                .container_statuses
                .iter()
                .flatten()
                .map(|c| c.restart_count)
                .sum();
            assert_eq!(row.restarts as i32, restarts, "{f}");
            assert_eq!(
                row.phase.as_str(),
                status.phase.as_deref().unwrap_or("Pending"),
                "{f}"
            );
        }
    }

    #[test]
    fn decodes_real_node() {
        let row: NodeRow = serde_json::from_str(&fixture("no.json")).unwrap();
        assert_eq!(row.name(), "minikube");
        assert_eq!(row.ready, NodeReady::True);
        assert_eq!(row.kubelet_version, "v1.15.2");
        assert!(row.cpu_allocatable_m > 0);
        assert!(row.mem_allocatable > 1 << 30);
        assert_eq!(row.pods_allocatable, 110);
        assert!(row.roles.iter().any(|r| r == "master"), "{:?}", row.roles);
    }

    #[test]
    fn decodes_real_event_and_pdb() {
        let ev: EventRow = serde_json::from_str(&fixture("ev.json")).unwrap();
        assert!(!ev.reason.is_empty());
        assert!(!ev.object_name.is_empty());
        let pdb: PdbRow = serde_json::from_str(&fixture("pdb.json")).unwrap();
        assert!(pdb.selector.is_some());
    }

    #[test]
    fn pod_status_text_follows_kubectl() {
        let json = serde_json::json!({
            "metadata": {"name": "a", "namespace": "d", "deletionTimestamp": "2026-01-01T00:00:00Z",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"}},
            "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}],
                "volumes": [{"name": "cache", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "x"}}]},
            "status": {"phase": "Pending", "containerStatuses": [{"ready": false, "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}}}]}
        });
        let row: PodRow = serde_json::from_value(json).unwrap();
        assert_eq!(row.reason.as_deref(), Some("ContainerCreating"));
        assert_eq!(row.status_text(), "Terminating");
        assert_eq!(row.cpu_request_m, 250);
        assert_eq!(row.mem_request, 64 << 20);
        assert_eq!(&*row.empty_dirs, &[std::sync::Arc::from("cache")]);
        assert!(!row.is_mirror());
    }

    #[test]
    fn toleration_rules() {
        let taint = Taint {
            key: "node.kubernetes.io/unschedulable".into(),
            value: None,
            effect: "NoSchedule".into(),
        };
        let exists = Toleration {
            key: Some(taint.key.clone()),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(exists.tolerates(&taint));
        let wildcard = Toleration {
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(wildcard.tolerates(&taint));
        let other = Toleration {
            key: Some("x".into()),
            operator: Some("Exists".into()),
            ..Default::default()
        };
        assert!(!other.tolerates(&taint));
    }
}
