//! The text of every table column, as the user reads it: what `/` filters on, and what the
//! panes draw (with their styles) — one definition for both.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::filter::Filter;
use super::model::Model;
use crate::cluster::age;
use crate::cluster::cache::Pods;
use crate::cluster::rows::{EventRow, NodeRow, PdbRow, PodRow};

// Nodes.

/// Percent of `used` in `total` (0 when unknown).
pub fn pct(used: u64, total: u64) -> u64 {
    (used * 100).checked_div(total).unwrap_or(0)
}

/// What a node's PODS, CPU and MEM cells say when the pod cache lacks some namespaces: a
/// count of the visible ones would pass for the node's.
pub const UNKNOWN: &str = "?";

/// Visible text of every column (what `/` filters on).
pub fn node(m: &Model, n: &NodeRow) -> Vec<String> {
    let load = m
        .cache
        .index
        .load
        .get(n.name())
        .copied()
        .unwrap_or_default();
    let known = m.pods_hidden().is_none();
    let or_unknown = |s: String| if known { s } else { UNKNOWN.to_string() };
    vec![
        n.name().to_string(),
        n.status_text(),
        roles(n),
        n.kubelet_version.clone(),
        format!(
            "{}/{}",
            or_unknown(load.pods.to_string()),
            n.pods_allocatable
        ),
        or_unknown(format!("{}%", pct(load.cpu_m, n.cpu_allocatable_m))),
        or_unknown(format!("{}%", pct(load.mem, n.mem_allocatable))),
        age::since(n.created(), m.cluster_now()),
        n.internal_ip.clone().unwrap_or_else(|| "<none>".into()),
        n.kernel_version.clone(),
        n.os_image.clone(),
    ]
}

/// ROLES: `control-plane`, `<none>`.
pub fn roles(n: &NodeRow) -> String {
    if n.roles.is_empty() {
        "<none>".into()
    } else {
        n.roles.join(",")
    }
}

// Pods.

/// kubectl's RESTARTS: `3` or `1 (77d ago)`.
pub fn restarts(m: &Model, p: &PodRow) -> String {
    match p.last_restart {
        Some(t) if p.restarts > 0 => {
            format!(
                "{} ({} ago)",
                p.restarts,
                age::since(Some(t), m.cluster_now())
            )
        }
        _ => p.restarts.to_string(),
    }
}

/// Visible text of every column (what `/` filters on). Borrowed where the row holds the
/// text: a filter keystroke reads this for every pod (150,000 at full scale).
pub fn pod<'a>(m: &Model, p: &'a PodRow) -> [Cow<'a, str>; 9] {
    [
        Cow::Borrowed(p.namespace()),
        Cow::Borrowed(p.name()),
        Cow::Owned(ready(p)),
        Cow::Borrowed(p.status_text()),
        Cow::Owned(restarts(m, p)),
        Cow::Owned(age::since(p.created(), m.cluster_now())),
        Cow::Borrowed(p.pod_ip.as_deref().unwrap_or("<none>")),
        Cow::Borrowed(p.node_name.as_deref().unwrap_or("<none>")),
        Cow::Borrowed(p.unschedulable_message.as_deref().unwrap_or_default()),
    ]
}

/// Every character READY can hold (`1/2`).
const READY_CHARS: &str = "0123456789/";
/// Every character AGE can hold (`42s`, `5m10s`, `3y12d`, `<unknown>`).
const AGE_CHARS: &str = "0123456789smhdy<unknow>";
/// Every character RESTARTS can hold (`3`, `1 (77d ago)`).
const RESTARTS_CHARS: &str = "0123456789smhdy<unknow> (ago)";
/// Every character IP can hold (`10.0.3.7`, `fd00::1`, `<none>`).
const IP_CHARS: &str = "0123456789abcdef.:<none>";
/// The words STATUS and NODE show that are no pod's own string.
const FIXED_WORDS: [&str; 7] = [
    "Terminating",
    "Pending",
    "Running",
    "Succeeded",
    "Failed",
    "Unknown",
    "<none>",
];

/// `/` over the pods' columns: the same answer as `f.matches(&pod(m, p))`, for less. The
/// NAMESPACE and NAME cells are read from the key (no row lookup), and READY, RESTARTS and
/// AGE, formatted anew for each pod, only when the filter's text can occur in them.
pub struct PodMatcher<'f> {
    f: &'f Filter,
    /// The text may occur in STATUS, IP, NODE or the unschedulable message.
    strings: bool,
    ready: bool,
    restarts: bool,
    age: bool,
}

impl<'f> PodMatcher<'f> {
    /// The matcher of `f`.
    pub fn new(f: &'f Filter) -> Self {
        PodMatcher {
            f,
            strings: true,
            ready: f.can_occur_in(READY_CHARS),
            restarts: f.can_occur_in(RESTARTS_CHARS),
            age: f.can_occur_in(AGE_CHARS),
        }
    }

