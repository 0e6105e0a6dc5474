//! The versions matrix: every control-plane component (from its kube-system pod's image and
//! `/version`) and every node (kubelet, kube-proxy from the kube-proxy pod's image on that node,
//! runtime, OS, kernel), each cell with the range the skew policy allows and a verdict.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::skew::{self, Allowed, Severity, Verdict};
use super::version::{Version, image_name, image_tag};
use crate::cluster::rows::{NodeRow, PodRow};

/// A component the matrix reads from a kube-system pod's image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    KubeApiserver,
    KubeControllerManager,
    KubeScheduler,
    Etcd,
    Coredns,
    KubeProxy,
}

impl Component {
    /// Every component, in the matrix's order.
    pub const ALL: [Component; 6] = [
        Component::KubeApiserver,
        Component::KubeControllerManager,
        Component::KubeScheduler,
        Component::Etcd,
        Component::Coredns,
        Component::KubeProxy,
    ];

    /// Its name (also its image's name).
    pub fn name(self) -> &'static str {
        match self {
            Component::KubeApiserver => "kube-apiserver",
            Component::KubeControllerManager => "kube-controller-manager",
            Component::KubeScheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Coredns => "coredns",
            Component::KubeProxy => "kube-proxy",
        }
    }

    /// The component an image runs, by the image's name (older registries and GKE add
    /// the architecture: `kube-proxy-amd64`).
    pub fn of_image(image: &str) -> Option<Component> {
        let name = image_name(image);
        let name = ["-amd64", "-arm64", "-arm", "-ppc64le", "-s390x"]
            .iter()
            .find_map(|arch| name.strip_suffix(arch))
            .unwrap_or(name);
        Component::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// A kube-system pod that runs a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentPod {
    pub component: Component,
    pub pod: String,
    pub node: Option<String>,
    pub image: String,
}

/// What the matrix needs of a node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFacts {
    pub name: String,
    /// Labelled control-plane / master, or runs a kube-apiserver pod.
    pub control_plane: bool,
    pub kubelet: String,
    pub container_runtime: String,
    pub os_image: String,
    pub kernel: String,
}

/// Everything the matrix is built from.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// The `/version` answer (`gitVersion`), if any.
    pub server: Option<String>,
    /// Sorted by name.
    pub nodes: Vec<NodeFacts>,
    pub pods: Vec<ComponentPod>,
}

impl Inventory {
    /// From slim rows: `pods` may be any pods (only kube-system ones with a component image
    /// count; terminating ones are skipped, a rollout's leaving pod is not the version).
    pub fn from_rows<'a>(
        server: Option<&str>,
        nodes: impl IntoIterator<Item = &'a NodeRow>,
        pods: impl IntoIterator<Item = &'a PodRow>,
    ) -> Inventory {
        let pods: Vec<ComponentPod> = pods
            .into_iter()
            .filter(|p| p.namespace() == "kube-system" && !p.is_terminating())
            .filter_map(|p| {
                let image = p.image.as_deref()?;
                Some(ComponentPod {
                    component: Component::of_image(image)?,
                    pod: p.name().to_string(),
                    node: p.node_name.as_deref().map(str::to_string),
                    image: image.to_string(),
                })
            })
            .collect();
        let apiserver_nodes: HashSet<&str> = pods
            .iter()
            .filter(|p| p.component == Component::KubeApiserver)
            .filter_map(|p| p.node.as_deref())
            .collect();
        let mut nodes: Vec<NodeFacts> = nodes
            .into_iter()
            .map(|n| {
                let name = n.name().to_string();
                let runs_apiserver = apiserver_nodes.contains(name.as_str());
                NodeFacts {
                    control_plane: runs_apiserver
                        || n.roles
                            .iter()
                            .any(|r| r == "control-plane" || r == "master"),
                    name,
                    kubelet: n.kubelet_version.clone(),
                    container_runtime: n.container_runtime.clone(),
                    os_image: n.os_image.clone(),
                    kernel: n.kernel_version.clone(),
                }
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        Inventory {
            server: server.map(str::to_string),
            nodes,
            pods,
        }
    }

    /// Every apiserver version known: each kube-apiserver pod's, and `/version`'s.
    pub fn apiservers(&self) -> Vec<Version> {
        self.pods
            .iter()
            .filter(|p| p.component == Component::KubeApiserver)
            .filter_map(|p| Version::from_image(&p.image))
            .chain(self.server.as_deref().and_then(|s| Version::parse(s).ok()))
            .collect()
    }

    /// The kube-proxy pod on each node (the first listed, when a rollout runs two).
    pub fn kube_proxies(&self) -> HashMap<&str, &ComponentPod> {
        let mut out = HashMap::new();
        for p in &self.pods {
            if p.component == Component::KubeProxy
                && let Some(n) = p.node.as_deref()
            {
                out.entry(n).or_insert(p);
            }
        }
        out
    }
}

/// One cell: the version found, the range allowed, the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    /// As found (an image tag or `nodeInfo`), or empty when there is none.
    pub version: String,
    /// `None` for components the skew policy does not cover (etcd, CoreDNS) or when the
    /// apiserver version is unknown.
    pub allowed: Option<Allowed>,
    /// The worst finding of the cell; `None` when in policy.
    pub severity: Option<Severity>,
}

