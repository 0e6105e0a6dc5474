//! A small cluster for the maintenance workflow's tests and snapshots: node0 holds a
//! DaemonSet pod, two PDB-guarded web pods, a cache pod with emptyDir data and a pod no
//! controller owns; node1 has room; one Pending pod waits.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::drain_flow::{FlowMsg, LiveDrain, PodProgress};
use super::fixtures::{self, node, now, pdb, pod};
use super::model::{ConnInfo, Model};
use super::msg::Msg;
use super::update::update;
use crate::cluster::rows::{NodeRow, PodRow};
use crate::cluster::watch::{Ev, Feed, WatchReport};
use crate::drain::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState, workload};
use crate::drain::journal::ann;

fn owned(mut p: PodRow, kind: &str, name: &str) -> PodRow {
    p.set_controller(Some(OwnerReference {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        name: name.into(),
        uid: format!("uid-{name}"),
        controller: Some(true),
        ..Default::default()
    }));
    p
}

/// The pods of the workflow cluster.
pub fn pods() -> Vec<PodRow> {
    let day = 86400;
    let mut cache = owned(
        pod("default", "cache-0", Some("node0"), "Running", day),
        "StatefulSet",
        "cache",
    );
    cache.empty_dirs = vec!["scratch".into()].into();
    vec![
        owned(
            pod(
                "kube-system",
                "kube-proxy-n0abc",
                Some("node0"),
                "Running",
                9 * day,
            ),
            "DaemonSet",
            "kube-proxy",
        ),
        owned(
            pod("default", "web-7c9d-aaaaa", Some("node0"), "Running", day),
            "ReplicaSet",
            "web-7c9d",
        ),
        owned(
            pod("default", "web-7c9d-bbbbb", Some("node0"), "Running", day),
            "ReplicaSet",
            "web-7c9d",
        ),
        cache,
        pod("default", "debug-shell", Some("node0"), "Running", 600),
        owned(
            pod(
                "kube-system",
                "kube-proxy-n1xyz",
                Some("node1"),
                "Running",
                9 * day,
            ),
            "DaemonSet",
            "kube-proxy",
        ),
        owned(
            pod("default", "web-7c9d-ccccc", Some("node1"), "Running", day),
            "ReplicaSet",
            "web-7c9d",
        ),
        owned(
            pod("default", "batch-7f6d-ppppp", None, "Pending", 60),
            "ReplicaSet",
            "batch-7f6d",
        ),
    ]
}

