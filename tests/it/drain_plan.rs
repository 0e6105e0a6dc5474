//! Table tests for the pure drain planner: one per kubectl filter and option, and pods that
//! combine them.

use crate::drain_support;
use kubedrain::drain::plan::BlockKind;

use drain_support::*;
use kubedrain::drain::selector::PodSelector;
use kubedrain::drain::{PodAction, SkipReason};
use serde_json::json;

#[test]
fn replicaset_pod_is_evicted_and_plan_proceeds() {
    let p = Case::new(vec![pod("web", json!({}))]).run();
    assert_eq!(action(&p, "web"), &PodAction::Evict);
    assert!(p.can_proceed());
    assert!(p.errors.is_empty() && p.warning.is_none());
}

#[test]
fn daemonset_pod_without_ignore_is_an_error() {
    let p = Case::new(vec![pod("kube-proxy-x", ds_owner("kube-proxy"))]).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/kube-proxy-x"
        ]
    );
    assert!(!p.can_proceed());
}

#[test]
fn daemonset_pods_ignored_are_grouped_in_one_warning() {
    let p = Case::new(vec![
        pod("kube-proxy-x", ds_owner("kube-proxy")),
        pod("weave-net-y", ds_owner("weave-net")),
        pod("web", json!({})),
    ])
    .opts(|o| o.ignore_daemonsets = true)
    .run();
    assert_eq!(
        action(&p, "kube-proxy-x"),
        &skip(SkipReason::DaemonSetIgnored)
    );
    assert_eq!(
        p.warning_line().unwrap(),
        "Warning: ignoring DaemonSet-managed Pods: default/kube-proxy-x, default/weave-net-y"
    );
    assert!(p.can_proceed());
}

#[test]
fn finished_daemonset_pod_is_deleted() {
    let p = Case::new(vec![pod(
        "ds-done",
        json!({"metadata": ds_owner("x")["metadata"], "status": {"phase": "Succeeded"}}),
    )])
    .run();
    assert_eq!(action(&p, "ds-done"), &PodAction::Evict);
}

#[test]
fn orphaned_daemonset_pod_needs_force() {
    let pods = vec![pod("orphan", ds_owner("gone"))];
    let p = Case::new(pods.clone())
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert_eq!(
        action(&p, "orphan"),
        &blocked("daemonsets.apps \"gone\" not found", BlockKind::Lookup)
    );
    assert_eq!(
        p.errors,
        vec!["cannot delete daemonsets.apps \"gone\" not found: default/orphan"]
    );
    let p = Case::new(pods).opts(|o| o.force = true).run();
    assert_eq!(action(&p, "orphan"), &PodAction::Evict);
    // kubectl: the DaemonSet filter's warning is overwritten by the later filters' OK.
    assert!(p.warning.is_none());
}

#[test]
fn daemonset_lookup_error_is_shown_verbatim() {
    let p = Case::new(vec![pod("x", ds_owner("forbidden"))])
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert!(p.errors[0].starts_with("cannot delete daemonsets.apps \"forbidden\" is forbidden"));
}

#[test]
fn non_apps_v1_daemonset_is_an_ordinary_managed_pod() {
    let p = Case::new(vec![pod("kruise", json!({"metadata": {"ownerReferences": [{
        "apiVersion": "apps.kruise.io/v1alpha1", "kind": "DaemonSet", "name": "d", "uid": "u", "controller": true}]}}))])
    .run();
    assert_eq!(action(&p, "kruise"), &PodAction::Evict);
}