/// A control-plane row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRow {
    pub component: Component,
    /// The pod, or `/version` for the server's own answer.
    pub source: String,
    pub node: Option<String>,
    pub cell: Cell,
}

/// A node row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeVersions {
    pub name: String,
    pub control_plane: bool,
    pub kubelet: Cell,
    /// `None` when no kube-proxy pod runs there (a kube-proxy replacement, or not yet).
    pub kube_proxy: Option<Cell>,
    pub container_runtime: String,
    pub os_image: String,
    pub kernel: String,
}

/// A finding: a policy violation (error), a risk (warning) or a fact worth knowing (info).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// What it is about: `node/node1 kubelet`, `kube-system/kube-apiserver-master0`.
    pub subject: String,
    pub message: String,
}

/// The matrix and its findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// The `/version` answer.
    pub server: Option<String>,
    /// The oldest apiserver: what every other component is compared with.
    pub apiserver: Option<Version>,
    pub control_plane: Vec<ComponentRow>,
    pub nodes: Vec<NodeVersions>,
    /// Worst first.
    pub findings: Vec<Finding>,
}

impl Matrix {
    /// Whether any finding violates the policy.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// How many findings have severity `s`.
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

/// Collects findings and gives each cell its worst severity.
struct Judge {
    findings: Vec<Finding>,
}

impl Judge {
    fn cell(
        &mut self,
        subject: &str,
        version: &str,
        allowed: Option<Allowed>,
        verdicts: Vec<Verdict>,
    ) -> Cell {
        let mut severity = None;
        for (s, message) in verdicts.into_iter().flatten() {
            severity = severity.max(Some(s));
            self.findings.push(Finding {
                severity: s,
                subject: subject.to_string(),
                message,
            });
        }
        Cell {
            version: version.to_string(),
            allowed,
            severity,
        }
    }

