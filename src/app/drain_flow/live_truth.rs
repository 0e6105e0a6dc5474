//! What the live drain view says, derived from the cluster's state. The engine reports what it
//! did (eviction sent, refused, accepted); the TUI's own watches (`m.cache`) say what is, and
//! keep saying it after the engine stopped (cancel, timeout): a pod gone from the watch is gone
//! whatever the grace countdown said, counts are the pods still on the node, PDB counts are the
//! PDB's status now, and replacements are counted per workload with their Ready condition.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::{LiveDrain, PodProgress, Replacement};
use crate::app::model::{Model, WatchState};
use crate::cluster::rows::{PdbRow, Phase};
use crate::cluster::watch::Kind;
use crate::drain::events::{GoneHow, NodeState, PodState};

/// A drained pod as the TUI's pod watch sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Deleted (or its name now belongs to a new pod).
    Gone,
    /// Still there, being deleted; grace ends at the deletion timestamp.
    Terminating(Option<Timestamp>),
    /// Still there, not being deleted.
    Present,
    /// The watch cannot tell: not live, or `-n` hides the pod's namespace.
    Unknown,
}

fn live_watch(m: &Model, k: Kind) -> bool {
    m.watch.get(&k) == Some(&WatchState::Live)
}

/// Where the pod of row `r` is, per the pod watch.
pub fn seen(m: &Model, r: &PodProgress) -> Seen {
    let ns = r.key.split('/').next().unwrap_or_default();
    if !live_watch(m, Kind::Pods) || m.namespace.as_deref().is_some_and(|n| n != ns) {
        return Seen::Unknown;
    }
    match m.cache.pods.get(&r.key) {
        None => Seen::Gone,
        Some(p) if !r.uid.is_empty() && p.uid() != r.uid => Seen::Gone,
        Some(p) => match p.deletion_timestamp() {
            Some(t) => Seen::Terminating(Some(t)),
            None => Seen::Present,
        },
    }
}

/// What a row shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown<'a> {
    /// As the engine reported it.
    Engine(&'a PodState),
    /// Gone per the watch: evicted/deleted by this drain if it accepted one, else just gone.
    Gone(GoneHow),
    /// Being deleted per the watch (its deletionTimestamp is when grace ends).
    Terminating(Option<Timestamp>),
    /// The drain is over and the pod still runs on the node; the text says why.
    Stayed(&'static str),
}

impl Shown<'_> {
    /// Whether the pod has left the node.
    pub fn is_gone(&self) -> bool {
        matches!(self, Shown::Gone(_) | Shown::Engine(PodState::Gone { .. }))
    }
}

/// The row's state: the engine's, corrected by what the pod watch says.
pub fn shown<'a>(m: &Model, live: &LiveDrain, r: &'a PodProgress) -> Shown<'a> {
    // A Gone from the engine came from its own watch (or a 404): the cache only lags it.
    if matches!(r.state, PodState::Gone { .. }) {
        return Shown::Engine(&r.state);
    }
    let over = live.outcome.as_ref().map(|o| o.state);
    match seen(m, r) {
        Seen::Gone => Shown::Gone(match (r.accepted, r.delete) {
            (true, true) => GoneHow::Deleted,
            (true, false) => GoneHow::Evicted,
            (false, _) => GoneHow::AlreadyGone,
        }),
        Seen::Terminating(_) if matches!(r.state, PodState::SkippedWait { .. }) => {
            Shown::Engine(&r.state)
        }
        Seen::Terminating(t) => Shown::Terminating(t),
        // Accepted but the watch has not shown the deletion yet: the engine is ahead. Its
        // grace deadline is a guess on kubedrain's clock; the countdown waits for the
        // cluster's deletionTimestamp (the watch), which is the deadline on its own clock.
        Seen::Present if r.accepted => match &r.state {
            PodState::Terminating { .. } => Shown::Terminating(None),
            s => Shown::Engine(s),
        },
        Seen::Present => match (over, &r.state) {
            (None, _) => Shown::Engine(&r.state),
            // A real failure (not the timeout's cut-off): its reason says more.
            (Some(NodeState::Failed), PodState::Failed { .. }) => Shown::Engine(&r.state),
            (Some(NodeState::Cancelled), _) => Shown::Stayed("not evicted: drain cancelled"),
            (Some(NodeState::Interrupted), _) => Shown::Stayed("not evicted: drain interrupted"),
            (Some(NodeState::TimedOut), _) => Shown::Stayed("not evicted: timed out"),
            (Some(_), _) => Shown::Stayed("not evicted"),
        },
        Seen::Unknown => Shown::Engine(&r.state),
    }
}

