//! The pod row: what kubedrain keeps of a Pod, ~0.9 KB in the model with its index entries. Values many
//! pods repeat are interned (`super::super::intern`); the key `namespace/name` is one shared
//! string that the cache and every index entry point to; kube's `ObjectMeta` is kept only while
//! the row travels from the watcher to the cache (the watcher reads its resourceVersion).

use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

use jiff::Timestamp;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::{Deserialize, Deserializer};

use super::super::intern::{self, Owner, StrMap};
use super::super::quantity;
use super::super::raw_pod as raw;
use super::{MIRROR_ANNOTATION, Taint};

/// A pod's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    #[default]
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub(super) fn parse(s: Option<&str>) -> Phase {
        match s {
            Some("Running") => Phase::Running,
            Some("Succeeded") => Phase::Succeeded,
            Some("Failed") => Phase::Failed,
            Some("Unknown") => Phase::Unknown,
            _ => Phase::Pending,
        }
    }

    /// The phase as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }

    /// Succeeded or Failed: the pod will not run again.
    pub fn is_finished(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// A toleration (pod side of taints).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Toleration {
    pub key: Option<String>,
    /// `Exists` or `Equal` (the default).
    pub operator: Option<String>,
    pub value: Option<String>,
    pub effect: Option<String>,
}

impl Toleration {
    /// Whether this toleration tolerates `taint` (the scheduler's rule).
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if self
            .effect
            .as_deref()
            .is_some_and(|e| !e.is_empty() && e != taint.effect)
        {
            return false;
        }
        let exists = self.operator.as_deref() == Some("Exists");
        match self.key.as_deref() {
            None | Some("") => exists,
            Some(k) if k != taint.key => false,
            Some(_) => {
                exists
                    || self.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
            }
        }
    }
}

/// What kubedrain keeps of a Pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodRow {
    /// The wire metadata (resourceVersion only), for kube's watcher; `None` once cached.
    wire: Option<Box<ObjectMeta>>,
    /// `namespace/name`: the cache's and the indexes' key, shared with them.
    key: Arc<str>,
    namespace: Arc<str>,
    uid: Box<str>,
    created: Option<Timestamp>,
    deleted: Option<Timestamp>,
    labels: Arc<StrMap>,
    /// The owner reference marked `controller: true`, if any (the only one kubedrain reads).
    pub controller: Option<Arc<Owner>>,
    /// The kubelet's mirror-pod annotation is set (a static pod).
    pub mirror: bool,
    pub node_name: Option<Arc<str>>,
    pub phase: Phase,
    /// What kubectl's STATUS column shows besides the phase (e.g. `ContainerCreating`,
    /// `CrashLoopBackOff`, `Completed`, `Init:0/1`), without `Terminating`.
    pub reason: Option<Arc<str>>,
    pub ready_containers: u16,
    pub total_containers: u16,
    pub restarts: u32,
    /// When the most recent restart happened (for `1 (77d ago)`).
    pub last_restart: Option<Timestamp>,
    /// The pod's Ready condition.
    pub ready: bool,
    /// Relist mark: the cache's relist generation that last saw this pod.
    pub(crate) mark: u32,
    pub pod_ip: Option<Box<str>>,
    pub host_ip: Option<Arc<str>>,
    pub nominated_node: Option<Arc<str>>,
    /// CPU requests in millicores (containers summed; init containers' max if larger).
    pub cpu_request_m: u64,
    /// Memory requests in bytes.
    pub mem_request: u64,
    /// Names of emptyDir volumes (their data is lost when the pod leaves the node).
    pub empty_dirs: Box<[Arc<str>]>,
    pub tolerations: Arc<[Toleration]>,
    pub node_selector: Arc<StrMap>,
    pub termination_grace_seconds: Option<i64>,
    /// Why the pod is unschedulable (PodScheduled=False message), if it is.
    pub unschedulable_message: Option<Arc<str>>,
    /// Required node affinity and what the placement forecast does not model; `None` for
    /// most pods.
    pub constraints: Option<Arc<super::Constraints>>,
    /// The first container's image, for kube-system pods only (control-plane components and
    /// kube-proxy: the versions view); `None` for every other pod.
    pub image: Option<Arc<str>>,
}

