//! kubectl-compatible output lines, 429 parsing, the Eviction body, and the journal's
//! resume/uncordon rules (pure parts, no cluster).

use std::time::Duration;

use kube::core::Status;
use kubedrain::cluster::rows::NodeRow;
use kubedrain::drain::events::{DrainEvent, DrainOutcome, GoneHow, NodeState, PodState};
use kubedrain::drain::evict::{Target, blocked_state, eviction_body};
use kubedrain::drain::journal::{Action, Journal, Pending, find_unfinished, may_uncordon};
use kubedrain::drain::render::{Line, aggregate, event_lines};
use serde_json::json;

fn status_429(cause: &str, retry: u32) -> Status {
    serde_json::from_value(json!({
        "status": "Failure", "code": 429, "reason": "TooManyRequests",
        "message": "Cannot evict pod as it would violate the pod's disruption budget.",
        "details": {"causes": [{"reason": "DisruptionBudget", "message": cause}], "retryAfterSeconds": retry},
    }))
    .unwrap()
}

#[test]
fn parses_the_blocking_pdb_from_causes() {
    let s = status_429(
        "The disruption budget web-pdb needs 2 healthy pods and has 2 currently",
        0,
    );
    match blocked_state(&s, "shop") {
        PodState::BlockedByPdb {
            pdb,
            healthy,
            needed,
            retry_in,
            ..
        } => {
            assert_eq!(pdb.as_deref(), Some("shop/web-pdb"));
            assert_eq!((healthy, needed), (Some(2), Some(2)));
            assert_eq!(
                retry_in,
                Duration::from_secs(5),
                "kubectl's 5 s when the server gives 0"
            );
        }
        other => panic!("{other:?}"),
    }
    let s = status_429(
        "The disruption budget web-pdb is still being processed by the server.",
        10,
    );
    match blocked_state(&s, "shop") {
        PodState::BlockedByPdb {
            pdb,
            healthy,
            retry_in,
            ..
        } => {
            assert_eq!(pdb.as_deref(), Some("shop/web-pdb"));
            assert_eq!(healthy, None);
            assert_eq!(
                retry_in,
                Duration::from_secs(10),
                "the server's retryAfterSeconds"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn eviction_body_is_policy_v1_with_camel_case_delete_options() {
    let mut t = Target {
        namespace: "d".into(),
        name: "p".into(),
        uid: String::new(),
    };
    assert_eq!(
        eviction_body(&t, Some(0)),
        json!({"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": "p", "namespace": "d"}, "deleteOptions": {"gracePeriodSeconds": 0}})
    );
    assert!(eviction_body(&t, None).get("deleteOptions").is_none());
    // The planned pod's uid is a precondition: a new pod with the name is not evicted.
    t.uid = "u1".into();
    assert_eq!(
        eviction_body(&t, None)["deleteOptions"],
        json!({"preconditions": {"uid": "u1"}})
    );
}

fn pod_event(state: PodState) -> DrainEvent {
    DrainEvent::Pod {
        node: "node0".into(),
        pod: "default/web-1".into(),
        state,
    }
}

#[test]
fn kubectl_lines() {
    let out = |s: &str| Line::Out(s.into());
    let err = |s: &str| Line::Err(s.into());
    assert_eq!(
        event_lines(
            &DrainEvent::Cordoned {
                node: "node0".into(),
                already: true
            },
            false
        ),
        vec![out("node/node0 already cordoned")]
    );
    assert_eq!(
        event_lines(&pod_event(PodState::Queued), false),
        vec![out("evicting pod default/web-1")]
    );
    assert!(event_lines(&pod_event(PodState::Evicting { attempt: 1 }), false).is_empty());
    assert_eq!(
        event_lines(&pod_event(PodState::Evicting { attempt: 2 }), false),
        vec![out("evicting pod default/web-1")]
    );
    assert!(event_lines(&pod_event(PodState::Queued), true).is_empty());
    assert!(event_lines(&pod_event(PodState::Evicting { attempt: 1 }), true).is_empty());
    assert_eq!(
        event_lines(
            &pod_event(PodState::Gone {
                how: GoneHow::Evicted
            }),
            false
        ),
        vec![out("pod/web-1 evicted")]
    );
    assert_eq!(
        event_lines(
            &pod_event(PodState::Gone {
                how: GoneHow::Deleted
            }),
            true
        ),
        vec![out("pod/web-1 deleted")]
    );
    assert!(
        event_lines(
            &pod_event(PodState::Gone {
                how: GoneHow::AlreadyGone
            }),
            false
        )
        .is_empty()
    );
    let blocked = PodState::BlockedByPdb {
        pdb: Some("default/web".into()),
        healthy: Some(2),
        needed: Some(2),
        message: "Cannot evict pod as it would violate the pod's disruption budget.".into(),
        cause: None,
        retry_in: Duration::from_secs(5),
    };
    assert_eq!(
        event_lines(&pod_event(blocked), false),
        vec![err(
            "error when evicting pods/\"web-1\" -n \"default\" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget. (PodDisruptionBudget default/web: 2 healthy, needs 2)"
        )]
    );
    assert_eq!(
        event_lines(&pod_event(PodState::SkippedWait { seconds: 30 }), false),
        vec![out(
            "pod \"web-1\" has DeletionTimestamp older than 30 seconds, skipping"
        )]
    );
}

#[test]
fn failure_report_like_kubectl() {
    let o = DrainOutcome {
        node: "node0".into(),
        state: NodeState::TimedOut,
        errors: vec![
            "error when evicting pods/\"db-0\" -n \"default\": global timeout reached: 1m0s".into(),
        ],
        pending_pods: vec!["db-0".into()],
        message: "left cordoned".into(),
    };
    let lines: Vec<String> = event_lines(&DrainEvent::Finished(o), false)
        .into_iter()
        .map(|l| match l {
            Line::Err(s) => s,
            Line::Out(s) => panic!("stdout: {s}"),
        })
        .collect();
    assert_eq!(
        lines,
        vec![
            "There are pending pods in node \"node0\" when an error occurred: error when evicting pods/\"db-0\" -n \"default\": global timeout reached: 1m0s",
            "pod/db-0",
            "error: unable to drain node \"node0\" due to error: error when evicting pods/\"db-0\" -n \"default\": global timeout reached: 1m0s, continuing command...",
            "There are pending nodes to be drained:",
            " node0",
            "error when evicting pods/\"db-0\" -n \"default\": global timeout reached: 1m0s",
            "left cordoned",
        ]
    );
    assert_eq!(aggregate(&["a".into(), "b".into()]), "[a, b]");

    // Several errors: kubectl 1.37 puts a space before the bracketed aggregate (1.28 did not).
    let two = DrainOutcome {
        node: "node0".into(),
        state: NodeState::Failed,
        errors: vec!["a".into(), "b".into()],
        pending_pods: vec![],
        message: "left cordoned".into(),
    };
    let lines = event_lines(&DrainEvent::Finished(two), false);
    assert_eq!(
        lines[0],
        Line::Err(
            "error: unable to drain node \"node0\" due to error: [a, b], continuing command..."
                .into()
        )
    );
}

fn node(unschedulable: bool, annotations: serde_json::Value) -> NodeRow {
    serde_json::from_value(json!({
        "metadata": {"name": "node0", "annotations": annotations},
        "spec": {"unschedulable": unschedulable}, "status": {}
    }))
    .unwrap()
}

#[test]
fn uncordon_rules() {
    let ours = node(
        true,
        json!({"kubedrain.io/cordoned-by": "kubedrain", "kubedrain.io/was-unschedulable": "false"}),
    );
    assert!(may_uncordon(&ours).is_ok());
    let predates = node(
        true,
        json!({"kubedrain.io/cordoned-by": "kubedrain", "kubedrain.io/was-unschedulable": "true"}),
    );
    assert!(
        may_uncordon(&predates)
            .unwrap_err()
            .to_string()
            .contains("already cordoned before kubedrain")
    );
    let foreign = node(true, json!({}));
    assert!(
        may_uncordon(&foreign)
            .unwrap_err()
            .to_string()
            .contains("not cordoned by kubedrain")
    );
}

#[tokio::test]
async fn finds_interrupted_and_drained_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal {
        path: dir.path().join("journal.jsonl"),
        target: Default::default(),
    };
    j.record("node0", Action::DrainStart, "started", None, None);
    j.record_durable("node0", Action::Cordon, "cordoned", None, None)
        .await
        .unwrap();
    let draining = node(
        true,
        json!({"kubedrain.io/cordoned-by": "kubedrain", "kubedrain.io/drain-state": "draining", "kubedrain.io/was-unschedulable": "false"}),
    );
    let found = find_unfinished(&[&draining], &j.entries());
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].pending, Pending::ResumeDrain);
    assert!(found[0].interrupted);
    j.record_durable("node0", Action::DrainResult, "drained", None, None)
        .await
        .unwrap();
    let drained = node(
        true,
        json!({"kubedrain.io/cordoned-by": "kubedrain", "kubedrain.io/drain-state": "drained"}),
    );
    let found = find_unfinished(&[&drained], &j.entries());
    assert_eq!(found[0].pending, Pending::Uncordon);
    assert!(!found[0].interrupted);
    // Uncordoned nodes and nodes kubedrain never touched are not reported.
    assert!(find_unfinished(&[&node(false, json!({}))], &j.entries()).is_empty());
    assert!(find_unfinished(&[&node(true, json!({}))], &[]).is_empty());
    let lines = std::fs::read_to_string(&j.path).unwrap();
    assert_eq!(lines.lines().count(), 3);
    assert!(lines.contains("\"action\":\"drain-start\""));
}