    fn unparsable(what: &str, raw: &str) -> Verdict {
        Some((
            Severity::Warning,
            format!("cannot tell: {what} version `{raw}` is not vMAJOR.MINOR.PATCH"),
        ))
    }
}

/// Builds the matrix of `inv`.
pub fn matrix(inv: &Inventory) -> Matrix {
    let apis = inv.apiservers();
    let oldest = apis.iter().min_by_key(|v| v.triple()).cloned();
    let newest = apis.iter().max_by_key(|v| v.triple()).cloned();
    let mut j = Judge {
        findings: Vec::new(),
    };
    if let Some(v) = skew::apiservers(&apis) {
        j.cell("kube-apiserver", "", None, vec![Some(v)]);
    }
    if oldest.is_none() {
        j.findings.push(Finding {
            severity: Severity::Warning,
            subject: "kube-apiserver".into(),
            message: "cannot tell the kube-apiserver version (no kube-apiserver pod with a version tag, no /version answer): no cell is judged".into(),
        });
    }
    let local = apiservers_by_node(inv);
    let control_plane = control_plane_rows(inv, oldest.as_ref(), newest.as_ref(), &local, &mut j);
    let proxies = inv.kube_proxies();
    let nodes = inv
        .nodes
        .iter()
        .map(|n| {
            node_row(
                proxies.get(n.name.as_str()).copied(),
                n,
                (oldest.as_ref(), local.get(n.name.as_str())),
                &mut j,
            )
        })
        .collect();
    // Worst first; the order found otherwise (control plane, then nodes by name).
    j.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Matrix {
        server: inv.server.clone(),
        apiserver: oldest,
        control_plane,
        nodes,
        findings: j.findings,
    }
}

/// The apiserver running on each node (the oldest, should a node run two).
fn apiservers_by_node(inv: &Inventory) -> HashMap<&str, Version> {
    let mut out: HashMap<&str, Version> = HashMap::new();
    for p in inv
        .pods
        .iter()
        .filter(|p| p.component == Component::KubeApiserver)
    {
        let (Some(node), Some(v)) = (p.node.as_deref(), Version::from_image(&p.image)) else {
            continue;
        };
        match out.get(node) {
            Some(old) if old.triple() <= v.triple() => {}
            _ => {
                out.insert(node, v);
            }
        }
    }
    out
}

fn control_plane_rows(
    inv: &Inventory,
    oldest: Option<&Version>,
    newest: Option<&Version>,
    local: &HashMap<&str, Version>,
    j: &mut Judge,
) -> Vec<ComponentRow> {
    let mut pods: Vec<&ComponentPod> = inv
        .pods
        .iter()
        .filter(|p| p.component != Component::KubeProxy)
        .collect();
    pods.sort_by(|a, b| (a.component, &a.node, &a.pod).cmp(&(b.component, &b.node, &b.pod)));
    let mut rows: Vec<ComponentRow> = pods
        .into_iter()
        .map(|p| {
            let tag = image_tag(&p.image).unwrap_or_default();
            let subject = format!("kube-system/{}", p.pod);
            let parsed = Version::parse(tag);
            let what = p.component.name();
            let (allowed, verdict) = match (p.component, &parsed, oldest, newest) {
                (Component::KubeApiserver, Ok(_), Some(o), Some(n)) => (
                    Some(skew::apiserver_allowed(
                        o.minor_release(),
                        n.minor_release(),
                    )),
                    None,
                ),
                (
                    Component::KubeControllerManager | Component::KubeScheduler,
                    Ok(v),
                    Some(a),
                    _,
                ) => (
                    Some(skew::controller_allowed(a.minor_release())),
                    skew::controller(what, v, a, p.node.as_deref().and_then(|n| local.get(n))),
                ),
                (
                    Component::KubeApiserver
                    | Component::KubeControllerManager
                    | Component::KubeScheduler,
                    Err(_),
                    _,
                    _,
                ) => (None, Judge::unparsable(what, tag)),
                // etcd and CoreDNS have their own versions: shown, not judged.
                _ => (None, None),
            };
            let mut cell = j.cell(&subject, tag, allowed, vec![verdict]);
            // The apiservers' spread is one finding; each apiserver outside it is marked.
            if let (Some(r), Ok(v)) = (allowed, &parsed)
                && !r.contains(v.minor_release())
            {
                cell.severity = Some(Severity::Error);
            }
            ComponentRow {
                component: p.component,
                source: p.pod.clone(),
                node: p.node.clone(),
                cell,
            }
        })
        .collect();
    if let Some(s) = &inv.server {
        // Right after the apiserver pods.
        let at = rows
            .iter()
            .position(|r| r.component != Component::KubeApiserver)
            .unwrap_or(rows.len());
        rows.insert(at, version_row(s, oldest, newest, j));
    }
    rows
}

/// The apiserver's own `/version` answer as a row, judged like the apiserver pods.
fn version_row(
    s: &str,
    oldest: Option<&Version>,
    newest: Option<&Version>,
    j: &mut Judge,
) -> ComponentRow {
    let verdict = Version::parse(s)
        .err()
        .and_then(|_| Judge::unparsable("/version", s));
    let allowed = oldest
        .zip(newest)
        .map(|(o, n)| skew::apiserver_allowed(o.minor_release(), n.minor_release()));
    let mut cell = j.cell("/version", s, allowed, vec![verdict]);
    if let (Some(r), Ok(v)) = (allowed, Version::parse(s))
        && !r.contains(v.minor_release())
    {
        cell.severity = Some(Severity::Error);
    }
    ComponentRow {
        component: Component::KubeApiserver,
        source: "/version".into(),
        node: None,
        cell,
    }
}

/// A node's row; `(api, local)`: the oldest apiserver, and the one on this node if any.
fn node_row(
    proxy: Option<&ComponentPod>,
    n: &NodeFacts,
    (api, local): (Option<&Version>, Option<&Version>),
    j: &mut Judge,
) -> NodeVersions {
    let kubelet_v = Version::parse(&n.kubelet);
    let kubelet = {
        let verdict = match (&kubelet_v, api) {
            (Ok(v), Some(a)) => skew::kubelet(v, a, local),
            (Err(_), _) => Judge::unparsable("kubelet", &n.kubelet),
            (Ok(_), None) => None,
        };
        let allowed = api.map(|a| skew::agent_allowed(a.minor_release()));
        j.cell(
            &format!("node/{} kubelet", n.name),
            &n.kubelet,
            allowed,
            vec![verdict],
        )
    };
    let kube_proxy = proxy.map(|p| {
        let tag = image_tag(&p.image).unwrap_or_default();
        let subject = format!("node/{} kube-proxy ({})", n.name, p.pod);
        let (allowed, verdicts) = match Version::parse(tag) {
            Err(_) => (None, vec![Judge::unparsable("kube-proxy", tag)]),
            Ok(v) => {
                let vs_api = api.map(|a| skew::agent_allowed(a.minor_release()));
                let vs_kubelet = kubelet_v
                    .as_ref()
                    .ok()
                    .map(|k| skew::proxy_beside_kubelet(k.minor_release()));
                let allowed = match (vs_api, vs_kubelet) {
                    (Some(a), Some(k)) => a.intersect(k),
                    (a, k) => a.or(k),
                };
                let verdicts = vec![
                    api.and_then(|a| skew::agent("kube-proxy", &v, a)),
                    kubelet_v
                        .as_ref()
                        .ok()
                        .and_then(|k| skew::proxy_vs_kubelet(&v, k)),
                ];
                (allowed, verdicts)
            }
        };
        j.cell(&subject, tag, allowed, verdicts)
    });
    NodeVersions {
        name: n.name.clone(),
        control_plane: n.control_plane,
        kubelet,
        kube_proxy,
        container_runtime: n.container_runtime.clone(),
        os_image: n.os_image.clone(),
        kernel: n.kernel.clone(),
    }
}