/// No metadata, for rows that hold none.
pub(super) static NO_META: LazyLock<ObjectMeta> = LazyLock::new(ObjectMeta::default);

/// `kube::Resource` (kind Pod, core/v1) for a slim pod type that keeps kube's metadata in
/// its `wire` field only while it travels from the watch (the resourceVersion, if any).
macro_rules! pod_resource {
    ($row:ty) => {
        impl kube::Resource for $row {
            type DynamicType = ();
            type Scope = kube::core::NamespaceResourceScope;
            fn kind(_: &()) -> Cow<'_, str> {
                Cow::Borrowed("Pod")
            }
            fn group(_: &()) -> Cow<'_, str> {
                Cow::Borrowed("")
            }
            fn version(_: &()) -> Cow<'_, str> {
                Cow::Borrowed("v1")
            }
            fn plural(_: &()) -> Cow<'_, str> {
                Cow::Borrowed("pods")
            }
            /// Only the resourceVersion, and only before the row is cached: use the row's
            /// accessors.
            fn meta(&self) -> &ObjectMeta {
                self.wire.as_deref().unwrap_or(&NO_META)
            }
            fn meta_mut(&mut self) -> &mut ObjectMeta {
                self.wire.get_or_insert_with(Default::default)
            }
        }
    };
}
pub(super) use pod_resource;

pod_resource!(PodRow);

impl<'de> Deserialize<'de> for PodRow {
    /// Decodes the wire shape, borrowing its strings from the input where it can.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        raw::Pod::deserialize(d).map(PodRow::from)
    }
}

/// One container's CPU (millicores) and memory (bytes) requests; unparsable counts as 0.
fn container_requests(ct: &raw::Container) -> (u64, u64) {
    let r = &ct.resources.requests;
    let get = |k: &str, parse: fn(&str) -> Option<u64>| r.get(k).and_then(parse);
    (
        get("cpu", quantity::cpu_millis).unwrap_or(0),
        get("memory", quantity::bytes).unwrap_or(0),
    )
}

/// A pod's requests as the scheduler counts them: its containers' summed, or its largest
/// init container's where that is larger (CPU and memory each on its own).
pub(super) fn pod_requests(
    containers: impl IntoIterator<Item = (u64, u64)>,
    init_containers: impl IntoIterator<Item = (u64, u64)>,
) -> (u64, u64) {
    let sum = containers
        .into_iter()
        .fold((0, 0), |(a, b), (c, m)| (a + c, b + m));
    init_containers
        .into_iter()
        .fold(sum, |(a, b), (c, m)| (a.max(c), b.max(m)))
}

/// kubectl's STATUS reason for a pod (its `printPod` logic, minus Terminating).
fn pod_reason(p: &raw::Pod, phase: Phase) -> Option<String> {
    let st = &p.status;
    let mut reason = st.reason.as_deref().map(str::to_owned);
    let init_total = p.spec.init_containers.len();
    for (i, cs) in st.init_container_statuses.iter().enumerate() {
        if let Some(t) = &cs.state.terminated {
            if t.exit_code == Some(0) {
                continue;
            }
            return Some(match (t.reason.as_deref(), t.exit_code) {
                (Some(r), _) if !r.is_empty() => format!("Init:{r}"),
                (_, Some(code)) => format!("Init:ExitCode:{code}"),
                _ => "Init:Error".into(),
            });
        }
        if let Some(w) = &cs.state.waiting
            && let Some(r) = w
                .reason
                .as_deref()
                .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            return Some(format!("Init:{r}"));
        }
        return Some(format!("Init:{i}/{init_total}"));
    }
    let mut has_running = false;
    for cs in st.container_statuses.iter().rev() {
        if let Some(w) = &cs.state.waiting
            && let Some(r) = w.reason.as_deref().filter(|r| !r.is_empty())
        {
            reason = Some(r.to_string());
        } else if let Some(t) = &cs.state.terminated {
            reason = Some(match (t.reason.as_deref(), t.exit_code) {
                (Some(r), _) if !r.is_empty() => r.to_owned(),
                (_, Some(code)) => format!("ExitCode:{code}"),
                _ => "Error".into(),
            });
        } else if cs.ready && cs.state.running.is_some() {
            has_running = true;
        }
    }
    if reason.as_deref() == Some("Completed") && has_running {
        reason = Some(
            if p.status
                .conditions
                .iter()
                .any(|c| &*c.type_ == "Ready" && &*c.status == "True")
            {
                "Running".into()
            } else {
                "NotReady".into()
            },
        );
    }
    if phase == Phase::Succeeded && reason.is_none() {
        reason = Some("Completed".into());
    }
    reason.filter(|r| r != phase.as_str())
}