/// Pods of the drain still on the node: per the watch, or (when it cannot tell) the engine.
pub fn pods_left(m: &Model, live: &LiveDrain) -> usize {
    live.rows
        .iter()
        .filter(|r| match (seen(m, r), shown(m, live, r)) {
            (_, s) if s.is_gone() => false,
            (Seen::Unknown, _) => !r.state.is_final(),
            _ => true,
        })
        .count()
}

/// The PDB `namespace/name` as its watch shows it now, if the watch is live.
pub fn pdb_now<'a>(m: &'a Model, key: &str) -> Option<&'a PdbRow> {
    if !live_watch(m, Kind::Pdbs) {
        return None;
    }
    m.cache.pdbs.get(key)
}

/// How a replacement is doing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ReplState {
    /// Its Ready condition is True.
    Ready,
    /// Running, but not Ready (e.g. its readiness probe has not passed).
    RunningNotReady,
    /// Bound, containers starting.
    Starting,
    /// No node yet.
    Unscheduled,
    /// Anything else (Terminating, Failed, …), as the pods pane words it.
    Other(String),
}

/// One replacement, as the watch (or, while it is not live, the engine) last saw it; `None`
/// when the live watch no longer has it (deleted).
fn repl_state(m: &Model, key: &str, r: &Replacement) -> Option<(ReplState, Option<String>)> {
    let watched = live_watch(m, Kind::Pods);
    if let Some(p) = m.cache.pods.get(key) {
        let node = p.node_name.as_deref().map(str::to_string);
        let s = if p.is_terminating() || p.phase.is_finished() {
            ReplState::Other(p.status_text().to_string())
        } else if node.is_none() {
            ReplState::Unscheduled
        } else if p.ready {
            ReplState::Ready
        } else if p.phase == Phase::Running {
            ReplState::RunningNotReady
        } else {
            ReplState::Starting
        };
        return Some((s, node));
    }
    if watched {
        return None;
    }
    let s = match (&r.on_node, r.phase.as_str(), r.ready) {
        (None, ..) => ReplState::Unscheduled,
        (_, "Running", true) => ReplState::Ready,
        (_, "Running", false) => ReplState::RunningNotReady,
        (_, "Pending", _) => ReplState::Starting,
        (_, other, _) => ReplState::Other(other.to_string()),
    };
    Some((s, r.on_node.clone()))
}

/// A workload the drain evicts from: how many of its pods were evicted, and its replacements
/// grouped by state and node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadProgress {
    /// `Kind namespace/name`.
    pub workload: String,
    /// Its pods whose eviction (or deletion) the API accepted.
    pub evicted: usize,
    /// Its pods this drain removes.
    pub total: usize,
    /// (state, node) → count, in a stable order (Ready first).
    pub replacements: BTreeMap<(ReplState, Option<String>), usize>,
}

impl WorkloadProgress {
    /// Replacements in all.
    pub fn replacement_count(&self) -> usize {
        self.replacements.values().sum()
    }
}