#[test]
fn mirror_pod_is_skipped_silently() {
    let p = Case::new(vec![pod("etcd-node0", json!({"metadata": {
        "annotations": {"kubernetes.io/config.mirror": "abc"},
        "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "node0", "uid": "n", "controller": true}]}}))])
    .run();
    assert_eq!(action(&p, "etcd-node0"), &skip(SkipReason::Mirror));
    assert!(p.errors.is_empty() && p.warning.is_none());
}

#[test]
fn emptydir_needs_delete_emptydir_data_and_data_loss_is_reported() {
    let pods = vec![pod(
        "cache",
        json!({"spec": {"volumes": [{"name": "scratch", "emptyDir": {}}]}}),
    )];
    let p = Case::new(pods.clone()).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache"
        ]
    );
    let p = Case::new(pods)
        .opts(|o| o.delete_emptydir_data = true)
        .run();
    assert_eq!(action(&p, "cache"), &PodAction::Evict);
    // kubectl's own local-storage warning is overwritten by the next filter; ours is not.
    assert!(p.warning.is_none());
    let f = p
        .findings
        .iter()
        .find(|f| f.kind == "emptydir-data-loss")
        .unwrap();
    assert_eq!(f.pods, vec!["default/cache (scratch)"]);
    assert!(p.can_proceed());
}

#[test]
fn bare_pod_needs_force() {
    let p = Case::new(vec![pod("debug", bare())]).run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods that declare no controller (use --force to override): default/debug"
        ]
    );
    let p = Case::new(vec![pod("debug", bare())])
        .opts(|o| o.force = true)
        .run();
    assert_eq!(action(&p, "debug"), &PodAction::Evict);
    assert_eq!(
        p.warning.as_deref(),
        Some("deleting Pods that declare no controller: default/debug")
    );
}

#[test]
fn finished_bare_pod_is_deleted_without_force() {
    let p = Case::new(vec![pod(
        "job-done",
        json!({"metadata": bare()["metadata"], "status": {"phase": "Failed"}}),
    )])
    .run();
    assert_eq!(action(&p, "job-done"), &PodAction::Evict);
    assert!(p.errors.is_empty());
}

#[test]
fn daemonset_with_emptydir_errors_on_daemonset_first() {
    let mut v = ds_owner("fluentd");
    merge(
        &mut v,
        json!({"spec": {"volumes": [{"name": "buf", "emptyDir": {}}]}}),
    );
    let p = Case::new(vec![pod("fluentd-x", v.clone())]).run();
    assert_eq!(
        action(&p, "fluentd-x"),
        &blocked(
            "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
            BlockKind::DaemonSet
        )
    );
    let p = Case::new(vec![pod("fluentd-x", v)])
        .opts(|o| o.ignore_daemonsets = true)
        .run();
    assert_eq!(action(&p, "fluentd-x"), &skip(SkipReason::DaemonSetIgnored));
    assert!(p.errors.is_empty());
}

#[test]
fn bare_pod_with_emptydir_stops_at_local_storage() {
    let mut v = bare();
    merge(
        &mut v,
        json!({"spec": {"volumes": [{"name": "tmp", "emptyDir": {}}]}}),
    );
    let p = Case::new(vec![pod("b", v.clone())])
        .opts(|o| o.force = true)
        .run();
    assert_eq!(
        action(&p, "b"),
        &blocked(
            "Pods with local storage (use --delete-emptydir-data to override)",
            BlockKind::LocalStorage
        )
    );
    let p = Case::new(vec![pod("b", v)])
        .opts(|o| {
            o.force = true;
            o.delete_emptydir_data = true
        })
        .run();
    assert_eq!(action(&p, "b"), &PodAction::Evict);
}

#[test]
fn several_errors_are_grouped_by_message() {
    let p = Case::new(vec![
        pod("a", bare()),
        pod("kp", ds_owner("kube-proxy")),
        pod("b", bare()),
    ])
    .run();
    assert_eq!(
        p.errors,
        vec![
            "cannot delete Pods that declare no controller (use --force to override): default/a, default/b",
            "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/kp",
        ]
    );
}

#[test]
fn terminating_pods_are_evicted_unless_deleted_too_long_ago() {
    let pods = vec![
        pod(
            "old",
            json!({"metadata": {"deletionTimestamp": "2026-11-25T11:58:00Z"}}),
        ),
        pod(
            "young",
            json!({"metadata": {"deletionTimestamp": "2026-11-25T11:59:50Z"}}),
        ),
    ];
    let p = Case::new(pods.clone()).run();
    assert_eq!(action(&p, "old"), &PodAction::Evict);
    let p = Case::new(pods)
        .opts(|o| o.skip_wait_for_delete_timeout = Some(60))
        .run();
    assert_eq!(action(&p, "old"), &skip(SkipReason::DeletedTooLong));
    assert_eq!(action(&p, "young"), &PodAction::Evict);
}

#[test]
fn skip_deleted_runs_before_the_daemonset_check() {
    let mut v = ds_owner("kube-proxy");
    merge(
        &mut v,
        json!({"metadata": {"deletionTimestamp": "2026-11-25T11:00:00Z"}}),
    );
    let p = Case::new(vec![pod("kp", v)])
        .opts(|o| o.skip_wait_for_delete_timeout = Some(10))
        .run();
    assert_eq!(action(&p, "kp"), &skip(SkipReason::DeletedTooLong));
    assert!(p.errors.is_empty());
}

#[test]
fn pod_selector_hides_other_pods() {
    let p = Case::new(vec![
        pod("web", json!({})),
        pod(
            "debug",
            json!({"metadata": {"labels": {"app": "dbg"}, "ownerReferences": []}}),
        ),
    ])
    .opts(|o| o.pod_selector = Some(PodSelector::parse("app in (web)").unwrap()))
    .run();
    assert_eq!(action(&p, "web"), &PodAction::Evict);
    assert_eq!(action(&p, "debug"), &skip(SkipReason::NotSelected));
    assert!(
        p.errors.is_empty(),
        "unselected bare pod is invisible: {:?}",
        p.errors
    );
}

#[test]
fn invalid_flags_give_kubectl_errors() {
    use clap::Parser;
    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        f: kubedrain::cli::DrainFlags,
    }
    let t = T::parse_from(["t", "--pod-selector", "a=b=c"]);
    assert_eq!(
        t.f.options().unwrap_err().to_string(),
        "--pod-selector=a=b=c must be a valid label selector"
    );
    // A bad duration is refused by clap itself, naming the flag.
    let e = T::try_parse_from(["t", "--timeout", "5x"]).err().unwrap();
    assert!(e.to_string().contains("invalid duration \"5x\""), "{e}");
    assert!(e.to_string().contains("--timeout"), "{e}");
    let t = T::parse_from([
        "t",
        "--grace-period",
        "-1",
        "--timeout",
        "90s",
        "--skip-wait-for-delete-timeout",
        "0",
    ]);
    let o = t.f.options().unwrap();
    assert_eq!(o.grace_period, None);
    assert_eq!(o.timeout, Some(std::time::Duration::from_secs(90)));
    assert_eq!(o.skip_wait_for_delete_timeout, None);
    let t = T::parse_from(["t", "--grace-period", "0"]);
    assert_eq!(t.f.options().unwrap().grace_period, Some(0));
}
