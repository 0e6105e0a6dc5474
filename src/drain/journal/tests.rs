use super::*;
use crate::cluster::rows::NodeRow;

#[tokio::test]
async fn queued_lines_keep_their_order_and_durable_ones_are_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal {
        path: dir.path().join("sub/journal.jsonl"),
        target: Target::default(),
    };
    for i in 0..50 {
        j.record(
            "node0",
            Action::Evict,
            "evicted",
            Some(&format!("ns/p{i}")),
            None,
        );
    }
    j.record_durable("node0", Action::DrainResult, "drained", None, None)
        .await
        .unwrap();
    let e = j.entries();
    assert_eq!(e.len(), 51);
    for (i, x) in e.iter().take(50).enumerate() {
        assert_eq!(x.pod.as_deref(), Some(format!("ns/p{i}").as_str()));
    }
    assert_eq!(e[50].action, Action::DrainResult);
    j.record("node0", Action::Uncordon, "uncordoned", None, None);
    j.flush().await;
    assert_eq!(j.entries().len(), 52);
}

#[tokio::test]
async fn the_history_keeps_one_line_per_node_of_this_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let here = Journal {
        path: path.clone(),
        target: Target {
            context: "a".into(),
            server: "https://a".into(),
        },
    };
    let elsewhere = Journal {
        path,
        target: Target {
            context: "b".into(),
            server: "https://b".into(),
        },
    };
    here.record("n1", Action::DrainStart, "started", None, None);
    for i in 0..100 {
        here.record(
            "n1",
            Action::Evict,
            "evicted",
            Some(&format!("ns/p{i}")),
            None,
        );
    }
    here.record("n2", Action::DrainStart, "started", None, None);
    here.record("n2", Action::DrainResult, "drained", None, None);
    elsewhere.record("n3", Action::DrainStart, "started", None, None);
    here.flush().await;
    let h = here.history();
    assert_eq!(h.len(), 2, "n3 is another cluster's");
    assert!(h.interrupted.contains("n1"), "a start without a result");
    assert!(!h.interrupted.contains("n2"));
    assert_eq!(h.last["n1"].pod.as_deref(), Some("ns/p99"));
    assert_eq!(h.last["n2"].action, Action::DrainResult);
}

#[test]
fn actions_print_as_the_journal_writes_them() {
    use Action::*;
    for a in [Cordon, Uncordon, DrainStart, Evict, Delete, DrainResult] {
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
}

#[tokio::test]
async fn rotation_keeps_what_resuming_needs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let cluster = |server: &str| Journal {
        path: path.clone(),
        target: Target {
            context: server.into(),
            server: server.into(),
        },
    };
    let (a, b) = (cluster("https://a"), cluster("https://b"));
    a.record("n1", Action::DrainStart, "started", None, None);
    for i in 0..200 {
        a.record(
            "n1",
            Action::Evict,
            "evicted",
            Some(&format!("ns/p{i}")),
            None,
        );
    }
    a.record("n2", Action::DrainStart, "started", None, None);
    a.record("n2", Action::DrainResult, "drained", None, None);
    b.record("n1", Action::Cordon, "cordoned", None, None);
    a.flush().await;
    let (before_a, before_b) = (a.history(), b.history());
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(
        !writer::rotate_if_larger(&path, size).unwrap(),
        "not past the limit"
    );
    assert!(writer::rotate_if_larger(&path, size / 2).unwrap());
    assert_eq!(a.history(), before_a, "cluster a resumes the same");
    assert_eq!(b.history(), before_b, "cluster b resumes the same");
    // a/n1: its open start and last evict; a/n2: its result; b/n1: its cordon.
    assert_eq!(a.entries().len(), 4, "every file line is one of those four");
    let old = path.with_extension("jsonl.1");
    assert_eq!(
        std::fs::metadata(&old).unwrap().len(),
        size,
        "the old file is kept"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[tokio::test]
async fn a_write_error_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    // The journal's directory is a file: nothing can be written under it.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let j = Journal {
        path: blocker.join("journal.jsonl"),
        target: Target::default(),
    };
    let res = j
        .record_durable("node0", Action::DrainStart, "started", None, None)
        .await;
    assert!(res.is_err());
}

fn node(annotations: serde_json::Value, managed: serde_json::Value) -> NodeRow {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "n1", "annotations": annotations, "managedFields": managed},
        "spec": {"unschedulable": true}, "status": {}
    }))
    .unwrap()
}

fn owner(manager: &str) -> serde_json::Value {
    serde_json::json!([{"manager": manager, "operation": "Update", "time": "2026-11-30T10:00:00Z",
        "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:unschedulable": {}}}}])
}

#[test]
fn only_kubedrains_own_cordon_is_lifted_without_asking() {
    let ours = serde_json::json!({ann::CORDONED_BY: "kubedrain", ann::WAS_UNSCHEDULABLE: "false"});
    // kubedrain set spec.unschedulable last, or the server keeps no managedFields.
    assert!(may_uncordon(&node(ours.clone(), owner("kubedrain"))).is_ok());
    assert!(may_uncordon(&node(ours.clone(), serde_json::json!([]))).is_ok());
    // Someone cordoned again after kubedrain's cordon was lifted: named, with the time.
    let n = node(ours.clone(), owner("kubectl"));
    assert!(!cordon_is_ours(&n));
    let e = may_uncordon(&n).unwrap_err().to_string();
    assert!(
        e.contains("cordoned again by kubectl at 2026-11-30T10:00:00Z") && e.contains("--force"),
        "{e}"
    );
    // A cordon that predates kubedrain's says so, whoever made it.
    let before = serde_json::json!({ann::CORDONED_BY: "kubedrain", ann::WAS_UNSCHEDULABLE: "true"});
    let e = may_uncordon(&node(before, owner("kubectl")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("already cordoned before kubedrain"), "{e}");
    let e = may_uncordon(&node(serde_json::json!({}), owner("kubectl")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not cordoned by kubedrain"), "{e}");
}
