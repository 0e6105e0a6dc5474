//! Forbidden (403) in the middle of a drain: RBAC that allows cordoning but not evicting one
//! pod, or a namespace that is terminating. The forbidden pod fails with the server's words,
//! the others are still evicted, and the node is left cordoned (as `kubectl drain` does).

use crate::drain_support;

use drain_support::sim::*;
use kubedrain::drain::events::{DrainEvent, NodeState, PodState};
use kubedrain::drain::exec::start_drain;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_eviction_fails_that_pod_and_the_rest_are_evicted() {
    let sim = sim("seed").await;
    let c = client(&sim).await;
    let dir = tempfile::tempdir().unwrap();
    let before = pods(&c).await;
    let on_node0: Vec<_> = before
        .iter()
        .filter(|p| p.node_name.as_deref() == Some("node0") && !p.is_daemonset_pod())
        .collect();
    assert!(
        on_node0.len() >= 2,
        "the seed has several app pods on node0"
    );
    let victim = on_node0[0];
    let (ns, name) = (victim.namespace().to_string(), victim.name().to_string());
    let others: Vec<String> = on_node0[1..].iter().map(|p| p.uid().to_string()).collect();
    let id = sim.faults().add(fault(
        "POST",
        &format!("/api/v1/namespaces/{ns}/pods/{name}/eviction"),
        403,
        None,
    ));

    let (handle, mut rx) = start_drain(c.clone(), "node0", ignore_ds(), journal(&sim, &dir));
    let mut events = vec![];
    let out = finish(handle, &mut rx, &mut events).await;

    assert_eq!(out.state, NodeState::Failed, "{out:?}");
    assert_eq!(out.errors.len(), 1, "{out:?}");
    assert!(
        out.errors[0].starts_with(&format!("error when evicting pods/\"{name}\" -n \"{ns}\"")),
        "kubectl's wording: {out:?}"
    );
    assert!(out.errors[0].contains("forbidden"), "{out:?}");
    assert_eq!(out.pending_pods, vec![name.clone()], "{out:?}");
    assert!(
        events.iter().any(|e| matches!(e,
            DrainEvent::Pod { pod, state: PodState::Failed { reason }, .. }
                if pod.ends_with(&name) && reason.contains("forbidden"))),
        "the pod's row says why: {events:#?}"
    );
    // Tried once: a 403 is not retried like a 429.
    assert_eq!(sim.faults().hits(id), 1);

    let after = pods(&c).await;
    let victim_now = after
        .iter()
        .find(|p| p.name() == name)
        .expect("still there");
    assert_eq!(victim_now.node_name.as_deref(), Some("node0"));
    assert!(!victim_now.is_terminating());
    for uid in &others {
        assert!(
            !after
                .iter()
                .any(|p| p.uid() == uid && p.node_name.as_deref() == Some("node0")),
            "pod {uid} was evicted although another was forbidden"
        );
    }
    let n = node(&c, "node0").await;
    assert!(n.unschedulable, "left cordoned");
    assert!(out.message.contains("cordoned"), "{out:?}");
    sim.stop().await;
}
