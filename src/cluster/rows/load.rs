//! What a drain's plan reads of every pod of the cluster: where it runs, what it requests,
//! and whether it serves. The headless pre-flight decodes 150,000 of these (~930 MB of JSON
//! on a large cluster), so [`PodLoad`] keeps five facts and its decoder allocates at most
//! two strings a pod: everything else is skipped or turned into a number or a flag as it is
//! read.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

use super::super::quantity;
use super::pod::{NO_META, pod_requests};
use super::{Phase, PodRow};

/// What the placement forecast and the workload checks read of each pod of the cluster.
pub trait ClusterPod: fmt::Debug {
    /// The node it is bound to.
    fn node(&self) -> Option<&str>;
    /// Succeeded or Failed: it no longer holds its node's resources.
    fn finished(&self) -> bool;
    /// Ready and not terminating: a replica that serves.
    fn serving(&self) -> bool;
    /// The UID of its controller (the owner reference marked `controller: true`).
    fn controller_uid(&self) -> Option<&str>;
    /// CPU (millicores) and memory (bytes) requested: containers summed, or the largest init
    /// container's if larger.
    fn requests(&self) -> (u64, u64);
}

impl ClusterPod for PodRow {
    fn node(&self) -> Option<&str> {
        self.node_name.as_deref()
    }
    fn finished(&self) -> bool {
        self.phase.is_finished()
    }
    fn serving(&self) -> bool {
        self.ready && !self.is_terminating()
    }
    fn controller_uid(&self) -> Option<&str> {
        self.controller().map(|o| o.uid.as_str())
    }
    fn requests(&self) -> (u64, u64) {
        (self.cpu_request_m, self.mem_request)
    }
}

/// A pod as the plan's whole-cluster read keeps it (see the module's comment).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodLoad {
    /// Always `None`: kube's `Resource` wants metadata to lend; nothing reads it.
    wire: Option<Box<ObjectMeta>>,
    node: Option<Box<str>>,
    controller_uid: Option<Box<str>>,
    finished: bool,
    serving: bool,
    cpu_request_m: u64,
    mem_request: u64,
}

impl ClusterPod for PodLoad {
    fn node(&self) -> Option<&str> {
        self.node.as_deref()
    }
    fn finished(&self) -> bool {
        self.finished
    }
    fn serving(&self) -> bool {
        self.serving
    }
    fn controller_uid(&self) -> Option<&str> {
        self.controller_uid.as_deref()
    }
    fn requests(&self) -> (u64, u64) {
        (self.cpu_request_m, self.mem_request)
    }
}

impl PodLoad {
    /// The same facts, read from a row.
    pub fn of(p: &PodRow) -> PodLoad {
        let (cpu_request_m, mem_request) = p.requests();
        PodLoad {
            wire: None,
            node: p.node().map(Into::into),
            controller_uid: p.controller_uid().map(Into::into),
            finished: p.finished(),
            serving: p.serving(),
            cpu_request_m,
            mem_request,
        }
    }
}

super::pod::pod_resource!(PodLoad);

mod skim;

impl<'de> Deserialize<'de> for PodLoad {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        wire::Pod::deserialize(d).map(PodLoad::from_wire)
    }
}

impl PodLoad {
    /// The pod of an `ADDED` watch line, read with [`Skim`](crate::cluster::json_skim::Skim)
    /// (the pre-flight's read took about a third less CPU with it). `None`: another event,
    /// or a shape only serde_json reads; the caller decodes the line with serde_json then,
    /// which gives the same pod or the precise error.
    pub fn from_added_line(line: &[u8]) -> Option<PodLoad> {
        skim::added(line).map(PodLoad::from_wire)
    }

