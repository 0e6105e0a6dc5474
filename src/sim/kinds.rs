//! The resource kinds the simulator serves, with their API coordinates.

/// A resource kind served by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Node,
    Pod,
    Event,
    PodDisruptionBudget,
    DaemonSet,
    ReplicaSet,
    Deployment,
    StatefulSet,
    Job,
    Service,
    Endpoints,
    EndpointSlice,
    ConfigMap,
    Secret,
    ServiceAccount,
    Lease,
}

impl Kind {
    /// Every kind, in discovery order.
    pub const ALL: [Kind; 17] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::Event,
        Kind::PodDisruptionBudget,
        Kind::DaemonSet,
        Kind::ReplicaSet,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::Job,
        Kind::Service,
        Kind::Endpoints,
        Kind::EndpointSlice,
        Kind::ConfigMap,
        Kind::Secret,
        Kind::ServiceAccount,
        Kind::Lease,
    ];

    /// The `kind` field of objects of this kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::Event => "Event",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::DaemonSet => "DaemonSet",
            Kind::ReplicaSet => "ReplicaSet",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::Job => "Job",
            Kind::Service => "Service",
            Kind::Endpoints => "Endpoints",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::ServiceAccount => "ServiceAccount",
            Kind::Lease => "Lease",
        }
    }

    /// The URL plural, e.g. `pods`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::Event => "events",
            Kind::PodDisruptionBudget => "poddisruptionbudgets",
            Kind::DaemonSet => "daemonsets",
            Kind::ReplicaSet => "replicasets",
            Kind::Deployment => "deployments",
            Kind::StatefulSet => "statefulsets",
            Kind::Job => "jobs",
            Kind::Service => "services",
            Kind::Endpoints => "endpoints",
            Kind::EndpointSlice => "endpointslices",
            Kind::ConfigMap => "configmaps",
            Kind::Secret => "secrets",
            Kind::ServiceAccount => "serviceaccounts",
            Kind::Lease => "leases",
        }
    }

    /// The API group ("" for core).
    pub fn group(self) -> &'static str {
        match self {
            Kind::Namespace
            | Kind::Node
            | Kind::Pod
            | Kind::Event
            | Kind::Service
            | Kind::Endpoints
            | Kind::ConfigMap
            | Kind::Secret
            | Kind::ServiceAccount => "",
            Kind::EndpointSlice => "discovery.k8s.io",
            Kind::Lease => "coordination.k8s.io",
            Kind::PodDisruptionBudget => "policy",
            Kind::DaemonSet | Kind::ReplicaSet | Kind::Deployment | Kind::StatefulSet => "apps",
            Kind::Job => "batch",
        }
    }

    /// The API version within the group.
    pub fn version(self) -> &'static str {
        "v1"
    }

    /// `apiVersion` as written in objects, e.g. `apps/v1` or `v1`.
    pub fn api_version(self) -> &'static str {
        match self.group() {
            "" => "v1",
            "policy" => "policy/v1",
            "apps" => "apps/v1",
            "batch" => "batch/v1",
            "discovery.k8s.io" => "discovery.k8s.io/v1",
            "coordination.k8s.io" => "coordination.k8s.io/v1",
            _ => unreachable!(),
        }
    }

    /// Whether objects live in a namespace.
    pub fn namespaced(self) -> bool {
        !matches!(self, Kind::Namespace | Kind::Node)
    }

    /// Short names kubectl uses (served in discovery).
    pub fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace => &["ns"],
            Kind::Node => &["no"],
            Kind::Pod => &["po"],
            Kind::Event => &["ev"],
            Kind::PodDisruptionBudget => &["pdb"],
            Kind::DaemonSet => &["ds"],
            Kind::ReplicaSet => &["rs"],
            Kind::Deployment => &["deploy"],
            Kind::StatefulSet => &["sts"],
            Kind::Service => &["svc"],
            Kind::Endpoints => &["ep"],
            Kind::ConfigMap => &["cm"],
            Kind::ServiceAccount => &["sa"],
            Kind::Job | Kind::EndpointSlice | Kind::Secret | Kind::Lease => &[],
        }
    }

    /// The singular lower-case name, e.g. `pod`.
    pub fn singular(self) -> String {
        self.name().to_ascii_lowercase()
    }

    /// Finds a kind by group and plural.
    pub fn from_plural(group: &str, plural: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.group() == group && k.plural() == plural)
    }

    /// Finds a kind by its `kind` name.
    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }
}