    /// The matcher of `f` over the pods of `pods`: when no string their STATUS, IP, NODE or
    /// message cells show can hold the text, a pod whose key does not match is not looked
    /// up (at 150,000 pods, most of what a key typed costs).
    pub fn for_pods(f: &'f Filter, pods: &Pods) -> Self {
        let mut mt = PodMatcher::new(f);
        // (A regex can occur anywhere: `can_occur_in` says so.)
        mt.strings = f.can_occur_in(IP_CHARS)
            || FIXED_WORDS.iter().any(|w| f.matches_cell(w))
            || pods.shown_texts().any(|t| f.matches_cell(t));
        mt
    }

    /// Whether a pod whose key the filter does not match must be looked up: the filter may
    /// match another of its cells.
    pub fn reads_rows(&self) -> bool {
        self.strings || self.ready || self.restarts || self.age
    }

    /// Whether the filter matches the NAMESPACE or NAME of the pod under `key`.
    pub fn matches_key(&self, key: &str) -> bool {
        let (ns, name) = key.split_once('/').unwrap_or(("", key));
        self.f.matches_cell(ns) || self.f.matches_cell(name)
    }

    /// Whether the filter matches a cell of pod `p` other than NAMESPACE and NAME.
    pub fn matches_rest(&self, m: &Model, p: &PodRow) -> bool {
        let borrowed = [
            p.status_text(),
            p.pod_ip.as_deref().unwrap_or("<none>"),
            p.node_name.as_deref().unwrap_or("<none>"),
            p.unschedulable_message.as_deref().unwrap_or_default(),
        ];
        (self.strings && borrowed.iter().any(|c| self.f.matches_cell(c)))
            || (self.ready && self.f.matches_cell(&ready(p)))
            || (self.restarts && self.f.matches_cell(&restarts(m, p)))
            || (self.age
                && self
                    .f
                    .matches_cell(&age::since(p.created(), m.cluster_now())))
    }

    /// Whether the filter matches any cell of pod `p`.
    pub fn matches(&self, m: &Model, p: &PodRow) -> bool {
        self.f.matches_cell(p.namespace())
            || self.f.matches_cell(p.name())
            || self.matches_rest(m, p)
    }

    /// Whether the answer can change with the clock alone: the text could occur in RESTARTS
    /// or AGE, which count time.
    pub fn reads_clock(&self) -> bool {
        self.restarts || self.age
    }
}

/// kubectl's READY: `1/2`.
pub fn ready(p: &PodRow) -> String {
    format!("{}/{}", p.ready_containers, p.total_containers)
}

// Events.

/// OBJECT: `kind/name`, as `kubectl get events` shows it.
pub fn object(e: &EventRow) -> String {
    format!("{}/{}", e.object_kind.to_lowercase(), e.object_name)
}

/// Visible text of every column (what `/` filters on).
pub fn event(m: &Model, e: &EventRow) -> Vec<String> {
    vec![
        age::since(e.last_seen, m.cluster_now()),
        e.type_.clone(),
        e.reason.clone(),
        object(e),
        e.count.to_string(),
        e.message.clone(),
    ]
}

// PodDisruptionBudgets.

/// A PDB's `minAvailable`/`maxUnavailable`, or `N/A`.
pub fn intstr(v: &Option<IntOrString>) -> String {
    match v {
        Some(IntOrString::Int(i)) => i.to_string(),
        Some(IntOrString::String(s)) => s.clone(),
        None => "N/A".into(),
    }
}

/// How many pods PDB `p` selects, or `?` when its namespace's pods are hidden from us.
pub fn pdb_pods(m: &Model, p: &PdbRow) -> String {
    let ns = p.meta.namespace.as_deref().unwrap_or_default();
    if !m.pods_known_in(ns) {
        return "?".into();
    }
    m.cache
        .index
        .pdb_pods
        .get(&p.key())
        .map_or(0, |s| s.len())
        .to_string()
}

/// Visible text of every column (what `/` filters on).
pub fn pdb(m: &Model, p: &PdbRow) -> Vec<String> {
    let pods = pdb_pods(m, p);
    vec![
        p.meta.namespace.clone().unwrap_or_default(),
        p.meta.name.clone().unwrap_or_default(),
        intstr(&p.min_available),
        intstr(&p.max_unavailable),
        p.disruptions_allowed.to_string(),
        format!("{}/{}", p.current_healthy, p.desired_healthy),
        pods.to_string(),
        age::since(
            p.meta.creation_timestamp.as_ref().map(|t| t.0),
            m.cluster_now(),
        ),
    ]
}