impl From<raw::Pod<'_>> for PodRow {
    fn from(p: raw::Pod) -> Self {
        // Long: one field of the row after another, from the raw pod.
        let phase = Phase::parse(p.status.phase.as_deref());
        let reason = pod_reason(&p, phase).map(|r| intern::str(&r));
        let (cpu_request_m, mem_request) = pod_requests(
            p.spec.containers.iter().map(container_requests),
            p.spec.init_containers.iter().map(container_requests),
        );
        let statuses = &p.status.container_statuses;
        let last_restart = statuses
            .iter()
            .filter_map(|c| c.last_state.terminated.as_ref()?.finished_at.as_ref())
            .map(|t| t.0)
            .max();
        let cond = |t: &str| p.status.conditions.iter().find(|c| &*c.type_ == t);
        let unschedulable_message = cond("PodScheduled")
            .filter(|c| &*c.status == "False")
            .map(|c| intern::str(c.message.as_deref().unwrap_or_default()));
        let ready = cond("Ready").is_some_and(|c| &*c.status == "True");
        let m = p.metadata;
        let namespace = intern::str(m.namespace.as_deref().unwrap_or_default());
        let name = m.name.as_deref().unwrap_or_default();
        let mirror = m
            .annotations
            .as_ref()
            .is_some_and(|a| a.get(MIRROR_ANNOTATION).is_some());
        let controller = m
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.controller == Some(true))
            .map(intern::wire_owner);
        let image = (namespace.as_ref() == "kube-system")
            .then(|| p.spec.containers.first().map(|c| intern::str(&c.image)))
            .flatten();
        let some_str = |s: Option<raw::Str>| s.filter(|s| !s.is_empty()).map(|s| intern::str(&s));
        PodRow {
            wire: m.resource_version.map(|rv| {
                Box::new(ObjectMeta {
                    resource_version: Some(rv.to_string()),
                    ..ObjectMeta::default()
                })
            }),
            key: format!("{namespace}/{name}").into(),
            namespace,
            uid: m.uid.as_deref().unwrap_or_default().into(),
            created: m.creation_timestamp.map(|t| t.0),
            deleted: m.deletion_timestamp.map(|t| t.0),
            labels: m
                .labels
                .as_ref()
                .map_or_else(intern::empty_map, intern::pairs),
            controller,
            mirror,
            node_name: some_str(p.spec.node_name),
            phase,
            reason,
            ready_containers: statuses.iter().filter(|c| c.ready).count() as u16,
            total_containers: p.spec.containers.len() as u16,
            restarts: statuses.iter().map(|c| c.restart_count).sum(),
            last_restart,
            ready,
            mark: 0,
            pod_ip: p
                .status
                .pod_ip
                .filter(|s| !s.is_empty())
                .map(|s| Box::from(&*s)),
            host_ip: some_str(p.status.host_ip),
            nominated_node: some_str(p.status.nominated_node_name),
            cpu_request_m,
            mem_request,
            empty_dirs: p
                .spec
                .volumes
                .iter()
                .filter(|v| v.empty_dir.is_some())
                .map(|v| intern::str(&v.name))
                .collect(),
            tolerations: intern::wire_tolerations(&p.spec.tolerations),
            node_selector: intern::pairs(&p.spec.node_selector),
            termination_grace_seconds: p.spec.termination_grace_period_seconds,
            unschedulable_message,
            constraints: super::constraints::from_spec(
                p.spec.affinity,
                p.spec.topology_spread_constraints.len(),
            ),
            image,
        }
    }
}