    /// The facts kept of a pod read either way.
    fn from_wire(w: wire::Pod) -> PodLoad {
        let requests =
            |c: &wire::Container| (c.resources.requests.cpu, c.resources.requests.memory);
        let (cpu_request_m, mem_request) = pod_requests(
            w.spec.containers.iter().map(requests),
            w.spec.init_containers.iter().map(requests),
        );
        let ready = w
            .status
            .conditions
            .iter()
            .find(|c| c.ready)
            .is_some_and(|c| c.status);
        PodLoad {
            wire: None,
            node: w
                .spec
                .node_name
                .filter(|n| !n.is_empty())
                .map(String::into_boxed_str),
            controller_uid: w
                .metadata
                .owner_references
                .into_iter()
                .flatten()
                .find(|o| o.controller == Some(true))
                .map(|o| o.uid.into_boxed_str()),
            finished: w.status.phase.is_finished(),
            serving: ready && w.metadata.deletion_timestamp.is_none(),
            cpu_request_m,
            mem_request,
        }
    }
}

/// The JSON shapes [`PodLoad`] is read from; strings that only decide a flag or a number are
/// read in place (`StrAs`) instead of being copied.
mod wire {
    use super::*;

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub(super) struct Pod {
        pub metadata: Meta,
        pub spec: Spec,
        pub status: Status,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub(super) struct Meta {
        pub deletion_timestamp: Option<IgnoredAny>,
        pub owner_references: Option<Vec<OwnerRef>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct OwnerRef {
        pub uid: String,
        pub controller: Option<bool>,
    }

    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase", default)]
    pub(super) struct Spec {
        pub node_name: Option<String>,
        pub containers: Vec<Container>,
        pub init_containers: Vec<Container>,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct Container {
        pub resources: Resources,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct Resources {
        pub requests: Requests,
    }

    /// `requests.cpu` in millicores and `requests.memory` in bytes; an unparsable quantity
    /// counts as 0, as the row's decoder counts it.
    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct Requests {
        #[serde(deserialize_with = "cpu")]
        pub cpu: u64,
        #[serde(deserialize_with = "memory")]
        pub memory: u64,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct Status {
        #[serde(deserialize_with = "phase")]
        pub phase: Phase,
        pub conditions: Vec<Condition>,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    pub(super) struct Condition {
        /// The condition is the Ready one.
        #[serde(rename = "type", deserialize_with = "is_ready")]
        pub ready: bool,
        /// Its status is `True`.
        #[serde(deserialize_with = "is_true")]
        pub status: bool,
    }

    // What each string read in place becomes; `Skim`'s reader maps the same strings with
    // the same functions.
    pub(super) fn cpu_of(s: &str) -> u64 {
        quantity::cpu_millis(s).unwrap_or(0)
    }
    pub(super) fn memory_of(s: &str) -> u64 {
        quantity::bytes(s).unwrap_or(0)
    }
    pub(super) fn phase_of(s: &str) -> Phase {
        Phase::parse(Some(s))
    }
    pub(super) fn ready_of(s: &str) -> bool {
        s == "Ready"
    }
    pub(super) fn true_of(s: &str) -> bool {
        s == "True"
    }

    fn cpu<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(StrAs(cpu_of))
    }

    fn memory<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(StrAs(memory_of))
    }

    fn phase<'de, D: Deserializer<'de>>(d: D) -> Result<Phase, D::Error> {
        d.deserialize_any(StrAs(phase_of))
    }

    fn is_ready<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(StrAs(ready_of))
    }

    fn is_true<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        d.deserialize_any(StrAs(true_of))
    }

    /// Reads a string without keeping it: `f` turns it into what is kept. `null` reads as
    /// `""`, as an absent field does.
    struct StrAs<T>(fn(&str) -> T);

    impl<'de, T> Visitor<'de> for StrAs<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<T, E> {
            Ok((self.0)(s))
        }
        fn visit_unit<E: de::Error>(self) -> Result<T, E> {
            Ok((self.0)(""))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/real-objects");

    /// Both decoders' answers for one pod: the slim one's and the row's.
    fn both(v: &Value) -> (PodLoad, PodLoad) {
        let load: PodLoad = serde_json::from_str(&v.to_string()).unwrap();
        let row: PodRow = serde_json::from_str(&v.to_string()).unwrap();
        (load, PodLoad::of(&row))
    }

    #[test]
    fn real_pods_read_as_their_rows_do() {
        for f in ["po.json", "po_init.json", "po_sidecar.json"] {
            let text = std::fs::read_to_string(format!("{FIXTURES}/{f}")).unwrap();
            let v: Value = serde_json::from_str(&text).unwrap();
            let (load, from_row) = both(&v);
            assert_eq!(load, from_row, "{f}");
            assert!(load.node().is_some(), "{f}");
        }
    }

    fn pod(spec: Value, status: Value, meta: Value) -> Value {
        let mut metadata = json!({"name": "p", "namespace": "ns", "uid": "u1",
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}]});
        metadata
            .as_object_mut()
            .unwrap()
            .extend(meta.as_object().unwrap().clone());
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": metadata,
            "spec": spec, "status": status})
    }

    #[test]
    fn every_fact_reads_as_the_rows_decoder_reads_it() {
        let c = |cpu: &str, mem: &str| {
            json!({"name": "c", "image": "i",
            "resources": {"requests": {"cpu": cpu, "memory": mem}, "limits": {"cpu": "9"}}})
        };
        let cases = [
            // Containers summed; an init container larger than their sum wins.
            pod(
                json!({"nodeName": "n1", "containers": [c("250m", "64Mi"), c("1", "1Gi")],
                       "initContainers": [c("2", "10Mi")]}),
                json!({"phase": "Running", "conditions": [
                    {"type": "PodScheduled", "status": "True"},
                    {"type": "Ready", "status": "True"}]}),
                json!({"ownerReferences": [
                    {"apiVersion": "v1", "kind": "X", "name": "x", "uid": "not-it"},
                    {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs",
                     "uid": "rs-uid", "controller": true}]}),
            ),
            // Terminating: ready, but not serving.
            pod(
                json!({"nodeName": "n1", "containers": [c("100m", "1k")]}),
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
                json!({"deletionTimestamp": "2026-12-01T00:00:00Z"}),
            ),
            // Finished, not ready, no node, an owner that is not the controller.
            pod(
                json!({"containers": [c("x", "y")]}),
                json!({"phase": "Succeeded", "conditions": [{"type": "Ready", "status": "False"}]}),
                json!({"ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                       "name": "j", "uid": "j-uid", "controller": false}]}),
            ),
            // Empty node name, no status, no requests; an odd phase reads as Pending.
            pod(
                json!({"nodeName": "", "containers": [{"name": "c"}]}),
                json!({}),
                json!({}),
            ),
            pod(
                json!({"containers": []}),
                json!({"phase": "Bogus"}),
                json!({}),
            ),
            pod(
                json!({"containers": []}),
                json!({"phase": "Failed"}),
                json!({}),
            ),
        ];
        for v in &cases {
            let (load, from_row) = both(v);
            assert_eq!(load, from_row, "{v}");
        }
        let first = both(&cases[0]).0;
        assert_eq!(
            first.requests(),
            (2000, 64 * 1024 * 1024 + 1024 * 1024 * 1024)
        );
        assert_eq!(first.controller_uid(), Some("rs-uid"));
        assert!(first.serving() && !first.finished());
        assert!(!both(&cases[1]).0.serving());
        assert!(both(&cases[2]).0.finished());
        assert_eq!(both(&cases[3]).0.node(), None);
    }

    #[test]
    fn a_null_reads_as_an_absent_field() {
        let v = pod(
            json!({"nodeName": null, "containers": [{"name": "c", "resources": {"requests": {"cpu": null}}}]}),
            json!({"phase": null, "conditions": [{"type": null, "status": null}]}),
            json!({"ownerReferences": null}),
        );
        let load: PodLoad = serde_json::from_str(&v.to_string()).unwrap();
        assert_eq!(load, PodLoad::default());
    }

    #[test]
    fn a_quantity_that_is_not_a_string_is_an_error() {
        let v = pod(
            json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": 2}}}]}),
            json!({}),
            json!({}),
        );
        let err = serde_json::from_str::<PodLoad>(&v.to_string()).unwrap_err();
        assert!(err.to_string().contains("a string"), "{err}");
    }
}