/// node0 as kubedrain's cordon left it: annotations with the versions before, and (after
/// `upgraded`) new versions now.
pub fn cordoned_node0(upgraded: bool) -> NodeRow {
    let mut n = node("node0", "", true, true);
    let at = (now() - SignedDuration::from_secs(1500)).to_string();
    n.meta.annotations = Some(
        [
            (ann::CORDONED_BY, "kubedrain"),
            (ann::CORDONED_AT, at.as_str()),
            (ann::WAS_UNSCHEDULABLE, "false"),
            (ann::DRAIN_STATE, "drained"),
            (ann::PRE_KERNEL, "6.8.0"),
            (ann::PRE_OS_IMAGE, "Ubuntu 24.04"),
            (ann::PRE_KUBELET, "v1.33.1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    );
    if upgraded {
        n.kernel_version = "6.8.0-2".into();
        n.os_image = "Ubuntu 24.04.1".into();
        n.kubelet_version = "v1.33.2".into();
        n.ready_since = Some(now() - SignedDuration::from_secs(42));
    }
    n
}

/// The workflow cluster at `size`, node0 selected, on a demo connection (so `U` exists).
pub fn flow_model(size: (u16, u16)) -> Model {
    let conn = ConnInfo {
        context: "demo".into(),
        server: "http://127.0.0.1:6443".into(),
        version: "v1.33.1".into(),
        demo: Some("workflow".into()),
        demo_kubeconfig: None,
        cluster_uid: None,
    };
    let mut m = Model::new(conn, None, false, now());
    m.size = size;
    m.flow.demo_upgrade = true;
    let nodes = vec![
        node("master0", "control-plane", false, true),
        node("node0", "", false, true),
        node("node1", "", false, true),
    ];
    let pdbs = vec![pdb("default", "web", "web", 3, 0)];
    fixtures::load(&mut m, (nodes, pods(), vec![], pdbs));
    update(
        &mut m,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('j'),
            ratatui::crossterm::event::KeyModifiers::NONE,
        )),
    );
    m
}

/// Feeds a watch event.
pub fn feed(m: &mut Model, f: Feed) {
    let generation = m.generation;
    update(
        m,
        Msg::Watch {
            generation,
            report: WatchReport::Feed(f),
        },
    );
}

/// Feeds a drain event.
pub fn drain_event(m: &mut Model, ev: DrainEvent) {
    update(m, Msg::Flow(FlowMsg::Drain(ev)));
}

fn pod_ev(key: &str, state: PodState) -> DrainEvent {
    DrainEvent::Pod {
        node: "node0".into(),
        pod: key.into(),
        state,
    }
}

/// A drain of node0 half-way: one pod gone with its replacement Running on node1, one held by
/// the web PDB, one terminating with 23 s of grace left, one queued.
pub fn live_midway(m: &mut Model) {
    // Long: a fixture: one drain's half-way state written out pod by pod.
    let t0: Timestamp = now() - SignedDuration::from_secs(47);
    let mut live = LiveDrain::new("node0", t0, Some(300));
    for k in [
        "default/web-7c9d-aaaaa",
        "default/web-7c9d-bbbbb",
        "default/cache-0",
        "default/debug-shell",
    ] {
        let p = pods()
            .into_iter()
            .find(|p| p.key() == k)
            .expect("fixture pod");
        let mut row = PodProgress::bare(k.into(), PodState::Queued, t0);
        row.uid = p.uid().to_string();
        row.workload = p
            .controller()
            .map(|c| workload(&c.kind, p.namespace(), &c.name));
        live.rows.push(row);
    }
    live.skipped = 1;
    m.flow.live = Some(live);
    m.flow.dialog = Some(super::drain_flow::Dialog::Live);
    drain_event(
        m,
        DrainEvent::Cordoned {
            node: "node0".into(),
            already: false,
        },
    );
    drain_event(
        m,
        DrainEvent::State {
            node: "node0".into(),
            state: NodeState::Evicting,
        },
    );
    drain_event(
        m,
        pod_ev(
            "default/web-7c9d-aaaaa",
            PodState::Gone {
                how: GoneHow::Evicted,
            },
        ),
    );
    drain_event(
        m,
        DrainEvent::Replacement {
            node: "node0".into(),
            workload: "ReplicaSet default/web-7c9d".into(),
            pod: "default/web-7c9d-ddddd".into(),
            on_node: Some("node1".into()),
            phase: "Running".into(),
            ready: true,
        },
    );
    drain_event(
        m,
        pod_ev(
            "default/web-7c9d-bbbbb",
            PodState::BlockedByPdb {
                pdb: Some("default/web".into()),
                healthy: Some(2),
                needed: Some(3),
                message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
                cause: None,
                retry_in: std::time::Duration::from_secs(5),
            },
        ),
    );
    let ddddd = owned(
        pod("default", "web-7c9d-ddddd", Some("node1"), "Running", 20),
        "ReplicaSet",
        "web-7c9d",
    );
    feed(m, Feed::Pods(Ev::Apply(ddddd)));
    // The PDB's status now (its watch): the replacement is Ready, so 3 healthy again.
    let mut web = pdb("default", "web", "web", 3, 0);
    web.current_healthy = 3;
    feed(m, Feed::Pdbs(Ev::Apply(web)));
    let deadline = now() + SignedDuration::from_secs(23);
    drain_event(
        m,
        pod_ev(
            "default/cache-0",
            PodState::Terminating {
                grace_deadline: Some(deadline),
            },
        ),
    );
    // The watch shows the deletion: deletionTimestamp is the end of its grace period.
    let mut cache = pods()
        .into_iter()
        .find(|p| p.key() == "default/cache-0")
        .expect("fixture pod");
    cache.set_deletion_timestamp(Some(deadline));
    feed(m, Feed::Pods(Ev::Apply(cache)));
}

/// The drain of node0 finished: the evicted pods are gone from the cache, only the DaemonSet
/// pod is left.
pub fn live_drained(m: &mut Model) {
    live_midway(m);
    for k in [
        "default/web-7c9d-bbbbb",
        "default/cache-0",
        "default/debug-shell",
    ] {
        drain_event(
            m,
            pod_ev(
                k,
                PodState::Gone {
                    how: GoneHow::Evicted,
                },
            ),
        );
    }
    for p in pods()
        .into_iter()
        .filter(|p| p.node_name.as_deref() == Some("node0") && !p.is_daemonset_pod())
    {
        feed(m, Feed::Pods(Ev::Delete(p)));
    }
    // The watch shows what the drain did: node0 cordoned (and annotated drained).
    feed(m, Feed::Nodes(Ev::Apply(cordoned_node0(false))));
    drain_event(
        m,
        DrainEvent::Finished(DrainOutcome {
            node: "node0".into(),
            state: NodeState::Drained,
            errors: vec![],
            pending_pods: vec![],
            message: "node/node0 drained".into(),
        }),
    );
    if let Some(l) = &mut m.flow.live {
        l.finished_at = Some(now());
    }
}