impl PodRow {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        self.key.to_string()
    }

    /// `namespace/name`, the string the cache and indexes share.
    pub fn shared_key(&self) -> &Arc<str> {
        &self.key
    }

    /// The pod's name.
    pub fn name(&self) -> &str {
        // A default row has an empty key.
        self.key.get(self.namespace.len() + 1..).unwrap_or_default()
    }

    /// The pod's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The pod's namespace, shared.
    pub fn shared_namespace(&self) -> &Arc<str> {
        &self.namespace
    }

    /// Renames the pod (tests and benchmarks build rows from one template).
    pub fn rename(&mut self, namespace: &str, name: &str) {
        self.namespace = intern::str(namespace);
        self.key = format!("{namespace}/{name}").into();
    }

    /// The pod's UID.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The resourceVersion it came with, until it is cached.
    pub fn resource_version(&self) -> Option<&str> {
        self.wire.as_ref()?.resource_version.as_deref()
    }

    /// Makes the row use `key` (equal to its own) so the cache and indexes share one copy.
    pub(crate) fn share_key(&mut self, key: &Arc<str>) {
        debug_assert_eq!(*self.key, **key);
        self.key = key.clone();
    }

    /// Drops what only the watcher needed (called when the row enters the cache).
    pub(crate) fn settle(&mut self) {
        self.wire = None;
    }

    /// The owner reference marked `controller: true`, if any.
    pub fn controller(&self) -> Option<&OwnerReference> {
        self.controller.as_deref().map(|o| &o.0)
    }

    /// Sets the controller reference (fixtures).
    pub fn set_controller(&mut self, o: Option<OwnerReference>) {
        self.controller = o.map(intern::owner);
    }

    /// Sets `metadata.deletionTimestamp` (fixtures).
    pub fn set_deletion_timestamp(&mut self, t: Option<Timestamp>) {
        self.deleted = t;
    }

    /// Whether this is a mirror pod of a static pod (cannot be deleted through the API).
    pub fn is_mirror(&self) -> bool {
        self.mirror
    }

    /// Whether the controller is a DaemonSet (apps/v1, as kubectl ≥ 1.34 checks).
    pub fn is_daemonset_pod(&self) -> bool {
        self.controller()
            .is_some_and(|o| o.kind == "DaemonSet" && o.api_version == "apps/v1")
    }

    /// Whether deletion has started.
    pub fn is_terminating(&self) -> bool {
        self.deleted.is_some()
    }

    /// When deletion started (or will complete), if it has.
    pub fn deletion_timestamp(&self) -> Option<Timestamp> {
        self.deleted
    }

    /// The pod's labels (empty when none).
    pub fn labels(&self) -> &StrMap {
        &self.labels
    }

    /// Replaces the labels (fixtures).
    pub fn set_labels(&mut self, labels: StrMap) {
        self.labels = intern::map(labels);
    }

    /// When the pod was created.
    pub fn created(&self) -> Option<Timestamp> {
        self.created
    }

    /// The shared strings its STATUS, NODE and unschedulable-message cells may show (the
    /// other cells are its key, numbers, an IP, or one of a few fixed words).
    pub fn shown_texts(&self) -> impl Iterator<Item = &Arc<str>> {
        [&self.reason, &self.node_name, &self.unschedulable_message]
            .into_iter()
            .flatten()
    }

    /// kubectl's STATUS column: `Terminating` wins, then the reason, then the phase.
    pub fn status_text(&self) -> &str {
        if self.is_terminating() {
            "Terminating"
        } else if let Some(r) = &self.reason {
            r
        } else {
            self.phase.as_str()
        }
    }
}