/// Per workload with at least one eviction or replacement, in the rows' order.
pub fn workloads(m: &Model, live: &LiveDrain) -> Vec<WorkloadProgress> {
    let mut order: Vec<&str> = Vec::new();
    for w in live.rows.iter().filter_map(|r| r.workload.as_deref()) {
        if !order.contains(&w) {
            order.push(w);
        }
    }
    for w in live.replacements.keys() {
        if !order.contains(&w.as_str()) {
            order.push(w);
        }
    }
    order
        .into_iter()
        .map(|w| {
            let mine = live
                .rows
                .iter()
                .filter(|r| r.workload.as_deref() == Some(w));
            let (total, evicted) = mine.fold((0, 0), |(t, e), r| (t + 1, e + r.accepted as usize));
            let mut replacements = BTreeMap::new();
            for (key, r) in live.replacements.get(w).into_iter().flatten() {
                if let Some(s) = repl_state(m, key, r) {
                    *replacements.entry(s).or_insert(0) += 1;
                }
            }
            WorkloadProgress {
                workload: w.to_string(),
                evicted,
                total,
                replacements,
            }
        })
        .filter(|w| w.evicted > 0 || !w.replacements.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::flow_fixtures::{self as fx, flow_model, pods};
    use crate::cluster::watch::{Ev, Feed};

    fn row<'a>(live: &'a LiveDrain, key: &str) -> &'a PodProgress {
        live.rows.iter().find(|r| r.key == key).unwrap()
    }

    #[test]
    fn the_watch_decides_gone_only_when_it_can_tell() {
        let mut m = flow_model((120, 40));
        fx::live_midway(&mut m);
        let live = m.flow.live.clone().unwrap();
        let cache0 = row(&live, "default/cache-0");
        // The watch shows the deletion: its deletionTimestamp is the countdown's deadline.
        assert!(matches!(seen(&m, cache0), Seen::Terminating(Some(_))));
        // Accepted, still listed without a deletion timestamp: the engine is ahead, and its
        // deadline (kubedrain's clock) is not shown as the cluster's countdown.
        let listed = pods()
            .into_iter()
            .find(|p| p.key() == "default/cache-0")
            .unwrap();
        fx::feed(&mut m, Feed::Pods(Ev::Apply(listed)));
        assert_eq!(seen(&m, cache0), Seen::Present);
        assert_eq!(shown(&m, &live, cache0), Shown::Terminating(None));
        // A new pod under the same name is not the drained one.
        let other: crate::cluster::rows::PodRow = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cache-0", "namespace": "default", "uid": "another"},
            "spec": {"nodeName": "node0"}, "status": {"phase": "Pending"}
        }))
        .unwrap();
        fx::feed(&mut m, Feed::Pods(Ev::Apply(other)));
        assert_eq!(seen(&m, cache0), Seen::Gone);
        assert_eq!(shown(&m, &live, cache0), Shown::Gone(GoneHow::Evicted));
        // `-n` hiding its namespace, or a watch that is not live: the engine's word stands.
        m.namespace = Some("kube-system".into());
        assert_eq!(seen(&m, cache0), Seen::Unknown);
        m.namespace = None;
        m.watch.insert(Kind::Pods, WatchState::Resyncing);
        assert_eq!(seen(&m, cache0), Seen::Unknown);
        assert!(matches!(shown(&m, &live, cache0), Shown::Engine(_)));
    }

    #[test]
    fn the_pod_watch_finds_replacements_of_the_drained_workloads_only() {
        let mut m = flow_model((120, 40));
        fx::live_midway(&mut m);
        let mut live = m.flow.live.clone().unwrap();
        live.replacements.clear();
        live.track_workloads(&m.cache);
        // The web ReplicaSet's pods that existed (on node0, node1) are not replacements.
        assert!(live.before.contains("uid-default-web-7c9d-ccccc"));
        for p in pods() {
            live.on_pod_event(&Ev::Apply(p));
        }
        assert!(live.replacements.is_empty());
        let new = |name: &str, node: Option<&str>| {
            let mut p = crate::app::fixtures::pod("default", name, node, "Running", 5);
            p.set_controller(Some(
                k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                    api_version: "apps/v1".into(),
                    kind: "ReplicaSet".into(),
                    name: "web-7c9d".into(),
                    uid: "uid-web-7c9d".into(),
                    controller: Some(true),
                    ..Default::default()
                },
            ));
            p
        };
        live.on_pod_event(&Ev::Apply(new("web-7c9d-back0", Some("node0"))));
        assert!(live.replacements.is_empty(), "not on the drained node");
        live.on_pod_event(&Ev::Apply(new("web-7c9d-eeeee", Some("node1"))));
        let w = "ReplicaSet default/web-7c9d";
        assert!(live.replacements[w].contains_key("default/web-7c9d-eeeee"));
        live.on_pod_event(&Ev::Delete(new("web-7c9d-eeeee", Some("node1"))));
        assert!(live.replacements[w].is_empty());
    }

    #[test]
    fn counts_per_workload_come_from_the_rows_and_the_watch() {
        let mut m = flow_model((120, 40));
        fx::live_midway(&mut m);
        let live = m.flow.live.clone().unwrap();
        let ws = workloads(&m, &live);
        let web = ws
            .iter()
            .find(|w| w.workload == "ReplicaSet default/web-7c9d")
            .unwrap();
        assert_eq!((web.evicted, web.total), (1, 2));
        assert_eq!(
            web.replacements.iter().collect::<Vec<_>>(),
            [(&(ReplState::Ready, Some("node1".to_string())), &1)]
        );
        // The replacement's Ready condition turns False: the line says so.
        let mut d = m.cache.pods.get("default/web-7c9d-ddddd").unwrap().clone();
        d.ready = false;
        fx::feed(&mut m, Feed::Pods(Ev::Apply(d)));
        let ws = workloads(&m, &live);
        let web = ws
            .iter()
            .find(|w| w.workload == "ReplicaSet default/web-7c9d")
            .unwrap();
        assert!(
            web.replacements
                .contains_key(&(ReplState::RunningNotReady, Some("node1".into())))
        );
        // Gone from the live watch: no longer counted, whatever the engine said last.
        let d = m.cache.pods.get("default/web-7c9d-ddddd").unwrap().clone();
        fx::feed(&mut m, Feed::Pods(Ev::Delete(d)));
        let ws = workloads(&m, &live);
        let web = ws
            .iter()
            .find(|w| w.workload == "ReplicaSet default/web-7c9d")
            .unwrap();
        assert_eq!(web.replacement_count(), 0);
        // Pods left: web-bbbbb, cache-0 and debug-shell (web-aaaaa's Gone came from the engine).
        assert_eq!(pods_left(&m, &live), 3);
    }
}
