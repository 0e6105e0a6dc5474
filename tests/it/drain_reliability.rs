//! Reliability: a drain never says "drained" about a state that is not the cluster's. A server
//! swapped behind the same URL, or a node re-created under the same name, is reported and the
//! node behind the name now is never annotated.

use crate::drain_support;

use drain_support::proxy::{Proxy, addr_of};
use drain_support::sim::*;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DeleteParams, PostParams};
use kubedrain::drain::events::NodeState;
use kubedrain::drain::exec::start_drain;
use kubedrain::drain::journal::ann;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_swapped_mid_drain_is_not_drained_and_not_annotated() {
    let (a, b) = (sim("pdb-blocked").await, sim("pdb-blocked").await);
    let proxy = Proxy::start(addr_of(&a.url())).await;
    let c = client_via(&a, &proxy.url()).await;
    let cb = client(&b).await;
    let before_b = node(&cb, "node0").await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&a, &dir));
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    // Another cluster behind the same URL: same names, other uids.
    proxy.swap(addr_of(&b.url()));
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert!(
        out.message
            .contains("node/node0 is not the node kubedrain started with"),
        "{out:?}"
    );
    assert!(out.message.contains("nothing was changed on it"), "{out:?}");
    // The node of the other cluster: untouched (schedulable, no kubedrain annotation).
    let now_b = node(&cb, "node0").await;
    assert!(!now_b.unschedulable);
    assert_eq!(now_b.annotation(ann::DRAIN_STATE), None);
    assert_eq!(now_b.annotation(ann::CORDONED_BY), None);
    assert_eq!(now_b.meta.resource_version, before_b.meta.resource_version);
    // Nor were its pods evicted.
    assert!(pods(&cb).await.iter().all(|p| !p.is_terminating()));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_recreated_mid_drain_is_reported_and_not_annotated() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    let api = Api::<Node>::all(c.clone());
    let mut fresh = api.get("node0").await.unwrap();
    fresh.metadata.uid = None;
    fresh.metadata.resource_version = None;
    fresh.metadata.annotations = None;
    fresh.spec.get_or_insert_default().unschedulable = None;
    api.delete("node0", &DeleteParams::default()).await.unwrap();
    api.create(&PostParams::default(), &fresh).await.unwrap();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert_ne!(out.state, NodeState::Drained);
    let n = node(&c, "node0").await;
    assert!(
        !n.unschedulable,
        "the new node is not cordoned by the old drain"
    );
    assert_eq!(n.annotation(ann::DRAIN_STATE), None, "{out:?}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_uncordoned_mid_drain_does_not_end_drained() {
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    // A colleague's `kubectl uncordon node0` (same node, same uid).
    let api = Api::<Node>::all(c.clone());
    let body = serde_json::json!({"spec": {"unschedulable": false}});
    api.patch(
        "node0",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&body),
    )
    .await
    .unwrap();
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert!(
        out.errors.iter().any(|e| e.contains("schedulable again")),
        "{out:?}"
    );
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("failed")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_seconds_of_503_during_the_pdb_wait_are_retried_and_the_drain_completes() {
    use kubedrain::drain::events::{DrainEvent, PodState};
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let mut events = vec![];
    until_blocked(&mut rx, &mut events).await;
    // The server answers every eviction with 503 for 10 s (and at least four retries).
    let spell = std::time::Instant::now();
    let id = sim.faults().add(fault(
        "POST",
        "/api/v1/namespaces/*/pods/*/eviction",
        503,
        None,
    ));
    eventually("several 503s", || async {
        sim.faults().hits(id) >= 4 && spell.elapsed() >= std::time::Duration::from_secs(10)
    })
    .await;
    sim.faults().remove(id);
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    let retried = events.iter().filter(|e| {
        matches!(e, DrainEvent::Pod { state: PodState::Retrying { message, .. }, .. }
            if message.contains("transient error, retry"))
    });
    assert!(
        retried.count() >= 4,
        "each 503 was a counted retry: {events:#?}"
    );
    budgets_hold(sim.store()).unwrap();
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("drained")
    );
    j.flush().await;
    assert!(
        !j.entries().iter().any(|e| e.outcome == "failed"),
        "{:#?}",
        j.entries()
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_4xx_fails_that_pod_and_the_annotation_agrees_with_the_journal() {
    use kubedrain::drain::events::{DrainEvent, PodState};
    use kubedrain::drain::journal::Action;
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    sim.faults().add(fault(
        "POST",
        "/api/v1/namespaces/*/pods/*/eviction",
        403,
        Some(1),
    ));
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let mut events = vec![];
    let failed = tokio::time::timeout(DEADLINE, async {
        while let Some(e) = rx.recv().await {
            let reason = match &e {
                DrainEvent::Pod {
                    state: PodState::Failed { reason },
                    ..
                } => Some(reason.clone()),
                _ => None,
            };
            events.push(e);
            if let Some(r) = reason {
                return r;
            }
        }
        panic!("no pod failed: {events:#?}");
    })
    .await
    .unwrap();
    assert!(failed.contains("is forbidden: injected fault"), "{failed}");
    // The end of the drain meets a 503 burst on the node: the annotation is still written.
    let id = sim
        .faults()
        .add(fault("PATCH", "/api/v1/nodes/node0", 503, Some(2)));
    let out = finish(handle, &mut rx, &mut events).await;
    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert_eq!(out.errors, vec![failed]);
    assert_eq!(sim.faults().hits(id), 2);
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("failed")
    );
    j.flush().await;
    let result = j
        .entries()
        .into_iter()
        .rfind(|e| e.action == Action::DrainResult)
        .unwrap();
    assert_eq!(result.outcome, "failed");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_final_check_rides_out_a_503_burst() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    // The drain reads node0 through its watch; the one GET of node0 is the final check's.
    let id = sim
        .faults()
        .add(fault("GET", "/api/v1/nodes/node0", 503, Some(2)));
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    assert_eq!(sim.faults().hits(id), 2);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_write_meant_for_another_uid_changes_nothing() {
    use kubedrain::drain::node_ops::{NodeOpError, set_drain_state};
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let before = node(&c, "node0").await;
    let err = set_drain_state(&c, "node0", Some("not-this-node"), "drained")
        .await
        .unwrap_err();
    assert!(matches!(err, NodeOpError::Replaced(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("node/node0 is not the node kubedrain started with"),
        "{err}"
    );
    let after = node(&c, "node0").await;
    assert_eq!(after.annotation(ann::DRAIN_STATE), None);
    assert_eq!(after.meta.resource_version, before.meta.resource_version);
    // The right uid writes.
    set_drain_state(&c, "node0", before.meta.uid.as_deref(), "drained")
        .await
        .unwrap();
    assert_eq!(
        node(&c, "node0").await.annotation(ann::DRAIN_STATE),
        Some("drained")
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_eviction_has_its_intent_journaled_before_it() {
    use kubedrain::drain::journal::Action;
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let j = journal(&sim, &dir);
    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), j.clone());
    let out = finish(handle, &mut rx, &mut vec![]).await;
    assert_eq!(out.state, NodeState::Drained, "{out:?}");
    j.flush().await;
    let entries = j.entries();
    let evictions: Vec<_> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.action == Action::Evict)
        .collect();
    let accepted: Vec<_> = evictions
        .iter()
        .filter(|(_, e)| e.outcome == "accepted" || e.outcome == "already-gone")
        .collect();
    assert!(!accepted.is_empty(), "{entries:#?}");
    for (i, e) in accepted {
        assert!(
            evictions
                .iter()
                .any(|(k, x)| k < i && x.pod == e.pod && x.outcome == "requesting"),
            "no intent before {:?}: {entries:#?}",
            e.pod
        );
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_a_headless_drain_records_it_interrupted_and_annotates_it() {
    use kubedrain::drain::journal::{Action, Journal, Target};
    use tokio::io::{AsyncBufReadExt, BufReader};
    let sim = sim("pdb-blocked").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["drain", "node0", "--ignore-daemonsets", "--kubeconfig"])
        .arg(&kc)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the drain to be waiting on the budget (its own line says so).
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(DEADLINE, async {
        while let Some(l) = err.next_line().await.unwrap() {
            if l.contains("will retry after") {
                return;
            }
        }
        panic!("the drain ended before a PDB blocked it");
    })
    .await
    .unwrap();
    let pid = child.id().unwrap().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "interrupted, not killed: {status:?}"
    );
    let n = node(&c, "node0").await;
    assert!(n.unschedulable, "left cordoned");
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("interrupted"));
    let j = Journal {
        path: dir.path().join("journal.jsonl"),
        target: Target::default(),
    };
    let result = j
        .entries()
        .into_iter()
        .rfind(|e| e.action == Action::DrainResult)
        .expect("a journaled result");
    assert_eq!(result.outcome, "interrupted");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_headless_drain_fails_it_journals_it_and_keeps_the_cordon() {
    use kubedrain::drain::journal::{Action, Journal, Target};
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kc).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubedrain"))
        .args(["drain", "node0", "--ignore-daemonsets", "--kubeconfig"])
        .arg(&kc)
        .env("KUBEDRAIN_STATE_DIR", dir.path())
        .env("KUBEDRAIN_FAULT_PANIC", "after-cordon")
        .env("RUST_BACKTRACE", "0")
        .output();
    let out = tokio::time::timeout(DEADLINE, out).await.unwrap().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("drain task panicked: injected by KUBEDRAIN_FAULT_PANIC=after-cordon"),
        "{err}"
    );
    assert!(err.contains("kubedrain: internal error: injected"), "{err}");
    assert!(
        !err.contains("stack backtrace"),
        "one line, not a report: {err}"
    );
    let n = node(&c, "node0").await;
    assert!(n.unschedulable, "left cordoned");
    assert_eq!(n.annotation(ann::DRAIN_STATE), Some("failed"));
    let j = Journal {
        path: dir.path().join("journal.jsonl"),
        target: Target::default(),
    };
    let result = j
        .entries()
        .into_iter()
        .rfind(|e| e.action == Action::DrainResult)
        .expect("a journaled result");
    assert_eq!(result.outcome, "failed");
    // Nothing was evicted after the panic.
    assert!(pods(&c).await.iter().all(|p| !p.is_terminating()));
    sim.stop().await;
}
