//! Wire shapes: only the JSON fields kubedrain shows or plans on. serde skips everything else
//! (managedFields, env, probes, ...) without allocating it. Pods, the many ones, have their own
//! borrowed shape in `raw_pod.rs`.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Meta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub generation: Option<i64>,
    pub creation_timestamp: Option<Time>,
    pub deletion_timestamp: Option<Time>,
    pub deletion_grace_period_seconds: Option<i64>,
    pub labels: Option<BTreeMap<String, String>>,
    pub annotations: Option<BTreeMap<String, String>>,
    pub owner_references: Option<Vec<OwnerReference>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Affinity {
    pub node_affinity: Option<NodeAffinity>,
    pub pod_affinity: Option<PodAffinity>,
    pub pod_anti_affinity: Option<PodAffinity>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeAffinity {
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeSelector {
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeSelectorTerm {
    pub match_expressions: Vec<Requirement>,
    pub match_fields: Vec<Requirement>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Requirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// Only whether required terms exist matters (the forecast does not model them).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodAffinity {
    pub required_during_scheduling_ignored_during_execution: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<Time>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Node {
    pub metadata: NodeMeta,
    pub spec: NodeSpec,
    pub status: NodeStatus,
}

/// A node's metadata: the common fields, and of managedFields only who set
/// `spec.unschedulable` (nodes are few; pods never parse managedFields).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeMeta {
    #[serde(flatten)]
    pub meta: Meta,
    pub managed_fields: Vec<ManagedEntry>,
}

/// One managedFields entry, reduced to whether it owns `spec.unschedulable`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct ManagedEntry {
    pub manager: String,
    pub time: Option<String>,
    #[serde(rename = "fieldsV1")]
    pub fields_v1: FieldsV1,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct FieldsV1 {
    #[serde(rename = "f:spec")]
    pub spec: Option<SpecFields>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct SpecFields {
    #[serde(rename = "f:unschedulable")]
    pub unschedulable: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeSpec {
    pub unschedulable: Option<bool>,
    pub taints: Vec<Taint>,
    pub pod_cidr: Option<String>,
}

#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Taint {
    pub key: String,
    pub value: Option<String>,
    pub effect: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeStatus {
    pub capacity: BTreeMap<String, String>,
    pub allocatable: BTreeMap<String, String>,
    pub conditions: Vec<Condition>,
    pub addresses: Vec<Address>,
    pub node_info: NodeInfo,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Address {
    #[serde(rename = "type")]
    pub type_: String,
    pub address: String,
}

#[derive(Deserialize, Default, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeInfo {
    pub kubelet_version: String,
    pub kube_proxy_version: String,
    pub os_image: String,
    pub kernel_version: String,
    pub container_runtime_version: String,
    pub architecture: String,
    pub operating_system: String,
    #[serde(rename = "bootID")]
    pub boot_id: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Pdb {
    pub metadata: Meta,
    pub spec: PdbSpec,
    pub status: PdbStatus,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PdbSpec {
    pub selector: Option<LabelSelector>,
    pub min_available: Option<IntOrString>,
    pub max_unavailable: Option<IntOrString>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PdbStatus {
    pub current_healthy: i32,
    pub desired_healthy: i32,
    pub disruptions_allowed: i32,
    pub expected_pods: i32,
    pub observed_generation: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct Event {
    pub metadata: Meta,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub involved_object: InvolvedObject,
    pub count: Option<i32>,
    pub first_timestamp: Option<Time>,
    pub last_timestamp: Option<Time>,
    pub event_time: Option<serde_json::Value>,
    pub series: Option<EventSeries>,
    pub source: EventSource,
    pub reporting_component: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct InvolvedObject {
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub uid: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct EventSeries {
    pub count: Option<i32>,
    pub last_observed_time: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct EventSource {
    pub component: Option<String>,
    pub host: Option<String>,
}
