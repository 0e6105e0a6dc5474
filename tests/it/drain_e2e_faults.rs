//! End to end against the simulator when things go wrong: a node deleted mid-drain, a killed
//! drain resumed, a failed cordon, flaky watches, timeout, cancel; and delete mode.

use crate::drain_support;

use std::time::Duration;

use drain_support::sim::*;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams};
use kubedrain::drain::DrainOptions;
use kubedrain::drain::events::{DrainEvent, NodeState, PodState};
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::journal::{Pending, ann, find_unfinished};
use kubedrain::sim::api::faults::{FaultAction, FaultRule};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_deleted_mid_drain_fails_clearly() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    Api::<Node>::all(c.clone())
        .delete("node0", &DeleteParams::default())
        .await
        .unwrap();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed);
    assert_eq!(out.message, "node node0 was deleted during the drain");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_drain_is_found_and_resumed() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    until_blocked(&mut rx, &mut vec![]).await;
    handle.abort(); // as if the process died
    let n = node(&c, "node0").await;
    let unfinished = find_unfinished(&[&n], &j.entries());
    assert_eq!(unfinished.len(), 1, "{unfinished:?}");
    let u = &unfinished[0];
    assert_eq!(u.pending, Pending::ResumeDrain);
    assert!(u.interrupted);
    assert_eq!(u.drain_state.as_deref(), Some("draining"));
    assert!(!u.was_unschedulable);
    // Resume: the node is already cordoned by us, and that is remembered as ours.
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let n = node(&c, "node0").await;
    assert_eq!(n.annotation(ann::WAS_UNSCHEDULABLE), Some("false"));
    let unfinished = find_unfinished(&[&n], &j.entries());
    assert_eq!(unfinished[0].pending, Pending::Uncordon);
    assert!(!unfinished[0].interrupted);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_cordon_evicts_nothing() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let id = sim
        .faults()
        .add(fault("PATCH", "/api/v1/nodes/node0", 403, None));
    let before = pods(&c).await.len();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed);
    assert!(
        out.errors[0].starts_with("unable to cordon node \"node0\""),
        "{out:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, DrainEvent::Pod { .. })),
        "no pod was touched: {events:#?}"
    );
    assert!(sim.faults().hits(id) >= 1);
    let ps = pods(&c).await;
    assert_eq!(ps.len(), before);
    assert!(ps.iter().all(|p| !p.is_terminating()));
    assert!(!node(&c, "node0").await.unschedulable);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_watch_errors_are_retried() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    // Once the plan is made, open watches expire (410) and pod requests (the pod watch, or its
    // relist after the 410, whichever comes first) fail a few times; later watches get 410.
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let planned = matches!(e, DrainEvent::Planned { .. });
            events.push(e);
            if planned {
                break;
            }
        }
    })
    .await
    .unwrap();
    let id = sim.faults().add(fault("GET", "/api/v1/pods", 500, Some(3)));
    sim.faults().gone_next_watches(2);
    sim.faults().expire_open_watches();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    assert_eq!(sim.faults().hits(id), 3);
    assert!(
        events.iter().any(
            |e| matches!(e, DrainEvent::Notice { message, .. } if message.contains("retrying"))
        ),
        "the errors were seen and retried: {events:#?}"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_and_cancel_leave_the_node_cordoned() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // Every eviction of checkout is refused: the drain can only time out.
    sim.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v1/namespaces/shop/pods/checkout-*/eviction".into(),
        action: FaultAction::Status(429),
        remaining: None,
    });
    let opts = DrainOptions {
        timeout: Some(Duration::from_secs(2)),
        ..ignore_ds()
    };
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::TimedOut, "{out:?}");
    assert!(
        out.errors
            .iter()
            .all(|e| e.contains("global timeout reached: 2s")),
        "{out:?}"
    );
    assert!(out.message.contains("left cordoned"), "{}", out.message);
    assert_eq!(out.pending_pods.len(), 2);
    let n = node(&c, "node0").await;
    assert!(n.unschedulable);
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("timed-out"));

    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let retrying = matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::Retrying { .. },
                    ..
                }
            );
            events.push(e);
            if retrying {
                return;
            }
        }
    })
    .await
    .unwrap();
    handle.cancel();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Cancelled);
    assert!(out.message.contains("left cordoned"));
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("cancelled")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_eviction_deletes_pods() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = DrainOptions {
        disable_eviction: true,
        grace_period: Some(0),
        ..ignore_ds()
    };
    let (handle, mut rx) = start_drain(c.clone(), "node0", opts, journal(&sim, &dir));
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let deleted = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                DrainEvent::Pod {
                    state: PodState::Gone {
                        how: kubedrain::drain::events::GoneHow::Deleted
                    },
                    ..
                }
            )
        })
        .count();
    assert_eq!(deleted, 6);
    sim.stop().await;
}
